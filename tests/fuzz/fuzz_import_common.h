/*
 * fuzz_import_common.h — what every import fuzz target checks: a small OUI
 * table (parsed once) so MAC vendor lookups run, and the invariants of a
 * parse result whatever the input.
 */
#ifndef FP_FUZZ_IMPORT_COMMON_H
#define FP_FUZZ_IMPORT_COMMON_H

#include <stdint.h>

#include "fleetpatch/import.h"
#include "fleetpatch/oui.h"

static const struct fp_oui *fuzz_oui_table(void)
{
	static struct fp_oui *t;
	static int done;
	if (!done) {
		static const char csv[] =
		    "Registry,Assignment,Organization Name,Organization Address\n"
		    "MA-L,B827EB,Raspberry Pi Foundation,x\n"
		    "MA-M,70B3D5A,Example,y\n";
		done = 1;
		if (fp_oui_parse(csv, sizeof(csv) - 1, &t, NULL))
			t = NULL;
	}
	return t;
}

static void fuzz_import(enum fp_import_format fmt, const uint8_t *data, size_t size)
{
	struct fp_import_result r;
	struct fp_err err;
	int rc = fp_import_parse(fmt, (const char *)data, size, fuzz_oui_table(), &r, &err);
	if (rc == 0) {
		if (r.n_rows + r.n_rejects_total == 0 && r.rows)
			__builtin_trap(); /* an empty result owns nothing */
		for (size_t k = 0; k < r.n_rows; k++)
			if (!r.rows[k].rec.f[FP_DEV_IDENTITY])
				__builtin_trap(); /* every row has an identity */
	} else if (r.rows || r.n_rows || !err.msg[0]) {
		__builtin_trap(); /* a refused file yields no rows and says why */
	}
	fp_import_result_free(&r);
}

#endif
