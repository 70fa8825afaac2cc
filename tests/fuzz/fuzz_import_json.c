/*
 * fuzz_import_json.c — libFuzzer target: the JSON device import.
 *
 * A small OUI table is parsed once so that MAC vendor lookups run too.
 */
#include <stdint.h>
#include <string.h>

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
	if (fp_import_parse(FP_IMPORT_JSON, (const char *)data, size, table(), &r, &err) == 0 &&
	    r.n_rows + r.n_rejects_total == 0 && r.rows)
		__builtin_trap(); /* an empty result owns nothing */
	fp_import_result_free(&r);
	return 0;
}
