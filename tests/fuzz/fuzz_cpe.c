/*
 * fuzz_cpe.c — libFuzzer target for CPE names (lib/cpe.c).
 *
 * The input up to its first NUL is parsed as a CPE name. Whatever parses must
 * format within FP_CPE_MAX bytes, reparse to an equal name, format the same
 * way again, copy to an equal name and match itself. The input is also used
 * as a plain version for fp_cpe_make(), and, split at the first newline, as
 * a source and a target for fp_cpe_match(). Violations trap.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fleetpatch/cpe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks every invariant of a successfully built name. */
static void check_name(const struct fp_cpe *c)
{
	char a[FP_CPE_MAX + 1], b[FP_CPE_MAX + 1], key[FP_CPE_MAX + 1];
	struct fp_cpe r, d;
	if (fp_cpe_format(c, a, sizeof(a)) != 0)
		__builtin_trap();
	if (fp_cpe_parse(a, &r, NULL) != 0)
		__builtin_trap();
	if (!fp_cpe_equal(c, &r) || fp_cpe_format(&r, b, sizeof(b)) != 0 || strcmp(a, b) != 0)
		__builtin_trap();
	if (!fp_cpe_match(c, c) || !fp_cpe_match(&r, c))
		__builtin_trap();
	if (fp_cpe_copy(&d, c) == 0) {
		if (!fp_cpe_equal(&d, c))
			__builtin_trap();
		fp_cpe_free(&d);
	}
	if (fp_cpe_key(c, key, sizeof(key)) != 0)
		__builtin_trap();
	fp_cpe_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	struct fp_cpe c, t;
	struct fp_err err;
	if (fp_cpe_parse(s, &c, &err) == 0) {
		check_name(&c);
		fp_cpe_free(&c);
	} else if (err.msg[0] == '\0') {
		__builtin_trap(); /* every error says what was wrong */
	}

	if (fp_cpe_make(&c, 'o', "acme", "cam_firmware", s, NULL) == 0) {
		if (c.kind[FP_CPE_VERSION] == FP_CPE_VALUE &&
		    strlen(c.val[FP_CPE_VERSION]) != strlen(s))
			__builtin_trap();
		check_name(&c);
		fp_cpe_free(&c);
	}

	char *nl = strchr(s, '\n');
	if (nl) {
		*nl = '\0';
		if (fp_cpe_parse(s, &c, NULL) == 0) {
			if (fp_cpe_parse(nl + 1, &t, NULL) == 0) {
				/* Either direction, with or without wildcards, must not crash. */
				if (fp_cpe_match(&c, &t) > 1 || fp_cpe_match(&t, &c) > 1)
					__builtin_trap();
				fp_cpe_free(&t);
			}
			fp_cpe_free(&c);
		}
	}
	free(s);
	return 0;
}
