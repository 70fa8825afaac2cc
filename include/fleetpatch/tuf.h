/*
 * tuf.h — The Update Framework (TUF 1.0) metadata: keys, signing, parsing and
 * the client's trusted set.
 *
 * This is the pure core of fleetpatch's signed releases. It implements the
 * top-level roles (root, timestamp, snapshot, targets) and the "detailed
 * client workflow" of the TUF specification 1.0.x (section 5) with no I/O and
 * no clock reads: the caller fetches bytes, passes them in with the current
 * time, and stores what was accepted. Delegated targets roles are parsed and
 * ignored for now: a targets document with "delegations" is accepted, but
 * targets are looked up in the top-level targets role only.
 *
 * Metadata is the TUF JSON form {"signed": {...}, "signatures": [...]}; each
 * signature is over the canonical JSON (cjson.h) of "signed". Key types:
 *   ed25519 / ed25519                          keyval.public: 64 hex digits
 *   ecdsa (or ecdsa-sha2-nistp256) / ecdsa-sha2-nistp256
 *                                              keyval.public: PEM, sig: hex DER
 *   rsa / rsassa-pss-sha256                    keyval.public: PEM (2048..8192 bits)
 * Signatures are hex. Keys of other types may appear in metadata; they simply
 * never count towards a threshold.
 *
 * Error codes used throughout: FP_EINVAL malformed metadata; FP_ETOOBIG over a
 * cap; FP_EAUTH a threshold of valid signatures is missing, or a hash or
 * length does not match; FP_ECONFLICT a version rule is broken (rollback,
 * wrong version); FP_EPERM the metadata has expired; FP_EUNSUPP an unknown
 * key type or hash algorithm was needed. Every failure also writes a sentence
 * to err naming the role and the rule.
 */
#ifndef FLEETPATCH_TUF_H
#define FLEETPATCH_TUF_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fleetpatch/err.h"

/* Caps on metadata documents, in bytes (python-tuf's client defaults). */
#define FP_TUF_ROOT_MAX      512000
#define FP_TUF_TIMESTAMP_MAX 16384
#define FP_TUF_SNAPSHOT_MAX  2000000
#define FP_TUF_TARGETS_MAX   5000000

/* Caps on counts inside a document. */
#define FP_TUF_KEYS_MAX           64     /* keys in root (and in targets' delegations) */
#define FP_TUF_ROLE_KEYIDS_MAX    64     /* keyids of one role; a threshold is at most this */
#define FP_TUF_SIGS_MAX           64     /* entries in "signatures" */
#define FP_TUF_META_ENTRIES_MAX   10000  /* entries in snapshot's "meta" */
#define FP_TUF_TARGETS_COUNT_MAX  100000 /* entries in targets' "targets" */
#define FP_TUF_HASHES_MAX         8      /* hash algorithms listed for one file */
#define FP_TUF_NAME_MAX           1024   /* bytes of a target path or role file name */
#define FP_TUF_ROOT_ROTATIONS_MAX 256    /* root versions a client fetches in one refresh */
#define FP_TUF_TARGET_LENGTH_MAX  (INT64_C(1) << 40) /* bytes of one target */

#define FP_TUF_KEYID_LEN  64 /* hex digits of a key id (SHA-256) */
#define FP_TUF_SHA256_LEN 32
#define FP_TUF_SHA512_LEN 64

enum fp_tuf_role {
	FP_TUF_ROOT,
	FP_TUF_TIMESTAMP,
	FP_TUF_SNAPSHOT,
	FP_TUF_TARGETS,
};

/* "root", "timestamp", "snapshot" or "targets". */
const char *fp_tuf_role_name(enum fp_tuf_role role);

/* ---- Keys and signatures ---------------------------------------------------------------- */

/*
 * Makes a TUF key object from a PEM "PUBLIC KEY": ed25519 becomes
 * {"keytype":"ed25519","scheme":"ed25519","keyval":{"public":"<hex>"}}, EC
 * P-256 {"keytype":"ecdsa","scheme":"ecdsa-sha2-nistp256","keyval":{"public":
 * "<PEM>"}}, RSA {"keytype":"rsa","scheme":"rsassa-pss-sha256",...}; the PEM
 * is written without a trailing newline, as securesystemslib does. Writes the
 * key id (fp_tuf_keyid()). Caller owns *key (json_decref()).
 */
int fp_tuf_key_from_pem(const char *pub_pem, json_t **key, char keyid[FP_TUF_KEYID_LEN + 1],
                        struct fp_err *err) FP_WUR;

/* The key id of a key object: lowercase SHA-256 hex of its canonical JSON. */
int fp_tuf_keyid(const json_t *key, char keyid[FP_TUF_KEYID_LEN + 1], struct fp_err *err) FP_WUR;

/*
 * Checks the hex signature sig_hex over the n bytes at msg with the TUF key
 * object key. 0 if valid; FP_EAUTH if not; FP_EUNSUPP for a key type or
 * scheme this library does not know; FP_EINVAL for a malformed key or
 * signature encoding.
 */
int fp_tuf_verify_sig(const json_t *key, const void *msg, size_t n, const char *sig_hex,
                      struct fp_err *err) FP_WUR;

/*
 * Signs the "signed" object of the metadata document md with the unencrypted
 * PEM private key priv_pem (ed25519, ECDSA P-256 or RSA with RSASSA-PSS and
 * SHA-256) over its canonical JSON, and puts {"keyid","sig"} into
 * md["signatures"], replacing an entry with the same key id or appending one.
 * The key id is that of fp_tuf_key_from_pem() for the key's public half and
 * is written to keyid when keyid is not NULL. md is modified in place.
 */
int fp_tuf_sign(json_t *md, const char *priv_pem, char keyid[FP_TUF_KEYID_LEN + 1],
                struct fp_err *err) FP_WUR;

/* ---- Building and serializing ------------------------------------------------------------- */

/* Formats Unix time t as TUF's "YYYY-MM-DDTHH:MM:SSZ" (years 1970..9999). */
int fp_tuf_time_format(int64_t t, char out[21], struct fp_err *err) FP_WUR;

/* Parses "YYYY-MM-DDTHH:MM:SSZ" strictly into Unix time. */
int fp_tuf_time_parse(const char *s, int64_t *t, struct fp_err *err) FP_WUR;

/*
 * Wraps signed_part into a new metadata document {"signatures":[],"signed":
 * signed_part}. Steals the reference to signed_part (also on failure).
 * Caller owns *md. A "signed" skeleton for a role is
 *   {"_type": role, "spec_version": "1.0.31", "version": V, "expires": T, ...}.
 */
int fp_tuf_envelope(json_t *signed_part, json_t **md, struct fp_err *err) FP_WUR;

/*
 * Serializes a metadata document for storing and serving: compact JSON with
 * sorted keys and standard escapes (as python-tuf writes it). This is not
 * the canonical form: canonical JSON writes control characters such as the
 * newlines of PEM keys raw, which JSON parsers reject. Signatures are always
 * over the canonical form of "signed" (fp_tuf_sign()). Caller frees *out.
 */
int fp_tuf_serialize(const json_t *md, char **out, size_t *len, struct fp_err *err) FP_WUR;

/* ---- Parsing ------------------------------------------------------------------------------ */

/* The hashes of a file as TUF lists them; algorithms other than sha256 and sha512 are noted. */
struct fp_tuf_hashes {
	int has_sha256;
	int has_sha512;
	int n_unknown; /* other algorithms listed; a file with only those cannot be verified */
	uint8_t sha256[FP_TUF_SHA256_LEN];
	uint8_t sha512[FP_TUF_SHA512_LEN];
};

/* A "meta" entry of timestamp or snapshot (METAFILES). */
struct fp_tuf_metafile {
	int64_t version;
	int64_t length; /* -1 when absent */
	int has_hashes;
	struct fp_tuf_hashes hashes;
};

/* A target as listed in targets metadata. Borrows from the trusted set it came from. */
struct fp_tuf_target {
	const char *name;
	int64_t length;
	struct fp_tuf_hashes hashes;
	const json_t *custom; /* NULL when absent */
};

/*
 * Parses and validates one metadata document of the given role (structure,
 * _type, spec_version 1.x, version >= 1, expires, keys, roles, thresholds,
 * meta, targets, hashes; the document size cap of the role) without checking
 * signatures, version rules or expiry. This is the parser the trusted set
 * uses and what the metadata fuzz target drives. On success *version and
 * *expires receive the document's values (either may be NULL).
 */
int fp_tuf_parse(enum fp_tuf_role role, const void *data, size_t len, int64_t *version,
                 int64_t *expires, struct fp_err *err) FP_WUR;

/* ---- The trusted set (client workflow, spec 1.0 section 5) -------------------------------- */

struct fp_tuf_trusted;

/*
 * Starts a trusted set from the bytes of a trusted root (5.2): it must parse
 * and be signed by a threshold of its own root keys. Its expiry is not
 * checked here (5.3.10 checks the final root). Caller frees with
 * fp_tuf_trusted_free().
 */
int fp_tuf_trusted_new(const void *root, size_t len, struct fp_tuf_trusted **out,
                       struct fp_err *err) FP_WUR;

void fp_tuf_trusted_free(struct fp_tuf_trusted *t);

/*
 * Root rotation N -> N+1 (5.3.4..5.3.9): data must be version N + 1 exactly
 * and signed by a threshold of the trusted root's root keys and by a
 * threshold of its own root keys, each key counted once. An expired
 * intermediate root is accepted. Only before a timestamp was loaded.
 */
int fp_tuf_update_root(struct fp_tuf_trusted *t, const void *data, size_t len,
                       struct fp_err *err) FP_WUR;

/*
 * Timestamp (5.4): the final root must not be expired at now (5.3.10);
 * signed by the timestamp threshold; version not lower than the trusted
 * timestamp's, and the snapshot version it names not lower either. An equal
 * version returns FP_EEXIST and keeps the trusted timestamp (the caller keeps
 * its stored copy). A timestamp that verifies but has expired at now returns
 * FP_EPERM: it is then held for rollback protection of a later timestamp (as
 * python-tuf does), but no snapshot can be loaded on top of it, and the
 * caller must not store it.
 */
int fp_tuf_update_timestamp(struct fp_tuf_trusted *t, const void *data, size_t len, int64_t now,
                            struct fp_err *err) FP_WUR;

/*
 * Snapshot (5.5): the trusted timestamp must not be expired; length and
 * hashes must match the timestamp's snapshot meta, unless from_local is set
 * (a copy the client verified earlier and stored); signed by the snapshot
 * threshold; no role listed in the trusted snapshot may disappear or have its
 * version decrease. A snapshot that passes these is held (for rollback
 * protection of the next one) even when it then fails the final checks: its
 * version must equal the timestamp's snapshot version (FP_ECONFLICT) and it
 * must not have expired at now (FP_EPERM). Targets load only on a snapshot
 * that passed all of them.
 */
int fp_tuf_update_snapshot(struct fp_tuf_trusted *t, const void *data, size_t len, int64_t now,
                           int from_local, struct fp_err *err) FP_WUR;

/*
 * Top-level targets (5.6): length and hashes as in the snapshot's
 * "targets.json" entry when listed, signed by the targets threshold of root,
 * version equal to the snapshot's entry, not expired at now.
 */
int fp_tuf_update_targets(struct fp_tuf_trusted *t, const void *data, size_t len, int64_t now,
                          struct fp_err *err) FP_WUR;

/* The trusted version of role, or 0 when none is loaded. */
int64_t fp_tuf_version(const struct fp_tuf_trusted *t, enum fp_tuf_role role);

/* 1 when the trusted root sets consistent_snapshot to true. */
int fp_tuf_consistent_snapshot(const struct fp_tuf_trusted *t);

/*
 * The meta entry that the trusted set expects next for role: FP_TUF_SNAPSHOT
 * from the timestamp, FP_TUF_TARGETS from the snapshot. FP_ENOTFOUND when the
 * role that lists it is not loaded or does not list it.
 */
int fp_tuf_expected_meta(const struct fp_tuf_trusted *t, enum fp_tuf_role role,
                         struct fp_tuf_metafile *out, struct fp_err *err) FP_WUR;

/*
 * Looks up a target by path in the trusted top-level targets (5.7). out
 * borrows from t. FP_ENOTFOUND when absent, FP_ECONFLICT when targets is not
 * loaded yet.
 */
int fp_tuf_target_get(const struct fp_tuf_trusted *t, const char *name, struct fp_tuf_target *out,
                      struct fp_err *err) FP_WUR;

/*
 * Checks that the n bytes at data have exactly the target's length and every
 * listed hash (sha256, sha512). FP_EAUTH on any mismatch, FP_EUNSUPP when the
 * target lists no hash this library computes.
 */
int fp_tuf_target_verify(const struct fp_tuf_target *tg, const void *data, size_t n,
                         struct fp_err *err) FP_WUR;

/*
 * A streaming verifier for downloads: feed chunks with fp_tuf_hasher_update()
 * (which fails with FP_ETOOBIG as soon as more bytes than the signed length
 * arrive, so a download can stop at once), then fp_tuf_hasher_final() checks
 * the length and hashes like fp_tuf_target_verify(). The expected values are
 * copied, so tg need not outlive the hasher. Free with fp_tuf_hasher_free().
 */
struct fp_tuf_hasher;
int fp_tuf_hasher_new(const struct fp_tuf_target *tg, struct fp_tuf_hasher **out,
                      struct fp_err *err) FP_WUR;
int fp_tuf_hasher_update(struct fp_tuf_hasher *h, const void *data, size_t n,
                         struct fp_err *err) FP_WUR;
int fp_tuf_hasher_final(struct fp_tuf_hasher *h, struct fp_err *err) FP_WUR;
void fp_tuf_hasher_free(struct fp_tuf_hasher *h);

/* Checks data against a metafile's length and hashes (those that are present). */
int fp_tuf_metafile_verify(const struct fp_tuf_metafile *m, const void *data, size_t n,
                           const char *what, struct fp_err *err) FP_WUR;

#endif
