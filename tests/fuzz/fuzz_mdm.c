/*
 * fuzz_mdm.c — libFuzzer target: the MDM CSV export import.
 */
#include "fuzz_import_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_import(FP_IMPORT_MDM, data, size);
	return 0;
}
