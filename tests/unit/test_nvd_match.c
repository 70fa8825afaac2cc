/*
 * test_nvd_match.c — unit tests of lib/nvd_match.c.
 *
 * The first half evaluates REAL NVD records from the shared data set
 * (nvdcve-2.0-kev-iot-2018-2025.json.gz, and the modified feed for a record
 * without configurations); the expected result of each case was derived by
 * reading the record, and the reasoning is written next to it. The second
 * half covers every rule with hand-written configurations, including negate,
 * which no record in the shared data uses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include <zlib.h>

#include "fleetpatch/nvd_match.h"

#define KEV_IOT  FP_SHARED_DATA "/nvd/nvdcve-2.0-kev-iot-2018-2025.json.gz"
#define MODIFIED FP_SHARED_DATA "/nvd/nvdcve-2.0-modified.json.gz"

/* Reads a whole gzip file and parses it as JSON. */
static json_t *load_gz_json(const char *path)
{
	gzFile f = gzopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	size_t cap = 1 << 20, n = 0;
	char *buf = malloc(cap);
	assert_non_null(buf);
	for (;;) {
		if (n == cap) {
			cap *= 2;
			char *b = realloc(buf, cap);
			assert_non_null(b);
			buf = b;
		}
		int got = gzread(f, buf + n, (unsigned)(cap - n));
		assert_true(got >= 0);
		if (got == 0)
			break;
		n += (size_t)got;
	}
	gzclose(f);
	json_error_t je;
	json_t *root = json_loadb(buf, n, 0, &je);
	free(buf);
	if (!root)
		fail_msg("%s: %s", path, je.text);
	return root;
}

static json_t *kev_iot;

static int setup(void **state)
{
	(void)state;
	kev_iot = load_gz_json(KEV_IOT);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	json_decref(kev_iot);
	return 0;
}

/* The "cve" object of record id in a feed (borrowed); fails when absent. */
static json_t *find_cve(json_t *feed, const char *id)
{
	json_t *vulns = json_object_get(feed, "vulnerabilities");
	size_t i;
	json_t *v;
	json_array_foreach(vulns, i, v)
	{
		json_t *cve = json_object_get(v, "cve");
		if (strcmp(json_string_value(json_object_get(cve, "id")), id) == 0)
			return cve;
	}
	fail_msg("%s not in the feed", id);
	return NULL;
}

/* Parses the configurations of record id. */
static void load_record(json_t *feed, const char *id, struct fp_nvd_configs *c)
{
	struct fp_err err;
	json_t *cve = find_cve(feed, id);
	int rc = fp_nvd_configs_from_json(json_object_get(cve, "configurations"), c, &err);
	if (rc)
		fail_msg("%s: %s", id, err.msg);
}

/*
 * Does the CVE apply to the device whose CPEs are the formatted strings
 * names[0..] (NULL-terminated)? Also returns the matched index in *matched
 * (SIZE_MAX when it does not apply).
 */
static int applies_m(const struct fp_nvd_configs *c, const char *const *names, size_t *matched)
{
	struct fp_cpe have[8];
	size_t n = 0;
	memset(have, 0, sizeof(have));
	struct fp_err err;
	for (; names[n]; n++) {
		assert_true(n < 8);
		if (fp_cpe_parse(names[n], &have[n], &err) != 0)
			fail_msg("%s: %s", names[n], err.msg);
	}
	size_t idx = SIZE_MAX;
	int r = fp_nvd_applies(c, have, n, &idx);
	assert_true(r == 0 || r == 1);
	if (!r)
		assert_int_equal(idx, SIZE_MAX); /* untouched */
	for (size_t i = 0; i < n; i++)
		fp_cpe_free(&have[i]);
	if (matched)
		*matched = idx;
	return r;
}

#define APPLIES(c, ...) applies_m((c), (const char *const[]){__VA_ARGS__, NULL}, NULL)

static void real_dlink_firmware_on_hardware(void **state)
{
	(void)state;
	struct fp_nvd_configs c;
	size_t idx;
	/*
	 * CVE-2018-6530 has four AND configurations, one per model, e.g.
	 * AND(OR[o:dlink:dir-860l_firmware:* <= a1_fw110b04, vulnerable],
	 *     OR[h:dlink:dir-860l:-, not vulnerable]).
	 */
	load_record(kev_iot, "CVE-2018-6530", &c);
	assert_int_equal(c.n, 4);
	assert_int_equal(c.c[0].op_and, 1);
	assert_int_equal(c.c[0].n, 2);
	assert_string_equal(c.c[0].nodes[0].m[0].end_incl, "a1_fw110b04");
	assert_false(c.c[0].nodes[1].m[0].vulnerable);

	/* Firmware a1_fw110b04 (the end bound, inclusive) on a DIR-860L: applies. */
	assert_true(applies_m(
	    &c,
	    (const char *const[]){"cpe:2.3:o:dlink:dir-860l_firmware:a1_fw110b04:*:*:*:*:*:*:*",
	                          "cpe:2.3:h:dlink:dir-860l:-:*:*:*:*:*:*:*", NULL},
	    &idx));
	assert_int_equal(idx, 0);
	/* The index is that of the firmware CPE, not of the hardware condition. */
	assert_true(applies_m(
	    &c,
	    (const char *const[]){"cpe:2.3:h:dlink:dir-860l:-:*:*:*:*:*:*:*",
	                          "cpe:2.3:o:dlink:dir-860l_firmware:a1_fw109b01:*:*:*:*:*:*:*",
	                          NULL},
	    &idx));
	assert_int_equal(idx, 1);
	/* The same firmware on another model (868L has its own firmware CPE): no. */
	assert_false(APPLIES(&c, "cpe:2.3:o:dlink:dir-860l_firmware:a1_fw110b04:*:*:*:*:*:*:*",
	                     "cpe:2.3:h:dlink:dir-868l:-:*:*:*:*:*:*:*"));
	/* Above the end bound: a1_fw110b05 and a1_fw111b01 are newer. */
	assert_false(APPLIES(&c, "cpe:2.3:o:dlink:dir-860l_firmware:a1_fw110b05:*:*:*:*:*:*:*",
	                     "cpe:2.3:h:dlink:dir-860l:-:*:*:*:*:*:*:*"));
	assert_false(APPLIES(&c, "cpe:2.3:o:dlink:dir-860l_firmware:a1_fw111b01:*:*:*:*:*:*:*",
	                     "cpe:2.3:h:dlink:dir-860l:-:*:*:*:*:*:*:*"));
	/* Firmware without its hardware, or hardware alone: the AND fails / nothing vulnerable. */
	assert_false(APPLIES(&c, "cpe:2.3:o:dlink:dir-860l_firmware:a1_fw110b04:*:*:*:*:*:*:*"));
	assert_false(APPLIES(&c, "cpe:2.3:h:dlink:dir-860l:-:*:*:*:*:*:*:*"));
	/* Hardware with version ANY is not "-": NVD's h: criteria has version NA. */
	assert_false(APPLIES(&c, "cpe:2.3:o:dlink:dir-860l_firmware:a1_fw110b04:*:*:*:*:*:*:*",
	                     "cpe:2.3:h:dlink:dir-860l:*:*:*:*:*:*:*:*"));
	/* A firmware without a known version cannot be placed in the range. */
	assert_false(APPLIES(&c, "cpe:2.3:o:dlink:dir-860l_firmware:*:*:*:*:*:*:*:*",
	                     "cpe:2.3:h:dlink:dir-860l:-:*:*:*:*:*:*:*"));
	/* The fourth configuration (DIR-880L) with its own odd bound. */
	assert_true(APPLIES(
	    &c, "cpe:2.3:o:dlink:dir-880l_firmware:reva_firmware_patch_1.08b04:*:*:*:*:*:*:*",
	    "cpe:2.3:h:dlink:dir-880l:-:*:*:*:*:*:*:*"));
	fp_nvd_configs_free(&c);
}

static void real_range_edges(void **state)
{
	(void)state;
	struct fp_nvd_configs c;
	/*
	 * CVE-2018-19953 (QNAP QTS), one OR node: qts:* < 4.2.6; qts:*
	 * [4.3.1.0013, 4.3.3.1161); [4.3.4, 4.3.4.1190); [4.3.6, 4.3.6.1218);
	 * [4.4.0, 4.4.1.1201); [4.4.2, 4.4.2.1231); and explicit 4.2.6 builds in
	 * the update field: qts:4.2.6:-, :build_20170517, :build_20190322,
	 * :build_20190730, :build_20190921, :build_20191107.
	 */
	load_record(kev_iot, "CVE-2018-19953", &c);
	/* versionStartIncluding 4.3.6: the lower edge is in. */
	assert_true(APPLIES(&c, "cpe:2.3:o:qnap:qts:4.3.6:*:*:*:*:*:*:*"));
	assert_true(APPLIES(&c, "cpe:2.3:o:qnap:qts:4.3.6.1217:*:*:*:*:*:*:*"));
	/* versionEndExcluding 4.3.6.1218: the upper edge is out. */
	assert_false(APPLIES(&c, "cpe:2.3:o:qnap:qts:4.3.6.1218:*:*:*:*:*:*:*"));
	/* Between [4.3.4, 4.3.4.1190) and [4.3.6, …): in no range. */
	assert_false(APPLIES(&c, "cpe:2.3:o:qnap:qts:4.3.5.9999:*:*:*:*:*:*:*"));
	assert_false(APPLIES(&c, "cpe:2.3:o:qnap:qts:4.3.4.1190:*:*:*:*:*:*:*"));
	assert_true(APPLIES(&c, "cpe:2.3:o:qnap:qts:4.3.4.1189:*:*:*:*:*:*:*"));
	/* Below 4.2.6, whatever the build. */
	assert_true(APPLIES(&c, "cpe:2.3:o:qnap:qts:4.2.5:*:*:*:*:*:*:*"));
	/*
	 * The version in the update field: 4.2.6 is not < 4.2.6, so only the
	 * explicit entries decide. build_20190322 is listed; build_20200109
	 * is not (it is in CVE-2020-2509 below); update NA matches qts:4.2.6:-;
	 * a device that does not know its build (update ANY) matches none.
	 */
	assert_true(APPLIES(&c, "cpe:2.3:o:qnap:qts:4.2.6:build_20190322:*:*:*:*:*:*"));
	assert_false(APPLIES(&c, "cpe:2.3:o:qnap:qts:4.2.6:build_20200109:*:*:*:*:*:*"));
	assert_true(APPLIES(&c, "cpe:2.3:o:qnap:qts:4.2.6:-:*:*:*:*:*:*"));
	assert_false(APPLIES(&c, "cpe:2.3:o:qnap:qts:4.2.6:*:*:*:*:*:*:*"));
	/* QuTS hero is another product. */
	assert_false(APPLIES(&c, "cpe:2.3:o:qnap:quts_hero:4.2.5:*:*:*:*:*:*:*"));
	fp_nvd_configs_free(&c);

	/* CVE-2020-2509 lists qts:4.2.6:build_20200109 explicitly. */
	load_record(kev_iot, "CVE-2020-2509", &c);
	assert_true(APPLIES(&c, "cpe:2.3:o:qnap:qts:4.2.6:build_20200109:*:*:*:*:*:*"));
	assert_false(APPLIES(&c, "cpe:2.3:o:qnap:qts:4.2.6:build_20210101:*:*:*:*:*:*"));
	fp_nvd_configs_free(&c);

	/*
	 * CVE-2023-27997 (FortiOS/FortiProxy). Configuration 0, no operator:
	 * fortios [6.0.0, 6.0.16], [6.2.0, 6.2.13], [6.4.0, 6.4.12],
	 * [7.0.0, 7.0.11], [7.2.0, 7.2.4] (StartIncluding/EndIncluding), and
	 * fortiproxy ranges. Configuration 1: AND(fortios ranges and explicit
	 * versions, OR[h:fortigate_6000, h:fortigate_7000] not vulnerable).
	 */
	load_record(kev_iot, "CVE-2023-27997", &c);
	assert_int_equal(c.c[0].op_and, 0);
	assert_true(APPLIES(&c, "cpe:2.3:o:fortinet:fortios:7.2.0:*:*:*:*:*:*:*"));
	assert_true(APPLIES(&c, "cpe:2.3:o:fortinet:fortios:7.2.4:*:*:*:*:*:*:*"));
	assert_false(APPLIES(&c, "cpe:2.3:o:fortinet:fortios:7.2.5:*:*:*:*:*:*:*"));
	assert_false(APPLIES(&c, "cpe:2.3:o:fortinet:fortios:7.1.9:*:*:*:*:*:*:*"));
	/* "7.2" is older than "7.2.0" (see docs/design/version.md): outside. */
	assert_false(APPLIES(&c, "cpe:2.3:o:fortinet:fortios:7.2:*:*:*:*:*:*:*"));
	/* Equivalent spelling of the inclusive end bound. */
	assert_true(APPLIES(&c, "cpe:2.3:o:fortinet:fortios:v7.2.4:*:*:*:*:*:*:*"));
	assert_true(APPLIES(&c, "cpe:2.3:a:fortinet:fortiproxy:7.2.3:*:*:*:*:*:*:*"));
	assert_false(APPLIES(&c, "cpe:2.3:a:fortinet:fortiproxy:7.2.4:*:*:*:*:*:*:*"));
	/* fortiproxy is an a: CPE in NVD; an o: device CPE is another name. */
	assert_false(APPLIES(&c, "cpe:2.3:o:fortinet:fortiproxy:7.2.3:*:*:*:*:*:*:*"));
	fp_nvd_configs_free(&c);
}

static void real_escaped_cpes(void **state)
{
	(void)state;
	struct fp_nvd_configs c;
	/*
	 * CVE-2023-27992 (Zyxel NAS): AND(OR[o:zyxel:nas326_firmware:* <
	 * 5.21\(aazf.14\)c0], OR[h:zyxel:nas326:-]) and the same for nas540 and
	 * nas542. The bound is stored with its quoting resolved.
	 */
	load_record(kev_iot, "CVE-2023-27992", &c);
	assert_string_equal(c.c[0].nodes[0].m[0].end_excl, "5.21(aazf.14)c0");
	assert_true(APPLIES(&c, "cpe:2.3:o:zyxel:nas326_firmware:5.21\\(AAZF.13\\)C0:*:*:*:*:*:*:*",
	                    "cpe:2.3:h:zyxel:nas326:-:*:*:*:*:*:*:*"));
	/* The fixed release (excluded edge), also in another spelling. */
	assert_false(APPLIES(&c,
	                     "cpe:2.3:o:zyxel:nas326_firmware:5.21\\(AAZF.14\\)C0:*:*:*:*:*:*:*",
	                     "cpe:2.3:h:zyxel:nas326:-:*:*:*:*:*:*:*"));
	assert_false(APPLIES(&c, "cpe:2.3:o:zyxel:nas326_firmware:V5.21-aazf-14-c0:*:*:*:*:*:*:*",
	                     "cpe:2.3:h:zyxel:nas326:-:*:*:*:*:*:*:*"));
	/* NAS326 firmware on a NAS540 box. */
	assert_false(APPLIES(&c,
	                     "cpe:2.3:o:zyxel:nas326_firmware:5.21\\(AAZF.13\\)C0:*:*:*:*:*:*:*",
	                     "cpe:2.3:h:zyxel:nas540:-:*:*:*:*:*:*:*"));
	fp_nvd_configs_free(&c);

	/*
	 * CVE-2020-29557: AND(OR[o:dlink:dir-825_r1_firmware:* <= 3.0.1],
	 * OR[h:dlink:dir-825:r1, dir-825\/a:d1a, dir-825\/ac:e, dir-825\/ac:e1a,
	 * dir-825\/acf:f1, dir-825\/gf:gf]) — hardware names with a quoted '/'
	 * and the hardware revision in the version field.
	 */
	load_record(kev_iot, "CVE-2020-29557", &c);
	assert_true(APPLIES(&c, "cpe:2.3:o:dlink:dir-825_r1_firmware:3.0.1:*:*:*:*:*:*:*",
	                    "cpe:2.3:h:dlink:dir-825\\/ac:e:*:*:*:*:*:*:*"));
	assert_true(APPLIES(&c, "cpe:2.3:o:dlink:dir-825_r1_firmware:2.10:*:*:*:*:*:*:*",
	                    "cpe:2.3:h:dlink:dir-825:r1:*:*:*:*:*:*:*"));
	assert_false(APPLIES(&c, "cpe:2.3:o:dlink:dir-825_r1_firmware:3.0.2:*:*:*:*:*:*:*",
	                     "cpe:2.3:h:dlink:dir-825\\/ac:e:*:*:*:*:*:*:*"));
	/* dir-825/ac revision f1 is not listed (only dir-825/acf:f1 is). */
	assert_false(APPLIES(&c, "cpe:2.3:o:dlink:dir-825_r1_firmware:3.0.1:*:*:*:*:*:*:*",
	                     "cpe:2.3:h:dlink:dir-825\\/ac:f1:*:*:*:*:*:*:*"));
	fp_nvd_configs_free(&c);

	/*
	 * CVE-2018-14558: the Tenda AC9 bound is versionEndIncluding
	 * "15.03.05.19\(6318\)_cn"; 15.03.05.19 sorts before it (shorter, and
	 * the longer one continues with a number), 15.03.05.20 after.
	 */
	load_record(kev_iot, "CVE-2018-14558", &c);
	assert_true(APPLIES(&c,
	                    "cpe:2.3:o:tenda:ac9_firmware:15.03.05.19\\(6318\\)_CN:*:*:*:*:*:*:*",
	                    "cpe:2.3:h:tenda:ac9:-:*:*:*:*:*:*:*"));
	assert_true(APPLIES(&c, "cpe:2.3:o:tenda:ac9_firmware:15.03.05.19:*:*:*:*:*:*:*",
	                    "cpe:2.3:h:tenda:ac9:-:*:*:*:*:*:*:*"));
	assert_false(APPLIES(&c, "cpe:2.3:o:tenda:ac9_firmware:15.03.05.20:*:*:*:*:*:*:*",
	                     "cpe:2.3:h:tenda:ac9:-:*:*:*:*:*:*:*"));
	fp_nvd_configs_free(&c);

	/*
	 * CVE-2020-9054: ATP100 firmware in [4.35, 4.35\(abps.3\)c0). KNOWN
	 * DEVIATION: fp_version_cmp ranks the letter run "abps" like a
	 * pre-release word, so every 4.35(...) build sorts BELOW "4.35" and this
	 * range is empty; the vulnerable 4.35(ABPS.2)C0 is not reported. The
	 * test pins today's behaviour so that a change to version.c shows here.
	 */
	load_record(kev_iot, "CVE-2020-9054", &c);
	assert_false(APPLIES(&c, "cpe:2.3:o:zyxel:atp100_firmware:4.35\\(abps.2\\)c0:*:*:*:*:*:*:*",
	                     "cpe:2.3:h:zyxel:atp100:-:*:*:*:*:*:*:*"));
	/* The NAS configurations of the same record work as expected. */
	assert_true(APPLIES(&c, "cpe:2.3:o:zyxel:nas326_firmware:5.21\\(aazf.6\\)c0:*:*:*:*:*:*:*",
	                    "cpe:2.3:h:zyxel:nas326:-:*:*:*:*:*:*:*"));
	fp_nvd_configs_free(&c);
}

static void real_update_field(void **state)
{
	(void)state;
	struct fp_nvd_configs c;
	/*
	 * CVE-2021-25487 (Samsung): one OR node of explicit versions with the
	 * security patch level in the update field: android:8.1:-, and 9.0,
	 * 10.0, 11.0 each with smr-{jan..sep}-2021-r1. No ranges.
	 */
	load_record(kev_iot, "CVE-2021-25487", &c);
	assert_true(APPLIES(&c, "cpe:2.3:o:samsung:android:11.0:smr-sep-2021-r1:*:*:*:*:*:*"));
	/* Case does not matter, but "11" is not the same version as "11.0". */
	assert_true(APPLIES(&c, "cpe:2.3:o:samsung:android:11.0:SMR-SEP-2021-R1:*:*:*:*:*:*"));
	assert_false(APPLIES(&c, "cpe:2.3:o:samsung:android:11:smr-sep-2021-r1:*:*:*:*:*:*"));
	assert_false(APPLIES(&c, "cpe:2.3:o:samsung:android:11.0:smr-oct-2021-r1:*:*:*:*:*:*"));
	assert_false(APPLIES(&c, "cpe:2.3:o:samsung:android:12.0:smr-sep-2021-r1:*:*:*:*:*:*"));
	assert_true(APPLIES(&c, "cpe:2.3:o:samsung:android:8.1:-:*:*:*:*:*:*"));
	assert_false(APPLIES(&c, "cpe:2.3:o:samsung:android:8.1:*:*:*:*:*:*:*"));
	assert_false(APPLIES(&c, "cpe:2.3:o:google:android:11.0:smr-sep-2021-r1:*:*:*:*:*:*"));
	fp_nvd_configs_free(&c);
}

static void real_no_configurations(void **state)
{
	(void)state;
	/*
	 * Every record of the KEV/IoT slice has configurations, so the record
	 * comes from the modified feed: CVE-2005-10003 is "Awaiting Analysis"
	 * and has no "configurations" key. n = 0 and it never applies.
	 */
	json_t *mod = load_gz_json(MODIFIED);
	json_t *cve = find_cve(mod, "CVE-2005-10003");
	assert_string_equal(json_string_value(json_object_get(cve, "vulnStatus")),
	                    "Awaiting Analysis");
	struct fp_nvd_configs c;
	assert_int_equal(fp_nvd_configs_from_json(json_object_get(cve, "configurations"), &c, NULL),
	                 0);
	assert_int_equal(c.n, 0);
	assert_false(APPLIES(&c, "cpe:2.3:a:*:*:*:*:*:*:*:*:*:*"));
	fp_nvd_configs_free(&c);

	/* Every record of both files parses. */
	json_t *feeds[2] = {kev_iot, mod};
	size_t parsed = 0, with = 0;
	for (int f = 0; f < 2; f++) {
		size_t i;
		json_t *v;
		json_array_foreach(json_object_get(feeds[f], "vulnerabilities"), i, v)
		{
			struct fp_err err;
			json_t *cf = json_object_get(json_object_get(v, "cve"), "configurations");
			if (fp_nvd_configs_from_json(cf, &c, &err) != 0)
				fail_msg("record %zu: %s", i, err.msg);
			parsed++;
			with += c.n > 0;
			fp_nvd_configs_free(&c);
		}
	}
	assert_int_equal(parsed, 80 + 2393);
	assert_true(with > 80);
	json_decref(mod);
}

struct keys {
	char got[8][64];
	int n;
	int stop_at;
};

static int collect(void *ctx, const char *key)
{
	struct keys *k = ctx;
	if (k->n < 8)
		snprintf(k->got[k->n], sizeof(k->got[0]), "%s", key);
	k->n++;
	return k->n == k->stop_at ? 42 : 0;
}

static void real_keys(void **state)
{
	(void)state;
	struct fp_nvd_configs c;
	struct keys k;
	/* CVE-2018-6530: four firmware products; the hardware CPEs are not vulnerable. */
	load_record(kev_iot, "CVE-2018-6530", &c);
	memset(&k, 0, sizeof(k));
	assert_int_equal(fp_nvd_configs_keys(&c, collect, &k), 0);
	assert_int_equal(k.n, 4);
	assert_string_equal(k.got[0], "dlink:dir-860l_firmware");
	assert_string_equal(k.got[3], "dlink:dir-880l_firmware");
	memset(&k, 0, sizeof(k));
	k.stop_at = 2;
	assert_int_equal(fp_nvd_configs_keys(&c, collect, &k), 42);
	assert_int_equal(k.n, 2);
	fp_nvd_configs_free(&c);
	/* CVE-2020-2509: 90 entries over two products, each key once. */
	load_record(kev_iot, "CVE-2020-2509", &c);
	memset(&k, 0, sizeof(k));
	assert_int_equal(fp_nvd_configs_keys(&c, collect, &k), 0);
	assert_int_equal(k.n, 2);
	assert_string_equal(k.got[0], "qnap:qts");
	assert_string_equal(k.got[1], "qnap:quts_hero");
	fp_nvd_configs_free(&c);
	/* Nothing to index. */
	struct fp_nvd_configs empty = {NULL, 0};
	assert_int_equal(fp_nvd_configs_keys(&empty, collect, &k), 0);
}

/* ------------------------------------------------------ hand-written */

/* Parses a configurations array written as JSON text. */
static void parse_text(const char *text, struct fp_nvd_configs *c)
{
	json_error_t je;
	struct fp_err err;
	json_t *j = json_loads(text, 0, &je);
	if (!j)
		fail_msg("bad test JSON: %s", je.text);
	if (fp_nvd_configs_from_json(j, c, &err) != 0)
		fail_msg("%s", err.msg);
	json_decref(j);
}

/* Returns the code of parsing text, and checks the message for want. */
static int parse_err(const char *text, const char *want)
{
	json_error_t je;
	struct fp_err err;
	struct fp_nvd_configs c;
	fp_err_clear(&err);
	json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	if (!j)
		fail_msg("bad test JSON: %s", je.text);
	int rc = fp_nvd_configs_from_json(j, &c, &err);
	json_decref(j);
	assert_int_equal(c.n, 0);
	assert_null(c.c);
	if (want && !strstr(err.msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
	return rc;
}

#define FW   "cpe:2.3:o:acme:cam_firmware:*:*:*:*:*:*:*:*"
#define HW   "cpe:2.3:h:acme:cam:-:*:*:*:*:*:*:*"
#define HW2  "cpe:2.3:h:acme:cam2:-:*:*:*:*:*:*:*"
#define LIB  "cpe:2.3:a:acme:libfoo:*:*:*:*:*:*:*:*"
#define D_FW "cpe:2.3:o:acme:cam_firmware:2.0:*:*:*:*:*:*:*"
#define D_HW HW
#define D_H2 HW2
#define D_LB "cpe:2.3:a:acme:libfoo:1.0:*:*:*:*:*:*:*"
#define LIB_TEXT                                                                                   \
	"[{\"nodes\":[{\"operator\":\"OR\",\"cpeMatch\":[{\"vulnerable\":true,"                    \
	"\"criteria\":\"" LIB "\"}]}]}]"

static void rules_operators(void **state)
{
	(void)state;
	struct fp_nvd_configs c;
	/* Node OR: either entry. */
	parse_text("[{\"nodes\":[{\"operator\":\"OR\",\"cpeMatch\":["
	           "{\"vulnerable\":true,\"criteria\":\"" FW "\"},"
	           "{\"vulnerable\":true,\"criteria\":\"" LIB "\"}]}]}]",
	           &c);
	assert_true(APPLIES(&c, D_FW));
	assert_true(APPLIES(&c, D_LB));
	assert_false(APPLIES(&c, D_HW));
	fp_nvd_configs_free(&c);

	/* Node AND: both entries, by different device CPEs. */
	parse_text("[{\"nodes\":[{\"operator\":\"AND\",\"cpeMatch\":["
	           "{\"vulnerable\":true,\"criteria\":\"" FW "\"},"
	           "{\"vulnerable\":false,\"criteria\":\"" LIB "\"}]}]}]",
	           &c);
	assert_int_equal(c.c[0].nodes[0].op_and, 1);
	assert_false(APPLIES(&c, D_FW));
	assert_false(APPLIES(&c, D_LB));
	size_t idx;
	assert_true(applies_m(&c, (const char *const[]){D_LB, D_HW, D_FW, NULL}, &idx));
	assert_int_equal(idx, 2);
	fp_nvd_configs_free(&c);

	/* Configuration OR of nodes (explicit), AND of nodes. */
	parse_text("[{\"operator\":\"OR\",\"nodes\":["
	           "{\"operator\":\"OR\",\"cpeMatch\":[{\"vulnerable\":true,\"criteria\":\"" FW
	           "\"}]},"
	           "{\"operator\":\"OR\",\"cpeMatch\":[{\"vulnerable\":true,\"criteria\":\"" LIB
	           "\"}]}]}]",
	           &c);
	assert_true(APPLIES(&c, D_LB));
	assert_true(APPLIES(&c, D_FW));
	fp_nvd_configs_free(&c);
	/* A configuration without operator and several nodes reads as OR. */
	parse_text("[{\"nodes\":["
	           "{\"cpeMatch\":[{\"vulnerable\":true,\"criteria\":\"" FW "\"}]},"
	           "{\"cpeMatch\":[{\"vulnerable\":true,\"criteria\":\"" LIB "\"}]}]}]",
	           &c);
	assert_int_equal(c.c[0].op_and, 0);
	assert_true(APPLIES(&c, D_LB));
	fp_nvd_configs_free(&c);
	parse_text("[{\"operator\":\"AND\",\"nodes\":["
	           "{\"operator\":\"OR\",\"cpeMatch\":[{\"vulnerable\":true,\"criteria\":\"" FW
	           "\"}]},"
	           "{\"operator\":\"OR\",\"cpeMatch\":[{\"vulnerable\":false,\"criteria\":\"" HW
	           "\"},{\"vulnerable\":false,\"criteria\":\"" HW2 "\"}]}]}]",
	           &c);
	assert_true(APPLIES(&c, D_FW, D_HW));
	assert_true(APPLIES(&c, D_H2, D_FW));
	assert_false(APPLIES(&c, D_FW));
	assert_false(APPLIES(&c, D_HW, D_H2));
	fp_nvd_configs_free(&c);

	/* Only platform conditions matched: never applies. */
	parse_text("[{\"nodes\":[{\"operator\":\"OR\",\"cpeMatch\":["
	           "{\"vulnerable\":false,\"criteria\":\"" HW "\"}]}]}]",
	           &c);
	assert_false(APPLIES(&c, D_HW));
	fp_nvd_configs_free(&c);

	/* A vulnerable entry matched in a configuration that is false does not count. */
	parse_text(
	    "[{\"operator\":\"AND\",\"nodes\":["
	    "{\"operator\":\"OR\",\"cpeMatch\":[{\"vulnerable\":true,\"criteria\":\"" FW "\"}]},"
	    "{\"operator\":\"OR\",\"cpeMatch\":[{\"vulnerable\":false,\"criteria\":\"" HW "\"}]}]},"
	    "{\"nodes\":[{\"operator\":\"OR\",\"cpeMatch\":[{\"vulnerable\":false,"
	    "\"criteria\":\"" HW2 "\"}]}]}]",
	    &c);
	assert_false(APPLIES(&c, D_FW, D_H2));
	assert_true(APPLIES(&c, D_FW, D_HW));
	fp_nvd_configs_free(&c);

	/* Empty things: no configurations, no devices, an empty node. */
	parse_text("[]", &c);
	assert_int_equal(c.n, 0);
	assert_false(APPLIES(&c, D_FW));
	fp_nvd_configs_free(&c);
	assert_int_equal(fp_nvd_configs_from_json(json_null(), &c, NULL), 0);
	assert_int_equal(c.n, 0);
	assert_false(fp_nvd_applies(NULL, NULL, 0, NULL));
	parse_text("[{\"nodes\":[{\"operator\":\"OR\",\"cpeMatch\":["
	           "{\"vulnerable\":true,\"criteria\":\"" FW "\"}]}]}]",
	           &c);
	assert_false(fp_nvd_applies(&c, NULL, 0, NULL));
	fp_nvd_configs_free(&c);
	parse_text("[{\"operator\":\"AND\",\"nodes\":[]},{\"nodes\":[{\"cpeMatch\":[]}]}]", &c);
	assert_false(APPLIES(&c, D_FW));
	fp_nvd_configs_free(&c);
	fp_nvd_configs_free(NULL);
}

/* The product hash that rejects other products early never changes an answer. */
static void rules_product_hash(void **state)
{
	(void)state;
	struct fp_nvd_configs c;
	struct fp_err err;
	parse_text(
	    "[{\"nodes\":[{\"operator\":\"OR\",\"cpeMatch\":["
	    "{\"vulnerable\":true,\"criteria\":\"" LIB "\"},"
	    "{\"vulnerable\":true,\"criteria\":\"cpe:2.3:a:acme:lib*:1.5:*:*:*:*:*:*:*\"}]}]}]",
	    &c);
	/* Both parsers set the hash of a plain product, and none of a wildcard one. */
	assert_int_not_equal(c.c[0].nodes[0].m[0].product_hash, 0);
	assert_int_equal(c.c[0].nodes[0].m[1].product_hash, 0);
	struct fp_nvd_configs t;
	assert_int_equal(fp_nvd_configs_parse(LIB_TEXT, strlen(LIB_TEXT), &t, &err), 0);
	assert_int_equal(t.c[0].nodes[0].m[0].product_hash, c.c[0].nodes[0].m[0].product_hash);
	fp_nvd_configs_free(&t);
	assert_true(APPLIES(&c, D_FW, D_LB));
	assert_true(APPLIES(&c, "cpe:2.3:a:acme:libbar:1.5:*:*:*:*:*:*:*"));
	assert_false(APPLIES(&c, "cpe:2.3:a:acme:libbar:1.6:*:*:*:*:*:*:*"));

	/* A product set in upper case through fp_cpe_set() still matches. */
	struct fp_cpe up;
	assert_int_equal(fp_cpe_make(&up, 'a', "acme", "LibFoo", "1.0", &err), 0);
	size_t m = SIZE_MAX;
	assert_true(fp_nvd_applies(&c, &up, 1, &m));
	assert_int_equal(m, 0);
	fp_cpe_free(&up);

	/* A platform larger than the hashed one is compared in full. */
	struct fp_cpe many[70];
	for (size_t i = 0; i < 70; i++) {
		char name[64];
		snprintf(name, sizeof(name), "cpe:2.3:a:acme:other%zu:1.0:*:*:*:*:*:*:*", i);
		assert_int_equal(fp_cpe_parse(i == 69 ? D_LB : name, &many[i], &err), 0);
	}
	m = SIZE_MAX;
	assert_true(fp_nvd_applies(&c, many, 70, &m));
	assert_int_equal(m, 69);
	assert_false(fp_nvd_applies(&c, many, 69, NULL));
	for (size_t i = 0; i < 70; i++)
		fp_cpe_free(&many[i]);
	fp_nvd_configs_free(&c);
}

static void rules_negate(void **state)
{
	(void)state;
	struct fp_nvd_configs c;
	/*
	 * No record in the shared data (the kev-iot slice, the modified feed,
	 * the 2002-2016 yearly files) has "negate":true, so these are written
	 * by hand. Firmware on any hardware except cam2:
	 */
	parse_text("[{\"operator\":\"AND\",\"nodes\":["
	           "{\"operator\":\"OR\",\"cpeMatch\":[{\"vulnerable\":true,\"criteria\":\"" FW
	           "\"}]},"
	           "{\"operator\":\"OR\",\"negate\":true,\"cpeMatch\":[{\"vulnerable\":false,"
	           "\"criteria\":\"" HW2 "\"}]}]}]",
	           &c);
	assert_int_equal(c.c[0].nodes[1].negate, 1);
	assert_true(APPLIES(&c, D_FW, D_HW));
	assert_true(APPLIES(&c, D_FW));
	assert_false(APPLIES(&c, D_FW, D_H2));
	fp_nvd_configs_free(&c);

	/* A negated AND node: true unless both match. */
	parse_text("[{\"operator\":\"AND\",\"nodes\":["
	           "{\"operator\":\"OR\",\"cpeMatch\":[{\"vulnerable\":true,\"criteria\":\"" FW
	           "\"}]},"
	           "{\"operator\":\"AND\",\"negate\":true,\"cpeMatch\":["
	           "{\"vulnerable\":false,\"criteria\":\"" HW "\"},"
	           "{\"vulnerable\":false,\"criteria\":\"" LIB "\"}]}]}]",
	           &c);
	assert_true(APPLIES(&c, D_FW, D_HW));
	assert_true(APPLIES(&c, D_FW, D_LB));
	assert_false(APPLIES(&c, D_FW, D_HW, D_LB));
	fp_nvd_configs_free(&c);

	/*
	 * A vulnerable entry under one negation is an exclusion: the node is
	 * true when the firmware does NOT match, and then nothing vulnerable
	 * matched, so the CVE never applies through it.
	 */
	parse_text("[{\"nodes\":[{\"operator\":\"AND\",\"negate\":true,\"cpeMatch\":["
	           "{\"vulnerable\":true,\"criteria\":\"" FW "\"},"
	           "{\"vulnerable\":true,\"criteria\":\"" LIB "\"}]}]}]",
	           &c);
	assert_false(APPLIES(&c, D_FW));
	assert_false(APPLIES(&c, D_HW));
	assert_false(APPLIES(&c, D_FW, D_LB));
	fp_nvd_configs_free(&c);

	/* A negated configuration: true when its formula is false. */
	parse_text("[{\"negate\":true,\"operator\":\"AND\",\"nodes\":["
	           "{\"operator\":\"OR\",\"cpeMatch\":[{\"vulnerable\":false,\"criteria\":\"" HW2
	           "\"}]},"
	           "{\"operator\":\"OR\",\"negate\":true,\"cpeMatch\":[{\"vulnerable\":true,"
	           "\"criteria\":\"" FW "\"}]}]}]",
	           &c);
	/* NOT(AND(hw2, NOT fw)): fw is under two negations, so it counts. */
	assert_true(APPLIES(&c, D_FW));
	assert_true(APPLIES(&c, D_FW, D_H2));
	assert_false(APPLIES(&c, D_HW)); /* true formula, but nothing vulnerable matched */
	assert_false(APPLIES(&c, D_H2)); /* AND(hw2, NOT fw) holds: negated to false */
	fp_nvd_configs_free(&c);
}

/* One OR node with the entry FW plus the given bound keys (JSON members). */
static void bounded(const char *bounds, struct fp_nvd_configs *c)
{
	char text[512];
	snprintf(text, sizeof(text),
	         "[{\"nodes\":[{\"operator\":\"OR\",\"cpeMatch\":[{\"vulnerable\":true,"
	         "\"criteria\":\"" FW "\",%s}]}]}]",
	         bounds);
	parse_text(text, c);
}

static int fw(const struct fp_nvd_configs *c, const char *version)
{
	char name[256];
	snprintf(name, sizeof(name), "cpe:2.3:o:acme:cam_firmware:%s:*:*:*:*:*:*:*", version);
	return APPLIES(c, name);
}

static void rules_bounds(void **state)
{
	(void)state;
	struct fp_nvd_configs c;
	bounded("\"versionStartIncluding\":\"1.2\"", &c);
	assert_false(fw(&c, "1.1.9"));
	assert_true(fw(&c, "1.2"));
	assert_true(fw(&c, "V1.2"));
	assert_true(fw(&c, "99"));
	fp_nvd_configs_free(&c);
	bounded("\"versionStartExcluding\":\"1.2\"", &c);
	assert_false(fw(&c, "1.2"));
	assert_false(fw(&c, "1-2"));
	assert_true(fw(&c, "1.2.1"));
	assert_true(fw(&c, "1.2\\ build\\ 3"));
	assert_false(fw(&c, "1.2-rc1"));
	fp_nvd_configs_free(&c);
	bounded("\"versionEndIncluding\":\"1.2\"", &c);
	assert_true(fw(&c, "1.2"));
	assert_true(fw(&c, "0.1"));
	assert_false(fw(&c, "1.2.0"));
	fp_nvd_configs_free(&c);
	bounded("\"versionEndExcluding\":\"1.2\"", &c);
	assert_false(fw(&c, "1.2"));
	assert_true(fw(&c, "1.2-rc1"));
	assert_true(fw(&c, "1.1.99"));
	fp_nvd_configs_free(&c);
	bounded("\"versionStartExcluding\":\"1.0\",\"versionEndIncluding\":\"2.0\"", &c);
	assert_false(fw(&c, "1.0"));
	assert_true(fw(&c, "1.0.1"));
	assert_true(fw(&c, "2.0"));
	assert_false(fw(&c, "2.0.1"));
	/* With a bound, the device version must be a plain value. */
	assert_false(fw(&c, "*"));
	assert_false(fw(&c, "-"));
	assert_false(fw(&c, "1.5*"));
	fp_nvd_configs_free(&c);
	/* Unknown keys (NVD adds fields) and null bounds are ignored. */
	bounded("\"matchCriteriaId\":\"X\",\"futureField\":[1,{\"a\":2}],"
	        "\"versionEndExcluding\":null",
	        &c);
	assert_null(c.c[0].nodes[0].m[0].end_excl);
	assert_true(fw(&c, "123"));
	fp_nvd_configs_free(&c);
	/* A criteria with a concrete version and a bound: both must hold. */
	parse_text("[{\"nodes\":[{\"operator\":\"OR\",\"cpeMatch\":[{\"vulnerable\":true,"
	           "\"criteria\":\"cpe:2.3:o:acme:cam_firmware:2.0:*:*:*:*:*:*:*\","
	           "\"versionEndExcluding\":\"3\"}]}]}]",
	           &c);
	assert_true(fw(&c, "2.0"));
	assert_false(fw(&c, "2.5"));
	fp_nvd_configs_free(&c);
}

static void parse_errors(void **state)
{
	(void)state;
	assert_int_equal(parse_err("{}", "must be an array"), FP_EINVAL);
	assert_int_equal(parse_err("[1]", "configurations[0]: a configuration must be an object"),
	                 FP_EINVAL);
	assert_int_equal(parse_err("[{}]", "\"nodes\" must be an array"), FP_EINVAL);
	assert_int_equal(parse_err("[{\"operator\":\"XOR\",\"nodes\":[]}]", "\"AND\" or \"OR\""),
	                 FP_EINVAL);
	assert_int_equal(parse_err("[{\"operator\":1,\"nodes\":[]}]", "must be a string"),
	                 FP_EINVAL);
	assert_int_equal(parse_err("[{\"negate\":\"yes\",\"nodes\":[]}]", "true or false"),
	                 FP_EINVAL);
	assert_int_equal(parse_err("[{\"nodes\":[{}]}]",
	                           "configurations[0].nodes[0]: \"cpeMatch\" must be an array"),
	                 FP_EINVAL);
	assert_int_equal(parse_err("[{\"nodes\":[[]]}]", "a node must be an object"), FP_EINVAL);
	assert_int_equal(parse_err("[{\"nodes\":[{\"operator\":\"and\",\"cpeMatch\":[]}]}]",
	                           "\"AND\" or \"OR\""),
	                 FP_EINVAL);
	assert_int_equal(parse_err("[{\"nodes\":[{\"cpeMatch\":[{\"criteria\":\"" FW "\"}]}]}]",
	                           "cpeMatch[0]: \"vulnerable\" is missing"),
	                 FP_EINVAL);
	assert_int_equal(parse_err("[{\"nodes\":[{\"cpeMatch\":[\"x\"]}]}]", "must be an object"),
	                 FP_EINVAL);
	assert_int_equal(
	    parse_err("[{\"nodes\":[{\"cpeMatch\":[{\"vulnerable\":1,\"criteria\":\"" FW "\"}]}]}]",
	              "true or false"),
	    FP_EINVAL);
	assert_int_equal(parse_err("[{\"nodes\":[{\"cpeMatch\":[{\"vulnerable\":true}]}]}]",
	                           "\"criteria\" must be"),
	                 FP_EINVAL);
	assert_int_equal(
	    parse_err("[{\"nodes\":[{\"cpeMatch\":[{\"vulnerable\":true,\"criteria\":7}]}]}]",
	              "\"criteria\" must be"),
	    FP_EINVAL);
	assert_int_equal(
	    parse_err("[{\"nodes\":[{\"cpeMatch\":[{\"vulnerable\":true,\"criteria\":\"" FW "\"},"
	              "{\"vulnerable\":true,\"criteria\":\"cpe:2.3:o:acme:x(y):*:*:*:*:*:*:*:*\"}"
	              "]}]}]",
	              "configurations[0].nodes[0].cpeMatch[1]: criteria: CPE product at byte 16"),
	    FP_EINVAL);
	assert_int_equal(parse_err("[{\"nodes\":[{\"cpeMatch\":[{\"vulnerable\":true,\"criteria\":"
	                           "\"" FW "\",\"versionEndIncluding\":2}]}]}]",
	                           "\"versionEndIncluding\" must be a string"),
	                 FP_EINVAL);
	assert_int_equal(parse_err("[{\"nodes\":[{\"cpeMatch\":[{\"vulnerable\":true,\"criteria\":"
	                           "\"" FW "\",\"versionStartExcluding\":\"\"}]}]}]",
	                           "1 to 1024 bytes"),
	                 FP_EINVAL);
	assert_int_equal(parse_err("[{\"nodes\":[{\"cpeMatch\":[{\"vulnerable\":true,\"criteria\":"
	                           "\"" FW "\",\"versionStartExcluding\":\"1\\u00002\"}]}]}]",
	                           "1 to 1024 bytes"),
	                 FP_EINVAL);
	/* An error in the second configuration frees the first. */
	assert_int_equal(parse_err("[{\"nodes\":[{\"cpeMatch\":[{\"vulnerable\":true,\"criteria\":"
	                           "\"" FW
	                           "\"}]}]},{\"nodes\":[{\"cpeMatch\":[{\"vulnerable\":true,"
	                           "\"criteria\":\"" FW "\",\"versionEndIncluding\":[]}]}]}]",
	                           "configurations[1].nodes[0].cpeMatch[0]"),
	                 FP_EINVAL);
}

/* Builds [config × nc] where each config has nn nodes of nm identical entries. */
static json_t *build(size_t nc, size_t nn, size_t nm)
{
	json_t *entry = json_pack("{s:b,s:s}", "vulnerable", 1, "criteria", FW);
	json_t *node = json_pack("{s:s,s:[]}", "operator", "OR", "cpeMatch");
	json_t *m = json_object_get(node, "cpeMatch");
	for (size_t i = 0; i < nm; i++)
		json_array_append(m, entry);
	json_t *conf = json_pack("{s:[]}", "nodes");
	json_t *nodes = json_object_get(conf, "nodes");
	for (size_t i = 0; i < nn; i++)
		json_array_append(nodes, node);
	json_t *all = json_array();
	for (size_t i = 0; i < nc; i++)
		json_array_append(all, conf);
	json_decref(entry);
	json_decref(node);
	json_decref(conf);
	return all;
}

static int parse_built(size_t nc, size_t nn, size_t nm, struct fp_err *err)
{
	json_t *j = build(nc, nn, nm);
	struct fp_nvd_configs c;
	int rc = fp_nvd_configs_from_json(j, &c, err);
	fp_nvd_configs_free(&c);
	json_decref(j);
	return rc;
}

static void caps(void **state)
{
	(void)state;
	struct fp_err err;
	assert_int_equal(parse_built(FP_NVD_CONFIGS_MAX, 1, 1, &err), 0);
	assert_int_equal(parse_built(FP_NVD_CONFIGS_MAX + 1, 1, 1, &err), FP_ETOOBIG);
	assert_int_equal(parse_built(1, FP_NVD_NODES_MAX, 1, &err), 0);
	assert_int_equal(parse_built(1, FP_NVD_NODES_MAX + 1, 1, &err), FP_ETOOBIG);
	assert_non_null(strstr(err.msg, "configurations[0]"));
	assert_int_equal(parse_built(1, 1, FP_NVD_MATCHES_MAX, &err), 0);
	assert_int_equal(parse_built(1, 1, FP_NVD_MATCHES_MAX + 1, &err), FP_ETOOBIG);
	assert_non_null(strstr(err.msg, "nodes[0]"));
	assert_int_equal(parse_built(10, 1, FP_NVD_MATCHES_TOTAL_MAX / 10, &err), 0);
	assert_int_equal(parse_built(1, 11, FP_NVD_MATCHES_TOTAL_MAX / 10, &err), FP_ETOOBIG);
	assert_non_null(strstr(err.msg, "in one record"));
}

/* ---- fp_nvd_configs_parse(): the text parser gives what jansson + from_json give ---- */

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void assert_same_configs(const struct fp_nvd_configs *a, const struct fp_nvd_configs *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct fp_nvd_config *x = &a->c[i], *y = &b->c[i];
		assert_int_equal(x->op_and, y->op_and);
		assert_int_equal(x->negate, y->negate);
		assert_int_equal(x->n, y->n);
		for (size_t j = 0; j < x->n; j++) {
			const struct fp_nvd_node *p = &x->nodes[j], *q = &y->nodes[j];
			assert_int_equal(p->op_and, q->op_and);
			assert_int_equal(p->negate, q->negate);
			assert_int_equal(p->n, q->n);
			for (size_t k = 0; k < p->n; k++) {
				const struct fp_nvd_cpe_match *m = &p->m[k], *o = &q->m[k];
				assert_int_equal(m->vulnerable, o->vulnerable);
				assert_int_equal(m->product_hash, o->product_hash);
				assert_true(fp_cpe_equal(&m->criteria, &o->criteria));
				assert_true(same_str(m->start_incl, o->start_incl));
				assert_true(same_str(m->start_excl, o->start_excl));
				assert_true(same_str(m->end_incl, o->end_incl));
				assert_true(same_str(m->end_excl, o->end_excl));
			}
		}
	}
}

/* Parses text both ways and checks the outcomes agree; returns the code. */
static int parse_both(const char *text)
{
	struct fp_nvd_configs a, b;
	struct fp_err ea, eb;
	fp_err_clear(&ea);
	fp_err_clear(&eb);
	int ra = fp_nvd_configs_parse(text, strlen(text), &a, &ea);
	json_error_t je;
	json_t *j = json_loadb(text, strlen(text), JSON_REJECT_DUPLICATES, &je);
	int rb = j ? fp_nvd_configs_from_json(j, &b, &eb) : FP_EINVAL;
	json_decref(j);
	assert_int_equal(ra, rb);
	if (ra == 0) {
		assert_same_configs(&a, &b);
		fp_nvd_configs_free(&a);
		fp_nvd_configs_free(&b);
	} else {
		assert_int_equal(a.n, 0);
		assert_true(ea.msg[0] != '\0');
		if (j)
			assert_string_equal(ea.msg, eb.msg);
	}
	return ra;
}

static void text_parser_matches_jansson_on_real_records(void **state)
{
	(void)state;
	json_t *modified = load_gz_json(MODIFIED);
	json_t *feeds[2] = {kev_iot, modified};
	size_t i, n = 0;
	json_t *v;
	for (int f = 0; f < 2; f++)
		json_array_foreach(json_object_get(feeds[f], "vulnerabilities"), i, v)
		{
			json_t *conf = json_object_get(json_object_get(v, "cve"), "configurations");
			if (!conf)
				continue;
			char *text = json_dumps(conf, JSON_COMPACT);
			assert_non_null(text);
			assert_int_equal(parse_both(text), 0);
			/* Pretty-printed text (whitespace everywhere) reads the same. */
			char *pretty = json_dumps(conf, JSON_INDENT(2));
			assert_int_equal(parse_both(pretty), 0);
			free(pretty);
			free(text);
			n++;
		}
	json_decref(modified);
	assert_true(n > 1000);
}

static void text_parser_edge_cases(void **state)
{
	(void)state;
	static const char *const ok[] = {
	    "[]",
	    " [ ] ",
	    "[{\"nodes\":[]}]",
	    "[{\"operator\":null,\"negate\":null,\"nodes\":[{\"operator\":\"AND\",\"cpeMatch\":[]}]"
	    "}]",
	    /* Escapes in values: criteria with CPE quoting, a \u escape, a surrogate pair. */
	    "[{\"nodes\":[{\"cpeMatch\":[{\"vulnerable\":true,\"criteria\":"
	    "\"cpe:2.3:o:zyxel:nas326_firmware:5.21\\\\(aazf.14\\\\)c0:*:*:*:*:*:*:*\","
	    "\"versionEndExcluding\":\"5.21\\\\(aazf.15\\\\)c0\",\"versionStartIncluding\":null,"
	    "\"matchCriteriaId\":\"\\u00e9\\ud83d\\ude00\",\"x\":[1,-2.5e3,true,{\"y\":null}]}]}]}"
	    "]",
	    /* An escaped key (jansson reads it; the fast path leaves it to jansson). */
	    "[{\"nodes\":[{\"cpeMatch\":[{\"vulnerabl\\u0065\":false,"
	    "\"criteria\":\"cpe:2.3:h:a:b:-:*:*:*:*:*:*:*\"}]}]}]",
	    /* Operators spelt with escapes are still "AND". */
	    "[{\"operator\":\"\\u0041ND\",\"nodes\":[]}]",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_int_equal(parse_both(ok[i]), 0);
	static const char *const bad[] = {
	    "",
	    "null",
	    "{}",
	    "[",
	    "[]x",
	    "[{\"nodes\":[],\"nodes\":[]}]",                     /* duplicate key */
	    "[{\"nodes\":[{\"cpeMatch\":[{\"criteria\":1}]}]}]", /* wrong type */
	    "[{\"nodes\":[{\"cpeMatch\":[{\"vulnerable\":null,"
	    "\"criteria\":\"cpe:2.3:h:a:b:-:*:*:*:*:*:*:*\"}]}]}]",
	    "[{\"operator\":\"XOR\",\"nodes\":[]}]",
	    "[{\"nodes\":[{\"cpeMatch\":[{\"vulnerable\":true,\"criteria\":\"cpe:2.3:x\"}]}]}]",
	    "[{\"nodes\":[{\"cpeMatch\":[{\"vulnerable\":true,"
	    "\"criteria\":\"cpe:2.3:h:a:b:-:*:*:*:*:*:*:*\",\"versionEndIncluding\":\"\"}]}]}]",
	    "[{\"nodes\":[]}, 01]",                     /* leading zero */
	    "[{\"nodes\":[]}, 1e999]",                  /* real overflow */
	    "[{\"nodes\":[]}, 99999999999999999999]",   /* integer overflow */
	    "[{\"nodes\":[], \"x\":\"\\ud800\"}]",      /* lone surrogate */
	    "[{\"nodes\":[], \"x\":\"\\u0000\"}]",      /* NUL */
	    "[{\"nodes\":[], \"x\":\"\xc0\xaf\"}]",     /* overlong UTF-8 */
	    "[{\"nodes\":[], \"x\":\"\xed\xa0\x80\"}]", /* a surrogate in UTF-8 */
	    "[{\"nodes\":[], \"x\":\"a\tb\"}]",         /* control character */
	    "[{\"nodes\":[], \"x\":tru}]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_not_equal(parse_both(bad[i]), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(real_dlink_firmware_on_hardware),
	    cmocka_unit_test(real_range_edges),
	    cmocka_unit_test(real_escaped_cpes),
	    cmocka_unit_test(real_update_field),
	    cmocka_unit_test(real_no_configurations),
	    cmocka_unit_test(real_keys),
	    cmocka_unit_test(rules_operators),
	    cmocka_unit_test(rules_product_hash),
	    cmocka_unit_test(rules_negate),
	    cmocka_unit_test(rules_bounds),
	    cmocka_unit_test(parse_errors),
	    cmocka_unit_test(caps),
	    cmocka_unit_test(text_parser_matches_jansson_on_real_records),
	    cmocka_unit_test(text_parser_edge_cases),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
