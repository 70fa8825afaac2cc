/*
 * cmd_import.c — `fleetpatch import …`: discovery and inventory imports.
 *
 * An import uploads the file as is (POST /api/v1/imports?format=…), which
 * the server answers with a job (202); the CLI then polls the job every
 * IMPORT_POLL_MS until it has succeeded or failed, drawing a progress bar on
 * a terminal, and prints the report.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "http.h"
#include "output.h"

#define IMPORT_FILE_MAX    (64L << 20) /* bytes of an upload; the server's cap too */
#define IMPORT_POLL_MS     200
#define IMPORT_REJECTS_MAX 20 /* rejects printed without --json */

static const char usage[] =
    "usage: fleetpatch import FILE --format FORMAT [--dry-run] [--no-wait] [--json]\n"
    "       fleetpatch import list [--page N] [--per-page N] [--all] [--json]\n"
    "       fleetpatch import show ID [--json]\n"
    "\n"
    "Imports devices from a file, matching existing devices by identity so that a\n"
    "re-import updates them. The file is applied all or nothing.\n"
    "\n"
    "  --format FORMAT   csv, json, nmap, dnsmasq, dhcpd or mdm\n"
    "  --dry-run         parse and check everything, change nothing\n"
    "  --no-wait         print the job and return at once\n"
    "\n"
    "Exits 1 when the import job failed.\n";

static const struct cli_col import_cols[] = {
    {"ID", "id", 0},
    {"FORMAT", "format", 0},
    {"STATUS", "status", 0},
    {"DRY RUN", "dry_run", 0},
    {"BY", "created_by", 24},
    {"CREATED", "created_at", 0},
    {"ROWS", "report.rows", 0},
    {"NEW", "report.created", 0},
    {"UPDATED", "report.updated", 0},
    {"SAME", "report.unchanged", 0},
    {NULL, NULL, 0},
};

/* Reads path into memory, refusing files over IMPORT_FILE_MAX before reading them. */
static int read_file(const char *path, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	*out = NULL;
	if (fd < 0) {
		cli_error("cannot open %s: %s", path, strerror(errno));
		return CLI_EXIT_FAIL;
	}
	int ex = CLI_EXIT_FAIL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		cli_error("%s is not a regular file", path);
		goto out;
	}
	if (st.st_size > IMPORT_FILE_MAX) {
		cli_error("%s is larger than %ld MiB, the largest import; split it", path,
		          IMPORT_FILE_MAX >> 20);
		goto out;
	}
	if (st.st_size == 0) {
		cli_error("%s is empty", path);
		goto out;
	}
	char *buf = malloc((size_t)st.st_size + 1);
	size_t n = 0;
	while (buf && n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			break;
		}
		n += (size_t)r;
	}
	if (!buf || n != (size_t)st.st_size) {
		cli_error("cannot read %s: %s", path, buf ? strerror(errno) : "out of memory");
		free(buf);
		goto out;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	ex = CLI_EXIT_OK;
out:
	close(fd);
	return ex;
}

/* Prints the outcome of a finished job; returns 1 when it failed, else 0. */
static int print_report(const json_t *job, int all_rejects)
{
	json_int_t id = json_integer_value(json_object_get(job, "id"));
	const char *status = json_string_value(json_object_get(job, "status"));
	const json_t *rep = json_object_get(job, "report");
	int dry = json_is_true(json_object_get(job, "dry_run"));
	if (!status || strcmp(status, "succeeded") != 0 || !json_is_object(rep)) {
		const char *e = json_string_value(json_object_get(job, "error"));
		if (status && strcmp(status, "failed") == 0)
			cli_error("import %" JSON_INTEGER_FORMAT " failed: %s; nothing was changed",
			          id, e ? e : "no reason given");
		else
			printf("import %" JSON_INTEGER_FORMAT ": %s\n", id, status ? status : "?");
		return status && strcmp(status, "failed") == 0;
	}
	const json_t *rejects = json_object_get(rep, "rejected");
	printf("import %" JSON_INTEGER_FORMAT " succeeded%s: %" JSON_INTEGER_FORMAT " rows\n", id,
	       dry ? " (dry run: nothing was changed)" : "",
	       json_integer_value(json_object_get(rep, "rows")));
	printf("  created:   %" JSON_INTEGER_FORMAT "\n",
	       json_integer_value(json_object_get(rep, "created")));
	printf("  updated:   %" JSON_INTEGER_FORMAT "\n",
	       json_integer_value(json_object_get(rep, "updated")));
	printf("  unchanged: %" JSON_INTEGER_FORMAT "\n",
	       json_integer_value(json_object_get(rep, "unchanged")));
	printf("  rejected:  %zu\n", json_array_size(rejects));
	size_t i;
	json_t *r;
	char reason[1024];
	json_array_foreach(rejects, i, r)
	{
		if (!all_rejects && i == IMPORT_REJECTS_MAX) {
			printf("  … and %zu more rejects (see them all with 'import show "
			       "%" JSON_INTEGER_FORMAT " --json')\n",
			       json_array_size(rejects) - i, id);
			break;
		}
		cli_format_value(json_object_get(r, "reason"), reason, sizeof(reason));
		printf("    line %" JSON_INTEGER_FORMAT ": %s\n",
		       json_integer_value(json_object_get(r, "line")), reason);
	}
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Polls job id until it is finished; *out is the final job (caller owns). */
static int wait_job(struct cli *c, json_int_t id, struct cli_response *rs, json_t **out)
{
	char path[64];
	snprintf(path, sizeof(path), "/api/v1/imports/%" JSON_INTEGER_FORMAT, id);
	for (;;) {
		int ex = cli_api(c, "GET", path, NULL, rs, out);
		if (ex)
			return ex;
		const char *st = json_string_value(json_object_get(*out, "status"));
		if (st && (strcmp(st, "succeeded") == 0 || strcmp(st, "failed") == 0))
			return CLI_EXIT_OK;
		const json_t *p = json_object_get(*out, "progress");
		if (c->tty_err && json_is_object(p))
			cli_progress("applying",
			             (double)json_integer_value(json_object_get(p, "done")),
			             (double)json_integer_value(json_object_get(p, "total")));
		cli_response_free(rs);
		json_decref(*out);
		*out = NULL;
		sleep_ms(IMPORT_POLL_MS);
	}
}

static int import_file(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    CLI_COMMON_OPTS,
	    {"format", required_argument, NULL, 'f'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"no-wait", no_argument, NULL, CLI_OPT_FIRST_OWN},
	    CLI_OPTS_END,
	};
	static const char *const formats[] = {"csv", "json", "nmap", "dnsmasq", "dhcpd", "mdm"};
	const char *format = NULL;
	int dry = 0, no_wait = 0, o;
	while ((o = cli_opt(c, argc, argv, opts, usage)) != -1) {
		if (o == CLI_STOP)
			return c->rc;
		if (o == 'f')
			format = optarg;
		else if (o == 'n')
			dry = 1;
		else if (o == CLI_OPT_FIRST_OWN)
			no_wait = 1;
	}
	if (cli_operands(c, argc, argv, 1, usage))
		return c->rc;
	int known = 0;
	for (size_t i = 0; format && i < sizeof(formats) / sizeof(formats[0]); i++)
		known |= strcmp(format, formats[i]) == 0;
	if (!known)
		return cli_usage_error(usage,
		                       "--format: one of csv, json, nmap, dnsmasq, dhcpd, mdm "
		                       "is required");
	char *data = NULL;
	size_t len = 0;
	int ex = read_file(argv[optind], &data, &len);
	if (ex)
		return ex;
	struct cli_url u;
	cli_url_init(&u, "/api/v1/imports");
	cli_url_query(&u, "format", format);
	cli_url_query(&u, "dry_run", dry ? "true" : "false");
	struct cli_request rq = {
	    .method = "POST",
	    .path = u.s,
	    .ctype = "application/octet-stream",
	    .body = data,
	    .body_len = len,
	    .timeout_s = 0, /* a large upload on a slow link may take long */
	    .upload_bar = 1,
	};
	struct cli_response rs = {0};
	struct fp_err err = {0};
	json_t *job = NULL;
	int rc = cli_http_do(c, &rq, &rs, &err);
	free(data);
	if ((ex = cli_http_outcome(c, rc, &err, &rs)))
		goto out;
	job = json_loadb(rs.body, rs.len, 0, NULL);
	json_int_t id = json_integer_value(json_object_get(job, "id"));
	if (id <= 0) {
		cli_error("the server's answer names no import job");
		ex = CLI_EXIT_UNREACHABLE;
		goto out;
	}
	if (!no_wait) {
		cli_response_free(&rs);
		json_decref(job);
		job = NULL;
		ex = wait_job(c, id, &rs, &job);
		if (c->tty_err)
			cli_progress_end();
		if (ex)
			goto out;
	}
	if (c->json)
		cli_print_body(rs.body, rs.len);
	else if (no_wait)
		printf("import %" JSON_INTEGER_FORMAT " queued; follow it with 'fleetpatch import "
		       "show %" JSON_INTEGER_FORMAT "'\n",
		       id, id);
	if (!no_wait &&
	    (c->json ? strcmp(json_string_value(json_object_get(job, "status")), "failed") == 0
	             : print_report(job, 0)))
		ex = CLI_EXIT_FAIL;
out:
	cli_response_free(&rs);
	json_decref(job);
	return ex;
}

static int import_list(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch import list [--page N] [--per-page N] [--all] [--json]\n"
	    "\n"
	    "Lists imports, newest first.\n";
	static const struct option opts[] = {CLI_COMMON_OPTS, CLI_PAGING_OPTS, CLI_OPTS_END};
	if (cli_args(c, argc, argv, opts, use, 0))
		return c->rc;
	return cli_list(c, "/api/v1/imports", import_cols);
}

static int import_show(struct cli *c, int argc, char **argv)
{
	static const char use[] = "usage: fleetpatch import show ID [--json]\n"
	                          "\n"
	                          "Shows an import job with its report and every reject.\n";
	static const struct option opts[] = {CLI_COMMON_OPTS, CLI_OPTS_END};
	long id;
	if (cli_args(c, argc, argv, opts, use, 1))
		return c->rc;
	if (cli_parse_long(argv[optind], 1, LONG_MAX, &id))
		return cli_usage_error(use, "'%s' is not an import id", argv[optind]);
	char path[64];
	snprintf(path, sizeof(path), "/api/v1/imports/%ld", id);
	json_t *job = NULL;
	int ex = cli_call(c, "GET", path, NULL, &job);
	if (ex == CLI_EXIT_OK && !c->json) {
		json_t *head = json_deep_copy(job);
		json_object_del(head, "report");
		json_object_del(head, "progress");
		cli_print_object(head);
		json_decref(head);
		if (json_is_object(json_object_get(job, "report")))
			print_report(job, 1);
	}
	json_decref(job);
	return ex;
}

int cli_cmd_import(struct cli *c, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return import_list(c, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "show") == 0)
		return import_show(c, argc - 1, argv + 1);
	return import_file(c, argc, argv);
}
