/*
 * fuzz_nmap.c — libFuzzer target: the nmap XML import.
 */
#include "fuzz_import_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_import(FP_IMPORT_NMAP, data, size);
	return 0;
}
