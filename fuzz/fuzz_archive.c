/* Fuzz target for ks_archive_expand: any bytes as an archive, with small limits so
 * that bombs and endless member lists end quickly. Members are touched (summed) so
 * that reads of the delivered buffers are checked by the sanitizers. */
#include <stddef.h>
#include <stdint.h>

#include "kestrel/evidence.h"

static int on_member(void *ctx, const struct ks_member_info *m, const uint8_t *data, size_t len)
{
	unsigned *sum = ctx;
	for (size_t i = 0; i < len; i++)
		*sum += data[i];
	for (const char *p = m->path; *p; p++)
		*sum += (unsigned char)*p;
	if (m->error)
		*sum += (unsigned char)m->error[0];
	return m->size == len ? KS_OK : KS_E_USAGE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ks_archive_limits lim = {
	    .max_member_bytes = 1 << 16,
	    .max_total_bytes = 1 << 20,
	    .max_members = 64,
	};
	struct ks_err err;
	unsigned sum = 0;
	int rc = ks_archive_expand(data, size, &lim, on_member, &sum, &err);
	if (rc == KS_E_USAGE && size > 0)
		__builtin_trap(); /* size and len disagreed */
	return 0;
}
