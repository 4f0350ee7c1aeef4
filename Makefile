# The two commands of the README, and the builds they need. Every target installs
# its Debian packages first (scripts/install-deps.sh is idempotent).
#   make demo   build, make a synthetic exhibit, scan it against a demo hash set, report
#   make check  build (gcc, warnings as errors), run the whole suite, then the same
#               suite under ASan+UBSan (clang), with every fuzz corpus replayed
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan

.PHONY: all deps build demo check check-release check-asan fuzz clean

all: build

deps:
	bash scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKS_WERROR=ON >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	bash scripts/demo.sh $(BUILD)/kestrel

check: check-release check-asan

check-release: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Sanitizer build with clang: also proves the tree is clang-clean (-Werror) and
# builds the libFuzzer targets.
check-asan: deps
	CC=clang cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DKS_WERROR=ON \
		-DKS_SANITIZE=ON -DKS_FUZZ=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS) -E '^integration/generator_'
# (the generator's own test exercises shell tools only: once, in the release pass)

# Run every libFuzzer target for FUZZ_SECONDS each (not part of check).
FUZZ_SECONDS ?= 60
fuzz: check-asan
	for t in $(ASAN_BUILD)/fuzz/fuzz_*; do \
		n=$$(basename $$t); mkdir -p fuzz/corpus/$$n; \
		$$t -max_total_time=$(FUZZ_SECONDS) fuzz/corpus/$$n || exit 1; done

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
