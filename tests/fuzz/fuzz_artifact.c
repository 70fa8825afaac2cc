/*
 * fuzz_artifact.c — libFuzzer target: the streaming artifact reader, fed the
 * input whole and again in chunks whose sizes the input's bytes choose; both
 * runs must agree.
 */
#include <stdint.h>
#include <string.h>

#include "fleetpatch/artifact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_TOTAL_MAX (4u << 20)

struct count {
	uint64_t bytes;
	int begins, ends;
};

static int on_begin(void *ctx, size_t i, const struct fp_artifact_payload *p, struct fp_err *err)
{
	(void)err;
	struct count *c = ctx;
	if (!p->name[0] || i >= FP_ARTIFACT_PAYLOADS_MAX)
		__builtin_trap();
	c->begins++;
	return 0;
}

static int on_data(void *ctx, size_t i, const void *buf, size_t n, struct fp_err *err)
{
	(void)i;
	(void)err;
	struct count *c = ctx;
	/* Touch every byte so the sanitizers see the buffer. */
	const volatile uint8_t *p = buf;
	for (size_t k = 0; k < n; k++)
		(void)p[k];
	c->bytes += n;
	return 0;
}

static int on_end(void *ctx, size_t i, const struct fp_artifact_payload *p, struct fp_err *err)
{
	(void)i;
	(void)p;
	(void)err;
	((struct count *)ctx)->ends++;
	return 0;
}

static int run(const uint8_t *data, size_t size, int chunked, struct count *c)
{
	struct fp_artifact_callbacks cb = {NULL, on_begin, on_data, on_end, c};
	struct fp_artifact_reader_opts o = {.total_max = FUZZ_TOTAL_MAX};
	struct fp_artifact_reader *r = NULL;
	struct fp_err err;
	int rc = fp_artifact_reader_new(&cb, &o, &r, &err);
	if (rc)
		return rc;
	size_t off = 0;
	while (!rc && off < size) {
		size_t n = chunked ? (size_t)data[off] % 97 + 1 : size;
		if (n > size - off)
			n = size - off;
		rc = fp_artifact_reader_feed(r, data + off, n, &err);
		off += n;
	}
	if (!rc)
		rc = fp_artifact_reader_finish(r, &err);
	if (!rc) {
		uint64_t len;
		unsigned char d256[32], d512[64];
		if (fp_artifact_reader_digests(r, &len, d256, d512) || len != size ||
		    !fp_artifact_reader_manifest(r))
			__builtin_trap();
	}
	fp_artifact_reader_free(r);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct count a = {0}, b = {0};
	int ra = run(data, size, 0, &a);
	int rb = run(data, size, 1, &b);
	/* Chunking never changes the outcome. */
	if (ra != rb || (ra == 0 && (a.bytes != b.bytes || a.ends != b.ends)))
		__builtin_trap();
	return 0;
}
