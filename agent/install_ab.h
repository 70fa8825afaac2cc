/*
 * install_ab.h — the A/B image backend: streams a target into the inactive
 * slot (a file or a block device) while verifying its length and hash,
 * resuming an interrupted download with a Range request.
 */
#ifndef FLEETPATCH_AGENT_INSTALL_AB_H
#define FLEETPATCH_AGENT_INSTALL_AB_H

#include <stdint.h>

#include "fleetpatch/err.h"

#define AGENT_SYNC_EVERY (32 << 20) /* default bytes between a slot sync and a progress record */

struct agent_download {
	const char *url;       /* where the target's bytes are */
	const char *bearer;    /* device token, or NULL */
	const char *slot_path; /* the inactive slot */
	const char *sha256;    /* expected hash, 64 lowercase hex digits */
	int64_t length;        /* signed length: the byte cap */
	long timeout_s;
	long long max_rate; /* bytes per second, 0 = no limit */
	int64_t sync_every; /* bytes between a slot sync and a progress record (0: default) */
	int64_t offset;     /* bytes already in the slot and synced (journaled progress) */
	/* Called after each slot fsync with the bytes now durable; non-zero stops. */
	int (*progress)(void *ctx, int64_t synced, struct fp_err *err);
	void *ctx;
	int64_t fetched; /* out: bytes received over the network */
	int resumed;     /* out: 1 when a Range request continued an earlier download */
};

/*
 * Downloads into the slot. Returns 0 when the whole target is in the slot,
 * synced, with the signed length and hash. FP_EAUTH for a hash mismatch
 * or more bytes than signed (the mirror is hostile: do not retry the same
 * bytes); FP_ENOTFOUND when the server no longer has the file (404, 410);
 * FP_EIO for transport errors, stalls and other HTTP errors (retry later:
 * the progress made is kept), and for a slot that cannot be written (a full
 * disk, with the system's message); other codes for local failures.
 */
int agent_install_ab(struct agent_download *d, struct fp_err *err) FP_WUR;

#endif
