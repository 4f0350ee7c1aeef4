/* PDQ exact mode against the reference's test vectors in $SHARED/testdata/pdq:
 * every image's hash and quality (expected.tsv) and its eight dihedral hashes
 * (expected-dihedral.tsv), bit for bit. Skips (77) without the shared data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kestrel/pdq.h"
#include "ktest.h"

static int check_file(struct ks_pdq *p, const char *dir, const char *line, int dihedral)
{
	char *copy = strdup(line), *save = NULL;
	char *field[16];
	int n = 0;
	for (char *t = strtok_r(copy, "\t\r\n", &save); t && n < 16;
	     t = strtok_r(NULL, "\t\r\n", &save))
		field[n++] = t;
	int want = dihedral ? 10 : 3;
	if (n != want) {
		fprintf(stderr, "bad line: %s\n", line);
		free(copy);
		return -1;
	}
	const char *name = field[n - 1];
	int quality = atoi(field[n - 2]);
	char path[4096];
	snprintf(path, sizeof path, "%s/testdata/pdq/%s", dir, name);
	size_t len = 0;
	unsigned char *data = ktest_read_file(path, &len);
	CHECK(data != NULL);
	if (!data) {
		free(copy);
		return -1;
	}
	struct ks_pdq_result res;
	struct ks_err err = {0};
	int rc = ks_pdq_hash_image(p, data, len, KS_PDQ_EXACT, dihedral ? KS_PDQ_WANT_DIHEDRAL : 0,
				   &res, &err);
	CHECK(rc == 0);
	if (rc) {
		fprintf(stderr, "%s: %s\n", name, err.msg);
	} else {
		char hex[KS_PDQ_HEX_LEN + 1];
		for (int v = 0; v < (dihedral ? KS_PDQ_NDIHEDRAL : 1); v++) {
			ks_pdq_to_hex(dihedral ? &res.dih[v] : &res.hash, hex);
			if (strcmp(hex, field[v]) != 0) {
				struct ks_pdq_hash h;
				ks_pdq_from_hex(field[v], strlen(field[v]), &h);
				fprintf(stderr, "%s variant %d: %s want %s (%d bits off)\n", name,
					v, hex, field[v],
					ks_pdq_distance(&h, dihedral ? &res.dih[v] : &res.hash));
			}
			CHECK_STR(hex, field[v]);
		}
		if (res.quality != quality)
			fprintf(stderr, "%s: quality %d want %d\n", name, res.quality, quality);
		CHECK(res.quality == quality);
		CHECK(res.mode == KS_PDQ_EXACT);
	}
	free(data);
	free(copy);
	return 0;
}

static int run_list(struct ks_pdq *p, const char *dir, const char *list, int dihedral)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/testdata/pdq/%s", dir, list);
	FILE *f = fopen(path, "r");
	CHECK(f != NULL);
	if (!f)
		return 0;
	char line[2048];
	int count = 0;
	while (fgets(line, sizeof line, f)) {
		if (count++ == 0)
			continue; /* header */
		check_file(p, dir, line, dihedral);
	}
	fclose(f);
	return count - 1;
}

int main(void)
{
	const char *shared = ktest_shared();
	if (!shared) {
		printf("SHARED not set or missing: skipping the PDQ test vectors\n");
		return 77;
	}
	struct ks_pdq *p = ks_pdq_new();
	int n = run_list(p, shared, "expected.tsv", 0);
	CHECK(n >= 39);
	n = run_list(p, shared, "expected-dihedral.tsv", 1);
	CHECK(n >= 39);
	ks_pdq_free(p);
	return ktest_done();
}
