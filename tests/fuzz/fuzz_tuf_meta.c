/*
 * fuzz_tuf_meta.c — libFuzzer target: TUF metadata parsing and signature checks.
 *
 * The input is parsed as each of the four top-level roles, and as a trusted
 * root (which also verifies its signatures against its own keys).
 */
#include <stdint.h>

#include "fleetpatch/tuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fp_err err;
	int64_t version = 0, expires = 0;
	for (int r = FP_TUF_ROOT; r <= FP_TUF_TARGETS; r++)
		if (fp_tuf_parse((enum fp_tuf_role)r, data, size, &version, &expires, &err) == 0 &&
		    version < 1)
			__builtin_trap();
	struct fp_tuf_trusted *t = NULL;
	if (fp_tuf_trusted_new(data, size, &t, &err) == 0) {
		if (fp_tuf_version(t, FP_TUF_ROOT) < 1)
			__builtin_trap();
		/* A root is never a valid timestamp. */
		if (fp_tuf_update_timestamp(t, data, size, 0, &err) == 0)
			__builtin_trap();
		fp_tuf_trusted_free(t);
	}
	return 0;
}
