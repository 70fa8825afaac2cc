/*
 * agent.h — the subcommands of fleetpatch-agent, the device agent.
 *
 * `run` is the device agent (daemon.c); `tuf` a plain TUF client whose
 * refresh the agent reuses; `director-verify` the assignment verifier.
 */
#ifndef FLEETPATCH_AGENT_H
#define FLEETPATCH_AGENT_H

#include "fleetpatch/err.h"

/*
 * `fleetpatch-agent tuf …`: argv[0] is "tuf". Returns the exit status (0
 * when everything succeeded, 1 otherwise) and reports failures on stderr.
 */
int agent_tuf_main(int argc, char **argv);

/*
 * `fleetpatch-agent director-verify …`: argv[0] is "director-verify".
 * Verifies a signed director assignment; 0 valid, 1 refused, 2 usage error.
 */
int agent_director_verify_main(int argc, char **argv);

struct fp_tuf_trusted;

/*
 * The TUF client workflow of `tuf refresh` for the agent: updates the
 * metadata stored in metadata_dir from metadata_url and returns the trusted
 * set (caller frees with fp_tuf_trusted_free()).
 */
int agent_tuf_refresh(const char *metadata_dir, const char *metadata_url,
                      struct fp_tuf_trusted **out, struct fp_err *err);

/* `tuf init`: stores root_path as the trusted root of metadata_dir once it verifies. */
int agent_tuf_init(const char *metadata_dir, const char *root_path, struct fp_err *err);

/*
 * `fleetpatch-agent run …`: the device agent daemon (argv[0] is "run");
 * also reached as `fleetpatch-agent --simulate DIR`. orig_argv is the
 * whole command line, for the re-exec that plays a reboot. Returns the exit status.
 */
int agent_daemon_main(int argc, char **argv, char **orig_argv);

/* `fleetpatch-agent fleet`: many simulated devices in one process (fleet.c). */
int agent_fleet_main(int argc, char **argv);

#endif
