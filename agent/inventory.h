/*
 * inventory.h — what the agent reports about its device: identity fields,
 * the firmware version it really runs, installed packages (dpkg, opkg or
 * rpm database), components of an optional SBOM file, and telemetry.
 */
#ifndef FLEETPATCH_AGENT_INVENTORY_H
#define FLEETPATCH_AGENT_INVENTORY_H

#include <jansson.h>

#include "config.h"
#include "fleetpatch/journal.h"

#define AGENT_PACKAGES_MAX 4096        /* components reported (the server's cap) */
#define AGENT_PKG_DB_MAX   (64u << 20) /* bytes of a dpkg/opkg status file */

/*
 * Builds the inventory object for PUT /api/v1/device/inventory. running
 * is the booted slot; rec the journal's state (versions, telemetry, the
 * last failure). Caller owns *out.
 */
int agent_inventory_build(const struct agent_config *c, const struct fp_journal_rec *rec,
                          int running, json_t **out, struct fp_err *err) FP_WUR;

#endif
