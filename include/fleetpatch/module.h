/*
 * module.h — the install-module protocol of the device agent, its pure
 * part: state names, module names, and what a module may answer.
 *
 * An install module is an executable, `<module_dir>/<backend>`, that the
 * agent runs as `MODULE STATE WORKDIR` for targets whose signed
 * custom.backend names it (docs/design/agent.md). WORKDIR holds `payload`
 * (the target's bytes, verified against the signed length and hash) and
 * `target.json` (name, version, sha256, length). Every state must be
 * idempotent: after a power cut the agent runs the same state again.
 * Exit status 0 is success; any other status a failure.
 */
#ifndef FLEETPATCH_MODULE_H
#define FLEETPATCH_MODULE_H

#include <stddef.h>

#include "fleetpatch/err.h"

#define FP_MODULE_NAME_MAX   63   /* bytes of a module (backend) name */
#define FP_MODULE_ANSWER_MAX 4096 /* bytes of a module's output that are read */

enum fp_module_state {
	FP_MODULE_DOWNLOAD,     /* the payload is in WORKDIR; prepare it */
	FP_MODULE_INSTALL,      /* install it (packages, container, flash an MCU…) */
	FP_MODULE_NEEDS_REBOOT, /* print "Yes" or "No": must the device reboot? */
	FP_MODULE_COMMIT,       /* the health check passed: make it permanent */
	FP_MODULE_ROLLBACK,     /* undo Install */
	FP_MODULE_CLEANUP,      /* remove what Download and Install left behind */
	FP_MODULE_STATE_COUNT
};

/* "Download", "Install", "NeedsReboot", "Commit", "Rollback", "Cleanup". */
const char *fp_module_state_name(enum fp_module_state s);

/*
 * 1 when name can be a module: 1 to FP_MODULE_NAME_MAX bytes of
 * [a-z0-9_-], not starting with '-' (it becomes a file name in module_dir),
 * and not "ab" (the built-in A/B image backend).
 */
int fp_module_name_valid(const char *name);

/*
 * Parses the output of NeedsReboot: "Yes" or "No", optionally followed by
 * whitespace. *reboot gets 1 or 0. FP_EINVAL for anything else (the
 * message quotes a bounded part of it), FP_ETOOBIG over the cap.
 */
int fp_module_parse_needs_reboot(const char *out, size_t len, int *reboot,
                                 struct fp_err *err) FP_WUR;

#endif
