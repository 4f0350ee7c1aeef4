/* Fuzz target for carving the other video containers (AVI, Matroska/WebM, ASF, FLV, MPEG-PS):
 * measures the input as each of them and searches it for signatures, with the
 * invariants of carve_fuzz.h. */
#include "carve_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const types[] = {"avi", "mkv", "webm", "asf", "flv", "mpeg-ps", NULL};
	carve_fuzz(types, data, size);
	return 0;
}
