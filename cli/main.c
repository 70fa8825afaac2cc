/*
 * main.c — `fleetpatch`, the operator CLI: global options and the table of
 * command groups. Each group lives in its own cmd_*.c.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "http.h"
#include "tufcli.h"

static const char usage[] =
    "usage: fleetpatch [--server URL] [--json] [--cacert FILE] [--help] COMMAND ...\n"
    "\n"
    "The operator CLI of fleetpatch. Every command has --help.\n"
    "\n"
    "Commands:\n"
    "  login, logout, whoami   start, end and show a session\n"
    "  device ...              list, show, add, update, delete, accept, reject devices;\n"
    "                          upload a device's SBOM\n"
    "  group ...               list, show, create, update, delete groups; members\n"
    "  import ...              import devices from csv, json, nmap, dnsmasq, dhcpd, mdm files\n"
    "  user ...                list, show, add, passwd, set, delete operators\n"
    "  token ...               list, create, revoke API tokens\n"
    "  audit ...               list, export and verify the audit log\n"
    "  feeds ...               import NVD, KEV and EPSS feeds; show what they hold\n"
    "  vuln ...                findings, CVEs, assessments, VEX, model CPE mapping\n"
    "  key ...                 generate offline signing keys (encrypted), show key ids\n"
    "  root ...                write a new or rotated root metadata version to sign\n"
    "  metadata ...            sign, merge, verify and push TUF metadata files\n"
    "  release ...             upload artifacts, create a release (targets version), publish it\n"
    "  repo ...                the server's repository: keys, status, a full client check\n"
    "  artifact ...            build, inspect and apply artifacts and deltas (offline)\n"
    "  rollout ...             staged rollouts: create, approve, start, pause, resume, abort,\n"
    "                          revert; status with per-phase counts and a live progress bar\n"
    "  version                 print the CLI's version\n"
    "\n"
    "Options (accepted before or after the command):\n"
    "  --server URL     the server (default: $FLEETPATCH_SERVER, then the one saved by\n"
    "                   'fleetpatch login', then " CLI_DEFAULT_SERVER ")\n"
    "  --json           print the server's JSON responses exactly, for scripts\n"
    "  --cacert FILE    trust the CA certificates in FILE for HTTPS\n"
    "  --help           print help and exit\n"
    "\n"
    "The token comes from $FLEETPATCH_TOKEN, else from the credentials file written by\n"
    "'fleetpatch login' ($XDG_CONFIG_HOME/fleetpatch/credentials.json or\n"
    "~/.config/fleetpatch/credentials.json).\n"
    "\n"
    "Exit codes:\n"
    "  0  success\n"
    "  1  the server refused the request (4xx) or the operation failed\n"
    "  2  usage error (bad arguments)\n"
    "  3  cannot reach the server, transport error, or a server error (5xx)\n"
    "  4  authentication needed or the token was rejected (401/403)\n";

static int cmd_version(struct cli *c, int argc, char **argv)
{
	static const char vusage[] = "usage: fleetpatch version [--json]\n"
	                             "\n"
	                             "Prints the version of this CLI and of its libcurl.\n";
	static const struct option opts[] = {CLI_COMMON_OPTS, CLI_OPTS_END};
	int o;
	while ((o = cli_opt(c, argc, argv, opts, vusage)) != -1)
		if (o == CLI_STOP)
			return c->rc;
	if (cli_operands(c, argc, argv, 0, vusage))
		return c->rc;
	if (c->json)
		printf("{\"version\":\"%s\",\"libcurl\":\"%s\"}\n", FLEETPATCH_VERSION,
		       curl_version_info(CURLVERSION_NOW)->version);
	else
		printf("fleetpatch %s (libcurl %s)\n", FLEETPATCH_VERSION,
		       curl_version_info(CURLVERSION_NOW)->version);
	return CLI_EXIT_OK;
}

static const struct cli_cmd commands[] = {
    {"login", cli_cmd_login},     {"logout", cli_cmd_logout}, {"whoami", cli_cmd_whoami},
    {"device", cli_cmd_device},   {"group", cli_cmd_group},   {"import", cli_cmd_import},
    {"user", cli_cmd_user},       {"token", cli_cmd_token},   {"audit", cli_cmd_audit},
    {"feeds", cli_cmd_feeds},     {"vuln", cli_cmd_vuln},     {"version", cmd_version},
    {"key", cli_cmd_key},         {"root", cli_cmd_root},     {"metadata", cli_cmd_metadata},
    {"release", cli_cmd_release}, {"repo", cli_cmd_repo},     {"artifact", cli_cmd_artifact},
    {"rollout", cli_cmd_rollout},
};

int main(int argc, char **argv)
{
	struct cli c = {0};
	c.tty_out = isatty(STDOUT_FILENO);
	c.tty_err = isatty(STDERR_FILENO);
	static const struct option opts[] = {CLI_COMMON_OPTS, CLI_OPTS_END};
	/* Global options stop at the command ("+"), which parses its own. */
	optind = 1;
	opterr = 0;
	int o;
	while ((o = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (o) {
		case CLI_OPT_HELP: fputs(usage, stdout); return CLI_EXIT_OK;
		case CLI_OPT_JSON: c.json = 1; break;
		case CLI_OPT_SERVER: c.server_opt = optarg; break;
		case CLI_OPT_CACERT: c.cacert = optarg; break;
		case ':':
			return cli_usage_error(usage, "option '%s' needs a value",
			                       argv[optind - 1]);
		default: return cli_usage_error(usage, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error(usage, "a command is required");
	const char *name = argv[optind];
	const struct cli_cmd *cmd = NULL;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(name, commands[i].name) == 0)
			cmd = &commands[i];
	if (strcmp(name, "help") == 0) {
		fputs(usage, stdout);
		return CLI_EXIT_OK;
	}
	if (!cmd)
		return cli_usage_error(usage, "unknown command '%s'", name);
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		cli_error("cannot initialise libcurl");
		return CLI_EXIT_FAIL;
	}
	int rc = cmd->fn(&c, argc - optind, argv + optind);
	fflush(stdout);
	if (ferror(stdout)) {
		cli_error("cannot write the output");
		rc = rc ? rc : CLI_EXIT_FAIL;
	}
	cli_http_cleanup(&c);
	explicit_bzero(c.token, sizeof(c.token));
	curl_global_cleanup();
	return rc;
}
