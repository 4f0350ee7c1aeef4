/* libFuzzer target for Thumbs.db: the bounded OLE2 reader (FAT, DIFAT, directory,
 * mini FAT and mini stream) and the Catalog/stream walk. Thumbnails are copies of
 * stream bytes, so only their lengths are checked here (ASan checks the reads). */
#include <stdint.h>
#include <stdlib.h>

#include "kestrel/artefact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check(void *ctx, const struct ks_artefact_ref *r)
{
	(void)ctx;
	if (r->thumb && r->thumb_len == 0)
		abort();
	if (r->thumb) {
		volatile uint8_t x = r->thumb[0] ^ r->thumb[r->thumb_len - 1];
		(void)x;
	}
	return KS_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ks_err err;
	ks_artefact_parse_bytes(ks_artefact_get("windows-thumbsdb"), "", "/x/y/Thumbs.db", data,
				size, NULL, check, NULL, &err);
	return 0;
}
