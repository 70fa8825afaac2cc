/*
 * feeds.h — parsers of the small vulnerability feeds: CISA KEV and FIRST EPSS.
 *
 * Both are all-or-nothing: a malformed record fails the whole feed, with a
 * message naming the record (KEV: its index and CVE id; EPSS: its line), so
 * an importer never stores half a catalogue. NVD feeds are in nvd.h.
 */
#ifndef FLEETPATCH_FEEDS_H
#define FLEETPATCH_FEEDS_H

#include <stddef.h>

#include "fleetpatch/err.h"

#define FP_KEV_BYTES_MAX   (64u << 20) /* bytes of a KEV catalogue (today about 1.3 MB) */
#define FP_KEV_ENTRIES_MAX 100000      /* entries of a KEV catalogue (today about 1,400) */
#define FP_KEV_NAME_MAX    1024        /* bytes of one vulnerabilityName */
#define FP_EPSS_LINE_MAX   256         /* bytes of one EPSS CSV line */
#define FP_EPSS_ROWS_MAX   (8u << 20)  /* rows of an EPSS file (today about 360,000) */

/*
 * CISA KEV catalogue JSON ({"catalogVersion":…,"vulnerabilities":[{"cveID",
 * "vendorProject","product","vulnerabilityName","dateAdded","dueDate",
 * "knownRansomwareCampaignUse":"Known"|"Unknown",…}]}). Required per entry:
 * cveID (a valid CVE id), dateAdded, dueDate, vulnerabilityName and
 * knownRansomwareCampaignUse; other fields are ignored.
 */
struct fp_kev_entry {
	char cve[32];
	char date_added[16];
	char due[16];
	int ransomware; /* 1 for "Known", 0 for "Unknown" */
	char *name;     /* owned vulnerabilityName */
};
struct fp_kev {
	char version[32]; /* catalogVersion */
	struct fp_kev_entry *e;
	size_t n;
};

/* Parses data (borrowed); out is overwritten; caller frees it with fp_kev_free() (also after a
 * failure). */
int fp_kev_parse(const char *data, size_t len, struct fp_kev *out, struct fp_err *err) FP_WUR;
void fp_kev_free(struct fp_kev *k);

/*
 * FIRST EPSS CSV "cve,epss,percentile", optionally preceded by one
 * "#model_version:…,score_date:…" comment line; gzip or plain (detected by
 * the gzip magic bytes), inflated in steps so memory stays small. fn is
 * called per row with a valid CVE id and two numbers in [0, 1]; it returns
 * 0 to go on, anything else stops parsing and is returned. model_version
 * and score_date receive the comment's values, or "" without a comment.
 * Lines may end in LF or CRLF; empty lines are skipped.
 */
typedef int (*fp_epss_fn)(void *ctx, const char *cve, double epss, double percentile);
int fp_epss_parse(const void *data, size_t len, fp_epss_fn fn, void *ctx, char model_version[64],
                  char score_date[32], struct fp_err *err) FP_WUR;

#endif
