/*
 * install_delta.h — the A/B image backend with a delta: streams a delta
 * artifact (its own TUF target) from the server into the delta applier,
 * which reads the running slot where the delta points and writes the new
 * image into the inactive slot, in bounded memory. The delta's bytes are
 * checked against its signed length and sha256, and the image written
 * against the FULL target's signed length and sha256, before it counts.
 */
#ifndef FLEETPATCH_AGENT_INSTALL_DELTA_H
#define FLEETPATCH_AGENT_INSTALL_DELTA_H

#include <stdint.h>

#include "fleetpatch/err.h"

#define AGENT_DELTA_MEM_MAX (256u << 20) /* bytes of applier memory a delta may ask for */

struct agent_delta {
	const char *url;          /* where the delta artifact's bytes are */
	const char *bearer;       /* device token */
	const char *base_path;    /* the running slot */
	const char *slot_path;    /* the inactive slot */
	const char *delta_sha256; /* the delta target's signed sha256 (hex) */
	int64_t delta_length;     /* its signed length: the byte cap */
	const char *sha256;       /* the full target's signed sha256 (hex) */
	int64_t length;           /* its signed length */
	long timeout_s;
	long long max_rate;
	int64_t fetched; /* out: bytes received over the network */
};

/*
 * Applies the delta into the slot. 0 when the whole image is in the slot,
 * synced, with the full target's length and hash. FP_EIO for transport
 * errors and a slot that cannot be read or written (retry later);
 * anything else is a failure of this delta on this device (FP_ECONFLICT:
 * wrong base; FP_EAUTH: the delta or the result does not match its signed
 * hashes; FP_EINVAL: a corrupt delta; FP_ETOOBIG: a cap) that the agent
 * reports to the server instead of retrying.
 */
int agent_install_delta(struct agent_delta *d, struct fp_err *err) FP_WUR;

#endif
