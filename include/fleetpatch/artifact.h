/*
 * artifact.h — the fleetpatch artifact: one file that carries a release's
 * payloads and their metadata, verifiable while it streams.
 *
 * Layout (docs/design/artifact.md):
 *
 *     header    16 bytes: magic "FPARTIFX", format version (u32, big endian),
 *               manifest length (u32, big endian)
 *     manifest  JSON: version, compatible hardware, the payload list with each
 *               payload's name, type, stored size, sha256, compression and,
 *               for a delta, its base and result
 *     payloads  each payload's stored bytes, in manifest order, nothing after
 *
 * The reader is a push parser: the caller feeds arbitrary chunks and gets the
 * manifest, then each payload's content, through callbacks, with every cap
 * checked before the data it guards is accepted. Each payload's sha256 is
 * checked at its end, and the whole file's sha256 and sha512 (what a TUF
 * target names) come out of the same pass. The writer builds an artifact
 * from files or memory buffers.
 */
#ifndef FLEETPATCH_ARTIFACT_H
#define FLEETPATCH_ARTIFACT_H

#include <stddef.h>
#include <stdint.h>

#include "fleetpatch/err.h"

#define FP_ARTIFACT_MAGIC          "FPARTIFX" /* 8 bytes, no NUL in the file */
#define FP_ARTIFACT_FORMAT_VERSION 1u
#define FP_ARTIFACT_HEADER_SIZE    16

/* Caps of the reader (and of the writer, which never writes what the reader refuses). */
#define FP_ARTIFACT_MANIFEST_MAX  (64u * 1024) /* bytes of manifest JSON */
#define FP_ARTIFACT_DEPTH_MAX     8            /* JSON nesting of the manifest */
#define FP_ARTIFACT_PAYLOADS_MAX  32           /* payloads in one artifact */
#define FP_ARTIFACT_NAME_MAX      64  /* bytes of a payload name: [A-Za-z0-9._-], not "." or ".." */
#define FP_ARTIFACT_VERSION_MAX   128 /* bytes of a version string */
#define FP_ARTIFACT_COMPAT_MAX    16  /* compatible hardware types */
#define FP_ARTIFACT_HWTYPE_MAX    64  /* bytes of one hardware type */
#define FP_ARTIFACT_TOTAL_DEFAULT (16ull << 30) /* default cap on the whole file: 16 GiB */
/* Window of a zstd-compressed payload: 2^23 = 8 MiB, so decompression memory is bounded. */
#define FP_ARTIFACT_ZSTD_WINDOW_LOG_MAX 23

/* Payload types; an install backend picks the payloads it knows by type. */
#define FP_ARTIFACT_TYPES "image, file, module"

enum fp_artifact_compression {
	FP_ARTIFACT_COMP_NONE = 0,
	FP_ARTIFACT_COMP_ZSTD = 1,
};

/* What a delta payload applies to and what it produces (all hashes binary). */
struct fp_artifact_delta {
	char base_version[FP_ARTIFACT_VERSION_MAX + 1]; /* may be empty */
	uint64_t base_size;
	unsigned char base_sha256[32]; /* the slot contents the delta applies to */
	uint64_t target_size;
	unsigned char target_sha256[32]; /* the image the delta produces */
};

struct fp_artifact_payload {
	char name[FP_ARTIFACT_NAME_MAX + 1];
	char type[16];            /* "image", "file" or "module" */
	uint64_t size;            /* bytes stored in the artifact */
	unsigned char sha256[32]; /* of the stored bytes */
	enum fp_artifact_compression compression;
	uint64_t content_size; /* bytes after decompression; equals size when not compressed */
	int is_delta;          /* the stored bytes are a delta (delta.h), never compressed */
	struct fp_artifact_delta delta;
};

struct fp_artifact_manifest {
	char version[FP_ARTIFACT_VERSION_MAX + 1]; /* the release's version; may be empty */
	size_t n_compatible;
	char compatible[FP_ARTIFACT_COMPAT_MAX][FP_ARTIFACT_HWTYPE_MAX + 1];
	size_t n_payloads;
	struct fp_artifact_payload payloads[FP_ARTIFACT_PAYLOADS_MAX];
};

/* ---- manifest (pure) ---- */

/*
 * Parses and checks manifest JSON (len bytes, not NUL-terminated) into *m:
 * every cap above, known members only, unique names, a delta never
 * compressed and its base and target sizes given. FP_EINVAL or FP_ETOOBIG
 * with a message naming the payload and member.
 */
int fp_artifact_manifest_parse(const char *json, size_t len, struct fp_artifact_manifest *m,
                               struct fp_err *err) FP_WUR;

/*
 * Checks *m against the same rules and encodes it as compact JSON with sorted
 * keys into *out (NUL-terminated, *len bytes without the NUL; caller frees).
 */
int fp_artifact_manifest_encode(const struct fp_artifact_manifest *m, char **out, size_t *len,
                                struct fp_err *err) FP_WUR;

/* Writes the 16-byte header for a manifest of manifest_len bytes. */
void fp_artifact_header(size_t manifest_len, unsigned char out[FP_ARTIFACT_HEADER_SIZE]);

/* ---- streaming reader ---- */

/*
 * Callbacks of the reader; any may be NULL. A callback returns 0 to go on or
 * a negative FP_E… code (with err set) to stop the reader, which then returns
 * that code from fp_artifact_reader_feed. The manifest and payload pointers
 * are borrowed for the duration of the call.
 *
 * payload_data receives a payload's content (decompressed when compressed)
 * before its sha256 has been checked: write it somewhere that is not yet
 * trusted (an inactive slot) and act on it only after payload_end, which is
 * called once the stored bytes' sha256 and the content size have matched.
 */
struct fp_artifact_callbacks {
	int (*manifest)(void *ctx, const struct fp_artifact_manifest *m, struct fp_err *err);
	int (*payload_begin)(void *ctx, size_t index, const struct fp_artifact_payload *p,
	                     struct fp_err *err);
	int (*payload_data)(void *ctx, size_t index, const void *buf, size_t n, struct fp_err *err);
	int (*payload_end)(void *ctx, size_t index, const struct fp_artifact_payload *p,
	                   struct fp_err *err);
	void *ctx;
};

struct fp_artifact_reader_opts {
	uint64_t total_max; /* cap on the whole file in bytes; 0 means FP_ARTIFACT_TOTAL_DEFAULT */
	int raw;            /* 1: hand compressed payloads to payload_data as stored */
};

struct fp_artifact_reader;

/*
 * Makes a reader (caller frees with fp_artifact_reader_free). cb is copied;
 * opts may be NULL for the defaults.
 */
int fp_artifact_reader_new(const struct fp_artifact_callbacks *cb,
                           const struct fp_artifact_reader_opts *opts,
                           struct fp_artifact_reader **out, struct fp_err *err) FP_WUR;

/*
 * Feeds the next n bytes of the artifact, any split. Fails with FP_EINVAL
 * (bad magic, malformed manifest, corrupt payload, bytes after the last
 * payload), FP_EUNSUPP (a newer format version), FP_ETOOBIG (a cap),
 * FP_ECRYPTO (a payload's sha256 differs) or a callback's code. After a
 * failure every further call returns the same code.
 */
int fp_artifact_reader_feed(struct fp_artifact_reader *r, const void *buf, size_t n,
                            struct fp_err *err) FP_WUR;

/* Checks that the artifact ended exactly after its last payload (FP_EINVAL: truncated). */
int fp_artifact_reader_finish(struct fp_artifact_reader *r, struct fp_err *err) FP_WUR;

/* The manifest once parsed, else NULL; borrowed from the reader. */
const struct fp_artifact_manifest *fp_artifact_reader_manifest(const struct fp_artifact_reader *r);

/*
 * After a successful fp_artifact_reader_finish: the whole file's length,
 * sha256 and sha512, to compare with the TUF target. FP_EINVAL before that.
 */
int fp_artifact_reader_digests(const struct fp_artifact_reader *r, uint64_t *length,
                               unsigned char sha256[32], unsigned char sha512[64]) FP_WUR;

/* The sha256 of header + manifest, available after the manifest callback (else FP_EINVAL). */
int fp_artifact_reader_manifest_sha256(const struct fp_artifact_reader *r,
                                       unsigned char out[32]) FP_WUR;

void fp_artifact_reader_free(struct fp_artifact_reader *r);

/* ---- writer ---- */

/* One payload to write: from a file (path) or from memory (data, len); one of the two. */
struct fp_artifact_input {
	const char *name;
	const char *type; /* "image", "file" or "module" */
	const char *path;
	const void *data;
	size_t len;
	enum fp_artifact_compression compression;
	const struct fp_artifact_delta *delta; /* non-NULL: the input is a delta (delta.h) */
};

#define FP_ARTIFACT_ZSTD_LEVEL 10 /* compression level of zstd payloads */

/*
 * Writes an artifact to fd: reads every input once to learn its stored size
 * and sha256 (compressing when asked), then writes header, manifest and
 * payloads, checking that each input reads the same the second time.
 * version and compatible (n_compatible strings) may be NULL/0. Only this
 * helper does I/O; the format itself is fp_artifact_manifest_encode and
 * fp_artifact_header.
 */
int fp_artifact_write(int fd, const char *version, const char *const *compatible,
                      size_t n_compatible, const struct fp_artifact_input *in, size_t n,
                      struct fp_err *err) FP_WUR;

/* Lowercase hex of a 32-byte digest into out (65 bytes with the NUL). */
void fp_artifact_hex32(const unsigned char d[32], char out[65]);

#endif
