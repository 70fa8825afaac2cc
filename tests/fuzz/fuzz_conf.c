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
	if (fp_conf_long(value, -1000, 1000, &l) == 0 && (l < -1000 || l > 1000))
		__builtin_trap();
	if (fp_conf_bool(value, &b) == 0 && b != 0 && b != 1)
		__builtin_trap();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = 0;
	struct fp_err err;
	if (fp_conf_parse((const char *)data, size, sink, &n, &err) != 0 && !err.msg[0])
		__builtin_trap(); /* every failure must say why */
	return 0;
}
