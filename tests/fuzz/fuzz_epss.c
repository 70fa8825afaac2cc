/*
 * fuzz_epss.c — libFuzzer target: the FIRST EPSS CSV parser (lib/feeds.c), plain or gzip.
 */
#include <stdint.h>
#include <string.h>

#include "fleetpatch/feeds.h"
#include "fleetpatch/nvd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_row(void *ctx, const char *cve, double epss, double percentile)
{
	(void)ctx;
	if (!fp_cve_id_valid(cve) || !(epss >= 0 && epss <= 1) ||
	    !(percentile >= 0 && percentile <= 1))
		__builtin_trap();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char model[64], date[32];
	(void)!fp_epss_parse(data, size, on_row, NULL, model, date, NULL);
	if (strlen(model) >= sizeof(model) || strlen(date) >= sizeof(date))
		__builtin_trap();
	return 0;
}
