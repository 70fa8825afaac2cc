/*
 * cmd_token.c — `fleetpatch token …`: long-lived API tokens for scripts
 * (/api/v1/tokens). The server shows a new token once; it keeps only a hash.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "http.h"

static const char usage[] = "usage: fleetpatch token COMMAND ...\n"
                            "\n"
                            "  list [--page N] [--per-page N] [--all]\n"
                            "  create NAME [--days N]\n"
                            "  revoke ID\n"
                            "\n"
                            "Each command has --help.\n";

static const struct cli_col token_cols[] = {
    {"ID", "id", 0},
    {"NAME", "name", 32},
    {"KIND", "kind", 0},
    {"USER", "username", 24},
    {"EXPIRES", "expires_at", 0},
    {"LAST USED", "last_used_at", 0},
    {"REVOKED", "revoked_at", 0},
    {NULL, NULL, 0},
};

static int token_list(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch token list [--page N] [--per-page N] [--all] [--json]\n"
	    "\n"
	    "Lists your tokens and sessions (an admin sees everyone's).\n";
	static const struct option opts[] = {CLI_COMMON_OPTS, CLI_PAGING_OPTS, CLI_OPTS_END};
	if (cli_args(c, argc, argv, opts, use, 0))
		return c->rc;
	return cli_list(c, "/api/v1/tokens", token_cols);
}

static int token_create(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch token create NAME [--days N] [--json]\n"
	    "\n"
	    "Creates an API token with your role, valid for N days (default 90). The token\n"
	    "is printed once; use it as FLEETPATCH_TOKEN.\n";
	static const struct option opts[] = {
	    CLI_COMMON_OPTS,
	    {"days", required_argument, NULL, 'd'},
	    CLI_OPTS_END,
	};
	long days = 0;
	int o;
	while ((o = cli_opt(c, argc, argv, opts, use)) != -1) {
		if (o == CLI_STOP)
			return c->rc;
		if (o == 'd' && cli_parse_long(optarg, 1, 36500, &days))
			return cli_usage_error(use, "--days: expected a number of days");
	}
	if (cli_operands(c, argc, argv, 1, use))
		return c->rc;
	json_t *body = json_pack("{s:s}", "name", argv[optind]), *out = NULL;
	if (days)
		json_object_set_new(body, "expires_in_days", json_integer(days));
	int ex = cli_call(c, "POST", "/api/v1/tokens", body, &out);
	if (ex == CLI_EXIT_OK && !c->json) {
		printf("%s\n", json_string_value(json_object_get(out, "token")));
		fprintf(stderr,
		        "token %" JSON_INTEGER_FORMAT
		        " '%s' expires at %s; it is shown only once\n",
		        json_integer_value(json_object_get(out, "id")), argv[optind],
		        json_string_value(json_object_get(out, "expires_at")));
	}
	json_decref(out);
	json_decref(body);
	return ex;
}

static int token_revoke(struct cli *c, int argc, char **argv)
{
	static const char use[] = "usage: fleetpatch token revoke ID [--json]\n"
	                          "\n"
	                          "Revokes a token or session at once.\n";
	static const struct option opts[] = {CLI_COMMON_OPTS, CLI_OPTS_END};
	long id;
	if (cli_args(c, argc, argv, opts, use, 1))
		return c->rc;
	if (cli_parse_long(argv[optind], 1, LONG_MAX, &id))
		return cli_usage_error(use, "'%s' is not a token id", argv[optind]);
	char path[64];
	snprintf(path, sizeof(path), "/api/v1/tokens/%ld", id);
	return cli_show(c, "DELETE", path, NULL);
}

int cli_cmd_token(struct cli *c, int argc, char **argv)
{
	static const struct cli_cmd cmds[] = {
	    {"list", token_list},
	    {"create", token_create},
	    {"revoke", token_revoke},
	};
	return cli_dispatch(c, argc, argv, cmds, sizeof(cmds) / sizeof(cmds[0]), usage);
}
