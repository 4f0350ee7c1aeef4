/* libFuzzer target over the decode-and-hash entry point: any bytes through
 * ks_pdq_hash_image in exact and fast mode (with dihedral variants), and through
 * ks_decode_image with the default pixel rules, under tight limits so that the fuzzer
 * explores parsing rather than memory exhaustion. */
#include <stddef.h>
#include <stdint.h>

#include "kestrel/decode.h"
#include "kestrel/pdq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ks_pdq *p;
	static struct ks_decoder *dec;
	static const struct ks_decode_limits lim = {
	    .max_side = 8192, .max_pixels = 4u << 20, .max_mem = 64u << 20};
	if (!p) {
		p = ks_pdq_new();
		dec = ks_decoder_new();
		ks_pdq_set_limits(p, &lim);
	}
	struct ks_pdq_result res;
	struct ks_err err;
	ks_pdq_hash_image(p, data, size, KS_PDQ_EXACT, KS_PDQ_WANT_DIHEDRAL, &res, &err);
	ks_pdq_hash_image(p, data, size, KS_PDQ_FAST, 0, &res, &err);

	struct ks_image img = {0};
	struct ks_decode_opts opts = {.limits = &lim};
	ks_decode_image(dec, data, size, &opts, &img, &err);
	ks_image_release(&img);
	return 0;
}
