/*
 * install_module.c — runs install modules (install_module.h).
 */
#include "install_module.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "fileio.h"
#include "log.h"

int agent_module_paths(const struct agent_config *c, char *workdir, size_t wcap, char *payload,
                       size_t pcap)
{
	int n = snprintf(workdir, wcap, "%s/module", c->state_dir);
	if (n < 0 || (size_t)n >= wcap)
		return FP_ETOOBIG;
	n = snprintf(payload, pcap, "%s/module/payload", c->state_dir);
	return n < 0 || (size_t)n >= pcap ? FP_ETOOBIG : 0;
}

static int module_path(const struct agent_config *c, const char *backend, char *out, size_t cap)
{
	if (!fp_module_name_valid(backend))
		return FP_EINVAL;
	int n = snprintf(out, cap, "%s/%s", c->module_dir, backend);
	return n < 0 || (size_t)n >= cap ? FP_ETOOBIG : 0;
}

int agent_module_present(const struct agent_config *c, const char *backend)
{
	char path[AGENT_PATH_MAX + FP_MODULE_NAME_MAX + 2];
	return module_path(c, backend, path, sizeof(path)) == 0 && access(path, X_OK) == 0;
}

int agent_module_run(const struct agent_config *c, const struct fp_journal_rec *rec,
                     enum fp_module_state state, int *reboot, struct fp_err *err)
{
	char path[AGENT_PATH_MAX + FP_MODULE_NAME_MAX + 2], work[AGENT_PATH_MAX + 16];
	char payload[AGENT_PATH_MAX + 32], tpath[AGENT_PATH_MAX + 32];
	char *out = NULL, *text = NULL;
	int st = 0, rc;
	if (module_path(c, rec->backend, path, sizeof(path)) != 0)
		return fp_err_set(err, FP_EINVAL, "'%.64s' is not an install module name",
		                  rec->backend);
	if (agent_module_paths(c, work, sizeof(work), payload, sizeof(payload)) != 0)
		return fp_err_set(err, FP_ETOOBIG, "state directory path is too long");
	if (mkdir(work, 0700) != 0 && errno != EEXIST)
		return fp_err_set(err, FP_EIO, "%s: %s", work, strerror(errno));
	json_t *t =
	    json_pack("{s:s,s:s,s:s,s:I,s:s}", "name", rec->target, "version", rec->version,
	              "sha256", rec->sha256, "length", (json_int_t)rec->length, "payload", payload);
	text = t ? json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(t);
	snprintf(tpath, sizeof(tpath), "%s/target.json", work);
	rc = text ? agent_write_atomic(tpath, text, strlen(text), 0600, err)
	          : fp_err_set(err, FP_ENOMEM, "out of memory");
	free(text);
	if (rc)
		return rc;
	char *argv[] = {path, (char *)fp_module_state_name(state), work, NULL};
	rc = agent_run(argv, c->module_timeout_s, &st, &out, err);
	if (rc == 0 && st == 124)
		rc = fp_err_set(err, FP_EIO, "module %s %s did not finish within %ld s",
		                rec->backend, fp_module_state_name(state), c->module_timeout_s);
	else if (rc == 0 && st != 0)
		rc = fp_err_set(err, FP_EIO, "module %s %s exited with status %d", rec->backend,
		                fp_module_state_name(state), st);
	if (rc == 0 && state == FP_MODULE_NEEDS_REBOOT)
		rc = fp_module_parse_needs_reboot(out, strlen(out), reboot, err);
	agent_log(rc ? AGENT_LOG_ERROR : AGENT_LOG_INFO, "install module",
	          "module=%s state=%s ok=%d", rec->backend, fp_module_state_name(state), rc == 0);
	free(out);
	return rc;
}
