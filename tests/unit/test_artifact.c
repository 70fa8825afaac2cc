/*
 * test_artifact.c — unit tests of lib/artifact.c: the writer and the
 * streaming reader agree, chunking does not matter, every truncation and
 * every corrupted byte is caught, and each cap holds at exactly its value
 * and fails one over.
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
#include <openssl/evp.h>
#include <zstd.h>

#include "fleetpatch/artifact.h"

struct bytes {
	unsigned char *p;
	size_t len;
};

static void append(struct bytes *b, const void *p, size_t n)
{
	b->p = realloc(b->p, b->len + n + 1);
	assert_non_null(b->p);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* What the callbacks saw. */
struct seen {
	int manifests, begins, ends;
	struct bytes content[FP_ARTIFACT_PAYLOADS_MAX];
	int fail_in_data; /* the data callback fails with FP_EIO when set */
};

static int on_manifest(void *ctx, const struct fp_artifact_manifest *m, struct fp_err *err)
{
	(void)m;
	(void)err;
	((struct seen *)ctx)->manifests++;
	return 0;
}

static int on_begin(void *ctx, size_t i, const struct fp_artifact_payload *p, struct fp_err *err)
{
	(void)i;
	(void)p;
	(void)err;
	((struct seen *)ctx)->begins++;
	return 0;
}

static int on_data(void *ctx, size_t i, const void *buf, size_t n, struct fp_err *err)
{
	struct seen *s = ctx;
	if (s->fail_in_data)
		return fp_err_set(err, FP_EIO, "test: the slot cannot be written");
	append(&s->content[i], buf, n);
	return 0;
}

static int on_end(void *ctx, size_t i, const struct fp_artifact_payload *p, struct fp_err *err)
{
	(void)i;
	(void)p;
	(void)err;
	((struct seen *)ctx)->ends++;
	return 0;
}

static void seen_free(struct seen *s)
{
	for (size_t i = 0; i < FP_ARTIFACT_PAYLOADS_MAX; i++)
		free(s->content[i].p);
	memset(s, 0, sizeof(*s));
}

/* Reads a whole artifact, `step` bytes at a time (0: at once). */
static int read_all(const struct bytes *a, size_t step, const struct fp_artifact_reader_opts *o,
                    struct seen *s, struct fp_artifact_reader **keep, struct fp_err *err)
{
	struct fp_artifact_callbacks cb = {on_manifest, on_begin, on_data, on_end, s};
	struct fp_artifact_reader *r = NULL;
	int rc = fp_artifact_reader_new(&cb, o, &r, err);
	assert_int_equal(rc, 0);
	for (size_t off = 0; !rc && off < a->len;) {
		size_t n = step && step < a->len - off ? step : a->len - off;
		rc = fp_artifact_reader_feed(r, a->p + off, n, err);
		off += n;
	}
	if (!rc)
		rc = fp_artifact_reader_finish(r, err);
	if (keep)
		*keep = r;
	else
		fp_artifact_reader_free(r);
	return rc;
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)((i % 64 < 40) ? 'a' + (seed >> 16) % 6 : (seed >> 16));
	}
}

/* Writes an artifact with fp_artifact_write into memory (through a temporary file). */
static int write_artifact(const struct fp_artifact_input *in, size_t n, struct bytes *out,
                          struct fp_err *err)
{
	static const char *const compat[] = {"rpi4", "rpi5"};
	FILE *f = tmpfile();
	assert_non_null(f);
	int rc = fp_artifact_write(fileno(f), "2.1.0", compat, 2, in, n, err);
	if (rc == 0) {
		long len = lseek(fileno(f), 0, SEEK_END);
		out->p = malloc((size_t)len + 1);
		out->len = (size_t)len;
		assert_int_equal(pread(fileno(f), out->p, (size_t)len, 0), len);
	}
	fclose(f);
	return rc;
}

static unsigned char img[300000], txt[5000];

/*
 * A sample artifact: an image of img_len bytes (zstd), a text file, an empty
 * module. The truncation and corruption tests use a small image, since they
 * read the artifact once per offset.
 */
static size_t img_len = sizeof(img);

static void make_sample(struct bytes *a)
{
	fill(img, sizeof(img), 1);
	fill(txt, sizeof(txt), 2);
	struct fp_artifact_input in[] = {
	    {.name = "rootfs",
	     .type = "image",
	     .data = img,
	     .len = img_len,
	     .compression = FP_ARTIFACT_COMP_ZSTD},
	    {.name = "app.conf", .type = "file", .data = txt, .len = sizeof(txt)},
	    {.name = "empty", .type = "module", .data = "", .len = 0},
	};
	struct fp_err err = {0};
	memset(a, 0, sizeof(*a));
	assert_int_equal(write_artifact(in, 3, a, &err), 0);
}

static void round_trip(void **state)
{
	(void)state;
	struct bytes a;
	make_sample(&a);
	/* zstd made the image payload smaller than its content. */
	assert_true(a.len < sizeof(img) + sizeof(txt));
	size_t steps[] = {0, 1, 3, 4096, 65536};
	for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		struct seen s = {0};
		struct fp_err err = {0};
		struct fp_artifact_reader *r = NULL;
		assert_int_equal(read_all(&a, steps[k], NULL, &s, &r, &err), 0);
		assert_int_equal(s.manifests, 1);
		assert_int_equal(s.begins, 3);
		assert_int_equal(s.ends, 3);
		assert_int_equal(s.content[0].len, sizeof(img));
		assert_memory_equal(s.content[0].p, img, sizeof(img));
		assert_int_equal(s.content[1].len, sizeof(txt));
		assert_memory_equal(s.content[1].p, txt, sizeof(txt));
		assert_int_equal(s.content[2].len, 0);
		const struct fp_artifact_manifest *m = fp_artifact_reader_manifest(r);
		assert_non_null(m);
		assert_string_equal(m->version, "2.1.0");
		assert_int_equal(m->n_compatible, 2);
		assert_string_equal(m->compatible[1], "rpi5");
		assert_int_equal(m->payloads[0].compression, FP_ARTIFACT_COMP_ZSTD);
		assert_int_equal(m->payloads[0].content_size, sizeof(img));
		/* The whole-file digests are those of the bytes fed. */
		uint64_t len;
		unsigned char d256[32], d512[64], w256[32], w512[64];
		assert_int_equal(fp_artifact_reader_digests(r, &len, d256, d512), 0);
		assert_int_equal(len, a.len);
		EVP_Digest(a.p, a.len, w256, NULL, EVP_sha256(), NULL);
		EVP_Digest(a.p, a.len, w512, NULL, EVP_sha512(), NULL);
		assert_memory_equal(d256, w256, 32);
		assert_memory_equal(d512, w512, 64);
		fp_artifact_reader_free(r);
		seen_free(&s);
	}
	/* raw: the compressed payload comes out as stored. */
	struct seen s = {0};
	struct fp_err err = {0};
	struct fp_artifact_reader_opts raw = {.raw = 1};
	assert_int_equal(read_all(&a, 0, &raw, &s, NULL, &err), 0);
	assert_true(s.content[0].len < sizeof(img));
	assert_int_equal(ZSTD_getFrameContentSize(s.content[0].p, s.content[0].len), sizeof(img));
	seen_free(&s);
	free(a.p);
	/* Incompressible bytes grow a little under zstd; raw mode hands them out all the same. */
	unsigned char noise[4096];
	uint64_t x = 88172645463325252ull;
	for (size_t i = 0; i < sizeof(noise); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		noise[i] = (unsigned char)(x >> 24);
	}
	struct fp_artifact_input in = {.name = "noise",
	                               .type = "image",
	                               .data = noise,
	                               .len = sizeof(noise),
	                               .compression = FP_ARTIFACT_COMP_ZSTD};
	memset(&a, 0, sizeof(a));
	assert_int_equal(write_artifact(&in, 1, &a, &err), 0);
	assert_int_equal(read_all(&a, 0, &raw, &s, NULL, &err), 0);
	assert_true(s.content[0].len > sizeof(noise));
	seen_free(&s);
	assert_int_equal(read_all(&a, 5, NULL, &s, NULL, &err), 0);
	assert_int_equal(s.content[0].len, sizeof(noise));
	assert_memory_equal(s.content[0].p, noise, sizeof(noise));
	seen_free(&s);
	free(a.p);
}

static void truncation_everywhere(void **state)
{
	(void)state;
	struct bytes a;
	img_len = 3000;
	make_sample(&a);
	img_len = sizeof(img);
	for (size_t cut = 0; cut < a.len; cut++) {
		struct bytes part = {a.p, cut};
		struct seen s = {0};
		struct fp_err err = {0};
		assert_int_equal(read_all(&part, 0, NULL, &s, NULL, &err), FP_EINVAL);
		assert_non_null(strstr(err.msg, "truncated"));
		/* A payload is never reported complete before all its bytes are there. */
		assert_true(s.ends < 3);
		seen_free(&s);
	}
	/* Trailing bytes. */
	append(&a, "\0", 1);
	struct seen s = {0};
	struct fp_err err = {0};
	assert_int_equal(read_all(&a, 0, NULL, &s, NULL, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "after the last payload"));
	seen_free(&s);
	free(a.p);
}

static void corruption_everywhere(void **state)
{
	(void)state;
	struct bytes a;
	img_len = 3000;
	make_sample(&a);
	img_len = sizeof(img);
	/*
	 * Any flipped byte in the header or a payload fails. In the manifest a
	 * flip may still parse (a version "2.1.0" becomes "r.1.0"): then the
	 * manifest's sha256, which the TUF target names, differs.
	 */
	size_t mend = FP_ARTIFACT_HEADER_SIZE + ((size_t)a.p[14] << 8 | a.p[15]);
	unsigned char good[32];
	struct fp_artifact_reader *r = NULL;
	struct seen s0 = {0};
	struct fp_err e0 = {0};
	assert_int_equal(read_all(&a, 0, NULL, &s0, &r, &e0), 0);
	assert_int_equal(fp_artifact_reader_manifest_sha256(r, good), 0);
	fp_artifact_reader_free(r);
	seen_free(&s0);
	for (size_t i = 0; i < a.len; i++) {
		a.p[i] ^= 0x40;
		struct seen s = {0};
		struct fp_err err = {0};
		int rc = read_all(&a, 0, NULL, &s, &r, &err);
		a.p[i] ^= 0x40;
		if (rc == 0) {
			unsigned char md[32];
			assert_true(i >= FP_ARTIFACT_HEADER_SIZE && i < mend);
			assert_int_equal(fp_artifact_reader_manifest_sha256(r, md), 0);
			assert_memory_not_equal(md, good, 32);
		} else {
			assert_true(err.msg[0] != '\0');
		}
		fp_artifact_reader_free(r);
		seen_free(&s);
	}
	/* A payload byte: the error names the payload and its hash. */
	a.p[a.len - 10] ^= 1;
	struct seen s = {0};
	struct fp_err err = {0};
	assert_int_equal(read_all(&a, 7, NULL, &s, NULL, &err), FP_ECRYPTO);
	assert_non_null(strstr(err.msg, "payload \"app.conf\" is corrupt"));
	seen_free(&s);
	free(a.p);
}

/* Builds header + manifest json + payload bytes by hand. */
static void handmade(const char *json, const void *payload, size_t plen, struct bytes *out)
{
	unsigned char hdr[FP_ARTIFACT_HEADER_SIZE];
	fp_artifact_header(strlen(json), hdr);
	memset(out, 0, sizeof(*out));
	append(out, hdr, sizeof(hdr));
	append(out, json, strlen(json));
	if (plen)
		append(out, payload, plen);
}

static int read_handmade(const char *json, const void *payload, size_t plen, struct fp_err *err)
{
	struct bytes a;
	struct seen s = {0};
	handmade(json, payload, plen, &a);
	int rc = read_all(&a, 0, NULL, &s, NULL, err);
	seen_free(&s);
	free(a.p);
	return rc;
}

#define SHA_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static void manifest_rules(void **state)
{
	(void)state;
	struct fp_err err = {0};
	/* The minimal valid artifact. */
	assert_int_equal(
	    read_handmade("{\"payloads\":[{\"name\":\"a\",\"type\":\"file\",\"size\":3,"
	                  "\"sha256\":\"" SHA_ABC "\"}]}",
	                  "abc", 3, &err),
	    0);
	const struct {
		const char *json;
		int code;
		const char *msg;
	} bad[] = {
	    {"[]", FP_EINVAL, "JSON object"},
	    {"{\"payloads\":[]}", FP_EINVAL, "non-empty"},
	    {"{\"payloads\":[{\"name\":\"a\",\"type\":\"file\",\"size\":3,\"sha256\":\"" SHA_ABC
	     "\",\"x\":1}]}",
	     FP_EINVAL, "unknown member \"x\""},
	    {"{\"payloads\":[{\"name\":\"a/b\",\"type\":\"file\",\"size\":3,\"sha256\":\"" SHA_ABC
	     "\"}]}",
	     FP_EINVAL, "name"},
	    {"{\"payloads\":[{\"name\":\"..\",\"type\":\"file\",\"size\":3,\"sha256\":\"" SHA_ABC
	     "\"}]}",
	     FP_EINVAL, "name"},
	    {"{\"payloads\":[{\"name\":\"a\",\"type\":\"disk\",\"size\":3,\"sha256\":\"" SHA_ABC
	     "\"}]}",
	     FP_EINVAL, "type \"disk\""},
	    {"{\"payloads\":[{\"name\":\"a\",\"type\":\"file\",\"size\":-3,\"sha256\":\"" SHA_ABC
	     "\"}]}",
	     FP_EINVAL, "non-negative"},
	    {"{\"payloads\":[{\"name\":\"a\",\"type\":\"file\",\"size\":3,\"sha256\":"
	     "\"BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD\"}]}",
	     FP_EINVAL, "lowercase hex"},
	    {"{\"payloads\":[{\"name\":\"a\",\"type\":\"file\",\"size\":3,\"sha256\":\"" SHA_ABC
	     "\",\"compression\":\"xz\"}]}",
	     FP_EINVAL, "compression"},
	    {"{\"payloads\":[{\"name\":\"a\",\"type\":\"file\",\"size\":3,\"sha256\":\"" SHA_ABC
	     "\",\"content_size\":3}]}",
	     FP_EINVAL, "content_size"},
	    {"{\"payloads\":[{\"name\":\"a\",\"type\":\"file\",\"size\":3,\"sha256\":\"" SHA_ABC
	     "\"},{\"name\":\"a\",\"type\":\"file\",\"size\":0,\"sha256\":\"" SHA_ABC "\"}]}",
	     FP_EINVAL, "two payloads"},
	    {"{\"payloads\":[{\"name\":\"a\",\"type\":\"file\",\"size\":3,\"sha256\":\"" SHA_ABC
	     "\",\"delta\":{\"base_size\":1,\"base_sha256\":\"" SHA_ABC
	     "\",\"target_size\":1,\"target_sha256\":\"" SHA_ABC "\"}}]}",
	     FP_EINVAL, "uncompressed image"},
	    {"{\"payloads\":[{\"name\":\"a\",\"type\":\"image\",\"size\":3,\"sha256\":\"" SHA_ABC
	     "\",\"delta\":{\"base_size\":1,\"target_size\":1,\"target_sha256\":\"" SHA_ABC
	     "\"}}]}",
	     FP_EINVAL, "base_sha256"},
	    {"{\"payloads\":[{\"name\":\"a\",\"type\":\"file\",\"size\":3,\"sha256\":\"" SHA_ABC
	     "\"}],\"payloads\":[]}",
	     FP_EINVAL, "not valid JSON"},
	    {"{\"version\":\"1\\n\",\"payloads\":[{\"name\":\"a\",\"type\":\"file\",\"size\":3,"
	     "\"sha256\":\"" SHA_ABC "\"}]}",
	     FP_EINVAL, "control"},
	    {"{\"payloads\":[[[[[[[[[[]]]]]]]]]]}", FP_ETOOBIG, NULL},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = read_handmade(bad[i].json, "abc", 3, &err);
		if (rc != bad[i].code || (bad[i].msg && !strstr(err.msg, bad[i].msg)))
			print_message("case %zu: %d %s\n", i, rc, err.msg);
		assert_int_equal(rc, bad[i].code);
		if (bad[i].msg)
			assert_non_null(strstr(err.msg, bad[i].msg));
	}
	/* A wrong sha256 in the manifest. */
	assert_int_equal(
	    read_handmade("{\"payloads\":[{\"name\":\"a\",\"type\":\"file\",\"size\":3,"
	                  "\"sha256\":\"" SHA_ABC "\"}]}",
	                  "abd", 3, &err),
	    FP_ECRYPTO);
	/* Magic and version. */
	struct bytes a;
	handmade("{}", NULL, 0, &a);
	a.p[0] = 'X';
	struct seen s = {0};
	assert_int_equal(read_all(&a, 0, NULL, &s, NULL, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "magic"));
	a.p[0] = 'F';
	a.p[11] = 2;
	assert_int_equal(read_all(&a, 0, NULL, &s, NULL, &err), FP_EUNSUPP);
	free(a.p);
}

static void zstd_sizes(void **state)
{
	(void)state;
	unsigned char content[1000], frame[2000];
	char json[512], hex[65];
	unsigned char md[32];
	struct fp_err err = {0};
	fill(content, sizeof(content), 3);
	size_t z = ZSTD_compress(frame, sizeof(frame), content, sizeof(content), 3);
	assert_false(ZSTD_isError(z));
	EVP_Digest(frame, z, md, NULL, EVP_sha256(), NULL);
	fp_artifact_hex32(md, hex);
	const size_t declared[] = {1000, 999, 1001};
	const int want[] = {0, FP_EINVAL, FP_EINVAL};
	for (size_t i = 0; i < 3; i++) {
		snprintf(json, sizeof(json),
		         "{\"payloads\":[{\"name\":\"z\",\"type\":\"image\",\"size\":%zu,"
		         "\"sha256\":\"%s\",\"compression\":\"zstd\",\"content_size\":%zu}]}",
		         z, hex, declared[i]);
		assert_int_equal(read_handmade(json, frame, z, &err), want[i]);
		if (want[i])
			assert_non_null(strstr(err.msg, "decompresses to"));
	}
	/* Garbage that is not zstd but has the declared hash. */
	memset(frame, 'q', 100);
	EVP_Digest(frame, 100, md, NULL, EVP_sha256(), NULL);
	fp_artifact_hex32(md, hex);
	snprintf(json, sizeof(json),
	         "{\"payloads\":[{\"name\":\"z\",\"type\":\"image\",\"size\":100,"
	         "\"sha256\":\"%s\",\"compression\":\"zstd\",\"content_size\":100}]}",
	         hex);
	assert_int_equal(read_handmade(json, frame, 100, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "zstd"));
}

static void caps(void **state)
{
	(void)state;
	struct fp_err err = {0};
	struct bytes a;
	struct seen s = {0};
	/* The manifest length: the cap passes the header check, one more does not. */
	unsigned char hdr[FP_ARTIFACT_HEADER_SIZE];
	fp_artifact_header(FP_ARTIFACT_MANIFEST_MAX + 1, hdr);
	struct fp_artifact_reader *r = NULL;
	assert_int_equal(fp_artifact_reader_new(NULL, NULL, &r, &err), 0);
	assert_int_equal(fp_artifact_reader_feed(r, hdr, sizeof(hdr), &err), FP_ETOOBIG);
	assert_int_equal(fp_artifact_reader_finish(r, &err), FP_ETOOBIG);
	fp_artifact_reader_free(r);
	fp_artifact_header(FP_ARTIFACT_MANIFEST_MAX, hdr);
	assert_int_equal(fp_artifact_reader_new(NULL, NULL, &r, &err), 0);
	assert_int_equal(fp_artifact_reader_feed(r, hdr, sizeof(hdr), &err), 0);
	fp_artifact_reader_free(r);
	/* A name of FP_ARTIFACT_NAME_MAX bytes passes, one more fails. */
	char name[FP_ARTIFACT_NAME_MAX + 2], json[1024];
	memset(name, 'n', sizeof(name));
	name[FP_ARTIFACT_NAME_MAX] = '\0';
	snprintf(json, sizeof(json),
	         "{\"payloads\":[{\"name\":\"%s\",\"type\":\"file\",\"size\":3,"
	         "\"sha256\":\"" SHA_ABC "\"}]}",
	         name);
	assert_int_equal(read_handmade(json, "abc", 3, &err), 0);
	name[FP_ARTIFACT_NAME_MAX] = 'n';
	name[FP_ARTIFACT_NAME_MAX + 1] = '\0';
	snprintf(json, sizeof(json),
	         "{\"payloads\":[{\"name\":\"%s\",\"type\":\"file\",\"size\":3,"
	         "\"sha256\":\"" SHA_ABC "\"}]}",
	         name);
	assert_int_equal(read_handmade(json, "abc", 3, &err), FP_ETOOBIG);
	/* FP_ARTIFACT_PAYLOADS_MAX empty payloads pass, one more fails. */
	static const char e3b[] =
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	char *big = malloc(FP_ARTIFACT_MANIFEST_MAX);
	for (int n = FP_ARTIFACT_PAYLOADS_MAX; n <= FP_ARTIFACT_PAYLOADS_MAX + 1; n++) {
		size_t o = (size_t)snprintf(big, 64, "{\"payloads\":[");
		for (int i = 0; i < n; i++)
			o += (size_t)snprintf(big + o, 256,
			                      "%s{\"name\":\"p%d\",\"type\":\"file\",\"size\":0,"
			                      "\"sha256\":\"%s\"}",
			                      i ? "," : "", i, e3b);
		snprintf(big + o, 8, "]}");
		int rc = read_handmade(big, NULL, 0, &err);
		assert_int_equal(rc, n == FP_ARTIFACT_PAYLOADS_MAX ? 0 : FP_ETOOBIG);
	}
	free(big);
	/* total_max: exactly the file's size passes, one byte less fails before any payload. */
	handmade("{\"payloads\":[{\"name\":\"a\",\"type\":\"file\",\"size\":3,\"sha256\":\"" SHA_ABC
	         "\"}]}",
	         "abc", 3, &a);
	struct fp_artifact_reader_opts o = {.total_max = a.len};
	assert_int_equal(read_all(&a, 0, &o, &s, NULL, &err), 0);
	seen_free(&s);
	o.total_max = a.len - 1;
	assert_int_equal(read_all(&a, 1, &o, &s, NULL, &err), FP_ETOOBIG);
	assert_int_equal(s.begins, 0);
	seen_free(&s);
	free(a.p);
}

static void callback_failure_sticks(void **state)
{
	(void)state;
	struct bytes a;
	make_sample(&a);
	struct seen s = {.fail_in_data = 1};
	struct fp_err err = {0};
	struct fp_artifact_reader *r = NULL;
	assert_int_equal(read_all(&a, 0, NULL, &s, &r, &err), FP_EIO);
	assert_non_null(strstr(err.msg, "cannot be written"));
	assert_int_equal(fp_artifact_reader_feed(r, "x", 1, &err), FP_EIO);
	assert_non_null(strstr(err.msg, "cannot be written"));
	uint64_t len;
	unsigned char d256[32], d512[64];
	assert_int_equal(fp_artifact_reader_digests(r, &len, d256, d512), FP_EINVAL);
	fp_artifact_reader_free(r);
	seen_free(&s);
	free(a.p);
}

static void writer_checks(void **state)
{
	(void)state;
	struct bytes a = {0};
	struct fp_err err = {0};
	struct fp_artifact_input dup[] = {
	    {.name = "x", .type = "file", .data = "1", .len = 1},
	    {.name = "x", .type = "file", .data = "2", .len = 1},
	};
	assert_int_equal(write_artifact(dup, 2, &a, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "two payloads"));
	struct fp_artifact_input missing = {.name = "x", .type = "file", .path = "/nonexistent/x"};
	assert_int_equal(write_artifact(&missing, 1, &a, &err), FP_EIO);
	struct fp_artifact_input badtype = {.name = "x", .type = "disk", .data = "1", .len = 1};
	assert_int_equal(write_artifact(&badtype, 1, &a, &err), FP_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(round_trip),
	    cmocka_unit_test(truncation_everywhere),
	    cmocka_unit_test(corruption_everywhere),
	    cmocka_unit_test(manifest_rules),
	    cmocka_unit_test(zstd_sizes),
	    cmocka_unit_test(caps),
	    cmocka_unit_test(callback_failure_sticks),
	    cmocka_unit_test(writer_checks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
