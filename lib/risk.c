/*
 * risk.c — the documented risk formula (see risk.h and docs/design/risk.md).
 */
#include "fleetpatch/risk.h"

#include <math.h>
#include <string.h>

void fp_risk_weights_default(struct fp_risk_weights *w)
{
	w->likelihood_floor = 0.1;
	w->exposure_internet = 1.0;
	w->exposure_internal = 0.6;
	w->exposure_isolated = 0.3;
	w->exposure_unknown = 0.6;
	w->crit_critical = 1.0;
	w->crit_high = 0.85;
	w->crit_medium = 0.7;
	w->crit_low = 0.5;
	w->crit_unknown = 0.7;
	w->eol_factor = 1.25;
	w->ransomware_factor = 1.2;
	w->cvss_unknown = 5.0;
}

int fp_risk_weights_valid(const struct fp_risk_weights *w)
{
	const double v[] = {w->exposure_internet, w->exposure_internal, w->exposure_isolated,
	                    w->exposure_unknown,  w->crit_critical,     w->crit_high,
	                    w->crit_medium,       w->crit_low,          w->crit_unknown,
	                    w->eol_factor,        w->ransomware_factor, w->cvss_unknown};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (!isfinite(v[i]) || v[i] < 0 || v[i] > 10)
			return 0;
	return isfinite(w->likelihood_floor) && w->likelihood_floor >= 0 &&
	       w->likelihood_floor <= 1;
}

static double pick(const char *v, const char *const *names, const double *weights, size_t n,
                   double unknown)
{
	for (size_t i = 0; v && i < n; i++)
		if (strcmp(v, names[i]) == 0)
			return weights[i];
	return unknown;
}

void fp_risk_score(const struct fp_risk_weights *w, const struct fp_risk_input *in,
                   struct fp_risk_result *out)
{
	double cvss = in->cvss >= 0 && in->cvss <= 10 ? in->cvss : w->cvss_unknown;
	double epss = in->epss >= 0 && in->epss <= 1 ? in->epss : 0;
	double threat = in->kev ? 1.0 : epss;
	static const char *const exp_names[] = {"internet", "internal", "isolated"};
	static const char *const crit_names[] = {"critical", "high", "medium", "low"};
	const double exp_w[] = {w->exposure_internet, w->exposure_internal, w->exposure_isolated};
	const double crit_w[] = {w->crit_critical, w->crit_high, w->crit_medium, w->crit_low};
	out->impact = cvss / 10.0;
	out->likelihood = w->likelihood_floor + (1.0 - w->likelihood_floor) * threat;
	out->exposure_weight = pick(in->exposure, exp_names, exp_w, 3, w->exposure_unknown);
	out->criticality_weight = pick(in->criticality, crit_names, crit_w, 4, w->crit_unknown);
	out->eol_factor = in->past_eol ? w->eol_factor : 1.0;
	out->ransomware_factor = in->kev && in->ransomware ? w->ransomware_factor : 1.0;
	out->context = out->exposure_weight * out->criticality_weight * out->eol_factor *
	               out->ransomware_factor;
	double s = 100.0 * out->impact * out->likelihood * out->context;
	if (s > 100)
		s = 100;
	out->score = round(s * 10) / 10;
}
