/*
 * fuzz_delta.c — libFuzzer target: the streaming delta applier over a fixed
 * 64 KiB base, with the base check skipped so that the fuzzer reaches the
 * windows. The base is FUZZ_BASE_BYTE(i) for i < 65536. The seeds are the
 * delta payloads of `fleetpatch artifact delta --base B --new N` with B
 * those bytes and N: B with moved, new and flipped bytes (seed1), B's first
 * 100 bytes (seed2), B itself (seed3), B 19 times over with flips, two
 * windows (seed4).
 */
#include <stdint.h>
#include <string.h>

#include "fleetpatch/delta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_BASE_SIZE    65536u
#define FUZZ_BASE_BYTE(i) ((uint8_t)(((i)*31u + ((i) >> 8)) & 0xff))

static uint8_t base[FUZZ_BASE_SIZE];

static int read_base(void *ctx, uint64_t off, void *buf, size_t n, struct fp_err *err)
{
	(void)ctx;
	if (off > FUZZ_BASE_SIZE || n > FUZZ_BASE_SIZE - off)
		return fp_err_set(err, FP_EIO, "fuzz: read outside the base");
	memcpy(buf, base + off, n);
	return 0;
}

static int write_out(void *ctx, const void *buf, size_t n, struct fp_err *err)
{
	(void)buf;
	(void)err;
	*(uint64_t *)ctx += n;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (uint32_t i = 0; i < FUZZ_BASE_SIZE; i++)
		base[i] = FUZZ_BASE_BYTE(i);
	uint64_t out = 0;
	struct fp_delta_apply_opts o = {
	    .base_size = FUZZ_BASE_SIZE,
	    .target_max = 4u << 20,
	    .mem_max = 16u << 20,
	    .skip_base_check = 1,
	    .read_base = read_base,
	    .write = write_out,
	    .ctx = &out,
	};
	struct fp_delta_applier *a = NULL;
	struct fp_err err;
	if (fp_delta_applier_new(&o, &a, &err))
		return 0;
	int rc = fp_delta_applier_feed(a, data, size, &err);
	if (!rc)
		rc = fp_delta_applier_finish(a, &err);
	const struct fp_delta_header *h = fp_delta_applier_header(a);
	/* Never more output than the header declares. */
	if (h && out > h->target_size)
		__builtin_trap();
	if (rc == 0 && (!h || out != h->target_size))
		__builtin_trap();
	fp_delta_applier_free(a);
	return 0;
}
