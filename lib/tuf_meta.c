/*
 * tuf_meta.c — parsing and validation of TUF metadata documents, times,
 * hashes, and the helpers that build and serialize metadata (see tuf.h).
 *
 * Validation is structural only: every field the client workflow reads later
 * is checked here once (type, range, cap), so that tuf_trust.c can read the
 * JSON without re-checking. Fields this library does not know are allowed, as
 * the specification asks, and so are delegations, which are only checked to
 * be an object.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "fleetpatch/cjson.h"
#include "fleetpatch/secret.h"
#include "tuf_int.h"

static const char *const role_names[] = {"root", "timestamp", "snapshot", "targets"};

const char *fp_tuf_role_name(enum fp_tuf_role role)
{
	return (unsigned)role < 4 ? role_names[role] : "unknown";
}

int fp__tuf_err_prefix(struct fp_err *err, int rc, const char *what, const char *name)
{
	char tmp[FP_ERR_MSG_MAX];
	if (!err)
		return rc;
	snprintf(tmp, sizeof(tmp), "%s", err->msg);
	return fp_err_set(err, rc, "%s %.64s: %s", what, name, tmp);
}

size_t fp__tuf_role_max(enum fp_tuf_role role)
{
	switch (role) {
	case FP_TUF_ROOT: return FP_TUF_ROOT_MAX;
	case FP_TUF_TIMESTAMP: return FP_TUF_TIMESTAMP_MAX;
	case FP_TUF_SNAPSHOT: return FP_TUF_SNAPSHOT_MAX;
	case FP_TUF_TARGETS: return FP_TUF_TARGETS_MAX;
	}
	return 0;
}

/* Days from 1970-01-01 to the given civil date (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int fp_tuf_time_parse(const char *s, int64_t *t, struct fp_err *err)
{
	static const char pattern[] = "dddd-dd-ddTdd:dd:ddZ";
	int v[6] = {0}, f = 0;
	if (!s || strlen(s) != sizeof(pattern) - 1)
		goto bad;
	for (size_t i = 0; i < sizeof(pattern) - 1; i++) {
		if (pattern[i] == 'd') {
			if (s[i] < '0' || s[i] > '9')
				goto bad;
			v[f] = v[f] * 10 + (s[i] - '0');
		} else if (s[i] != pattern[i]) {
			goto bad;
		} else {
			f++;
		}
	}
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (v[0] % 4 == 0 && v[0] % 100 != 0) || v[0] % 400 == 0;
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > mdays[v[1] - 1] ||
	    (v[1] == 2 && v[2] == 29 && !leap) || v[3] > 23 || v[4] > 59 || v[5] > 59)
		goto bad;
	*t = days_from_civil(v[0], v[1], v[2]) * 86400 + v[3] * 3600 + v[4] * 60 + v[5];
	return 0;
bad:
	return fp_err_set(err, FP_EINVAL,
	                  "expires \"%.40s\" is not of the form YYYY-MM-DDTHH:MM:SSZ", s ? s : "");
}

int fp_tuf_time_format(int64_t t, char out[21], struct fp_err *err)
{
	struct tm tm;
	time_t tt = (time_t)t;
	if (t < 0 || t > INT64_C(253402300799) || !gmtime_r(&tt, &tm) ||
	    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) != 20)
		return fp_err_set(err, FP_EINVAL, "time %" PRId64 " is outside years 1970..9999",
		                  t);
	return 0;
}

int fp_tuf_envelope(json_t *signed_part, json_t **md, struct fp_err *err)
{
	*md = NULL;
	if (!json_is_object(signed_part)) {
		json_decref(signed_part);
		return fp_err_set(err, FP_EINVAL, "\"signed\" must be an object");
	}
	*md = json_pack("{s:[],s:o}", "signatures", "signed", signed_part);
	return *md ? 0 : fp_err_set(err, FP_ENOMEM, "out of memory");
}

int fp_tuf_serialize(const json_t *md, char **out, size_t *len, struct fp_err *err)
{
	/*
	 * Canonical JSON writes control characters raw (the newlines of PEM keys),
	 * which is not JSON that parsers accept; files are therefore ordinary
	 * compact JSON with sorted keys, as python-tuf writes them.
	 */
	*out = NULL;
	*len = 0;
	if (!json_is_object(md))
		return fp_err_set(err, FP_EINVAL, "metadata must be a JSON object");
	char *s = json_dumps(md, JSON_COMPACT | JSON_SORT_KEYS);
	if (!s)
		return fp_err_set(err, FP_ENOMEM, "metadata could not be serialized");
	*out = s;
	*len = strlen(s);
	return 0;
}

/* ---- Validation ---------------------------------------------------------------------------- */

/* An integer member in [min, max]; missing is an error unless optional (then *v = -1). */
static int get_int(const json_t *obj, const char *key, int64_t min, int64_t max, int optional,
                   int64_t *v, const char *what, struct fp_err *err)
{
	json_t *j = json_object_get(obj, key);
	if (!j && optional) {
		*v = -1;
		return 0;
	}
	if (!json_is_integer(j))
		return fp_err_set(err, FP_EINVAL, "%s: \"%s\" must be an integer", what, key);
	*v = json_integer_value(j);
	if (*v < min || *v > max)
		return fp_err_set(err, FP_EINVAL, "%s: \"%s\" %" PRId64 " is out of range", what,
		                  key, *v);
	return 0;
}

int fp__tuf_hashes_read(const json_t *v, struct fp_tuf_hashes *out, struct fp_err *err)
{
	const char *alg;
	json_t *h;
	memset(out, 0, sizeof(*out));
	if (!json_is_object(v) || json_object_size(v) == 0)
		return fp_err_set(err, FP_EINVAL, "\"hashes\" must be a non-empty object");
	if (json_object_size(v) > FP_TUF_HASHES_MAX)
		return fp_err_set(err, FP_ETOOBIG, "more than %d hashes listed for one file",
		                  FP_TUF_HASHES_MAX);
	json_object_foreach((json_t *)v, alg, h)
	{
		const char *hex = json_string_value(h);
		if (!hex)
			return fp_err_set(err, FP_EINVAL, "hash \"%.32s\" must be a string", alg);
		/*
		 * Values are compared as lowercase hex, as python-tuf does; a value
		 * of any other form can never match and makes the file unverifiable.
		 */
		if (strcmp(alg, "sha256") == 0 && fp__tuf_is_lower_hex(hex, FP_TUF_SHA256_LEN)) {
			out->has_sha256 = !fp__tuf_hex_decode(hex, out->sha256, FP_TUF_SHA256_LEN);
		} else if (strcmp(alg, "sha512") == 0 &&
		           fp__tuf_is_lower_hex(hex, FP_TUF_SHA512_LEN)) {
			out->has_sha512 = !fp__tuf_hex_decode(hex, out->sha512, FP_TUF_SHA512_LEN);
		} else {
			out->n_unknown++;
		}
	}
	return 0;
}

int fp__tuf_metafile_read(const json_t *v, struct fp_tuf_metafile *out, struct fp_err *err)
{
	memset(out, 0, sizeof(*out));
	if (!json_is_object(v))
		return fp_err_set(err, FP_EINVAL, "a \"meta\" entry must be an object");
	int rc = get_int(v, "version", 1, INT64_MAX, 0, &out->version, "meta entry", err);
	if (rc == 0)
		rc = get_int(v, "length", 1, INT64_MAX, 1, &out->length, "meta entry", err);
	json_t *h = json_object_get(v, "hashes");
	if (rc == 0 && h) {
		out->has_hashes = 1;
		rc = fp__tuf_hashes_read(h, &out->hashes, err);
	}
	return rc;
}

static int check_spec_version(const json_t *s, struct fp_err *err)
{
	const char *v = json_string_value(json_object_get(s, "spec_version"));
	int parts = 0, digits = 0;
	if (!v)
		return fp_err_set(err, FP_EINVAL, "\"spec_version\" must be a string");
	for (const char *p = v;; p++) {
		if (*p >= '0' && *p <= '9') {
			digits++;
		} else if (*p == '.' || *p == '\0') {
			if (!digits)
				goto bad;
			parts++;
			digits = 0;
			if (!*p)
				break;
		} else {
			goto bad;
		}
	}
	if (parts < 2 || parts > 3)
		goto bad;
	if (strncmp(v, "1.", 2) != 0)
		return fp_err_set(err, FP_EUNSUPP,
		                  "spec_version %.32s is not supported; this client speaks TUF 1.x",
		                  v);
	return 0;
bad:
	return fp_err_set(err, FP_EINVAL, "spec_version \"%.32s\" is not of the form 1.Y.Z", v);
}

static int check_keys(const json_t *keys, struct fp_err *err)
{
	const char *id;
	json_t *k;
	if (!json_is_object(keys))
		return fp_err_set(err, FP_EINVAL, "\"keys\" must be an object");
	if (json_object_size(keys) > FP_TUF_KEYS_MAX)
		return fp_err_set(err, FP_ETOOBIG, "more than %d keys", FP_TUF_KEYS_MAX);
	json_object_foreach((json_t *)keys, id, k)
	{
		if (!json_is_object(k) || !json_is_string(json_object_get(k, "keytype")) ||
		    !json_is_string(json_object_get(k, "scheme")) ||
		    !json_is_object(json_object_get(k, "keyval")))
			return fp_err_set(err, FP_EINVAL,
			                  "key %.64s needs string keytype and scheme and an object "
			                  "keyval",
			                  id);
	}
	return 0;
}

/* Checks one role's keyids (strings, unique, capped) and threshold (>= 1). */
static int check_role(const char *name, const json_t *r, struct fp_err *err)
{
	json_t *ids = json_object_get(r, "keyids");
	int64_t th;
	if (!json_is_object(r) || !json_is_array(ids))
		return fp_err_set(err, FP_EINVAL, "role %s needs a \"keyids\" array", name);
	if (json_array_size(ids) > FP_TUF_ROLE_KEYIDS_MAX)
		return fp_err_set(err, FP_ETOOBIG, "role %s lists more than %d keyids", name,
		                  FP_TUF_ROLE_KEYIDS_MAX);
	for (size_t i = 0; i < json_array_size(ids); i++) {
		const char *a = json_string_value(json_array_get(ids, i));
		if (!a)
			return fp_err_set(err, FP_EINVAL, "role %s: keyids must be strings", name);
		for (size_t j = 0; j < i; j++)
			if (strcmp(a, json_string_value(json_array_get(ids, j))) == 0)
				return fp_err_set(err, FP_EINVAL, "role %s lists keyid %.64s twice",
				                  name, a);
	}
	return get_int(r, "threshold", 1, FP_TUF_ROLE_KEYIDS_MAX, 0, &th, name, err);
}

static int check_root(const json_t *s, struct fp_err *err)
{
	json_t *roles = json_object_get(s, "roles");
	json_t *cs = json_object_get(s, "consistent_snapshot");
	if (cs && !json_is_boolean(cs))
		return fp_err_set(err, FP_EINVAL, "\"consistent_snapshot\" must be a boolean");
	int rc = check_keys(json_object_get(s, "keys"), err);
	if (rc)
		return rc;
	if (!json_is_object(roles) || json_object_size(roles) != 4)
		return fp_err_set(
		    err, FP_EINVAL,
		    "\"roles\" must list exactly root, timestamp, snapshot and targets");
	for (int i = 0; i < 4; i++) {
		json_t *r = json_object_get(roles, role_names[i]);
		if (!r)
			return fp_err_set(err, FP_EINVAL, "\"roles\" has no %s role",
			                  role_names[i]);
		rc = check_role(role_names[i], r, err);
		if (rc)
			return rc;
	}
	return 0;
}

static int check_meta(const json_t *s, enum fp_tuf_role role, struct fp_err *err)
{
	const char *name;
	json_t *m, *meta = json_object_get(s, "meta");
	struct fp_tuf_metafile mf;
	if (!json_is_object(meta))
		return fp_err_set(err, FP_EINVAL, "\"meta\" must be an object");
	if (json_object_size(meta) > FP_TUF_META_ENTRIES_MAX)
		return fp_err_set(err, FP_ETOOBIG, "\"meta\" has more than %d entries",
		                  FP_TUF_META_ENTRIES_MAX);
	if (role == FP_TUF_TIMESTAMP && !json_object_get(meta, "snapshot.json"))
		return fp_err_set(err, FP_EINVAL, "timestamp \"meta\" has no snapshot.json entry");
	json_object_foreach(meta, name, m)
	{
		if (strlen(name) > FP_TUF_NAME_MAX)
			return fp_err_set(err, FP_ETOOBIG, "meta name longer than %d bytes",
			                  FP_TUF_NAME_MAX);
		int rc = fp__tuf_metafile_read(m, &mf, err);
		if (rc)
			return fp__tuf_err_prefix(err, rc, "meta", name);
	}
	return 0;
}

static int check_targets(const json_t *s, struct fp_err *err)
{
	const char *name;
	json_t *t, *targets = json_object_get(s, "targets");
	json_t *del = json_object_get(s, "delegations");
	struct fp_tuf_hashes h;
	int64_t len;
	if (del && !json_is_object(del))
		return fp_err_set(err, FP_EINVAL, "\"delegations\" must be an object");
	if (!json_is_object(targets))
		return fp_err_set(err, FP_EINVAL, "\"targets\" must be an object");
	if (json_object_size(targets) > FP_TUF_TARGETS_COUNT_MAX)
		return fp_err_set(err, FP_ETOOBIG, "more than %d targets",
		                  FP_TUF_TARGETS_COUNT_MAX);
	json_object_foreach(targets, name, t)
	{
		json_t *custom = json_object_get(t, "custom");
		if (strlen(name) > FP_TUF_NAME_MAX)
			return fp_err_set(err, FP_ETOOBIG, "target path longer than %d bytes",
			                  FP_TUF_NAME_MAX);
		if (!json_is_object(t))
			return fp_err_set(err, FP_EINVAL, "target %.64s must be an object", name);
		int rc = get_int(t, "length", 0, FP_TUF_TARGET_LENGTH_MAX, 0, &len, name, err);
		if (rc == 0)
			rc = fp__tuf_hashes_read(json_object_get(t, "hashes"), &h, err);
		if (rc == 0 && custom && !json_is_object(custom))
			rc = fp_err_set(err, FP_EINVAL, "\"custom\" must be an object");
		if (rc)
			return fp__tuf_err_prefix(err, rc, "target", name);
	}
	return 0;
}

/* Checks the envelope: a "signed" object and unique, well-formed "signatures". */
static int check_envelope(const json_t *doc, struct fp_err *err)
{
	json_t *sigs = json_object_get(doc, "signatures");
	if (!json_is_object(doc) || !json_is_object(json_object_get(doc, "signed")) ||
	    !json_is_array(sigs))
		return fp_err_set(err, FP_EINVAL,
		                  "metadata must be an object with a \"signed\" object and a "
		                  "\"signatures\" array");
	if (json_array_size(sigs) > FP_TUF_SIGS_MAX)
		return fp_err_set(err, FP_ETOOBIG, "more than %d signatures", FP_TUF_SIGS_MAX);
	for (size_t i = 0; i < json_array_size(sigs); i++) {
		json_t *s = json_array_get(sigs, i);
		const char *id = json_string_value(json_object_get(s, "keyid"));
		if (!id || !json_is_string(json_object_get(s, "sig")))
			return fp_err_set(err, FP_EINVAL,
			                  "each signature needs a string \"keyid\" and \"sig\"");
		/* The specification requires key ids to be unique in "signatures". */
		for (size_t j = 0; j < i; j++)
			if (strcmp(id, json_string_value(
			                   json_object_get(json_array_get(sigs, j), "keyid"))) == 0)
				return fp_err_set(err, FP_EINVAL,
				                  "two signatures carry the same keyid %.64s", id);
	}
	return 0;
}

void fp__tuf_doc_free(struct fp__tuf_doc *d)
{
	if (!d)
		return;
	json_decref(d->doc);
	free(d->canon);
	memset(d, 0, sizeof(*d));
}

int fp__tuf_doc_parse(enum fp_tuf_role role, const void *data, size_t len, struct fp__tuf_doc *out,
                      struct fp_err *err)
{
	struct fp__tuf_doc d = {.role = role};
	const char *rn = fp_tuf_role_name(role);
	memset(out, 0, sizeof(*out));
	int rc = fp_cjson_load(data, len, fp__tuf_role_max(role), &d.doc, err);
	if (rc) {
		rc = fp__tuf_err_prefix(err, rc, rn, "metadata");
		goto out;
	}
	rc = check_envelope(d.doc, err);
	if (rc)
		goto fail;
	d.signed_part = json_object_get(d.doc, "signed");
	d.sigs = json_object_get(d.doc, "signatures");
	const char *type = json_string_value(json_object_get(d.signed_part, "_type"));
	if (!type || strcmp(type, rn) != 0) {
		rc = fp_err_set(err, FP_EINVAL, "_type is \"%.32s\", expected \"%s\"",
		                type ? type : "(none)", rn);
		goto fail;
	}
	rc = check_spec_version(d.signed_part, err);
	if (rc == 0)
		rc = get_int(d.signed_part, "version", 1, INT64_MAX, 0, &d.version, rn, err);
	if (rc == 0)
		rc = fp_tuf_time_parse(json_string_value(json_object_get(d.signed_part, "expires")),
		                       &d.expires, err);
	if (rc == 0) {
		switch (role) {
		case FP_TUF_ROOT: rc = check_root(d.signed_part, err); break;
		case FP_TUF_TIMESTAMP:
		case FP_TUF_SNAPSHOT: rc = check_meta(d.signed_part, role, err); break;
		case FP_TUF_TARGETS: rc = check_targets(d.signed_part, err); break;
		}
	}
	if (rc == 0)
		rc = fp_cjson_encode(d.signed_part, &d.canon, &d.canon_len, err);
	if (rc)
		goto fail;
	*out = d;
	return 0;
fail:
	rc = fp__tuf_err_prefix(err, rc, rn, "metadata");
out:
	fp__tuf_doc_free(&d);
	return rc;
}

int fp_tuf_parse(enum fp_tuf_role role, const void *data, size_t len, int64_t *version,
                 int64_t *expires, struct fp_err *err)
{
	struct fp__tuf_doc d;
	if ((unsigned)role > FP_TUF_TARGETS)
		return fp_err_set(err, FP_EINVAL, "unknown role");
	int rc = fp__tuf_doc_parse(role, data, len, &d, err);
	if (rc)
		return rc;
	if (version)
		*version = d.version;
	if (expires)
		*expires = d.expires;
	fp__tuf_doc_free(&d);
	return 0;
}
