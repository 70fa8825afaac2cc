/*
 * health.h — the health check after a boot of a new slot: the configured
 * commands, each with a time limit, all of which must exit 0. In
 * --simulate DIR the file DIR/health-fail makes the check fail.
 */
#ifndef FLEETPATCH_AGENT_HEALTH_H
#define FLEETPATCH_AGENT_HEALTH_H

#include "config.h"

/* 0 when healthy; FP_EIO with the reason (which command, its status) otherwise. */
int agent_health_check(const struct agent_config *c, struct fp_err *err) FP_WUR;

#endif
