/* libFuzzer target for the EXIF reader: the input is a whole file (JPEG, TIFF, PNG,
 * WebP, HEIF or anything else) and, separately, a bare TIFF block. Checks that any
 * thumbnail reported lies inside the input. */
#include <stdint.h>
#include <stdlib.h>

#include "kestrel/exif.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ks_exif x;
	struct ks_err err = {0};
	if (ks_exif_parse(data, size, &x, &err) == KS_OK) {
		if (x.tiff_offset > size || x.tiff_length > size - x.tiff_offset)
			abort();
		if (x.has_thumb && (x.thumb_offset > size || x.thumb_length > size - x.thumb_offset))
			abort();
	}
	if (ks_exif_parse_tiff(data, size, &x, &err) == KS_OK && x.has_thumb &&
	    (x.thumb_offset > size || x.thumb_length > size - x.thumb_offset))
		abort();
	return 0;
}
