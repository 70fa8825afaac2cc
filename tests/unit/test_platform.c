/*
 * test_platform.c — unit tests of lib/platform.c: a device's CPE names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fleetpatch/platform.h"

static void names(const struct fp_device_rec *r, const struct fp_platform_map *m,
                  char out[][FP_CPE_MAX + 1], size_t *n)
{
	struct fp_cpe *set;
	struct fp_err err;
	assert_int_equal(fp_platform_cpes(r, m, &set, n, &err), 0);
	for (size_t i = 0; i < *n; i++)
		assert_int_equal(fp_cpe_format(&set[i], out[i], FP_CPE_MAX + 1), 0);
	fp_platform_free(set, *n);
}

static void derived_firmware_and_hardware(void **state)
{
	(void)state;
	struct fp_device_rec r;
	fp_device_rec_init(&r);
	assert_int_equal(fp_device_rec_set(&r, "manufacturer", "TP-Link", NULL), 0);
	assert_int_equal(fp_device_rec_set(&r, "model", "Archer C7", NULL), 0);
	assert_int_equal(fp_device_rec_set(&r, "firmware", "1.1.4 Build 20230219", NULL), 0);
	char out[4][FP_CPE_MAX + 1];
	size_t n;
	names(&r, NULL, out, &n);
	assert_int_equal(n, 2);
	/* The model's space became '_' (NVD's product spelling); the firmware version keeps
	 * its spaces, quoted as CPE 2.3 formatted strings require. */
	assert_string_equal(
	    out[0], "cpe:2.3:o:tp-link:archer_c7_firmware:1.1.4\\ build\\ 20230219:*:*:*:*:*:*:*");
	/* Hardware is NA in the version, as NVD's h: criteria expect. */
	assert_string_equal(out[1], "cpe:2.3:h:tp-link:archer_c7:-:*:*:*:*:*:*:*");
	fp_device_rec_free(&r);
}

static void mapping_wins(void **state)
{
	(void)state;
	struct fp_device_rec r;
	fp_device_rec_init(&r);
	assert_int_equal(fp_device_rec_set(&r, "manufacturer", "D-Link", NULL), 0);
	assert_int_equal(fp_device_rec_set(&r, "model", "DIR-860L", NULL), 0);
	assert_int_equal(fp_device_rec_set(&r, "firmware", "a1_fw110b04", NULL), 0);
	struct fp_platform_map m = {"cpe:2.3:o:dlink:dir-860l_firmware:*:*:*:*:*:*:*:*",
	                            "cpe:2.3:h:dlink:dir-860l:-:*:*:*:*:*:*:*", NULL, 0};
	char out[4][FP_CPE_MAX + 1];
	size_t n;
	names(&r, &m, out, &n);
	assert_int_equal(n, 2);
	assert_string_equal(out[0], "cpe:2.3:o:dlink:dir-860l_firmware:a1_fw110b04:*:*:*:*:*:*:*");
	assert_string_equal(out[1], "cpe:2.3:h:dlink:dir-860l:-:*:*:*:*:*:*:*");
	struct fp_platform_map bad = {"cpe:2.3:o:broken", NULL, NULL, 0};
	struct fp_cpe *set;
	struct fp_err err;
	assert_int_not_equal(fp_platform_cpes(&r, &bad, &set, &n, &err), 0);
	assert_true(err.msg[0] != '\0');
	fp_device_rec_free(&r);
}

static void phones_and_components(void **state)
{
	(void)state;
	struct fp_device_rec r;
	fp_device_rec_init(&r);
	assert_int_equal(fp_device_rec_set(&r, "platform", "android", NULL), 0);
	assert_int_equal(fp_device_rec_set(&r, "os_version", "13.0", NULL), 0);
	assert_int_equal(fp_device_rec_add_component(&r, "busybox", "1.36.1",
	                                             "cpe:2.3:a:busybox:busybox:*:*:*:*:*:*:*:*",
	                                             NULL, NULL),
	                 0);
	assert_int_equal(fp_device_rec_add_component(&r, "zlib", "1.2.13", NULL,
	                                             "pkg:generic/zlib@1.2.13", NULL),
	                 0);
	char out[4][FP_CPE_MAX + 1];
	size_t n;
	names(&r, NULL, out, &n);
	/* The purl-only component has no CPE name. */
	assert_int_equal(n, 2);
	assert_string_equal(out[0], "cpe:2.3:o:google:android:13.0:*:*:*:*:*:*:*");
	/* A component CPE that leaves the version open takes the component's version. */
	assert_string_equal(out[1], "cpe:2.3:a:busybox:busybox:1.36.1:*:*:*:*:*:*:*");
	fp_device_rec_free(&r);
}

static void firmware_image_components_are_added(void **state)
{
	(void)state;
	struct fp_device_rec r, image;
	fp_device_rec_init(&r);
	fp_device_rec_init(&image);
	assert_int_equal(fp_device_rec_set(&r, "manufacturer", "acme", NULL), 0);
	assert_int_equal(fp_device_rec_set(&r, "model", "cam", NULL), 0);
	assert_int_equal(fp_device_rec_set(&r, "firmware", "2.0", NULL), 0);
	assert_int_equal(fp_device_rec_add_component(&image, "openssl", "1.1.1k",
	                                             "cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*",
	                                             NULL, NULL),
	                 0);
	struct fp_platform_map m = {NULL, NULL, image.components, image.n_components};
	char out[4][FP_CPE_MAX + 1];
	size_t n;
	names(&r, &m, out, &n);
	assert_int_equal(n, 3);
	assert_string_equal(out[2], "cpe:2.3:a:openssl:openssl:1.1.1k:*:*:*:*:*:*:*");
	fp_device_rec_free(&r);
	fp_device_rec_free(&image);
}

static void nothing_known_gives_no_names(void **state)
{
	(void)state;
	struct fp_device_rec r;
	fp_device_rec_init(&r);
	assert_int_equal(fp_device_rec_set(&r, "identity", "serial:x", NULL), 0);
	char out[4][FP_CPE_MAX + 1];
	size_t n = 99;
	names(&r, NULL, out, &n);
	assert_int_equal(n, 0);
	fp_device_rec_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(derived_firmware_and_hardware),
	    cmocka_unit_test(mapping_wins),
	    cmocka_unit_test(phones_and_components),
	    cmocka_unit_test(firmware_image_components_are_added),
	    cmocka_unit_test(nothing_known_gives_no_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
