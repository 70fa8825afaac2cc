/*
 * director.h — the director's signed per-device assignment (Uptane-style):
 * which target one device should install, signed online by the server's
 * director key. Pure: no I/O, no clock reads.
 *
 * The document is TUF-shaped (docs/design/director.md):
 *   {"signed": {"_type": "director-assignment", "device_id": IDENTITY,
 *               "target": {"name", "length", "hashes", "custom"} or null,
 *               "deadline": RFC 3339 or null, "version": N, "nonce": HEX,
 *               "expires": "YYYY-MM-DDTHH:MM:SSZ", "mode": "full" | "delta",
 *               "delta": {"name", "length", "hashes", "base_sha256"} (mode delta)},
 *    "signatures": [{"keyid", "sig"}]}
 * with each signature over the canonical JSON (cjson.h) of "signed". An
 * agent pins the director's key and keeps the highest version it accepted.
 */
#ifndef FLEETPATCH_DIRECTOR_H
#define FLEETPATCH_DIRECTOR_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fleetpatch/err.h"
#include "fleetpatch/tuf.h"

#define FP_DIRECTOR_DOC_MAX      65536 /* bytes of an assignment document */
#define FP_DIRECTOR_TYPE         "director-assignment"
#define FP_DIRECTOR_NONCE_MAX    64  /* hex digits of a nonce */
#define FP_DIRECTOR_IDENTITY_MAX 256 /* bytes of a device identity */

/* What a verified assignment says. Borrows from the document passed in. */
struct fp_director_assignment {
	int64_t version;
	int64_t expires;
	const char *device_id;
	const char *nonce;
	const char *deadline; /* NULL when there is none */
	const json_t *target; /* NULL when the device has nothing to install */
	const char *target_name;
	int64_t target_length;
	int delta;                  /* 1: mode "delta" (install target by applying delta) */
	const json_t *delta_target; /* the delta's own TUF target; NULL in mode "full" */
	const char *delta_name;
	int64_t delta_length;
	const char *delta_base_sha256; /* 64 lowercase hex digits: the base image */
};

/*
 * Builds the unsigned document for a device (caller owns *out; sign it
 * with fp_tuf_sign()). target is copied (may be NULL); deadline may be NULL.
 */
int fp_director_build(const char *device_id, const json_t *target, const char *deadline,
                      int64_t version, const char *nonce, int64_t expires, json_t **out,
                      struct fp_err *err) FP_WUR;

/*
 * Offers a delta in an unsigned document from fp_director_build() (before
 * signing): sets "mode" to "delta" and "delta" to {name, length, hashes}
 * copied from delta_target (a TUF target entry) plus base_sha256 (64 hex
 * digits, the sha256 of the image the delta applies to). The document must
 * name a target. A document without a delta says "mode": "full".
 * Errors: FP_EINVAL.
 */
int fp_director_offer_delta(json_t *doc, const json_t *delta_target, const char *base_sha256,
                            struct fp_err *err) FP_WUR;

/*
 * Verifies an assignment document (the bytes a device fetched) for the
 * device `device_id` with the pinned director key (a TUF key object):
 * strict JSON (no duplicate keys, size cap), _type, a valid signature by that
 * key, the device id, not expired at now, and a version not lower than
 * min_version (the highest the device accepted before; an equal version is
 * the same assignment fetched again), and a coherent "mode": "delta" needs a
 * target and a well-formed "delta"; "full" (or no mode, as older servers
 * sign) forbids one. On success *doc receives the parsed
 * document (caller owns; json_decref) and *out borrows from it.
 * Errors: FP_EINVAL malformed, FP_ETOOBIG over the cap, FP_EAUTH no valid
 * signature by the key, FP_EPERM expired or for another device,
 * FP_ECONFLICT a replayed lower version.
 */
int fp_director_verify(const void *data, size_t len, const json_t *key, const char *device_id,
                       int64_t min_version, int64_t now, json_t **doc,
                       struct fp_director_assignment *out, struct fp_err *err) FP_WUR;

#endif
