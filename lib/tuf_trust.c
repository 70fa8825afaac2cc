/*
 * tuf_trust.c — the client's trusted metadata set: the detailed client
 * workflow of TUF 1.0.x, section 5, without I/O (see tuf.h).
 *
 * The set holds at most one document per top-level role and only ever moves
 * forward: root, then timestamp, then snapshot, then targets. Like python-tuf's
 * TrustedMetadataSet, an intermediate timestamp or snapshot that verifies but
 * has expired (or a snapshot whose version does not match the timestamp) is
 * kept for rollback protection of the next one while the call still fails;
 * the next step then refuses to build on it. Fast-forward recovery (5.3.11)
 * follows from the order: a stored timestamp or snapshot is loaded only after
 * the root chain, so one signed by rotated-out keys no longer verifies and
 * is not trusted.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "fleetpatch/secret.h"
#include "tuf_int.h"

struct fp_tuf_trusted {
	struct fp__tuf_doc root;
	struct fp__tuf_doc timestamp;
	struct fp__tuf_doc snapshot;
	struct fp__tuf_doc targets;
};

static int loaded(const struct fp__tuf_doc *d)
{
	return d->doc != NULL;
}

/* True when two key objects hold the same key, whatever their key ids say. */
static int same_key(const json_t *a, const json_t *b)
{
	const char *ta = json_string_value(json_object_get(a, "keytype"));
	const char *tb = json_string_value(json_object_get(b, "keytype"));
	const char *pa = json_string_value(json_object_get(json_object_get(a, "keyval"), "public"));
	const char *pb = json_string_value(json_object_get(json_object_get(b, "keyval"), "public"));
	return ta && tb && pa && pb && strcmp(ta, tb) == 0 && strcmp(pa, pb) == 0;
}

/*
 * Checks that d is signed by a threshold of the keys that the root document
 * delegator assigns to role. Each key counts once: a key listed under two
 * key ids, or a signature repeated, adds nothing.
 */
static int verify_threshold(const struct fp__tuf_doc *delegator, const char *role,
                            const struct fp__tuf_doc *d, struct fp_err *err)
{
	json_t *r = json_object_get(json_object_get(delegator->signed_part, "roles"), role);
	json_t *ids = json_object_get(r, "keyids");
	json_t *keys = json_object_get(delegator->signed_part, "keys");
	int64_t threshold = json_integer_value(json_object_get(r, "threshold"));
	const json_t *counted[FP_TUF_ROLE_KEYIDS_MAX];
	size_t n = 0, unsupported = 0, bad = 0;

	for (size_t i = 0; i < json_array_size(d->sigs); i++) {
		json_t *s = json_array_get(d->sigs, i);
		const char *id = json_string_value(json_object_get(s, "keyid"));
		int listed = 0;
		for (size_t j = 0; j < json_array_size(ids) && !listed; j++)
			listed = strcmp(id, json_string_value(json_array_get(ids, j))) == 0;
		json_t *key = listed ? json_object_get(keys, id) : NULL;
		if (!key)
			continue;
		int dup = 0;
		for (size_t j = 0; j < n && !dup; j++)
			dup = same_key(counted[j], key);
		if (dup)
			continue;
		int rc = fp_tuf_verify_sig(key, d->canon, d->canon_len,
		                           json_string_value(json_object_get(s, "sig")), NULL);
		if (rc == FP_EUNSUPP)
			unsupported++;
		else if (rc)
			bad++;
		else if (n < FP_TUF_ROLE_KEYIDS_MAX)
			counted[n++] = key;
	}
	if ((int64_t)n >= threshold)
		return 0;
	return fp_err_set(err, FP_EAUTH,
	                  "%s metadata has %zu valid signatures by %s keys of root v%" PRId64
	                  ", threshold %" PRId64 " (%zu signatures did not verify, %zu by keys of "
	                  "an unknown key type)",
	                  fp_tuf_role_name(d->role), n, role, delegator->version, threshold, bad,
	                  unsupported);
}

int fp_tuf_trusted_new(const void *root, size_t len, struct fp_tuf_trusted **out,
                       struct fp_err *err)
{
	*out = NULL;
	struct fp_tuf_trusted *t = calloc(1, sizeof(*t));
	if (!t)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	int rc = fp__tuf_doc_parse(FP_TUF_ROOT, root, len, &t->root, err);
	if (rc == 0)
		rc = verify_threshold(&t->root, "root", &t->root, err);
	if (rc) {
		fp_tuf_trusted_free(t);
		return fp__tuf_err_prefix(err, rc, "trusted root", "rejected");
	}
	*out = t;
	return 0;
}

void fp_tuf_trusted_free(struct fp_tuf_trusted *t)
{
	if (!t)
		return;
	fp__tuf_doc_free(&t->root);
	fp__tuf_doc_free(&t->timestamp);
	fp__tuf_doc_free(&t->snapshot);
	fp__tuf_doc_free(&t->targets);
	free(t);
}

int fp_tuf_update_root(struct fp_tuf_trusted *t, const void *data, size_t len, struct fp_err *err)
{
	struct fp__tuf_doc d;
	if (loaded(&t->timestamp))
		return fp_err_set(err, FP_ECONFLICT, "root cannot be updated after timestamp");
	int rc = fp__tuf_doc_parse(FP_TUF_ROOT, data, len, &d, err);
	if (rc)
		return rc;
	/* 5.3.5: signed by a threshold of the trusted root's root keys ... */
	rc = verify_threshold(&t->root, "root", &d, err);
	if (rc)
		goto out;
	/* ... and of its own root keys. */
	rc = verify_threshold(&d, "root", &d, err);
	if (rc)
		goto out;
	/* 5.3.6: exactly the next version. */
	if (d.version != t->root.version + 1) {
		rc = fp_err_set(err, FP_ECONFLICT,
		                "root version %" PRId64 " is not the expected %" PRId64
		                " (rollback or skipped version)",
		                d.version, t->root.version + 1);
		goto out;
	}
	fp__tuf_doc_free(&t->root);
	t->root = d;
	return 0;
out:
	fp__tuf_doc_free(&d);
	return rc;
}

static int check_expiry(const struct fp__tuf_doc *d, int64_t now, const char *which,
                        struct fp_err *err)
{
	if (now < d->expires)
		return 0;
	char when[21] = "?";
	if (fp_tuf_time_format(d->expires, when, NULL) != 0)
		snprintf(when, sizeof(when), "?");
	return fp_err_set(err, FP_EPERM, "%s%s metadata v%" PRId64 " expired at %s", which,
	                  fp_tuf_role_name(d->role), d->version, when);
}

static json_t *meta_entry(const struct fp__tuf_doc *d, const char *name)
{
	return json_object_get(json_object_get(d->signed_part, "meta"), name);
}

int fp_tuf_update_timestamp(struct fp_tuf_trusted *t, const void *data, size_t len, int64_t now,
                            struct fp_err *err)
{
	struct fp__tuf_doc d;
	struct fp_tuf_metafile oldm, newm;
	if (loaded(&t->snapshot))
		return fp_err_set(err, FP_ECONFLICT, "timestamp cannot be updated after snapshot");
	/* 5.3.10: the final root must not have expired. */
	int rc = check_expiry(&t->root, now, "trusted ", err);
	if (rc)
		return rc;
	rc = fp__tuf_doc_parse(FP_TUF_TIMESTAMP, data, len, &d, err);
	if (rc)
		return rc;
	rc = verify_threshold(&t->root, "timestamp", &d, err);
	if (rc)
		goto out;
	if (loaded(&t->timestamp)) {
		/* 5.4.3: no rollback of timestamp; an equal version changes nothing. */
		if (d.version < t->timestamp.version) {
			rc = fp_err_set(err, FP_ECONFLICT,
			                "timestamp version %" PRId64 " is lower than the trusted "
			                "%" PRId64 " (rollback)",
			                d.version, t->timestamp.version);
			goto out;
		}
		if (d.version == t->timestamp.version) {
			rc = fp_err_set(err, FP_EEXIST,
			                "timestamp version %" PRId64 " is already trusted",
			                d.version);
			goto out;
		}
		/* 5.4.3.2: no rollback of the snapshot version it names. */
		if (fp__tuf_metafile_read(meta_entry(&t->timestamp, "snapshot.json"), &oldm, err) !=
		        0 ||
		    fp__tuf_metafile_read(meta_entry(&d, "snapshot.json"), &newm, err) != 0) {
			rc = FP_EINVAL;
			goto out;
		}
		if (newm.version < oldm.version) {
			rc = fp_err_set(err, FP_ECONFLICT,
			                "timestamp names snapshot version %" PRId64
			                ", lower than the trusted %" PRId64 " (rollback)",
			                newm.version, oldm.version);
			goto out;
		}
	}
	fp__tuf_doc_free(&t->timestamp);
	t->timestamp = d;
	/* 5.4.4: kept for rollback protection even when expired, but not usable. */
	return check_expiry(&t->timestamp, now, "new ", err);
out:
	fp__tuf_doc_free(&d);
	return rc;
}

/* The checks a snapshot must pass before targets may build on it (5.5.5, 5.5.6). */
static int check_final_snapshot(const struct fp_tuf_trusted *t, int64_t now, struct fp_err *err)
{
	struct fp_tuf_metafile m;
	int rc = check_expiry(&t->snapshot, now, "", err);
	if (rc)
		return rc;
	rc = fp__tuf_metafile_read(meta_entry(&t->timestamp, "snapshot.json"), &m, err);
	if (rc)
		return rc;
	if (t->snapshot.version != m.version)
		return fp_err_set(err, FP_ECONFLICT,
		                  "snapshot version %" PRId64 " is not the version %" PRId64
		                  " that timestamp names",
		                  t->snapshot.version, m.version);
	return 0;
}

int fp_tuf_update_snapshot(struct fp_tuf_trusted *t, const void *data, size_t len, int64_t now,
                           int from_local, struct fp_err *err)
{
	struct fp__tuf_doc d;
	struct fp_tuf_metafile m;
	const char *name;
	json_t *old;
	if (!loaded(&t->timestamp))
		return fp_err_set(err, FP_ECONFLICT, "snapshot needs a trusted timestamp first");
	if (loaded(&t->targets))
		return fp_err_set(err, FP_ECONFLICT, "snapshot cannot be updated after targets");
	int rc = check_expiry(&t->timestamp, now, "trusted ", err);
	if (rc)
		return rc;
	/* 5.5.2: the bytes must be those the timestamp describes. */
	rc = fp__tuf_metafile_read(meta_entry(&t->timestamp, "snapshot.json"), &m, err);
	if (rc == 0 && !from_local)
		rc = fp_tuf_metafile_verify(&m, data, len, "snapshot", err);
	if (rc)
		return rc;
	rc = fp__tuf_doc_parse(FP_TUF_SNAPSHOT, data, len, &d, err);
	if (rc)
		return rc;
	rc = verify_threshold(&t->root, "snapshot", &d, err);
	if (rc)
		goto out;
	/* 5.5.5: no role may disappear or go back in version. */
	if (loaded(&t->snapshot)) {
		json_object_foreach(json_object_get(t->snapshot.signed_part, "meta"), name, old)
		{
			struct fp_tuf_metafile o, n;
			json_t *nj = meta_entry(&d, name);
			if (!nj) {
				rc = fp_err_set(err, FP_ECONFLICT,
				                "new snapshot no longer lists %.64s (rollback)",
				                name);
				goto out;
			}
			if (fp__tuf_metafile_read(old, &o, err) != 0 ||
			    fp__tuf_metafile_read(nj, &n, err) != 0) {
				rc = FP_EINVAL;
				goto out;
			}
			if (n.version < o.version) {
				rc = fp_err_set(err, FP_ECONFLICT,
				                "new snapshot lists %.64s version %" PRId64
				                ", lower than the trusted %" PRId64 " (rollback)",
				                name, n.version, o.version);
				goto out;
			}
		}
	}
	fp__tuf_doc_free(&t->snapshot);
	t->snapshot = d;
	return check_final_snapshot(t, now, err);
out:
	fp__tuf_doc_free(&d);
	return rc;
}

int fp_tuf_update_targets(struct fp_tuf_trusted *t, const void *data, size_t len, int64_t now,
                          struct fp_err *err)
{
	struct fp__tuf_doc d;
	struct fp_tuf_metafile m;
	if (!loaded(&t->snapshot))
		return fp_err_set(err, FP_ECONFLICT, "targets needs a trusted snapshot first");
	int rc = check_final_snapshot(t, now, err);
	if (rc)
		return rc;
	rc = fp_tuf_expected_meta(t, FP_TUF_TARGETS, &m, err);
	if (rc)
		return rc;
	/* 5.6.2: the bytes must be those the snapshot describes. */
	rc = fp_tuf_metafile_verify(&m, data, len, "targets", err);
	if (rc)
		return rc;
	rc = fp__tuf_doc_parse(FP_TUF_TARGETS, data, len, &d, err);
	if (rc)
		return rc;
	rc = verify_threshold(&t->root, "targets", &d, err);
	if (rc)
		goto out;
	/* 5.6.4: exactly the version the snapshot names. */
	if (d.version != m.version) {
		rc = fp_err_set(err, FP_ECONFLICT,
		                "targets version %" PRId64 " is not the version %" PRId64
		                " that snapshot names",
		                d.version, m.version);
		goto out;
	}
	/* 5.6.5: not expired. */
	rc = check_expiry(&d, now, "new ", err);
	if (rc)
		goto out;
	fp__tuf_doc_free(&t->targets);
	t->targets = d;
	return 0;
out:
	fp__tuf_doc_free(&d);
	return rc;
}

int64_t fp_tuf_version(const struct fp_tuf_trusted *t, enum fp_tuf_role role)
{
	switch (role) {
	case FP_TUF_ROOT: return t->root.version;
	case FP_TUF_TIMESTAMP: return t->timestamp.version;
	case FP_TUF_SNAPSHOT: return t->snapshot.version;
	case FP_TUF_TARGETS: return t->targets.version;
	}
	return 0;
}

int fp_tuf_consistent_snapshot(const struct fp_tuf_trusted *t)
{
	return json_is_true(json_object_get(t->root.signed_part, "consistent_snapshot"));
}

int fp_tuf_expected_meta(const struct fp_tuf_trusted *t, enum fp_tuf_role role,
                         struct fp_tuf_metafile *out, struct fp_err *err)
{
	json_t *m = NULL;
	if (role == FP_TUF_SNAPSHOT && loaded(&t->timestamp))
		m = meta_entry(&t->timestamp, "snapshot.json");
	else if (role == FP_TUF_TARGETS && loaded(&t->snapshot))
		m = meta_entry(&t->snapshot, "targets.json");
	if (!m)
		return fp_err_set(err, FP_ENOTFOUND, "no trusted metadata lists %s.json",
		                  fp_tuf_role_name(role));
	return fp__tuf_metafile_read(m, out, err);
}

int fp_tuf_target_get(const struct fp_tuf_trusted *t, const char *name, struct fp_tuf_target *out,
                      struct fp_err *err)
{
	int rc;
	memset(out, 0, sizeof(*out));
	if (!loaded(&t->targets))
		return fp_err_set(err, FP_ECONFLICT, "targets metadata is not loaded");
	json_t *tj = json_object_get(json_object_get(t->targets.signed_part, "targets"), name);
	if (!tj)
		return fp_err_set(err, FP_ENOTFOUND, "target %.200s is not in targets metadata",
		                  name);
	out->name = json_object_iter_key(
	    json_object_iter_at(json_object_get(t->targets.signed_part, "targets"), name));
	out->length = json_integer_value(json_object_get(tj, "length"));
	out->custom = json_object_get(tj, "custom");
	rc = fp__tuf_hashes_read(json_object_get(tj, "hashes"), &out->hashes, err);
	return rc;
}

/* ---- Hashes and lengths -------------------------------------------------------------------- */

struct fp_tuf_hasher {
	EVP_MD_CTX *sha256;
	EVP_MD_CTX *sha512;
	struct fp_tuf_hashes want;
	int64_t length; /* -1: not listed */
	int64_t seen;
	char what[80];
};

void fp_tuf_hasher_free(struct fp_tuf_hasher *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->sha256);
	EVP_MD_CTX_free(h->sha512);
	free(h);
}

static int hasher_new(const struct fp_tuf_hashes *hs, int64_t length, const char *what,
                      struct fp_tuf_hasher **out, struct fp_err *err)
{
	*out = NULL;
	struct fp_tuf_hasher *h = calloc(1, sizeof(*h));
	if (!h)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	if (hs)
		h->want = *hs;
	h->length = length;
	snprintf(h->what, sizeof(h->what), "%s", what);
	if ((h->want.has_sha256 && (!(h->sha256 = EVP_MD_CTX_new()) ||
	                            !EVP_DigestInit_ex(h->sha256, EVP_sha256(), NULL))) ||
	    (h->want.has_sha512 && (!(h->sha512 = EVP_MD_CTX_new()) ||
	                            !EVP_DigestInit_ex(h->sha512, EVP_sha512(), NULL)))) {
		fp_tuf_hasher_free(h);
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	}
	*out = h;
	return 0;
}

int fp_tuf_hasher_new(const struct fp_tuf_target *tg, struct fp_tuf_hasher **out,
                      struct fp_err *err)
{
	char what[80];
	snprintf(what, sizeof(what), "target %.64s", tg->name ? tg->name : "");
	if (tg->hashes.n_unknown || (!tg->hashes.has_sha256 && !tg->hashes.has_sha512))
		return fp_err_set(
		    err, FP_EUNSUPP,
		    "%s lists a hash that cannot be checked (only lowercase hex sha256 "
		    "and sha512 are known)",
		    what);
	return hasher_new(&tg->hashes, tg->length, what, out, err);
}

int fp_tuf_hasher_update(struct fp_tuf_hasher *h, const void *data, size_t n, struct fp_err *err)
{
	if (h->length >= 0 && (uint64_t)n > (uint64_t)(h->length - h->seen))
		return fp_err_set(err, FP_ETOOBIG, "%s: more than the signed %" PRId64 " bytes",
		                  h->what, h->length);
	h->seen += (int64_t)n;
	if ((h->sha256 && !EVP_DigestUpdate(h->sha256, data, n)) ||
	    (h->sha512 && !EVP_DigestUpdate(h->sha512, data, n)))
		return fp_err_set(err, FP_ECRYPTO, "hashing failed");
	return 0;
}

int fp_tuf_hasher_final(struct fp_tuf_hasher *h, struct fp_err *err)
{
	uint8_t d256[32], d512[64];
	if (h->length >= 0 && h->seen != h->length)
		return fp_err_set(err, FP_EAUTH,
		                  "%s has %" PRId64 " bytes, not the signed %" PRId64, h->what,
		                  h->seen, h->length);
	if (h->sha256 && (!EVP_DigestFinal_ex(h->sha256, d256, NULL) ||
	                  !fp_ct_equal(d256, h->want.sha256, sizeof(d256))))
		return fp_err_set(err, FP_EAUTH, "%s: sha256 does not match the signed hash",
		                  h->what);
	if (h->sha512 && (!EVP_DigestFinal_ex(h->sha512, d512, NULL) ||
	                  !fp_ct_equal(d512, h->want.sha512, sizeof(d512))))
		return fp_err_set(err, FP_EAUTH, "%s: sha512 does not match the signed hash",
		                  h->what);
	return 0;
}

static int verify_whole(struct fp_tuf_hasher *h, const void *data, size_t n, struct fp_err *err)
{
	int rc = fp_tuf_hasher_update(h, data, n, err);
	if (rc == FP_ETOOBIG)
		rc = fp_err_set(err, FP_EAUTH, "%s has %zu bytes, not the signed %" PRId64, h->what,
		                n, h->length);
	if (rc == 0)
		rc = fp_tuf_hasher_final(h, err);
	fp_tuf_hasher_free(h);
	return rc;
}

int fp_tuf_target_verify(const struct fp_tuf_target *tg, const void *data, size_t n,
                         struct fp_err *err)
{
	struct fp_tuf_hasher *h;
	int rc = fp_tuf_hasher_new(tg, &h, err);
	return rc ? rc : verify_whole(h, data, n, err);
}

int fp_tuf_metafile_verify(const struct fp_tuf_metafile *m, const void *data, size_t n,
                           const char *what, struct fp_err *err)
{
	struct fp_tuf_hasher *h;
	if (m->has_hashes && m->hashes.n_unknown)
		return fp_err_set(err, FP_EUNSUPP,
		                  "%s: the signed meta lists a hash that cannot be checked", what);
	int rc = hasher_new(m->has_hashes ? &m->hashes : NULL, m->length, what, &h, err);
	return rc ? rc : verify_whole(h, data, n, err);
}
