/*
 * migrate.c — the schema, as an ordered list of portable SQL migrations.
 *
 * A migration is never edited once released; a change is a new entry at the
 * end. Types are the portable subset (INTEGER, BIGINT-compatible INTEGER,
 * TEXT); times are RFC 3339 UTC text, which sorts correctly as text.
 */
#include "migrate.h"

#include <stddef.h>
#include <stdio.h>

static const char *const migrations[] = {
    /* 1: operators, devices, groups, imports, audit log. */
    "CREATE TABLE users ("
    " id INTEGER PRIMARY KEY,"
    " username TEXT NOT NULL UNIQUE,"
    " role TEXT NOT NULL,"
    " password_hash TEXT NOT NULL,"
    " disabled INTEGER NOT NULL DEFAULT 0,"
    " created_at TEXT NOT NULL,"
    " updated_at TEXT NOT NULL);"
    "CREATE TABLE api_tokens ("
    " id INTEGER PRIMARY KEY,"
    " user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " name TEXT NOT NULL,"
    " kind TEXT NOT NULL,"
    " token_hash TEXT NOT NULL UNIQUE,"
    " created_at TEXT NOT NULL,"
    " expires_at INTEGER NOT NULL,"
    " last_used_at TEXT,"
    " revoked_at TEXT);"
    "CREATE TABLE login_failures ("
    " key TEXT PRIMARY KEY,"
    " failures INTEGER NOT NULL,"
    " window_start INTEGER NOT NULL);"
    "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE devices ("
    " id INTEGER PRIMARY KEY,"
    " identity TEXT NOT NULL UNIQUE,"
    " status TEXT NOT NULL,"
    " source TEXT NOT NULL,"
    " pubkey TEXT,"
    " pubkey_fingerprint TEXT,"
    " auth_epoch INTEGER NOT NULL DEFAULT 0,"
    " record TEXT NOT NULL,"
    " name TEXT, model TEXT, firmware_version TEXT, ip TEXT, mac TEXT, serial TEXT,"
    " first_seen TEXT NOT NULL,"
    " last_seen TEXT,"
    " last_checkin INTEGER NOT NULL DEFAULT 0,"
    " last_auth_ts INTEGER NOT NULL DEFAULT 0,"
    " updated_at TEXT NOT NULL);"
    "CREATE INDEX devices_mac ON devices(mac);"
    "CREATE INDEX devices_serial ON devices(serial);"
    "CREATE INDEX devices_status ON devices(status);"
    "CREATE TABLE device_groups ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " description TEXT NOT NULL DEFAULT '',"
    " filter TEXT,"
    " created_at TEXT NOT NULL,"
    " updated_at TEXT NOT NULL);"
    "CREATE TABLE group_members ("
    " group_id INTEGER NOT NULL REFERENCES device_groups(id) ON DELETE CASCADE,"
    " device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,"
    " PRIMARY KEY (group_id, device_id));"
    "CREATE TABLE imports ("
    " id INTEGER PRIMARY KEY,"
    " format TEXT NOT NULL,"
    " status TEXT NOT NULL,"
    " dry_run INTEGER NOT NULL,"
    " created_by TEXT NOT NULL,"
    " created_at TEXT NOT NULL,"
    " finished_at TEXT,"
    " report TEXT,"
    " error TEXT);"
    "CREATE TABLE audit_log ("
    " seq INTEGER PRIMARY KEY,"
    " ts TEXT NOT NULL,"
    " actor TEXT NOT NULL,"
    " action TEXT NOT NULL,"
    " object TEXT NOT NULL,"
    " before_json TEXT,"
    " after_json TEXT,"
    " prev_hash TEXT NOT NULL,"
    " hash TEXT NOT NULL);",
    /* 2: vulnerability intelligence: CVEs, KEV, EPSS, CPE mappings, findings. */
    "ALTER TABLE devices ADD COLUMN config_key TEXT;"
    "ALTER TABLE devices ADD COLUMN exposure TEXT;"
    "ALTER TABLE devices ADD COLUMN criticality TEXT;"
    "ALTER TABLE devices ADD COLUMN eol_date TEXT;"
    "ALTER TABLE devices ADD COLUMN assessed_key TEXT;"
    "CREATE INDEX devices_config ON devices(config_key);"
    "CREATE TABLE cves ("
    " id TEXT PRIMARY KEY,"
    " published TEXT,"
    " last_modified TEXT NOT NULL,"
    " status TEXT NOT NULL,"
    " description TEXT,"
    " cvss_milli INTEGER,"
    " cvss_version TEXT,"
    " vector TEXT,"
    " severity TEXT,"
    " cwe TEXT,"
    " configurations TEXT,"
    " has_configs INTEGER NOT NULL);"
    "CREATE TABLE cve_keys ("
    " key TEXT NOT NULL,"
    " cve_id TEXT NOT NULL,"
    " PRIMARY KEY (key, cve_id)) WITHOUT ROWID;"
    "CREATE INDEX cve_keys_cve ON cve_keys(cve_id);"
    "CREATE TABLE kev ("
    " cve_id TEXT PRIMARY KEY,"
    " date_added TEXT,"
    " due_date TEXT,"
    " ransomware INTEGER NOT NULL,"
    " name TEXT);"
    "CREATE TABLE epss ("
    " cve_id TEXT PRIMARY KEY,"
    " score_micro INTEGER NOT NULL,"
    " percentile_micro INTEGER NOT NULL);"
    "CREATE TABLE model_cpes ("
    " id INTEGER PRIMARY KEY,"
    " manufacturer TEXT NOT NULL,"
    " model TEXT NOT NULL,"
    " firmware_cpe TEXT,"
    " hardware_cpe TEXT,"
    " created_at TEXT NOT NULL,"
    " UNIQUE (manufacturer, model));"
    "CREATE TABLE config_findings ("
    " config_key TEXT NOT NULL,"
    " cve_id TEXT NOT NULL,"
    " matched_cpe TEXT NOT NULL,"
    " first_seen TEXT NOT NULL,"
    " fixed_at TEXT,"
    " seen_run INTEGER NOT NULL,"
    " PRIMARY KEY (config_key, cve_id));"
    "CREATE INDEX config_findings_cve ON config_findings(cve_id);"
    "CREATE TABLE assessed_configs ("
    " config_key TEXT PRIMARY KEY,"
    " platform TEXT NOT NULL,"
    " keys TEXT NOT NULL,"
    " assessed_at TEXT NOT NULL);"
    "CREATE TABLE device_configs ("
    " id INTEGER PRIMARY KEY,"
    " device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,"
    " config_key TEXT NOT NULL,"
    " since TEXT NOT NULL,"
    " until TEXT);"
    "CREATE INDEX device_configs_device ON device_configs(device_id);"
    "CREATE TABLE firmware_sboms ("
    " id INTEGER PRIMARY KEY,"
    " manufacturer TEXT NOT NULL,"
    " model TEXT NOT NULL,"
    " firmware TEXT NOT NULL,"
    " format TEXT NOT NULL,"
    " components TEXT NOT NULL,"
    " n_components INTEGER NOT NULL,"
    " created_at TEXT NOT NULL,"
    " UNIQUE (manufacturer, model, firmware));"
    "CREATE TABLE vex_statements ("
    " cve_id TEXT PRIMARY KEY,"
    " state TEXT NOT NULL,"
    " justification TEXT,"
    " detail TEXT,"
    " affects TEXT NOT NULL,"
    " created_by TEXT NOT NULL,"
    " created_at TEXT NOT NULL);",

    /* 3: artifacts, the TUF repository's metadata, director assignments. */
    "CREATE TABLE artifacts ("
    " sha256 TEXT PRIMARY KEY,"
    " sha512 TEXT NOT NULL,"
    " length INTEGER NOT NULL,"
    " created_by TEXT NOT NULL,"
    " created_at TEXT NOT NULL);"
    "CREATE TABLE tuf_metadata ("
    " role TEXT NOT NULL,"
    " version INTEGER NOT NULL,"
    " body TEXT NOT NULL,"
    " expires INTEGER NOT NULL,"
    " created_at TEXT NOT NULL,"
    " PRIMARY KEY (role, version));"
    "CREATE TABLE device_assignments ("
    " device_id INTEGER PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,"
    " target TEXT,"
    " deadline TEXT,"
    " version INTEGER NOT NULL,"
    " nonce TEXT NOT NULL,"
    " created_by TEXT NOT NULL,"
    " updated_at TEXT NOT NULL);",
    /* 4: a device whose delta failed is offered the full target only. */
    "ALTER TABLE device_assignments ADD COLUMN delta_refused INTEGER NOT NULL DEFAULT 0;",
    /* 5: rollouts (docs/design/rollout.md) and webhooks with their outbox. */
    "CREATE TABLE rollouts ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " target TEXT NOT NULL,"
    " target_version TEXT NOT NULL,"
    " selector TEXT NOT NULL,"
    " spec TEXT NOT NULL,"
    " state TEXT NOT NULL,"
    " priority INTEGER NOT NULL,"
    " runtime TEXT NOT NULL,"
    " created_by TEXT NOT NULL,"
    " created_at TEXT NOT NULL,"
    " approved_by TEXT,"
    " approved_at TEXT,"
    " ticket TEXT,"
    " approval_reason TEXT,"
    " updated_at TEXT NOT NULL);"
    "CREATE INDEX rollouts_state ON rollouts(state);"
    "CREATE TABLE rollout_devices ("
    " rollout_id INTEGER NOT NULL REFERENCES rollouts(id) ON DELETE CASCADE,"
    " device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,"
    " ord INTEGER NOT NULL,"
    " phase INTEGER NOT NULL,"
    " state TEXT NOT NULL,"
    " since INTEGER NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " failures INTEGER NOT NULL DEFAULT 0,"
    " reason TEXT NOT NULL DEFAULT '',"
    " assigned_version INTEGER NOT NULL DEFAULT 0,"
    " withdrawn_version INTEGER NOT NULL DEFAULT 0,"
    " prev_target TEXT,"
    " prev_version TEXT,"
    " PRIMARY KEY (rollout_id, device_id));"
    "CREATE INDEX rollout_devices_device ON rollout_devices(device_id);"
    "CREATE TABLE webhooks ("
    " id INTEGER PRIMARY KEY,"
    " url TEXT NOT NULL,"
    " secret TEXT NOT NULL,"
    " events TEXT NOT NULL,"
    " created_by TEXT NOT NULL,"
    " created_at TEXT NOT NULL);"
    "CREATE TABLE webhook_deliveries ("
    " id INTEGER PRIMARY KEY,"
    " webhook_id INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,"
    " event TEXT NOT NULL,"
    " body TEXT NOT NULL,"
    " created_at TEXT NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_at INTEGER NOT NULL,"
    " delivered_at TEXT,"
    " status INTEGER,"
    " last_error TEXT);"
    "CREATE INDEX webhook_deliveries_due ON webhook_deliveries(delivered_at, next_at);",
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int fp_migrate_latest(void)
{
	return NMIGRATIONS;
}

int fp_migrate(fp_db *db, int *from, struct fp_err *err)
{
	int rc = fp_db_exec(
	    db, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", err);
	if (rc)
		return rc;
	int64_t v = 0;
	rc = fp_db_run(db, err, &v, "SELECT version FROM schema_version", NULL);
	if (rc == FP_ENOTFOUND) {
		v = 0;
		rc = fp_db_run(db, err, NULL, "INSERT INTO schema_version (version) VALUES (0)",
		               NULL);
	}
	if (rc)
		return rc;
	*from = (int)v;
	if (v > NMIGRATIONS)
		return fp_err_set(
		    err, FP_EUNSUPP,
		    "database schema version %lld is newer than this fleetpatchd knows "
		    "(%d); run a newer fleetpatchd or restore a backup",
		    (long long)v, NMIGRATIONS);
	for (int i = (int)v; i < NMIGRATIONS; i++) {
		if ((rc = fp_db_begin(db, err)))
			return rc;
		rc = fp_db_exec(db, migrations[i], err);
		if (rc == 0)
			rc = fp_db_run(db, err, NULL, "UPDATE schema_version SET version = ?", "i",
			               (int64_t)(i + 1));
		if (rc) {
			char why[FP_ERR_MSG_MAX];
			snprintf(why, sizeof(why), "%s", err ? err->msg : "database error");
			fp_db_rollback(db);
			return fp_err_set(err, rc, "migration %d failed: %s", i + 1, why);
		}
		if ((rc = fp_db_commit(db, err)))
			return rc;
	}
	return 0;
}
