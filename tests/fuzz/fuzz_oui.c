/*
 * fuzz_oui.c — libFuzzer target: the IEEE registry CSV parser and lookups.
 */
#include <stdint.h>
#include <string.h>

#include "fleetpatch/oui.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const macs[] = {"b8:27:eb:12:34:56", "70:b3:d5:a1:20:01",
	                                   "00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff",
	                                   "70:b3:d5:a0:00:00", "bad"};
	struct fp_oui *t;
	if (fp_oui_parse((const char *)data, size, &t, NULL) != 0)
		return 0;
	for (size_t i = 0; i < sizeof(macs) / sizeof(macs[0]); i++) {
		const char *v = fp_oui_lookup(t, macs[i]);
		if (v && !*v)
			__builtin_trap(); /* names are never empty */
	}
	fp_oui_free(t);
	return 0;
}
