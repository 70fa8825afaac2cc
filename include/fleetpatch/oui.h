/*
 * oui.h — the IEEE MAC address block registry, for naming a MAC's vendor.
 *
 * The table is parsed from the IEEE's CSV exports as Debian's ieee-data
 * package ships them (/usr/share/ieee-data/oui.csv, mam.csv, oui36.csv,
 * iab.csv): "Registry,Assignment,Organization Name,Organization Address".
 * MA-L rows assign 24-bit prefixes, MA-M 28-bit and MA-S / IAB 36-bit ones;
 * a lookup returns the longest matching prefix. Several files may be
 * concatenated into one buffer (repeated header lines are skipped).
 * The module does no I/O: the caller reads the file.
 */
#ifndef FLEETPATCH_OUI_H
#define FLEETPATCH_OUI_H

#include <stddef.h>

#include "fleetpatch/err.h"

#define FP_OUI_FILE_MAX    (64u * 1024 * 1024) /* bytes of registry CSV */
#define FP_OUI_ENTRIES_MAX 262144              /* assignments in one table */

struct fp_oui; /* opaque */

/*
 * Parses registry CSV. A file that is not registry CSV (wrong header, a
 * malformed assignment, broken quoting) is an error naming the line; rows of
 * other registries (CID) are skipped. Caller frees *out with fp_oui_free.
 */
int fp_oui_parse(const char *data, size_t len, struct fp_oui **out, struct fp_err *err) FP_WUR;

void fp_oui_free(struct fp_oui *t);

/* Number of assignments in the table. */
size_t fp_oui_count(const struct fp_oui *t);

/*
 * The organisation that owns the longest registered prefix of mac, given in
 * the normalised form aa:bb:cc:dd:ee:ff. Borrowed from t; NULL when unknown
 * or when mac is not in that form.
 */
const char *fp_oui_lookup(const struct fp_oui *t, const char *mac_normalised);

#endif
