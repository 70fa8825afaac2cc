/*
 * audit.h — the tamper-evident audit log: entries chained by SHA-256.
 *
 * Every change the server makes is recorded as one audit entry, a JSON object
 * with exactly these members:
 *   seq        integer >= 1; entries are numbered 1, 2, 3, … without gaps
 *   ts         string, RFC 3339 UTC with milliseconds: "2026-11-21T23:40:01.123Z"
 *   actor      string, 1..FP_AUDIT_STR_MAX bytes: "user:alice", "device:42", "system"
 *   action     string, 1..FP_AUDIT_STR_MAX bytes: "device.update"
 *   object     string, 0..FP_AUDIT_STR_MAX bytes: "device:42" or ""
 *   before     any JSON value or null (no real numbers, at most FP_AUDIT_DEPTH_MAX deep)
 *   after      the same
 *   prev_hash  64 lowercase hex digits: the previous entry's hash; FP_AUDIT_GENESIS for seq 1
 *   hash       64 lowercase hex digits: fp_audit_hash() of this entry
 * actor, action and object hold no control characters.
 *
 * The hash is SHA-256 over the bytes "fleetpatch-audit-v1\n" followed by the
 * entry without its "hash" member, serialised by jansson with
 * JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII (docs/design/audit.md
 * spells the serialisation out). Real numbers are refused everywhere
 * because their text form is not canonical; store them as strings.
 *
 * Everything here is pure: the server stores entries, the CLI reads exports,
 * and both feed them to these functions.
 */
#ifndef FLEETPATCH_AUDIT_H
#define FLEETPATCH_AUDIT_H

#include <stddef.h>
#include <jansson.h>

#include "fleetpatch/err.h"
#include "fleetpatch/secret.h"

#define FP_AUDIT_GENESIS     "0000000000000000000000000000000000000000000000000000000000000000"
#define FP_AUDIT_HASH_PREFIX "fleetpatch-audit-v1\n"

#define FP_AUDIT_STR_MAX     256           /* bytes in actor, action, object */
#define FP_AUDIT_DEPTH_MAX   32            /* nesting of before and after */
#define FP_AUDIT_LINE_MAX    (1024 * 1024) /* bytes in one export line, without '\n' */
#define FP_AUDIT_ENTRIES_MAX 10000000LL    /* entries in one export */

/*
 * Computes the hash of entry (ignoring any "hash" member) into out as 64
 * lowercase hex digits. FP_EINVAL when entry is not an object or contains a
 * real number anywhere. It does not check the other rules of an entry.
 */
int fp_audit_hash(const json_t *entry, char out[FP_SHA256_HEX_LEN + 1], struct fp_err *err) FP_WUR;

/*
 * Builds a complete entry with prev_hash and hash set; *out is a new
 * reference the caller owns (json_decref). before and after are borrowed and
 * copied with json_deep_copy; NULL stands for JSON null. Every argument is
 * checked against the rules above (FP_EINVAL naming the field).
 */
int fp_audit_make(long long seq, const char *ts, const char *actor, const char *action,
                  const char *object, const json_t *before, const json_t *after,
                  const char *prev_hash, json_t **out, struct fp_err *err) FP_WUR;

/*
 * Incremental verifier: initialise, then feed entries in order, starting
 * with seq 1. first_bad_seq is -1 while the chain is intact; after the first
 * failure it is the sequence number at which the chain breaks (the seq that
 * was expected at that position, which is the entry's own seq except when
 * entries are missing or out of order), and reason says what is wrong.
 */
struct fp_audit_verifier {
	long long next_seq;                    /* seq the next entry must have */
	char prev_hash[FP_SHA256_HEX_LEN + 1]; /* hash the next entry must chain to */
	long long count;                       /* entries accepted so far */
	long long first_bad_seq;               /* -1 when none */
	char reason[256];
};

void fp_audit_verifier_init(struct fp_audit_verifier *v);

/*
 * Returns 0 if entry extends the chain. Returns FP_EINVAL, and fills
 * first_bad_seq and reason the first time, when it does not: a wrong set of
 * members or a wrong type, a seq that is not the next one (entries missing,
 * repeated or reordered), a prev_hash that is not the previous entry's hash
 * (an entry deleted, inserted or reordered), or a hash that does not match
 * the content (an edit). After the first failure it keeps returning FP_EINVAL.
 */
int fp_audit_verifier_feed(struct fp_audit_verifier *v, const json_t *entry);

/*
 * Verifies an export held in memory: JSON Lines, one entry per line, in
 * order from seq 1; a final newline is allowed, other blank lines are not.
 * Initialises and fills v. Returns 0 when the whole chain is intact,
 * FP_EINVAL when it is not (v->first_bad_seq is the first bad entry's seq, or
 * the line number when the line is not a JSON object), FP_ETOOBIG when a line
 * exceeds FP_AUDIT_LINE_MAX bytes or there are more than FP_AUDIT_ENTRIES_MAX
 * entries; err gets the reason too. When anchor_hash is not NULL, the chain
 * must also contain an entry whose hash equals it, so that cutting entries
 * off the end is detected given a hash the operator kept elsewhere.
 */
int fp_audit_verify_export(const char *data, size_t len, const char *anchor_hash,
                           struct fp_audit_verifier *v, struct fp_err *err) FP_WUR;

#endif
