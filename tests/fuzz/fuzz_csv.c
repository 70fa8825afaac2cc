/*
 * fuzz_csv.c — libFuzzer target: the generic device CSV import (and the RFC 4180 reader under it).
 *
 * A small OUI table is parsed once so that MAC vendor lookups run too.
 */
#include <stdint.h>
#include <string.h>

#include "fleetpatch/csv.h"
#include "fleetpatch/import.h"
#include "fleetpatch/oui.h"

static const struct fp_oui *table(void)
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fp_import_result r;
	struct fp_err err;
	if (fp_import_parse(FP_IMPORT_CSV, (const char *)data, size, table(), &r, &err) == 0 &&
	    r.n_rows + r.n_rejects_total == 0 && r.rows)
		__builtin_trap(); /* an empty result owns nothing */
	fp_import_result_free(&r);

	/* The reader alone: every field is a string within the caps. */
	struct fp_csv c;
	fp_csv_init(&c, (const char *)data, size);
	while (fp_csv_next(&c, NULL) == 1)
		for (size_t i = 0; i < c.n_fields; i++)
			if (strlen(c.field[i]) > FP_CSV_FIELD_MAX)
				__builtin_trap();
	fp_csv_free(&c);
	return 0;
}
