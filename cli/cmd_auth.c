/*
 * cmd_auth.c — `fleetpatch login`, `logout` and `whoami`: operator sessions.
 *
 * login exchanges a username and password for a session token
 * (POST /api/v1/auth/login) and saves it with the server's URL in the
 * credentials file; logout ends the session on the server and removes it.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "http.h"
#include "output.h"

#define CLI_PASSWORD_MAX 1024

int cli_cmd_login(struct cli *c, int argc, char **argv)
{
	static const char usage[] =
	    "usage: fleetpatch login [--username U] [--password-stdin]\n"
	    "\n"
	    "Logs in to the server and saves the session token in the credentials file\n"
	    "(mode 0600). Without --password-stdin the password is asked on the terminal.\n"
	    "\n"
	    "  --username U        the operator (asked on a terminal when missing)\n"
	    "  --password-stdin    read the password as one line from stdin\n";
	static const struct option opts[] = {
	    CLI_COMMON_OPTS,
	    {"username", required_argument, NULL, 'u'},
	    {"password-stdin", no_argument, NULL, CLI_OPT_FIRST_OWN},
	    CLI_OPTS_END,
	};
	char user[128] = "", pw[CLI_PASSWORD_MAX];
	int pw_stdin = 0, o;
	while ((o = cli_opt(c, argc, argv, opts, usage)) != -1) {
		if (o == CLI_STOP)
			return c->rc;
		if (o == 'u')
			snprintf(user, sizeof(user), "%s", optarg);
		else if (o == CLI_OPT_FIRST_OWN)
			pw_stdin = 1;
	}
	if (cli_operands(c, argc, argv, 0, usage))
		return c->rc;
	if (!user[0]) {
		if (pw_stdin || !isatty(STDIN_FILENO))
			return cli_usage_error(usage, "--username is required");
		fputs("username: ", stderr);
		if (!fgets(user, sizeof(user), stdin))
			return cli_usage_error(usage, "no username given");
		user[strcspn(user, "\r\n")] = '\0';
	}
	struct fp_err err = {0};
	if (cli_resolve(c, &err)) {
		cli_error("%s", err.msg);
		return CLI_EXIT_USAGE;
	}
	c->token[0] = '\0'; /* never send an old session along */
	if (cli_read_password("password: ", pw_stdin, pw, sizeof(pw)))
		return CLI_EXIT_USAGE;
	json_t *body = json_pack("{s:s,s:s}", "username", user, "password", pw);
	explicit_bzero(pw, sizeof(pw));
	json_t *out = NULL;
	int ex = cli_call(c, "POST", "/api/v1/auth/login", body, &out);
	json_decref(body);
	if (ex)
		return ex;
	struct cli_creds cr = {0};
	const char *tok = json_string_value(json_object_get(out, "token"));
	if (!tok || strlen(tok) >= sizeof(cr.token)) {
		cli_error("the server's answer holds no usable token");
		ex = CLI_EXIT_UNREACHABLE;
		goto out;
	}
	snprintf(cr.server, sizeof(cr.server), "%s", c->server);
	snprintf(cr.token, sizeof(cr.token), "%s", tok);
	snprintf(cr.username, sizeof(cr.username), "%s", user);
	if (cli_creds_save(&cr, &err)) {
		cli_error("%s", err.msg);
		ex = CLI_EXIT_FAIL;
		goto out;
	}
	if (!c->json)
		printf("logged in to %s as %s (%s); the session expires at %s\n", c->server, user,
		       json_string_value(cli_json_path(out, "user.role")),
		       json_string_value(json_object_get(out, "expires_at")));
out:
	cli_creds_wipe(&cr);
	json_decref(out);
	return ex;
}

int cli_cmd_logout(struct cli *c, int argc, char **argv)
{
	static const char usage[] =
	    "usage: fleetpatch logout\n"
	    "\n"
	    "Ends the session on the server and removes the credentials file.\n";
	static const struct option opts[] = {CLI_COMMON_OPTS, CLI_OPTS_END};
	if (cli_args(c, argc, argv, opts, usage, 0))
		return c->rc;
	struct cli_response rs;
	struct fp_err err = {0};
	struct cli_request rq = {
	    .method = "POST", .path = "/api/v1/auth/logout", .timeout_s = CLI_TOTAL_TIMEOUT};
	int rc = cli_http_do(c, &rq, &rs, &err);
	int ex = CLI_EXIT_OK;
	/* A session the server no longer knows is as good as ended. */
	if (rc || rs.status != 401)
		ex = cli_http_outcome(c, rc, &err, &rs);
	if (ex == CLI_EXIT_OK && c->json)
		cli_print_body(rs.body, rs.len);
	cli_response_free(&rs);
	if (cli_creds_remove(&err)) {
		cli_error("%s", err.msg);
		return CLI_EXIT_FAIL;
	}
	if (ex != CLI_EXIT_OK)
		cli_error("the credentials file was removed, but the session may still be valid on "
		          "the server until it expires");
	else if (!c->json)
		printf("logged out of %s\n", c->server);
	return ex;
}

int cli_cmd_whoami(struct cli *c, int argc, char **argv)
{
	static const char usage[] = "usage: fleetpatch whoami [--json]\n"
	                            "\n"
	                            "Shows the operator and role of the current token.\n";
	static const struct option opts[] = {CLI_COMMON_OPTS, CLI_OPTS_END};
	if (cli_args(c, argc, argv, opts, usage, 0))
		return c->rc;
	return cli_show(c, "GET", "/api/v1/auth/whoami", NULL);
}
