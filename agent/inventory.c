/*
 * inventory.c — the agent's inventory report (inventory.h).
 */
#include "inventory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "fleetpatch/pkgdb.h"
#include "fleetpatch/sbom.h"
#include "log.h"

#define RPM_TIMEOUT 60

static int add_component(json_t *arr, const char *name, const char *version)
{
	if (json_array_size(arr) >= AGENT_PACKAGES_MAX)
		return FP_ETOOBIG;
	json_t *o = version && *version ? json_pack("{s:s,s:s}", "name", name, "version", version)
	                                : json_pack("{s:s}", "name", name);
	/* Names that are not valid UTF-8 are left out rather than failing the report. */
	if (o)
		json_array_append_new(arr, o);
	return 0;
}

static int add_pkg(void *ctx, const char *name, const char *version)
{
	return add_component(ctx, name, version);
}

static int from_status_file(const char *path, json_t *arr)
{
	char *buf = NULL;
	size_t len = 0;
	struct fp_err err = {0};
	int rc = agent_read_file(path, AGENT_PKG_DB_MAX, &buf, &len, &err);
	if (rc == 0)
		rc = fp_pkgdb_parse_status(buf, len, add_pkg, arr, &err);
	if (rc == FP_ETOOBIG)
		fp_err_set(&err, rc, "more than %d packages; the rest are not reported",
		           AGENT_PACKAGES_MAX);
	if (rc && rc != FP_ENOTFOUND)
		agent_log(AGENT_LOG_WARN, "package database not read", "path=%s error=\"%s\"", path,
		          err.msg);
	free(buf);
	return rc;
}

static void from_rpm(json_t *arr)
{
	char *argv[] = {"rpm", "-qa", "--qf", "%{NAME}\t%{VERSION}-%{RELEASE}\n", NULL};
	char *out = NULL;
	int st = 0;
	if (agent_run(argv, RPM_TIMEOUT, &st, &out, NULL) == 0 && st == 0) {
		char *save = NULL;
		for (char *line = strtok_r(out, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			char *tab = strchr(line, '\t');
			if (tab)
				*tab++ = '\0';
			if (add_component(arr, line, tab) != 0)
				break;
		}
	}
	free(out);
}

static void packages(const struct agent_config *c, json_t *arr)
{
	char path[AGENT_PATH_MAX + 64];
	const char *db = c->packages_db;
	if (strcmp(db, "none") == 0)
		return;
	if (strcmp(db, "dpkg") == 0 || strcmp(db, "auto") == 0) {
		snprintf(path, sizeof(path), "%s/var/lib/dpkg/status", c->packages_root);
		if (from_status_file(path, arr) != FP_ENOTFOUND || strcmp(db, "dpkg") == 0)
			return;
	}
	if (strcmp(db, "opkg") == 0 || strcmp(db, "auto") == 0) {
		static const char *const opkg[] = {"/usr/lib/opkg/status", "/var/lib/opkg/status"};
		for (int i = 0; i < 2; i++) {
			snprintf(path, sizeof(path), "%s%s", c->packages_root, opkg[i]);
			if (from_status_file(path, arr) != FP_ENOTFOUND)
				return;
		}
		if (strcmp(db, "opkg") == 0)
			return;
	}
	if (strcmp(db, "rpm") == 0 || strcmp(db, "auto") == 0)
		from_rpm(arr);
}

static void sbom_components(const char *path, json_t *arr)
{
	char *buf = NULL;
	size_t len = 0;
	struct fp_err err = {0};
	struct fp_sbom s = {0};
	int rc = agent_read_file(path, FP_SBOM_MAX_BYTES, &buf, &len, &err);
	if (rc == 0)
		rc = fp_sbom_parse(buf, len, &s, &err);
	if (rc) {
		agent_log(AGENT_LOG_WARN, "SBOM not reported", "path=%s error=\"%s\"", path,
		          err.msg);
	} else {
		for (size_t i = 0; i < s.n && json_array_size(arr) < AGENT_PACKAGES_MAX; i++) {
			json_t *o = json_pack("{s:s}", "name", s.c[i].name);
			if (!o)
				continue;
			if (s.c[i].version)
				json_object_set_new(o, "version", json_string(s.c[i].version));
			if (s.c[i].cpe && strncmp(s.c[i].cpe, "cpe:", 4) == 0)
				json_object_set_new(o, "cpe", json_string(s.c[i].cpe));
			if (s.c[i].purl)
				json_object_set_new(o, "purl", json_string(s.c[i].purl));
			json_array_append_new(arr, o);
		}
		fp_sbom_free(&s);
	}
	free(buf);
}

static void attr(json_t *o, const char *k, long long v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%lld", v);
	json_object_set_new(o, k, json_string(buf));
}

int agent_inventory_build(const struct agent_config *c, const struct fp_journal_rec *rec,
                          int running, json_t **out, struct fp_err *err)
{
	const char *fw =
	    rec->slot_version[running][0] ? rec->slot_version[running] : c->firmware_version;
	json_t *o =
	    json_pack("{s:s,s:s}", "model", c->model, "update_mechanism", "fleetpatch-agent");
	json_t *attrs = json_object(), *comps = json_array();
	if (!o || !attrs || !comps) {
		json_decref(o);
		json_decref(attrs);
		json_decref(comps);
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	}
	if (fw[0])
		json_object_set_new(o, "firmware_version", json_string(fw));
	if (c->hw_revision[0])
		json_object_set_new(o, "hw_revision", json_string(c->hw_revision));
	json_object_set_new(attrs, "fp_slot", json_string(running ? "B" : "A"));
	json_object_set_new(attrs, "fp_state", json_string(fp_agent_state_name(rec->state)));
	attr(attrs, "fp_reboots", (long long)rec->reboots);
	attr(attrs, "fp_download_bytes", (long long)rec->bytes_downloaded);
	attr(attrs, "fp_download_ms", (long long)rec->download_ms);
	attr(attrs, "fp_install_ms", (long long)rec->install_ms);
	attr(attrs, "fp_security_counter", (long long)rec->running_counter);
	attr(attrs, "fp_assignment_version", (long long)rec->assignment_version);
	if (c->tz[0])
		json_object_set_new(attrs, "timezone", json_string(c->tz));
	json_object_set_new(attrs, "fp_last_error", json_string(rec->reason));
	json_object_set_new(attrs, "fp_update_status",
	                    json_string(rec->state != FP_AS_IDLE ? "in-progress"
	                                : rec->reason[0]         ? "failed"
	                                : rec->target[0]         ? "installed"
	                                                         : "none"));
	if (rec->target[0])
		json_object_set_new(attrs, "fp_target", json_string(rec->target));
	json_object_set_new(o, "attributes", attrs);
	packages(c, comps);
	if (c->sbom_file[0])
		sbom_components(c->sbom_file, comps);
	if (json_array_size(comps))
		json_object_set_new(o, "components", comps);
	else
		json_decref(comps);
	*out = o;
	return 0;
}
