/*
 * fuzz_cjson.c — libFuzzer target: the strict JSON loader and the canonical encoder.
 *
 * Whatever loads must encode, and an encoding that loads again must be the
 * same value and already canonical (encoding is idempotent).
 */
#include <stdint.h>
#include <stdlib.h>

#include "fleetpatch/cjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *v = NULL, *again = NULL;
	char *enc = NULL;
	size_t len = 0;
	struct fp_err err;
	if (fp_cjson_load(data, size, size, &v, &err) != 0)
		return 0;
	if (fp_cjson_encode(v, &enc, &len, &err) != 0)
		__builtin_trap();
	/* Strings with control characters are written raw and do not load again. */
	if (fp_cjson_load(enc, len, len, &again, &err) == 0) {
		if (!json_equal(v, again) || !fp_cjson_is_canonical(enc, len))
			__builtin_trap();
		json_decref(again);
	}
	free(enc);
	json_decref(v);
	return 0;
}
