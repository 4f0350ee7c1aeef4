/* libFuzzer target for the Windows thumbcache_*.db parser (entry walk and remnant
 * scan). Every reference's thumbnail must lie inside the input. */
#include <stdint.h>
#include <stdlib.h>

#include "kestrel/artefact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct span {
	const uint8_t *data;
	size_t size;
};

static int check(void *ctx, const struct ks_artefact_ref *r)
{
	const struct span *s = ctx;
	if (r->thumb && (r->thumb < s->data || r->thumb_len > s->size ||
			 (size_t)(r->thumb - s->data) > s->size - r->thumb_len))
		abort();
	return KS_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct span s = {data, size};
	struct ks_err err;
	ks_artefact_parse_bytes(ks_artefact_get("windows-thumbcache"), "", "/x/thumbcache_256.db",
				data, size, NULL, check, &s, &err);
	return 0;
}
