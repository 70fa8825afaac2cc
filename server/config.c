/*
 * config.c — fleetpatchd settings: defaults, the config file, and what they mean.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleetpatch/conf.h"
#include "log.h"
#include "server.h"

void fp_config_defaults(struct fp_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->listen_addr, sizeof(c->listen_addr), "127.0.0.1");
	c->listen_port = 8080;
	snprintf(c->data_dir, sizeof(c->data_dir), "./fleetpatch-data");
	c->threads = 2;
	c->session_ttl_s = 12 * 3600;
	c->api_token_max_ttl_s = 365L * 86400;
	c->device_token_ttl_s = 3600;
	c->login_max_failures = 5;
	c->login_window_s = 300;
	c->poll_interval_s = 300;
	c->max_body_bytes = FP_BODY_MAX_DEFAULT;
	snprintf(c->oui_file, sizeof(c->oui_file), "/usr/share/ieee-data/oui.csv");
	snprintf(c->log_level, sizeof(c->log_level), "info");
	fp_risk_weights_default(&c->risk);
	c->feed_interval_s = 86400;
	c->artifact_max_bytes = FP_ARTIFACT_MAX_DEFAULT;
	c->tuf_timestamp_expiry_s = 86400;
	c->tuf_snapshot_expiry_s = 7L * 86400;
	c->tuf_resign_check_s = 60;
	c->tuf_alert_before_s = 14L * 86400;
	c->director_expiry_s = 86400;
	c->rollout_tick_ms = 1000;
	snprintf(c->zoneinfo_dir, sizeof(c->zoneinfo_dir), "/usr/share/zoneinfo");
	c->webhook_retry_base_s = 10;
	c->webhook_retention_days = 30;
}

/* The risk_* settings: the weights of lib/risk, documented in docs/design/vulnerabilities.md. */
static double *risk_weight(struct fp_config *c, const char *key)
{
	struct {
		const char *name;
		double *w;
	} t[] = {
	    {"risk_likelihood_floor", &c->risk.likelihood_floor},
	    {"risk_exposure_internet", &c->risk.exposure_internet},
	    {"risk_exposure_internal", &c->risk.exposure_internal},
	    {"risk_exposure_isolated", &c->risk.exposure_isolated},
	    {"risk_exposure_unknown", &c->risk.exposure_unknown},
	    {"risk_criticality_critical", &c->risk.crit_critical},
	    {"risk_criticality_high", &c->risk.crit_high},
	    {"risk_criticality_medium", &c->risk.crit_medium},
	    {"risk_criticality_low", &c->risk.crit_low},
	    {"risk_criticality_unknown", &c->risk.crit_unknown},
	    {"risk_end_of_life_factor", &c->risk.eol_factor},
	    {"risk_ransomware_factor", &c->risk.ransomware_factor},
	    {"risk_cvss_unknown", &c->risk.cvss_unknown},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(key, t[i].name) == 0)
			return t[i].w;
	return NULL;
}

static int set_str(char *dst, size_t n, const char *key, const char *v, int line,
                   struct fp_err *err)
{
	if (strlen(v) >= n)
		return fp_err_set(err, FP_EINVAL, "config: line %d: %s is longer than %zu bytes",
		                  line, key, n - 1);
	snprintf(dst, n, "%s", v);
	return 0;
}

int fp_config_listen(struct fp_config *c, const char *v, struct fp_err *err)
{
	/* ADDR:PORT, with [v6]:PORT for IPv6. */
	const char *colon = strrchr(v, ':');
	if (!colon)
		return fp_err_set(err, FP_EINVAL, "listen: '%.64s' is not ADDR:PORT", v);
	const char *a = v;
	size_t alen = (size_t)(colon - v);
	if (alen >= 2 && v[0] == '[' && v[alen - 1] == ']') {
		a = v + 1;
		alen -= 2;
	}
	long port;
	if (alen == 0 || alen >= sizeof(c->listen_addr) || fp_conf_long(colon + 1, 1, 65535, &port))
		return fp_err_set(err, FP_EINVAL, "listen: '%.64s' is not ADDR:PORT (port 1-65535)",
		                  v);
	memcpy(c->listen_addr, a, alen);
	c->listen_addr[alen] = '\0';
	c->listen_port = (int)port;
	return 0;
}

static int on_setting(void *ctx, const char *key, const char *v, int line, struct fp_err *err)
{
	struct fp_config *c = ctx;
	long n;
	struct {
		const char *key;
		long *dst;
		long min, max;
	} nums[] = {
	    {"session_ttl_seconds", &c->session_ttl_s, 60, 30L * 86400},
	    {"api_token_max_ttl_seconds", &c->api_token_max_ttl_s, 86400, 10L * 365 * 86400},
	    {"device_token_ttl_seconds", &c->device_token_ttl_s, 60, 86400},
	    {"login_max_failures", &c->login_max_failures, 1, 1000},
	    {"login_window_seconds", &c->login_window_s, 1, 86400},
	    {"poll_interval_seconds", &c->poll_interval_s, 5, 7 * 86400},
	    {"max_body_bytes", &c->max_body_bytes, 1024, 64L << 20},
	    {"feed_interval_seconds", &c->feed_interval_s, 5, 30L * 86400},
	    {"artifact_max_bytes", &c->artifact_max_bytes, 1, 1L << 40},
	    {"tuf_timestamp_expiry_seconds", &c->tuf_timestamp_expiry_s, 2, 366L * 86400},
	    {"tuf_snapshot_expiry_seconds", &c->tuf_snapshot_expiry_s, 2, 366L * 86400},
	    {"tuf_resign_check_seconds", &c->tuf_resign_check_s, 1, 86400},
	    {"tuf_alert_before_seconds", &c->tuf_alert_before_s, 0, 366L * 86400},
	    {"director_expiry_seconds", &c->director_expiry_s, 60, 366L * 86400},
	    {"rollout_tick_ms", &c->rollout_tick_ms, 50, 60000},
	    {"webhook_retry_base_seconds", &c->webhook_retry_base_s, 1, 3600},
	    {"webhook_retention_days", &c->webhook_retention_days, 1, 3650},
	};
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		if (strcmp(key, nums[i].key) != 0)
			continue;
		if (fp_conf_long(v, nums[i].min, nums[i].max, &n))
			return fp_err_set(err, FP_EINVAL,
			                  "config: line %d: %s must be an integer from %ld to %ld",
			                  line, key, nums[i].min, nums[i].max);
		*nums[i].dst = n;
		return 0;
	}
	double *w = risk_weight(c, key);
	if (w) {
		char *end;
		errno = 0;
		double x = strtod(v, &end);
		struct fp_risk_weights trial = c->risk;
		*w = x;
		if (errno || end == v || *end || !fp_risk_weights_valid(&c->risk)) {
			c->risk = trial;
			return fp_err_set(err, FP_EINVAL,
			                  "config: line %d: %s must be a number from 0 to 10 (the "
			                  "likelihood floor from 0 to 1)",
			                  line, key);
		}
		return 0;
	}
	if (strcmp(key, "listen") == 0)
		return fp_config_listen(c, v, err);
	if (strcmp(key, "data_dir") == 0)
		return set_str(c->data_dir, sizeof(c->data_dir), key, v, line, err);
	if (strcmp(key, "tls_cert") == 0)
		return set_str(c->tls_cert, sizeof(c->tls_cert), key, v, line, err);
	if (strcmp(key, "tls_key") == 0)
		return set_str(c->tls_key, sizeof(c->tls_key), key, v, line, err);
	if (strcmp(key, "zoneinfo_dir") == 0)
		return set_str(c->zoneinfo_dir, sizeof(c->zoneinfo_dir), key, v, line, err);
	static const char *const feed_keys[3] = {"feed_nvd_url", "feed_kev_url", "feed_epss_url"};
	for (int i = 0; i < 3; i++) {
		if (strcmp(key, feed_keys[i]) != 0)
			continue;
		if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
			return fp_err_set(err, FP_EINVAL,
			                  "config: line %d: %s must be an http:// or https:// URL",
			                  line, key);
		return set_str(c->feed_url[i], sizeof(c->feed_url[i]), key, v, line, err);
	}
	if (strcmp(key, "oui_file") == 0)
		return set_str(c->oui_file, sizeof(c->oui_file), key, v, line, err);
	if (strcmp(key, "threads") == 0) {
		if (fp_conf_long(v, 1, 64, &n))
			return fp_err_set(err, FP_EINVAL, "config: line %d: threads must be 1-64",
			                  line);
		c->threads = (int)n;
		return 0;
	}
	if (strcmp(key, "allow_insecure_http") == 0) {
		if (fp_conf_bool(v, &c->allow_insecure_http))
			return fp_err_set(
			    err, FP_EINVAL,
			    "config: line %d: allow_insecure_http must be true or false", line);
		return 0;
	}
	if (strcmp(key, "log_level") == 0) {
		enum fp_log_level l;
		if (fp_log_level_parse(v, &l))
			return fp_err_set(err, FP_EINVAL,
			                  "config: line %d: log_level must be debug, info, warn or "
			                  "error",
			                  line);
		return set_str(c->log_level, sizeof(c->log_level), key, v, line, err);
	}
	return fp_err_set(err, FP_EINVAL, "config: line %d: unknown setting '%s'", line, key);
}

int fp_config_load(struct fp_config *c, const char *path, int must_exist, struct fp_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		if (!must_exist && errno == ENOENT)
			return 0;
		return fp_err_set(err, FP_EIO, "config: cannot open %s: %s", path, strerror(errno));
	}
	char *buf = malloc(FP_CONF_MAX_BYTES + 1);
	size_t n = buf ? fread(buf, 1, FP_CONF_MAX_BYTES + 1, f) : 0;
	fclose(f);
	if (!buf)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	int rc = fp_conf_parse(buf, n, on_setting, c, err);
	free(buf);
	if (rc) {
		char why[FP_ERR_MSG_MAX];
		snprintf(why, sizeof(why), "%s", err ? err->msg : "");
		return fp_err_set(err, rc, "%s: %s", path, why);
	}
	return 0;
}
