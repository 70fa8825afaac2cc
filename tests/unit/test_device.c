/*
 * test_device.c — unit tests of lib/device.c: validation, caps, merge, JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fleetpatch/device.h"

static void set_validates_enums_and_dates(void **state)
{
	(void)state;
	struct fp_device_rec r;
	struct fp_err err;
	fp_device_rec_init(&r);
	assert_int_equal(fp_device_rec_set(&r, "exposure", "internet", &err), 0);
	assert_string_equal(r.f[FP_DEV_EXPOSURE], "internet");
	assert_int_equal(fp_device_rec_set(&r, "exposure", "dmz", &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "exposure"));
	assert_string_equal(r.f[FP_DEV_EXPOSURE], "internet"); /* unchanged on error */
	assert_int_equal(fp_device_rec_set(&r, "eol_date", "2023-02-29", &err), FP_EINVAL);
	assert_int_equal(fp_device_rec_set(&r, "eol_date", "2024-02-29", &err), 0);
	assert_int_equal(fp_device_rec_set(&r, "criticality", "urgent", &err), FP_EINVAL);
	assert_int_equal(fp_device_rec_set(&r, "modle", "x", &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "modle"));
	fp_device_rec_free(&r);
}

static void mac_and_ip_are_normalised(void **state)
{
	(void)state;
	struct fp_device_rec r;
	fp_device_rec_init(&r);
	assert_int_equal(fp_device_rec_set(&r, "mac", "AA-BB-CC-00-11-22", NULL), 0);
	assert_string_equal(r.f[FP_DEV_MAC], "aa:bb:cc:00:11:22");
	assert_int_equal(fp_device_rec_set(&r, "mac", "aabb.cc00.1122", NULL), 0);
	assert_string_equal(r.f[FP_DEV_MAC], "aa:bb:cc:00:11:22");
	assert_int_equal(fp_device_rec_set(&r, "mac", "aa:bb:cc:00:11", NULL), FP_EINVAL);
	assert_int_equal(fp_device_rec_set(&r, "ip", "192.168.1.300", NULL), FP_EINVAL);
	assert_int_equal(fp_device_rec_set(&r, "ip", "fe80::1", NULL), 0);
	fp_device_rec_free(&r);
}

static void text_caps_and_utf8(void **state)
{
	(void)state;
	struct fp_device_rec r;
	fp_device_rec_init(&r);
	char big[FP_DEVICE_STR_MAX + 2];
	memset(big, 'a', sizeof(big));
	big[FP_DEVICE_STR_MAX] = '\0';
	assert_int_equal(fp_device_rec_set(&r, "model", big, NULL), 0);
	big[FP_DEVICE_STR_MAX] = 'a';
	big[FP_DEVICE_STR_MAX + 1] = '\0';
	assert_int_equal(fp_device_rec_set(&r, "model", big, NULL), FP_EINVAL);
	assert_int_equal(fp_device_rec_set(&r, "model", "caf\xc3\xa9", NULL), 0);
	assert_int_equal(fp_device_rec_set(&r, "model", "bad\xc3", NULL), FP_EINVAL);
	assert_int_equal(fp_device_rec_set(&r, "model", "over\xc0\xaflong", NULL), FP_EINVAL);
	assert_int_equal(fp_device_rec_set(&r, "model", "tab\there", NULL), FP_EINVAL);
	assert_int_equal(fp_device_rec_set(&r, "model", "\xed\xa0\x80", NULL), FP_EINVAL);
	fp_device_rec_free(&r);
}

static void tag_and_attr_caps(void **state)
{
	(void)state;
	struct fp_device_rec r;
	fp_device_rec_init(&r);
	char t[16];
	for (int i = 0; i < FP_DEVICE_TAGS_MAX; i++) {
		snprintf(t, sizeof(t), "t%d", i);
		assert_int_equal(fp_device_rec_add_tag(&r, t, NULL), 0);
	}
	assert_int_equal(fp_device_rec_add_tag(&r, "t0", NULL), 0); /* duplicate is a no-op */
	assert_int_equal(fp_device_rec_add_tag(&r, "one-more", NULL), FP_ETOOBIG);
	assert_int_equal(fp_device_rec_add_tag(&r, "bad tag", NULL), FP_EINVAL);
	for (int i = 0; i < FP_DEVICE_ATTRS_MAX; i++) {
		snprintf(t, sizeof(t), "k%d", i);
		assert_int_equal(fp_device_rec_set_attr(&r, t, "v", NULL), 0);
	}
	assert_int_equal(fp_device_rec_set_attr(&r, "k0", "replaced", NULL), 0);
	assert_int_equal(fp_device_rec_set_attr(&r, "extra", "v", NULL), FP_ETOOBIG);
	const char *v[2];
	assert_int_equal(fp_device_rec_values(&r, "attr.k0", v, 2), 1);
	assert_string_equal(v[0], "replaced");
	fp_device_rec_free(&r);
}

static void json_round_trip_and_unknown_fields(void **state)
{
	(void)state;
	json_error_t je;
	json_t *in =
	    json_loads("{\"identity\":\"mac:1\",\"model\":\"archer-c7\",\"firmware\":\"1.2\","
	               "\"tags\":[\"lab\"],\"components\":[{\"name\":\"busybox\","
	               "\"version\":\"1.36\"}],\"attributes\":{\"rack\":\"r1\"},\"id\":5}",
	               0, &je);
	assert_non_null(in);
	struct fp_device_rec r;
	struct fp_err err;
	fp_device_rec_init(&r);
	static const char *const ro[] = {"id", NULL};
	assert_int_equal(fp_device_rec_from_json(&r, in, ro, &err), 0);
	assert_string_equal(r.f[FP_DEV_FIRMWARE], "1.2");
	json_t *out = json_object();
	assert_int_equal(fp_device_rec_to_json(&r, out), 0);
	assert_string_equal(json_string_value(json_object_get(out, "firmware_version")), "1.2");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(out, "attributes"), "rack")), "r1");
	json_decref(out);
	fp_device_rec_free(&r);

	fp_device_rec_init(&r);
	assert_int_equal(fp_device_rec_from_json(&r, in, NULL, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "'id'"));
	fp_device_rec_free(&r);
	json_decref(in);

	in = json_loads("{\"model\":7}", 0, &je);
	fp_device_rec_init(&r);
	assert_int_equal(fp_device_rec_from_json(&r, in, NULL, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "model: expected a string"));
	fp_device_rec_free(&r);
	json_decref(in);
}

static void merge_overwrites_only_present_fields(void **state)
{
	(void)state;
	struct fp_device_rec a, b;
	fp_device_rec_init(&a);
	fp_device_rec_init(&b);
	assert_int_equal(fp_device_rec_set(&a, "model", "m1", NULL), 0);
	assert_int_equal(fp_device_rec_set(&a, "owner", "ops", NULL), 0);
	assert_int_equal(fp_device_rec_add_tag(&a, "old", NULL), 0);
	assert_int_equal(fp_device_rec_set(&b, "model", "m2", NULL), 0);
	assert_int_equal(fp_device_rec_merge(&a, &b), 0);
	assert_string_equal(a.f[FP_DEV_MODEL], "m2");
	assert_string_equal(a.f[FP_DEV_OWNER], "ops");
	assert_int_equal(a.n_tags, 1); /* b carried no tag list */
	assert_int_equal(fp_device_rec_add_tag(&b, "new", NULL), 0);
	assert_int_equal(fp_device_rec_merge(&a, &b), 0);
	assert_int_equal(a.n_tags, 1);
	assert_string_equal(a.tags[0], "new");
	fp_device_rec_free(&a);
	fp_device_rec_free(&b);
}

static void config_key_ignores_order_and_identity(void **state)
{
	(void)state;
	struct fp_device_rec a, b;
	char ka[65], kb[65];
	fp_device_rec_init(&a);
	fp_device_rec_init(&b);
	assert_int_equal(fp_device_rec_set(&a, "identity", "serial:1", NULL), 0);
	assert_int_equal(fp_device_rec_set(&b, "identity", "serial:2", NULL), 0);
	for (int i = 0; i < 2; i++) {
		struct fp_device_rec *r = i ? &b : &a;
		assert_int_equal(fp_device_rec_set(r, "model", "archer-c7", NULL), 0);
		assert_int_equal(fp_device_rec_set(r, "firmware", "1.1.9", NULL), 0);
	}
	assert_int_equal(fp_device_rec_add_component(&a, "busybox", "1.36", NULL, NULL, NULL), 0);
	assert_int_equal(fp_device_rec_add_component(&a, "openssl", "3.0.11", NULL, NULL, NULL), 0);
	assert_int_equal(fp_device_rec_add_component(&b, "openssl", "3.0.11", NULL, NULL, NULL), 0);
	assert_int_equal(fp_device_rec_add_component(&b, "busybox", "1.36", NULL, NULL, NULL), 0);
	assert_int_equal(fp_device_config_key(&a, ka), 0);
	assert_int_equal(fp_device_config_key(&b, kb), 0);
	assert_string_equal(ka, kb); /* same configuration, other identity and order */
	assert_int_equal(strlen(ka), 64);
	assert_int_equal(fp_device_rec_set(&b, "firmware", "1.2.0", NULL), 0);
	assert_int_equal(fp_device_config_key(&b, kb), 0);
	assert_string_not_equal(ka, kb);
	fp_device_rec_free(&a);
	fp_device_rec_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(set_validates_enums_and_dates),
	    cmocka_unit_test(mac_and_ip_are_normalised),
	    cmocka_unit_test(text_caps_and_utf8),
	    cmocka_unit_test(tag_and_attr_caps),
	    cmocka_unit_test(json_round_trip_and_unknown_fields),
	    cmocka_unit_test(merge_overwrites_only_present_fields),
	    cmocka_unit_test(config_key_ignores_order_and_identity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
