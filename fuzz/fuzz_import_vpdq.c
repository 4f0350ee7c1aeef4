/* Fuzz target for the vPDQ list importer ("frame,quality,hash,seconds" lines, "# video:"
 * lines splitting a file into videos): the input becomes a memfd the importer opens by
 * path; every frame delivered must be well-formed and goes into an index file builder
 * (whose result must open and find it); anything else must be an error with a
 * message, never a crash. */
#include "fuzz_import_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_import_one("vpdq", data, size);
}
