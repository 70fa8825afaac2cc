/*
 * fuzz_rollout_spec.c — libFuzzer target for the rollout specification and
 * runtime decoders (lib/rollout.c).
 *
 * The input is decoded as strict JSON (duplicates refused, nesting capped
 * before jansson sees it, as the server does), then as a specification: an
 * accepted one must survive to_json/from_json unchanged. The same document
 * is also decoded as a stored runtime, which must round-trip too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fleetpatch/json_depth.h"
#include "fleetpatch/rollout.h"

#define DEPTH_MAX 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FP_ROLLOUT_SPEC_JSON_MAX || memchr(data, '\0', size) ||
	    fp_json_check_depth((const char *)data, size, DEPTH_MAX, NULL))
		return 0;
	json_error_t je;
	json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return 0;
	static struct fp_rollout_spec s, again;
	struct fp_err err;
	if (fp_rollout_spec_from_json(j, &s, &err) == 0) {
		json_t *out = fp_rollout_spec_to_json(&s);
		if (!out)
			abort();
		memset(&again, 0xa5, sizeof(again));
		if (fp_rollout_spec_from_json(out, &again, &err) != 0)
			abort();
		json_t *out2 = fp_rollout_spec_to_json(&again);
		if (!out2 || !json_equal(out, out2) || memcmp(&s, &again, sizeof(s)) != 0)
			abort();
		json_decref(out);
		json_decref(out2);
	}
	static struct fp_rollout r, r2;
	if (fp_rollout_runtime_from_json(j, &r, &err) == 0) {
		json_t *out = fp_rollout_runtime_to_json(&r);
		if (!out || fp_rollout_runtime_from_json(out, &r2, &err) != 0)
			abort();
		json_t *out2 = fp_rollout_runtime_to_json(&r2);
		if (!out2 || !json_equal(out, out2))
			abort();
		json_decref(out);
		json_decref(out2);
	}
	json_decref(j);
	return 0;
}
