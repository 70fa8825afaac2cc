/*
 * fuzz_nvd.c — libFuzzer target: the streaming NVD feed reader (lib/nvd.c).
 *
 * The input is pushed in two pieces, split at a point taken from its first
 * byte, so records that span pushes are exercised too. Gzip input is
 * inflated by the reader itself. The same input also goes through a reader
 * told fp_nvd_reader_parse_configs() (records read without a JSON tree when
 * they allow it), which must hand over the same records and end with the
 * same code and message.
 */
#include <stdint.h>
#include <string.h>

#include "../unit/nvd_record_crc.h"
#include "fleetpatch/nvd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	uLong crc;
	unsigned long records;
};

static int on_cve(void *ctx, const struct fp_cve *c, const char *raw, size_t raw_len)
{
	struct seen *s = ctx;
	/* Every delivered record has a valid id and is one JSON object within the cap. */
	if (!fp_cve_id_valid(c->id) || raw_len < 2 || raw_len > FP_NVD_RECORD_MAX ||
	    raw[0] != '{' || raw[raw_len - 1] != '}')
		__builtin_trap();
	if (c->description && strlen(c->description) > raw_len)
		__builtin_trap();
	if (c->configs && (c->configurations || c->configs_text < raw ||
	                   c->configs_text + c->configs_len > raw + raw_len))
		__builtin_trap();
	if (record_crc(&s->crc, c) != 0)
		__builtin_trap();
	s->records++;
	return 0;
}

static int run(const uint8_t *data, size_t size, int fast, struct seen *s, struct fp_err *err)
{
	struct fp_nvd_reader *r;
	memset(s, 0, sizeof(*s));
	fp_err_clear(err);
	if (fp_nvd_reader_new(on_cve, s, &r, err))
		__builtin_trap();
	if (fast)
		fp_nvd_reader_parse_configs(r);
	size_t split = size ? (size_t)data[0] * size / 256 : 0;
	int rc = fp_nvd_reader_feed(r, data, split, err);
	if (rc == 0)
		rc = fp_nvd_reader_feed(r, data + split, size - split, err);
	if (rc == 0)
		rc = fp_nvd_reader_finish(r, err);
	fp_nvd_reader_free(r);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen a, b;
	struct fp_err ea, eb;
	int ra = run(data, size, 0, &a, &ea);
	int rb = run(data, size, 1, &b, &eb);
	if (ra != rb || a.records != b.records || a.crc != b.crc ||
	    (ra && strcmp(ea.msg, eb.msg) != 0))
		__builtin_trap();
	return 0;
}
