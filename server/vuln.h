/*
 * vuln.h — the server's vulnerability engine: feed imports (NVD, KEV, EPSS)
 * into the database, and the assessment that matches each distinct device
 * configuration against the CVEs that name its products.
 */
#ifndef FP_SERVER_VULN_H
#define FP_SERVER_VULN_H

#include <stdatomic.h>

#include <jansson.h>

#include "db.h"
#include "fleetpatch/device.h"
#include "server.h"

struct fp_assess_report {
	int64_t configs_total, configs_matched, devices_updated, findings, candidates;
	int64_t elapsed_ms;
};

/*
 * Assesses device configurations. With dirty_keys (n_dirty "vendor:product"
 * keys whose CVEs changed; sorted in place; may be empty) only configurations
 * that name one of those keys are matched again; configurations never
 * assessed and devices whose configuration changed are always handled. NULL
 * matches everything again. With changed_cves too (the n_changed CVE ids an
 * NVD import created or changed, whose old and new keys are all in
 * dirty_keys; sorted in place), a known configuration is matched again
 * against those CVEs only. only_key (may be NULL) limits the run to one
 * configuration. Runs in the caller's transaction. done and total (may be
 * NULL) count configurations, for a job's progress.
 */
int fp_assess(fp_db *db, char *const *dirty_keys, size_t n_dirty, char *const *changed_cves,
              size_t n_changed, const char *only_key, struct fp_assess_report *rep,
              atomic_long *done, atomic_long *total, struct fp_err *err) FP_WUR;

/*
 * The configurations a query lists, one device each: rows of (config_key,
 * device id[, a count]) from sql, whose two parameters are both param ("" for
 * none). with_count reads the third column. Used by the assessment and the
 * remediation plan, which work per configuration, not per device.
 */
struct fp_config_rows {
	char **key;
	int64_t *id;
	int64_t *count; /* with_count only */
	size_t n;
};
int fp_config_rows_load(fp_db *db, const char *sql, const char *param, int with_count,
                        struct fp_config_rows *out, struct fp_err *err) FP_WUR;
void fp_config_rows_free(struct fp_config_rows *r);

/* Exposure windows (first seen → fixed) of a device, per CVE. */
struct fp_window_stats {
	int64_t open, fixed, fixed_secs;
	int64_t overdue; /* windows past their CVE's KEV due date */
};
/* Fills ws, and appends each window's JSON to items when items is not NULL. */
int fp_device_windows(fp_db *db, int64_t device_id, json_t *items, struct fp_window_stats *ws,
                      struct fp_err *err) FP_WUR;
/* Mean time to remediate in days (two decimals), or JSON null without fixed windows. */
json_t *fp_window_mttr(const struct fp_window_stats *ws);

/* Whether a stored VEX state (CycloneDX spelling) hides a CVE's findings (not_affected,
 * false_positive, resolved…). */
int fp_vex_state_suppresses(const char *state);
/* Whether a YYYY-MM-DD date (may be NULL: no) lies before today. */
int fp_date_past(const char *date);

/* The API's JSON of an assessment report (caller owns). */
json_t *fp_assess_report_json(const struct fp_assess_report *a);

/*
 * After an inventory change: assesses the configuration a device now has
 * when it is new, and records the device's move. Does nothing before any
 * CVE was imported. Runs in the caller's transaction.
 */
int fp_assess_device(fp_db *db, int64_t device_id, struct fp_err *err) FP_WUR;

/*
 * What-if matching: the CVEs a configuration that no device runs yet would
 * match (a device's inventory with a release's firmware version), with
 * NVD's semantics and the same model → CPE mapping and image SBOMs as the
 * assessment, storing nothing. One session caches parsed CVEs across calls;
 * free it with fp_whatif_free(). Reads in the caller's transaction.
 */
struct fp_whatif;
int fp_whatif_new(struct fp_whatif **out, struct fp_err *err) FP_WUR;
void fp_whatif_free(struct fp_whatif *w);
/* Calls fn once per CVE the configuration of rec matches; a non-zero return stops. */
int fp_whatif_match(fp_db *db, struct fp_whatif *w, const struct fp_device_rec *rec,
                    int (*fn)(void *ctx, const char *cve_id), void *ctx, struct fp_err *err) FP_WUR;

struct fp_nvd_configs;
/* Calls fn once for each "vendor:product" that any criterion of cfg names
 * (vulnerable or a platform condition), in sorted order. */
int fp_vuln_config_keys(const struct fp_nvd_configs *cfg, int (*fn)(void *ctx, const char *key),
                        void *ctx) FP_WUR;

/*
 * Starts the import job of a feed file (kind nvd, kev or epss); takes
 * ownership of data (malloc'd) whatever the outcome.
 */
int fp_feed_job_start(struct fp_server *s, fp_db *db, const char *kind,
                      const struct fp_principal *who, char *data, size_t len, int64_t *id,
                      struct fp_err *err) FP_WUR;

/* Fetches the configured feed URLs on their schedule (feeds_fetch.c). */
int fp_feeds_fetch_start(struct fp_server *s, struct fp_err *err) FP_WUR;
void fp_feeds_fetch_stop(struct fp_server *s);

/* Computes the configuration key of devices stored without one (older schema). */
int fp_vuln_backfill(struct fp_server *s, struct fp_err *err) FP_WUR;

#endif
