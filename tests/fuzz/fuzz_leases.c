/*
 * fuzz_leases.c — libFuzzer target: dnsmasq and ISC dhcpd lease imports,
 * both run on the same input.
 */
#include <stdint.h>

#include "fleetpatch/import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum fp_import_format fmts[] = {FP_IMPORT_DNSMASQ, FP_IMPORT_DHCPD};
	for (size_t i = 0; i < 2; i++) {
		struct fp_import_result r;
		struct fp_err err;
		if (fp_import_parse(fmts[i], (const char *)data, size, NULL, &r, &err) == 0) {
			for (size_t k = 0; k < r.n_rows; k++)
				if (!r.rows[k].rec.f[FP_DEV_IDENTITY])
					__builtin_trap(); /* every row has an identity */
		}
		fp_import_result_free(&r);
	}
	return 0;
}
