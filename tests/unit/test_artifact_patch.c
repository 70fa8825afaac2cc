/*
 * test_artifact_patch.c — a delta artifact applied as it streams
 * (lib/artifact_patch.c), as the agent and `fleetpatch artifact apply-delta`
 * use it: the new image comes out whole and in order from any split of the
 * input; everything the header lists is refused with its reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fleetpatch/artifact.h"
#include "fleetpatch/artifact_patch.h"
#include "fleetpatch/delta.h"
#include "fleetpatch/secret.h"

struct bytes {
	unsigned char *p;
	size_t len, cap;
};

static int bytes_write(void *ctx, const void *buf, size_t n, struct fp_err *err)
{
	struct bytes *b = ctx;
	(void)err;
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, buf, n);
	b->len += n;
	return 0;
}

static unsigned char base[200000], target[210000];

/* What the patcher reads the base from, and writes the image into. */
struct io {
	const unsigned char *base;
	size_t base_len;
	struct bytes out;
};

static int read_base(void *ctx, uint64_t off, void *buf, size_t n, struct fp_err *err)
{
	struct io *io = ctx;
	if (off + n > io->base_len)
		return fp_err_set(err, FP_EIO, "read past the base");
	memcpy(buf, io->base + off, n);
	return 0;
}

static int write_out(void *ctx, const void *buf, size_t n, struct fp_err *err)
{
	struct io *io = ctx;
	return bytes_write(&io->out, buf, n, err);
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)(seed >> 16);
	}
}

static struct bytes delta_bytes;
static struct fp_artifact_delta delta_meta;

static int setup(void **state)
{
	(void)state;
	fill(base, sizeof(base), 1);
	memcpy(target, base + 1000, 150000); /* mostly the base, moved */
	fill(target + 150000, sizeof(target) - 150000, 2);
	struct fp_err err = {0};
	assert_int_equal(fp_delta_create(base, sizeof(base), target, sizeof(target), NULL,
	                                 bytes_write, &delta_bytes, NULL, &err),
	                 0);
	delta_meta.base_size = sizeof(base);
	delta_meta.target_size = sizeof(target);
	fp_sha256(base, sizeof(base), delta_meta.base_sha256);
	fp_sha256(target, sizeof(target), delta_meta.target_sha256);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(delta_bytes.p);
	return 0;
}

/* An artifact of the given inputs, in memory. */
static void artifact(const struct fp_artifact_input *in, size_t n, struct bytes *out)
{
	FILE *f = tmpfile();
	struct fp_err err = {0};
	assert_non_null(f);
	if (fp_artifact_write(fileno(f), "2.0", NULL, 0, in, n, &err) != 0)
		fail_msg("artifact: %s", err.msg);
	off_t len = lseek(fileno(f), 0, SEEK_END);
	out->p = malloc((size_t)len);
	out->len = out->cap = (size_t)len;
	assert_int_equal(pread(fileno(f), out->p, (size_t)len, 0), len);
	fclose(f);
}

static struct fp_artifact_input delta_input(const struct fp_artifact_delta *meta)
{
	return (struct fp_artifact_input){.name = "rootfs",
	                                  .type = "image",
	                                  .data = delta_bytes.p,
	                                  .len = delta_bytes.len,
	                                  .delta = meta};
}

/* Feeds a, step bytes at a time, through a patcher over base_len bytes of the base. */
static int run(const struct bytes *a, size_t step, size_t base_len, int prefix,
               uint64_t target_size, struct io *io, struct fp_err *err)
{
	memset(io, 0, sizeof(*io));
	io->base = base;
	io->base_len = base_len;
	struct fp_artifact_patch_opts o = {.base_size = base_len,
	                                   .base_prefix = prefix,
	                                   .target_size = target_size,
	                                   .read_base = read_base,
	                                   .write = write_out,
	                                   .ctx = io};
	struct fp_artifact_patcher *p = NULL;
	int rc = fp_artifact_patcher_new(&o, &p, err);
	for (size_t off = 0; rc == 0 && off < a->len; off += step)
		rc = fp_artifact_patcher_feed(p, a->p + off,
		                              a->len - off < step ? a->len - off : step, err);
	if (rc == 0)
		rc = fp_artifact_patcher_finish(p, err);
	fp_artifact_patcher_free(p);
	return rc;
}

static void test_applies(void **state)
{
	(void)state;
	struct fp_artifact_input in = delta_input(&delta_meta);
	struct bytes a = {0};
	struct io io;
	struct fp_err err = {0};
	artifact(&in, 1, &a);
	static const size_t steps[] = {1 << 20, 4096, 333, 7};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (run(&a, steps[i], sizeof(base), 0, sizeof(target), &io, &err) != 0)
			fail_msg("step %zu: %s", steps[i], err.msg);
		assert_int_equal(io.out.len, sizeof(target));
		assert_memory_equal(io.out.p, target, sizeof(target));
		free(io.out.p);
	}
	/* A slot larger than the image (the image is its first bytes): only with base_prefix. */
	assert_int_equal(run(&a, 4096, sizeof(base) - 1, 0, 0, &io, &err), FP_ECONFLICT);
	assert_non_null(strstr(err.msg, "wrong base"));
	free(io.out.p);
	free(a.p);
}

static void test_refused(void **state)
{
	(void)state;
	struct bytes a = {0};
	struct io io;
	struct fp_err err = {0};
	struct fp_artifact_input in = delta_input(&delta_meta);
	artifact(&in, 1, &a);
	/* Another signed length than the delta makes. */
	assert_int_equal(run(&a, 4096, sizeof(base), 1, sizeof(target) + 1, &io, &err), FP_EAUTH);
	assert_non_null(strstr(err.msg, "the full target is signed for"));
	assert_int_equal(io.out.len, 0);
	/* A base smaller than the one the delta needs, even as a prefix. */
	assert_int_equal(run(&a, 4096, 1000, 1, 0, &io, &err), FP_ECONFLICT);
	assert_non_null(strstr(err.msg, "wrong base"));
	/* Cut short: the reader says so at the end. */
	struct bytes cut = {.p = a.p, .len = a.len - 10};
	assert_int_not_equal(run(&cut, 4096, sizeof(base), 0, 0, &io, &err), 0);
	free(io.out.p);
	free(a.p);

	/* A full payload instead of a delta. */
	struct fp_artifact_input full = {
	    .name = "rootfs", .type = "image", .data = target, .len = sizeof(target)};
	artifact(&full, 1, &a);
	assert_int_equal(run(&a, 4096, sizeof(base), 0, 0, &io, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "payload 'rootfs' is not a delta"));
	free(a.p);

	/* Two deltas. */
	struct fp_artifact_input two[2] = {delta_input(&delta_meta), delta_input(&delta_meta)};
	two[1].name = "rootfs2";
	artifact(two, 2, &a);
	assert_int_equal(run(&a, 4096, sizeof(base), 0, 0, &io, &err), FP_EUNSUPP);
	assert_non_null(strstr(err.msg, "more than one delta"));
	free(io.out.p);
	free(a.p);

	/* A manifest that names another target than the delta's header. */
	struct fp_artifact_delta other = delta_meta;
	other.target_sha256[0] ^= 1;
	in = delta_input(&other);
	artifact(&in, 1, &a);
	assert_int_equal(run(&a, 4096, sizeof(base), 0, 0, &io, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "different images"));
	free(io.out.p);
	free(a.p);

	/* No reader or writer. */
	struct fp_artifact_patcher *p = NULL;
	struct fp_artifact_patch_opts none = {.base_size = 1};
	assert_int_equal(fp_artifact_patcher_new(&none, &p, &err), FP_EINVAL);
	assert_null(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_applies),
	    cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
