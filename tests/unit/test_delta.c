/*
 * test_delta.c — unit tests of lib/delta.c: round trips over images with
 * moved, modified and new content, fed whole and a byte at a time; a wrong
 * base; corrupt and truncated deltas; the caps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fleetpatch/delta.h"

struct buf {
	unsigned char *p;
	size_t len, cap;
	size_t fail_at; /* write fails once len would pass it; 0: never */
};

static int buf_write(void *ctx, const void *data, size_t n, struct fp_err *err)
{
	struct buf *b = ctx;
	if (b->fail_at && b->len + n > b->fail_at)
		return fp_err_set(err, FP_EIO, "test: disk full");
	if (b->len + n > b->cap) {
		size_t nc = b->cap ? b->cap : 4096;
		while (nc < b->len + n)
			nc *= 2;
		b->p = realloc(b->p, nc);
		assert_non_null(b->p);
		b->cap = nc;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	return 0;
}

struct src {
	const unsigned char *p;
	size_t len;
	size_t reads;
};

static int src_read(void *ctx, uint64_t off, void *out, size_t n, struct fp_err *err)
{
	struct src *s = ctx;
	s->reads++;
	if (off > s->len || n > s->len - off)
		return fp_err_set(err, FP_EIO, "test: read past the base");
	memcpy(out, s->p + off, n);
	return 0;
}

/* The applier's context: a base to read and an output to write. */
struct io {
	struct src base;
	struct buf out;
};

static int io_read(void *ctx, uint64_t off, void *out, size_t n, struct fp_err *err)
{
	return src_read(&((struct io *)ctx)->base, off, out, n, err);
}

static int io_write(void *ctx, const void *data, size_t n, struct fp_err *err)
{
	return buf_write(&((struct io *)ctx)->out, data, n, err);
}

static uint64_t rng_state = 0x1234567;

static uint32_t rnd(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng_state >> 33);
}

/* Text-like random bytes: compressible, but not trivially. */
static void fill(unsigned char *p, size_t n)
{
	static const char words[][8] = {"lib",  "usr", "bin",  "etc", "share", "doc",
	                                "conf", "x86", "so.6", "gnu", "1.2",   "data"};
	size_t i = 0;
	while (i < n) {
		const char *w = words[rnd() % 12];
		for (size_t k = 0; w[k] && i < n; k++)
			p[i++] = (unsigned char)w[k];
		if (i < n)
			p[i++] = (unsigned char)(rnd() & 0xff);
	}
}

/*
 * A base of n bytes and a target made from it the way an upgrade changes a
 * filesystem image: a block moved forward, a region modified in place, new
 * bytes inserted (shifting the rest), a zeroed region.
 */
static void make_pair(size_t n, unsigned char **base, unsigned char **tgt, size_t *tlen)
{
	unsigned char *b = malloc(n), *t = malloc(n + n / 8);
	assert_non_null(b);
	assert_non_null(t);
	fill(b, n);
	size_t q = n / 8, o = 0;
	memcpy(t + o, b + 3 * q, q); /* moved */
	o += q;
	memcpy(t + o, b, 2 * q); /* the start, then modified in place */
	for (size_t i = 0; i < q / 2; i += 97)
		t[o + q / 2 + i] ^= 0x5a;
	o += 2 * q;
	fill(t + o, q); /* new */
	o += q;
	memcpy(t + o, b + 4 * q, 3 * q); /* the rest, shifted */
	o += 3 * q;
	memset(t + o, 0, q / 2); /* zeros */
	o += q / 2;
	*base = b;
	*tgt = t;
	*tlen = o;
}

static int make_delta(const unsigned char *b, size_t bl, const unsigned char *t, size_t tl,
                      const struct fp_delta_params *pr, struct buf *d)
{
	struct fp_err err = {0};
	int rc = fp_delta_create(b, bl, t, tl, pr, buf_write, d, NULL, &err);
	if (rc)
		print_message("create: %s\n", err.msg);
	return rc;
}

/* Applies d to base, feeding `step` bytes at a time (0: all at once). */
static int apply(const unsigned char *base, size_t bl, const struct buf *d, size_t step,
                 struct io *io, struct fp_err *err)
{
	struct fp_delta_applier *a = NULL;
	memset(io, 0, sizeof(*io));
	io->base.p = base;
	io->base.len = bl;
	struct fp_delta_apply_opts o = {
	    .base_size = bl, .read_base = io_read, .write = io_write, .ctx = io};
	int rc = fp_delta_applier_new(&o, &a, err);
	if (rc)
		return rc;
	size_t off = 0;
	while (!rc && off < d->len) {
		size_t n = step && step < d->len - off ? step : d->len - off;
		rc = fp_delta_applier_feed(a, d->p + off, n, err);
		off += n;
	}
	if (!rc)
		rc = fp_delta_applier_finish(a, err);
	fp_delta_applier_free(a);
	return rc;
}

static void round_trip(void **state)
{
	(void)state;
	unsigned char *b, *t;
	size_t tl;
	make_pair(1 << 20, &b, &t, &tl);
	struct fp_delta_params pr = {.window_size = 64 << 10, .prefix_max = 256 << 10, .level = 3};
	struct buf d = {0};
	assert_int_equal(make_delta(b, 1 << 20, t, tl, &pr, &d), 0);
	/* Most of the target is in the base: the delta is far smaller than the image. */
	assert_true(d.len < tl / 6);
	struct io io;
	struct fp_err err = {0};
	assert_int_equal(apply(b, 1 << 20, &d, 0, &io, &err), 0);
	assert_int_equal(io.out.len, tl);
	assert_memory_equal(io.out.p, t, tl);
	free(io.out.p);
	/* Odd chunk sizes give the same result. */
	size_t steps[] = {1, 7, 4093, 65536};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		assert_int_equal(apply(b, 1 << 20, &d, steps[i], &io, &err), 0);
		assert_int_equal(io.out.len, tl);
		assert_memory_equal(io.out.p, t, tl);
		free(io.out.p);
	}
	free(d.p);
	free(b);
	free(t);
}

static void default_params_and_edges(void **state)
{
	(void)state;
	unsigned char *b, *t;
	size_t tl;
	make_pair(3 << 20, &b, &t, &tl);
	struct buf d = {0};
	struct io io;
	struct fp_err err = {0};
	struct fp_delta_params fast = {.level = 1};
	assert_int_equal(make_delta(b, 3 << 20, t, tl, &fast, &d), 0);
	assert_int_equal(apply(b, 3 << 20, &d, 0, &io, &err), 0);
	assert_memory_equal(io.out.p, t, tl);
	free(io.out.p);
	free(d.p);
	/* Empty target, empty base, both empty, images shorter than a block. */
	const struct {
		size_t bl, tl;
	} cases[] = {{1000, 0}, {0, 1000}, {0, 0}, {10, 10}, {100, 5000}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&d, 0, sizeof(d));
		assert_int_equal(make_delta(b, cases[i].bl, t, cases[i].tl, &fast, &d), 0);
		assert_int_equal(apply(b, cases[i].bl, &d, 3, &io, &err), 0);
		assert_int_equal(io.out.len, cases[i].tl);
		if (cases[i].tl)
			assert_memory_equal(io.out.p, t, cases[i].tl);
		free(io.out.p);
		free(d.p);
	}
	free(b);
	free(t);
}

static void wrong_base(void **state)
{
	(void)state;
	unsigned char *b, *t;
	size_t tl, bl = 256 << 10;
	make_pair(bl, &b, &t, &tl);
	struct fp_delta_params pr = {.window_size = 32 << 10, .level = 3};
	struct buf d = {0};
	assert_int_equal(make_delta(b, bl, t, tl, &pr, &d), 0);
	struct io io;
	struct fp_err err = {0};
	/* Same size, one byte different: refused before any output. */
	b[1000] ^= 1;
	assert_int_equal(apply(b, bl, &d, 0, &io, &err), FP_ECONFLICT);
	assert_non_null(strstr(err.msg, "wrong base"));
	assert_int_equal(io.out.len, 0);
	b[1000] ^= 1;
	/* Another size. */
	assert_int_equal(apply(b, bl - 1, &d, 0, &io, &err), FP_ECONFLICT);
	assert_non_null(strstr(err.msg, "wrong base"));
	assert_int_equal(io.out.len, 0);
	free(d.p);
	free(b);
	free(t);
}

static void corrupt_and_truncated(void **state)
{
	(void)state;
	unsigned char *b, *t;
	size_t tl, bl = 128 << 10;
	make_pair(bl, &b, &t, &tl);
	struct fp_delta_params pr = {.window_size = 16 << 10, .level = 3};
	struct buf d = {0};
	assert_int_equal(make_delta(b, bl, t, tl, &pr, &d), 0);
	struct io io;
	struct fp_err err = {0};
	/* Every truncation fails at finish (or earlier), never succeeds. */
	for (size_t cut = 0; cut < d.len; cut += cut < 200 ? 1 : 97) {
		struct buf part = {.p = d.p, .len = cut};
		int rc = apply(b, bl, &part, 0, &io, &err);
		assert_int_not_equal(rc, 0);
		free(io.out.p);
	}
	/* Every flipped byte is caught: bad header, bad extents, zstd error, or the hash. */
	for (size_t i = 0; i < d.len; i += i < 300 ? 1 : 53) {
		d.p[i] ^= 0x21;
		int rc = apply(b, bl, &d, 0, &io, &err);
		d.p[i] ^= 0x21;
		/* A flip zstd does not notice (its window descriptor) still gives the target. */
		if (rc == 0) {
			assert_int_equal(io.out.len, tl);
			assert_memory_equal(io.out.p, t, tl);
		} else {
			assert_true(err.msg[0] != '\0');
		}
		free(io.out.p);
	}
	/* Trailing garbage. */
	struct buf more = {0};
	assert_int_equal(buf_write(&more, d.p, d.len, NULL), 0);
	assert_int_equal(buf_write(&more, "x", 1, NULL), 0);
	assert_int_equal(apply(b, bl, &more, 0, &io, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "after the last window"));
	free(io.out.p);
	free(more.p);
	/* A failing write stops the applier with the writer's code, which then sticks. */
	struct fp_delta_applier *a = NULL;
	memset(&io, 0, sizeof(io));
	io.base.p = b;
	io.base.len = bl;
	io.out.fail_at = 1000;
	struct fp_delta_apply_opts o = {
	    .base_size = bl, .read_base = io_read, .write = io_write, .ctx = &io};
	assert_int_equal(fp_delta_applier_new(&o, &a, &err), 0);
	assert_int_equal(fp_delta_applier_feed(a, d.p, d.len, &err), FP_EIO);
	assert_int_equal(fp_delta_applier_feed(a, d.p, 1, &err), FP_EIO);
	assert_int_equal(fp_delta_applier_finish(a, &err), FP_EIO);
	fp_delta_applier_free(a);
	free(io.out.p);
	free(d.p);
	free(b);
	free(t);
}

static void caps(void **state)
{
	(void)state;
	unsigned char *b, *t;
	size_t tl, bl = 128 << 10;
	make_pair(bl, &b, &t, &tl);
	struct fp_delta_params pr = {.window_size = 16 << 10, .level = 3};
	struct buf d = {0};
	assert_int_equal(make_delta(b, bl, t, tl, &pr, &d), 0);
	struct fp_delta_header h;
	struct fp_err err = {0};
	assert_int_equal(fp_delta_header_parse(d.p, d.len, &h, &err), 0);
	assert_int_equal(h.target_size, tl);
	/* mem_max exactly what it needs passes; one byte less is refused. */
	struct io io = {.base = {.p = b, .len = bl}};
	struct fp_delta_applier *a = NULL;
	struct fp_delta_apply_opts o = {.base_size = bl,
	                                .mem_max = fp_delta_apply_mem(&h) - 1,
	                                .read_base = io_read,
	                                .write = io_write,
	                                .ctx = &io};
	assert_int_equal(fp_delta_applier_new(&o, &a, &err), 0);
	assert_int_equal(fp_delta_applier_feed(a, d.p, d.len, &err), FP_ETOOBIG);
	assert_non_null(strstr(err.msg, "memory"));
	fp_delta_applier_free(a);
	o.mem_max++;
	assert_int_equal(fp_delta_applier_new(&o, &a, &err), 0);
	assert_int_equal(fp_delta_applier_feed(a, d.p, d.len, &err), 0);
	assert_int_equal(fp_delta_applier_finish(a, &err), 0);
	fp_delta_applier_free(a);
	free(io.out.p);
	/* target_max one byte under the target is refused. */
	memset(&io.out, 0, sizeof(io.out));
	o.mem_max = 0;
	o.target_max = tl - 1;
	assert_int_equal(fp_delta_applier_new(&o, &a, &err), 0);
	assert_int_equal(fp_delta_applier_feed(a, d.p, d.len, &err), FP_ETOOBIG);
	fp_delta_applier_free(a);
	/* Header fields over the caps. */
	unsigned char hdr[FP_DELTA_HEADER_SIZE];
	memcpy(hdr, d.p, sizeof(hdr));
	hdr[12] = 0x04; /* window 64 MiB + ...: over FP_DELTA_WINDOW_MAX */
	hdr[13] = 0x00;
	hdr[14] = 0x00;
	hdr[15] = 0x01;
	assert_int_equal(fp_delta_header_parse(hdr, sizeof(hdr), &h, &err), FP_ETOOBIG);
	memcpy(hdr, d.p, sizeof(hdr));
	hdr[23] = FP_DELTA_WINDOW_LOG_MAX + 1;
	assert_int_equal(fp_delta_header_parse(hdr, sizeof(hdr), &h, &err), FP_ETOOBIG);
	memcpy(hdr, d.p, sizeof(hdr));
	hdr[11] = 2;
	assert_int_equal(fp_delta_header_parse(hdr, sizeof(hdr), &h, &err), FP_EUNSUPP);
	hdr[0] = 'X';
	assert_int_equal(fp_delta_header_parse(hdr, sizeof(hdr), &h, &err), FP_EINVAL);
	assert_int_equal(fp_delta_header_parse(d.p, FP_DELTA_HEADER_SIZE - 1, &h, &err), FP_EINVAL);
	/* Hand-made windows: an extent far outside the base, past the prefix, empty. */
	const unsigned char huge_step[] = {1,    0xfe, 0xff, 0xff, 0xff, 0xff,
	                                   0xff, 0xff, 0xff, 0xff, 0x01, 1};
	const unsigned char zero_len[] = {1, 0, 0};
	const unsigned char too_many[] = {0xff, 0xff, 0x7f};
	const struct {
		const unsigned char *w;
		size_t n;
		int code;
	} hand[] = {
	    {huge_step, sizeof(huge_step), FP_EINVAL},
	    {zero_len, sizeof(zero_len), FP_EINVAL},
	    {too_many, sizeof(too_many), FP_ETOOBIG},
	};
	for (size_t i = 0; i < sizeof(hand) / sizeof(hand[0]); i++) {
		memset(&io.out, 0, sizeof(io.out));
		o.target_max = 0;
		assert_int_equal(fp_delta_applier_new(&o, &a, &err), 0);
		assert_int_equal(fp_delta_applier_feed(a, d.p, FP_DELTA_HEADER_SIZE, &err), 0);
		assert_int_equal(fp_delta_applier_feed(a, hand[i].w, hand[i].n, &err),
		                 hand[i].code);
		fp_delta_applier_free(a);
	}
	/* Creator parameters out of range. */
	struct fp_delta_params bad = {.window_size = 100};
	struct buf d2 = {0};
	assert_int_equal(fp_delta_create(b, bl, t, tl, &bad, buf_write, &d2, NULL, &err),
	                 FP_EINVAL);
	free(d.p);
	free(b);
	free(t);
}

/* The applier's memory does not depend on the image: the header states it from the windows. */
static void memory_bound(void **state)
{
	(void)state;
	unsigned char *b, *t;
	size_t tl, bl = 4 << 20;
	make_pair(bl, &b, &t, &tl);
	struct fp_delta_params pr = {.window_size = 256 << 10, .prefix_max = 512 << 10, .level = 1};
	struct buf d = {0};
	assert_int_equal(make_delta(b, bl, t, tl, &pr, &d), 0);
	struct fp_delta_header h;
	struct fp_err err = {0};
	assert_int_equal(fp_delta_header_parse(d.p, d.len, &h, &err), 0);
	assert_true(h.prefix_max <= pr.prefix_max);
	assert_true(fp_delta_apply_mem(&h) <= (512 << 10) + (256 << 10) + (1 << 20));
	struct io io;
	int rc = apply(b, bl, &d, 0, &io, &err);
	if (rc)
		print_message("apply: %s\n", err.msg);
	assert_int_equal(rc, 0);
	assert_memory_equal(io.out.p, t, tl);
	free(io.out.p);
	free(d.p);
	free(b);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(round_trip), cmocka_unit_test(default_params_and_edges),
	    cmocka_unit_test(wrong_base), cmocka_unit_test(corrupt_and_truncated),
	    cmocka_unit_test(caps),       cmocka_unit_test(memory_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
