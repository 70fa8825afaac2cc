/*
 * test_sbom.c — unit tests of lib/sbom.c: the CycloneDX examples in the
 * shared data (software BOMs and the hardware BOM), every CISA VEX use case
 * shipped with them, a hand-written SPDX 2.3 document, and every error and
 * cap of both parsers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fleetpatch/sbom.h"

#define CDX_DIR FP_SHARED_DATA "/sbom/cyclonedx-examples/"
#define VEX_DIR CDX_DIR "vex/"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

static void sbom_file(const char *path, struct fp_sbom *s)
{
	size_t len;
	struct fp_err err = {0};
	char *d = slurp(path, &len);
	int rc = fp_sbom_parse(d, len, s, &err);
	free(d);
	if (rc)
		fail_msg("%s: %s", path, err.msg);
}

static void vex_file(const char *path, struct fp_vex *v)
{
	size_t len;
	struct fp_err err = {0};
	char *d = slurp(path, &len);
	int rc = fp_vex_parse(d, len, v, &err);
	free(d);
	if (rc)
		fail_msg("%s: %s", path, err.msg);
}

/* Parses s expecting failure with code and a message containing want. */
static void sbom_fails(const char *s, int code, const char *want)
{
	struct fp_sbom b;
	struct fp_err err = {0};
	int rc = fp_sbom_parse(s, strlen(s), &b, &err);
	if (rc != code || !strstr(err.msg, want))
		fail_msg("expected %d '%s', got %d '%s'", code, want, rc, err.msg);
	assert_int_equal(b.n, 0);
	assert_null(b.c);
	assert_null(b.subjects);
}

static void vex_fails(const char *s, int code, const char *want)
{
	struct fp_vex v;
	struct fp_err err = {0};
	int rc = fp_vex_parse(s, strlen(s), &v, &err);
	if (rc != code || !strstr(err.msg, want))
		fail_msg("expected %d '%s', got %d '%s'", code, want, rc, err.msg);
	assert_int_equal(v.n, 0);
	assert_null(v.s);
}

/* The component whose name is name, or a failure. */
static const struct fp_sbom_component *find(const struct fp_sbom *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->c[i].name, name) == 0)
			return &s->c[i];
	fail_msg("no component %s", name);
	return NULL;
}

/* ---- CycloneDX examples ---- */

static void test_dropwizard(void **state)
{
	(void)state;
	struct fp_sbom s;
	sbom_file(CDX_DIR "dropwizard-1.3.15_bom.json", &s);
	assert_string_equal(s.format, "cyclonedx");
	assert_string_equal(s.spec_version, "1.2");
	assert_int_equal(s.n, 167);
	assert_string_equal(s.subject_name, "dropwizard-parent");
	assert_string_equal(s.subject_version, "1.3.15");
	assert_int_equal(s.n_subjects, 1);
	assert_string_equal(s.subjects[0].ref, "pkg:maven/io.dropwizard/dropwizard-parent@1.3.15");
	assert_string_equal(s.serial_number, "urn:uuid:b4f2954f-a96d-4578-9509-1ae2d6476209");
	assert_int_equal(s.bom_version, 1);
	/* Document order is kept: the first and the last component. */
	assert_string_equal(s.c[0].name, "jackson-annotations");
	assert_string_equal(s.c[0].group, "com.fasterxml.jackson.core");
	assert_string_equal(s.c[0].supplier, "FasterXML"); /* from publisher */
	assert_string_equal(s.c[166].name, "dropwizard-forms");
	assert_null(s.c[166].supplier);
	const struct fp_sbom_component *c = find(&s, "jackson-databind");
	assert_string_equal(c->version, "2.9.10");
	assert_string_equal(
	    c->purl, "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.10?type=jar");
	assert_string_equal(c->ref, c->purl);
	assert_string_equal(c->type, "library");
	assert_null(c->cpe);
	assert_int_equal(c->hardware, 0);
	assert_string_equal(find(&s, "logback-classic")->version, "1.2.3");
	fp_sbom_free(&s);
	assert_null(s.c);
}

static void test_laravel(void **state)
{
	(void)state;
	struct fp_sbom s;
	sbom_file(CDX_DIR "laravel-7.12.0_bom.1.4.json", &s);
	assert_string_equal(s.spec_version, "1.4");
	assert_int_equal(s.n, 62);
	assert_string_equal(s.subject_name, "cyclonedx-php-composer-demo");
	assert_string_equal(s.subject_version, "dev-master");
	assert_null(s.serial_number);
	const struct fp_sbom_component *c = find(&s, "framework");
	assert_string_equal(c->group, "laravel");
	assert_string_equal(c->version, "v7.30.6");
	assert_string_equal(c->purl, "pkg:composer/laravel/framework@v7.30.6");
	assert_string_equal(s.c[0].ref, "asm89/stack-cors-1.3.0.0");
	assert_string_equal(s.c[61].name, "portable-ascii");
	fp_sbom_free(&s);
}

static void test_proton_bridge(void **state)
{
	(void)state;
	struct fp_sbom s;
	sbom_file(CDX_DIR "proton-bridge_proton-bridge-v1.8.0.bom.json", &s);
	assert_string_equal(s.spec_version, "1.2");
	assert_int_equal(s.n, 201);
	assert_string_equal(s.subject_name, "github.com/ProtonMail/proton-bridge");
	assert_string_equal(s.subject_version, "v1.8.0");
	assert_string_equal(s.c[0].name, "github.com/0xAX/notificator");
	assert_string_equal(s.c[0].version, "v0.0.0-20191016112426-3962a5ea8da1");
	const struct fp_sbom_component *c = find(&s, "gopkg.in/yaml.v3");
	assert_string_equal(c->purl,
	                    "pkg:golang/gopkg.in/yaml.v3@v3.0.0-20200313102051-9f266ea9e77c");
	assert_null(c->group);
	fp_sbom_free(&s);
}

/*
 * Hardware: the HBOM's parts are type "device". They stay components, flagged
 * hardware, so that matching can see them as NVD platform conditions; most
 * have no version, which is NULL rather than an empty string.
 */
static void test_hbom(void **state)
{
	(void)state;
	struct fp_sbom s;
	sbom_file(CDX_DIR "HBOM_PCIe-SATA-adapter-board_bom.json", &s);
	assert_string_equal(s.spec_version, "1.4");
	assert_int_equal(s.n, 6);
	for (size_t i = 0; i < s.n; i++) {
		assert_int_equal(s.c[i].hardware, 1);
		assert_string_equal(s.c[i].type, "device");
		assert_non_null(s.c[i].supplier);
	}
	assert_string_equal(s.subject_name, "pcie-sata-adaptor-board");
	assert_string_equal(s.subject_version, "rev-1");
	assert_int_equal(s.subjects[0].hardware, 1);
	assert_string_equal(s.subjects[0].group, "uk.ac.cam.cl");
	assert_string_equal(s.c[0].name, "PCIE-098-02-F-D-EMS2");
	assert_string_equal(s.c[0].version, "2.9.10");
	assert_string_equal(s.c[0].supplier, "Samtec");
	assert_string_equal(s.c[1].name, "47155-4001");
	assert_string_equal(s.c[1].ref, "molex-47155-4001");
	assert_null(s.c[1].version);
	assert_string_equal(s.c[1].supplier, "Molex");
	assert_string_equal(s.c[5].name, "MP000003");
	assert_null(s.c[5].version);
	fp_sbom_free(&s);
}

/* Nested components are flattened depth first; metadata.component's own parts count too. */
static void test_cdx_nested(void **state)
{
	(void)state;
	static const char doc[] =
	    "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.6\",\"version\":3,"
	    "\"metadata\":{\"component\":{\"name\":\"gw\",\"version\":\"7\",\"type\":"
	    "\"firmware\",\"cpe\":\"cpe:2.3:o:acme:gw_firmware:7:*:*:*:*:*:*:*\","
	    "\"components\":[{\"name\":\"bootloader\",\"version\":\"2023.04\"}]}},"
	    "\"components\":[{\"name\":\"a\",\"components\":[{\"name\":\"a1\",\"components\":"
	    "[{\"name\":\"a1x\",\"x-unknown\":[1,2]}]},{\"name\":\"a2\"}]},{\"name\":\"b\","
	    "\"supplier\":{\"name\":\"S\"},\"publisher\":\"P\",\"components\":[]}],"
	    "\"futureField\":{\"anything\":true}}";
	static const char *const order[] = {"bootloader", "a", "a1", "a1x", "a2", "b"};
	struct fp_sbom s;
	struct fp_err err = {0};
	assert_int_equal(fp_sbom_parse(doc, sizeof(doc) - 1, &s, &err), 0);
	assert_int_equal(s.n, 6);
	for (size_t i = 0; i < s.n; i++)
		assert_string_equal(s.c[i].name, order[i]);
	assert_string_equal(s.c[5].supplier, "S"); /* supplier wins over publisher */
	assert_string_equal(s.subjects[0].cpe, "cpe:2.3:o:acme:gw_firmware:7:*:*:*:*:*:*:*");
	assert_int_equal(s.bom_version, 3);
	assert_string_equal(s.spec_version, "1.6");
	fp_sbom_free(&s);

	/* A document without components is an empty, valid SBOM. */
	static const char empty[] = "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\"}";
	assert_int_equal(fp_sbom_parse(empty, sizeof(empty) - 1, &s, &err), 0);
	assert_int_equal(s.n, 0);
	assert_null(s.subject_name);
	fp_sbom_free(&s);
}

/* ---- SPDX ---- */

static void test_spdx(void **state)
{
	(void)state;
	struct fp_sbom s;
	sbom_file(FP_TEST_DATA "/sbom/router-fw-2.3.spdx.json", &s);
	assert_string_equal(s.format, "spdx");
	assert_string_equal(s.spec_version, "2.3");
	assert_string_equal(s.subject_name, "ar300-firmware");
	assert_string_equal(s.subject_version, "4.1.2");
	assert_int_equal(s.n_subjects, 1);
	assert_string_equal(s.subjects[0].cpe, "cpe:2.3:o:acme:ar300_firmware:4.1.2:*:*:*:*:*:*:*");
	assert_string_equal(s.subjects[0].supplier, "ACME Networks");
	assert_int_equal(s.n, 3);
	assert_string_equal(s.c[0].ref, "SPDXRef-busybox");
	assert_string_equal(s.c[0].name, "busybox");
	assert_string_equal(s.c[0].version, "1.36.1");
	assert_string_equal(s.c[0].cpe, "cpe:2.3:a:busybox:busybox:1.36.1:*:*:*:*:*:*:*");
	assert_string_equal(s.c[0].purl, "pkg:generic/busybox@1.36.1");
	assert_null(s.c[0].supplier); /* NOASSERTION */
	assert_string_equal(s.c[1].cpe, "cpe:2.3:a:openssl:openssl:3.0.13:*:*:*:*:*:*:*");
	assert_string_equal(s.c[1].purl, "pkg:generic/openssl@3.0.13");
	assert_string_equal(s.c[1].supplier, "OpenSSL Software Foundation");
	assert_string_equal(s.c[2].name, "dropbear");
	assert_string_equal(s.c[2].supplier, "Matt Johnston");
	assert_null(s.c[2].cpe);
	assert_null(s.c[2].purl);
	assert_null(s.c[2].type);
	fp_sbom_free(&s);
}

static void test_spdx_variants(void **state)
{
	(void)state;
	struct fp_sbom s;
	struct fp_err err = {0};
	/* SPDX 2.2, subject named only by a DESCRIBES relationship. */
	static const char d22[] =
	    "{\"spdxVersion\":\"SPDX-2.2\",\"packages\":[{\"SPDXID\":\"SPDXRef-a\",\"name\":"
	    "\"a\"},{\"SPDXID\":\"SPDXRef-p\",\"name\":\"p\",\"versionInfo\":\"1\"}],"
	    "\"relationships\":[{\"spdxElementId\":\"SPDXRef-DOCUMENT\",\"relationshipType\":"
	    "\"DESCRIBES\",\"relatedSpdxElement\":\"SPDXRef-p\"}]}";
	assert_int_equal(fp_sbom_parse(d22, sizeof(d22) - 1, &s, &err), 0);
	assert_string_equal(s.spec_version, "2.2");
	assert_string_equal(s.subject_name, "p");
	assert_int_equal(s.n, 1);
	assert_string_equal(s.c[0].name, "a");
	fp_sbom_free(&s);
	/* Two described packages: both are subjects, the first is subject_name. */
	static const char two[] =
	    "{\"spdxVersion\":\"SPDX-2.3\",\"documentDescribes\":[\"SPDXRef-b\",\"SPDXRef-a\"],"
	    "\"packages\":[{\"SPDXID\":\"SPDXRef-a\",\"name\":\"a\"},{\"SPDXID\":\"SPDXRef-b\","
	    "\"name\":\"b\"},{\"SPDXID\":\"SPDXRef-c\",\"name\":\"c\"}]}";
	assert_int_equal(fp_sbom_parse(two, sizeof(two) - 1, &s, &err), 0);
	assert_int_equal(s.n_subjects, 2);
	assert_string_equal(s.subject_name, "a");
	assert_null(s.subject_version);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.c[0].name, "c");
	fp_sbom_free(&s);
}

/* ---- VEX: the CISA use cases ---- */

static void check_stmt(const struct fp_vex_statement *st, const char *id, enum fp_vex_state state,
                       const char *justification, size_t n_affects)
{
	assert_string_equal(st->id, id);
	if (st->state != state)
		fail_msg("%s: state %s, expected %s", id, fp_vex_state_name(st->state),
		         fp_vex_state_name(state));
	if (justification)
		assert_string_equal(st->justification, justification);
	else
		assert_null(st->justification);
	assert_int_equal(st->n_affects, n_affects);
}

static void check_version(const struct fp_vex_versions *vs, size_t i, const char *version,
                          const char *range, enum fp_vex_version_status status)
{
	assert_true(i < vs->n);
	if (version)
		assert_string_equal(vs->v[i].version, version);
	else
		assert_null(vs->v[i].version);
	if (range)
		assert_string_equal(vs->v[i].range, range);
	else
		assert_null(vs->v[i].range);
	assert_int_equal(vs->v[i].status, status);
}

/* Case 1: one file per CISA status; the file name is the CISA word. */
static void test_vex_case1(void **state)
{
	(void)state;
	static const struct {
		const char *file, *cisa, *product, *version;
		enum fp_vex_state state;
		const char *justification;
		size_t n_responses;
	} cases[] = {
	    {"Case-1_vex-affected.json", "affected", "DEF", "1.0", FP_VEX_EXPLOITABLE, NULL, 2},
	    {"Case-1_vex-fixed.json", "fixed", "DEF", "1.1", FP_VEX_RESOLVED, NULL, 0},
	    {"Case-1_vex-not_affected.json", "not_affected", "ABC", "4.2", FP_VEX_NOT_AFFECTED,
	     "code_not_present", 1},
	    {"Case-1_vex-under_investigation.json", "under_investigation", "GHI", "17.4",
	     FP_VEX_IN_TRIAGE, NULL, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[512], ref[64];
		struct fp_vex v;
		snprintf(path, sizeof(path), VEX_DIR "%s", cases[i].file);
		vex_file(path, &v);
		assert_int_equal(v.n, 1);
		check_stmt(&v.s[0], "CVE-2021-44228", cases[i].state, cases[i].justification, 1);
		snprintf(ref, sizeof(ref), "product-%s", cases[i].product);
		assert_string_equal(v.s[0].affects[0], ref);
		assert_int_equal(v.s[0].affects_versions[0].n, 0);
		assert_string_equal(v.subject_ref, ref);
		assert_string_equal(v.subject_name, cases[i].product);
		assert_string_equal(v.subject_version, cases[i].version);
		assert_non_null(v.s[0].detail);
		assert_int_equal(v.s[0].n_responses, cases[i].n_responses);
		assert_int_equal(fp_vex_state_from_cisa(cases[i].cisa), cases[i].state);
		assert_string_equal(fp_vex_state_cisa_name(cases[i].state), cases[i].cisa);
		fp_vex_free(&v);
	}
	struct fp_vex v;
	vex_file(VEX_DIR "Case-1_vex-affected.json", &v);
	assert_string_equal(v.s[0].responses[0], "will_not_fix");
	assert_string_equal(v.s[0].responses[1], "update");
	fp_vex_free(&v);
}

/* Case 2: ABC 4.2 is not affected by any of the 19 Ripple20 CVEs (CVE-2020-11896…11914). */
static void test_vex_case2(void **state)
{
	(void)state;
	struct fp_vex v;
	vex_file(VEX_DIR "Case-2_vex.json", &v);
	assert_int_equal(v.n, 19);
	for (size_t i = 0; i < v.n; i++) {
		char id[32];
		snprintf(id, sizeof(id), "CVE-2020-%zu", 11896 + i);
		check_stmt(&v.s[i], id, FP_VEX_NOT_AFFECTED, "code_not_reachable", 1);
		assert_string_equal(v.s[i].affects[0], "product-ABC");
		assert_true(fp_vex_suppresses(v.s[i].state));
	}
	assert_string_equal(v.subject_version, "4.2");
	fp_vex_free(&v);
}

/* Case 3: GHI 17.4, the four statuses split exactly as the README lists them. */
static void test_vex_case3(void **state)
{
	(void)state;
	static const struct {
		int cve;
		enum fp_vex_state state;
	} want[] = {
	    {11897, FP_VEX_NOT_AFFECTED}, {11902, FP_VEX_NOT_AFFECTED},
	    {11899, FP_VEX_NOT_AFFECTED}, {11905, FP_VEX_NOT_AFFECTED},
	    {11906, FP_VEX_NOT_AFFECTED}, {11913, FP_VEX_NOT_AFFECTED},
	    {11898, FP_VEX_EXPLOITABLE},  {11907, FP_VEX_EXPLOITABLE},
	    {11909, FP_VEX_EXPLOITABLE},  {11910, FP_VEX_EXPLOITABLE},
	    {11911, FP_VEX_EXPLOITABLE},  {11896, FP_VEX_IN_TRIAGE},
	    {11900, FP_VEX_IN_TRIAGE},    {11904, FP_VEX_IN_TRIAGE},
	    {11903, FP_VEX_IN_TRIAGE},    {11908, FP_VEX_IN_TRIAGE},
	    {11901, FP_VEX_RESOLVED},     {11912, FP_VEX_RESOLVED},
	    {11914, FP_VEX_RESOLVED},
	};
	struct fp_vex v;
	vex_file(VEX_DIR "Case-3_vex.json", &v);
	assert_int_equal(v.n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char id[32];
		size_t j;
		snprintf(id, sizeof(id), "CVE-2020-%d", want[i].cve);
		for (j = 0; j < v.n && strcmp(v.s[j].id, id) != 0; j++)
			;
		assert_true(j < v.n);
		check_stmt(&v.s[j], id, want[i].state,
		           want[i].state == FP_VEX_NOT_AFFECTED ? "code_not_present" : NULL, 1);
		assert_string_equal(v.s[j].affects[0], "product-GHI");
	}
	fp_vex_free(&v);
}

/* Case 4: exploitable in ABC 2.4, 2.6 and 2.9 through 4.1. */
static void test_vex_case4(void **state)
{
	(void)state;
	struct fp_vex v;
	vex_file(VEX_DIR "Case-4_vex.json", &v);
	assert_int_equal(v.n, 1);
	check_stmt(&v.s[0], "CVE-2021-44228", FP_VEX_EXPLOITABLE, NULL, 1);
	assert_string_equal(v.s[0].affects[0], "product-ABC");
	const struct fp_vex_versions *vs = &v.s[0].affects_versions[0];
	assert_int_equal(vs->n, 3);
	check_version(vs, 0, "2.4", NULL, FP_VEX_VERSION_AFFECTED);
	check_version(vs, 1, "2.6", NULL, FP_VEX_VERSION_AFFECTED);
	check_version(vs, 2, NULL, "vers:generic/>=2.9|<=4.1", FP_VEX_VERSION_AFFECTED);
	assert_null(v.subject_version);
	fp_vex_free(&v);
}

/* Case 5: all versions of XYZ under investigation; no detail, no versions. */
static void test_vex_case5(void **state)
{
	(void)state;
	struct fp_vex v;
	vex_file(VEX_DIR "Case-5_vex.json", &v);
	assert_int_equal(v.n, 1);
	check_stmt(&v.s[0], "CVE-2021-44228", FP_VEX_IN_TRIAGE, NULL, 1);
	assert_string_equal(v.s[0].affects[0], "product-XYZ");
	assert_int_equal(v.s[0].affects_versions[0].n, 0);
	assert_null(v.s[0].detail);
	assert_int_equal(v.s[0].n_responses, 0);
	assert_false(fp_vex_suppresses(v.s[0].state));
	fp_vex_free(&v);
}

/*
 * Case 6: ABC exploitable as in case 4, not affected in 1.0–2.3, 2.5 and
 * 2.7–2.8. The file also lists 4.2 as unaffected, which the README omits.
 */
static void test_vex_case6(void **state)
{
	(void)state;
	struct fp_vex v;
	vex_file(VEX_DIR "Case-6_vex.json", &v);
	assert_int_equal(v.n, 2);
	check_stmt(&v.s[0], "CVE-2021-44228", FP_VEX_EXPLOITABLE, NULL, 1);
	assert_int_equal(v.s[0].affects_versions[0].n, 3);
	check_stmt(&v.s[1], "CVE-2021-44228", FP_VEX_NOT_AFFECTED, "code_not_present", 1);
	const struct fp_vex_versions *vs = &v.s[1].affects_versions[0];
	assert_int_equal(vs->n, 4);
	check_version(vs, 0, NULL, "vers:generic/>=1.0|<=2.3", FP_VEX_VERSION_UNAFFECTED);
	check_version(vs, 1, "2.5", NULL, FP_VEX_VERSION_UNAFFECTED);
	check_version(vs, 2, NULL, "vers:generic/>=2.7|<=2.8", FP_VEX_VERSION_UNAFFECTED);
	check_version(vs, 3, "4.2", NULL, FP_VEX_VERSION_UNAFFECTED);
	fp_vex_free(&v);
}

#define ABC_LINK "urn:cdx:cbb2cd68-2857-43b8-a10b-e8c03d277d18/1#product-ABC"
#define JKL_LINK "urn:cdx:e4c3eedc-4978-470c-ad02-6ffff63738ff/1#product-JKL"

/* Cases 7 and 8 name products in other BOMs by BOM-Link; the two BOMs ship with them. */
static void check_bom_links(const char *bom1, const char *bom2)
{
	struct fp_sbom abc, jkl;
	sbom_file(bom1, &abc);
	sbom_file(bom2, &jkl);
	assert_string_equal(abc.subjects[0].ref, "product-ABC");
	assert_true(fp_vex_ref_matches(ABC_LINK, &abc, "product-ABC"));
	assert_false(fp_vex_ref_matches(ABC_LINK, &jkl, "product-ABC"));
	assert_false(fp_vex_ref_matches(ABC_LINK, &abc, "product-JKL"));
	assert_true(fp_vex_ref_matches(JKL_LINK, &jkl, "product-JKL"));
	assert_false(fp_vex_ref_matches(
	    "urn:cdx:e4c3eedc-4978-470c-ad02-6ffff63738ff/2#product-JKL", &jkl, "product-JKL"));
	assert_true(fp_vex_ref_matches("product-JKL", &jkl, "product-JKL"));
	assert_false(fp_vex_ref_matches("urn:cdx:broken", &jkl, "product-JKL"));
	fp_sbom_free(&abc);
	fp_sbom_free(&jkl);
}

/* Case 7: ABC as in case 6; JKL affected 4.5–5.0, not affected 1.0–4.4, fixed in 5.1. */
static void test_vex_case7(void **state)
{
	(void)state;
	struct fp_vex v;
	vex_file(VEX_DIR "Case-7_vex.json", &v);
	assert_int_equal(v.n, 4);
	assert_null(v.subject_name);
	check_stmt(&v.s[0], "CVE-2021-44228", FP_VEX_EXPLOITABLE, NULL, 2);
	assert_string_equal(v.s[0].affects[0], ABC_LINK);
	assert_string_equal(v.s[0].affects[1], JKL_LINK);
	check_version(&v.s[0].affects_versions[1], 0, NULL, "vers:generic/>=4.5|<=5.0",
	              FP_VEX_VERSION_AFFECTED);
	check_stmt(&v.s[1], "CVE-2021-44228", FP_VEX_NOT_AFFECTED, "code_not_present", 1);
	assert_string_equal(v.s[1].affects[0], ABC_LINK);
	check_stmt(&v.s[2], "CVE-2021-44228", FP_VEX_NOT_AFFECTED, "code_not_present", 1);
	assert_string_equal(v.s[2].affects[0], JKL_LINK);
	check_version(&v.s[2].affects_versions[0], 0, NULL, "vers:generic/>=1.0|<=4.4",
	              FP_VEX_VERSION_UNAFFECTED);
	check_stmt(&v.s[3], "CVE-2021-44228", FP_VEX_RESOLVED, NULL, 1);
	assert_string_equal(v.s[3].affects[0], JKL_LINK);
	/* The fixed version carries no status; it is not read as "affected". */
	check_version(&v.s[3].affects_versions[0], 0, "5.1", NULL, FP_VEX_VERSION_UNSPECIFIED);
	fp_vex_free(&v);
	check_bom_links(VEX_DIR "Case-7_bom-1.json", VEX_DIR "Case-7_bom-2.json");
}

/* Case 8: as case 7 plus CVE-2021-45105, which also affects JKL 5.1; fixed in 5.2. */
static void test_vex_case8(void **state)
{
	(void)state;
	struct fp_vex v;
	vex_file(VEX_DIR "Case-8_vex.json", &v);
	assert_int_equal(v.n, 8);
	check_stmt(&v.s[0], "CVE-2021-44228", FP_VEX_EXPLOITABLE, NULL, 2);
	check_stmt(&v.s[1], "CVE-2021-44228", FP_VEX_NOT_AFFECTED, "code_not_present", 1);
	check_stmt(&v.s[2], "CVE-2021-44228", FP_VEX_NOT_AFFECTED, "code_not_present", 1);
	check_stmt(&v.s[3], "CVE-2021-44228", FP_VEX_RESOLVED, NULL, 1);
	assert_int_equal(v.s[3].affects_versions[0].n, 2);
	check_version(&v.s[3].affects_versions[0], 1, "5.2", NULL, FP_VEX_VERSION_UNSPECIFIED);
	check_stmt(&v.s[4], "CVE-2021-45105", FP_VEX_EXPLOITABLE, NULL, 2);
	const struct fp_vex_versions *jkl = &v.s[4].affects_versions[1];
	assert_string_equal(v.s[4].affects[1], JKL_LINK);
	assert_int_equal(jkl->n, 2);
	check_version(jkl, 1, "5.1", NULL, FP_VEX_VERSION_AFFECTED);
	check_stmt(&v.s[5], "CVE-2021-45105", FP_VEX_NOT_AFFECTED, "code_not_present", 2);
	check_stmt(&v.s[6], "CVE-2021-45105", FP_VEX_NOT_AFFECTED, "code_not_present", 1);
	check_stmt(&v.s[7], "CVE-2021-45105", FP_VEX_RESOLVED, NULL, 1);
	check_version(&v.s[7].affects_versions[0], 0, "5.2", NULL, FP_VEX_VERSION_UNSPECIFIED);
	fp_vex_free(&v);
	check_bom_links(VEX_DIR "Case-8_bom-1.json", VEX_DIR "Case-8_bom-2.json");
}

/* Case 9 (product lines) is one CycloneDX does not support; the folder has no document for it. */
static void test_vex_case9_absent(void **state)
{
	(void)state;
	FILE *f = fopen(VEX_DIR "Case-9_vex.json", "rb");
	assert_null(f);
	f = fopen(VEX_DIR "Case-9_README.md", "rb");
	assert_non_null(f);
	fclose(f);
}

/* Entries without analysis (a plain vulnerability report) are kept with the unknown state. */
static void test_vex_sbom_plain_entries(void **state)
{
	(void)state;
	static const char doc[] =
	    "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"components\":[{\"name\":"
	    "\"x\"}],\"vulnerabilities\":[{\"id\":\"GHSA-xxxx\",\"affects\":[{\"ref\":\"x\"}]},"
	    "{\"id\":\"CVE-1\",\"analysis\":{\"state\":\"false_positive\"}},{\"id\":\"CVE-2\","
	    "\"analysis\":{\"state\":\"resolved_with_pedigree\"}}]}";
	struct fp_vex v;
	struct fp_err err = {0};
	assert_int_equal(fp_vex_parse(doc, sizeof(doc) - 1, &v, &err), 0);
	assert_int_equal(v.n, 3);
	check_stmt(&v.s[0], "GHSA-xxxx", FP_VEX_UNKNOWN_STATE, NULL, 1);
	check_stmt(&v.s[1], "CVE-1", FP_VEX_FALSE_POSITIVE, NULL, 0);
	check_stmt(&v.s[2], "CVE-2", FP_VEX_RESOLVED_WITH_PEDIGREE, NULL, 0);
	fp_vex_free(&v);
	fp_vex_free(NULL);
	fp_sbom_free(NULL);
}

static void test_vex_states(void **state)
{
	(void)state;
	static const char *const names[] = {"resolved",  "resolved_with_pedigree", "exploitable",
	                                    "in_triage", "false_positive",         "not_affected",
	                                    "unknown"};
	static const int suppresses[] = {1, 1, 0, 0, 1, 1, 0};
	for (int s = FP_VEX_RESOLVED; s <= FP_VEX_UNKNOWN_STATE; s++) {
		assert_string_equal(fp_vex_state_name((enum fp_vex_state)s), names[s]);
		assert_int_equal(fp_vex_suppresses((enum fp_vex_state)s), suppresses[s]);
	}
	assert_string_equal(fp_vex_state_name((enum fp_vex_state)99), "unknown");
	assert_int_equal(fp_vex_state_from_cisa("KNOWN_AFFECTED"), FP_VEX_EXPLOITABLE);
	assert_int_equal(fp_vex_state_from_cisa("known not affected"), FP_VEX_NOT_AFFECTED);
	assert_int_equal(fp_vex_state_from_cisa("Under Investigation"), FP_VEX_IN_TRIAGE);
	assert_int_equal(fp_vex_state_from_cisa("FIXED"), FP_VEX_RESOLVED);
	assert_int_equal(fp_vex_state_from_cisa("known_fixed"), FP_VEX_UNKNOWN_STATE);
	assert_int_equal(fp_vex_state_from_cisa("exploitable"), FP_VEX_UNKNOWN_STATE);
	assert_int_equal(fp_vex_state_from_cisa(NULL), FP_VEX_UNKNOWN_STATE);
	assert_null(fp_vex_state_cisa_name(FP_VEX_FALSE_POSITIVE));
}

/* ---- errors ---- */

#define CDX(body) "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.4\"" body "}"

static void test_sbom_format_errors(void **state)
{
	(void)state;
	sbom_fails("{\"bomFormat\":\"SPDX\",\"specVersion\":\"1.4\"}", FP_EINVAL,
	           "bomFormat is \"SPDX\"");
	sbom_fails("{\"bomFormat\":1}", FP_EINVAL,
	           "bomFormat: expected a string, found an integer");
	sbom_fails("{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.1\"}", FP_EUNSUPP,
	           "specVersion \"1.1\" is not supported");
	sbom_fails("{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.7\"}", FP_EUNSUPP, "1.7");
	sbom_fails("{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.40\"}", FP_EUNSUPP, "1.40");
	sbom_fails("{\"bomFormat\":\"CycloneDX\",\"specVersion\":1.4}", FP_EINVAL,
	           "specVersion: expected a string, found a number");
	sbom_fails("{\"bomFormat\":\"CycloneDX\"}", FP_EINVAL, "specVersion: missing");
	sbom_fails("{\"spdxVersion\":\"SPDX-2.1\"}", FP_EUNSUPP, "\"SPDX-2.1\" is not supported");
	sbom_fails("{\"spdxVersion\":\"SPDX-3.0\"}", FP_EUNSUPP, "SPDX-3.0");
	sbom_fails("{\"spdxVersion\":[]}", FP_EINVAL,
	           "spdxVersion: expected a string, found an array");
	sbom_fails("{\"name\":\"x\",\"packages\":[],\"files\":[],\"more\":1}", FP_EINVAL,
	           "found members \"name\", \"packages\", \"files\", …");
	sbom_fails("{}", FP_EINVAL, "empty object");
	sbom_fails("[]", FP_EINVAL,
	           "expected a JSON object (a CycloneDX or SPDX document), found "
	           "an array");
	sbom_fails("<?xml version=\"1.0\"?><bom/>", FP_EUNSUPP, "XML");
	sbom_fails("SPDXVersion: SPDX-2.3\n", FP_EUNSUPP, "tag-value");
	sbom_fails("", FP_EINVAL, "line 1");
	sbom_fails("{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.4\"} x", FP_EINVAL, "line 1");
}

static void test_sbom_type_errors(void **state)
{
	(void)state;
	sbom_fails(CDX(",\"components\":{}"), FP_EINVAL,
	           "components: expected an array, found an object");
	sbom_fails(CDX(",\"components\":[1]"), FP_EINVAL,
	           "components[0]: expected an object, found an integer");
	sbom_fails(CDX(",\"components\":[{\"version\":\"1\"}]"), FP_EINVAL,
	           "components[0].name: missing");
	sbom_fails(CDX(",\"components\":[{\"name\":\"\"}]"), FP_EINVAL,
	           "components[0].name: empty");
	sbom_fails(CDX(",\"components\":[{\"name\":\"a\",\"version\":1.5}]"), FP_EINVAL,
	           "components[0].version: expected a string, found a number");
	sbom_fails(CDX(",\"components\":[{\"name\":\"a\",\"components\":[{\"name\":\"b\",\"cpe\":"
	               "null}]}]"),
	           FP_EINVAL, "components[0].components[0].cpe: expected a string, found null");
	sbom_fails(CDX(",\"components\":[{\"name\":\"a\",\"supplier\":\"ACME\"}]"), FP_EINVAL,
	           "components[0].supplier: expected an object, found a string");
	sbom_fails(CDX(",\"components\":[{\"name\":\"a\",\"supplier\":{\"name\":[]}}]"), FP_EINVAL,
	           "components[0].supplier.name: expected a string");
	sbom_fails(CDX(",\"components\":[{\"name\":\"a\",\"components\":{}}]"), FP_EINVAL,
	           "components[0].components: expected an array");
	sbom_fails(CDX(",\"metadata\":[]"), FP_EINVAL, "metadata: expected an object");
	sbom_fails(CDX(",\"metadata\":{\"component\":{\"name\":true}}"), FP_EINVAL,
	           "metadata.component.name: expected a string, found a boolean");
	sbom_fails(CDX(",\"version\":\"1\""), FP_EINVAL, "version: expected an integer");
	sbom_fails(CDX(",\"serialNumber\":5"), FP_EINVAL, "serialNumber: expected a string");
	sbom_fails("{\"spdxVersion\":\"SPDX-2.3\",\"packages\":{}}", FP_EINVAL,
	           "packages: expected an array");
	sbom_fails(
	    "{\"spdxVersion\":\"SPDX-2.3\",\"packages\":[{\"name\":\"a\",\"versionInfo\":2}]}",
	    FP_EINVAL, "packages[0].versionInfo: expected a string, found an integer");
	sbom_fails("{\"spdxVersion\":\"SPDX-2.3\",\"packages\":[{\"name\":\"a\",\"externalRefs\":"
	           "[{\"referenceType\":\"purl\",\"referenceLocator\":7}]}]}",
	           FP_EINVAL, "packages[0].externalRefs[0].referenceLocator: expected a string");
	sbom_fails("{\"spdxVersion\":\"SPDX-2.3\",\"packages\":[{\"name\":\"a\",\"externalRefs\":"
	           "[{\"referenceLocator\":\"x\"}]}]}",
	           FP_EINVAL, "packages[0].externalRefs[0].referenceType: missing");
	sbom_fails("{\"spdxVersion\":\"SPDX-2.3\",\"documentDescribes\":[1],\"packages\":[]}",
	           FP_EINVAL, "documentDescribes[0]: expected a string");
	sbom_fails("{\"spdxVersion\":\"SPDX-2.3\",\"relationships\":[{\"relationshipType\":1}]}",
	           FP_EINVAL, "relationships[0].relationshipType: expected a string");
}

static void test_sbom_duplicate_keys(void **state)
{
	(void)state;
	sbom_fails(CDX(",\"components\":[{\"name\":\"a\",\"name\":\"b\"}]"), FP_EINVAL,
	           "duplicate");
	sbom_fails(
	    "{\"bomFormat\":\"CycloneDX\",\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.4\"}",
	    FP_EINVAL, "duplicate");
	vex_fails(CDX(",\"vulnerabilities\":[{\"id\":\"CVE-1\",\"analysis\":{\"state\":"
	              "\"exploitable\",\"state\":\"not_affected\"}}]"),
	          FP_EINVAL, "duplicate");
}

/* A CycloneDX document with n flat components. Caller frees. */
static char *many_components(size_t n, size_t *len)
{
	static const char head[] = "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.4\","
	                           "\"components\":[";
	size_t cap = sizeof(head) + n * 16 + 4, off = 0;
	char *d = malloc(cap);
	assert_non_null(d);
	memcpy(d, head, sizeof(head) - 1);
	off = sizeof(head) - 1;
	for (size_t i = 0; i < n; i++) {
		memcpy(d + off, i ? ",{\"name\":\"c\"}" : "{\"name\":\"c\"}", i ? 13 : 12);
		off += i ? 13 : 12;
	}
	memcpy(d + off, "]}", 3);
	*len = off + 2;
	return d;
}

static void test_sbom_component_cap(void **state)
{
	(void)state;
	struct fp_sbom s;
	struct fp_err err = {0};
	size_t len;
	char *d = many_components(FP_SBOM_MAX_COMPONENTS, &len);
	assert_int_equal(fp_sbom_parse(d, len, &s, &err), 0);
	assert_int_equal(s.n, FP_SBOM_MAX_COMPONENTS);
	fp_sbom_free(&s);
	free(d);
	d = many_components(FP_SBOM_MAX_COMPONENTS + 1, &len);
	assert_int_equal(fp_sbom_parse(d, len, &s, &err), FP_ETOOBIG);
	assert_non_null(strstr(err.msg, "components[100000]: more than 100000 components"));
	assert_null(s.c);
	free(d);
	/* Nested components count towards the same cap. */
	char nested[] = CDX(",\"components\":[{\"name\":\"a\",\"components\":[{\"name\":\"b\"}]}]");
	assert_int_equal(fp_sbom_parse(nested, strlen(nested), &s, &err), 0);
	assert_int_equal(s.n, 2);
	fp_sbom_free(&s);
}

/* A component nested inside depth-1 others: each level adds two JSON levels. */
static char *nested_doc(int json_levels)
{
	/* Outer object (1) + components array (2); then per component {…} and its [. */
	size_t cap = (size_t)json_levels * 32 + 128, off = 0;
	char *d = malloc(cap);
	assert_non_null(d);
	off += (size_t)snprintf(d + off, cap - off,
	                        "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.4\","
	                        "\"components\":[");
	int levels = 2, opened = 0;
	while (levels + 2 <= json_levels) {
		off += (size_t)snprintf(d + off, cap - off, "{\"name\":\"n\",\"components\":[");
		levels += 2;
		opened++;
	}
	if (levels < json_levels) {
		off += (size_t)snprintf(d + off, cap - off, "{\"name\":\"leaf\"}");
		levels++;
	}
	for (int i = 0; i < opened; i++)
		off += (size_t)snprintf(d + off, cap - off, "]}");
	snprintf(d + off, cap - off, "]}");
	return d;
}

static void test_sbom_depth_cap(void **state)
{
	(void)state;
	struct fp_sbom s;
	struct fp_err err = {0};
	char *d = nested_doc(FP_SBOM_MAX_DEPTH);
	int rc = fp_sbom_parse(d, strlen(d), &s, &err);
	if (rc)
		fail_msg("%s", err.msg);
	assert_int_equal(s.n, (FP_SBOM_MAX_DEPTH - 2) / 2);
	fp_sbom_free(&s);
	free(d);
	d = nested_doc(FP_SBOM_MAX_DEPTH + 1);
	assert_int_equal(fp_sbom_parse(d, strlen(d), &s, &err), FP_ETOOBIG);
	assert_non_null(strstr(err.msg, "nests deeper than 64 levels"));
	free(d);
	/* Brackets inside strings do not count. */
	sbom_fails(CDX(",\"components\":[{\"name\":\"[[[[{{{{\",\"version\":2}]"), FP_EINVAL,
	           "components[0].version");
	char brackets[2 * (FP_SBOM_MAX_DEPTH + 1) + 1];
	memset(brackets, '[', FP_SBOM_MAX_DEPTH + 1);
	memset(brackets + FP_SBOM_MAX_DEPTH + 1, ']', FP_SBOM_MAX_DEPTH + 1);
	brackets[sizeof(brackets) - 1] = '\0';
	vex_fails(brackets, FP_ETOOBIG, "line 1, column 65: JSON nests deeper than 64 levels");
}

static void test_sbom_byte_cap(void **state)
{
	(void)state;
	struct fp_sbom s;
	struct fp_vex v;
	struct fp_err err = {0};
	char *d = calloc(FP_SBOM_MAX_BYTES + 1, 1);
	assert_non_null(d);
	memset(d, ' ', FP_SBOM_MAX_BYTES + 1);
	assert_int_equal(fp_sbom_parse(d, FP_SBOM_MAX_BYTES + 1, &s, &err), FP_ETOOBIG);
	assert_non_null(strstr(err.msg, "33554433 bytes"));
	assert_int_equal(fp_vex_parse(d, FP_SBOM_MAX_BYTES + 1, &v, &err), FP_ETOOBIG);
	/* At the cap the size is accepted and the content judged: blanks are no JSON. */
	assert_int_equal(fp_sbom_parse(d, FP_SBOM_MAX_BYTES, &s, &err), FP_EINVAL);
	free(d);
	assert_int_equal(fp_sbom_parse(NULL, 0, &s, NULL), FP_EINVAL);
}

static void test_vex_errors(void **state)
{
	(void)state;
	vex_fails(
	    CDX(",\"vulnerabilities\":[{\"id\":\"CVE-1\",\"analysis\":{\"state\":\"fixed\"}}]"),
	    FP_EINVAL,
	    "vulnerabilities[0].analysis.state: \"fixed\" is a CISA VEX status; CycloneDX "
	    "spells it \"resolved\"");
	vex_fails(CDX(",\"vulnerabilities\":[{\"id\":\"CVE-1\",\"analysis\":{\"state\":"
	              "\"KNOWN_AFFECTED\"}}]"),
	          FP_EINVAL, "spells it \"exploitable\"");
	vex_fails(CDX(",\"vulnerabilities\":[{\"id\":\"CVE-1\",\"analysis\":{\"state\":\"meh\"}}]"),
	          FP_EINVAL, "\"meh\" is not a CycloneDX analysis state");
	vex_fails(CDX(",\"vulnerabilities\":[{\"id\":\"CVE-1\",\"analysis\":{\"state\":1}}]"),
	          FP_EINVAL, "vulnerabilities[0].analysis.state: expected a string");
	vex_fails(CDX(",\"vulnerabilities\":[{\"id\":\"CVE-1\",\"analysis\":[]}]"), FP_EINVAL,
	          "vulnerabilities[0].analysis: expected an object, found an array");
	vex_fails(CDX(",\"vulnerabilities\":[{\"id\":\"CVE-1\",\"analysis\":{\"response\":"
	              "[\"update\",3]}}]"),
	          FP_EINVAL, "vulnerabilities[0].analysis.response[1]: expected a string");
	vex_fails(CDX(",\"vulnerabilities\":[{\"id\":\"CVE-1\",\"analysis\":{\"justification\":"
	              "{}}}]"),
	          FP_EINVAL, "analysis.justification: expected a string");
	vex_fails(CDX(",\"vulnerabilities\":[{\"analysis\":{}}]"), FP_EINVAL,
	          "vulnerabilities[0].id: missing or empty");
	vex_fails(
	    CDX(",\"vulnerabilities\":[{\"id\":\"CVE-2021-0000000000000000000000000000000000000"
	        "0000000000000000000000000000\"}]"),
	    FP_EINVAL, "id: longer than 63 bytes");
	vex_fails(CDX(",\"vulnerabilities\":[{\"id\":\"CVE-1\",\"affects\":[{}]}]"), FP_EINVAL,
	          "vulnerabilities[0].affects[0].ref: missing");
	vex_fails(CDX(",\"vulnerabilities\":[{\"id\":\"CVE-1\",\"affects\":[{\"ref\":\"a\","
	              "\"versions\":[{\"version\":\"1\",\"range\":\"vers:generic/>1\"}]}]}]"),
	          FP_EINVAL,
	          "vulnerabilities[0].affects[0].versions[0]: give exactly one of \"version\" "
	          "and \"range\"");
	vex_fails(CDX(",\"vulnerabilities\":[{\"id\":\"CVE-1\",\"affects\":[{\"ref\":\"a\","
	              "\"versions\":[{\"status\":\"affected\"}]}]}]"),
	          FP_EINVAL, "give exactly one");
	vex_fails(CDX(",\"vulnerabilities\":[{\"id\":\"CVE-1\",\"affects\":[{\"ref\":\"a\","
	              "\"versions\":[{\"version\":\"1\",\"status\":\"fixed\"}]}]}]"),
	          FP_EINVAL, "versions[0].status: \"fixed\" is not one of");
	vex_fails(CDX(",\"vulnerabilities\":[{\"id\":\"CVE-1\",\"affects\":{}}]"), FP_EINVAL,
	          "vulnerabilities[0].affects: expected an array");
	vex_fails(CDX(",\"vulnerabilities\":{}"), FP_EINVAL, "vulnerabilities: expected an array");
	vex_fails(CDX(",\"vulnerabilities\":[\"CVE-1\"]"), FP_EINVAL,
	          "vulnerabilities[0]: expected an object, found a string");
	vex_fails(CDX(""), FP_EINVAL, "vulnerabilities: missing");
	vex_fails("{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.3\",\"vulnerabilities\":[]}",
	          FP_EUNSUPP, "specVersion \"1.3\" cannot carry VEX");
	vex_fails("{\"bomFormat\":\"CSAF\"}", FP_EINVAL, "bomFormat is \"CSAF\"");
	vex_fails("{\"spdxVersion\":\"SPDX-2.3\"}", FP_EUNSUPP, "the document is SPDX");
	vex_fails("{\"document\":{\"category\":\"csaf_vex\"}}", FP_EINVAL,
	          "found members \"document\"");
	vex_fails(CDX(",\"metadata\":{\"component\":{\"version\":\"1\"}},\"vulnerabilities\":[]"),
	          FP_EINVAL, "metadata.component.name: missing");
}

/* Caps on the lists inside one statement: FP_VEX_MAX_LIST entries pass, one more does not. */
static void test_vex_list_cap(void **state)
{
	(void)state;
	static const char head[] = "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.4\","
	                           "\"vulnerabilities\":[{\"id\":\"CVE-1\",\"analysis\":{"
	                           "\"response\":[";
	for (int extra = 0; extra <= 1; extra++) {
		size_t n = FP_VEX_MAX_LIST + (size_t)extra, cap = sizeof(head) + n * 4 + 16;
		char *d = malloc(cap);
		size_t off = sizeof(head) - 1;
		struct fp_vex v;
		struct fp_err err = {0};
		assert_non_null(d);
		memcpy(d, head, off);
		for (size_t i = 0; i < n; i++) {
			memcpy(d + off, i ? ",\"u\"" : "\"u\"", i ? 4 : 3);
			off += i ? 4 : 3;
		}
		memcpy(d + off, "]}}]}", 6);
		int rc = fp_vex_parse(d, off + 5, &v, &err);
		if (extra) {
			assert_int_equal(rc, FP_ETOOBIG);
			assert_non_null(strstr(err.msg,
			                       "vulnerabilities[0].analysis.response: 10001 "
			                       "entries; at most 10000"));
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(v.s[0].n_responses, FP_VEX_MAX_LIST);
			fp_vex_free(&v);
		}
		free(d);
	}
}

/* head, then n copies of item separated by commas, then tail. Caller frees. */
static char *repeat_doc(const char *head, const char *item, size_t n, const char *tail, size_t *len)
{
	size_t hl = strlen(head), il = strlen(item), tl = strlen(tail);
	char *d = malloc(hl + n * (il + 1) + tl + 1);
	size_t off = hl;
	assert_non_null(d);
	memcpy(d, head, hl);
	for (size_t i = 0; i < n; i++) {
		if (i)
			d[off++] = ',';
		memcpy(d + off, item, il);
		off += il;
	}
	memcpy(d + off, tail, tl + 1);
	*len = off + tl;
	return d;
}

/* The other count caps, each at its value and one past it. */
static void test_other_count_caps(void **state)
{
	(void)state;
	static const struct {
		int vex;
		const char *head, *item, *tail;
		size_t cap;
		const char *want;
	} cases[] = {
	    {0, "{\"spdxVersion\":\"SPDX-2.3\",\"packages\":[", "{\"name\":\"p\"}", "]}",
	     FP_SBOM_MAX_COMPONENTS, "packages: 100001 packages; at most 100000"},
	    {1, "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.4\",\"vulnerabilities\":[",
	     "{\"id\":\"CVE-1\"}", "]}", FP_VEX_MAX_STATEMENTS,
	     "vulnerabilities: 100001 entries; at most 100000"},
	    {1,
	     "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.4\",\"vulnerabilities\":[{\"id\":"
	     "\"CVE-1\",\"affects\":[",
	     "{\"ref\":\"r\"}", "]}]}", FP_VEX_MAX_LIST,
	     "vulnerabilities[0].affects: 10001 entries; at most 10000"},
	    {1,
	     "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.4\",\"vulnerabilities\":[{\"id\":"
	     "\"CVE-1\",\"affects\":[{\"ref\":\"r\",\"versions\":[",
	     "{\"version\":\"1\"}", "]}]}]}", FP_VEX_MAX_LIST,
	     "vulnerabilities[0].affects[0].versions: 10001 entries; at most 10000"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (size_t extra = 0; extra <= 1; extra++) {
			struct fp_sbom s;
			struct fp_vex v;
			struct fp_err err = {0};
			size_t len;
			char *d = repeat_doc(cases[i].head, cases[i].item, cases[i].cap + extra,
			                     cases[i].tail, &len);
			int rc = cases[i].vex ? fp_vex_parse(d, len, &v, &err)
			                      : fp_sbom_parse(d, len, &s, &err);
			free(d);
			if (extra) {
				if (rc != FP_ETOOBIG || !strstr(err.msg, cases[i].want))
					fail_msg("case %zu: %d '%s'", i, rc, err.msg);
				continue;
			}
			if (rc)
				fail_msg("case %zu at the cap: %s", i, err.msg);
			if (cases[i].vex)
				fp_vex_free(&v);
			else
				fp_sbom_free(&s);
		}
	}
	/* Distinct described elements: 1000 pass, 1001 do not. */
	for (int n = 1000; n <= 1001; n++) {
		size_t cap = 64 + (size_t)n * 24, off = 0;
		char *d = malloc(cap);
		struct fp_sbom s;
		struct fp_err err = {0};
		assert_non_null(d);
		off += (size_t)snprintf(d, cap,
		                        "{\"spdxVersion\":\"SPDX-2.3\",\"documentDescribes\":[");
		for (int i = 0; i < n; i++)
			off += (size_t)snprintf(d + off, cap - off, "%s\"SPDXRef-%d\"",
			                        i ? "," : "", i);
		off += (size_t)snprintf(d + off, cap - off, "]}");
		int rc = fp_sbom_parse(d, off, &s, &err);
		free(d);
		if (n == 1000) {
			assert_int_equal(rc, 0);
			fp_sbom_free(&s);
		} else {
			assert_int_equal(rc, FP_ETOOBIG);
			assert_non_null(strstr(err.msg, "describes more than 1000 elements"));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dropwizard),
	    cmocka_unit_test(test_laravel),
	    cmocka_unit_test(test_proton_bridge),
	    cmocka_unit_test(test_hbom),
	    cmocka_unit_test(test_cdx_nested),
	    cmocka_unit_test(test_spdx),
	    cmocka_unit_test(test_spdx_variants),
	    cmocka_unit_test(test_vex_case1),
	    cmocka_unit_test(test_vex_case2),
	    cmocka_unit_test(test_vex_case3),
	    cmocka_unit_test(test_vex_case4),
	    cmocka_unit_test(test_vex_case5),
	    cmocka_unit_test(test_vex_case6),
	    cmocka_unit_test(test_vex_case7),
	    cmocka_unit_test(test_vex_case8),
	    cmocka_unit_test(test_vex_case9_absent),
	    cmocka_unit_test(test_vex_sbom_plain_entries),
	    cmocka_unit_test(test_vex_states),
	    cmocka_unit_test(test_sbom_format_errors),
	    cmocka_unit_test(test_sbom_type_errors),
	    cmocka_unit_test(test_sbom_duplicate_keys),
	    cmocka_unit_test(test_sbom_component_cap),
	    cmocka_unit_test(test_sbom_depth_cap),
	    cmocka_unit_test(test_sbom_byte_cap),
	    cmocka_unit_test(test_vex_errors),
	    cmocka_unit_test(test_vex_list_cap),
	    cmocka_unit_test(test_other_count_caps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
