/*
 * test_audit.c — unit tests of lib/audit.c: entry rules, the canonical hash,
 * and detection of edits, deletions, reorderings and insertions in exports.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fleetpatch/audit.h"

#define N 50

/*
 * The hash of one fixed entry, computed independently of jansson (Python 3):
 *   s = '{"action":"device.update","actor":"user:alice","after":{"n":5,"name":'
 *       '"new \\u00E9","tags":["a","b"]},"before":{"name":"old"},"object":'
 *       '"device:42","prev_hash":"' + '0'*64 + '","seq":1,"ts":"2026-11-21T23:40:01.123Z"}'
 *   hashlib.sha256(b"fleetpatch-audit-v1\n" + s.encode()).hexdigest()
 * A jansson upgrade that changed the canonical form would fail here.
 */
static void golden_hash(void **state)
{
	(void)state;
	json_t *before = json_pack("{s:s}", "name", "old");
	json_t *after =
	    json_pack("{s:s,s:[s,s],s:i}", "name", "new \xc3\xa9", "tags", "a", "b", "n", 5);
	json_t *e = NULL;
	struct fp_err err;
	assert_int_equal(fp_audit_make(1, "2026-11-21T23:40:01.123Z", "user:alice", "device.update",
	                               "device:42", before, after, FP_AUDIT_GENESIS, &e, &err),
	                 0);
	assert_string_equal(json_string_value(json_object_get(e, "hash")),
	                    "4e01f95bc21bfa967ba479f121cd8c77853c3d63eaa8f184601225497b0d825a");
	/* before/after were copied, not taken. */
	json_object_set_new(before, "name", json_string("changed"));
	char h[FP_SHA256_HEX_LEN + 1];
	assert_int_equal(fp_audit_hash(e, h, &err), 0);
	assert_string_equal(h, json_string_value(json_object_get(e, "hash")));
	/* The "hash" member itself is ignored. */
	json_object_del(e, "hash");
	assert_int_equal(fp_audit_hash(e, h, &err), 0);
	assert_string_equal(h, "4e01f95bc21bfa967ba479f121cd8c77853c3d63eaa8f184601225497b0d825a");
	json_decref(e);
	json_decref(before);
	json_decref(after);
}

/* Builds entries 1..n into a new array. */
static json_t *build_chain(int n)
{
	json_t *arr = json_array();
	char prev[FP_SHA256_HEX_LEN + 1] = FP_AUDIT_GENESIS;
	for (int i = 1; i <= n; i++) {
		char ts[64], actor[32], object[32];
		snprintf(ts, sizeof(ts), "2026-11-21T23:%02d:%02d.%03dZ", i / 60, i % 60,
		         (i * 7) % 1000);
		snprintf(actor, sizeof(actor), "device:%d", i);
		snprintf(object, sizeof(object), "device:%d", i);
		if (i % 3)
			snprintf(actor, sizeof(actor), "user:alice");
		if (i % 5 == 0)
			object[0] = '\0';
		json_t *before =
		    i % 2 ? json_pack("{s:i,s:[s,{s:b}]}", "version", i, "tags", "lab", "x", 1)
		          : NULL;
		json_t *after =
		    json_pack("{s:i,s:s,s:n}", "version", i + 1, "note", "caf\xc3\xa9", "gone");
		json_t *e = NULL;
		assert_int_equal(fp_audit_make(i, ts, actor, i % 2 ? "device.update" : "user.login",
		                               object, before, after, prev, &e, NULL),
		                 0);
		snprintf(prev, sizeof(prev), "%s", json_string_value(json_object_get(e, "hash")));
		json_array_append_new(arr, e);
		json_decref(before);
		json_decref(after);
	}
	return arr;
}

/* One JSON line per entry, in the order given, key order as jansson keeps it. */
static char *export_text(json_t *arr)
{
	size_t cap = 1 << 20, len = 0;
	char *out = malloc(cap);
	assert_non_null(out);
	for (size_t i = 0; i < json_array_size(arr); i++) {
		char *line = json_dumps(json_array_get(arr, i), JSON_COMPACT);
		size_t ll = strlen(line);
		assert_true(len + ll + 2 < cap);
		memcpy(out + len, line, ll);
		len += ll;
		out[len++] = '\n';
		free(line);
	}
	out[len] = '\0';
	return out;
}

static int verify_text(const char *text, const char *anchor, struct fp_audit_verifier *v)
{
	struct fp_err err;
	int rc = fp_audit_verify_export(text, strlen(text), anchor, v, &err);
	if (rc)
		assert_non_null(strstr(err.msg, v->reason));
	return rc;
}

static int verify_arr(json_t *arr, struct fp_audit_verifier *v)
{
	char *text = export_text(arr);
	int rc = verify_text(text, NULL, v);
	free(text);
	return rc;
}

static void intact_chain_verifies(void **state)
{
	(void)state;
	json_t *arr = build_chain(N);
	struct fp_audit_verifier v;
	assert_int_equal(verify_arr(arr, &v), 0);
	assert_int_equal(v.count, N);
	assert_int_equal(v.first_bad_seq, -1);
	assert_string_equal(v.prev_hash,
	                    json_string_value(json_object_get(json_array_get(arr, N - 1), "hash")));
	/* The same through the incremental verifier. */
	fp_audit_verifier_init(&v);
	for (size_t i = 0; i < json_array_size(arr); i++)
		assert_int_equal(fp_audit_verifier_feed(&v, json_array_get(arr, i)), 0);
	assert_int_equal(v.next_seq, N + 1);
	/* Key order in the export does not matter; sorted output verifies too. */
	char *text = malloc(1 << 20);
	size_t len = 0;
	for (size_t i = 0; i < json_array_size(arr); i++) {
		/* Not compact: ", " and ": " separators, keys sorted, CRLF line ends. */
		char *line = json_dumps(json_array_get(arr, i), JSON_SORT_KEYS);
		size_t ll = strlen(line);
		memcpy(text + len, line, ll);
		len += ll;
		text[len++] = '\r';
		text[len++] = '\n';
		free(line);
	}
	text[len] = '\0';
	assert_int_equal(verify_text(text, NULL, &v), 0);
	/* Without the final line end. */
	text[len - 2] = '\0';
	assert_int_equal(verify_text(text, NULL, &v), 0);
	free(text);
	/* An empty log is intact. */
	assert_int_equal(verify_text("", NULL, &v), 0);
	assert_int_equal(v.count, 0);
	json_decref(arr);
}

static void edits_are_detected(void **state)
{
	(void)state;
	static const char *const fields[] = {"after", "actor", "ts", "before", "object", "action"};
	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		json_t *arr = build_chain(N);
		json_t *e = json_array_get(arr, 19);
		assert_int_equal(json_integer_value(json_object_get(e, "seq")), 20);
		if (strcmp(fields[f], "after") == 0)
			json_object_set_new(json_object_get(e, "after"), "version",
			                    json_integer(99));
		else if (strcmp(fields[f], "ts") == 0)
			json_object_set_new(e, "ts", json_string("2026-11-21T23:00:20.141Z"));
		else if (strcmp(fields[f], "before") == 0)
			json_object_set_new(e, "before", json_string("x"));
		else
			json_object_set_new(e, fields[f], json_string("user:mallory"));
		struct fp_audit_verifier v;
		assert_int_equal(verify_arr(arr, &v), FP_EINVAL);
		assert_int_equal(v.first_bad_seq, 20);
		assert_int_equal(v.count, 19);
		assert_string_equal(v.reason, "entry 20: hash does not match its content (edited)");
		json_decref(arr);
	}
}

static void deletion_is_detected(void **state)
{
	(void)state;
	json_t *arr = build_chain(N);
	json_array_remove(arr, 19);
	struct fp_audit_verifier v;
	assert_int_equal(verify_arr(arr, &v), FP_EINVAL);
	/* Seen on the line that holds entry 21; seq 20 is where the chain breaks. */
	assert_int_equal(v.first_bad_seq, 20);
	assert_string_equal(v.reason, "line 20: sequence 20 expected, found 21 (entries missing)");

	/* Deleting and renumbering the rest is caught by the chain itself. */
	for (size_t i = 19; i < json_array_size(arr); i++)
		json_object_set_new(json_array_get(arr, i), "seq", json_integer((json_int_t)i + 1));
	assert_int_equal(verify_arr(arr, &v), FP_EINVAL);
	assert_int_equal(v.first_bad_seq, 20);
	assert_string_equal(v.reason, "entry 20: prev_hash does not match entry 19's hash (entry "
	                              "deleted or reordered)");
	json_decref(arr);

	/* Deleting the first entry. */
	arr = build_chain(3);
	json_array_remove(arr, 0);
	json_object_set_new(json_array_get(arr, 0), "seq", json_integer(1));
	assert_int_equal(verify_arr(arr, &v), FP_EINVAL);
	assert_int_equal(v.first_bad_seq, 1);
	assert_non_null(strstr(v.reason, "genesis"));
	json_decref(arr);
}

static void reordering_is_detected(void **state)
{
	(void)state;
	json_t *arr = build_chain(N);
	json_t *e20 = json_incref(json_array_get(arr, 19));
	json_array_remove(arr, 19);
	json_array_insert_new(arr, 20, e20);
	struct fp_audit_verifier v;
	assert_int_equal(verify_arr(arr, &v), FP_EINVAL);
	assert_int_equal(v.first_bad_seq, 20);
	assert_non_null(strstr(v.reason, "sequence 20 expected, found 21"));
	/* Swapping and renumbering. */
	json_object_set_new(json_array_get(arr, 19), "seq", json_integer(20));
	json_object_set_new(json_array_get(arr, 20), "seq", json_integer(21));
	assert_int_equal(verify_arr(arr, &v), FP_EINVAL);
	assert_int_equal(v.first_bad_seq, 20);
	assert_non_null(strstr(v.reason, "prev_hash does not match entry 19's hash"));
	json_decref(arr);
}

static void insertion_is_detected(void **state)
{
	(void)state;
	json_t *arr = build_chain(N);
	json_t *forged = NULL;
	const char *h19 = json_string_value(json_object_get(json_array_get(arr, 18), "hash"));
	assert_int_equal(fp_audit_make(20, "2026-11-21T23:00:20.000Z", "user:mallory", "user.grant",
	                               "user:mallory", NULL, NULL, h19, &forged, NULL),
	                 0);
	json_array_insert_new(arr, 19, forged);
	struct fp_audit_verifier v;
	assert_int_equal(verify_arr(arr, &v), FP_EINVAL);
	assert_int_equal(v.first_bad_seq, 21);
	assert_non_null(strstr(v.reason, "sequence 21 expected, found 20"));
	json_decref(arr);
}

/* An edit with the entry's own hash recomputed is caught at the next entry. */
static void consistent_rehash_is_caught_next(void **state)
{
	(void)state;
	json_t *arr = build_chain(N);
	json_t *e = json_array_get(arr, 19);
	json_object_set_new(e, "actor", json_string("user:mallory"));
	char h[FP_SHA256_HEX_LEN + 1];
	assert_int_equal(fp_audit_hash(e, h, NULL), 0);
	json_object_set_new(e, "hash", json_string(h));
	struct fp_audit_verifier v;
	assert_int_equal(verify_arr(arr, &v), FP_EINVAL);
	assert_int_equal(v.first_bad_seq, 21);
	assert_string_equal(v.reason, "entry 21: prev_hash does not match entry 20's hash (entry "
	                              "deleted or reordered)");
	/* The verifier stays failed. */
	assert_int_equal(fp_audit_verifier_feed(&v, json_array_get(arr, 20)), FP_EINVAL);
	assert_int_equal(v.first_bad_seq, 21);
	json_decref(arr);
}

static void broken_lines(void **state)
{
	(void)state;
	json_t *arr = build_chain(5);
	char *text = export_text(arr);
	size_t len = strlen(text);
	struct fp_audit_verifier v;
	struct fp_err err;

	/* Truncated last line. */
	assert_int_equal(fp_audit_verify_export(text, len - 20, NULL, &v, &err), FP_EINVAL);
	assert_int_equal(v.first_bad_seq, 5);
	assert_int_equal(v.count, 4);
	assert_non_null(strstr(v.reason, "line 5: not valid JSON"));

	/* A blank line in the middle; one blank line at the end is fine. */
	char *buf = malloc(len + 64);
	char *l3 = text;
	for (int i = 0; i < 2; i++)
		l3 = strchr(l3, '\n') + 1;
	size_t pre = (size_t)(l3 - text);
	snprintf(buf, len + 64, "%.*s\n%s", (int)pre, text, l3);
	assert_int_equal(verify_text(buf, NULL, &v), FP_EINVAL);
	assert_int_equal(v.first_bad_seq, 3);
	assert_non_null(strstr(v.reason, "blank line"));
	snprintf(buf, len + 64, "%s\n", text);
	assert_int_equal(verify_text(buf, NULL, &v), 0);

	/* A line that is not JSON, and one that is JSON but not an object. */
	snprintf(buf, len + 64, "%.*shello\n%s", (int)pre, text, l3);
	assert_int_equal(verify_text(buf, NULL, &v), FP_EINVAL);
	assert_int_equal(v.first_bad_seq, 3);
	assert_non_null(strstr(v.reason, "line 3: not valid JSON"));
	snprintf(buf, len + 64, "%.*s[1,2]\n%s", (int)pre, text, l3);
	assert_int_equal(verify_text(buf, NULL, &v), FP_EINVAL);
	assert_string_equal(v.reason, "line 3: not a JSON object");
	/* Two objects on one line. */
	snprintf(buf, len + 64, "%.*s{}{}\n%s", (int)pre, text, l3);
	assert_int_equal(verify_text(buf, NULL, &v), FP_EINVAL);
	assert_int_equal(v.first_bad_seq, 3);

	/* A duplicate key in line 3 (the second "seq" would otherwise win). */
	snprintf(buf, len + 64, "%.*s{\"seq\":3,%s", (int)pre, text, l3 + 1);
	assert_int_equal(verify_text(buf, NULL, &v), FP_EINVAL);
	assert_int_equal(v.first_bad_seq, 3);
	assert_non_null(strstr(v.reason, "duplicate"));

	/* A NUL byte inside a line. */
	memcpy(buf, text, len + 1);
	buf[pre + 5] = '\0';
	assert_int_equal(fp_audit_verify_export(buf, len, NULL, &v, &err), FP_EINVAL);
	assert_int_equal(v.first_bad_seq, 3);
	free(buf);
	free(text);
	json_decref(arr);
}

static void line_cap(void **state)
{
	(void)state;
	size_t n = FP_AUDIT_LINE_MAX + 1;
	char *big = malloc(n + 1);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	big[n] = '\0';
	struct fp_audit_verifier v;
	struct fp_err err;
	assert_int_equal(fp_audit_verify_export(big, n, NULL, &v, &err), FP_ETOOBIG);
	assert_int_equal(v.first_bad_seq, 1);
	/* One byte less is within the cap (and then simply not an entry). */
	assert_int_equal(fp_audit_verify_export(big + 1, n - 1, NULL, &v, &err), FP_EINVAL);
	free(big);
}

static void field_set_and_types(void **state)
{
	(void)state;
	struct fp_audit_verifier v;
	static const struct {
		const char *key;
		const char *json; /* NULL: delete the member */
		const char *reason;
	} cases[] = {
	    {"extra", "1", "line 3: unexpected field \"extra\""},
	    {"before", NULL, "line 3: missing field \"before\""},
	    {"hash", NULL, "line 3: missing field \"hash\""},
	    {"seq", "\"3\"", "line 3: field \"seq\" must be an integer >= 1"},
	    {"seq", "3.0", "line 3: field \"seq\" must be an integer >= 1"},
	    {"ts", "\"2026-11-21T23:40:01Z\"", "line 3: field \"ts\" must be an RFC 3339"},
	    {"ts", "\"2026-02-29T23:40:01.000Z\"", "line 3: field \"ts\" must be an RFC 3339"},
	    {"ts", "\"2026-11-21T24:40:01.000Z\"", "line 3: field \"ts\" must be an RFC 3339"},
	    {"ts", "\"2026-11-21 23:40:01.000Z\"", "line 3: field \"ts\" must be an RFC 3339"},
	    {"actor", "\"\"", "line 3: field \"actor\" must be 1..256 bytes"},
	    {"actor", "7", "line 3: field \"actor\" must be a string"},
	    {"action", "\"a\\nb\"", "line 3: field \"action\" contains a control character"},
	    {"object", "null", "line 3: field \"object\" must be a string"},
	    {"after", "{\"x\":1.5}", "line 3: field \"after\" contains a real number"},
	    {"prev_hash", "\"ABC\"", "line 3: field \"prev_hash\" must be 64 lowercase hex"},
	    {"hash", "null", "line 3: field \"hash\" must be 64 lowercase hex"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *arr = build_chain(5);
		json_t *e = json_array_get(arr, 2);
		if (cases[i].json)
			json_object_set_new(e, cases[i].key,
			                    json_loads(cases[i].json, JSON_DECODE_ANY, NULL));
		else
			json_object_del(e, cases[i].key);
		assert_int_equal(verify_arr(arr, &v), FP_EINVAL);
		assert_int_equal(v.first_bad_seq, 3);
		assert_int_equal(strncmp(v.reason, cases[i].reason, strlen(cases[i].reason)), 0);
		json_decref(arr);
	}
	/* A leap day is a real date; depth beyond the cap is refused. */
	json_t *e = NULL, *deep = json_null();
	for (int i = 0; i < FP_AUDIT_DEPTH_MAX + 1; i++)
		deep = json_pack("[o]", deep);
	assert_int_equal(fp_audit_make(1, "2028-02-29T00:00:00.000Z", "system", "x", "", deep, NULL,
	                               FP_AUDIT_GENESIS, &e, NULL),
	                 FP_EINVAL);
	json_decref(deep);
	deep = json_null();
	for (int i = 0; i < FP_AUDIT_DEPTH_MAX; i++)
		deep = json_pack("[o]", deep);
	assert_int_equal(fp_audit_make(1, "2028-02-29T00:00:00.000Z", "system", "x", "", deep, NULL,
	                               FP_AUDIT_GENESIS, &e, NULL),
	                 0);
	json_decref(deep);
	json_decref(e);
}

static void make_checks_arguments(void **state)
{
	(void)state;
	json_t *e = NULL, *real = json_pack("{s:f}", "x", 1.5);
	struct fp_err err;
	const char *ts = "2026-11-21T23:40:01.123Z", *g = FP_AUDIT_GENESIS;
	assert_int_equal(fp_audit_make(0, ts, "system", "a", "", NULL, NULL, g, &e, &err),
	                 FP_EINVAL);
	assert_non_null(strstr(err.msg, "seq"));
	assert_int_equal(fp_audit_make(1, "2026-11-21", "system", "a", "", NULL, NULL, g, &e, &err),
	                 FP_EINVAL);
	assert_non_null(strstr(err.msg, "ts"));
	assert_int_equal(fp_audit_make(1, ts, NULL, "a", "", NULL, NULL, g, &e, &err), FP_EINVAL);
	assert_int_equal(fp_audit_make(1, ts, "sys\ttem", "a", "", NULL, NULL, g, &e, &err),
	                 FP_EINVAL);
	assert_int_equal(fp_audit_make(1, ts, "system", "\xff", "", NULL, NULL, g, &e, &err),
	                 FP_EINVAL);
	assert_int_equal(fp_audit_make(1, ts, "system", "a", "", real, NULL, g, &e, &err),
	                 FP_EINVAL);
	assert_non_null(strstr(err.msg, "real number"));
	assert_int_equal(fp_audit_make(1, ts, "system", "a", "", NULL, NULL, "abc", &e, &err),
	                 FP_EINVAL);
	assert_non_null(strstr(err.msg, "prev_hash"));
	assert_null(e);
	char h[FP_SHA256_HEX_LEN + 1];
	assert_int_equal(fp_audit_hash(real, h, &err), FP_EINVAL);
	assert_int_equal(fp_audit_hash(json_array_get(NULL, 0), h, &err), FP_EINVAL);
	json_decref(real);
}

static void anchors(void **state)
{
	(void)state;
	json_t *arr = build_chain(N);
	char *text = export_text(arr);
	char h30[FP_SHA256_HEX_LEN + 1], h50[FP_SHA256_HEX_LEN + 1];
	snprintf(h30, sizeof(h30), "%s",
	         json_string_value(json_object_get(json_array_get(arr, 29), "hash")));
	snprintf(h50, sizeof(h50), "%s",
	         json_string_value(json_object_get(json_array_get(arr, 49), "hash")));
	struct fp_audit_verifier v;
	struct fp_err err;
	assert_int_equal(verify_text(text, h50, &v), 0);
	assert_int_equal(verify_text(text, h30, &v), 0);
	/* Cut after entry 40: intact on its own, but the operator's anchor is gone. */
	char *p = text;
	for (int i = 0; i < 40; i++)
		p = strchr(p, '\n') + 1;
	size_t cut = (size_t)(p - text);
	assert_int_equal(fp_audit_verify_export(text, cut, NULL, &v, &err), 0);
	assert_int_equal(fp_audit_verify_export(text, cut, h30, &v, &err), 0);
	assert_int_equal(fp_audit_verify_export(text, cut, h50, &v, &err), FP_EINVAL);
	assert_int_equal(v.first_bad_seq, 41);
	assert_non_null(strstr(v.reason, "anchor"));
	assert_non_null(strstr(err.msg, "cut off"));
	/* A hash that is in no log, and a malformed anchor. */
	assert_int_equal(verify_text(text, FP_AUDIT_GENESIS, &v), FP_EINVAL);
	assert_int_equal(fp_audit_verify_export(text, strlen(text), "xyz", &v, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "anchor"));
	free(text);
	json_decref(arr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(golden_hash),
	    cmocka_unit_test(intact_chain_verifies),
	    cmocka_unit_test(edits_are_detected),
	    cmocka_unit_test(deletion_is_detected),
	    cmocka_unit_test(reordering_is_detected),
	    cmocka_unit_test(insertion_is_detected),
	    cmocka_unit_test(consistent_rehash_is_caught_next),
	    cmocka_unit_test(broken_lines),
	    cmocka_unit_test(line_cap),
	    cmocka_unit_test(field_set_and_types),
	    cmocka_unit_test(make_checks_arguments),
	    cmocka_unit_test(anchors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
