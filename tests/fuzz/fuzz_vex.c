/*
 * fuzz_vex.c — libFuzzer target: CycloneDX VEX statements.
 */
#include <stdint.h>
#include <string.h>

#include "fleetpatch/sbom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fp_vex v;
	struct fp_err err;
	if (fp_vex_parse((const char *)data, size, &v, &err) == 0) {
		/* Touch every result so the sanitizers see what was built. */
		for (size_t i = 0; i < v.n; i++) {
			const struct fp_vex_statement *st = &v.s[i];
			if (!st->id[0] || !fp_vex_state_name(st->state))
				__builtin_trap();
			for (size_t j = 0; j < st->n_affects; j++) {
				const struct fp_vex_versions *vs = &st->affects_versions[j];
				if (!st->affects[j])
					__builtin_trap();
				for (size_t k = 0; k < vs->n; k++)
					if (!vs->v[k].version == !vs->v[k].range)
						__builtin_trap();
			}
			for (size_t j = 0; j < st->n_responses; j++)
				if (strlen(st->responses[j]) > size)
					__builtin_trap();
		}
		fp_vex_free(&v);
	}
	return 0;
}
