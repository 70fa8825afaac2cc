/*
 * risk.h — the risk score of a finding (a CVE on a device) and its reasons.
 *
 * The score is 0–100 and the product of three parts, each explained in the
 * result so the API can say why a score is what it is:
 *
 *   impact      = CVSS base score / 10 (v4.0, else v3.1, v3.0, v2; 5.0 when none)
 *   likelihood  = floor + (1 - floor) × max(EPSS, 1 if in KEV)
 *   context     = exposure weight × criticality weight
 *                 × end-of-life factor (when the device is past its EOL date)
 *                 × ransomware factor (when KEV marks known ransomware use)
 *   score       = min(100, 100 × impact × likelihood × context)
 *
 * Weights are plain numbers in struct fp_risk_weights (the server reads them
 * from its config file); fp_risk_weights_default gives the documented ones.
 */
#ifndef FLEETPATCH_RISK_H
#define FLEETPATCH_RISK_H

struct fp_risk_weights {
	double likelihood_floor; /* likelihood of a CVE with EPSS 0 and not in KEV */
	double exposure_internet, exposure_internal, exposure_isolated, exposure_unknown;
	double crit_critical, crit_high, crit_medium, crit_low, crit_unknown;
	double eol_factor;        /* device past its end-of-life date */
	double ransomware_factor; /* KEV: known ransomware campaign use */
	double cvss_unknown;      /* base score assumed when NVD gives none */
};

struct fp_risk_input {
	double cvss;             /* base score 0–10, or < 0 when unknown */
	double epss;             /* 0–1, or < 0 when unknown (treated as 0) */
	int kev;                 /* in the KEV catalog */
	int ransomware;          /* KEV known ransomware use */
	const char *exposure;    /* internet | internal | isolated | NULL */
	const char *criticality; /* critical | high | medium | low | NULL */
	int past_eol;            /* the device is past its end-of-life date */
};

struct fp_risk_result {
	double score; /* 0–100, rounded to one decimal */
	double impact, likelihood, context;
	double exposure_weight, criticality_weight, eol_factor, ransomware_factor;
};

void fp_risk_weights_default(struct fp_risk_weights *w);

/* Checks that every weight is a finite number in [0, 10] and the floor in [0, 1]. */
int fp_risk_weights_valid(const struct fp_risk_weights *w);

void fp_risk_score(const struct fp_risk_weights *w, const struct fp_risk_input *in,
                   struct fp_risk_result *out);

#endif
