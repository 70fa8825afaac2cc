/*
 * test_oui.c — unit tests of lib/oui.c: registry CSV parsing, longest-prefix
 * lookup, malformed files, and the real ieee-data table when installed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fleetpatch/oui.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t cap = 0, n = 0, got;
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			char *b = realloc(buf, cap);
			if (!b) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = b;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got);
	fclose(f);
	*len = n;
	return buf;
}

static void small_table_longest_prefix(void **state)
{
	(void)state;
	size_t len;
	char *d = slurp(FP_TEST_DATA "/import/oui-small.csv", &len);
	assert_non_null(d);
	struct fp_oui *t;
	struct fp_err err;
	assert_int_equal(fp_oui_parse(d, len, &t, &err), 0);
	assert_int_equal(fp_oui_count(t), 7); /* the CID row and the repeated header are skipped */
	assert_string_equal(fp_oui_lookup(t, "b8:27:eb:12:34:56"), "Raspberry Pi Foundation");
	assert_string_equal(fp_oui_lookup(t, "00:1b:63:00:00:01"), "Apple, Inc.");
	assert_string_equal(fp_oui_lookup(t, "70:b3:d5:00:00:01"), "IEEE Registration Authority");
	assert_string_equal(fp_oui_lookup(t, "70:b3:d5:a0:00:01"), "Example MA-M Holder");
	assert_string_equal(fp_oui_lookup(t, "70:b3:d5:a1:20:01"), "Tiny \"Quoted\" Maker");
	assert_string_equal(fp_oui_lookup(t, "70:b3:d5:a1:30:01"), "Example MA-M Holder");
	assert_string_equal(fp_oui_lookup(t, "aa:bb:cc:dd:ee:ff"), "Test Vendor AA");
	assert_null(fp_oui_lookup(t, "0a:1b:2c:00:00:00"));
	assert_null(fp_oui_lookup(t, "02:00:00:00:00:00"));
	assert_null(fp_oui_lookup(t, "B8-27-EB-12-34-56")); /* not normalised */
	assert_null(fp_oui_lookup(t, "b8:27:eb:12:34"));
	assert_null(fp_oui_lookup(t, "b8:27:eb:12:34:567"));
	assert_null(fp_oui_lookup(NULL, "b8:27:eb:12:34:56"));
	fp_oui_free(t);
	free(d);
}

static void malformed_files(void **state)
{
	(void)state;
	struct fp_oui *t = (struct fp_oui *)1;
	struct fp_err err;
	const char *s = "Mac,Vendor\nB827EB,Raspberry\n";
	assert_int_equal(fp_oui_parse(s, strlen(s), &t, &err), FP_EINVAL);
	assert_null(t);
	assert_non_null(strstr(err.msg, "not an IEEE registry CSV"));
	s = "Registry,Assignment,Organization Name,Organization Address\nMA-L,B827E,Short,x\n";
	assert_int_equal(fp_oui_parse(s, strlen(s), &t, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "line 2: assignment 'B827E' of MA-L is not 6 hex digits"));
	s = "Registry,Assignment,Organization Name,Organization Address\nMA-S,70B3D5A1G,X,y\n";
	assert_int_equal(fp_oui_parse(s, strlen(s), &t, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "not 9 hex digits"));
	s = "Registry,Assignment,Organization Name,Organization Address\nMA-L,B827EB,\"open\n";
	assert_int_equal(fp_oui_parse(s, strlen(s), &t, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "line 2, column 13: quoted field is never closed"));
	assert_int_equal(fp_oui_parse("", 0, &t, &err), FP_EINVAL);
	assert_int_equal(fp_oui_parse(s, FP_OUI_FILE_MAX + 1u, &t, &err), FP_ETOOBIG);
	/* An empty table is valid and knows nothing. */
	s = "Registry,Assignment,Organization Name,Organization Address\n";
	assert_int_equal(fp_oui_parse(s, strlen(s), &t, &err), 0);
	assert_null(fp_oui_lookup(t, "b8:27:eb:12:34:56"));
	fp_oui_free(t);
}

static void real_ieee_data(void **state)
{
	(void)state;
	size_t len;
	char *d = slurp("/usr/share/ieee-data/oui.csv", &len);
	if (!d) {
		printf("skipped: /usr/share/ieee-data/oui.csv is absent (install ieee-data)\n");
		skip();
	}
	struct fp_oui *t;
	struct fp_err err;
	assert_int_equal(fp_oui_parse(d, len, &t, &err), 0);
	assert_true(fp_oui_count(t) > 30000);
	assert_string_equal(fp_oui_lookup(t, "b8:27:eb:00:00:01"), "Raspberry Pi Foundation");
	assert_string_equal(fp_oui_lookup(t, "00:1b:63:11:22:33"), "Apple, Inc.");
	fp_oui_free(t);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(small_table_longest_prefix),
	    cmocka_unit_test(malformed_files),
	    cmocka_unit_test(real_ieee_data),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
