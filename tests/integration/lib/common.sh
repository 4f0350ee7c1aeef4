# Sourced by the integration tests: paths, skipping, a pass/fail tally.
# Env from CTest: KESTREL (the binary), SHARED (../shared), BUILD, SRC.
set -u
: "${KESTREL:?KESTREL must name the kestrel binary}"
PASS=0
FAIL=0
T=$(mktemp -d /tmp/kestrel-it.XXXXXX)
trap 'rm -rf "$T"' EXIT

need_shared() { # need_shared SUBPATH: skip (77) when ../shared or the file is absent
  if [ -z "${SHARED:-}" ] || [ ! -e "$SHARED/$1" ]; then
    echo "SKIP: needs ../shared/$1 (the project's shared test data), which is absent here"
    exit 77
  fi
}

need_tool() { # need_tool CMD PACKAGE
  command -v "$1" >/dev/null 2>&1 || { echo "SKIP: needs $1 (Debian package $2)"; exit 77; }
}

ok() { PASS=$((PASS + 1)); echo "ok: $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL: $*"; }
check() { # check DESCRIPTION CMD...
  local d=$1; shift
  if "$@"; then ok "$d"; else bad "$d"; fi
}

finish() {
  echo "$PASS passed, $FAIL failed"
  [ "$FAIL" -eq 0 ] && [ "$PASS" -gt 0 ]
  exit $?
}
