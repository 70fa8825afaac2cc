/*
 * nvd.h — NVD CVE API 2.0 / JSON 2.0 feeds, read as a stream with bounded memory.
 *
 * A feed is {"resultsPerPage":…,"format":"NVD_CVE","version":"2.0",
 * "timestamp":…,"vulnerabilities":[{"cve":{…}}, …]}, gzip-compressed or
 * plain, and may be hundreds of megabytes. The reader never holds a feed
 * whole: the caller pushes bytes in any chunking, gzip is recognised by its
 * magic bytes and inflated on the fly, a byte-level scanner finds the extent
 * of each element of "vulnerabilities", and only that element is parsed
 * (with jansson, or with a one-pass field extractor, see
 * fp_nvd_reader_parse_configs()) and handed to a callback. Memory stays within
 * FP_NVD_RECORD_MAX plus a small window, whatever the feed size.
 *
 * Usage:
 *     struct fp_nvd_reader *r;
 *     rc = fp_nvd_reader_new(on_cve, ctx, &r, err);
 *     while (more input) rc = fp_nvd_reader_feed(r, buf, n, err);
 *     rc = fp_nvd_reader_finish(r, err);
 *     fp_nvd_reader_free(r);
 * A feed is all-or-nothing: records are delivered as they are read, so a
 * caller that gets an error from feed or finish must discard what it stored.
 */
#ifndef FLEETPATCH_NVD_H
#define FLEETPATCH_NVD_H

#include <stddef.h>

#include <jansson.h>

#include "fleetpatch/err.h"

struct fp_nvd_configs;

#define FP_NVD_RECORD_MAX (8u << 20)  /* bytes of one {"cve":…} element */
#define FP_NVD_HEADER_MAX (64u << 10) /* bytes of the feed outside "vulnerabilities" */
#define FP_NVD_DEPTH_MAX  256         /* nesting of arrays and objects in the feed */
#define FP_CVE_ID_MAX     32          /* bytes of a CVE id, with its NUL */
#define FP_CVE_VECTOR_MAX 192         /* a full CVSS 4.0 vector is 178 characters */

struct fp_cve {
	char id[FP_CVE_ID_MAX];                /* "CVE-2018-6530" (validated: CVE-YYYY-NNNN+) */
	char published[32], last_modified[32]; /* as in the feed */
	char status[48];   /* vulnStatus, e.g. "Analyzed", "Awaiting Analysis" */
	char *description; /* owned; the first "en" description, may be NULL */
	/* Base scores of the Primary (nvd@nist.gov) metric of each version, else of
	 * the first metric of that version; -1 when the version is absent. */
	double cvss4, cvss31, cvss30, cvss2;
	char vector[FP_CVE_VECTOR_MAX];  /* vector string of the newest version present, or "" */
	char severity[16];               /* baseSeverity of the newest version present, or "" */
	char cwe[32];                    /* first weakness value, e.g. "CWE-78", may be "" */
	char kev_added[16], kev_due[16]; /* cisaExploitAdd / cisaActionDue when present, else "" */
	/* Owned reference to the record's "configurations" array, or NULL; parsed
	 * later by the matching module. Take your own with json_incref() to keep it. */
	json_t *configurations;
	/* Only from a reader told fp_nvd_reader_parse_configs(), for records it
	 * read without a JSON tree (configurations is then NULL): the array
	 * parsed, and its JSON text (configs_len bytes inside the record's raw
	 * text), both borrowed for the callback. NULL when there is none. */
	const struct fp_nvd_configs *configs;
	const char *configs_text;
	size_t configs_len;
};

/*
 * Parses one element of "vulnerabilities" ({"cve":{…}}) or the inner cve
 * object into out (borrowed item; out is overwritten and must later go to
 * fp_cve_free(), also after a failure). Required: "id" (a valid CVE id),
 * "published" and "lastModified" strings. Every field it reads must have the
 * type NVD gives it and fit its buffer; unknown fields are ignored.
 */
int fp_cve_from_json(const json_t *item, struct fp_cve *out, struct fp_err *err) FP_WUR;

/* Releases what c owns and clears it; c may be zeroed or half-filled. */
void fp_cve_free(struct fp_cve *c);

/* Returns 1 when s is a CVE id "CVE-YYYY-NNNN…" (4 to 19 sequence digits), else 0. */
int fp_cve_id_valid(const char *s);

/*
 * Called once per element of "vulnerabilities", in feed order. cve and raw
 * (the element's JSON text, raw_len bytes, not NUL-terminated) are borrowed
 * for the call only. Return 0 to go on; any other value stops the reader
 * and is returned by fp_nvd_reader_feed()/fp_nvd_reader_finish().
 */
typedef int (*fp_nvd_fn)(void *ctx, const struct fp_cve *cve, const char *raw, size_t raw_len);

struct fp_nvd_reader;

/* Creates a reader; caller frees it with fp_nvd_reader_free(). */
int fp_nvd_reader_new(fp_nvd_fn fn, void *ctx, struct fp_nvd_reader **out,
                      struct fp_err *err) FP_WUR;

/*
 * Pushes n bytes of the feed (gzip or plain; any chunking). Checks the
 * header fields "format" ("NVD_CVE") and "version" ("2.0") before the first
 * record, which they must precede. After an error the reader stays failed.
 */
int fp_nvd_reader_feed(struct fp_nvd_reader *r, const void *data, size_t n,
                       struct fp_err *err) FP_WUR;

/* Ends the input: an error if the gzip stream or the JSON document is incomplete. */
int fp_nvd_reader_finish(struct fp_nvd_reader *r, struct fp_err *err) FP_WUR;

/*
 * Makes the reader hand records to the callback with their configurations
 * already parsed (cve->configs, cve->configs_text) rather than as a JSON
 * tree, reading a well-formed record in one pass without jansson. Records
 * the fast path does not take (anything unusual or invalid) still go
 * through jansson, with the same result or the same error as without.
 */
void fp_nvd_reader_parse_configs(struct fp_nvd_reader *r);

void fp_nvd_reader_free(struct fp_nvd_reader *r);

/* Progress: compressed bytes consumed and records delivered so far. */
void fp_nvd_reader_progress(const struct fp_nvd_reader *r, unsigned long long *bytes_in,
                            unsigned long long *records);

#endif
