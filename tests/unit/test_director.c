/*
 * test_director.c — unit tests of lib/director.c (the signed per-device
 * assignment) and lib/tuf_role.c (one document against one role of a root).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fleetpatch/director.h"
#include "fleetpatch/sig.h"
#include "fleetpatch/tuf.h"
#include "fleetpatch/tuf_role.h"

#define NOW INT64_C(1800000000)

struct key {
	char *priv, *pub;
	json_t *obj;
	char id[FP_TUF_KEYID_LEN + 1];
};

static void key_new(struct key *k)
{
	assert_int_equal(fp_keypair_generate(&k->priv, &k->pub, NULL), 0);
	assert_int_equal(fp_tuf_key_from_pem(k->pub, &k->obj, k->id, NULL), 0);
}

static void key_free(struct key *k)
{
	free(k->priv);
	free(k->pub);
	json_decref(k->obj);
}

static json_t *target(void)
{
	return json_pack("{s:s,s:i,s:{s:s},s:{s:[s]}}", "name", "fw-1.bin", "length", 5000,
	                 "hashes", "sha256",
	                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	                 "custom", "hardware", "sim-1");
}

/* A signed assignment, serialized (caller frees). */
static char *make(const struct key *k, const char *dev, int64_t version, int64_t expires,
                  size_t *len)
{
	json_t *t = target(), *md = NULL;
	char *out = NULL;
	assert_int_equal(fp_director_build(dev, t, "2030-01-01T00:00:00Z", version,
	                                   "0123456789abcdef", expires, &md, NULL),
	                 0);
	assert_int_equal(fp_tuf_sign(md, k->priv, NULL, NULL), 0);
	assert_int_equal(fp_tuf_serialize(md, &out, len, NULL), 0);
	json_decref(t);
	json_decref(md);
	return out;
}

static int verify(const struct key *k, const char *data, size_t len, const char *dev,
                  int64_t min_version, struct fp_err *err)
{
	json_t *doc = NULL;
	struct fp_director_assignment a;
	int rc = fp_director_verify(data, len, k->obj, dev, min_version, NOW, &doc, &a, err);
	if (rc == 0) {
		assert_string_equal(a.device_id, dev);
		assert_string_equal(a.target_name, "fw-1.bin");
		assert_int_equal(a.target_length, 5000);
		assert_string_equal(a.deadline, "2030-01-01T00:00:00Z");
	}
	json_decref(doc);
	return rc;
}

static void test_valid_and_replay(void **state)
{
	(void)state;
	struct key k;
	struct fp_err err = {0};
	size_t len;
	key_new(&k);
	char *doc = make(&k, "serial:D1", 5, NOW + 3600, &len);
	assert_int_equal(verify(&k, doc, len, "serial:D1", 0, &err), 0);
	/* The same version again is the same assignment fetched again. */
	assert_int_equal(verify(&k, doc, len, "serial:D1", 5, &err), 0);
	/* A device that accepted version 6 refuses version 5: a replay. */
	assert_int_equal(verify(&k, doc, len, "serial:D1", 6, &err), FP_ECONFLICT);
	assert_non_null(strstr(err.msg, "replay"));
	free(doc);
	key_free(&k);
}

static void test_wrong_device_key_expired(void **state)
{
	(void)state;
	struct key k, other;
	struct fp_err err = {0};
	size_t len;
	key_new(&k);
	key_new(&other);
	char *doc = make(&k, "serial:D1", 1, NOW + 3600, &len);
	assert_int_equal(verify(&k, doc, len, "serial:D2", 0, &err), FP_EPERM);
	assert_non_null(strstr(err.msg, "serial:D1"));
	assert_int_equal(verify(&other, doc, len, "serial:D1", 0, &err), FP_EAUTH);
	free(doc);
	doc = make(&k, "serial:D1", 1, NOW - 1, &len);
	assert_int_equal(verify(&k, doc, len, "serial:D1", 0, &err), FP_EPERM);
	assert_non_null(strstr(err.msg, "expired"));
	free(doc);
	key_free(&k);
	key_free(&other);
}

static void test_tampered_and_malformed(void **state)
{
	(void)state;
	struct key k;
	struct fp_err err = {0};
	size_t len;
	key_new(&k);
	char *doc = make(&k, "serial:D1", 1, NOW + 3600, &len);
	/* Another length for the target: the signature no longer covers it. */
	char *p = strstr(doc, "\"length\":5000");
	assert_non_null(p);
	p[10] = '6';
	assert_int_equal(verify(&k, doc, len, "serial:D1", 0, &err), FP_EAUTH);
	p[10] = '5';
	/* Duplicate keys, truncation, the wrong type, and oversized input. */
	const char *dup = "{\"signed\":{\"_type\":\"x\",\"_type\":\"y\"},\"signatures\":[]}";
	assert_int_equal(verify(&k, dup, strlen(dup), "serial:D1", 0, &err), FP_EINVAL);
	assert_int_equal(verify(&k, doc, len - 5, "serial:D1", 0, &err), FP_EINVAL);
	const char *type = "{\"signed\":{\"_type\":\"targets\"},\"signatures\":[]}";
	assert_int_equal(verify(&k, type, strlen(type), "serial:D1", 0, &err), FP_EINVAL);
	assert_int_equal(verify(&k, doc, FP_DIRECTOR_DOC_MAX + 1, "serial:D1", 0, &err),
	                 FP_ETOOBIG);
	free(doc);
	key_free(&k);
}

#define BASE "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* Signs and serializes md, then verifies it (rc of fp_director_verify). */
static int sign_verify(const struct key *k, json_t *md, struct fp_director_assignment *a,
                       json_t **doc, struct fp_err *err)
{
	char *out = NULL;
	size_t len = 0;
	assert_int_equal(fp_tuf_sign(md, k->priv, NULL, NULL), 0);
	assert_int_equal(fp_tuf_serialize(md, &out, &len, NULL), 0);
	int rc = fp_director_verify(out, len, k->obj, "serial:D1", 0, NOW, doc, a, err);
	free(out);
	return rc;
}

static void test_mode_delta(void **state)
{
	(void)state;
	struct key k;
	struct fp_err err = {0};
	struct fp_director_assignment a;
	json_t *doc = NULL, *md = NULL, *t = target();
	json_t *d =
	    json_pack("{s:s,s:i,s:{s:s}}", "name", "fw-1.delta", "length", 300, "hashes", "sha256",
	              "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc");
	key_new(&k);
	/* A plain assignment says mode "full" and has no delta. */
	assert_int_equal(fp_director_build("serial:D1", t, NULL, 1, "0123", NOW + 3600, &md, NULL),
	                 0);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(md, "signed"), "mode")), "full");
	assert_int_equal(sign_verify(&k, md, &a, &doc, &err), 0);
	assert_int_equal(a.delta, 0);
	assert_null(a.delta_target);
	json_decref(doc);
	json_decref(md);
	/* A delta offer: the verified document names it and its base. */
	assert_int_equal(fp_director_build("serial:D1", t, NULL, 2, "0123", NOW + 3600, &md, NULL),
	                 0);
	assert_int_equal(fp_director_offer_delta(md, d, "not-hex", &err), FP_EINVAL);
	assert_int_equal(fp_director_offer_delta(md, d, BASE, &err), 0);
	assert_int_equal(sign_verify(&k, md, &a, &doc, &err), 0);
	assert_int_equal(a.delta, 1);
	assert_string_equal(a.target_name, "fw-1.bin");
	assert_string_equal(a.delta_name, "fw-1.delta");
	assert_int_equal(a.delta_length, 300);
	assert_string_equal(a.delta_base_sha256, BASE);
	json_decref(doc);
	/* Incoherent documents, even validly signed, are refused. */
	json_t *s = json_object_get(md, "signed");
	json_object_set_new(s, "mode", json_string("full")); /* full with a delta */
	assert_int_equal(sign_verify(&k, md, &a, &doc, &err), FP_EINVAL);
	json_object_set_new(s, "mode", json_string("patch"));
	assert_int_equal(sign_verify(&k, md, &a, &doc, &err), FP_EINVAL);
	json_object_set_new(s, "mode", json_string("delta"));
	json_object_set_new(json_object_get(s, "delta"), "base_sha256", json_string("BB"));
	assert_int_equal(sign_verify(&k, md, &a, &doc, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "base_sha256"));
	json_object_del(s, "delta"); /* delta without a delta */
	assert_int_equal(sign_verify(&k, md, &a, &doc, &err), FP_EINVAL);
	json_decref(md);
	/* Nothing to install: no delta can be offered. */
	assert_int_equal(
	    fp_director_build("serial:D1", NULL, NULL, 3, "0123", NOW + 3600, &md, NULL), 0);
	assert_int_equal(fp_director_offer_delta(md, d, BASE, &err), FP_EINVAL);
	json_decref(md);
	json_decref(t);
	json_decref(d);
	key_free(&k);
}

static void test_role_threshold(void **state)
{
	(void)state;
	struct key a, b, c;
	struct fp_err err = {0};
	int valid = 0, thr = 0;
	key_new(&a);
	key_new(&b);
	key_new(&c);
	json_t *root =
	    json_pack("{s:{s:O,s:O,s:O},s:{s:{s:[s,s],s:i},s:{s:[s],s:i}}}", "keys", a.id, a.obj,
	              b.id, b.obj, c.id, c.obj, "roles", "targets", "keyids", a.id, b.id,
	              "threshold", 2, "root", "keyids", c.id, "threshold", 1);
	json_t *md = NULL;
	assert_int_equal(
	    fp_tuf_envelope(json_pack("{s:s,s:i}", "_type", "targets", "version", 1), &md, NULL),
	    0);
	assert_int_equal(fp_tuf_sign(md, a.priv, NULL, NULL), 0);
	assert_int_equal(fp_tuf_role_check(root, "targets", md, &valid, &thr, &err), FP_EAUTH);
	assert_int_equal(valid, 1);
	assert_int_equal(thr, 2);
	/* A key of another role does not count. */
	assert_int_equal(fp_tuf_sign(md, c.priv, NULL, NULL), 0);
	assert_int_equal(fp_tuf_role_check(root, "targets", md, &valid, NULL, &err), FP_EAUTH);
	assert_non_null(strstr(err.msg, "not the role"));
	/* The same key twice counts once. */
	json_t *sigs = json_object_get(md, "signatures");
	json_array_append(sigs, json_array_get(sigs, 0));
	assert_int_equal(fp_tuf_role_check(root, "targets", md, &valid, NULL, &err), FP_EAUTH);
	assert_int_equal(valid, 1);
	assert_int_equal(fp_tuf_sign(md, b.priv, NULL, NULL), 0);
	assert_int_equal(fp_tuf_role_check(root, "targets", md, &valid, NULL, &err), 0);
	assert_int_equal(valid, 2);
	assert_int_equal(fp_tuf_role_check(root, "snapshot", md, NULL, NULL, &err), FP_EINVAL);
	json_decref(md);
	json_decref(root);
	key_free(&a);
	key_free(&b);
	key_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_and_replay),
	    cmocka_unit_test(test_wrong_device_key_expired),
	    cmocka_unit_test(test_tampered_and_malformed),
	    cmocka_unit_test(test_mode_delta),
	    cmocka_unit_test(test_role_threshold),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
