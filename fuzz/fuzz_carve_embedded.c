/* Fuzz target for the pipeline's search inside files (ks_carve_embedded): the input
 * is a file of no media type held whole; every embedded item found must lie inside
 * it, be a child of it named "@<offset>", and be examined (typed). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/pipeline/carve_impl.h"
#include "kestrel/media.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ks_hasher *hasher;
	if (!hasher)
		hasher = ks_hasher_new();
	const struct ks_expand_limits lim = {.max_depth = 2,
					     .max_member_bytes = 1 << 20,
					     .max_total_bytes = 4 << 20,
					     .max_members = 100};
	uint8_t *d = malloc(size ? size : 1);
	if (!d)
		return 0;
	memcpy(d, data, size);
	for (int kind = KS_KIND_OTHER; kind <= KS_KIND_DOCUMENT; kind += KS_KIND_DOCUMENT) {
		struct ks_group *g = ks_xcalloc(1, sizeof *g);
		struct ks_rec *r = ks_group_add(g);
		r->volume = ks_xstrdup("");
		r->path = ks_xstrdup("/f");
		r->size = size;
		r->kind = kind;
		snprintf(r->type, sizeof r->type, "%s", kind == KS_KIND_OTHER ? "data" : "pdf");
		ks_carve_embedded(g, 0, d, size, &lim, hasher);
		for (size_t i = 1; i < g->n; i++) {
			const struct ks_rec *c = &g->recs[i];
			unsigned long long at;
			if (c->parent < 0)
				continue; /* a member of an embedded item's own expansion */
			if (c->parent == 0) {
				if (sscanf(c->path, "@%llu", &at) != 1 || at >= size ||
				    c->size > size - at || !c->type[0])
					abort();
			}
		}
		ks_group_free(g);
	}
	free(d);
	return 0;
}
