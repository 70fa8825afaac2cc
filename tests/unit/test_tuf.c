/*
 * test_tuf.c — unit tests of lib/tuf_*.c, clause by clause of the TUF 1.0
 * specification's detailed client workflow (section 5).
 *
 * Two sources of metadata: python-tuf's test repository (tests/data/tuf/
 * python-tuf, signed by securesystemslib with an RSASSA-PSS root key and
 * ed25519 keys), whose expected values (key ids, lengths, hashes, expiry)
 * are read from the fixture itself; and repositories built here with keys
 * generated for each run (ed25519, ECDSA P-256, RSA-PSS) and signed with
 * fp_tuf_sign(). Each rejection is checked for its code and its reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "fleetpatch/cjson.h"
#include "fleetpatch/secret.h"
#include "fleetpatch/tuf.h"

#define FIXTURE FP_TEST_DATA "/tuf/python-tuf"

/* 2023-11-14T22:13:20Z; the repositories built here expire a year later. */
#define NOW INT64_C(1700000000)
#define EXP (NOW + 365 * 86400)

/* ---- Helpers --------------------------------------------------------------------------------- */

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	char *buf = malloc(1 << 20);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static char *fixture(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", FIXTURE, name);
	return read_file(path, len);
}

/* Asserts rc and that the message contains reason. */
#define assert_rejected(call, code, reason)                                                        \
	do {                                                                                       \
		struct fp_err e_ = {0};                                                            \
		struct fp_err *err = &e_;                                                          \
		(void)err;                                                                         \
		int rc_ = (call);                                                                  \
		if (rc_ != (code) || !strstr(e_.msg, (reason)))                                    \
			fail_msg("%s: rc %d (want %d), message \"%s\" (want \"%s\")", #call, rc_,  \
			         (code), e_.msg, (reason));                                        \
	} while (0)

struct tkey {
	char *priv;
	json_t *obj;
	char id[FP_TUF_KEYID_LEN + 1];
};

static char *bio_string(BIO *b)
{
	char *data;
	long n = BIO_get_mem_data(b, &data);
	char *s = strndup(data, (size_t)n);
	assert_non_null(s);
	return s;
}

static void key_new(struct tkey *k, const char *alg)
{
	EVP_PKEY *p;
	if (strcmp(alg, "RSA") == 0)
		p = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	else if (strcmp(alg, "EC") == 0)
		p = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else
		p = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(p);
	BIO *priv = BIO_new(BIO_s_mem()), *pub = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PrivateKey(priv, p, NULL, NULL, 0, NULL, NULL), 1);
	assert_int_equal(PEM_write_bio_PUBKEY(pub, p), 1);
	k->priv = bio_string(priv);
	char *pubpem = bio_string(pub);
	struct fp_err err;
	if (fp_tuf_key_from_pem(pubpem, &k->obj, k->id, &err) != 0)
		fail_msg("%s", err.msg);
	free(pubpem);
	BIO_free(priv);
	BIO_free(pub);
	EVP_PKEY_free(p);
}

static void key_free(struct tkey *k)
{
	free(k->priv);
	json_decref(k->obj);
}

/* Keys shared by all tests; RSA key generation is slow, so it happens once. */
static struct tkey K_ROOT1, K_ROOT2, K_ROOT3, K_TS, K_SNAP, K_TARG, K_OTHER, K_EC, K_RSA;

static int setup_keys(void **state)
{
	(void)state;
	key_new(&K_ROOT1, "ED25519");
	key_new(&K_ROOT2, "ED25519");
	key_new(&K_ROOT3, "ED25519");
	key_new(&K_TS, "ED25519");
	key_new(&K_SNAP, "ED25519");
	key_new(&K_TARG, "ED25519");
	key_new(&K_OTHER, "ED25519");
	key_new(&K_EC, "EC");
	key_new(&K_RSA, "RSA");
	return 0;
}

static int teardown_keys(void **state)
{
	(void)state;
	struct tkey *all[] = {&K_ROOT1, &K_ROOT2, &K_ROOT3, &K_TS, &K_SNAP,
	                      &K_TARG,  &K_OTHER, &K_EC,    &K_RSA};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		key_free(all[i]);
	return 0;
}

static json_t *skeleton(const char *type, int64_t version, int64_t expires)
{
	char exp[21];
	assert_int_equal(fp_tuf_time_format(expires, exp, NULL), 0);
	return json_pack("{s:s,s:s,s:I,s:s}", "_type", type, "spec_version", "1.0.31", "version",
	                 (json_int_t)version, "expires", exp);
}

static json_t *role(struct tkey **keys, size_t n, int threshold)
{
	json_t *ids = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(ids, json_string(keys[i]->id));
	return json_pack("{s:o,s:i}", "keyids", ids, "threshold", threshold);
}

/* A root whose root role is roots[0..nroots) with threshold th; other roles have one key. */
static json_t *root_signed(int64_t version, int64_t expires, struct tkey **roots, size_t nroots,
                           int th, struct tkey *ts, struct tkey *snap, struct tkey *targ)
{
	json_t *s = skeleton("root", version, expires);
	json_t *keys = json_object();
	for (size_t i = 0; i < nroots; i++)
		json_object_set_new(keys, roots[i]->id, json_deep_copy(roots[i]->obj));
	json_object_set_new(keys, ts->id, json_deep_copy(ts->obj));
	json_object_set_new(keys, snap->id, json_deep_copy(snap->obj));
	json_object_set_new(keys, targ->id, json_deep_copy(targ->obj));
	json_object_set_new(s, "keys", keys);
	json_object_set_new(s, "consistent_snapshot", json_false());
	json_object_set_new(s, "roles",
	                    json_pack("{s:o,s:o,s:o,s:o}", "root", role(roots, nroots, th),
	                              "timestamp", role(&ts, 1, 1), "snapshot", role(&snap, 1, 1),
	                              "targets", role(&targ, 1, 1)));
	return s;
}

/* Envelopes, signs with keys[0..n) and serializes signed_part (stolen). Caller frees. */
static char *sign_doc(json_t *signed_part, struct tkey **keys, size_t n, size_t *len)
{
	json_t *md;
	struct fp_err err;
	char *out;
	assert_int_equal(fp_tuf_envelope(signed_part, &md, &err), 0);
	for (size_t i = 0; i < n; i++)
		if (fp_tuf_sign(md, keys[i]->priv, NULL, &err) != 0)
			fail_msg("sign: %s", err.msg);
	assert_int_equal(fp_tuf_serialize(md, &out, len, &err), 0);
	json_decref(md);
	return out;
}

static char *sign1(json_t *signed_part, struct tkey *key, size_t *len)
{
	return sign_doc(signed_part, &key, 1, len);
}

static json_t *metafile(int64_t version, const char *data, size_t len)
{
	json_t *m = json_pack("{s:I}", "version", (json_int_t)version);
	if (data) {
		char hex[FP_SHA256_HEX_LEN + 1];
		fp_sha256_hex(data, len, hex);
		json_object_set_new(m, "length", json_integer((json_int_t)len));
		json_object_set_new(m, "hashes", json_pack("{s:s}", "sha256", hex));
	}
	return m;
}

static json_t *timestamp_signed(int64_t version, int64_t expires, int64_t snap_version,
                                const char *snap, size_t snap_len)
{
	json_t *s = skeleton("timestamp", version, expires);
	json_object_set_new(
	    s, "meta", json_pack("{s:o}", "snapshot.json", metafile(snap_version, snap, snap_len)));
	return s;
}

static json_t *snapshot_signed(int64_t version, int64_t expires, int64_t targets_version)
{
	json_t *s = skeleton("snapshot", version, expires);
	json_object_set_new(s, "meta",
	                    json_pack("{s:o}", "targets.json", metafile(targets_version, NULL, 0)));
	return s;
}

static const char PAYLOAD[] = "firmware image 1.2.3\n";

static json_t *targets_signed(int64_t version, int64_t expires)
{
	char hex[FP_SHA256_HEX_LEN + 1];
	fp_sha256_hex(PAYLOAD, strlen(PAYLOAD), hex);
	json_t *s = skeleton("targets", version, expires);
	json_object_set_new(s, "targets",
	                    json_pack("{s:{s:i,s:{s:s},s:{s:s}}}", "fw.img", "length",
	                              (int)strlen(PAYLOAD), "hashes", "sha256", hex, "custom", "hw",
	                              "rev-b"));
	return s;
}

/* A complete, valid repository at version 1 of every role. */
struct repo {
	char *root, *ts, *snap, *targ;
	size_t root_len, ts_len, snap_len, targ_len;
};

static void repo_make(struct repo *r)
{
	struct tkey *roots[] = {&K_ROOT1};
	r->root = sign1(root_signed(1, EXP, roots, 1, 1, &K_TS, &K_SNAP, &K_TARG), &K_ROOT1,
	                &r->root_len);
	r->targ = sign1(targets_signed(1, EXP), &K_TARG, &r->targ_len);
	r->snap = sign1(snapshot_signed(1, EXP, 1), &K_SNAP, &r->snap_len);
	r->ts = sign1(timestamp_signed(1, EXP, 1, r->snap, r->snap_len), &K_TS, &r->ts_len);
}

static void repo_free(struct repo *r)
{
	free(r->root);
	free(r->ts);
	free(r->snap);
	free(r->targ);
}

static struct fp_tuf_trusted *trust(const char *root, size_t len)
{
	struct fp_tuf_trusted *t = NULL;
	struct fp_err err;
	if (fp_tuf_trusted_new(root, len, &t, &err) != 0)
		fail_msg("trusted root: %s", err.msg);
	return t;
}

#define assert_ok(call)                                                                            \
	do {                                                                                       \
		struct fp_err e_ = {0};                                                            \
		struct fp_err *err = &e_;                                                          \
		(void)err;                                                                         \
		int rc_ = (call);                                                                  \
		if (rc_ != 0)                                                                      \
			fail_msg("%s: rc %d, %s", #call, rc_, e_.msg);                             \
	} while (0)

/* ---- python-tuf's repository ----------------------------------------------------------------- */

static void python_tuf_repository_verifies(void **state)
{
	(void)state;
	size_t rl, tl, sl, gl, fl;
	char *root = fixture("metadata/root.json", &rl);
	char *ts = fixture("metadata/timestamp.json", &tl);
	char *snap = fixture("metadata/snapshot.json", &sl);
	char *targ = fixture("metadata/targets.json", &gl);
	char *file1 = fixture("targets/file1.txt", &fl);
	/* The fixture is indented, not canonical; signatures are over the canonical form. */
	assert_int_equal(fp_cjson_is_canonical(root, rl), 0);
	struct fp_tuf_trusted *t = trust(root, rl);
	assert_int_equal(fp_tuf_version(t, FP_TUF_ROOT), 1);
	assert_int_equal(fp_tuf_consistent_snapshot(t), 0);
	assert_ok(fp_tuf_update_timestamp(t, ts, tl, NOW, err));
	struct fp_tuf_metafile m;
	assert_ok(fp_tuf_expected_meta(t, FP_TUF_SNAPSHOT, &m, err));
	assert_int_equal(m.version, 1);
	assert_int_equal(m.length, 515);
	assert_ok(fp_tuf_update_snapshot(t, snap, sl, NOW, 0, err));
	assert_ok(fp_tuf_update_targets(t, targ, gl, NOW, err));
	struct fp_tuf_target tg;
	assert_ok(fp_tuf_target_get(t, "file1.txt", &tg, err));
	assert_string_equal(tg.name, "file1.txt");
	assert_int_equal(tg.length, 31);
	assert_true(tg.hashes.has_sha256 && tg.hashes.has_sha512);
	assert_int_equal(tg.hashes.sha256[0], 0x65);
	assert_int_equal(tg.hashes.sha256[31], 0xda);
	assert_string_equal(json_string_value(json_object_get(tg.custom, "file_permissions")),
	                    "0644");
	assert_ok(fp_tuf_target_verify(&tg, file1, fl, err));
	/* file3.txt is delegated to role1, which this client does not follow yet. */
	assert_rejected(fp_tuf_target_get(t, "file3.txt", &tg, err), FP_ENOTFOUND, "file3.txt");
	fp_tuf_trusted_free(t);
	free(root);
	free(ts);
	free(snap);
	free(targ);
	free(file1);
}

static void python_tuf_key_ids_are_sha256_of_canonical_key(void **state)
{
	(void)state;
	size_t rl;
	char *root = fixture("metadata/root.json", &rl);
	json_t *doc = NULL;
	assert_ok(fp_cjson_load(root, rl, rl, &doc, err));
	const char *id = "59a4df8af818e9ed7abe0764c0b47b4240952aa0d179b5b78346c470ac30278d";
	json_t *key = json_object_get(json_object_get(json_object_get(doc, "signed"), "keys"), id);
	char got[FP_TUF_KEYID_LEN + 1];
	assert_ok(fp_tuf_keyid(key, got, err));
	assert_string_equal(got, id);
	json_decref(doc);
	free(root);
}

static void python_tuf_expired_root_and_tampering(void **state)
{
	(void)state;
	size_t rl, tl, sl, gl;
	char *root = fixture("metadata/root.json", &rl);
	char *ts = fixture("metadata/timestamp.json", &tl);
	char *snap = fixture("metadata/snapshot.json", &sl);
	char *targ = fixture("metadata/targets.json", &gl);
	int64_t y2030;
	assert_ok(fp_tuf_time_parse("2030-01-01T00:00:00Z", &y2030, err));
	assert_int_equal(y2030, INT64_C(1893456000));

	/* 5.3.10: a root that expires at the reference time has expired. */
	struct fp_tuf_trusted *t = trust(root, rl);
	assert_rejected(fp_tuf_update_timestamp(t, ts, tl, y2030, err), FP_EPERM,
	                "trusted root metadata v1 expired at 2030-01-01T00:00:00Z");
	assert_int_equal(fp_tuf_version(t, FP_TUF_TIMESTAMP), 0);
	assert_ok(fp_tuf_update_timestamp(t, ts, tl, y2030 - 1, err));

	/* 5.5.2: one changed byte of snapshot no longer matches timestamp's hash. */
	char *bad = strstr(snap, "\"version\": 1");
	assert_non_null(bad);
	bad[11] = '2';
	assert_rejected(fp_tuf_update_snapshot(t, snap, sl, NOW, 0, err), FP_EAUTH,
	                "snapshot: sha256 does not match");
	bad[11] = '1';
	assert_ok(fp_tuf_update_snapshot(t, snap, sl, NOW, 0, err));

	/* 5.6.3: a target length changed in targets breaks its signature. */
	bad = strstr(targ, "\"length\": 31");
	assert_non_null(bad);
	bad[11] = '2';
	assert_rejected(fp_tuf_update_targets(t, targ, gl, NOW, err), FP_EAUTH,
	                "targets metadata has 0 valid signatures by targets keys");
	fp_tuf_trusted_free(t);
	free(root);
	free(ts);
	free(snap);
	free(targ);
}

/* ---- Keys and signatures --------------------------------------------------------------------- */

static void key_objects_and_ids(void **state)
{
	(void)state;
	/* The ed25519 key of test_sig.c, made with the openssl CLI; the expected key
	 * id is sha256 of the canonical JSON written by hand and hashed with
	 * Python's hashlib. */
	static const char pub[] = "-----BEGIN PUBLIC KEY-----\n"
	                          "MCowBQYDK2VwAyEA9QyLJqWVKFFxbgCCbY3Z0bu3sVqMs6IHeISTOdIuGmk=\n"
	                          "-----END PUBLIC KEY-----\n";
	json_t *key;
	char id[FP_TUF_KEYID_LEN + 1];
	assert_ok(fp_tuf_key_from_pem(pub, &key, id, err));
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(key, "keyval"), "public")),
	    "f50c8b26a5952851716e00826d8dd9d1bbb7b15a8cb3a20778849339d22e1a69");
	assert_string_equal(id, "200db55052f6db434e9ca6b2b59e8c8a55c97b8571b2cf8ab38786a9b60f1a79");
	json_decref(key);
	/* The other types name themselves as securesystemslib does. */
	assert_string_equal(json_string_value(json_object_get(K_EC.obj, "keytype")), "ecdsa");
	assert_string_equal(json_string_value(json_object_get(K_EC.obj, "scheme")),
	                    "ecdsa-sha2-nistp256");
	assert_string_equal(json_string_value(json_object_get(K_RSA.obj, "scheme")),
	                    "rsassa-pss-sha256");
	const char *pem =
	    json_string_value(json_object_get(json_object_get(K_RSA.obj, "keyval"), "public"));
	assert_int_equal(pem[strlen(pem) - 1], '-');
	assert_rejected(fp_tuf_key_from_pem("not a key", &key, id, err), FP_EINVAL, "PEM");
}

static void every_key_type_signs_and_verifies(void **state)
{
	(void)state;
	struct tkey *kinds[] = {&K_ROOT1, &K_EC, &K_RSA};
	for (size_t i = 0; i < 3; i++) {
		struct tkey *k = kinds[i];
		struct tkey *roots[] = {k};
		size_t len;
		char *root =
		    sign1(root_signed(1, EXP, roots, 1, 1, &K_TS, &K_SNAP, &K_TARG), k, &len);
		struct fp_tuf_trusted *t = trust(root, len);
		fp_tuf_trusted_free(t);
		/* Signed by another key of the same type: not trusted. */
		char *other = sign1(root_signed(1, EXP, roots, 1, 1, &K_TS, &K_SNAP, &K_TARG),
		                    &K_OTHER, &len);
		assert_rejected(fp_tuf_trusted_new(other, len, &t, err), FP_EAUTH,
		                "0 valid signatures by root keys");
		assert_null(t);
		free(root);
		free(other);
	}
}

static void signing_twice_replaces_the_signature(void **state)
{
	(void)state;
	json_t *md;
	char id1[FP_TUF_KEYID_LEN + 1], id2[FP_TUF_KEYID_LEN + 1];
	assert_ok(fp_tuf_envelope(snapshot_signed(1, EXP, 1), &md, err));
	assert_ok(fp_tuf_sign(md, K_SNAP.priv, id1, err));
	assert_ok(fp_tuf_sign(md, K_SNAP.priv, id2, err));
	assert_string_equal(id1, K_SNAP.id);
	assert_string_equal(id2, K_SNAP.id);
	assert_int_equal(json_array_size(json_object_get(md, "signatures")), 1);
	assert_ok(fp_tuf_sign(md, K_EC.priv, NULL, err));
	assert_int_equal(json_array_size(json_object_get(md, "signatures")), 2);
	json_decref(md);
}

static void unknown_key_type_never_counts(void **state)
{
	(void)state;
	struct tkey *roots[] = {&K_ROOT1};
	json_t *s = root_signed(1, EXP, roots, 1, 1, &K_TS, &K_SNAP, &K_TARG);
	/* Relabel the root key as an unknown type: its signature cannot count. */
	json_t *k = json_object_get(json_object_get(s, "keys"), K_ROOT1.id);
	json_object_set_new(k, "keytype", json_string("ed448"));
	json_object_set_new(k, "scheme", json_string("ed448"));
	k = json_deep_copy(k);
	size_t len;
	char *root = sign1(s, &K_ROOT1, &len);
	struct fp_tuf_trusted *t;
	assert_rejected(fp_tuf_trusted_new(root, len, &t, err), FP_EAUTH,
	                "1 by keys of an unknown key type");
	free(root);
	assert_rejected(fp_tuf_verify_sig(k, "x", 1, "00", err), FP_EUNSUPP, "not supported");
	json_decref(k);
}

/* ---- Thresholds --------------------------------------------------------------------------------
 */

static void threshold_counts_each_key_once(void **state)
{
	(void)state;
	struct tkey *two[] = {&K_ROOT1, &K_ROOT2};
	size_t len;
	struct fp_tuf_trusted *t;
	/* Threshold 2 met by two distinct keys. */
	char *root =
	    sign_doc(root_signed(1, EXP, two, 2, 2, &K_TS, &K_SNAP, &K_TARG), two, 2, &len);
	t = trust(root, len);
	fp_tuf_trusted_free(t);
	free(root);
	/* One key's signature listed twice: the specification forbids duplicate key ids. */
	json_t *md, *sigs;
	assert_ok(
	    fp_tuf_envelope(root_signed(1, EXP, two, 2, 2, &K_TS, &K_SNAP, &K_TARG), &md, err));
	assert_ok(fp_tuf_sign(md, K_ROOT1.priv, NULL, err));
	sigs = json_object_get(md, "signatures");
	json_array_append(sigs, json_array_get(sigs, 0));
	assert_ok(fp_tuf_serialize(md, &root, &len, err));
	assert_rejected(fp_tuf_trusted_new(root, len, &t, err), FP_EINVAL,
	                "two signatures carry the same keyid");
	free(root);
	json_decref(md);
	/* The same key under a second key id (with an extra field): counted once. */
	json_t *s = root_signed(1, EXP, two, 2, 2, &K_TS, &K_SNAP, &K_TARG);
	json_t *alias = json_deep_copy(K_ROOT1.obj);
	json_object_set_new(alias, "x-alias", json_true());
	char alias_id[FP_TUF_KEYID_LEN + 1];
	assert_ok(fp_tuf_keyid(alias, alias_id, err));
	json_object_set_new(json_object_get(s, "keys"), alias_id, alias);
	json_array_append_new(
	    json_object_get(json_object_get(json_object_get(s, "roles"), "root"), "keyids"),
	    json_string(alias_id));
	assert_ok(fp_tuf_envelope(s, &md, err));
	assert_ok(fp_tuf_sign(md, K_ROOT1.priv, NULL, err));
	sigs = json_object_get(md, "signatures");
	json_t *copy = json_deep_copy(json_array_get(sigs, 0));
	json_object_set_new(copy, "keyid", json_string(alias_id));
	json_array_append_new(sigs, copy);
	assert_ok(fp_tuf_serialize(md, &root, &len, err));
	assert_rejected(fp_tuf_trusted_new(root, len, &t, err), FP_EAUTH,
	                "1 valid signatures by root keys of root v1, threshold 2");
	free(root);
	json_decref(md);
}

static void signature_by_wrong_role_is_rejected(void **state)
{
	(void)state;
	struct repo r;
	repo_make(&r);
	struct fp_tuf_trusted *t = trust(r.root, r.root_len);
	size_t len;
	/* A timestamp signed by the snapshot key, which root does not allow for timestamp. */
	char *ts = sign1(timestamp_signed(1, EXP, 1, r.snap, r.snap_len), &K_SNAP, &len);
	assert_rejected(fp_tuf_update_timestamp(t, ts, len, NOW, err), FP_EAUTH,
	                "timestamp metadata has 0 valid signatures by timestamp keys");
	assert_int_equal(fp_tuf_version(t, FP_TUF_TIMESTAMP), 0);
	free(ts);
	/* Targets signed by root's key. */
	assert_ok(fp_tuf_update_timestamp(t, r.ts, r.ts_len, NOW, err));
	assert_ok(fp_tuf_update_snapshot(t, r.snap, r.snap_len, NOW, 0, err));
	char *targ = sign1(targets_signed(1, EXP), &K_ROOT1, &len);
	assert_rejected(fp_tuf_update_targets(t, targ, len, NOW, err), FP_EAUTH,
	                "valid signatures by targets keys");
	free(targ);
	fp_tuf_trusted_free(t);
	repo_free(&r);
}

/* ---- Root rotation (5.3) -----------------------------------------------------------------------
 */

static void root_rotation_chain(void **state)
{
	(void)state;
	struct tkey *k1[] = {&K_ROOT1}, *k2[] = {&K_ROOT2}, *k3[] = {&K_ROOT3};
	struct tkey *s12[] = {&K_ROOT1, &K_ROOT2}, *s23[] = {&K_ROOT2, &K_ROOT3};
	size_t l1, l2, l3, lx;
	char *r1 = sign1(root_signed(1, EXP, k1, 1, 1, &K_TS, &K_SNAP, &K_TARG), &K_ROOT1, &l1);
	/* v2 rotates to key 2 and has expired: fine for an intermediate root. */
	char *r2 =
	    sign_doc(root_signed(2, NOW - 10, k2, 1, 1, &K_TS, &K_SNAP, &K_TARG), s12, 2, &l2);
	char *r3 = sign_doc(root_signed(3, EXP, k3, 1, 1, &K_TS, &K_SNAP, &K_TARG), s23, 2, &l3);
	struct fp_tuf_trusted *t = trust(r1, l1);

	/* 5.3.5: v2 signed only by its new key lacks the old root's threshold. */
	char *x = sign1(root_signed(2, EXP, k2, 1, 1, &K_TS, &K_SNAP, &K_TARG), &K_ROOT2, &lx);
	assert_rejected(fp_tuf_update_root(t, x, lx, err), FP_EAUTH,
	                "0 valid signatures by root keys of root v1");
	free(x);
	/* ... and v2 signed only by the old key lacks its own threshold. */
	x = sign1(root_signed(2, EXP, k2, 1, 1, &K_TS, &K_SNAP, &K_TARG), &K_ROOT1, &lx);
	assert_rejected(fp_tuf_update_root(t, x, lx, err), FP_EAUTH,
	                "0 valid signatures by root keys of root v2");
	free(x);
	/* 5.3.6: skipping a version, or replaying the trusted one, is refused. */
	x = sign1(root_signed(3, EXP, k1, 1, 1, &K_TS, &K_SNAP, &K_TARG), &K_ROOT1, &lx);
	assert_rejected(fp_tuf_update_root(t, x, lx, err), FP_ECONFLICT,
	                "root version 3 is not the expected 2");
	free(x);
	assert_rejected(fp_tuf_update_root(t, r1, l1, err), FP_ECONFLICT,
	                "root version 1 is not the expected 2");
	assert_int_equal(fp_tuf_version(t, FP_TUF_ROOT), 1);

	assert_ok(fp_tuf_update_root(t, r2, l2, err));
	assert_int_equal(fp_tuf_version(t, FP_TUF_ROOT), 2);
	/* v3 signed by the key of v1 (no longer trusted) and v3's own key only. */
	struct tkey *s13[] = {&K_ROOT1, &K_ROOT3};
	x = sign_doc(root_signed(3, EXP, k3, 1, 1, &K_TS, &K_SNAP, &K_TARG), s13, 2, &lx);
	assert_rejected(fp_tuf_update_root(t, x, lx, err), FP_EAUTH,
	                "0 valid signatures by root keys of root v2");
	free(x);
	assert_ok(fp_tuf_update_root(t, r3, l3, err));
	assert_int_equal(fp_tuf_version(t, FP_TUF_ROOT), 3);
	fp_tuf_trusted_free(t);

	/* 5.3.10: a chain ending at the expired v2 fails before any timestamp. */
	struct repo r;
	repo_make(&r);
	t = trust(r1, l1);
	assert_ok(fp_tuf_update_root(t, r2, l2, err));
	assert_rejected(fp_tuf_update_timestamp(t, r.ts, r.ts_len, NOW, err), FP_EPERM,
	                "trusted root metadata v2 expired");
	fp_tuf_trusted_free(t);
	repo_free(&r);
	free(r1);
	free(r2);
	free(r3);
}

static void fast_forward_recovery_after_key_rotation(void **state)
{
	(void)state;
	struct tkey *k1[] = {&K_ROOT1};
	struct repo r;
	repo_make(&r);
	size_t l10, l2, lnew;
	/* An attacker with the old timestamp key made version 10 and the client stored it. */
	char *ts10 = sign1(timestamp_signed(10, EXP, 1, r.snap, r.snap_len), &K_TS, &l10);
	struct fp_tuf_trusted *t = trust(r.root, r.root_len);
	assert_ok(fp_tuf_update_timestamp(t, ts10, l10, NOW, err));
	fp_tuf_trusted_free(t);
	/* Root v2 rotates the timestamp key to K_OTHER. */
	char *r2 = sign1(root_signed(2, EXP, k1, 1, 1, &K_OTHER, &K_SNAP, &K_TARG), &K_ROOT1, &l2);
	char *tsnew = sign1(timestamp_signed(1, EXP, 1, r.snap, r.snap_len), &K_OTHER, &lnew);
	t = trust(r.root, r.root_len);
	assert_ok(fp_tuf_update_root(t, r2, l2, err));
	/* 5.3.11: the stored v10 no longer verifies under the new root, so it is not trusted ... */
	assert_rejected(fp_tuf_update_timestamp(t, ts10, l10, NOW, err), FP_EAUTH,
	                "valid signatures by timestamp keys of root v2");
	/* ... and the repository's new version 1 is accepted. */
	assert_ok(fp_tuf_update_timestamp(t, tsnew, lnew, NOW, err));
	assert_int_equal(fp_tuf_version(t, FP_TUF_TIMESTAMP), 1);
	fp_tuf_trusted_free(t);
	free(ts10);
	free(r2);
	free(tsnew);
	repo_free(&r);
}

/* ---- Timestamp (5.4) ------------------------------------------------------------------------- */

static void timestamp_rules(void **state)
{
	(void)state;
	struct repo r;
	repo_make(&r);
	size_t l2, l3, lold, lexp;
	char *ts2 = sign1(timestamp_signed(2, EXP, 2, r.snap, r.snap_len), &K_TS, &l2);
	char *ts3 = sign1(timestamp_signed(3, EXP, 1, r.snap, r.snap_len), &K_TS, &l3);
	char *tsold = sign1(timestamp_signed(1, EXP, 1, r.snap, r.snap_len), &K_TS, &lold);
	char *tsexp = sign1(timestamp_signed(4, NOW, 2, r.snap, r.snap_len), &K_TS, &lexp);
	struct fp_tuf_trusted *t = trust(r.root, r.root_len);
	assert_ok(fp_tuf_update_timestamp(t, ts2, l2, NOW, err));
	/* 5.4.3.1: rollback of the timestamp version. */
	assert_rejected(fp_tuf_update_timestamp(t, tsold, lold, NOW, err), FP_ECONFLICT,
	                "timestamp version 1 is lower than the trusted 2 (rollback)");
	/* Equal version: keep what is trusted. */
	assert_rejected(fp_tuf_update_timestamp(t, ts2, l2, NOW, err), FP_EEXIST,
	                "already trusted");
	/* 5.4.3.2: rollback of the snapshot version it names. */
	assert_rejected(fp_tuf_update_timestamp(t, ts3, l3, NOW, err), FP_ECONFLICT,
	                "names snapshot version 1, lower than the trusted 2");
	assert_int_equal(fp_tuf_version(t, FP_TUF_TIMESTAMP), 2);
	/* 5.4.4: expired at the reference time (expires == now). */
	assert_rejected(fp_tuf_update_timestamp(t, tsexp, lexp, NOW, err), FP_EPERM,
	                "new timestamp metadata v4 expired");
	/* An expired timestamp cannot be built on. */
	assert_rejected(fp_tuf_update_snapshot(t, r.snap, r.snap_len, NOW, 0, err), FP_EPERM,
	                "trusted timestamp metadata v4 expired");
	fp_tuf_trusted_free(t);
	free(ts2);
	free(ts3);
	free(tsold);
	free(tsexp);
	repo_free(&r);
}

/* ---- Snapshot (5.5) ----------------------------------------------------------------------------
 */

static void snapshot_rules(void **state)
{
	(void)state;
	struct repo r;
	repo_make(&r);
	struct fp_tuf_trusted *t = trust(r.root, r.root_len);
	assert_ok(fp_tuf_update_timestamp(t, r.ts, r.ts_len, NOW, err));
	/* 5.5.2: length and hash against timestamp's meta. */
	char *longer = malloc(r.snap_len + 1);
	memcpy(longer, r.snap, r.snap_len);
	longer[r.snap_len] = ' ';
	assert_rejected(fp_tuf_update_snapshot(t, longer, r.snap_len + 1, NOW, 0, err), FP_EAUTH,
	                "not the signed");
	free(longer);
	size_t l2;
	char *snap2 = sign1(snapshot_signed(2, EXP, 1), &K_SNAP, &l2);
	assert_rejected(fp_tuf_update_snapshot(t, snap2, l2, NOW, 0, err), FP_EAUTH,
	                "does not match");
	/* 5.5.4 / 5.5.5: a locally stored copy skips the hash, not the version rule. */
	assert_rejected(fp_tuf_update_snapshot(t, snap2, l2, NOW, 1, err), FP_ECONFLICT,
	                "snapshot version 2 is not the version 1 that timestamp names");
	assert_rejected(fp_tuf_update_targets(t, r.targ, r.targ_len, NOW, err), FP_ECONFLICT,
	                "snapshot version 2 is not the version 1");
	fp_tuf_trusted_free(t);
	free(snap2);

	/* 5.5.5: a new snapshot may not drop a role or lower its version. */
	size_t la, lb, lc, lta, ltb, ltc;
	json_t *s = snapshot_signed(3, EXP, 1);
	json_object_set_new(json_object_get(s, "meta"), "role1.json", metafile(5, NULL, 0));
	char *sa = sign1(s, &K_SNAP, &la);
	char *sb = sign1(snapshot_signed(4, EXP, 1), &K_SNAP, &lb);
	s = snapshot_signed(4, EXP, 1);
	json_object_set_new(json_object_get(s, "meta"), "role1.json", metafile(4, NULL, 0));
	char *sc = sign1(s, &K_SNAP, &lc);
	char *ta = sign1(timestamp_signed(3, EXP, 3, sa, la), &K_TS, &lta);
	char *tb = sign1(timestamp_signed(4, EXP, 4, sb, lb), &K_TS, &ltb);
	char *tc = sign1(timestamp_signed(4, EXP, 4, sc, lc), &K_TS, &ltc);
	t = trust(r.root, r.root_len);
	assert_ok(fp_tuf_update_timestamp(t, ta, lta, NOW, err));
	assert_ok(fp_tuf_update_snapshot(t, sa, la, NOW, 0, err));
	fp_tuf_trusted_free(t);
	/* As the client does: stored timestamp and snapshot first, then the new ones. */
	t = trust(r.root, r.root_len);
	assert_ok(fp_tuf_update_timestamp(t, ta, lta, NOW, err));
	assert_ok(fp_tuf_update_timestamp(t, tb, ltb, NOW, err));
	assert_rejected(fp_tuf_update_snapshot(t, sa, la, NOW, 1, err), FP_ECONFLICT,
	                "snapshot version 3 is not the version 4");
	assert_rejected(fp_tuf_update_snapshot(t, sb, lb, NOW, 0, err), FP_ECONFLICT,
	                "no longer lists role1.json");
	fp_tuf_trusted_free(t);
	t = trust(r.root, r.root_len);
	assert_ok(fp_tuf_update_timestamp(t, ta, lta, NOW, err));
	assert_ok(fp_tuf_update_timestamp(t, tc, ltc, NOW, err));
	assert_rejected(fp_tuf_update_snapshot(t, sa, la, NOW, 1, err), FP_ECONFLICT, "version 3");
	assert_rejected(fp_tuf_update_snapshot(t, sc, lc, NOW, 0, err), FP_ECONFLICT,
	                "lists role1.json version 4, lower than the trusted 5");
	fp_tuf_trusted_free(t);
	free(sa);
	free(sb);
	free(sc);
	free(ta);
	free(tb);
	free(tc);

	/* 5.5.6: an expired snapshot. */
	size_t le, lte;
	char *se = sign1(snapshot_signed(1, NOW - 1, 1), &K_SNAP, &le);
	char *te = sign1(timestamp_signed(1, EXP, 1, se, le), &K_TS, &lte);
	t = trust(r.root, r.root_len);
	assert_ok(fp_tuf_update_timestamp(t, te, lte, NOW, err));
	assert_rejected(fp_tuf_update_snapshot(t, se, le, NOW, 0, err), FP_EPERM,
	                "snapshot metadata v1 expired");
	fp_tuf_trusted_free(t);
	free(se);
	free(te);
	repo_free(&r);
}

/* ---- Targets (5.6, 5.7) ------------------------------------------------------------------------
 */

static void targets_rules(void **state)
{
	(void)state;
	struct repo r;
	repo_make(&r);
	size_t l2, lexp;
	char *t2 = sign1(targets_signed(2, EXP), &K_TARG, &l2);
	char *texp = sign1(targets_signed(1, NOW), &K_TARG, &lexp);
	struct fp_tuf_trusted *t = trust(r.root, r.root_len);
	assert_rejected(fp_tuf_update_targets(t, r.targ, r.targ_len, NOW, err), FP_ECONFLICT,
	                "needs a trusted snapshot");
	assert_ok(fp_tuf_update_timestamp(t, r.ts, r.ts_len, NOW, err));
	assert_ok(fp_tuf_update_snapshot(t, r.snap, r.snap_len, NOW, 0, err));
	/* 5.6.4: the version snapshot names. */
	assert_rejected(fp_tuf_update_targets(t, t2, l2, NOW, err), FP_ECONFLICT,
	                "targets version 2 is not the version 1 that snapshot names");
	/* 5.6.5: expiry. */
	assert_rejected(fp_tuf_update_targets(t, texp, lexp, NOW, err), FP_EPERM,
	                "new targets metadata v1 expired");
	assert_ok(fp_tuf_update_targets(t, r.targ, r.targ_len, NOW, err));
	/* 5.7: lookup and the downloaded bytes. */
	struct fp_tuf_target tg;
	assert_ok(fp_tuf_target_get(t, "fw.img", &tg, err));
	assert_int_equal(tg.length, strlen(PAYLOAD));
	assert_string_equal(json_string_value(json_object_get(tg.custom, "hw")), "rev-b");
	assert_ok(fp_tuf_target_verify(&tg, PAYLOAD, strlen(PAYLOAD), err));
	assert_rejected(fp_tuf_target_get(t, "nope", &tg, err), FP_ENOTFOUND, "not in targets");
	fp_tuf_trusted_free(t);
	free(t2);
	free(texp);

	/* Snapshot meta with length and hashes for targets.json is enforced. */
	json_t *s = snapshot_signed(1, EXP, 1);
	json_object_set_new(json_object_get(s, "meta"), "targets.json",
	                    metafile(1, r.targ, r.targ_len - 1));
	size_t ls, lt;
	char *snap = sign1(s, &K_SNAP, &ls);
	char *ts = sign1(timestamp_signed(1, EXP, 1, snap, ls), &K_TS, &lt);
	t = trust(r.root, r.root_len);
	assert_ok(fp_tuf_update_timestamp(t, ts, lt, NOW, err));
	assert_ok(fp_tuf_update_snapshot(t, snap, ls, NOW, 0, err));
	assert_rejected(fp_tuf_update_targets(t, r.targ, r.targ_len, NOW, err), FP_EAUTH,
	                "not the signed");
	fp_tuf_trusted_free(t);
	free(snap);
	free(ts);
	repo_free(&r);
}

static void target_bytes_are_checked(void **state)
{
	(void)state;
	struct fp_tuf_target tg = {.name = "fw.img", .length = (int64_t)strlen(PAYLOAD)};
	tg.hashes.has_sha256 = 1;
	fp_sha256(PAYLOAD, strlen(PAYLOAD), tg.hashes.sha256);
	/* The length lies: shorter and longer files. */
	assert_rejected(fp_tuf_target_verify(&tg, PAYLOAD, strlen(PAYLOAD) - 1, err), FP_EAUTH,
	                "has 20 bytes, not the signed 21");
	assert_rejected(fp_tuf_target_verify(&tg, "firmware image 1.2.3\n!", 22, err), FP_EAUTH,
	                "has 22 bytes, not the signed 21");
	/* Same length, different content. */
	assert_rejected(fp_tuf_target_verify(&tg, "firmware image 1.2.4\n", 21, err), FP_EAUTH,
	                "sha256 does not match");
	/* Streaming: chunks up to the signed length, then one byte more is refused at once. */
	struct fp_tuf_hasher *h;
	assert_ok(fp_tuf_hasher_new(&tg, &h, err));
	assert_ok(fp_tuf_hasher_update(h, PAYLOAD, 10, err));
	assert_ok(fp_tuf_hasher_update(h, PAYLOAD + 10, 11, err));
	assert_rejected(fp_tuf_hasher_update(h, "x", 1, err), FP_ETOOBIG,
	                "more than the signed 21 bytes");
	assert_ok(fp_tuf_hasher_final(h, err));
	fp_tuf_hasher_free(h);
	/* Only an algorithm this library does not compute: cannot be verified. */
	struct fp_tuf_target unk = {.name = "x", .length = 1};
	unk.hashes.n_unknown = 1;
	assert_rejected(fp_tuf_target_verify(&unk, "x", 1, err), FP_EUNSUPP, "cannot be checked");
}

/* ---- Parsing -----------------------------------------------------------------------------------
 */

static void parser_rejects_bad_documents(void **state)
{
	(void)state;
	static const struct {
		enum fp_tuf_role role;
		const char *doc;
		int code;
		const char *reason;
	} cases[] = {
	    {FP_TUF_TIMESTAMP, "{\"signed\":{\"_type\":\"timestamp\"", FP_EINVAL, "line 1"},
	    {FP_TUF_TIMESTAMP, "{\"signatures\":[],\"signatures\":[],\"signed\":{}}", FP_EINVAL,
	     "duplicate"},
	    {FP_TUF_TIMESTAMP,
	     "{\"signatures\":[],\"signed\":{\"_type\":\"snapshot\",\"spec_version\":\"1.0.0\","
	     "\"version\":1,\"expires\":\"2030-01-01T00:00:00Z\",\"meta\":{}}}",
	     FP_EINVAL, "_type is \"snapshot\", expected \"timestamp\""},
	    {FP_TUF_SNAPSHOT,
	     "{\"signatures\":[],\"signed\":{\"_type\":\"snapshot\",\"spec_version\":\"2.0.0\","
	     "\"version\":1,\"expires\":\"2030-01-01T00:00:00Z\",\"meta\":{}}}",
	     FP_EUNSUPP, "spec_version 2.0.0"},
	    {FP_TUF_SNAPSHOT,
	     "{\"signatures\":[],\"signed\":{\"_type\":\"snapshot\",\"spec_version\":\"1.0.0\","
	     "\"version\":0,\"expires\":\"2030-01-01T00:00:00Z\",\"meta\":{}}}",
	     FP_EINVAL, "\"version\" 0 is out of range"},
	    {FP_TUF_SNAPSHOT,
	     "{\"signatures\":[],\"signed\":{\"_type\":\"snapshot\",\"spec_version\":\"1.0.0\","
	     "\"version\":1,\"expires\":\"2030-01-01T00:00:00+01:00\",\"meta\":{}}}",
	     FP_EINVAL, "YYYY-MM-DDTHH:MM:SSZ"},
	    {FP_TUF_SNAPSHOT,
	     "{\"signatures\":[],\"signed\":{\"_type\":\"snapshot\",\"spec_version\":\"1.0.0\","
	     "\"version\":1.0,\"expires\":\"2030-01-01T00:00:00Z\",\"meta\":{}}}",
	     FP_EINVAL, "integer"},
	    {FP_TUF_TIMESTAMP,
	     "{\"signatures\":[],\"signed\":{\"_type\":\"timestamp\",\"spec_version\":\"1.0.0\","
	     "\"version\":1,\"expires\":\"2030-01-01T00:00:00Z\",\"meta\":{}}}",
	     FP_EINVAL, "no snapshot.json"},
	    {FP_TUF_TARGETS,
	     "{\"signatures\":[],\"signed\":{\"_type\":\"targets\",\"spec_version\":\"1.0.0\","
	     "\"version\":1,\"expires\":\"2030-01-01T00:00:00Z\",\"targets\":{\"a\":{\"length\":"
	     "-1,\"hashes\":{\"sha256\":\"00\"}}}}}",
	     FP_EINVAL, "target a: a: \"length\" -1 is out of range"},
	    {FP_TUF_TARGETS,
	     "{\"signatures\":[],\"signed\":{\"_type\":\"targets\",\"spec_version\":\"1.0.0\","
	     "\"version\":1,\"expires\":\"2030-01-01T00:00:00Z\",\"targets\":{\"a\":{\"length\":"
	     "1,\"hashes\":{}}}}}",
	     FP_EINVAL, "non-empty"},
	    {FP_TUF_ROOT,
	     "{\"signatures\":[],\"signed\":{\"_type\":\"root\",\"spec_version\":\"1.0.0\","
	     "\"version\":1,\"expires\":\"2030-01-01T00:00:00Z\",\"keys\":{},\"roles\":{}}}",
	     FP_EINVAL, "exactly root, timestamp, snapshot and targets"},
	    {FP_TUF_ROOT, "{\"signatures\":[{\"keyid\":\"a\"}],\"signed\":{}}", FP_EINVAL,
	     "string \"keyid\" and \"sig\""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fp_err err = {0};
		int rc = fp_tuf_parse(cases[i].role, cases[i].doc, strlen(cases[i].doc), NULL, NULL,
		                      &err);
		if (rc != cases[i].code || !strstr(err.msg, cases[i].reason))
			fail_msg("case %zu: rc %d, message \"%s\" (want \"%s\")", i, rc, err.msg,
			         cases[i].reason);
	}
}

static void parser_caps_document_size(void **state)
{
	(void)state;
	struct repo r;
	repo_make(&r);
	/* A timestamp padded with whitespace to one byte over its cap, then to the cap. */
	char *big = malloc(FP_TUF_TIMESTAMP_MAX + 1);
	memset(big, ' ', FP_TUF_TIMESTAMP_MAX + 1);
	memcpy(big, r.ts, r.ts_len);
	struct fp_tuf_trusted *t = trust(r.root, r.root_len);
	assert_rejected(fp_tuf_update_timestamp(t, big, FP_TUF_TIMESTAMP_MAX + 1, NOW, err),
	                FP_ETOOBIG, "exceeds the cap of 16384");
	assert_ok(fp_tuf_update_timestamp(t, big, FP_TUF_TIMESTAMP_MAX, NOW, err));
	fp_tuf_trusted_free(t);
	free(big);
	repo_free(&r);
}

static void non_canonical_input_verifies_only_over_canonical_form(void **state)
{
	(void)state;
	struct repo r;
	repo_make(&r);
	/* Re-indent the timestamp with jansson: different bytes, same value, still valid. */
	json_t *v = json_loadb(r.ts, r.ts_len, 0, NULL);
	char *pretty = json_dumps(v, JSON_INDENT(3));
	struct fp_tuf_trusted *t = trust(r.root, r.root_len);
	assert_ok(fp_tuf_update_timestamp(t, pretty, strlen(pretty), NOW, err));
	fp_tuf_trusted_free(t);
	free(pretty);
	/* A signature over a non-canonical serialization of "signed" is not valid. */
	json_t *md;
	assert_ok(fp_tuf_envelope(timestamp_signed(1, EXP, 1, r.snap, r.snap_len), &md, err));
	char *loose = json_dumps(json_object_get(md, "signed"), JSON_INDENT(1));
	char *sig = NULL;
	EVP_PKEY *pk = NULL;
	BIO *bio = BIO_new_mem_buf(K_TS.priv, -1);
	pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t raw[64];
	size_t rawlen = sizeof(raw);
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, NULL, NULL, pk), 1);
	assert_int_equal(EVP_DigestSign(ctx, raw, &rawlen, (const uint8_t *)loose, strlen(loose)),
	                 1);
	sig = malloc(129);
	for (size_t i = 0; i < 64; i++)
		snprintf(sig + 2 * i, 3, "%02x", raw[i]);
	json_array_append_new(json_object_get(md, "signatures"),
	                      json_pack("{s:s,s:s}", "keyid", K_TS.id, "sig", sig));
	char *bytes;
	size_t len;
	assert_ok(fp_tuf_serialize(md, &bytes, &len, err));
	t = trust(r.root, r.root_len);
	assert_rejected(fp_tuf_update_timestamp(t, bytes, len, NOW, err), FP_EAUTH,
	                "threshold 1 (1 signatures did not verify");
	fp_tuf_trusted_free(t);
	free(bytes);
	free(sig);
	free(loose);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	BIO_free(bio);
	json_decref(md);
	json_decref(v);
	repo_free(&r);
}

static void delegations_are_accepted_and_ignored(void **state)
{
	(void)state;
	size_t gl;
	char *targ = fixture("metadata/targets.json", &gl);
	int64_t version, expires;
	assert_ok(fp_tuf_parse(FP_TUF_TARGETS, targ, gl, &version, &expires, err));
	assert_int_equal(version, 1);
	assert_int_equal(expires, INT64_C(1893456000));
	free(targ);
}

static void times_round_trip(void **state)
{
	(void)state;
	char s[21];
	int64_t t;
	assert_ok(fp_tuf_time_format(0, s, err));
	assert_string_equal(s, "1970-01-01T00:00:00Z");
	assert_ok(fp_tuf_time_parse("2024-02-29T23:59:59Z", &t, err));
	assert_int_equal(t, INT64_C(1709251199));
	assert_rejected(fp_tuf_time_parse("2023-02-29T00:00:00Z", &t, err), FP_EINVAL, "form");
	assert_rejected(fp_tuf_time_parse("2023-01-01 00:00:00Z", &t, err), FP_EINVAL, "form");
	assert_rejected(fp_tuf_time_parse("2023-01-01T24:00:00Z", &t, err), FP_EINVAL, "form");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(python_tuf_repository_verifies),
	    cmocka_unit_test(python_tuf_key_ids_are_sha256_of_canonical_key),
	    cmocka_unit_test(python_tuf_expired_root_and_tampering),
	    cmocka_unit_test(key_objects_and_ids),
	    cmocka_unit_test(every_key_type_signs_and_verifies),
	    cmocka_unit_test(signing_twice_replaces_the_signature),
	    cmocka_unit_test(unknown_key_type_never_counts),
	    cmocka_unit_test(threshold_counts_each_key_once),
	    cmocka_unit_test(signature_by_wrong_role_is_rejected),
	    cmocka_unit_test(root_rotation_chain),
	    cmocka_unit_test(fast_forward_recovery_after_key_rotation),
	    cmocka_unit_test(timestamp_rules),
	    cmocka_unit_test(snapshot_rules),
	    cmocka_unit_test(targets_rules),
	    cmocka_unit_test(target_bytes_are_checked),
	    cmocka_unit_test(parser_rejects_bad_documents),
	    cmocka_unit_test(parser_caps_document_size),
	    cmocka_unit_test(non_canonical_input_verifies_only_over_canonical_form),
	    cmocka_unit_test(delegations_are_accepted_and_ignored),
	    cmocka_unit_test(times_round_trip),
	};
	return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
