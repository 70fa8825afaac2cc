/*
 * fuzz_version.c — libFuzzer target for fp_version_cmp.
 *
 * The input is split at NUL or newline bytes into up to three strings a, b
 * and c. The order must be reflexive, antisymmetric and transitive; any
 * violation aborts so the fuzzer records a reproducer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fleetpatch/version.h"

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	/* Cut the buffer into at most three NUL-terminated strings. */
	char *part[3] = {buf, buf + size, buf + size};
	int n = 1;
	for (size_t i = 0; i < size && n < 3; i++)
		if (buf[i] == '\0' || buf[i] == '\n') {
			buf[i] = '\0';
			part[n++] = buf + i + 1;
		}
	if (n == 3) {
		/* The third string ends at the next separator, if any. */
		char *nl = strchr(part[2], '\n');
		if (nl)
			*nl = '\0';
	} else if (n == 2) {
		char *nl = strchr(part[1], '\n');
		if (nl)
			*nl = '\0';
	}
	const char *a = part[0], *b = part[1], *c = part[2];
	if (fp_version_cmp(a, a) != 0 || fp_version_cmp(b, b) != 0)
		abort();
	int ab = sign(fp_version_cmp(a, b)), ba = sign(fp_version_cmp(b, a));
	if (ab != -ba)
		abort();
	int bc = sign(fp_version_cmp(b, c)), ac = sign(fp_version_cmp(a, c));
	if (ab <= 0 && bc <= 0 && ac > 0)
		abort();
	if (ab >= 0 && bc >= 0 && ac < 0)
		abort();
	if (ab == 0 && bc == 0 && ac != 0)
		abort();
	free(buf);
	return 0;
}
