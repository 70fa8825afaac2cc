/*
 * fuzz_csv.c — libFuzzer target: the generic device CSV import (and the RFC 4180 reader under it).
 *
 * A small OUI table is parsed once so that MAC vendor lookups run too.
 */
#include <string.h>

#include "fleetpatch/csv.h"
#include "fuzz_import_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_import(FP_IMPORT_CSV, data, size);

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
