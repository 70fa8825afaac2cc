/*
 * import.h — discovery and inventory import: files in, device records out.
 *
 * One entry point parses a whole file held in memory in one of several
 * formats (generic device CSV, JSON, nmap XML, dnsmasq and ISC dhcpd leases,
 * MDM CSV exports) into validated device records. The module does no I/O.
 *
 * Two kinds of problems are told apart. A file-level problem (not UTF-8,
 * broken quoting, XML not well-formed, unknown or missing header columns,
 * wrong JSON shape, a cap exceeded) fails the whole parse with a message
 * naming the line (and column where known); no rows are returned. A row-level
 * problem (an invalid MAC or date, an unknown value, no identity) rejects
 * that row only, with its line and reason, and the other rows still import.
 *
 * Every row carries an `identity`, which the server uses to make re-import
 * idempotent: an explicit identity column or field; else "serial:<serial>";
 * else "mac:<mac>" (normalised); else "ip:<ip>" (canonical form); else the
 * row is rejected. See docs/design/import.md.
 */
#ifndef FLEETPATCH_IMPORT_H
#define FLEETPATCH_IMPORT_H

#include <stddef.h>

#include "fleetpatch/device.h"
#include "fleetpatch/err.h"

#define FP_IMPORT_FILE_MAX       (64u * 1024 * 1024) /* bytes in one import file */
#define FP_IMPORT_ROWS_MAX       200000              /* records (rows + rejects) in one file */
#define FP_IMPORT_REJECTS_MAX    10000               /* rejects kept with their reason */
#define FP_IMPORT_LINE_MAX       (64 * 1024)         /* bytes in a line of a text format */
#define FP_IMPORT_XML_DEPTH_MAX  64                  /* element nesting in nmap XML */
#define FP_IMPORT_XML_ATTRS_MAX  64                  /* attributes on one XML element */
#define FP_IMPORT_JSON_DEPTH_MAX 16                  /* array/object nesting in JSON */

enum fp_import_format {
	FP_IMPORT_CSV,
	FP_IMPORT_JSON,
	FP_IMPORT_NMAP,
	FP_IMPORT_DNSMASQ,
	FP_IMPORT_DHCPD,
	FP_IMPORT_MDM,
};

/* Parses "csv", "json", "nmap", "dnsmasq", "dhcpd" or "mdm" (case-insensitive). */
int fp_import_format_parse(const char *name, enum fp_import_format *out) FP_WUR;

/* The name of f as fp_import_format_parse accepts it; NULL for an unknown value. */
const char *fp_import_format_name(enum fp_import_format f);

/* An imported device; line is 1-based (for JSON: the 1-based array index). */
struct fp_import_row {
	size_t line;
	struct fp_device_rec rec; /* owned; always has FP_DEV_IDENTITY */
};

struct fp_import_reject {
	size_t line;
	char reason[256];
};

struct fp_import_result {
	struct fp_import_row *rows; /* owned, in file order */
	size_t n_rows;
	struct fp_import_reject *rejects; /* owned; the first FP_IMPORT_REJECTS_MAX */
	size_t n_rejects;
	size_t n_rejects_total; /* all rejected rows, also those past the cap */
};

struct fp_oui; /* see oui.h */

/*
 * Parses data (borrowed) of format fmt. oui may be NULL; when given it fills
 * mac_vendor of rows that have a MAC but no vendor. On success out holds the
 * rows and rejects; on error out is empty and err names the problem.
 * Caller frees out with fp_import_result_free in both cases.
 */
int fp_import_parse(enum fp_import_format fmt, const char *data, size_t len,
                    const struct fp_oui *oui, struct fp_import_result *out,
                    struct fp_err *err) FP_WUR;

void fp_import_result_free(struct fp_import_result *r);

#endif
