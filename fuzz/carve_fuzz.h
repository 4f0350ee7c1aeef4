/* Shared body of the fuzz_carve_* targets: measures the input as each type of one
 * validator family (ks_media_measure) and searches it for signatures
 * (ks_media_carve_scan) the way carving does, from exactly-sized copies so that ASan
 * catches any read past the end even under the replay driver. Invariants that must
 * hold for any input abort when broken: verdicts are one of three, an end lies inside
 * the data (0 only for BAD), an item measured OK measures OK again to the same end
 * when cut there, and the vectorised and scalar searches find the same candidates. */
#ifndef KS_CARVE_FUZZ_H
#define KS_CARVE_FUZZ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kestrel/media.h"

static void carve_fuzz_measure(const char *type, const uint8_t *d, size_t n)
{
	uint64_t end = 0;
	const char *why = NULL;
	enum ks_valid v = ks_media_measure(type, d, n, &end, NULL, NULL, &why);
	if (v != KS_VALID_OK && v != KS_VALID_TRUNCATED && v != KS_VALID_BAD)
		abort();
	if (end > n || (v == KS_VALID_BAD) != (end == 0))
		abort();
	if (v != KS_VALID_OK)
		return;
	uint8_t *cut = malloc(end);
	if (!cut)
		return;
	memcpy(cut, d, end);
	uint64_t end2 = 0;
	enum ks_valid v2 = ks_media_measure(type, cut, end, &end2, NULL, NULL, NULL);
	if (v2 != KS_VALID_OK || end2 != end)
		abort();
	free(cut);
}

struct carve_fuzz_found {
	const uint8_t *d;
	size_t n;
	uint64_t sum, count;
};

static size_t carve_fuzz_cand(void *ctx, size_t pos, const struct ks_media_format *fmt)
{
	struct carve_fuzz_found *f = ctx;
	if (pos >= f->n)
		abort();
	f->count++;
	f->sum = f->sum * 31 + pos * 7 + (uint64_t)fmt->name[0];
	uint64_t end = 0;
	if (ks_media_measure(fmt->name, f->d + pos, f->n - pos, &end, NULL, NULL, NULL) !=
	    KS_VALID_BAD)
		return pos + (size_t)end;
	return pos + 1;
}

static void carve_fuzz(const char *const *types, const uint8_t *data, size_t size)
{
	uint8_t *d = malloc(size ? size : 1);
	if (!d)
		return;
	memcpy(d, data, size);
	for (const char *const *t = types; *t; t++)
		carve_fuzz_measure(*t, d, size);
	struct carve_fuzz_found a = {d, size, 0, 0}, b = {d, size, 0, 0};
	ks_media_carve_scan(d, size, 0, size, size, carve_fuzz_cand, &a);
	ks_media_carve_force_scalar(1);
	ks_media_carve_scan(d, size, 0, size, size, carve_fuzz_cand, &b);
	ks_media_carve_force_scalar(0);
	if (a.count != b.count || a.sum != b.sum)
		abort();
	/* A window that starts and ends inside the data. */
	if (size > 8) {
		struct carve_fuzz_found c = {d, size, 0, 0};
		ks_media_carve_scan(d, size, size / 3, size - size / 4, size, carve_fuzz_cand, &c);
	}
	free(d);
}

#endif
