/*
 * tuf_int.h — helpers shared by the files of lib/tuf (keys, metadata, trusted set).
 */
#ifndef FLEETPATCH_TUF_INT_H
#define FLEETPATCH_TUF_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fleetpatch/tuf.h"

/*
 * Decodes exactly outlen bytes from lowercase or uppercase hex s (which must
 * be 2 * outlen digits long). 0 or FP_EINVAL.
 */
int fp__tuf_hex_decode(const char *s, uint8_t *out, size_t outlen);

/* Writes 2 * n lowercase hex digits and a NUL to out. */
void fp__tuf_hex_encode(const uint8_t *in, size_t n, char *out);

/* 1 when s is exactly 2 * n lowercase hex digits. */
int fp__tuf_is_lower_hex(const char *s, size_t n);

/* One metadata document, parsed and validated but not yet trusted. */
struct fp__tuf_doc {
	enum fp_tuf_role role;
	json_t *doc;         /* the whole document; owns everything below */
	json_t *signed_part; /* borrowed from doc */
	json_t *sigs;        /* borrowed from doc: the "signatures" array */
	char *canon;         /* canonical JSON of "signed", the bytes signatures cover */
	size_t canon_len;
	int64_t version;
	int64_t expires;
};

/* Parses and validates data as role (see fp_tuf_parse()). Free with fp__tuf_doc_free(). */
int fp__tuf_doc_parse(enum fp_tuf_role role, const void *data, size_t len, struct fp__tuf_doc *out,
                      struct fp_err *err);
void fp__tuf_doc_free(struct fp__tuf_doc *d);

/* Reads a validated METAFILES entry or a target's hashes. */
int fp__tuf_metafile_read(const json_t *v, struct fp_tuf_metafile *out, struct fp_err *err);
int fp__tuf_hashes_read(const json_t *v, struct fp_tuf_hashes *out, struct fp_err *err);

/* Rewrites err's message as "<what> <name>: <message>" and returns rc. */
int fp__tuf_err_prefix(struct fp_err *err, int rc, const char *what, const char *name);

/* The byte cap of a role's document. */
size_t fp__tuf_role_max(enum fp_tuf_role role);

#endif
