/*
 * test_version.c — unit tests of lib/version.c: a table of ordered pairs and
 * a property test of antisymmetry and transitivity over generated strings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fleetpatch/version.h"

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

/* Each row: sign(fp_version_cmp(a, b)) must be want (and the reverse -want). */
static const struct {
	const char *a, *b;
	int want;
} pairs[] = {
    {"1.2.0", "1.2.0", 0},
    {"1.10", "1.9", 1},
    {"1.9", "1.10", -1},
    {"1.2", "1.2.0", -1},
    {"1.2.0", "1.2.1", -1},
    {"2.0", "10.0", -1},
    {"1.0-rc1", "1.0", -1},
    {"1.0", "1.0.1", -1},
    {"1.0-rc1", "1.0.1", -1},
    {"1.0~beta", "1.0", -1},
    {"1.0~beta", "1.0~rc1", -1},
    {"1.0~~", "1.0~", -1},
    {"1.0~", "1.0-rc1", -1},
    {"1.0-alpha", "1.0-beta", -1},
    {"1.0-beta", "1.0-rc", -1},
    {"1.0-dev", "1.0-alpha", -1},
    {"1.0-rc1", "1.0-rc2", -1},
    {"1.0-rc9", "1.0-rc10", -1},
    {"1.0a", "1.0b", -1},
    {"1.0b", "1.0", -1},
    {"2024-05-01", "2024-11-01", -1},
    {"2023-12-31", "2024-01-01", -1},
    {"v1.2.0", "1.2.0", 0},
    {"V1.2.0", "v1.2.1", -1},
    {"1.0", "1.00", 0},
    {"1.0", "1-0", 0},
    {"1.0RC1", "1.0-rc.1", 0},
    {"01.02", "1.2", 0},
    {"v200r007c00spc600", "v200r007c00spc500", 1},
    {"v200r007c00spc600", "v200r007c00", 1},
    {"v200r008c00", "v200r007c00spc600", 1},
    {"1.1.4 Build 20230219", "1.1.4", 1},
    {"1.1.4 Build 20230219", "1.1.4 Build 20230301", -1},
    {"1.1.4 Build 20230219", "1.1.5", -1},
    {"1.1.4 build 20230219", "1.1.4 Build 20230219", 0},
    {"a1_fw110b04", "a1_fw110b05", -1},
    {"a1_fw110b04", "a1_fw111b01", -1},
    {"v2.420.ac00.18.r.20200217", "v2.420.ac00.18.r.20200301", -1},
    {"v2.420.ac00.18.r.20200217", "v2.421", -1},
    {"10.2.0.5-d-29sv", "10.2.0.5-d-30sv", -1},
    {"10.2.0.5-d-29sv", "10.2.0.6", -1},
    {"5.21(aazf.14)c0", "5.21(aazf.15)c0", -1},
    {"5.21(aazf.14)c0", "5.21(abab.1)c0", -1},
    {"4.2.6 build_20190322", "4.2.6 build_20200101", -1},
    {"4.2.6 build_20190322", "4.2.7", -1},
    {"8u202", "8u191", 1},
    {"8u202", "8", 1},
    {"7.9p1", "7.9", 1},
    {"7.9p1", "8.0", -1},
    {"123456789012345678901234567890", "123456789012345678901234567891", -1},
    {"99999999999999999999999", "100000000000000000000000", -1},
    {"1.0", "1.0 ", 0},
    {"", "", 0},
    {"", "0", -1},
    {"1.0", "1.0.0.0.0.1", -1},
    {"ABC", "abd", -1},
};

static void table_of_pairs(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		int got = sign(fp_version_cmp(pairs[i].a, pairs[i].b));
		int rev = sign(fp_version_cmp(pairs[i].b, pairs[i].a));
		if (got != pairs[i].want || rev != -pairs[i].want)
			fail_msg("cmp('%s', '%s') = %d, reverse %d, want %d", pairs[i].a,
			         pairs[i].b, got, rev, pairs[i].want);
	}
	assert_true(sizeof(pairs) / sizeof(pairs[0]) >= 40);
}

static void long_inputs(void **state)
{
	(void)state;
	/* Inputs far longer than any fixed buffer: 100 000 digits and letters. */
	size_t n = 100000;
	char *a = malloc(n + 1), *b = malloc(n + 1);
	assert_non_null(a);
	assert_non_null(b);
	memset(a, '9', n);
	a[n] = '\0';
	memcpy(b, a, n + 1);
	assert_int_equal(fp_version_cmp(a, b), 0);
	b[n - 1] = '8';
	assert_true(fp_version_cmp(a, b) > 0);
	for (size_t i = 0; i < n; i++)
		a[i] = (i % 2) ? 'x' : '.';
	memcpy(b, a, n + 1);
	assert_int_equal(fp_version_cmp(a, b), 0);
	free(a);
	free(b);
}

#define N_STRINGS 200
#define N_TRIPLE  60

static const char *const real[] = {
    "1.2.0",
    "1.10",
    "1.9",
    "v200r007c00spc600",
    "1.1.4 Build 20230219",
    "a1_fw110b04",
    "v2.420.ac00.18.r.20200217",
    "10.2.0.5-d-29sv",
    "5.21(aazf.14)c0",
    "4.2.6 build_20190322",
    "2024-05-01",
    "2024-11-01",
    "1.0-rc1",
    "1.0",
    "1.0.1",
    "1.0~beta",
    "1.0~~",
    "8u202",
    "7.9p1",
    "",
    "~",
    "v",
    "V1",
    "1.0-1",
    "1:2.3",
};

static uint32_t rng_state = 12345;

static uint32_t rng(void)
{
	/* A fixed LCG so failures reproduce. */
	rng_state = rng_state * 1103515245u + 12345u;
	return rng_state >> 16;
}

static char *gen(void)
{
	static const char alphabet[] = "0123456789000..--~~_ abcrpvVBuild";
	size_t len = 1 + rng() % 10;
	char *s = malloc(len + 1);
	assert_non_null(s);
	for (size_t i = 0; i < len; i++)
		s[i] = alphabet[rng() % (sizeof(alphabet) - 1)];
	s[len] = '\0';
	return s;
}

static int qcmp(const void *a, const void *b)
{
	return fp_version_cmp(*(char *const *)a, *(char *const *)b);
}

static void order_is_total_and_transitive(void **state)
{
	(void)state;
	char *s[N_STRINGS];
	size_t nreal = sizeof(real) / sizeof(real[0]);
	for (size_t i = 0; i < N_STRINGS; i++) {
		s[i] = i < nreal ? strdup(real[i]) : gen();
		assert_non_null(s[i]);
	}
	for (size_t i = 0; i < N_STRINGS; i++) {
		assert_int_equal(fp_version_cmp(s[i], s[i]), 0);
		for (size_t j = 0; j < N_STRINGS; j++)
			if (sign(fp_version_cmp(s[i], s[j])) != -sign(fp_version_cmp(s[j], s[i])))
				fail_msg("not antisymmetric: '%s' '%s'", s[i], s[j]);
	}
	/* Triples over a subset mixing real and generated strings. */
	char **t = s + nreal - 10;
	for (size_t i = 0; i < N_TRIPLE; i++)
		for (size_t j = 0; j < N_TRIPLE; j++)
			for (size_t k = 0; k < N_TRIPLE; k++) {
				int ij = sign(fp_version_cmp(t[i], t[j]));
				int jk = sign(fp_version_cmp(t[j], t[k]));
				int ik = sign(fp_version_cmp(t[i], t[k]));
				if (ij <= 0 && jk <= 0 && ik > 0)
					fail_msg("not transitive: '%s' <= '%s' <= '%s'", t[i], t[j],
					         t[k]);
				if (ij == 0 && jk == 0 && ik != 0)
					fail_msg("equivalence not transitive: '%s' '%s' '%s'", t[i],
					         t[j], t[k]);
				if (ij < 0 && jk <= 0 && ik >= 0)
					fail_msg("strict order not transitive: '%s' '%s' '%s'",
					         t[i], t[j], t[k]);
			}
	/* After sorting, every earlier string is <= every later one. */
	qsort(s, N_STRINGS, sizeof(s[0]), qcmp);
	for (size_t i = 0; i < N_STRINGS; i++)
		for (size_t j = i + 1; j < N_STRINGS; j++)
			if (fp_version_cmp(s[i], s[j]) > 0)
				fail_msg("sorted out of order: '%s' before '%s'", s[i], s[j]);
	for (size_t i = 0; i < N_STRINGS; i++)
		free(s[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(table_of_pairs),
	    cmocka_unit_test(long_inputs),
	    cmocka_unit_test(order_is_total_and_transitive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
