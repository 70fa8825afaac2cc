/*
 * test_module.c — unit tests of lib/module.c: state names, module names,
 * and the NeedsReboot answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fleetpatch/module.h"

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(fp_module_state_name(FP_MODULE_NEEDS_REBOOT), "NeedsReboot");
	assert_string_equal(fp_module_state_name(FP_MODULE_STATE_COUNT), "?");
	assert_true(fp_module_name_valid("apt"));
	assert_true(fp_module_name_valid("mcu-flash_2"));
	assert_false(fp_module_name_valid(""));
	assert_false(fp_module_name_valid("ab"));
	assert_false(fp_module_name_valid("-x"));
	assert_false(fp_module_name_valid("../bin/sh"));
	assert_false(fp_module_name_valid("Apt"));
	char long_name[FP_MODULE_NAME_MAX + 2];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_false(fp_module_name_valid(long_name));
	long_name[FP_MODULE_NAME_MAX] = '\0';
	assert_true(fp_module_name_valid(long_name));
}

static void test_needs_reboot(void **state)
{
	(void)state;
	int r = -1;
	struct fp_err err = {0};
	assert_int_equal(fp_module_parse_needs_reboot("Yes\n", 4, &r, NULL), 0);
	assert_int_equal(r, 1);
	assert_int_equal(fp_module_parse_needs_reboot("No", 2, &r, NULL), 0);
	assert_int_equal(r, 0);
	assert_int_equal(fp_module_parse_needs_reboot("No \r\n", 5, &r, NULL), 0);
	static const char *const bad[] = {"", "yes", "Yes No", "Nope", "\nYes", "Y"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(fp_module_parse_needs_reboot(bad[i], strlen(bad[i]), &r, &err),
		                 FP_EINVAL);
	assert_non_null(strstr(err.msg, "Yes or No"));
	char big[FP_MODULE_ANSWER_MAX + 1];
	memset(big, ' ', sizeof(big));
	memcpy(big, "Yes", 3);
	assert_int_equal(fp_module_parse_needs_reboot(big, sizeof(big), &r, NULL), FP_ETOOBIG);
	assert_int_equal(fp_module_parse_needs_reboot(big, sizeof(big) - 1, &r, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_needs_reboot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
