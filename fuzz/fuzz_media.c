/* Fuzz target for type detection: sniffs the input (with the normal and the ISO-sized
 * head), then runs every format's validator on it, whole, cut in half, and as the
 * held head of a larger item, from an exactly-sized copy so that any read past the
 * end is caught by ASan even under the replay driver. Verdicts must be one of the
 * three values. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kestrel/media.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every validator on d[0..n) as the head of an item of size bytes. */
static void check_all(const uint8_t *d, size_t n, uint64_t size)
{
	for (size_t i = 0; ks_media_format_at(i); i++) {
		const struct ks_media_format *f = ks_media_format_at(i);
		uint32_t w = 0, h = 0;
		const char *why = NULL;
		enum ks_valid v = ks_media_validate_head(f->name, d, n, size, &w, &h, &why);
		if (v != KS_VALID_OK && v != KS_VALID_TRUNCATED && v != KS_VALID_BAD)
			abort();
		if (v != KS_VALID_OK && !why)
			abort(); /* a rejection always says why */
		(void)f->sniff(d, n, n);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *d = malloc(size ? size : 1);
	if (!d)
		return 0;
	memcpy(d, data, size);

	int kind = -1;
	size_t head = size < KS_SNIFF_BYTES_MAX ? size : KS_SNIFF_BYTES_MAX;
	const char *t = ks_media_sniff(d, head, size, &kind);
	if ((t == NULL) != (kind == KS_KIND_OTHER))
		abort();
	const struct ks_media_format *all[8];
	int conf[8];
	size_t claims = ks_media_sniff_all(d, head, size, all, conf, 8);
	if ((claims == 0) != (t == NULL) || (claims && strcmp(all[0]->name, t) != 0))
		abort();
	head = size < KS_SNIFF_BYTES ? size : KS_SNIFF_BYTES;
	(void)ks_media_sniff(d, head, size, &kind);

	check_all(d, size, size);
	check_all(d, size / 2, size / 2);
	check_all(d, size / 2, size);
	free(d);
	return 0;
}
