/*
 * fuzz_pkgdb.c — libFuzzer target for fp_pkgdb_parse_status, which reads
 * the dpkg or opkg status file of a device. Every reported name is
 * non-empty and within the cap.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fleetpatch/pkgdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check(void *ctx, const char *name, const char *version)
{
	(void)ctx;
	if (!name[0] || strlen(name) >= FP_PKGDB_NAME_MAX || strlen(version) >= FP_PKGDB_NAME_MAX)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int rc = fp_pkgdb_parse_status((const char *)data, size, check, NULL, NULL);
	(void)rc;
	return 0;
}
