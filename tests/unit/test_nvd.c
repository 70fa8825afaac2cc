/*
 * test_nvd.c — unit tests of lib/nvd.c on the real NVD feed in the shared
 * data directory: field extraction, any chunking, gzip and plain input,
 * truncation, header checks, caps and malformed documents.
 *
 * With FP_NVD_BENCH=1 in the environment, one more test reads every
 * NVD feed (nvd/...json.gz) and prints the throughput (build with -O2 for figures).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <glob.h>
#include <zlib.h>
#include <cmocka.h>

#include "fleetpatch/nvd.h"
#include "nvd_record_crc.h"

#define KEV_IOT FP_SHARED_DATA "/nvd/nvdcve-2.0-kev-iot-2018-2025.json.gz"

struct buf {
	unsigned char *p;
	size_t n;
};

static struct buf read_file(const char *path)
{
	struct buf b = {NULL, 0};
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	b.p = malloc((size_t)n + 1);
	assert_non_null(b.p);
	b.n = fread(b.p, 1, (size_t)n, f);
	assert_int_equal(b.n, (size_t)n);
	fclose(f);
	return b;
}

static struct buf gunzip(struct buf in)
{
	struct buf out = {NULL, 0};
	size_t cap = in.n * 8;
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	assert_int_equal(inflateInit2(&zs, 16 + MAX_WBITS), Z_OK);
	out.p = malloc(cap);
	assert_non_null(out.p);
	zs.next_in = in.p;
	zs.avail_in = (uInt)in.n;
	int zr;
	do {
		if (out.n == cap) {
			cap *= 2;
			out.p = realloc(out.p, cap);
			assert_non_null(out.p);
		}
		zs.next_out = out.p + out.n;
		zs.avail_out = (uInt)(cap - out.n);
		zr = inflate(&zs, Z_NO_FLUSH);
		out.n = cap - zs.avail_out;
	} while (zr == Z_OK);
	assert_int_equal(zr, Z_STREAM_END);
	inflateEnd(&zs);
	return out;
}

/* What the callback saw: a count, a digest of everything, and one record kept. */
struct seen {
	unsigned long records;
	uLong digest;
	const char *keep_id;
	struct fp_cve kept;
	int stop_at; /* return -100 at this record (1-based); 0 never */
};

static uLong add(uLong crc, const void *p, size_t n)
{
	return crc32(crc, p, (uInt)n);
}

static int on_cve(void *ctx, const struct fp_cve *c, const char *raw, size_t raw_len)
{
	struct seen *s = ctx;
	char line[1024];
	s->records++;
	if (s->stop_at && s->records == (unsigned long)s->stop_at)
		return -100;
	int n = snprintf(line, sizeof(line), "%s|%s|%s|%s|%g|%g|%g|%g|%s|%s|%s|%s|%s|%zu", c->id,
	                 c->published, c->last_modified, c->status, c->cvss4, c->cvss31, c->cvss30,
	                 c->cvss2, c->vector, c->severity, c->cwe, c->kev_added, c->kev_due,
	                 c->configurations ? json_array_size(c->configurations) : 0);
	s->digest = add(s->digest, line, (size_t)n);
	if (c->description)
		s->digest = add(s->digest, c->description, strlen(c->description));
	s->digest = add(s->digest, raw, raw_len);
	/* The raw text is exactly one JSON object. */
	assert_true(raw_len >= 2 && raw[0] == '{' && raw[raw_len - 1] == '}');
	if (s->keep_id && strcmp(c->id, s->keep_id) == 0) {
		s->kept = *c;
		s->kept.description = c->description ? strdup(c->description) : NULL;
		s->kept.configurations = json_incref(c->configurations);
	}
	return 0;
}

/* Feeds data in chunks of chunk bytes; returns the first error code and the reader's view. */
static int read_feed(const void *data, size_t n, size_t chunk, struct seen *s, struct fp_err *err)
{
	struct fp_nvd_reader *r;
	const unsigned char *p = data;
	s->digest = crc32(0, NULL, 0);
	s->records = 0;
	int rc = fp_nvd_reader_new(on_cve, s, &r, err);
	assert_int_equal(rc, 0);
	for (size_t off = 0; off < n && !rc; off += chunk)
		rc = fp_nvd_reader_feed(r, p + off, n - off < chunk ? n - off : chunk, err);
	if (!rc)
		rc = fp_nvd_reader_finish(r, err);
	unsigned long long bytes_in, records;
	fp_nvd_reader_progress(r, &bytes_in, &records);
	if (!rc) {
		assert_int_equal(bytes_in, n);
		assert_int_equal(records, s->records);
	}
	fp_nvd_reader_free(r);
	return rc;
}

static int read_text(const char *text, struct seen *s, struct fp_err *err)
{
	return read_feed(text, strlen(text), strlen(text), s, err);
}

static void real_feed_fields(void **state)
{
	(void)state;
	struct buf gz = read_file(KEV_IOT);
	struct fp_err err = {0};
	const char *ids[] = {"CVE-2018-6530", "CVE-2024-12987", "CVE-2018-7445", "CVE-2024-0769",
	                     "CVE-2019-1653"};
	struct seen s[5];
	for (int i = 0; i < 5; i++) {
		memset(&s[i], 0, sizeof(s[i]));
		s[i].keep_id = ids[i];
		assert_int_equal(read_feed(gz.p, gz.n, gz.n, &s[i], &err), 0);
		assert_int_equal(s[i].records, 80);
		assert_string_equal(s[i].kept.id, ids[i]);
	}

	const struct fp_cve *c = &s[0].kept;
	assert_string_equal(c->published, "2018-03-06T20:29:00.987");
	assert_string_equal(c->last_modified, "2024-11-21T04:10:50.700");
	assert_string_equal(c->status, "Modified");
	assert_non_null(c->description);
	assert_true(strncmp(c->description, "OS command injection vulnerability in soap.cgi", 46) ==
	            0);
	assert_float_equal(c->cvss31, 9.8, 1e-9);
	assert_float_equal(c->cvss2, 10.0, 1e-9);
	assert_float_equal(c->cvss30, -1, 0);
	assert_float_equal(c->cvss4, -1, 0);
	assert_string_equal(c->vector, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
	assert_string_equal(c->severity, "CRITICAL");
	assert_string_equal(c->cwe, "CWE-78");
	assert_string_equal(c->kev_added, "2022-09-08");
	assert_string_equal(c->kev_due, "2022-09-29");
	assert_true(json_is_array(c->configurations));
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(c->configurations, 0), "operator")),
	    "AND");

	/* CVSS 4.0 from the only (Secondary) metric; its 174-character vector fits. */
	c = &s[1].kept;
	assert_float_equal(c->cvss4, 6.9, 1e-9);
	assert_float_equal(c->cvss31, 9.8, 1e-9); /* the Primary nvd@nist.gov, listed second */
	assert_float_equal(c->cvss2, 7.5, 1e-9);
	assert_string_equal(c->vector,
	                    "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/"
	                    "SA:N/E:X/CR:X/IR:X/AR:X/MAV:X/MAC:X/MAT:X/MPR:X/MUI:X/MVC:X/"
	                    "MVI:X/MVA:X/MSC:X/MSI:X/MSA:X/S:X/AU:X/R:X/V:X/RE:X/U:X");
	assert_string_equal(c->severity, "MEDIUM");
	assert_string_equal(c->cwe, "CWE-77");
	assert_string_equal(c->kev_added, "2025-05-15");

	/* Only CVSS 3.0 and 2.0. */
	c = &s[2].kept;
	assert_float_equal(c->cvss30, 9.8, 1e-9);
	assert_float_equal(c->cvss31, -1, 0);
	assert_string_equal(c->vector, "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
	assert_string_equal(c->cwe, "CWE-119");

	/* Primary listed after a Secondary with another score. */
	assert_float_equal(s[3].kept.cvss31, 9.8, 1e-9);
	assert_string_equal(s[3].kept.severity, "CRITICAL");
	/* No Primary for 3.0: the first metric counts. */
	assert_float_equal(s[4].kept.cvss30, 7.5, 1e-9);
	assert_float_equal(s[4].kept.cvss2, 5.0, 1e-9);

	for (int i = 0; i < 5; i++)
		fp_cve_free(&s[i].kept);
	free(gz.p);
}

static void any_chunking_gzip_or_plain_same_result(void **state)
{
	(void)state;
	struct buf gz = read_file(KEV_IOT);
	struct buf plain = gunzip(gz);
	struct seen ref = {0}, s = {0};
	struct fp_err err = {0};
	assert_int_equal(read_feed(gz.p, gz.n, gz.n, &ref, &err), 0);
	assert_int_equal(ref.records, 80);
	const size_t chunks[] = {1, 7, 65536};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(read_feed(gz.p, gz.n, chunks[i], &s, &err), 0);
		assert_int_equal(s.records, 80);
		assert_int_equal(s.digest, ref.digest);
		assert_int_equal(read_feed(plain.p, plain.n, chunks[i], &s, &err), 0);
		assert_int_equal(s.records, 80);
		assert_int_equal(s.digest, ref.digest);
	}
	assert_int_equal(read_feed(plain.p, plain.n, plain.n, &s, &err), 0);
	assert_int_equal(s.digest, ref.digest);
	free(plain.p);
	free(gz.p);
}

static void concatenated_gzip_members(void **state)
{
	(void)state;
	/* gzip -c of `{"format":"NVD_CVE",` and of `"version":"2.0","vulnerabilities":[]}`. */
	const char *parts[] = {"{\"format\":\"NVD_CVE\",",
	                       "\"version\":\"2.0\",\"vulnerabilities\":[]}"};
	unsigned char out[512];
	size_t n = 0;
	for (int i = 0; i < 2; i++) {
		z_stream zs;
		memset(&zs, 0, sizeof(zs));
		assert_int_equal(
		    deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
		zs.next_in = (unsigned char *)parts[i];
		zs.avail_in = (uInt)strlen(parts[i]);
		zs.next_out = out + n;
		zs.avail_out = (uInt)(sizeof(out) - n);
		assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
		n = sizeof(out) - zs.avail_out;
		deflateEnd(&zs);
	}
	struct seen s = {0};
	struct fp_err err = {0};
	assert_int_equal(read_feed(out, n, 3, &s, &err), 0);
	assert_int_equal(s.records, 0);
}

static void truncation_is_an_error(void **state)
{
	(void)state;
	struct buf gz = read_file(KEV_IOT);
	struct buf plain = gunzip(gz);
	struct seen s = {0};
	struct fp_err err = {0};
	const size_t gz_cuts[] = {1, 2, 10, 100, gz.n / 3, gz.n / 2, gz.n - 9, gz.n - 1};
	for (size_t i = 0; i < sizeof(gz_cuts) / sizeof(gz_cuts[0]); i++) {
		assert_int_equal(read_feed(gz.p, gz_cuts[i], 4096, &s, &err), FP_EINVAL);
		assert_non_null(strstr(err.msg, "truncated"));
	}
	const size_t plain_cuts[] = {1, 50, 200, plain.n / 2, plain.n - 2, plain.n - 1};
	for (size_t i = 0; i < sizeof(plain_cuts) / sizeof(plain_cuts[0]); i++) {
		assert_int_equal(read_feed(plain.p, plain_cuts[i], 4096, &s, &err), FP_EINVAL);
		assert_non_null(strstr(err.msg, "truncated"));
	}
	assert_int_equal(read_feed(plain.p, 0, 1, &s, &err), FP_EINVAL); /* empty */
	free(plain.p);
	free(gz.p);
}

#define REC "{\"cve\":{\"id\":\"CVE-2020-0001\",\"published\":\"p\",\"lastModified\":\"m\"}}"

static void header_checks(void **state)
{
	(void)state;
	struct seen s = {0};
	struct fp_err err = {0};
	assert_int_equal(
	    read_text("{\"format\":\"NVD_CVE\",\"version\":\"2.0\",\"vulnerabilities\":[" REC "]}",
	              &s, &err),
	    0);
	assert_int_equal(s.records, 1);
	assert_int_equal(
	    read_text(" \n{ \"resultsPerPage\" : 2, \"x\": {\"a\":[1,{}]}, \"format\" : "
	              "\"NVD_CVE\" , \"version\":\"2.0\" , \"vulnerabilities\" : [ " REC " , " REC
	              " ] , \"t\":\"]}\" } \n",
	              &s, &err),
	    0);
	assert_int_equal(s.records, 2);

	assert_int_equal(
	    read_text("{\"format\":\"NVD_CPE\",\"version\":\"2.0\",\"vulnerabilities\":[]}", &s,
	              &err),
	    FP_EUNSUPP);
	assert_non_null(strstr(err.msg, "\"NVD_CPE\""));
	assert_int_equal(
	    read_text("{\"format\":\"NVD_CVE\",\"version\":\"1.1\",\"vulnerabilities\":[" REC "]}",
	              &s, &err),
	    FP_EUNSUPP);
	assert_non_null(strstr(err.msg, "\"1.1\""));
	assert_int_equal(s.records, 0); /* checked before the first record */
	assert_int_equal(
	    read_text("{\"format\":\"NVD_CVE\",\"version\":2,\"vulnerabilities\":[]}", &s, &err),
	    FP_EINVAL);
	assert_int_equal(read_text("{\"version\":\"2.0\",\"vulnerabilities\":[]}", &s, &err),
	                 FP_EINVAL);
	assert_non_null(strstr(err.msg, "\"format\""));
	assert_int_equal(
	    read_text("{\"vulnerabilities\":[],\"format\":\"NVD_CVE\",\"version\":\"2.0\"}", &s,
	              &err),
	    FP_EINVAL);
	assert_int_equal(read_text("{\"format\":\"NVD_CVE\",\"version\":\"2.0\"}", &s, &err),
	                 FP_EINVAL);
	assert_non_null(strstr(err.msg, "no \"vulnerabilities\""));
	assert_int_equal(read_text("[1,2]", &s, &err), FP_EINVAL);
	assert_int_equal(
	    read_text("{\"format\":\"NVD_CVE\",\"version\":\"2.0\",\"vulnerabilities\":{}}", &s,
	              &err),
	    FP_EINVAL);
}

static void malformed_documents(void **state)
{
	(void)state;
	struct seen s = {0};
	struct fp_err err = {0};
#define HDR "{\"format\":\"NVD_CVE\",\"version\":\"2.0\","
	const char *bad[] = {
	    HDR "\"vulnerabilities\":[" REC " " REC "]}",                      /* missing comma */
	    HDR "\"vulnerabilities\":[" REC ",]}",                             /* trailing comma */
	    HDR "\"vulnerabilities\":[," REC "]}",                             /* leading comma */
	    HDR "\"vulnerabilities\":[1]}",                                    /* not an object */
	    HDR "\"vulnerabilities\":[" REC "]} x",                            /* after the end */
	    HDR "\"vulnerabilities\":[" REC "],\"vulnerabilities\":[]}",       /* two arrays */
	    HDR "\"format\":\"NVD_CVE\",\"vulnerabilities\":[]}",              /* duplicate key */
	    HDR "\"vulnerabilities\":[]\"x\":1}",                              /* missing comma */
	    HDR "\"vulnerabilities\":[{\"cve\":{\"id\":\"CVE-1-2\"}}]}",       /* bad id */
	    HDR "\"vulnerabilities\":[{\"cve\":{\"id\":\"CVE-2020-0001\"]}]}", /* mismatched */
	    HDR "\"vulnerabilities\":[{\"cve\":{\"id\":\"CVE-2020-0001\",\"published\":\"p\","
	        "\"lastModified\":\"m\",\"id\":\"CVE-2020-0002\"}}]}", /* duplicate key */
	    HDR "\"vulnerabilities\":[{\"cve\":{\"id\":\"CVE-2020-0001\",\"published\":\"p\","
	        "\"lastModified\":\"m\",\"metrics\":{\"cvssMetricV31\":[{\"cvssData\":"
	        "{\"baseScore\":\"9.8\"}}]}}}]}", /* score is a string */
	    HDR "\"vulnerabilities\":[{\"cve\":{\"id\":\"CVE-2020-0001\",\"published\":\"p\","
	        "\"lastModified\":\"m\",\"metrics\":{\"cvssMetricV31\":[{\"cvssData\":"
	        "{\"baseScore\":11,\"vectorString\":\"v\"}}]}}}]}", /* score out of range */
	    HDR "\"vulnerabilities\":[{\"cve\":{\"id\":\"CVE-2020-0001\",\"published\":\"p\","
	        "\"lastModified\":\"m\",\"configurations\":{}}}]}", /* not an array */
	    HDR
	    "\"vulnerabilities\":[{\"cve\":{\"id\":\"CVE-2020-0001\",\"published\":\"p\","
	    "\"lastModified\":\"m\",\"cisaExploitAdd\":\"2022-09-08T00:00:00.000\"}}]}", /* long */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = read_text(bad[i], &s, &err);
		if (rc >= 0)
			print_error("accepted: %s\n", bad[i]);
		assert_true(rc < 0);
	}
	/* A record that names its line and column within the record. */
	assert_int_equal(read_text(bad[9], &s, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "record 1"));

	/* The reader stays failed. */
	struct fp_nvd_reader *r;
	assert_int_equal(fp_nvd_reader_new(on_cve, &s, &r, &err), 0);
	assert_int_equal(fp_nvd_reader_feed(r, "<html>", 6, &err), FP_EINVAL);
	assert_int_equal(fp_nvd_reader_feed(r, "{", 1, &err), FP_EINVAL);
	assert_int_equal(fp_nvd_reader_finish(r, &err), FP_EINVAL);
	fp_nvd_reader_free(r);

	/* Corrupt gzip. */
	struct buf gz = read_file(KEV_IOT);
	gz.p[gz.n / 2] ^= 0x55;
	gz.p[gz.n / 2 + 1] ^= 0x55;
	assert_true(read_feed(gz.p, gz.n, 4096, &s, &err) < 0);
	free(gz.p);
}

/* A feed whose only record is exactly rec_len bytes long. */
static char *feed_with_record_of(size_t rec_len, size_t *len)
{
	const char *head = HDR "\"vulnerabilities\":[";
	const char *pre = "{\"cve\":{\"id\":\"CVE-2020-0001\",\"published\":\"p\",\"lastModified\":"
	                  "\"m\",\"pad\":\"";
	const char *post = "\"}}";
	const char *tail = "]}";
	size_t pad = rec_len - strlen(pre) - strlen(post);
	*len = strlen(head) + rec_len + strlen(tail);
	char *f = malloc(*len + 1);
	assert_non_null(f);
	char *p = f;
	memcpy(p, head, strlen(head));
	p += strlen(head);
	memcpy(p, pre, strlen(pre));
	p += strlen(pre);
	memset(p, 'A', pad);
	p += pad;
	memcpy(p, post, strlen(post));
	p += strlen(post);
	memcpy(p, tail, strlen(tail) + 1);
	return f;
}

static void record_cap(void **state)
{
	(void)state;
	struct seen s = {0};
	struct fp_err err = {0};
	size_t len;
	char *f = feed_with_record_of(FP_NVD_RECORD_MAX, &len);
	assert_int_equal(read_feed(f, len, len, &s, &err), 0);
	assert_int_equal(s.records, 1);
	assert_int_equal(read_feed(f, len, 65536, &s, &err), 0);
	assert_int_equal(s.records, 1);
	free(f);
	f = feed_with_record_of(FP_NVD_RECORD_MAX + 1, &len);
	assert_int_equal(read_feed(f, len, len, &s, &err), FP_ETOOBIG);
	assert_int_equal(read_feed(f, len, 65536, &s, &err), FP_ETOOBIG);
	assert_non_null(strstr(err.msg, "record 1"));
	free(f);
}

static void callback_stops_reader(void **state)
{
	(void)state;
	struct buf gz = read_file(KEV_IOT);
	struct seen s = {0};
	struct fp_err err = {0};
	s.stop_at = 3;
	assert_int_equal(read_feed(gz.p, gz.n, 1000, &s, &err), -100);
	assert_int_equal(s.records, 3);
	free(gz.p);
}

static void cve_from_json_shapes(void **state)
{
	(void)state;
	struct fp_cve c;
	struct fp_err err = {0};
	json_t *inner =
	    json_pack("{s:s, s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}]}", "id", "CVE-2021-1234567",
	              "published", "p", "lastModified", "m", "descriptions", "lang", "es", "value",
	              "hola", "lang", "en", "value", "hello");
	assert_int_equal(fp_cve_from_json(inner, &c, &err), 0);
	assert_string_equal(c.id, "CVE-2021-1234567");
	assert_string_equal(c.description, "hello");
	assert_null(c.configurations);
	assert_float_equal(c.cvss31, -1, 0);
	assert_string_equal(c.vector, "");
	fp_cve_free(&c);
	json_t *wrapped = json_pack("{s:O}", "cve", inner);
	assert_int_equal(fp_cve_from_json(wrapped, &c, &err), 0);
	assert_string_equal(c.description, "hello");
	fp_cve_free(&c);
	json_object_set_new(inner, "published", json_integer(1));
	assert_int_equal(fp_cve_from_json(wrapped, &c, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "CVE-2021-1234567"));
	fp_cve_free(&c);
	json_decref(wrapped);
	json_decref(inner);

	assert_true(fp_cve_id_valid("CVE-2018-6530"));
	assert_true(fp_cve_id_valid("CVE-2024-1234567"));
	assert_false(fp_cve_id_valid("CVE-2018-653"));
	assert_false(fp_cve_id_valid("cve-2018-6530"));
	assert_false(fp_cve_id_valid("CVE-18-6530"));
	assert_false(fp_cve_id_valid("CVE-2018-6530 "));
	assert_false(fp_cve_id_valid("CVE-2018-12345678901234567890"));
}

static int bench_cb(void *ctx, const struct fp_cve *c, const char *raw, size_t raw_len)
{
	(void)raw;
	unsigned long long *n = ctx;
	*n += raw_len + (c->id[0] == 'C');
	return 0;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Throughput over every NVD file; runs only with FP_NVD_BENCH set. */
static void bench_all_feeds(void **state)
{
	(void)state;
	if (!getenv("FP_NVD_BENCH"))
		skip();
	glob_t g;
	assert_int_equal(glob(FP_SHARED_DATA "/nvd/*.json.gz", 0, NULL, &g), 0);
	double t_read = 0, t_inflate = 0;
	unsigned long long plain_bytes = 0, records = 0, sink = 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct buf gz = read_file(g.gl_pathv[i]);
		double t0 = now();
		struct buf plain = gunzip(gz);
		t_inflate += now() - t0;
		plain_bytes += plain.n;
		free(plain.p);
		struct fp_nvd_reader *r;
		struct fp_err err = {0};
		t0 = now();
		assert_int_equal(fp_nvd_reader_new(bench_cb, &sink, &r, &err), 0);
		for (size_t off = 0; off < gz.n; off += 1u << 20) {
			size_t n = gz.n - off < (1u << 20) ? gz.n - off : (1u << 20);
			if (fp_nvd_reader_feed(r, gz.p + off, n, &err))
				fail_msg("%s: %s", g.gl_pathv[i], err.msg);
		}
		if (fp_nvd_reader_finish(r, &err))
			fail_msg("%s: %s", g.gl_pathv[i], err.msg);
		unsigned long long nrec;
		fp_nvd_reader_progress(r, NULL, &nrec);
		records += nrec;
		fp_nvd_reader_free(r);
		t_read += now() - t0;
		free(gz.p);
	}
	printf("nvd bench: %zu files, %llu records, %.1f MB uncompressed; reader %.2f s = %.1f "
	       "MB/s (gunzip alone %.2f s = %.1f MB/s)\n",
	       g.gl_pathc, records, plain_bytes / 1e6, t_read, plain_bytes / 1e6 / t_read,
	       t_inflate, plain_bytes / 1e6 / t_inflate);
	globfree(&g);
}

/* ---- fp_nvd_reader_parse_configs(): records read without jansson, same result ---- */

struct crc_seen {
	uLong crc;
	unsigned long records, fast, tree; /* configurations handed parsed, or as a tree */
};

static int on_cve_crc(void *ctx, const struct fp_cve *c, const char *raw, size_t raw_len)
{
	struct crc_seen *s = ctx;
	s->records++;
	s->fast += c->configs != NULL;
	s->tree += c->configurations != NULL;
	assert_int_equal(record_crc(&s->crc, c), 0);
	if (c->configs)
		assert_true(c->configs_text >= raw &&
		            c->configs_text + c->configs_len <= raw + raw_len);
	return 0;
}

/* Reads data with or without the fast path; the error message goes to msg. */
static int crc_feed(const void *data, size_t n, int fast, struct crc_seen *s, char *msg)
{
	struct fp_nvd_reader *r;
	struct fp_err err;
	fp_err_clear(&err);
	memset(s, 0, sizeof(*s));
	assert_int_equal(fp_nvd_reader_new(on_cve_crc, s, &r, NULL), 0);
	if (fast)
		fp_nvd_reader_parse_configs(r);
	int rc = fp_nvd_reader_feed(r, data, n, &err);
	if (!rc)
		rc = fp_nvd_reader_finish(r, &err);
	fp_nvd_reader_free(r);
	snprintf(msg, FP_ERR_MSG_MAX, "%s", rc ? err.msg : "");
	return rc;
}

static void both_ways(const void *data, size_t n, unsigned long *fast, unsigned long *with)
{
	struct crc_seen a, b;
	char ma[FP_ERR_MSG_MAX], mb[FP_ERR_MSG_MAX];
	int ra = crc_feed(data, n, 0, &a, ma);
	int rb = crc_feed(data, n, 1, &b, mb);
	assert_int_equal(ra, rb);
	assert_string_equal(ma, mb);
	assert_int_equal(a.records, b.records);
	assert_int_equal(a.crc, b.crc);
	assert_int_equal(a.fast, 0);
	if (fast) {
		*fast = b.fast;
		*with = a.tree;
	}
}

static void fast_path_same_records_real_feeds(void **state)
{
	(void)state;
	const char *files[] = {KEV_IOT, FP_SHARED_DATA "/nvd/nvdcve-2.0-modified.json.gz",
	                       FP_SHARED_DATA "/nvd/nvdcve-2.0-2016.json.gz"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct buf gz = read_file(files[i]);
		unsigned long fast = 0, with = 0;
		both_ways(gz.p, gz.n, &fast, &with);
		/* Nearly every real record with configurations takes the fast path. */
		assert_true(fast * 100 >= with * 99);
		free(gz.p);
	}
}

static void fast_path_same_records_edge_cases(void **state)
{
	(void)state;
#define XHEAD "{\"format\":\"NVD_CVE\",\"version\":\"2.0\",\"vulnerabilities\":["
#define XREC(body)                                                                                 \
	"{\"cve\":{\"id\":\"CVE-2099-0001\",\"published\":\"p\",\"lastModified\":\"m\"" body "}}"
#define XCVSS(v, extra)                                                                            \
	"{\"source\":\"a@b\",\"type\":\"Secondary\",\"cvssData\":{\"baseScore\":" v extra "}}"
	static const char *const feeds[] = {
	    XHEAD XREC("") "]}",
	    /* A record without "cve" wrapping, and one with other members beside it. */
	    XHEAD "{\"id\":\"CVE-2099-0002\",\"published\":\"p\",\"lastModified\":\"m\"}]}",
	    XHEAD "{\"x\":[1,{\"y\":null}],\"cve\":{\"id\":\"CVE-2099-0003\",\"published\":\"p\","
	          "\"lastModified\":\"m\"},\"z\":true}]}",
	    /* Descriptions: "en" after another language, escapes, an escaped "en". */
	    XHEAD XREC(",\"descriptions\":[{\"lang\":\"es\",\"value\":\"hola\"},{\"lang\":\"en\","
	               "\"value\":\"a \\\"b\\\" \\u00e9 \\ud83d\\ude00 \\n\"}]") "]}",
	    XHEAD XREC(",\"descriptions\":[{\"lang\":\"\\u0065n\",\"value\":\"x\"}]") "]}",
	    XHEAD XREC(",\"descriptions\":[{\"lang\":\"en\"}]") "]}",
	    /* Metrics: the Primary one later, XCVSS 2 severity beside cvssData, an empty
	     * vector in the newest version, integers, out of range, wrong types. */
	    XHEAD XREC(",\"metrics\":{\"cvssMetricV31\":[" XCVSS(
	        "5.0", ",\"vectorString\":\"v1\","
	               "\"baseSeverity\":\"MEDIUM\"") ",{\"source\":\"nvd@nist.gov\",\"type\":"
	                                              "\"Primary\",\"cvssData\":{\"baseScore\":9.8,"
	                                              "\"vectorString\":\"v2\","
	                                              "\"baseSeverity\":\"CRITICAL\"}}],"
	                                              "\"cvssMetricV2\":[{\"cvssData\":{"
	                                              "\"baseScore\":10,\"vectorString\":\"v3\"},"
	                                              "\"baseSeverity\":\"HIGH\"}]}") "]}",
	    XHEAD XREC(
	        ",\"metrics\":{\"cvssMetricV2\":[{\"cvssData\":{\"baseScore\":7,"
	        "\"vectorString\":\"v3\"},\"baseSeverity\":\"HIGH\"}],\"cvssMetricV40\":[" XCVSS(
	            "1", ",\"vectorString\":\"\"") "]}") "]}",
	    XHEAD XREC(",\"metrics\":{\"cvssMetricV30\":[" XCVSS(
	        "11", ",\"vectorString\":\"v\"") "]}") "]}",
	    XHEAD XREC(",\"metrics\":{\"cvssMetricV30\":[" XCVSS(
	        "\"5\"", ",\"vectorString\":\"v\"") "]}") "]}",
	    XHEAD XREC(",\"metrics\":{\"cvssMetricV30\":[]}") "]}",
	    XHEAD XREC(",\"metrics\":{\"cvssMetricV30\":[{\"source\":1}]}") "]}",
	    XHEAD XREC(",\"metrics\":{\"cvssMetricV31\":[" XCVSS(
	        "5", ",\"baseSeverity\":null,\"vectorString\":\"v\"") "]}") "]}",
	    XHEAD XREC(",\"metrics\":[]") "]}",
	    /* Weaknesses: an empty description first, then a CWE; a CWE too long. */
	    XHEAD XREC(",\"weaknesses\":[{\"description\":[]},{\"source\":\"s\",\"description\":["
	               "{\"lang\":\"en\",\"value\":\"CWE-79\"},{\"value\":\"CWE-80\"}]}]") "]}",
	    XHEAD XREC(",\"weaknesses\":[{\"description\":[{\"value\":\"CWE-"
	               "7999999999999999999999999999999999\"}]}]") "]}",
	    /* Configurations: fine, pretty, invalid (the callback is told either way). */
	    XHEAD XREC(
	        ",\"configurations\":[{\"operator\":\"AND\",\"nodes\":[{\"operator\":\"OR\","
	        "\"cpeMatch\":[{\"vulnerable\":true,\"criteria\":\"cpe:2.3:o:a:b:*:*:*:*:*:*:*:*\","
	        "\"versionEndExcluding\":\"2\\\\(1\\\\)\"}]},{\"cpeMatch\":[{\"vulnerable\":false,"
	        "\"criteria\":\"cpe:2.3:h:a:c:-:*:*:*:*:*:*:*\"}]}]}]") "]}",
	    XHEAD XREC(",\"configurations\" : [ { \"nodes\" : [ ] } ] ") "]}",
	    XHEAD XREC(
	        ",\"configurations\":[{\"nodes\":[{\"cpeMatch\":[{\"criteria\":\"x\"}]}]}]") "]}",
	    XHEAD XREC(",\"configurations\":null") "]}",
	    /* Invalid records: the same error either way. */
	    XHEAD XREC(",\"published\":\"again\"") "]}",
	    XHEAD "{\"cve\":{\"id\":\"CVE-99\",\"published\":\"p\",\"lastModified\":\"m\"}}]}",
	    XHEAD "{\"cve\":{\"id\":\"CVE-2099-0001\",\"published\":\"p\"}}]}",
	    XHEAD XREC(",\"vulnStatus\":\"\\u0000\"") "]}",
	    XHEAD XREC(",\"x\":01") "]}",
	    XHEAD XREC(",\"x\":\"\xff\"") "]}",
	    XHEAD XREC(",\"vulnStatus\":\""
	               "0123456789012345678901234567890123456789012345678901234567"
	               "\"") "]}",
	    XHEAD "{\"cve\":[]}]}",
	    XHEAD "{\"cve\":{\"id\":\"CVE-2099-0001\",\"published\":\"p\",\"lastModified\":\"m\","
	          "\"metrics\":{\"cvssMetricV2\":[{\"cvssData\":{\"baseScore\":1e999}}]}}}]}",
	};
#undef XCVSS
#undef XREC
#undef XHEAD
	for (size_t i = 0; i < sizeof(feeds) / sizeof(feeds[0]); i++)
		both_ways(feeds[i], strlen(feeds[i]), NULL, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(real_feed_fields),
	    cmocka_unit_test(any_chunking_gzip_or_plain_same_result),
	    cmocka_unit_test(concatenated_gzip_members),
	    cmocka_unit_test(truncation_is_an_error),
	    cmocka_unit_test(header_checks),
	    cmocka_unit_test(malformed_documents),
	    cmocka_unit_test(record_cap),
	    cmocka_unit_test(callback_stops_reader),
	    cmocka_unit_test(cve_from_json_shapes),
	    cmocka_unit_test(fast_path_same_records_real_feeds),
	    cmocka_unit_test(fast_path_same_records_edge_cases),
	    cmocka_unit_test(bench_all_feeds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
