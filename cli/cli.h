/*
 * cli.h — what every part of the operator CLI `fleetpatch` shares: the
 * invocation context, exit codes, option parsing with the options every
 * command accepts, subcommand dispatch, and the listing and object helpers
 * that turn an API call into output.
 *
 * A command is a function `int cmd(struct cli *c, int argc, char **argv)`
 * that returns the process exit code; argv[0] is the command's own name.
 */
#ifndef FP_CLI_CLI_H
#define FP_CLI_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stddef.h>

#include "fleetpatch/err.h"

/* Exit codes, documented in `fleetpatch --help` and docs/cli.md. */
enum {
	CLI_EXIT_OK = 0,          /* success */
	CLI_EXIT_FAIL = 1,        /* the server refused (4xx) or the operation failed */
	CLI_EXIT_USAGE = 2,       /* bad arguments */
	CLI_EXIT_UNREACHABLE = 3, /* transport error, cannot reach the server, or a 5xx */
	CLI_EXIT_AUTH = 4,        /* authentication needed or token rejected (401/403) */
};

#define CLI_DEFAULT_SERVER "http://127.0.0.1:8080"
#define CLI_SERVER_MAX     1024 /* bytes in a server URL */
#define CLI_TOKEN_MAX      512  /* bytes in an API token */
#define CLI_PER_PAGE_MAX   1000 /* the server's largest page */

struct cli_http;     /* http.h */
struct cli_response; /* http.h */

/* One invocation of the CLI. Strings are borrowed from argv or the environment. */
struct cli {
	const char *server_opt; /* --server */
	const char *cacert;     /* --cacert */
	int json;               /* --json: print the server's JSON bodies */
	int tty_out;            /* stdout is a terminal: truncate table cells */
	int tty_err;            /* stderr is a terminal: draw progress bars */
	/* Paging of listings (--page, --per-page, --all). */
	long page, per_page;
	int all;
	/* Resolved on the first request (cli_resolve). */
	int resolved;
	char server[CLI_SERVER_MAX];
	char token[CLI_TOKEN_MAX];
	struct cli_http *http;
	int rc;          /* the exit code when cli_opt returns CLI_STOP */
	char **opt_argv; /* the argv cli_opt is parsing */
};

/*
 * Picks the server URL and token once (precedence in docs/cli.md). FP_EINVAL
 * when the URL is not http:// or https://.
 */
int cli_resolve(struct cli *c, struct fp_err *err) FP_WUR;

/* ---- option parsing ---- */

/* Option codes of the options every command accepts. */
enum {
	CLI_OPT_HELP = 'h',
	CLI_OPT_JSON = 0x100,
	CLI_OPT_SERVER,
	CLI_OPT_CACERT,
	CLI_OPT_PAGE,
	CLI_OPT_PER_PAGE,
	CLI_OPT_ALL,
	CLI_OPT_FIRST_OWN, /* commands number their own long-only options from here */
};

#define CLI_COMMON_OPTS                                                                            \
	{"help", no_argument, NULL, CLI_OPT_HELP}, {"json", no_argument, NULL, CLI_OPT_JSON},      \
	    {"server", required_argument, NULL, CLI_OPT_SERVER},                                   \
	{                                                                                          \
		"cacert", required_argument, NULL, CLI_OPT_CACERT                                  \
	}
#define CLI_PAGING_OPTS                                                                            \
	{"page", required_argument, NULL, CLI_OPT_PAGE},                                           \
	    {"per-page", required_argument, NULL, CLI_OPT_PER_PAGE},                               \
	{                                                                                          \
		"all", no_argument, NULL, CLI_OPT_ALL                                              \
	}
#define CLI_OPTS_END                                                                               \
	{                                                                                          \
		NULL, 0, NULL, 0                                                                   \
	}

/* cli_opt's answer when the command must return c->rc at once. */
#define CLI_STOP (-2)

/*
 * Returns the next option of the command (its code; optarg as getopt sets it),
 * -1 after the last one (optind is then the first operand), or CLI_STOP after
 * --help (usage printed to stdout, c->rc = 0) or a bad option (message and a
 * hint on stderr, c->rc = 2). The common and paging options are handled here.
 * usage is the command's help text; its first line is the synopsis.
 */
int cli_opt(struct cli *c, int argc, char **argv, const struct option *opts, const char *usage);

/* Prints "fleetpatch: <message>" and a --help hint to stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Checks that exactly n operands follow the options; else a usage error (c->rc). */
int cli_operands(struct cli *c, int argc, char **argv, int n, const char *usage);

/*
 * For commands whose options are all handled by cli_opt: parses them and
 * checks for n operands. Non-zero means "return c->rc" (help shown, or a
 * usage error).
 */
int cli_args(struct cli *c, int argc, char **argv, const struct option *opts, const char *usage,
             int n);

/* Parses a decimal integer in [min, max]; -1 when s is not one. */
int cli_parse_long(const char *s, long min, long max, long *out);

/* Prints "fleetpatch: <message>" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- subcommands ---- */

struct cli_cmd {
	const char *name;
	int (*fn)(struct cli *c, int argc, char **argv);
};

/*
 * Runs the subcommand named by argv[1] among cmds (n of them) for a command
 * group; `fleetpatch GROUP --help` prints usage and exits 0, an unknown or
 * missing subcommand is a usage error.
 */
int cli_dispatch(struct cli *c, int argc, char **argv, const struct cli_cmd *cmds, size_t n,
                 const char *usage);

/* ---- API calls with output ---- */

/* A column of a table: title, the JSON member ("a.b" reaches into objects), widest cell. */
struct cli_col {
	const char *title;
	const char *key;
	int max;
};

/*
 * Lists a paged collection: GET path (which may already carry a query) with
 * the paging of c, printed as a table of cols, or with --json as the
 * server's body (with --all one merged {"items":[…],"total":N}). Returns an
 * exit code.
 */
int cli_list(struct cli *c, const char *path, const struct cli_col *cols);

/*
 * Sends method path with body (borrowed, may be NULL) and prints the answer:
 * with --json the server's body, else its members as `key: value` lines.
 * Returns an exit code.
 */
int cli_show(struct cli *c, const char *method, const char *path, const json_t *body);

/*
 * Sends method path with body (borrowed, may be NULL; sent as JSON) and, on a
 * 2xx answer, gives its parsed JSON in *out (caller owns; out may be NULL)
 * and the raw response in *rs (when rs is not NULL; free it with
 * cli_response_free). Errors are printed. Returns an exit code.
 */
int cli_api(struct cli *c, const char *method, const char *path, const json_t *body,
            struct cli_response *rs, json_t **out);

/* cli_api, then with --json prints the server's body as is. */
int cli_call(struct cli *c, const char *method, const char *path, const json_t *body, json_t **out);

/*
 * Reads the regular file `file` into memory (NUL-terminated; caller frees),
 * refusing an empty file and one over max bytes before reading it. Errors
 * are printed. Returns an exit code.
 */
int cli_read_file(const char *file, size_t max, char **out, size_t *len);

/*
 * POSTs the file `file` (at most max bytes) as is to path, with an upload
 * bar on a terminal and no total time limit; then like cli_api.
 */
int cli_upload(struct cli *c, const char *path, const char *file, size_t max,
               struct cli_response *rs, json_t **out);

/*
 * Polls GET /api/v1/jobs/{id} until the job has succeeded or failed, drawing
 * a progress bar labelled label on a terminal while the server reports
 * progress; then like cli_api with the final job. The job's own failure is
 * not an error here: look at its "status".
 */
int cli_wait_job(struct cli *c, json_int_t id, const char *label, struct cli_response *rs,
                 json_t **out);

/* ---- command groups (cmd_*.c) ---- */

int cli_cmd_login(struct cli *c, int argc, char **argv);
int cli_cmd_logout(struct cli *c, int argc, char **argv);
int cli_cmd_whoami(struct cli *c, int argc, char **argv);
int cli_cmd_device(struct cli *c, int argc, char **argv);
int cli_cmd_group(struct cli *c, int argc, char **argv);
int cli_cmd_import(struct cli *c, int argc, char **argv);
int cli_cmd_user(struct cli *c, int argc, char **argv);
int cli_cmd_token(struct cli *c, int argc, char **argv);
int cli_cmd_audit(struct cli *c, int argc, char **argv);
int cli_cmd_feeds(struct cli *c, int argc, char **argv);
int cli_cmd_vuln(struct cli *c, int argc, char **argv);
int cli_cmd_artifact(struct cli *c, int argc, char **argv);
int cli_cmd_rollout(struct cli *c, int argc, char **argv);

/* Reads a password: one line from stdin, or a prompt with echo off on a terminal. */
int cli_read_password(const char *prompt, int from_stdin, char *out, size_t outsz);

#endif
