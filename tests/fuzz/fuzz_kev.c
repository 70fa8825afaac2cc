/*
 * fuzz_kev.c — libFuzzer target: the CISA KEV catalogue parser (lib/feeds.c).
 */
#include <stdint.h>
#include <string.h>

#include "fleetpatch/feeds.h"
#include "fleetpatch/nvd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fp_kev k;
	if (fp_kev_parse((const char *)data, size, &k, NULL) == 0) {
		for (size_t i = 0; i < k.n; i++)
			if (!fp_cve_id_valid(k.e[i].cve) || !k.e[i].name ||
			    strlen(k.e[i].name) >= FP_KEV_NAME_MAX)
				__builtin_trap();
	} else if (k.n != 0 || k.e != NULL) {
		__builtin_trap(); /* a failed parse leaves nothing behind */
	}
	fp_kev_free(&k);
	return 0;
}
