/* bench_pdq: photos per second, one thread, for the PDQ paths and the decodes they are
 * measured against: libjpeg-turbo full decode and 1/8-scale decode (buffers reused),
 * kestrel fast mode and exact mode. Files are read into memory first, so only decoding
 * and hashing are timed. Usage: bench_pdq [-r ROUNDS] [--ref-rate PHOTOS_PER_S] FILE...
 * (--ref-rate: the reference tool's measured rate, to print the exact-mode ratio). */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jpeglib.h>

#include "kestrel/base.h"
#include "kestrel/pdq.h"

struct file {
	const char *name;
	unsigned char *data;
	size_t len;
};

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *p = n > 0 ? malloc((size_t)n) : NULL;
	if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
		free(p);
		p = NULL;
	}
	fclose(f);
	*len = p ? (size_t)n : 0;
	return p;
}

/* CPU time of this thread: on a shared machine, wall time also counts the time other
 * processes hold the core; both are printed. */
static double cpu_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Plain libjpeg-turbo decode of every row into one reused row buffer: the baseline the
 * issue's figures (42/s full, 78/s at 1/8) describe. */
static int libjpeg_decode(struct jpeg_decompress_struct *c, const struct file *f, int denom,
			  unsigned char **row, size_t *rowcap)
{
	jpeg_mem_src(c, f->data, (unsigned long)f->len);
	if (jpeg_read_header(c, TRUE) != JPEG_HEADER_OK)
		return -1;
	c->scale_num = 1;
	c->scale_denom = (unsigned)denom;
	jpeg_start_decompress(c);
	size_t need = (size_t)c->output_width * (size_t)c->output_components;
	if (need > *rowcap) {
		free(*row);
		*row = malloc(need);
		*rowcap = need;
	}
	while (c->output_scanline < c->output_height) {
		JSAMPROW r = *row;
		jpeg_read_scanlines(c, &r, 1);
	}
	jpeg_abort_decompress(c);
	return 0;
}

enum { FULL, EIGHTH, FAST, EXACT, NPATHS };
static const char *const path_name[NPATHS] = {"libjpeg-turbo full decode",
					      "libjpeg-turbo 1/8 decode", "kestrel pdq fast",
					      "kestrel pdq exact"};

int main(int argc, char **argv)
{
	int rounds = 3, nfiles = 0;
	double ref_rate = 0;
	struct file *files = calloc((size_t)argc, sizeof *files);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-r") == 0 && i + 1 < argc) {
			rounds = atoi(argv[++i]);
		} else if (strcmp(argv[i], "--ref-rate") == 0 && i + 1 < argc) {
			ref_rate = atof(argv[++i]);
		} else {
			struct file *f = &files[nfiles];
			f->name = argv[i];
			f->data = slurp(argv[i], &f->len);
			if (!f->data) {
				fprintf(stderr, "bench_pdq: cannot read %s\n", argv[i]);
				return 1;
			}
			nfiles++;
		}
	}
	if (!nfiles || rounds < 1) {
		fprintf(stderr, "usage: bench_pdq [-r ROUNDS] [--ref-rate PHOTOS_PER_S] FILE...\n");
		return 2;
	}

	struct jpeg_decompress_struct c;
	struct jpeg_error_mgr jerr;
	c.err = jpeg_std_error(&jerr);
	jpeg_create_decompress(&c);
	unsigned char *row = NULL;
	size_t rowcap = 0;
	struct ks_pdq *p = ks_pdq_new();
	double secs[NPATHS] = {0}, wall[NPATHS] = {0};
	long count[NPATHS] = {0};
	double fast_dist = 0;
	int ndist = 0;

	/* warm up caches and buffers once, then interleave the paths round by round so
	 * that machine noise hits them alike */
	for (int r = -1; r < rounds; r++) {
		for (int path = 0; path < NPATHS; path++) {
			double t0 = cpu_now(), w0 = ks_time_mono();
			for (int i = 0; i < nfiles; i++) {
				struct ks_pdq_result res;
				struct ks_err err = {0};
				int rc;
				if (path == FULL || path == EIGHTH)
					rc = libjpeg_decode(&c, &files[i], path == FULL ? 1 : 8,
							    &row, &rowcap);
				else
					rc = ks_pdq_hash_image(p, files[i].data, files[i].len,
							       path == FAST ? KS_PDQ_FAST
									    : KS_PDQ_EXACT,
							       0, &res, &err);
				if (rc) {
					fprintf(stderr, "bench_pdq: %s: %s failed %s\n",
						files[i].name, path_name[path], err.msg);
					return 1;
				}
			}
			double dt = cpu_now() - t0, dw = ks_time_mono() - w0;
			if (r >= 0) {
				secs[path] += dt;
				wall[path] += dw;
				count[path] += nfiles;
			}
		}
	}
	for (int i = 0; i < nfiles; i++) {
		struct ks_pdq_result a, b;
		struct ks_err err = {0};
		if (!ks_pdq_hash_image(p, files[i].data, files[i].len, KS_PDQ_EXACT, 0, &a, &err) &&
		    !ks_pdq_hash_image(p, files[i].data, files[i].len, KS_PDQ_FAST, 0, &b, &err)) {
			fast_dist += ks_pdq_distance(&a.hash, &b.hash);
			ndist++;
		}
	}

	double rate[NPATHS];
	printf("bench_pdq: %d files x %d rounds, one thread (rates from thread CPU time)\n", nfiles,
	       rounds);
	for (int path = 0; path < NPATHS; path++) {
		rate[path] = count[path] / secs[path];
		printf("  %-28s %8.1f photos/s  (%6.2f ms CPU, %6.2f ms wall each)\n",
		       path_name[path], rate[path], 1000.0 * secs[path] / count[path],
		       1000.0 * wall[path] / count[path]);
	}
	printf("ratios:\n");
	printf("  fast  / 1/8 decode   %5.2f   (goal >= 0.80)\n", rate[FAST] / rate[EIGHTH]);
	printf("  exact / full decode  %5.2f   (goal >= 0.80)\n", rate[EXACT] / rate[FULL]);
	printf("  fast photos/s        %5.1f   (goal >= 60 at 12 MP)\n", rate[FAST]);
	if (ref_rate > 0)
		printf("  exact / reference    %5.1f   (goal >= 30; reference %.2f photos/s)\n",
		       rate[EXACT] / ref_rate, ref_rate);
	if (ndist)
		printf("  fast vs exact: mean Hamming distance %.2f over %d files\n",
		       fast_dist / ndist, ndist);
	ks_pdq_free(p);
	jpeg_destroy_decompress(&c);
	free(row);
	for (int i = 0; i < nfiles; i++)
		free(files[i].data);
	free(files);
	return 0;
}
