/*
 * test_pkgdb.c — unit tests of lib/pkgdb.c: installed packages of dpkg and
 * opkg status files, paragraphs without a trailing blank line, CRLF,
 * removed packages, over-long fields, and a callback that stops the parse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fleetpatch/pkgdb.h"

struct got {
	char text[1024];
	int n;
	int stop_at;
};

static int collect(void *ctx, const char *name, const char *version)
{
	struct got *g = ctx;
	size_t k = strlen(g->text);
	snprintf(g->text + k, sizeof(g->text) - k, "%s=%s;", name, version);
	if (++g->n == g->stop_at)
		return -99;
	return 0;
}

static void test_status_files(void **state)
{
	(void)state;
	static const char dpkg[] = "Package: libc6\n"
	                           "Status: install ok installed\n"
	                           "Version: 2.36-9\n"
	                           "Description: GNU C Library\n"
	                           " continuation: Package: fake\n"
	                           "\n"
	                           "Package: gone\n"
	                           "Status: deinstall ok config-files\n"
	                           "Version: 1.0\n"
	                           "\n"
	                           "Package: busybox\r\n"
	                           "Status: install user installed\r\n"
	                           "\r\n"
	                           "Package: zlib1g\n"
	                           "Status: install ok installed\n"
	                           "Version: 1:1.2.13";
	struct got g = {0};
	assert_int_equal(fp_pkgdb_parse_status(dpkg, strlen(dpkg), collect, &g, NULL), 0);
	assert_string_equal(g.text, "libc6=2.36-9;busybox=;zlib1g=1:1.2.13;");
	struct got s = {.stop_at = 2};
	assert_int_equal(fp_pkgdb_parse_status(dpkg, strlen(dpkg), collect, &s, NULL), -99);
	assert_int_equal(s.n, 2);
	char big[600];
	memset(big, 'x', sizeof(big));
	memcpy(big, "Package: ", 9);
	big[sizeof(big) - 1] = '\n';
	char doc[800];
	snprintf(doc, sizeof(doc), "%.*sStatus: install ok installed\n", (int)sizeof(big), big);
	struct got l = {0};
	assert_int_equal(fp_pkgdb_parse_status(doc, strlen(doc), collect, &l, NULL), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(fp_pkgdb_parse_status("", 0, collect, &l, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
