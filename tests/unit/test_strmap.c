/*
 * test_strmap.c — unit tests of lib/strmap.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "fleetpatch/strmap.h"

static void put_get_replace_and_grow(void **state)
{
	(void)state;
	struct fp_strmap *m;
	assert_int_equal(fp_strmap_new(&m), 0);
	static int values[5000];
	char key[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "vendor:product-%d", i);
		assert_int_equal(fp_strmap_put(m, key, &values[i], NULL), 0);
	}
	assert_int_equal(fp_strmap_count(m), 5000);
	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "vendor:product-%d", i);
		assert_ptr_equal(fp_strmap_get(m, key), &values[i]);
	}
	assert_null(fp_strmap_get(m, "vendor:product-5000"));
	assert_null(fp_strmap_get(m, ""));
	void *old = NULL;
	assert_int_equal(fp_strmap_put(m, "vendor:product-7", &values[0], &old), 0);
	assert_ptr_equal(old, &values[7]);
	assert_ptr_equal(fp_strmap_get(m, "vendor:product-7"), &values[0]);
	assert_int_equal(fp_strmap_count(m), 5000);
	fp_strmap_free(m, NULL);
}

static void values_are_freed(void **state)
{
	(void)state;
	struct fp_strmap *m;
	assert_int_equal(fp_strmap_new(&m), 0);
	assert_int_equal(fp_strmap_put(m, "a", malloc(8), NULL), 0);
	assert_int_equal(fp_strmap_put(m, "b", malloc(8), NULL), 0);
	fp_strmap_free(m, free); /* LeakSanitizer checks both values went */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(put_get_replace_and_grow),
	    cmocka_unit_test(values_are_freed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
