/*
 * test_feeds.c — unit tests of lib/feeds.c on the real CISA KEV catalogue and
 * FIRST EPSS file in the shared data directory, plus malformed inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <cmocka.h>

#include "fleetpatch/feeds.h"

struct buf {
	char *p;
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

static void kev_real_catalogue(void **state)
{
	(void)state;
	struct buf b = read_file(FP_SHARED_DATA "/kev/known_exploited_vulnerabilities.json");
	struct fp_kev k;
	struct fp_err err = {0};
	assert_int_equal(fp_kev_parse(b.p, b.n, &k, &err), 0);
	assert_int_equal(k.n, 1404);
	assert_string_equal(k.version, "2025.08.25");
	assert_string_equal(k.e[0].cve, "CVE-2025-48384");
	assert_string_equal(k.e[k.n - 1].cve, "CVE-2020-29583");
	size_t i, known = 0;
	for (i = 0; i < k.n; i++)
		known += (size_t)k.e[i].ransomware;
	assert_int_equal(known, 293);
	for (i = 0; i < k.n && strcmp(k.e[i].cve, "CVE-2018-6530") != 0; i++)
		;
	assert_true(i < k.n);
	assert_string_equal(k.e[i].date_added, "2022-09-08");
	assert_string_equal(k.e[i].due, "2022-09-29");
	assert_int_equal(k.e[i].ransomware, 1);
	assert_string_equal(k.e[i].name,
	                    "D-Link Multiple Routers OS Command Injection Vulnerability");
	fp_kev_free(&k);
	free(b.p);
}

static void kev_malformed(void **state)
{
	(void)state;
#define E(x)                                                                                       \
	"{\"catalogVersion\":\"1\",\"vulnerabilities\":[{\"cveID\":\"CVE-2020-0001\","             \
	"\"dateAdded\":\"2020-01-01\",\"dueDate\":\"2020-02-01\",\"vulnerabilityName\":\"n\"," x   \
	"}]}"
	const char *good = E("\"knownRansomwareCampaignUse\":\"Unknown\"");
	struct fp_kev k;
	struct fp_err err = {0};
	assert_int_equal(fp_kev_parse(good, strlen(good), &k, &err), 0);
	assert_int_equal(k.n, 1);
	assert_int_equal(k.e[0].ransomware, 0);
	fp_kev_free(&k);
	const char *bad[] = {
	    E("\"knownRansomwareCampaignUse\":\"Maybe\""),
	    E("\"knownRansomwareCampaignUse\":true"),
	    E(""),
	    E("\"knownRansomwareCampaignUse\":\"Known\",\"cveID\":\"CVE-2020-0002\""),
	    "{\"catalogVersion\":\"1\",\"vulnerabilities\":[{\"cveID\":\"CVE-20-1\"}]}",
	    "{\"catalogVersion\":\"1\",\"vulnerabilities\":[1]}",
	    "{\"catalogVersion\":\"1\",\"vulnerabilities\":{}}",
	    "{\"vulnerabilities\":[]}",
	    "[]",
	    "{\"catalogVersion\":\"1\",\"vulnerabilities\":[",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = fp_kev_parse(bad[i], strlen(bad[i]), &k, &err);
		if (rc >= 0)
			print_error("accepted: %s\n", bad[i]);
		assert_true(rc < 0);
		assert_int_equal(k.n, 0);
		assert_null(k.e);
	}
	assert_int_equal(fp_kev_parse(bad[0], strlen(bad[0]), &k, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "KEV entry 1 (CVE-2020-0001)"));
	assert_int_equal(fp_kev_parse(good, FP_KEV_BYTES_MAX + 1u, &k, &err), FP_ETOOBIG);
}

struct rows {
	size_t n;
	char first[32], last[32];
	double first_epss, first_pct;
	size_t stop_at;
};

static int on_row(void *ctx, const char *cve, double epss, double pct)
{
	struct rows *r = ctx;
	if (++r->n == 1) {
		snprintf(r->first, sizeof(r->first), "%s", cve);
		r->first_epss = epss;
		r->first_pct = pct;
	}
	snprintf(r->last, sizeof(r->last), "%s", cve);
	return r->stop_at && r->n == r->stop_at ? -100 : 0;
}

static struct buf gzip_buf(const char *data, size_t n)
{
	struct buf out;
	out.p = malloc(n + 1024);
	assert_non_null(out.p);
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
	                 Z_OK);
	zs.next_in = (unsigned char *)data;
	zs.avail_in = (uInt)n;
	zs.next_out = (unsigned char *)out.p;
	zs.avail_out = (uInt)(n + 1024);
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	out.n = zs.total_out;
	deflateEnd(&zs);
	return out;
}

static void epss_real_file(void **state)
{
	(void)state;
	struct buf gz = read_file(FP_SHARED_DATA "/epss/epss_scores.csv.gz");
	struct rows r = {0};
	char model[64], date[32];
	struct fp_err err = {0};
	assert_int_equal(fp_epss_parse(gz.p, gz.n, on_row, &r, model, date, &err), 0);
	assert_int_equal(r.n, 360142);
	assert_string_equal(r.first, "CVE-1999-1593");
	assert_float_equal(r.first_epss, 0.18126, 1e-12);
	assert_float_equal(r.first_pct, 0.96946, 1e-12);
	assert_string_equal(model, "");
	assert_string_equal(date, "");

	/* Truncated gzip. */
	struct rows t = {0};
	assert_int_equal(fp_epss_parse(gz.p, gz.n / 2, on_row, &t, model, date, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "truncated"));
	/* The callback stops the parser. */
	struct rows s = {0};
	s.stop_at = 10;
	assert_int_equal(fp_epss_parse(gz.p, gz.n, on_row, &s, model, date, &err), -100);
	assert_int_equal(s.n, 10);
	free(gz.p);
}

static void epss_comment_and_plain(void **state)
{
	(void)state;
	const char *rows = "cve,epss,percentile\r\nCVE-1999-1593,0.181260000,0.969460000\r\n"
	                   "CVE-2024-12345,1e-05,1.0\n";
	char text[512];
	snprintf(text, sizeof(text),
	         "#model_version:v2025.03.14,score_date:2026-08-16T00:00:00+0000\n%s", rows);
	char model[64], date[32];
	struct fp_err err = {0};
	struct rows r = {0};
	assert_int_equal(fp_epss_parse(text, strlen(text), on_row, &r, model, date, &err), 0);
	assert_int_equal(r.n, 2);
	assert_string_equal(model, "v2025.03.14");
	assert_string_equal(date, "2026-08-16T00:00:00+0000");
	assert_string_equal(r.last, "CVE-2024-12345");
	memset(&r, 0, sizeof(r));
	assert_int_equal(fp_epss_parse(rows, strlen(rows), on_row, &r, model, date, &err), 0);
	assert_int_equal(r.n, 2);
	assert_string_equal(model, "");
	/* The same, gzip-compressed, without a final line break. */
	struct buf gz = gzip_buf(text, strlen(text) - 1);
	memset(&r, 0, sizeof(r));
	assert_int_equal(fp_epss_parse(gz.p, gz.n, on_row, &r, model, date, &err), 0);
	assert_int_equal(r.n, 2);
	assert_string_equal(model, "v2025.03.14");
	free(gz.p);
}

static void epss_malformed(void **state)
{
	(void)state;
	const char *bad[] = {
	    "cve,epss,percentile\nCVE-1999-1593,0.18,\n",
	    "cve,epss,percentile\nCVE-1999-1593,abc,0.5\n",
	    "cve,epss,percentile\nCVE-1999-1593,1.5,0.5\n",
	    "cve,epss,percentile\nCVE-1999-1593,-0.1,0.5\n",
	    "cve,epss,percentile\nCVE-1999-1593,0x1p-1,0.5\n",
	    "cve,epss,percentile\nCVE-1999-1593,nan,0.5\n",
	    "cve,epss,percentile\nCVE-1999-1593,.5,0.5\n",
	    "cve,epss,percentile\nCVE-1999-1593,0.5,0.5,1\n",
	    "cve,epss,percentile\nCVE-1999-1593,0.5\n",
	    "cve,epss,percentile\nCVE-99-1,0.5,0.5\n",
	    "cve,score\nCVE-1999-1593,0.5\n",
	    "CVE-1999-1593,0.5,0.5\n",
	    "cve,epss,percentile\n#late comment\n",
	    "",
	    "#model_version:v1\n",
	};
	char model[64], date[32];
	struct fp_err err = {0};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rows r = {0};
		int rc = fp_epss_parse(bad[i], strlen(bad[i]), on_row, &r, model, date, &err);
		if (rc >= 0)
			print_error("accepted: %s\n", bad[i]);
		assert_true(rc < 0);
	}
	struct rows r = {0};
	assert_int_equal(fp_epss_parse(bad[1], strlen(bad[1]), on_row, &r, model, date, &err),
	                 FP_EINVAL);
	assert_non_null(strstr(err.msg, "line 2"));

	/* A line of exactly FP_EPSS_LINE_MAX bytes is read (and rejected as a row); one more is
	 * too long. */
	char line[FP_EPSS_LINE_MAX + 64];
	for (size_t extra = 0; extra < 2; extra++) {
		int n = snprintf(line, sizeof(line), "cve,epss,percentile\nCVE-1999-1593,0.5,0.");
		size_t want = 20 + FP_EPSS_LINE_MAX + extra;
		while ((size_t)n < want)
			line[n++] = '5';
		line[n] = '\0';
		memset(&r, 0, sizeof(r));
		int rc = fp_epss_parse(line, (size_t)n, on_row, &r, model, date, &err);
		assert_int_equal(rc, extra ? FP_ETOOBIG : 0);
	}
	/* A comment value longer than its buffer. */
	char comment[200];
	snprintf(comment, sizeof(comment), "#model_version:%070d\ncve,epss,percentile\n", 1);
	assert_int_equal(fp_epss_parse(comment, strlen(comment), on_row, &r, model, date, &err),
	                 FP_ETOOBIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(kev_real_catalogue), cmocka_unit_test(kev_malformed),
	    cmocka_unit_test(epss_real_file),     cmocka_unit_test(epss_comment_and_plain),
	    cmocka_unit_test(epss_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
