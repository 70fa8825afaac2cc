/*
 * fuzz_sbom.c — libFuzzer target: CycloneDX and SPDX JSON bills of materials.
 */
#include <stdint.h>

#include "fleetpatch/sbom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fp_sbom s;
	struct fp_err err;
	if (fp_sbom_parse((const char *)data, size, &s, &err) == 0) {
		/* Touch every result so the sanitizers see what was built. */
		for (size_t i = 0; i < s.n; i++)
			if (!s.c[i].name || !s.c[i].name[0])
				__builtin_trap();
		if (s.n_subjects && !s.subject_name)
			__builtin_trap();
		for (size_t i = 0; i < s.n; i++)
			(void)fp_vex_ref_matches("urn:cdx:x/1#a", &s, s.c[i].ref ? s.c[i].ref : "");
		fp_sbom_free(&s);
	}
	return 0;
}
