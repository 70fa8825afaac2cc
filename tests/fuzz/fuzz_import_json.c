/*
 * fuzz_import_json.c — libFuzzer target: the JSON device import.
 */
#include "fuzz_import_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_import(FP_IMPORT_JSON, data, size);
	return 0;
}
