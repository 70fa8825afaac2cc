/*
 * fuzz_nvd.c — libFuzzer target: the streaming NVD feed reader (lib/nvd.c).
 *
 * The input is pushed in two pieces, split at a point taken from its first
 * byte, so records that span pushes are exercised too. Gzip input is
 * inflated by the reader itself.
 */
#include <stdint.h>
#include <string.h>

#include "fleetpatch/nvd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_cve(void *ctx, const struct fp_cve *c, const char *raw, size_t raw_len)
{
	(void)ctx;
	/* Every delivered record has a valid id and is one JSON object within the cap. */
	if (!fp_cve_id_valid(c->id) || raw_len < 2 || raw_len > FP_NVD_RECORD_MAX ||
	    raw[0] != '{' || raw[raw_len - 1] != '}')
		__builtin_trap();
	if (c->description && strlen(c->description) > raw_len)
		__builtin_trap();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fp_nvd_reader *r;
	if (fp_nvd_reader_new(on_cve, NULL, &r, NULL))
		return 0;
	size_t split = size ? (size_t)data[0] * size / 256 : 0;
	if (fp_nvd_reader_feed(r, data, split, NULL) == 0 &&
	    fp_nvd_reader_feed(r, data + split, size - split, NULL) == 0)
		(void)!fp_nvd_reader_finish(r, NULL);
	fp_nvd_reader_free(r);
	return 0;
}
