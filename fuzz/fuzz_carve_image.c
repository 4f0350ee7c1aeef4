/* Fuzz target for carving still pictures (JPEG, PNG, GIF, BMP, WebP, TIFF):
 * measures the input as each of them and searches it for signatures, with the
 * invariants of carve_fuzz.h. */
#include "carve_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const types[] = {"jpeg", "png", "gif", "bmp", "webp", "tiff", NULL};
	carve_fuzz(types, data, size);
	return 0;
}
