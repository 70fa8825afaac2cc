/*
 * cmd_user.c — `fleetpatch user …`: operator accounts (/api/v1/users).
 * Passwords are read from the terminal with echo off (twice, to catch a
 * typo) or as lines from stdin with --password-stdin, and wiped after use.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "http.h"

#define PASSWORD_MAX 1024

static const char usage[] = "usage: fleetpatch user COMMAND ...\n"
                            "\n"
                            "  list [--page N] [--per-page N] [--all]\n"
                            "  show NAME\n"
                            "  add NAME --role ROLE [--password-stdin]\n"
                            "  passwd NAME [--password-stdin]\n"
                            "  set NAME [--role ROLE] [--disable | --enable]\n"
                            "  delete NAME\n"
                            "\n"
                            "ROLE is viewer, operator, approver or admin. Each command has "
                            "--help.\n";

static const struct cli_col user_cols[] = {
    {"USERNAME", "username", 32}, {"ROLE", "role", 0},          {"DISABLED", "disabled", 0},
    {"CREATED", "created_at", 0}, {"UPDATED", "updated_at", 0}, {NULL, NULL, 0},
};

static void user_path(struct cli_url *u, const char *name)
{
	cli_url_init(u, "/api/v1/users/");
	cli_url_seg(u, name);
}

/* Reads a new password: once from stdin, or twice on the terminal until both match. */
static int new_password(int from_stdin, char pw[PASSWORD_MAX])
{
	char again[PASSWORD_MAX];
	if (cli_read_password("new password: ", from_stdin, pw, PASSWORD_MAX))
		return -1;
	if (from_stdin)
		return 0;
	int rc = cli_read_password("repeat it: ", 0, again, sizeof(again));
	if (rc == 0 && strcmp(pw, again) != 0) {
		cli_error("the passwords differ; nothing was changed");
		rc = -1;
	}
	explicit_bzero(again, sizeof(again));
	return rc;
}

static int user_list(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch user list [--page N] [--per-page N] [--all] [--json]\n"
	    "\n"
	    "Lists operators (admin only).\n";
	static const struct option opts[] = {CLI_COMMON_OPTS, CLI_PAGING_OPTS, CLI_OPTS_END};
	if (cli_args(c, argc, argv, opts, use, 0))
		return c->rc;
	return cli_list(c, "/api/v1/users", user_cols);
}

static int user_one(struct cli *c, int argc, char **argv, const char *method, const char *use)
{
	static const struct option opts[] = {CLI_COMMON_OPTS, CLI_OPTS_END};
	if (cli_args(c, argc, argv, opts, use, 1))
		return c->rc;
	struct cli_url u;
	user_path(&u, argv[optind]);
	return cli_show(c, method, u.s, NULL);
}

static int user_show(struct cli *c, int argc, char **argv)
{
	return user_one(c, argc, argv, "GET",
	                "usage: fleetpatch user show NAME [--json]\n\nShows an operator (admins "
	                "see everyone, others themselves).\n");
}

static int user_delete(struct cli *c, int argc, char **argv)
{
	return user_one(c, argc, argv, "DELETE",
	                "usage: fleetpatch user delete NAME\n\nDeletes an operator (admin "
	                "only).\n");
}

static int user_add(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch user add NAME --role ROLE [--password-stdin] [--json]\n"
	    "\n"
	    "Creates an operator (admin only). The password (12 characters or more) is asked\n"
	    "twice on the terminal, or read as one line from stdin with --password-stdin.\n";
	static const struct option opts[] = {
	    CLI_COMMON_OPTS,
	    {"role", required_argument, NULL, 'r'},
	    {"password-stdin", no_argument, NULL, CLI_OPT_FIRST_OWN},
	    CLI_OPTS_END,
	};
	const char *role = NULL;
	int pw_stdin = 0, o;
	while ((o = cli_opt(c, argc, argv, opts, use)) != -1) {
		if (o == CLI_STOP)
			return c->rc;
		if (o == 'r')
			role = optarg;
		else if (o == CLI_OPT_FIRST_OWN)
			pw_stdin = 1;
	}
	if (cli_operands(c, argc, argv, 1, use))
		return c->rc;
	if (!role)
		return cli_usage_error(use, "--role is required");
	char pw[PASSWORD_MAX];
	if (new_password(pw_stdin, pw))
		return CLI_EXIT_USAGE;
	json_t *body =
	    json_pack("{s:s,s:s,s:s}", "username", argv[optind], "role", role, "password", pw);
	explicit_bzero(pw, sizeof(pw));
	int ex = cli_show(c, "POST", "/api/v1/users", body);
	json_decref(body);
	return ex;
}

static int user_passwd(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch user passwd NAME [--password-stdin]\n"
	    "\n"
	    "Changes a password. For your own account the current password is asked first;\n"
	    "with --password-stdin, stdin then holds two lines: the current password, then\n"
	    "the new one. Every other session of that user ends.\n";
	static const struct option opts[] = {
	    CLI_COMMON_OPTS,
	    {"password-stdin", no_argument, NULL, CLI_OPT_FIRST_OWN},
	    CLI_OPTS_END,
	};
	int pw_stdin = 0, o;
	while ((o = cli_opt(c, argc, argv, opts, use)) != -1) {
		if (o == CLI_STOP)
			return c->rc;
		if (o == CLI_OPT_FIRST_OWN)
			pw_stdin = 1;
	}
	if (cli_operands(c, argc, argv, 1, use))
		return c->rc;
	const char *name = argv[optind];
	json_t *me = NULL;
	int ex = cli_api(c, "GET", "/api/v1/auth/whoami", NULL, NULL, &me);
	if (ex)
		return ex;
	const char *my_name = json_string_value(json_object_get(me, "username"));
	int self = my_name && strcmp(my_name, name) == 0;
	json_decref(me);
	char cur[PASSWORD_MAX] = "", pw[PASSWORD_MAX];
	json_t *body = json_object();
	if (self && cli_read_password("current password: ", pw_stdin, cur, sizeof(cur))) {
		ex = CLI_EXIT_USAGE;
		goto out;
	}
	if (new_password(pw_stdin, pw)) {
		ex = CLI_EXIT_USAGE;
		goto out;
	}
	json_object_set_new(body, "password", json_string(pw));
	if (self)
		json_object_set_new(body, "current_password", json_string(cur));
	struct cli_url u;
	user_path(&u, name);
	ex = cli_call(c, "PATCH", u.s, body, NULL);
	if (ex == CLI_EXIT_OK && !c->json)
		printf("password of %s changed; their other sessions have ended\n", name);
out:
	explicit_bzero(cur, sizeof(cur));
	explicit_bzero(pw, sizeof(pw));
	json_decref(body);
	return ex;
}

static int user_set(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch user set NAME [--role ROLE] [--disable | --enable] [--json]\n"
	    "\n"
	    "Changes an operator's role or disables / enables the account (admin only).\n";
	enum { OPT_DISABLE = CLI_OPT_FIRST_OWN, OPT_ENABLE };
	static const struct option opts[] = {
	    CLI_COMMON_OPTS,
	    {"role", required_argument, NULL, 'r'},
	    {"disable", no_argument, NULL, OPT_DISABLE},
	    {"enable", no_argument, NULL, OPT_ENABLE},
	    CLI_OPTS_END,
	};
	json_t *body = json_object();
	int o, ex = CLI_EXIT_OK, stop = 0;
	while (!stop && ex == CLI_EXIT_OK && (o = cli_opt(c, argc, argv, opts, use)) != -1) {
		if (o == CLI_STOP)
			stop = 1;
		else if (o == 'r')
			json_object_set_new(body, "role", json_string(optarg));
		else if (o == OPT_DISABLE || o == OPT_ENABLE)
			json_object_set_new(body, "disabled", json_boolean(o == OPT_DISABLE));
	}
	struct cli_url u;
	if (stop || ex || cli_operands(c, argc, argv, 1, use)) {
		ex = ex ? ex : c->rc;
	} else if (json_object_size(body) == 0) {
		ex = cli_usage_error(use, "nothing to change: give --role, --disable or --enable");
	} else {
		user_path(&u, argv[optind]);
		ex = cli_show(c, "PATCH", u.s, body);
	}
	json_decref(body);
	return ex;
}

int cli_cmd_user(struct cli *c, int argc, char **argv)
{
	static const struct cli_cmd cmds[] = {
	    {"list", user_list},     {"show", user_show}, {"add", user_add},
	    {"passwd", user_passwd}, {"set", user_set},   {"delete", user_delete},
	};
	return cli_dispatch(c, argc, argv, cmds, sizeof(cmds) / sizeof(cmds[0]), usage);
}
