/*
 * install_module.h — the install-module backend: runs the executable
 * `<module_dir>/<backend>` through the protocol of fleetpatch/module.h for
 * targets whose signed custom.backend names a module (packages, containers,
 * an MCU flashed through a gateway…).
 */
#ifndef FLEETPATCH_AGENT_INSTALL_MODULE_H
#define FLEETPATCH_AGENT_INSTALL_MODULE_H

#include "config.h"
#include "fleetpatch/journal.h"
#include "fleetpatch/module.h"

/* WORKDIR: <state_dir>/module; the payload is WORKDIR/payload. */
int agent_module_paths(const struct agent_config *c, char *workdir, size_t wcap, char *payload,
                       size_t pcap) FP_WUR;

/* 1 when the module exists and is executable. */
int agent_module_present(const struct agent_config *c, const char *backend);

/*
 * Runs `MODULE STATE WORKDIR` with the module time limit, after writing
 * WORKDIR/target.json from rec. For FP_MODULE_NEEDS_REBOOT *reboot gets the
 * answer (may be NULL otherwise). 0, or FP_EIO with the state, the exit
 * status and what went wrong.
 */
int agent_module_run(const struct agent_config *c, const struct fp_journal_rec *rec,
                     enum fp_module_state state, int *reboot, struct fp_err *err) FP_WUR;

#endif
