/*
 * delta.h — delta updates: a new image expressed against a base image (the
 * running slot), made with zstd and applied as a stream in bounded memory.
 *
 * The target image is cut into windows of window_size bytes. For each window
 * the creator finds where its content lives in the base (a rolling-hash index
 * of the base's blocks, so moved files are found) and lists those base
 * extents; the window is then one zstd frame compressed with the
 * concatenation of those extents as its prefix (ZSTD_CCtx_refPrefix). The
 * applier rebuilds each prefix by reading the listed extents from the base
 * through a read-at callback, decodes the frame against it and hands the
 * result to a write callback. Its memory is the largest prefix plus one
 * window plus zstd's buffers, whatever the image's size; the stream's header
 * states it, and an applier refuses a delta that needs more than its cap.
 *
 * Stream layout (docs/design/artifact.md): a 104-byte header (magic
 * "FPDELTAX", version, window size, largest prefix, zstd window log, base and
 * target sizes and sha256), then per window: varint extent count, extents as
 * (zigzag varint offset step, varint length), varint frame size, the frame.
 */
#ifndef FLEETPATCH_DELTA_H
#define FLEETPATCH_DELTA_H

#include <stddef.h>
#include <stdint.h>

#include "fleetpatch/err.h"

#define FP_DELTA_MAGIC          "FPDELTAX" /* 8 bytes, no NUL in the stream */
#define FP_DELTA_FORMAT_VERSION 1u
#define FP_DELTA_HEADER_SIZE    104

/* Caps the applier enforces on what a delta's header and windows declare. */
#define FP_DELTA_WINDOW_MAX     (64u << 20)  /* bytes of target per window */
#define FP_DELTA_PREFIX_MAX     (256u << 20) /* bytes of base extents per window */
#define FP_DELTA_EXTENTS_MAX    65536        /* extents per window */
#define FP_DELTA_WINDOW_LOG_MAX 29           /* zstd window log of a frame */
#define FP_DELTA_TARGET_MAX     (1ull << 40) /* bytes of a target image: 1 TiB */

/* Defaults of the creator, chosen with bench/run.sh delta (bench/README.md). */
#define FP_DELTA_DEFAULT_WINDOW (16u << 20) /* the largest; see fp_delta_params */
#define FP_DELTA_DEFAULT_PREFIX (32u << 20)
#define FP_DELTA_DEFAULT_LEVEL  19
#define FP_DELTA_DEFAULT_BLOCK  256

/* Writes n bytes; 0 or a negative FP_E… code with err set. */
typedef int (*fp_delta_write_fn)(void *ctx, const void *buf, size_t n, struct fp_err *err);

/* Reads exactly n bytes of the base at off into buf; 0 or a negative FP_E… code. */
typedef int (*fp_delta_read_fn)(void *ctx, uint64_t off, void *buf, size_t n, struct fp_err *err);

/* What a delta's header says. */
struct fp_delta_header {
	uint32_t window_size;
	uint32_t prefix_max; /* the largest prefix of any window */
	uint32_t window_log;
	uint64_t base_size;
	uint64_t target_size;
	unsigned char base_sha256[32];
	unsigned char target_sha256[32];
};

/* Parses a delta's first FP_DELTA_HEADER_SIZE bytes and checks them against the caps. */
int fp_delta_header_parse(const void *buf, size_t n, struct fp_delta_header *h,
                          struct fp_err *err) FP_WUR;

/* The memory an applier needs for a delta with header h, in bytes (an upper bound). */
uint64_t fp_delta_apply_mem(const struct fp_delta_header *h);

/* ---- creating ---- */

struct fp_delta_params {
	/*
	 * Bytes of target per window; 0: a sixteenth of the target rounded up to
	 * a power of two, from 1 MiB to FP_DELTA_DEFAULT_WINDOW.
	 */
	uint32_t window_size;
	uint32_t prefix_max; /* cap on a window's base extents; 0: FP_DELTA_DEFAULT_PREFIX */
	int level;           /* zstd level 1..22; 0: FP_DELTA_DEFAULT_LEVEL */
	uint32_t block_size; /* bytes per indexed base block; 0: FP_DELTA_DEFAULT_BLOCK */
};

struct fp_delta_stats {
	uint64_t delta_size;    /* bytes written */
	uint64_t windows;       /* frames */
	uint64_t matched_bytes; /* target bytes found verbatim in the base */
	uint64_t prefix_max;    /* the largest prefix */
	uint64_t extents;       /* base extents over all windows */
};

/*
 * Writes a delta that turns base (base_len bytes) into target (target_len
 * bytes) through write. Both images are borrowed (the CLI maps the files).
 * params and stats may be NULL. FP_EINVAL on parameters out of range,
 * FP_ENOMEM, or the write callback's code.
 */
int fp_delta_create(const void *base, size_t base_len, const void *target, size_t target_len,
                    const struct fp_delta_params *params, fp_delta_write_fn write, void *ctx,
                    struct fp_delta_stats *stats, struct fp_err *err) FP_WUR;

/* ---- applying ---- */

struct fp_delta_apply_opts {
	uint64_t base_size;  /* bytes readable through read_base (the slot's contents) */
	uint64_t target_max; /* cap on the target image; 0: FP_DELTA_TARGET_MAX */
	uint64_t mem_max;    /* cap on fp_delta_apply_mem; 0: no cap beyond the format's */
	int skip_base_check; /* 1: the caller has already checked the base's sha256 */
	fp_delta_read_fn read_base;
	fp_delta_write_fn write; /* receives the target image in order */
	void *ctx;               /* passed to both callbacks */
};

struct fp_delta_applier;

/* Makes an applier (caller frees with fp_delta_applier_free); opts is copied. */
int fp_delta_applier_new(const struct fp_delta_apply_opts *opts, struct fp_delta_applier **out,
                         struct fp_err *err) FP_WUR;

/*
 * Feeds the next n bytes of the delta, any split. When the header is
 * complete the applier checks the base (its size, and its sha256 by reading
 * it whole, unless skip_base_check) before any output: FP_ECONFLICT names a
 * wrong base. Then FP_EINVAL for a corrupt delta (including output over a
 * window's or the target's declared size), FP_ETOOBIG for a cap, or a
 * callback's code. After a failure every call returns the same code.
 */
int fp_delta_applier_feed(struct fp_delta_applier *a, const void *buf, size_t n,
                          struct fp_err *err) FP_WUR;

/*
 * Checks that the delta is complete and that the output's sha256 is the
 * target's (FP_ECRYPTO when not: discard what was written).
 */
int fp_delta_applier_finish(struct fp_delta_applier *a, struct fp_err *err) FP_WUR;

/* The parsed header once it has been fed, else NULL; borrowed. */
const struct fp_delta_header *fp_delta_applier_header(const struct fp_delta_applier *a);

void fp_delta_applier_free(struct fp_delta_applier *a);

#endif
