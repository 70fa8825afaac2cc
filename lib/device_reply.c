/*
 * device_reply.c — the device agent's readers of the server's answers to
 * authentication and check-in (include/fleetpatch/device_reply.h). Strict:
 * an answer that does not say what the API reference says is refused whole.
 */
#include "fleetpatch/device_reply.h"

#include <jansson.h>
#include <string.h>

#include "fleetpatch/json_depth.h"
#include "fleetpatch/tuf.h"

#define SAFE_INT_MAX (1LL << 53) /* integers a JSON number carries exactly */

static int load(const char *what, const char *buf, size_t len, json_t **out, struct fp_err *err)
{
	json_error_t je;
	*out = NULL;
	if (len > FP_DEVICE_REPLY_MAX)
		return fp_err_set(err, FP_ETOOBIG, "%s: the answer is over %d bytes", what,
		                  FP_DEVICE_REPLY_MAX);
	int rc = fp_json_check_depth(buf, len, FP_DEVICE_REPLY_DEPTH, err);
	if (rc)
		return rc;
	json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(j)) {
		json_decref(j);
		return fp_err_set(err, FP_EINVAL, "%s: the answer is not a JSON object%s%s", what,
		                  je.text[0] ? ": " : "", je.text);
	}
	*out = j;
	return 0;
}

/* An optional integer member from lo to hi; *v keeps its value when absent. */
static int int_member(const char *what, const json_t *o, const char *key, int64_t lo, int64_t hi,
                      int64_t *v, struct fp_err *err)
{
	const json_t *x = json_object_get(o, key);
	if (!x)
		return 0;
	if (!json_is_integer(x) || json_integer_value(x) < lo || json_integer_value(x) > hi)
		return fp_err_set(err, FP_EINVAL, "%s: %s must be an integer from %lld to %lld",
		                  what, key, (long long)lo, (long long)hi);
	*v = (int64_t)json_integer_value(x);
	return 0;
}

int fp_auth_reply_parse(const char *buf, size_t len, int pending, struct fp_auth_reply *out,
                        struct fp_err *err)
{
	static const char what[] = "device/auth";
	json_t *j = NULL;
	memset(out, 0, sizeof(*out));
	int rc = load(what, buf, len, &j, err);
	if (rc == 0)
		rc = int_member(what, j, "poll_interval_s", 1, FP_POLL_INTERVAL_MAX, &out->poll_s,
		                err);
	if (rc == 0)
		rc = int_member(what, j, "device_id", 1, SAFE_INT_MAX, &out->device_id, err);
	const json_t *tok = json_object_get(j, "token"), *exp = json_object_get(j, "expires_at");
	if (rc == 0 && exp &&
	    (!json_is_string(exp) ||
	     fp_tuf_time_parse(json_string_value(exp), &out->expires_at, NULL)))
		rc = fp_err_set(err, FP_EINVAL, "%s: expires_at must be \"YYYY-MM-DDTHH:MM:SSZ\"",
		                what);
	if (rc == 0 && (tok || !pending)) {
		const char *t = json_string_value(tok);
		size_t n = t ? strlen(t) : 0;
		int ok = n > 0 && n < FP_DEVICE_TOKEN_MAX && n == json_string_length(tok);
		for (size_t i = 0; ok && i < n; i++)
			ok = t[i] > 0x20 && t[i] < 0x7f;
		if (!ok)
			rc = fp_err_set(
			    err, FP_EINVAL,
			    "%s: no usable token in the answer (printable ASCII, 1 to %d "
			    "bytes)",
			    what, FP_DEVICE_TOKEN_MAX - 1);
		else
			memcpy(out->token, t, n + 1);
	}
	json_decref(j);
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}

int fp_checkin_reply_parse(const char *buf, size_t len, struct fp_checkin_reply *out,
                           struct fp_err *err)
{
	static const char what[] = "device/checkin";
	json_t *j = NULL;
	memset(out, 0, sizeof(*out));
	int rc = load(what, buf, len, &j, err);
	if (rc == 0)
		rc = int_member(what, j, "poll_interval_s", 1, FP_POLL_INTERVAL_MAX, &out->poll_s,
		                err);
	const json_t *as = json_object_get(j, "assignment");
	if (rc == 0 && as && !json_is_null(as)) {
		const json_t *v = json_object_get(as, "version");
		if (!json_is_object(as) || !json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > SAFE_INT_MAX)
			rc = fp_err_set(
			    err, FP_EINVAL,
			    "%s: assignment must be null or an object whose version is an "
			    "integer from 1",
			    what);
		else
			out->assignment_version = (int64_t)json_integer_value(v);
	}
	json_decref(j);
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}
