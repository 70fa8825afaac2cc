/*
 * fuzz_leases.c — libFuzzer target: dnsmasq and ISC dhcpd lease imports,
 * both run on the same input.
 */
#include "fuzz_import_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_import(FP_IMPORT_DNSMASQ, data, size);
	fuzz_import(FP_IMPORT_DHCPD, data, size);
	return 0;
}
