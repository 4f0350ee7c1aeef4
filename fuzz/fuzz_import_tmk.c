/* Fuzz target for the TMK+PDQF importer (.tmk files, one known video each): the input
 * becomes a memfd the importer opens by path; an entry delivered must carry a .tmk
 * that ks_tmk_read accepts, with upstream's rate and periods, and the scan's two scores
 * against it must be computable; anything else must be an error with a message. */
#include "fuzz_import_common.h"
#include "kestrel/tmk.h"

static int on_entry(void *ctx, const struct ks_hash_entry *e)
{
	int *n = ctx;
	if (e->has || !e->tmk || e->tmk_len != KS_TMK_FILE_BYTES || !e->name || !e->scheme)
		abort();
	struct ks_tmk *t = ks_tmk_new(), *mine = ks_tmk_new();
	struct ks_err err = {0};
	if (ks_tmk_read(e->tmk, e->tmk_len, t, &err) != KS_OK || t->fps != KS_TMK_FPS ||
	    memcmp(t->periods, mine->periods, sizeof t->periods) != 0 || t->frames <= 0)
		abort();
	uint8_t frame[KS_TMK_SIDE * KS_TMK_SIDE * 3];
	memset(frame, 0x80, sizeof frame);
	ks_tmk_add_rgb(mine, frame, KS_TMK_SIDE * 3);
	ks_tmk_finish(mine);
	volatile double s = ks_tmk_level1(mine, t) + ks_tmk_level2(mine, t);
	(void)s;
	ks_tmk_free(t);
	ks_tmk_free(mine);
	(*n)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = fz_memfd("fuzz_import", data, size, path);
	if (fd < 0)
		return 0;
	struct ks_err err = {0};
	const struct ks_importer_ops *ops = ks_importer_find(path, "tmk", &err);
	if (!ops)
		abort();
	struct ks_import_opts o = {.category = "A", .scheme = "uk"};
	int n = 0;
	int rc = ops->run(path, &o, on_entry, &n, &err);
	if (rc < 0 && !err.msg[0])
		abort();
	if (rc == KS_OK && n != 1)
		abort();
	ks_importer_find(path, NULL, &err); /* the probes on hostile input */
	close(fd);
	return 0;
}
