/*
 * fuzz_request_body.c — libFuzzer target for request-body parsing: the strict
 * JSON decoding fleetpatchd applies to every body, then the device-record
 * decoder that create, update, import and inventory requests go through.
 * A body that decodes must survive a round trip through its JSON form.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fleetpatch/device.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const readonly[] = {"id", "status", "source", "first_seen", NULL};
	if (size > (1u << 20) || memchr(data, '\0', size))
		return 0;
	json_error_t je;
	json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
	if (!body)
		return 0;
	struct fp_device_rec rec, again, merged;
	struct fp_err err;
	fp_device_rec_init(&rec);
	fp_device_rec_init(&again);
	fp_device_rec_init(&merged);
	if (fp_device_rec_from_json(&rec, body, readonly, &err) == 0) {
		json_t *out = json_object();
		if (!out || fp_device_rec_to_json(&rec, out) != 0)
			abort();
		/* What the server stores must decode again, unchanged. */
		if (fp_device_rec_from_json(&again, out, NULL, &err) != 0)
			abort();
		json_t *out2 = json_object();
		if (!out2 || fp_device_rec_to_json(&again, out2) != 0 || !json_equal(out, out2))
			abort();
		if (fp_device_rec_merge(&merged, &rec) != 0)
			abort();
		if (fp_device_rec_derive_identity(&merged, &err) == 0 && !merged.f[FP_DEV_IDENTITY])
			abort();
		json_decref(out);
		json_decref(out2);
	} else if (!err.msg[0]) {
		abort(); /* every refusal must say why */
	}
	fp_device_rec_free(&rec);
	fp_device_rec_free(&again);
	fp_device_rec_free(&merged);
	json_decref(body);
	return 0;
}
