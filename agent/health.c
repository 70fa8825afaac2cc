/*
 * health.c — the post-boot health check (health.h).
 */
#include "health.h"

#include <stdio.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"

int agent_health_check(const struct agent_config *c, struct fp_err *err)
{
	if (c->simulate) {
		char path[AGENT_PATH_MAX + 16];
		snprintf(path, sizeof(path), "%s/health-fail", c->sim_dir);
		if (access(path, F_OK) == 0)
			return fp_err_set(err, FP_EIO, "simulated failure (%s exists)", path);
	}
	for (int i = 0; i < c->n_health; i++) {
		int st = 0;
		int rc = agent_run_shell(c->health[i], c->health_timeout_s, &st, err);
		if (rc)
			return rc;
		if (st == 124)
			return fp_err_set(err, FP_EIO, "'%.200s' did not finish within %ld s",
			                  c->health[i], c->health_timeout_s);
		if (st != 0)
			return fp_err_set(err, FP_EIO, "'%.200s' exited with status %d",
			                  c->health[i], st);
		agent_log(AGENT_LOG_INFO, "health command passed", "command=\"%s\"", c->health[i]);
	}
	return 0;
}
