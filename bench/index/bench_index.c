/* bench_index: the index file at scale, in one run. Generates PDQ hashes shaped like
 * real collections (random originals plus variants 0-40 bits away from one of them)
 * and random MD5s, builds an index file of each, and measures build time, size per
 * entry, open time, exact lookups/s and near queries/s at radius 31 on one thread,
 * beside a brute-force scan of the same PDQ data (whose answers must agree).
 *
 * usage: bench_index [--pdq N] [--originals N] [--md5 N] [--queries N] [--scan-queries N]
 *                    [--dir DIR] [--memory MIB] [--tables M] [--keep]
 * Rates are per second of this thread's CPU time, so that other work on a shared
 * machine does not count against them. Defaults are the full size (10M PDQ with 1M originals, 100M
 * MD5); a scaled-down run such as --pdq 1000000 --md5 10000000 takes a minute. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "kestrel/index.h"

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* MD5 number i (the same bytes every time it is asked for). */
static void md5_of(uint64_t i, uint8_t out[16])
{
	uint64_t s = i * 0x632BE59BD9B4E019ULL + 12345;
	uint64_t a = splitmix(&s), b = splitmix(&s);
	memcpy(out, &a, 8);
	memcpy(out + 8, &b, 8);
}

static void flip_bits(uint8_t h[32], int k, uint64_t *s)
{
	uint8_t used[32] = {0};
	for (int i = 0; i < k;) {
		unsigned b = (unsigned)(splitmix(s) & 255);
		if (used[b >> 3] & (1u << (b & 7)))
			continue;
		used[b >> 3] |= (uint8_t)(1u << (b & 7));
		h[b >> 3] ^= (uint8_t)(1u << (b & 7));
		i++;
	}
}

/* Rates are taken on this thread's CPU time (the machine may be shared: wall time
 * would charge us for others' work); wall times are printed for builds. */
static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall(void)
{
	return ks_time_mono();
}

static long peak_rss_mib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss / 1024;
}

/* ns per random 64-byte read of the n bytes at p, 4 million of them, many in flight
 * (prefetched 16 ahead), of this thread's CPU time. */
static double timed_reads(const uint8_t *p, size_t n)
{
	uint64_t nr = 4000000, s = 5, sum = 0;
	uint64_t *at = malloc(nr * 8);
	for (uint64_t i = 0; i < nr; i++)
		at[i] = splitmix(&s) % (n / 64) * 64;
	double t0 = now();
	for (uint64_t i = 0; i < nr; i++) {
		if (i + 16 < nr)
			__builtin_prefetch(p + at[i + 16]);
		sum += p[at[i]];
	}
	double t = now() - t0;
	free(at);
	return sum != 1 ? t / (double)nr * 1e9 : 0;
}

/* How much of this process's file maps the kernel maps with 2 MB pages (Linux's
 * FilePmdMapped, in MB; -1 when it does not say). */
static double file_huge_mb(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	if (!f)
		return -1;
	char line[256];
	double kb = -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "FilePmdMapped: %lf kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb / 1024;
}

/* The baseline for lookups: random 64-byte reads, many in flight (prefetched 16
 * ahead), over n bytes of memory like the index's; ns per read of thread CPU time. */
static double fetch_floor(size_t n)
{
	uint8_t *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 0;
	madvise(p, n, MADV_HUGEPAGE);
	memset(p, 1, n);
	double ns = timed_reads(p, n);
	munmap(p, n);
	return ns;
}

/* The same over the file at path as the index maps it (read-only, shared, MADV_HUGEPAGE;
 * every page touched first, so that no read takes a page fault): a read there pays
 * what a lookup from the map pays for each row it fetches, a page walk included when
 * the page cache holds the file in 4 KB pieces. */
static double fetch_floor_file(const char *path, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	uint8_t *p = mmap(NULL, n, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return 0;
	madvise(p, n, MADV_HUGEPAGE); /* as ks_hashdb_open does */
	uint64_t sum = 0;
	for (size_t o = 0; o < n; o += 4096)
		sum += p[o];
	double ns = timed_reads(p, n) + (sum == 1); /* sum: the touches are not optimised away */
	munmap(p, n);
	return ns;
}

/* The strongest brute force we know for many queries: queries in blocks of QB against
 * the hashes in blocks that stay in L2, so that memory is read once per QB queries and
 * the work is only XOR and POPCNT. Returns the pairs within radius. */
#define QB 32
#define HB 4096
#if defined(__x86_64__)
__attribute__((target("popcnt")))
#endif
static uint64_t
brute_blocked(const uint8_t (*hs)[32], uint64_t n, const uint8_t (*qs)[32], uint64_t nq, int radius)
{
	uint64_t found = 0;
	for (uint64_t q0 = 0; q0 < nq; q0 += QB) {
		uint64_t qn = nq - q0 < QB ? nq - q0 : QB, qw[QB][4];
		for (uint64_t k = 0; k < qn; k++)
			memcpy(qw[k], qs[q0 + k], 32);
		for (uint64_t h0 = 0; h0 < n; h0 += HB) {
			uint64_t hn = n - h0 < HB ? n - h0 : HB;
			for (uint64_t k = 0; k < qn; k++)
				for (uint64_t j = 0; j < hn; j++) {
					uint64_t w[4];
					memcpy(w, hs[h0 + j], 32);
					int d = __builtin_popcountll(w[0] ^ qw[k][0]) +
						__builtin_popcountll(w[1] ^ qw[k][1]) +
						__builtin_popcountll(w[2] ^ qw[k][2]) +
						__builtin_popcountll(w[3] ^ qw[k][3]);
					found += d <= radius;
				}
		}
	}
	return found;
}

static void count_hit(void *ctx, const struct ks_hashdb_hit *h)
{
	(void)h;
	(*(uint64_t *)ctx)++;
}

/* The index's PDQ hashes, as ks_hashdb_each gives them. */
struct spelled {
	uint8_t (*h)[32];
	uint64_t n;
};

static int collect(void *ctx, uint32_t set, const struct ks_hash_entry *e)
{
	struct spelled *sp = ctx;
	(void)set;
	if (e->has & KS_HAS_PDQ)
		memcpy(sp->h[sp->n++], e->pdq, 32);
	return 0;
}

static void count_batch_hit(void *ctx, size_t query, const struct ks_hashdb_hit *h)
{
	(void)query;
	(void)h;
	(*(uint64_t *)ctx)++;
}

static void die(const char *what, const struct ks_err *err)
{
	fprintf(stderr, "bench_index: %s: %s\n", what, err->msg);
	exit(1);
}

/* Batched exact lookups of MD5 keys [lo, hi), in calls of 1024 as a caller with many
 * would make them; found counts the hits. Run by one thread or by several at once. */
struct md5_part {
	const struct ks_hashdb *db;
	const uint8_t (*keys)[16];
	uint64_t lo, hi, found;
};

static void *md5_part_run(void *arg)
{
	struct md5_part *p = arg;
	p->found = 0;
	for (uint64_t i = p->lo; i < p->hi; i += 1024)
		p->found += (uint64_t)ks_hashdb_lookup_batch(
		    p->db, KS_HAS_MD5, p->keys[i], p->hi - i < 1024 ? p->hi - i : 1024, NULL, NULL);
	return NULL;
}

/* The same over nt threads sharing the one open index, each a share of [0, n); the
 * wall time taken, and the hits in all. */
static double md5_parts_wall(const struct ks_hashdb *db, const uint8_t (*keys)[16], uint64_t n,
			     int nt, uint64_t *found)
{
	struct md5_part part[8];
	pthread_t th[8];
	int started[8];
	double w0 = wall();
	for (int t = 0; t < nt; t++) {
		part[t] = (struct md5_part){db, keys, n * t / nt, n * (t + 1) / nt, 0};
		started[t] = pthread_create(&th[t], NULL, md5_part_run, &part[t]) == 0;
		if (!started[t])
			md5_part_run(&part[t]);
	}
	*found = 0;
	for (int t = 0; t < nt; t++) {
		if (started[t])
			pthread_join(th[t], NULL);
		*found += part[t].found;
	}
	return wall() - w0;
}

/* A builder for path with one set (name, numbering scheme). */
static struct ks_hashdb_builder *start_build(const char *path,
					     const struct ks_hashdb_build_opts *bo,
					     const char *name, const char *scheme)
{
	struct ks_err err = {0};
	struct ks_hashdb_builder *b;
	if (ks_hashdb_builder_new(path, bo, &b, &err) < 0)
		die("builder", &err);
	struct ks_hashdb_set set = {.name = name, .scheme = scheme};
	if (ks_hashdb_builder_set(b, &set, &err) < 0)
		die("set", &err);
	return b;
}

static void end_build(struct ks_hashdb_builder *b)
{
	struct ks_err err = {0};
	if (ks_hashdb_builder_finish(b, &err) < 0)
		die("finish", &err);
	ks_hashdb_builder_free(b);
}

/* Opens path with flags; *secs gets the wall time it took. */
static struct ks_hashdb *open_timed(const char *path, unsigned flags, double *secs)
{
	struct ks_err err = {0};
	struct ks_hashdb *db;
	double t0 = wall();
	if (ks_hashdb_open(path, flags, &db, &err) < 0)
		die("open", &err);
	*secs = wall() - t0;
	return db;
}

int main(int argc, char **argv)
{
	uint64_t npdq = 10000000, norig = 0, nmd5 = 100000000, nq = 20000, nscan = 0;
	const char *dir = "/tmp";
	uint64_t memory = 0;
	int tables = 0, keep = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--keep")) {
			keep = 1;
			continue;
		}
		if (!v) {
			fprintf(stderr, "bench_index: %s needs a value\n", a);
			return 2;
		}
		i++;
		if (!strcmp(a, "--pdq"))
			npdq = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--originals"))
			norig = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--md5"))
			nmd5 = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--queries"))
			nq = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--scan-queries"))
			nscan = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--dir"))
			dir = v;
		else if (!strcmp(a, "--memory"))
			memory = strtoull(v, NULL, 10) << 20;
		else if (!strcmp(a, "--tables"))
			tables = atoi(v);
		else {
			fprintf(stderr, "bench_index: unknown option %s\n", a);
			return 2;
		}
	}
	if (!norig)
		norig = npdq / 10 ? npdq / 10 : 1;
	if (!nscan) /* a brute-force query reads every hash: keep the total bounded */
		nscan = npdq ? 500000000ull / npdq : 0;
	if (nscan < 20)
		nscan = 20;
	if (nscan > nq)
		nscan = nq;
	struct ks_err err = {0};
	char pdq_path[512], md5_path[512];
	snprintf(pdq_path, sizeof pdq_path, "%s/bench-index-pdq.kix", dir);
	snprintf(md5_path, sizeof md5_path, "%s/bench-index-md5.kix", dir);
	struct ks_hashdb_build_opts bo = {.memory = memory, .mih_tables = tables};
	printf("bench_index: %llu PDQ (%llu originals, variants 0-40 bits away), %llu MD5, "
	       "%llu queries, one thread\n\n",
	       (unsigned long long)npdq, (unsigned long long)norig, (unsigned long long)nmd5,
	       (unsigned long long)nq);

	/* ---- PDQ ---- */
	if (npdq) {
		uint8_t(*hs)[32] = malloc(npdq * 32);
		if (!hs) {
			fprintf(stderr, "bench_index: out of memory\n");
			return 1;
		}
		uint64_t s = 42;
		for (uint64_t i = 0; i < npdq; i++) {
			if (i < norig) {
				for (int k = 0; k < 4; k++) {
					uint64_t v = splitmix(&s);
					memcpy(hs[i] + 8 * k, &v, 8);
				}
			} else {
				memcpy(hs[i], hs[splitmix(&s) % norig], 32);
				flip_bits(hs[i], (int)(splitmix(&s) % 41), &s);
			}
		}
		double t0 = now(), w0 = wall();
		struct ks_hashdb_builder *b = start_build(pdq_path, &bo, "bench-pdq", "vics-us");
		for (uint64_t i = 0; i < npdq; i++) {
			struct ks_hash_entry e = {.has = KS_HAS_PDQ,
						  .scheme = "vics-us",
						  .category = i % 5 ? "1" : "2",
						  .size = -1,
						  .distributed = -1,
						  .pdq_quality = 100};
			memcpy(e.pdq, hs[i], 32);
			if (ks_hashdb_builder_add(b, &e, &err) < 0)
				die("add", &err);
		}
		end_build(b);
		double tbuild = now() - t0, wbuild = wall() - w0, topen;
		struct ks_hashdb *db = open_timed(pdq_path, 0, &topen);
		struct ks_hashdb_info in;
		ks_hashdb_get_info(db, &in);
		printf("PDQ index: %llu rows, %d substring tables\n", (unsigned long long)in.n_pdq,
		       in.mih_tables);
		printf("  build            %8.1f s CPU, %.1f s wall (%.0f entries/s of CPU)\n",
		       tbuild, wbuild, (double)npdq / tbuild);
		printf("  size             %8.1f MB  (%.1f bytes/entry, PDQ part %.1f)\n",
		       (double)in.file_size / 1e6, (double)in.file_size / (double)in.n_pdq,
		       (double)in.bytes_pdq / (double)in.n_pdq);
		printf("  open             %8.4f s wall\n", topen);

		/* queries: half near an entry (0-40 bits away), half random */
		uint8_t(*qs)[32] = malloc(nq * 32);
		for (uint64_t i = 0; i < nq; i++) {
			if (i % 2 == 0) {
				memcpy(qs[i], hs[splitmix(&s) % npdq], 32);
				flip_bits(qs[i], (int)(splitmix(&s) % 41), &s);
			} else {
				for (int k = 0; k < 4; k++) {
					uint64_t v = splitmix(&s);
					memcpy(qs[i] + 8 * k, &v, 8);
				}
			}
		}
		/* the map warmed as in a service that has run a while: as many other random
		 * queries, batched and untimed (else the first touch of each page, read in
		 * from disk after the build, is counted) */
		uint8_t(*warm)[32] = malloc(nq * 32);
		uint64_t ws = 99, whits = 0;
		for (uint64_t i = 0; i < nq * 4; i++) {
			uint64_t v = splitmix(&ws);
			memcpy(warm[i / 4] + 8 * (i % 4), &v, 8);
		}
		ks_hashdb_near_batch(db, warm[0], nq, 31, count_batch_hit, &whits);
		free(warm);
		uint64_t hits_near = 0, hits_rand = 0;
		double tn = 0, tr = 0;
		for (uint64_t i = 0; i < nq; i++) {
			double a = now();
			ks_hashdb_near(db, qs[i], 31, count_hit, i % 2 ? &hits_rand : &hits_near);
			double d = now() - a;
			if (i % 2)
				tr += d;
			else
				tn += d;
		}
		double tmih = tn + tr;
		printf("  near r=31 (MIH)  %8.0f queries/s  (near-entry queries %.0f/s, random "
		       "%.0f/s; "
		       "%.2f hits per near-entry query)\n",
		       (double)nq / tmih, (double)((nq + 1) / 2) / tn, (double)(nq / 2) / tr,
		       (double)hits_near / (double)((nq + 1) / 2));
		double huge = file_huge_mb();
		if (huge >= 0)
			printf("  pages            %8.0f MB of the map on 2 MB pages\n", huge);
		/* the same queries batched (ks_hashdb_near_batch: sorted and streamed) */
		uint64_t hits_batch = 0;
		t0 = now();
		ks_hashdb_near_batch(db, qs[0], nq, 31, count_batch_hit, &hits_batch);
		double tbatch = now() - t0;
		printf(
		    "  near r=31 batch  %8.0f queries/s  (ks_hashdb_near_batch, all %llu at once; "
		    "%s)\n",
		    (double)nq / tbatch, (unsigned long long)nq,
		    hits_batch == hits_near + hits_rand ? "same hits" : "HITS DIFFER");
		/* the index's own hashes, spelled out from its tables (as an export does) */
		struct spelled sp = {.h = malloc(npdq * 32)};
		t0 = now();
		if (ks_hashdb_each(db, -1, collect, &sp, &err) < 0)
			die("each", &err);
		double tspell = now() - t0;
		printf("  spell out all    %8.2f s CPU for the %llu hashes (%.0f ns each; export, "
		       "ks_hashdb_each)\n",
		       tspell, (unsigned long long)sp.n, tspell / (double)sp.n * 1e9);
		/* the one-query brute force over them, and agreement with the index */
		uint64_t agree = 0, scan_hits = 0;
		double tscan = 0;
		for (uint64_t i = 0; i < nscan; i++) {
			uint64_t c = 0;
			t0 = now();
			uint64_t a = brute_blocked((const uint8_t(*)[32])sp.h, sp.n,
						   (const uint8_t(*)[32])qs[i], 1, 31);
			tscan += now() - t0;
			scan_hits += a;
			ks_hashdb_near(db, qs[i], 31, count_hit, &c);
			agree += a == c;
		}
		printf("  near r=31 (scan) %8.1f queries/s  (one query a pass over the index's "
		       "hashes; %llu queries, %llu hits)\n",
		       (double)nscan / tscan, (unsigned long long)nscan,
		       (unsigned long long)scan_hits);
		printf("  MIH / scan       %8.0fx; answers agree on %llu of %llu queries\n",
		       ((double)nq / tmih) / ((double)nscan / tscan), (unsigned long long)agree,
		       (unsigned long long)nscan);
		free(sp.h);
		/* the blocked brute force over the generated hashes (duplicates included, so
		 * its pair count can only be >= the index's hits) */
		uint64_t nb = nscan < QB ? QB : nscan - nscan % QB;
		if (nb > nq)
			nb = nq;
		t0 = now();
		uint64_t bpairs =
		    brute_blocked((const uint8_t(*)[32])hs, npdq, (const uint8_t(*)[32])qs, nb, 31);
		double tbrute = now() - t0;
		printf("  near r=31 (brute)%8.1f queries/s  (%d queries a pass over L2-sized "
		       "blocks of "
		       "the hashes, POPCNT; %llu pairs)\n",
		       (double)nb / tbrute, QB, (unsigned long long)bpairs);
		printf("  MIH / brute      %8.0fx\n", ((double)nq / tmih) / ((double)nb / tbrute));
		/* exact PDQ lookups */
		uint64_t eh = 0;
		t0 = now();
		for (uint64_t i = 0; i < nq; i++)
			ks_hashdb_lookup(db, KS_HAS_PDQ, hs[(i * 7919) % npdq], count_hit, &eh);
		printf("  exact PDQ        %8.0f lookups/s\n", (double)nq / (now() - t0));
		ks_hashdb_close(db);
		/* the same queries on the file held in memory (KS_HASHDB_PRELOAD) */
		double tpre;
		db = open_timed(pdq_path, KS_HASHDB_PRELOAD, &tpre);
		uint64_t hp = 0;
		t0 = now();
		for (uint64_t i = 0; i < nq; i++)
			ks_hashdb_near(db, qs[i], 31, count_hit, &hp);
		double tpn = now() - t0;
		printf("  preloaded        %8.1f s wall to read in; near r=31 %.0f queries/s "
		       "(%s)\n",
		       tpre, (double)nq / tpn,
		       hp == hits_near + hits_rand ? "same answers" : "ANSWERS DIFFER");
		ks_hashdb_close(db);
		double fl = fetch_floor(in.file_size);
		printf(
		    "  baseline         %8.1f ns per random 64-byte read, many in flight: a near "
		    "query costs %.0f such reads from the map (%.0f batched), %.0f "
		    "preloaded\n\n",
		    fl, tmih / (double)nq * 1e9 / fl, tbatch / (double)nq * 1e9 / fl,
		    tpn / (double)nq * 1e9 / fl);
		free(qs);
		free(hs);
		if (!keep)
			unlink(pdq_path);
	}

	/* ---- MD5 ---- */
	if (nmd5) {
		double t0 = now(), w0 = wall();
		struct ks_hashdb_builder *b = start_build(md5_path, &bo, "bench-md5", "uk");
		for (uint64_t i = 0; i < nmd5; i++) {
			struct ks_hash_entry e = {.has = KS_HAS_MD5,
						  .scheme = "uk",
						  .category = i % 3 ? "C" : "A",
						  .size = -1,
						  .distributed = -1};
			md5_of(i, e.md5);
			if (ks_hashdb_builder_add(b, &e, &err) < 0)
				die("add", &err);
		}
		end_build(b);
		double tbuild = now() - t0, wbuild = wall() - w0, topen;
		struct ks_hashdb *db = open_timed(md5_path, 0, &topen);
		struct ks_hashdb_info in;
		ks_hashdb_get_info(db, &in);
		printf("MD5 index: %llu rows\n", (unsigned long long)in.n_md5);
		printf("  build            %8.1f s CPU, %.1f s wall (%.0f entries/s of CPU)\n",
		       tbuild, wbuild, (double)nmd5 / tbuild);
		printf("  size             %8.1f MB  (%.2f bytes/entry)\n",
		       (double)in.file_size / 1e6, (double)in.file_size / (double)in.n_md5);
		printf("  open             %8.4f s wall\n", topen);
		uint64_t nl = nq * 50, found = 0, s = 7;
		uint8_t(*keys)[16] = malloc(nl * 16);
		for (uint64_t i = 0; i < nl; i++) {
			if (i % 2)
				md5_of(splitmix(&s) % nmd5, keys[i]);
			else
				md5_of(nmd5 + splitmix(&s) % nmd5, keys[i]); /* absent */
		}
		/* the map warmed as in a service that has run a while: digests spread evenly
		 * over the table, two for each of its pages, looked up untimed (else the first
		 * touch of each 4 KB page, a minor fault of about a microsecond, is counted) */
		uint64_t nwarm = 2 * (in.file_size / 4096 + 1);
		uint8_t(*warm)[16] = malloc(nwarm * 16);
		for (uint64_t i = 0; i < nwarm; i++) {
			uint64_t k = i * (UINT64_MAX / nwarm);
			for (int j = 0; j < 8; j++)
				warm[i][j] = (uint8_t)(k >> (56 - 8 * j));
			memset(warm[i] + 8, 0, 8);
		}
		ks_hashdb_lookup_batch(db, KS_HAS_MD5, warm[0], nwarm, NULL, NULL);
		free(warm);
		double huge = file_huge_mb();
		if (huge >= 0)
			printf(
			    "  pages            %8.0f MB of the map on 2 MB pages (the rest 4 KB: "
			    "a page walk per lookup there)\n",
			    huge);
		t0 = now();
		for (uint64_t i = 0; i < nl; i++)
			ks_hashdb_lookup(db, KS_HAS_MD5, keys[i], count_hit, &found);
		double tl = now() - t0;
		printf("  exact MD5        %8.0f lookups/s one at a time (%llu of %llu found; half "
		       "are absent)\n",
		       (double)nl / tl, (unsigned long long)found, (unsigned long long)nl);
		struct md5_part all = {db, (const uint8_t(*)[16])keys, 0, nl, 0};
		t0 = now();
		md5_part_run(&all);
		tl = now() - t0;
		printf("  exact MD5        %8.0f lookups/s batched (ks_hashdb_lookup_batch; %s)\n",
		       (double)nl / tl, all.found == found ? "same answers" : "ANSWERS DIFFER");
		double tbatch = tl;
		/* every CPU at once (up to 8) on the one map, as a scan's workers share it */
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		int nt = ncpu > 8 ? 8 : (int)ncpu;
		if (nt > 1) {
			uint64_t tfound;
			double w = md5_parts_wall(db, (const uint8_t(*)[16])keys, nl, nt, &tfound);
			printf(
			    "  exact MD5        %8.0f lookups/s batched on %d threads sharing the "
			    "map (wall time; %s)\n",
			    (double)nl / w, nt,
			    tfound == found ? "same answers" : "ANSWERS DIFFER");
		}
		ks_hashdb_close(db);
		double tpre;
		db = open_timed(md5_path, KS_HASHDB_PRELOAD, &tpre);
		struct md5_part pre = {db, (const uint8_t(*)[16])keys, 0, nl, 0};
		t0 = now();
		md5_part_run(&pre);
		tl = now() - t0;
		printf("  preloaded        %8.1f s wall to read in; %.0f lookups/s batched (%s)\n",
		       tpre, (double)nl / tl,
		       pre.found == found ? "same answers" : "ANSWERS DIFFER");
		ks_hashdb_close(db);
		double fl = fetch_floor(in.file_size);
		printf("  baseline         %8.1f ns per random 64-byte read, many in flight: a "
		       "batched lookup costs %.1f such reads from the map, %.1f preloaded\n",
		       fl, tbatch / (double)nl * 1e9 / fl, tl / (double)nl * 1e9 / fl);
		double ff = fetch_floor_file(md5_path, in.file_size);
		printf("  baseline (map)   %8.1f ns per random 64-byte read of the file's own map: "
		       "a batched lookup costs %.1f such reads\n\n",
		       ff, ff > 0 ? tbatch / (double)nl * 1e9 / ff : 0.0);
		free(keys);
		if (!keep)
			unlink(md5_path);
	}
	printf("peak memory (RSS): %ld MiB\n", peak_rss_mib());
	return 0;
}
