/*
 * fuzz_conf.c — libFuzzer target for the configuration file reader.
 */
#include <stdint.h>
#include <string.h>

#include "fleetpatch/conf.h"

static int sink(void *ctx, const char *key, const char *value, int line, struct fp_err *err)
{
	(void)err;
	size_t *n = ctx;
	/* Touch every byte so ASan sees any out-of-bounds string. */
	*n += strlen(key) + strlen(value) + (size_t)line;
	long l;
	int b;
	(void)fp_conf_long(value, -1000, 1000, &l);
	(void)fp_conf_bool(value, &b);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = 0;
	struct fp_err err;
	(void)fp_conf_parse((const char *)data, size, sink, &n, &err);
	return 0;
}
