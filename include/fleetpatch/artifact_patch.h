/*
 * artifact_patch.h — a delta artifact applied as it streams: the artifact
 * reader (artifact.h) hands its one delta payload to a delta applier
 * (delta.h), which reads the base where the delta points and writes the
 * new image in order. Shared by the agent (the running slot into the
 * inactive one) and `fleetpatch artifact apply-delta` (files), so both
 * refuse the same things with the same words.
 *
 * Refused: a payload that is not a delta, more than one delta, a delta for
 * a base larger than the readable one (or of another size, unless
 * base_prefix), one that makes another size than target_size, a delta
 * header that names other images than the manifest, an artifact with no
 * delta; and whatever the reader and the applier refuse.
 */
#ifndef FLEETPATCH_ARTIFACT_PATCH_H
#define FLEETPATCH_ARTIFACT_PATCH_H

#include <stddef.h>
#include <stdint.h>

#include "fleetpatch/delta.h"
#include "fleetpatch/err.h"

struct fp_artifact_patch_opts {
	uint64_t base_size;   /* bytes readable through read_base */
	int base_prefix;      /* 1: the base image may be the first bytes of that (a slot) */
	uint64_t target_size; /* 0, or the size the new image must have (its signed length) */
	uint64_t mem_max;     /* cap on the applier's memory; 0: the format's */
	fp_delta_read_fn read_base;
	fp_delta_write_fn write; /* receives the new image in order */
	void *ctx;               /* passed to both */
};

struct fp_artifact_patcher;

/* Makes a patcher (caller frees with fp_artifact_patcher_free); opts is copied. */
int fp_artifact_patcher_new(const struct fp_artifact_patch_opts *opts,
                            struct fp_artifact_patcher **out, struct fp_err *err) FP_WUR;

/* Feeds the next n bytes of the artifact, any split. After a failure every call fails. */
int fp_artifact_patcher_feed(struct fp_artifact_patcher *p, const void *buf, size_t n,
                             struct fp_err *err) FP_WUR;

/*
 * Checks that the artifact ended after its last payload and that exactly
 * one delta was applied whole (its output matched the target's sha256).
 */
int fp_artifact_patcher_finish(struct fp_artifact_patcher *p, struct fp_err *err) FP_WUR;

void fp_artifact_patcher_free(struct fp_artifact_patcher *p);

#endif
