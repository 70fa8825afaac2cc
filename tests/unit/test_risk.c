/*
 * test_risk.c — unit tests of lib/risk.c. Expected scores are worked out by
 * hand from the formula in risk.h with the default weights.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fleetpatch/risk.h"

static double score(struct fp_risk_input in)
{
	struct fp_risk_weights w;
	struct fp_risk_result r;
	fp_risk_weights_default(&w);
	fp_risk_score(&w, &in, &r);
	return r.score;
}

static void kev_on_an_exposed_critical_device_scores_highest(void **state)
{
	(void)state;
	/* 9.8/10 × 1.0 (KEV) × 1.0 × 1.0 × 100 = 98.0 */
	struct fp_risk_input in = {9.8, 0.02, 1, 0, "internet", "critical", 0};
	assert_true(score(in) == 98.0);
	/* The same CVE not in KEV with EPSS 0.02: likelihood 0.1 + 0.9 × 0.02 = 0.118 →
	 * 100 × 0.98 × 0.118 = 11.564 → 11.6 */
	in.kev = 0;
	assert_true(score(in) == 11.6);
}

static void context_weights_and_caps(void **state)
{
	(void)state;
	/* isolated (0.3) × low (0.5): 100 × 0.75 × 1.0 × 0.15 = 11.25 → 11.3 (round half up) */
	struct fp_risk_input in = {7.5, -1, 1, 0, "isolated", "low", 0};
	assert_true(score(in) == 11.3);
	/* Past EOL and ransomware: 100 × 1.0 × 1.0 × 1.0 × 1.0 × 1.25 × 1.2 = 150 → capped 100 */
	struct fp_risk_input worst = {10, 1, 1, 1, "internet", "critical", 1};
	assert_true(score(worst) == 100.0);
	/* Ransomware only counts for KEV entries. */
	struct fp_risk_input r = {5.0, 0, 0, 1, "internal", "medium", 0};
	/* 100 × 0.5 × 0.1 × (0.6 × 0.7) = 2.1 */
	assert_true(score(r) == 2.1);
}

static void unknown_values_use_documented_defaults(void **state)
{
	(void)state;
	/* No CVSS → 5.0; unknown exposure 0.6 and criticality 0.7; KEV → likelihood 1:
	 * 100 × 0.5 × 1 × 0.42 = 21.0 */
	struct fp_risk_input in = {-1, -1, 1, 0, NULL, "bogus", 0};
	assert_true(score(in) == 21.0);
}

static void weights_are_validated(void **state)
{
	(void)state;
	struct fp_risk_weights w;
	fp_risk_weights_default(&w);
	assert_true(fp_risk_weights_valid(&w));
	w.likelihood_floor = 1.5;
	assert_false(fp_risk_weights_valid(&w));
	fp_risk_weights_default(&w);
	w.exposure_internet = -1;
	assert_false(fp_risk_weights_valid(&w));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(kev_on_an_exposed_critical_device_scores_highest),
	    cmocka_unit_test(context_weights_and_caps),
	    cmocka_unit_test(unknown_values_use_documented_defaults),
	    cmocka_unit_test(weights_are_validated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
