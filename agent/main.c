/*
 * main.c — `fleetpatch-agent`, the device agent: dispatches subcommands.
 *
 * `run` (or `--simulate DIR` / `--config FILE` directly) is the agent
 * daemon; `fleet` many simulated devices in one process; `tuf` a plain TUF client for the
 * tuf-conformance protocol; `director-verify` the assignment verifier.
 */
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "fetch.h"

static const char usage[] =
    "usage: fleetpatch-agent COMMAND ...\n"
    "\n"
    "The fleetpatch device agent.\n"
    "\n"
    "       fleetpatch-agent --simulate DIR [--once]   (a simulated device)\n"
    "\n"
    "Commands:\n"
    "  run ...     the agent daemon (see 'run --help')\n"
    "  fleet ...   many simulated devices in one process (see 'fleet --help')\n"
    "  tuf ...     a plain TUF 1.0 client: init, refresh, download (see 'tuf --help')\n"
    "  director-verify ...  verify a signed director assignment (see its --help)\n"
    "  version     print the agent's version\n";

int main(int argc, char **argv)
{
	struct fp_err err = {0};
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 1 : 0;
	}
	if (strcmp(argv[1], "version") == 0) {
		printf("fleetpatch-agent %s\n", FLEETPATCH_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "run") == 0)
		return agent_daemon_main(argc - 1, argv + 1, argv);
	if (strcmp(argv[1], "fleet") == 0)
		return agent_fleet_main(argc - 1, argv + 1);
	if (strncmp(argv[1], "--simulate", 10) == 0 || strncmp(argv[1], "--config", 8) == 0)
		return agent_daemon_main(argc, argv, argv);
	if (strcmp(argv[1], "director-verify") == 0)
		return agent_director_verify_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "tuf") != 0) {
		fprintf(stderr, "fleetpatch-agent: unknown command \"%s\"\n\n%s", argv[1], usage);
		return 1;
	}
	if (agent_fetch_init(&err) != 0) {
		fprintf(stderr, "fleetpatch-agent: %s\n", err.msg);
		return 1;
	}
	int rc = agent_tuf_main(argc - 1, argv + 1);
	agent_fetch_cleanup();
	return rc;
}
