/* PDQ fast mode against exact mode: on the reference's test pictures (and, with
 * ImageMagick, on larger JPEGs made at test time) the mean Hamming distance is at most
 * 3, at least 99 % of pictures with quality >= 50 are within 8 bits, every bridge-mods
 * pair within 31 bits in exact mode stays within 31 in fast mode, and large JPEGs really
 * are decoded at reduced size. Skips (77) when neither SHARED nor ImageMagick exists. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kestrel/pdq.h"
#include "ktest.h"

#define MAXPICS 128

struct pic {
	char name[256];
	struct ks_pdq_result exact, fast;
};

static struct pic pics[MAXPICS];
static int npics;

static void hash_both(struct ks_pdq *p, const char *path, const char *name)
{
	size_t len = 0;
	unsigned char *data = ktest_read_file(path, &len);
	struct ks_err err = {0};
	CHECK(data != NULL);
	if (!data || npics >= MAXPICS) {
		free(data);
		return;
	}
	struct pic *q = &pics[npics];
	snprintf(q->name, sizeof q->name, "%s", name);
	int rc1 = ks_pdq_hash_image(p, data, len, KS_PDQ_EXACT, 0, &q->exact, &err);
	int rc2 = ks_pdq_hash_image(p, data, len, KS_PDQ_FAST, 0, &q->fast, &err);
	CHECK(rc1 == 0 && rc2 == 0);
	if (rc1 == 0 && rc2 == 0)
		npics++;
	else
		fprintf(stderr, "%s: %s\n", name, err.msg);
	free(data);
}

static void shared_pictures(struct ks_pdq *p, const char *shared)
{
	char list[4096], line[2048];
	snprintf(list, sizeof list, "%s/testdata/pdq/expected.tsv", shared);
	FILE *f = fopen(list, "r");
	CHECK(f != NULL);
	if (!f)
		return;
	int first = 1;
	while (fgets(line, sizeof line, f)) {
		char *name = strrchr(line, '\t');
		if (first || !name) {
			first = 0;
			continue;
		}
		name++;
		name[strcspn(name, "\r\n")] = '\0';
		char path[4096];
		snprintf(path, sizeof path, "%s/testdata/pdq/%s", shared, name);
		hash_both(p, path, name);
	}
	fclose(f);
}

static const char *const made[][2] = {
    {"wizard-4000.jpg", "wizard: -resize 4000x3000! -quality 90"},
    {"logo-2400.jpg", "logo: -resize 2400x1800! -quality 85"},
    {"rose-3000.jpg", "rose: -resize 3000x2000! -quality 80"},
    {"plasma-1600.jpg", "-seed 71 -size 1600x1200 plasma:fractal -blur 0x1 -quality 88"},
    {"plasma-1280.jpg", "-seed 72 -size 1280x960 plasma:fractal -blur 0x0.7 -quality 90"},
    {"plasma-2048p.jpg",
     "-seed 73 -size 1024x768 plasma:fractal -resize 2048x1536 -interlace Plane -quality 85"},
    {"granite-1800.jpg", "granite: -resize 1800x1200! -quality 85"},
    {"plasma-grey.jpg", "-seed 74 -size 1200x1600 plasma:fractal -colorspace Gray -quality 85"},
    {"plasma-cmyk.jpg", "-seed 75 -size 1400x1000 plasma:fractal -colorspace CMYK -quality 85"},
};

static void made_pictures(struct ks_pdq *p, const char *convert)
{
	const char *dir = ktest_tmpdir();
	CHECK(dir != NULL);
	if (!dir)
		return;
	for (size_t i = 0; i < sizeof made / sizeof made[0]; i++) {
		char path[512], cmd[2048];
		snprintf(path, sizeof path, "%s/%s", dir, made[i][0]);
		snprintf(cmd, sizeof cmd, "%s %s '%s' 2>/dev/null", convert, made[i][1], path);
		if (system(cmd) != 0) {
			printf("skip %s: ImageMagick could not make it\n", made[i][0]);
			continue;
		}
		hash_both(p, path, made[i][0]);
		/* pictures this large must take the reduced path */
		CHECK(pics[npics - 1].fast.mode == KS_PDQ_FAST);
		unlink(path);
	}
	rmdir(dir);
}

int main(void)
{
	const char *shared = ktest_shared();
	const char *convert =
	    access("/usr/bin/convert-im6.q16", X_OK) == 0 ? "/usr/bin/convert-im6.q16" : NULL;
	if (!shared && !convert) {
		printf("neither SHARED nor ImageMagick: skipping fast-mode comparisons\n");
		return 77;
	}
	struct ks_pdq *p = ks_pdq_new();
	if (shared)
		shared_pictures(p, shared);
	if (convert)
		made_pictures(p, convert);

	int sum = 0, good = 0, within8 = 0;
	for (int i = 0; i < npics; i++) {
		int d = ks_pdq_distance(&pics[i].exact.hash, &pics[i].fast.hash);
		sum += d;
		if (pics[i].exact.quality >= KS_PDQ_MIN_QUALITY) {
			good++;
			within8 += d <= 8;
			if (d > 8)
				fprintf(stderr, "%s: fast is %d bits from exact\n", pics[i].name,
					d);
		}
		/* PNG, GIF, BMP and small JPEGs are hashed exactly in both modes */
		if (pics[i].fast.mode == KS_PDQ_EXACT)
			CHECK(d == 0 && pics[i].exact.quality == pics[i].fast.quality);
	}
	double mean = npics ? (double)sum / npics : 0;
	printf("fast vs exact: %d pictures, mean distance %.2f, %d of %d with quality >= %d within "
	       "8 bits\n",
	       npics, mean, within8, good, KS_PDQ_MIN_QUALITY);
	CHECK(npics >= 9);
	CHECK(mean <= 3.0);
	CHECK(good > 0 && within8 * 100 >= good * 99);

	/* bridge-mods pairs: near in exact mode stays near in fast mode */
	int pairs = 0;
	for (int i = 0; i < npics; i++)
		for (int j = i + 1; j < npics; j++) {
			if (!strstr(pics[i].name, "bridge-mods/") ||
			    !strstr(pics[j].name, "bridge-mods/"))
				continue;
			int de = ks_pdq_distance(&pics[i].exact.hash, &pics[j].exact.hash);
			int df = ks_pdq_distance(&pics[i].fast.hash, &pics[j].fast.hash);
			if (de <= 31) {
				pairs++;
				if (df > 31)
					fprintf(stderr, "%s ~ %s: %d bits exact, %d fast\n",
						pics[i].name, pics[j].name, de, df);
				CHECK(df <= 31);
			}
		}
	if (shared) {
		printf("bridge-mods: %d pairs within 31 bits in exact mode\n", pairs);
		CHECK(pairs >= 30);
	}
	ks_pdq_free(p);
	return ktest_done();
}
