/*
 * pkgdb.h — the package databases a device agent reports from: the dpkg and
 * opkg status files (paragraphs of "Field: value" lines, one per package).
 * Pure: the caller reads the file.
 */
#ifndef FLEETPATCH_PKGDB_H
#define FLEETPATCH_PKGDB_H

#include <stddef.h>

#include "fleetpatch/err.h"

#define FP_PKGDB_NAME_MAX 256 /* bytes of a package name or version, with its NUL */

/* Called per installed package; a non-zero return stops the parse and is returned. */
typedef int (*fp_pkgdb_fn)(void *ctx, const char *name, const char *version);

/*
 * Parses a dpkg (/var/lib/dpkg/status) or opkg (/usr/lib/opkg/status) status
 * file and calls fn for each package whose Status ends in " installed"
 * ("install ok installed", "install user installed"); version may be "".
 * Names or versions longer than FP_PKGDB_NAME_MAX - 1 bytes are skipped.
 * Continuation lines (starting with a space) are ignored.
 */
int fp_pkgdb_parse_status(const char *data, size_t len, fp_pkgdb_fn fn, void *ctx,
                          struct fp_err *err) FP_WUR;

#endif
