/* Fuzz target for the pdq importer: the input becomes a memfd the importer opens by
 * path (/proc/self/fd/N); every entry delivered must be well-formed and is added to an
 * index file builder (whose result must then open and find it); anything else must
 * come back as an error with a message, never a crash. */
#include "fuzz_import_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_import_one("pdq", data, size);
}
