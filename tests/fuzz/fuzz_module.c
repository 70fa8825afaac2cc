/*
 * fuzz_module.c — libFuzzer target for the install-module protocol: the
 * answer of a module's NeedsReboot state (any bytes a module prints) and
 * module names (taken from signed targets). A parse succeeds only on Yes
 * or No.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fleetpatch/module.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int reboot = -1;
	if (fp_module_parse_needs_reboot((const char *)data, size, &reboot, NULL) == 0 &&
	    !(size >= 2 && (data[0] == 'Y' || data[0] == 'N')))
		abort();
	char name[FP_MODULE_NAME_MAX + 2];
	size_t n = size < sizeof(name) - 1 ? size : sizeof(name) - 1;
	memcpy(name, data, n);
	name[n] = '\0';
	if (fp_module_name_valid(name) && (strchr(name, '/') || name[0] == '-'))
		abort();
	return 0;
}
