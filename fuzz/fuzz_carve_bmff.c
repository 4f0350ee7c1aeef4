/* Fuzz target for carving ISO base media files (HEIF, MP4, MOV, 3GP), moov before or after mdat:
 * measures the input as each of them and searches it for signatures, with the
 * invariants of carve_fuzz.h. */
#include "carve_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const types[] = {"heif", "mp4", "mov", "3gp", NULL};
	carve_fuzz(types, data, size);
	return 0;
}
