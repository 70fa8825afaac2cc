/*
 * audit.c — audit entries, their hash chain, and verification of exports (see audit.h).
 *
 * One function, check_entry(), holds the rules of an entry; fp_audit_make()
 * builds entries and then runs it, so that what the server writes is exactly
 * what the verifier accepts.
 */
#include "fleetpatch/audit.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

static const char *const entry_fields[] = {"seq",    "ts",    "actor",     "action", "object",
                                           "before", "after", "prev_hash", "hash"};
#define N_ENTRY_FIELDS (sizeof(entry_fields) / sizeof(entry_fields[0]))

static int is_hex64(const char *s)
{
	if (!s)
		return 0;
	for (int i = 0; i < FP_SHA256_HEX_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[FP_SHA256_HEX_LEN] == '\0';
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* True for "YYYY-MM-DDTHH:MM:SS.mmmZ" naming a real calendar date and time of day. */
static int is_timestamp(const char *s)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, se, ms;
	if (strlen(s) != 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[19] != '.' || s[23] != 'Z')
		return 0;
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &se) ||
	    digits(s + 20, 3, &ms))
		return 0;
	if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59)
		return 0;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= mdays[mo - 1] + (mo == 2 && leap);
}

/* Checks a JSON string member: length bounds, no NUL or other control characters. */
static int check_label(const json_t *s, size_t min, const char **why)
{
	if (!json_is_string(s)) {
		*why = "must be a string";
		return -1;
	}
	size_t len = json_string_length(s);
	const unsigned char *p = (const unsigned char *)json_string_value(s);
	if (len < min || len > FP_AUDIT_STR_MAX) {
		*why = min ? "must be 1..256 bytes" : "must be at most 256 bytes";
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] == 0x7f) {
			*why = "contains a control character";
			return -1;
		}
	return 0;
}

/*
 * Checks that value can be serialised canonically: no real numbers, no NUL
 * in strings or keys, nesting within FP_AUDIT_DEPTH_MAX.
 */
static int check_value(const json_t *value, int depth, const char **why)
{
	if ((json_is_array(value) || json_is_object(value)) && depth > FP_AUDIT_DEPTH_MAX) {
		*why = "nests deeper than 32 levels";
		return -1;
	}
	switch (json_typeof(value)) {
	case JSON_REAL: *why = "contains a real number (store it as a string)"; return -1;
	case JSON_STRING:
		if (strlen(json_string_value(value)) != json_string_length(value)) {
			*why = "contains a string with a NUL character";
			return -1;
		}
		return 0;
	case JSON_ARRAY:
		for (size_t i = 0; i < json_array_size(value); i++)
			if (check_value(json_array_get(value, i), depth + 1, why))
				return -1;
		return 0;
	case JSON_OBJECT: {
		/* jansson's iterators take a non-const object but do not change it. */
		void *it = json_object_iter((json_t *)value);
		for (; it; it = json_object_iter_next((json_t *)value, it)) {
			if (strlen(json_object_iter_key(it)) != json_object_iter_key_len(it)) {
				*why = "contains a key with a NUL character";
				return -1;
			}
			if (check_value(json_object_iter_value(it), depth + 1, why))
				return -1;
		}
		return 0;
	}
	default: return 0;
	}
}

/*
 * Checks the member set and every member's type and form. On failure writes
 * a sentence fragment naming the member to why.
 */
static int check_entry(const json_t *e, char *why, size_t whysz)
{
	const char *problem = NULL;
	const json_t *m;
	if (!json_is_object(e)) {
		snprintf(why, whysz, "not a JSON object");
		return -1;
	}
	for (size_t i = 0; i < N_ENTRY_FIELDS; i++)
		if (!json_object_get(e, entry_fields[i])) {
			snprintf(why, whysz, "missing field \"%s\"", entry_fields[i]);
			return -1;
		}
	if (json_object_size(e) != N_ENTRY_FIELDS) {
		const char *key;
		json_t *val;
		json_object_foreach((json_t *)e, key, val)
		{
			size_t i = 0;
			while (i < N_ENTRY_FIELDS && strcmp(key, entry_fields[i]) != 0)
				i++;
			if (i == N_ENTRY_FIELDS) {
				snprintf(why, whysz, "unexpected field \"%.64s\"", key);
				return -1;
			}
		}
	}
	m = json_object_get(e, "seq");
	if (!json_is_integer(m) || json_integer_value(m) < 1) {
		snprintf(why, whysz, "field \"seq\" must be an integer >= 1");
		return -1;
	}
	m = json_object_get(e, "ts");
	if (!json_is_string(m) || !is_timestamp(json_string_value(m))) {
		snprintf(why, whysz,
		         "field \"ts\" must be an RFC 3339 UTC time with milliseconds, like "
		         "\"2026-11-21T23:40:01.123Z\"");
		return -1;
	}
	static const char *const labels[] = {"actor", "action", "object"};
	for (size_t i = 0; i < 3; i++)
		if (check_label(json_object_get(e, labels[i]), i < 2, &problem)) {
			snprintf(why, whysz, "field \"%s\" %s", labels[i], problem);
			return -1;
		}
	static const char *const values[] = {"before", "after"};
	for (size_t i = 0; i < 2; i++)
		if (check_value(json_object_get(e, values[i]), 1, &problem)) {
			snprintf(why, whysz, "field \"%s\" %s", values[i], problem);
			return -1;
		}
	static const char *const hashes[] = {"prev_hash", "hash"};
	for (size_t i = 0; i < 2; i++) {
		m = json_object_get(e, hashes[i]);
		if (!json_is_string(m) || !is_hex64(json_string_value(m))) {
			snprintf(why, whysz, "field \"%s\" must be 64 lowercase hex digits",
			         hashes[i]);
			return -1;
		}
	}
	return 0;
}

static int digest_cb(const char *buf, size_t size, void *data)
{
	return EVP_DigestUpdate(data, buf, size) == 1 ? 0 : -1;
}

int fp_audit_hash(const json_t *entry, char out[FP_SHA256_HEX_LEN + 1], struct fp_err *err)
{
	int rc = 0;
	const char *problem = NULL;
	json_t *body = NULL;
	EVP_MD_CTX *ctx = NULL;
	unsigned char md[32];
	unsigned int mdlen = 0;

	if (!json_is_object(entry))
		return fp_err_set(err, FP_EINVAL, "audit entry is not a JSON object");
	body = json_object();
	if (!body) {
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	/*
	 * Serialise a shallow copy without "hash". Taking references changes only
	 * the (atomic) reference counts of entry's members, never their values.
	 */
	const char *key;
	json_t *val;
	json_object_foreach((json_t *)entry, key, val)
	{
		if (strcmp(key, "hash") == 0)
			continue;
		if (check_value(val, 1, &problem)) {
			rc = fp_err_set(err, FP_EINVAL, "audit entry field \"%.64s\" %s", key,
			                problem);
			goto out;
		}
		if (json_object_set(body, key, val)) {
			rc = fp_err_set(err, FP_ENOMEM, "out of memory");
			goto out;
		}
	}
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, FP_AUDIT_HASH_PREFIX, strlen(FP_AUDIT_HASH_PREFIX)) != 1 ||
	    json_dump_callback(body, digest_cb, ctx,
	                       JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII) != 0 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != sizeof(md)) {
		rc = fp_err_set(err, FP_ENOMEM, "audit entry could not be hashed (out of memory)");
		goto out;
	}
	static const char hexd[] = "0123456789abcdef";
	for (size_t i = 0; i < sizeof(md); i++) {
		out[2 * i] = hexd[md[i] >> 4];
		out[2 * i + 1] = hexd[md[i] & 0xf];
	}
	out[FP_SHA256_HEX_LEN] = '\0';
out:
	EVP_MD_CTX_free(ctx);
	json_decref(body);
	return rc;
}

/* Adds a new string member, or fails when s is NULL or not valid UTF-8. */
static int set_string(json_t *obj, const char *name, const char *s, struct fp_err *err)
{
	json_t *v = s ? json_string(s) : NULL;
	if (!v)
		return fp_err_set(err, FP_EINVAL, "audit field \"%s\" is missing or not UTF-8",
		                  name);
	if (json_object_set_new(obj, name, v))
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	return 0;
}

static int set_copy(json_t *obj, const char *name, const json_t *v, struct fp_err *err)
{
	json_t *c = v ? json_deep_copy(v) : json_null();
	if (!c || json_object_set_new(obj, name, c))
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	return 0;
}

int fp_audit_make(long long seq, const char *ts, const char *actor, const char *action,
                  const char *object, const json_t *before, const json_t *after,
                  const char *prev_hash, json_t **out, struct fp_err *err)
{
	int rc = 0;
	char hash[FP_SHA256_HEX_LEN + 1], why[200];
	json_t *e = json_object();

	*out = NULL;
	if (!e)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	if (json_object_set_new(e, "seq", json_integer(seq))) {
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = set_string(e, "ts", ts, err)) || (rc = set_string(e, "actor", actor, err)) ||
	    (rc = set_string(e, "action", action, err)) ||
	    (rc = set_string(e, "object", object, err)) ||
	    (rc = set_copy(e, "before", before, err)) || (rc = set_copy(e, "after", after, err)) ||
	    (rc = set_string(e, "prev_hash", prev_hash, err)) ||
	    (rc = set_string(e, "hash", FP_AUDIT_GENESIS, err)))
		goto out;
	/* The placeholder hash lets check_entry() judge every other field. */
	if (check_entry(e, why, sizeof(why))) {
		rc = fp_err_set(err, FP_EINVAL, "audit entry: %s", why);
		goto out;
	}
	if ((rc = fp_audit_hash(e, hash, err)) || (rc = set_string(e, "hash", hash, err)))
		goto out;
	*out = e;
	e = NULL;
out:
	json_decref(e);
	return rc;
}

void fp_audit_verifier_init(struct fp_audit_verifier *v)
{
	memset(v, 0, sizeof(*v));
	v->next_seq = 1;
	memcpy(v->prev_hash, FP_AUDIT_GENESIS, sizeof(v->prev_hash));
	v->first_bad_seq = -1;
}

/* Records the first failure (at seq) and returns FP_EINVAL. */
__attribute__((format(printf, 3, 4))) static int fail(struct fp_audit_verifier *v, long long seq,
                                                      const char *fmt, ...)
{
	if (v->first_bad_seq == -1) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
		va_end(ap);
		v->first_bad_seq = seq;
	}
	return FP_EINVAL;
}

/* where/pos name the entry's place in the input ("line 5", "position 5") in messages. */
static int feed(struct fp_audit_verifier *v, const json_t *e, const char *where, long long pos)
{
	char why[200], hash[FP_SHA256_HEX_LEN + 1];
	if (v->first_bad_seq != -1)
		return FP_EINVAL;
	if (check_entry(e, why, sizeof(why)))
		return fail(v, v->next_seq, "%s %lld: %s", where, pos, why);
	long long seq = json_integer_value(json_object_get(e, "seq"));
	if (seq != v->next_seq)
		return fail(v, v->next_seq, "%s %lld: sequence %lld expected, found %lld (%s)",
		            where, pos, v->next_seq, seq,
		            seq > v->next_seq ? "entries missing"
		                              : "entry repeated or out of order");
	const char *prev = json_string_value(json_object_get(e, "prev_hash"));
	if (strcmp(prev, v->prev_hash) != 0) {
		if (seq == 1)
			return fail(v, seq,
			            "entry 1: prev_hash is not the genesis value (the log does not "
			            "start at its beginning)");
		return fail(v, seq,
		            "entry %lld: prev_hash does not match entry %lld's hash (entry deleted "
		            "or reordered)",
		            seq, seq - 1);
	}
	if (fp_audit_hash(e, hash, NULL) != 0)
		return fail(v, seq, "entry %lld: could not be hashed", seq);
	if (strcmp(hash, json_string_value(json_object_get(e, "hash"))) != 0)
		return fail(v, seq, "entry %lld: hash does not match its content (edited)", seq);
	memcpy(v->prev_hash, hash, sizeof(v->prev_hash));
	v->next_seq++;
	v->count++;
	return 0;
}

int fp_audit_verifier_feed(struct fp_audit_verifier *v, const json_t *entry)
{
	return feed(v, entry, "position", v->count + 1);
}

static int is_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

int fp_audit_verify_export(const char *data, size_t len, const char *anchor_hash,
                           struct fp_audit_verifier *v, struct fp_err *err)
{
	int rc = 0, anchor_found = 0;
	long long line = 0;
	const char *p = data, *end = data + len;

	fp_audit_verifier_init(v);
	if (anchor_hash && !is_hex64(anchor_hash))
		return fp_err_set(err, FP_EINVAL, "anchor hash must be 64 lowercase hex digits");
	if (!data && len)
		return fp_err_set(err, FP_EINVAL, "no export data given");
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		int last = !nl || nl + 1 == end;
		line++;
		if (ll > FP_AUDIT_LINE_MAX) {
			fail(v, line, "line %lld: longer than %d bytes", line, FP_AUDIT_LINE_MAX);
			rc = FP_ETOOBIG;
			break;
		}
		if (is_blank(p, ll)) {
			if (last)
				break;
			rc = fail(v, line, "line %lld: blank line inside the export", line);
			break;
		}
		if (v->count >= FP_AUDIT_ENTRIES_MAX) {
			fail(v, line, "line %lld: more than %lld entries", line,
			     FP_AUDIT_ENTRIES_MAX);
			rc = FP_ETOOBIG;
			break;
		}
		json_error_t je;
		json_t *e = json_loadb(p, ll, JSON_REJECT_DUPLICATES, &je);
		if (!e) {
			rc = fail(v, line, "line %lld: not valid JSON (%s)", line, je.text);
			break;
		}
		rc = feed(v, e, "line", line);
		if (rc == 0 && anchor_hash &&
		    strcmp(json_string_value(json_object_get(e, "hash")), anchor_hash) == 0)
			anchor_found = 1;
		json_decref(e);
		if (rc)
			break;
		p = nl ? nl + 1 : end;
	}
	if (rc == 0 && anchor_hash && !anchor_found)
		rc = fail(
		    v, v->next_seq,
		    "anchor hash %.16s... is not in the log: entries from seq %lld on were cut "
		    "off, or the export is of another log",
		    anchor_hash, v->next_seq);
	if (rc)
		fp_err_set(err, rc, "audit log is not intact: %s", v->reason);
	return rc;
}
