/*
 * director.c — building and verifying the director's signed per-device
 * assignment (director.h, docs/design/director.md).
 */
#include "fleetpatch/director.h"

#include <stdlib.h>
#include <string.h>

#include "fleetpatch/cjson.h"

int fp_director_build(const char *device_id, const json_t *target, const char *deadline,
                      int64_t version, const char *nonce, int64_t expires, json_t **out,
                      struct fp_err *err)
{
	char exp[21];
	*out = NULL;
	if (!device_id || !nonce || version < 1)
		return fp_err_set(err, FP_EINVAL,
		                  "director: device id, nonce and version are needed");
	int rc = fp_tuf_time_format(expires, exp, err);
	if (rc)
		return rc;
	json_t *t = target ? json_deep_copy(target) : json_null();
	json_t *dl = deadline ? json_string(deadline) : json_null();
	json_t *s = json_pack("{s:s,s:s,s:o,s:o,s:I,s:s,s:s,s:s}", "_type", FP_DIRECTOR_TYPE,
	                      "device_id", device_id, "target", t, "deadline", dl, "version",
	                      (json_int_t)version, "nonce", nonce, "expires", exp, "mode", "full");
	if (!s)
		return fp_err_set(err, FP_ENOMEM, "director: out of memory");
	return fp_tuf_envelope(s, out, err);
}

static int is_sha256_hex(const char *s)
{
	if (!s || strlen(s) != 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

int fp_director_offer_delta(json_t *doc, const json_t *delta_target, const char *base_sha256,
                            struct fp_err *err)
{
	json_t *s = json_object_get(doc, "signed");
	const json_t *name = json_object_get(delta_target, "name"),
	             *len = json_object_get(delta_target, "length"),
	             *hashes = json_object_get(delta_target, "hashes");
	if (!json_is_object(s) || !json_is_object(json_object_get(s, "target")))
		return fp_err_set(err, FP_EINVAL, "director: a delta needs an assigned target");
	if (!json_is_string(name) || !json_is_integer(len) || !json_is_object(hashes) ||
	    !is_sha256_hex(base_sha256))
		return fp_err_set(err, FP_EINVAL,
		                  "director: a delta needs a name, a length, hashes and the base's "
		                  "sha256");
	json_t *d = json_pack("{s:O,s:O,s:O,s:s}", "name", name, "length", len, "hashes", hashes,
	                      "base_sha256", base_sha256);
	if (!d || json_object_set_new(s, "delta", d) ||
	    json_object_set_new(s, "mode", json_string("delta")))
		return fp_err_set(err, FP_ENOMEM, "director: out of memory");
	return 0;
}

static int check_delta(const json_t *s, struct fp_director_assignment *out, struct fp_err *err)
{
	const char *mode = json_string_value(json_object_get(s, "mode"));
	const json_t *d = json_object_get(s, "delta");
	if (json_object_get(s, "mode") && !mode)
		return fp_err_set(err, FP_EINVAL, "director: mode must be \"full\" or \"delta\"");
	if (!mode || strcmp(mode, "full") == 0) {
		if (d)
			return fp_err_set(err, FP_EINVAL, "director: mode \"full\" has no delta");
		return 0;
	}
	if (strcmp(mode, "delta") != 0)
		return fp_err_set(err, FP_EINVAL, "director: mode must be \"full\" or \"delta\"");
	const json_t *name = json_object_get(d, "name"), *len = json_object_get(d, "length"),
	             *hashes = json_object_get(d, "hashes");
	const char *base = json_string_value(json_object_get(d, "base_sha256"));
	if (!out->target || !json_is_object(d) || !json_is_string(name) || !json_is_integer(len) ||
	    json_integer_value(len) < 0 || json_integer_value(len) > FP_TUF_TARGET_LENGTH_MAX ||
	    !json_is_object(hashes) || !json_is_string(json_object_get(hashes, "sha256")) ||
	    !is_sha256_hex(base))
		return fp_err_set(err, FP_EINVAL,
		                  "director: mode \"delta\" needs a target and a delta with a "
		                  "name, a length, a sha256 hash and base_sha256");
	out->delta = 1;
	out->delta_target = d;
	out->delta_name = json_string_value(name);
	out->delta_length = json_integer_value(len);
	out->delta_base_sha256 = base;
	return 0;
}

static int check_target(const json_t *t, struct fp_director_assignment *out, struct fp_err *err)
{
	const json_t *name = json_object_get(t, "name"), *len = json_object_get(t, "length"),
	             *hashes = json_object_get(t, "hashes");
	if (!json_is_object(t) || !json_is_string(name) || !json_is_integer(len) ||
	    json_integer_value(len) < 0 || json_integer_value(len) > FP_TUF_TARGET_LENGTH_MAX ||
	    !json_is_object(hashes) || !json_is_string(json_object_get(hashes, "sha256")))
		return fp_err_set(err, FP_EINVAL,
		                  "director: target must have a name, a length and a sha256 hash");
	out->target = t;
	out->target_name = json_string_value(name);
	out->target_length = json_integer_value(len);
	return 0;
}

int fp_director_verify(const void *data, size_t len, const json_t *key, const char *device_id,
                       int64_t min_version, int64_t now, json_t **doc,
                       struct fp_director_assignment *out, struct fp_err *err)
{
	json_t *md = NULL;
	char *canon = NULL;
	size_t clen = 0;
	char keyid[FP_TUF_KEYID_LEN + 1];
	memset(out, 0, sizeof(*out));
	*doc = NULL;
	if (len > FP_DIRECTOR_DOC_MAX)
		return fp_err_set(err, FP_ETOOBIG,
		                  "director: the assignment is larger than %d bytes",
		                  FP_DIRECTOR_DOC_MAX);
	int rc = fp_cjson_load(data, len, FP_DIRECTOR_DOC_MAX, &md, err);
	if (rc)
		return rc;
	const json_t *s = json_object_get(md, "signed"), *sigs = json_object_get(md, "signatures");
	if (!json_is_object(md) || json_object_size(md) != 2 || !json_is_object(s) ||
	    !json_is_array(sigs)) {
		rc = fp_err_set(
		    err, FP_EINVAL,
		    "director: an assignment is {\"signed\": {...}, \"signatures\": [...]}");
		goto out;
	}
	const char *type = json_string_value(json_object_get(s, "_type"));
	const json_t *ver = json_object_get(s, "version"), *tgt = json_object_get(s, "target"),
	             *dl = json_object_get(s, "deadline");
	out->device_id = json_string_value(json_object_get(s, "device_id"));
	out->nonce = json_string_value(json_object_get(s, "nonce"));
	const char *exp = json_string_value(json_object_get(s, "expires"));
	if (!type || strcmp(type, FP_DIRECTOR_TYPE) != 0) {
		rc = fp_err_set(err, FP_EINVAL, "director: _type must be \"%s\"", FP_DIRECTOR_TYPE);
		goto out;
	}
	if (!json_is_integer(ver) || json_integer_value(ver) < 1 || !out->device_id ||
	    !out->nonce || strlen(out->nonce) > FP_DIRECTOR_NONCE_MAX || !exp ||
	    (dl && !json_is_null(dl) && !json_is_string(dl)) || !tgt) {
		rc = fp_err_set(err, FP_EINVAL,
		                "director: signed needs device_id, target, version >= 1, nonce and "
		                "expires");
		goto out;
	}
	if ((rc = fp_tuf_time_parse(exp, &out->expires, err)))
		goto out;
	out->version = json_integer_value(ver);
	out->deadline = json_string_value(dl);
	if (!json_is_null(tgt) && (rc = check_target(tgt, out, err)))
		goto out;
	if ((rc = check_delta(s, out, err)))
		goto out;
	/* The signature comes first: nothing else in an unsigned document means anything. */
	if ((rc = fp_tuf_keyid(key, keyid, err)) || (rc = fp_cjson_encode(s, &canon, &clen, err)))
		goto out;
	int valid = 0;
	size_t i;
	const json_t *sig;
	json_array_foreach(sigs, i, sig)
	{
		const char *kid = json_string_value(json_object_get(sig, "keyid"));
		const char *hex = json_string_value(json_object_get(sig, "sig"));
		if (!kid || !hex || strcmp(kid, keyid) != 0)
			continue;
		if (fp_tuf_verify_sig(key, canon, clen, hex, NULL) == 0)
			valid = 1;
	}
	if (!valid) {
		rc = fp_err_set(err, FP_EAUTH,
		                "director: the assignment has no valid signature by the pinned "
		                "director key %.16s…",
		                keyid);
		goto out;
	}
	if (strcmp(out->device_id, device_id) != 0) {
		rc = fp_err_set(err, FP_EPERM,
		                "director: the assignment is for device '%.128s', not this one",
		                out->device_id);
		goto out;
	}
	if (out->expires <= now) {
		rc = fp_err_set(err, FP_EPERM, "director: the assignment expired at %s", exp);
		goto out;
	}
	if (out->version < min_version) {
		rc = fp_err_set(err, FP_ECONFLICT,
		                "director: version %lld is lower than version %lld accepted before "
		                "(a replay)",
		                (long long)out->version, (long long)min_version);
		goto out;
	}
	*doc = md;
	md = NULL;
	rc = 0;
out:
	if (rc)
		memset(out, 0, sizeof(*out));
	free(canon);
	json_decref(md);
	return rc;
}
