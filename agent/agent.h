/*
 * agent.h — the subcommands of fleetpatch-agent, the device agent.
 *
 * The device agent itself (enrolment, polling, install, health check) comes
 * with a later issue; for now the binary carries the plain TUF client and
 * the director assignment verifier.
 */
#ifndef FLEETPATCH_AGENT_H
#define FLEETPATCH_AGENT_H

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

#endif
