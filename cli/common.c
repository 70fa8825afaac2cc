/*
 * common.c — the plumbing every command shares: choosing the server and
 * token, option parsing, subcommand dispatch, API calls that print their
 * errors, paged listings, and reading passwords.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "http.h"
#include "output.h"

#define LIST_ALL_MAX 1000000 /* items that --all collects */
#define JOB_POLL_MS  200     /* between polls of a running job */

void cli_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("fleetpatch: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- server and token ---- */

int cli_resolve(struct cli *c, struct fp_err *err)
{
	if (c->resolved)
		return 0;
	struct cli_creds cr;
	struct fp_err cerr = {0};
	int have = cli_creds_load(&cr, &cerr) == 0;
	if (!have && cerr.code != FP_ENOTFOUND)
		cli_error("%s", cerr.msg); /* a warning: carry on without it */
	const char *server = c->server_opt;
	if (!server || !*server)
		server = getenv("FLEETPATCH_SERVER");
	if ((!server || !*server) && have && cr.server[0])
		server = cr.server;
	if (!server || !*server)
		server = CLI_DEFAULT_SERVER;
	if (strncmp(server, "http://", 7) != 0 && strncmp(server, "https://", 8) != 0) {
		cli_creds_wipe(&cr);
		return fp_err_set(err, FP_EINVAL,
		                  "server '%.200s': expected a URL like http://HOST:PORT or "
		                  "https://HOST",
		                  server);
	}
	if (strlen(server) >= sizeof(c->server)) {
		cli_creds_wipe(&cr);
		return fp_err_set(err, FP_EINVAL, "the server URL is too long");
	}
	snprintf(c->server, sizeof(c->server), "%s", server);
	size_t n = strlen(c->server);
	while (n > 0 && c->server[n - 1] == '/')
		c->server[--n] = '\0';
	const char *tok = getenv("FLEETPATCH_TOKEN");
	/* A saved session is only ever sent to the server it came from. */
	if ((!tok || !*tok) && have && strcmp(cr.server, c->server) == 0)
		tok = cr.token;
	if (tok && strlen(tok) < sizeof(c->token))
		snprintf(c->token, sizeof(c->token), "%s", tok);
	cli_creds_wipe(&cr);
	c->resolved = 1;
	return 0;
}

/* ---- options ---- */

int cli_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int cli_usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("fleetpatch: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	/* The synopsis is the usage text's first line. */
	const char *nl = strchr(usage, '\n');
	fprintf(stderr, "%.*s\nTry --help for more.\n", nl ? (int)(nl - usage) : (int)strlen(usage),
	        usage);
	return CLI_EXIT_USAGE;
}

/* The short options of opts as a getopt string (":" first, to report missing arguments). */
static void short_opts(const struct option *opts, char *out, size_t outsz)
{
	size_t o = 0;
	out[o++] = ':';
	for (; opts->name && o + 3 < outsz; opts++) {
		if (opts->val <= 0 || opts->val >= 128 || !isalnum(opts->val))
			continue;
		out[o++] = (char)opts->val;
		if (opts->has_arg == required_argument)
			out[o++] = ':';
	}
	out[o] = '\0';
}

int cli_opt(struct cli *c, int argc, char **argv, const struct option *opts, const char *usage)
{
	char so[64];
	if (c->opt_argv != argv) {
		c->opt_argv = argv;
		optind = 0; /* glibc: start over with a new argv */
	}
	opterr = 0;
	short_opts(opts, so, sizeof(so));
	for (;;) {
		int o = getopt_long(argc, argv, so, opts, NULL);
		switch (o) {
		case CLI_OPT_HELP:
			fputs(usage, stdout);
			c->rc = CLI_EXIT_OK;
			return CLI_STOP;
		case CLI_OPT_JSON: c->json = 1; continue;
		case CLI_OPT_SERVER: c->server_opt = optarg; continue;
		case CLI_OPT_CACERT: c->cacert = optarg; continue;
		case CLI_OPT_ALL: c->all = 1; continue;
		case CLI_OPT_PAGE:
			if (cli_parse_long(optarg, 1, 1000000000L, &c->page) == 0)
				continue;
			c->rc = cli_usage_error(usage, "--page: expected a number from 1");
			return CLI_STOP;
		case CLI_OPT_PER_PAGE:
			if (cli_parse_long(optarg, 1, CLI_PER_PAGE_MAX, &c->per_page) == 0)
				continue;
			c->rc = cli_usage_error(usage, "--per-page: expected a number from 1 to %d",
			                        CLI_PER_PAGE_MAX);
			return CLI_STOP;
		case ':':
			c->rc =
			    cli_usage_error(usage, "option '%s' needs a value", argv[optind - 1]);
			return CLI_STOP;
		case '?':
			if (optopt)
				c->rc = cli_usage_error(usage, "unknown option '-%c'", optopt);
			else
				c->rc =
				    cli_usage_error(usage, "unknown option '%s'", argv[optind - 1]);
			return CLI_STOP;
		default: return o;
		}
	}
}

int cli_operands(struct cli *c, int argc, char **argv, int n, const char *usage)
{
	if (argc - optind == n)
		return 0;
	if (argc - optind < n)
		c->rc = cli_usage_error(usage, "missing argument");
	else
		c->rc = cli_usage_error(usage, "unexpected argument '%s'", argv[optind + n]);
	return -1;
}

int cli_args(struct cli *c, int argc, char **argv, const struct option *opts, const char *usage,
             int n)
{
	int o;
	while ((o = cli_opt(c, argc, argv, opts, usage)) != -1)
		if (o == CLI_STOP)
			return 1;
	return cli_operands(c, argc, argv, n, usage) ? 1 : 0;
}

int cli_dispatch(struct cli *c, int argc, char **argv, const struct cli_cmd *cmds, size_t n,
                 const char *usage)
{
	if (argc < 2)
		return cli_usage_error(usage, "%s: a subcommand is required", argv[0]);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage, stdout);
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < n; i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(c, argc - 1, argv + 1);
	return cli_usage_error(usage, "%s: unknown subcommand '%s'", argv[0], argv[1]);
}

/* ---- API calls ---- */

int cli_api(struct cli *c, const char *method, const char *path, const json_t *body,
            struct cli_response *rs_out, json_t **out)
{
	struct cli_response rs;
	struct fp_err err = {0};
	char *text = NULL;
	if (out)
		*out = NULL;
	if (body && !(text = json_dumps(body, JSON_COMPACT))) {
		cli_error("out of memory");
		return CLI_EXIT_FAIL;
	}
	struct cli_request rq = {
	    .method = method,
	    .path = path,
	    .ctype = text ? "application/json" : NULL,
	    .body = text,
	    .body_len = text ? strlen(text) : 0,
	    .timeout_s = CLI_TOTAL_TIMEOUT,
	};
	int rc = cli_http_do(c, &rq, &rs, &err);
	if (text) {
		explicit_bzero(text, strlen(text)); /* it may hold a password */
		free(text);
	}
	int ex = cli_http_outcome(c, rc, &err, &rs);
	if (ex == CLI_EXIT_OK && out) {
		json_error_t je;
		*out = json_loadb(rs.body, rs.len, 0, &je);
		if (!*out) {
			cli_error("the server sent invalid JSON: %s", je.text);
			ex = CLI_EXIT_UNREACHABLE;
		}
	}
	if (rs_out && ex == CLI_EXIT_OK)
		*rs_out = rs;
	else
		cli_response_free(&rs);
	if (ex != CLI_EXIT_OK && out) {
		json_decref(*out);
		*out = NULL;
	}
	return ex;
}

int cli_call(struct cli *c, const char *method, const char *path, const json_t *body, json_t **out)
{
	struct cli_response rs;
	int ex = cli_api(c, method, path, body, &rs, out);
	if (ex == CLI_EXIT_OK) {
		if (c->json)
			cli_print_body(rs.body, rs.len);
		cli_response_free(&rs);
	}
	return ex;
}

int cli_show(struct cli *c, const char *method, const char *path, const json_t *body)
{
	json_t *o = NULL;
	int ex = cli_call(c, method, path, body, &o);
	if (ex == CLI_EXIT_OK && !c->json)
		cli_print_object(o);
	json_decref(o);
	return ex;
}

/* ---- uploads and jobs ---- */

int cli_read_file(const char *file, size_t max, char **out, size_t *len)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	struct stat st;
	*out = NULL;
	*len = 0;
	if (fd < 0) {
		cli_error("cannot open %s: %s", file, strerror(errno));
		return CLI_EXIT_FAIL;
	}
	int ex = CLI_EXIT_FAIL;
	char *buf = NULL;
	size_t n = 0;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		cli_error("%s is not a regular file", file);
		goto out;
	}
	if ((unsigned long long)st.st_size > max) {
		cli_error("%s is larger than %zu MiB, the largest upload", file, max >> 20);
		goto out;
	}
	if (st.st_size == 0) {
		cli_error("%s is empty", file);
		goto out;
	}
	if (!(buf = malloc((size_t)st.st_size + 1))) {
		cli_error("cannot read %s: out of memory", file);
		goto out;
	}
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	if (n != (size_t)st.st_size) {
		cli_error("cannot read %s: %s", file, errno ? strerror(errno) : "it shrank");
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

int cli_upload(struct cli *c, const char *path, const char *file, size_t max,
               struct cli_response *rs_out, json_t **out)
{
	char *data = NULL;
	size_t len = 0;
	if (out)
		*out = NULL;
	int ex = cli_read_file(file, max, &data, &len);
	if (ex)
		return ex;
	struct cli_request rq = {
	    .method = "POST",
	    .path = path,
	    .ctype = "application/octet-stream",
	    .body = data,
	    .body_len = len,
	    .timeout_s = 0, /* a large upload on a slow link may take long */
	    .upload_bar = 1,
	};
	struct cli_response rs;
	struct fp_err err = {0};
	int rc = cli_http_do(c, &rq, &rs, &err);
	free(data);
	ex = cli_http_outcome(c, rc, &err, &rs);
	if (ex == CLI_EXIT_OK && out) {
		json_error_t je;
		if (!(*out = json_loadb(rs.body, rs.len, 0, &je))) {
			cli_error("the server sent invalid JSON: %s", je.text);
			ex = CLI_EXIT_UNREACHABLE;
		}
	}
	if (rs_out && ex == CLI_EXIT_OK)
		*rs_out = rs;
	else
		cli_response_free(&rs);
	return ex;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int cli_wait_job(struct cli *c, json_int_t id, const char *label, struct cli_response *rs,
                 json_t **out)
{
	char path[64];
	snprintf(path, sizeof(path), "/api/v1/jobs/%" JSON_INTEGER_FORMAT, id);
	int ex;
	for (;;) {
		ex = cli_api(c, "GET", path, NULL, rs, out);
		if (ex)
			break;
		const char *st = json_string_value(json_object_get(*out, "status"));
		if (st && (strcmp(st, "succeeded") == 0 || strcmp(st, "failed") == 0))
			break;
		const json_t *p = json_object_get(*out, "progress");
		if (c->tty_err && json_is_object(p))
			cli_progress(label, (double)json_integer_value(json_object_get(p, "done")),
			             (double)json_integer_value(json_object_get(p, "total")));
		cli_response_free(rs);
		json_decref(*out);
		*out = NULL;
		sleep_ms(JOB_POLL_MS);
	}
	if (c->tty_err)
		cli_progress_end();
	return ex;
}

/* ---- listings ---- */

static int fetch_page(struct cli *c, const char *path, long page, long per_page,
                      struct cli_response *rs, json_t **out)
{
	struct cli_url u;
	cli_url_init(&u, path);
	if (page > 0)
		cli_url_query_long(&u, "page", page);
	if (per_page > 0)
		cli_url_query_long(&u, "per_page", per_page);
	return cli_api(c, "GET", u.s, NULL, rs, out);
}

/* --all: walks every page and prints one merged listing. */
static int list_all(struct cli *c, const char *path, const struct cli_col *cols)
{
	json_t *all = json_array(), *o = NULL;
	long per_page = c->per_page ? c->per_page : CLI_PER_PAGE_MAX;
	json_int_t total = 0;
	int ex = CLI_EXIT_OK;
	for (long page = 1;; page++) {
		ex = fetch_page(c, path, page, per_page, NULL, &o);
		if (ex)
			goto out;
		json_t *items = json_object_get(o, "items");
		total = json_integer_value(json_object_get(o, "total"));
		if (!json_is_array(items)) {
			cli_error("the server's answer holds no list of items");
			ex = CLI_EXIT_UNREACHABLE;
			goto out;
		}
		if (json_array_extend(all, items) || json_array_size(all) > LIST_ALL_MAX) {
			cli_error("more than %d items; use --page", LIST_ALL_MAX);
			ex = CLI_EXIT_FAIL;
			goto out;
		}
		size_t got = json_array_size(items);
		json_decref(o);
		o = NULL;
		if (got == 0 || (json_int_t)json_array_size(all) >= total)
			break;
	}
	if (c->json) {
		json_t *m = json_pack("{s:O,s:I}", "items", all, "total", total);
		char *s = m ? json_dumps(m, JSON_COMPACT) : NULL;
		if (s)
			cli_print_body(s, strlen(s));
		free(s);
		json_decref(m);
	} else {
		cli_print_table(all, cols, c->tty_out);
		fprintf(stderr, "%zu of %" JSON_INTEGER_FORMAT " items\n", json_array_size(all),
		        total);
	}
out:
	json_decref(o);
	json_decref(all);
	return ex;
}

int cli_list(struct cli *c, const char *path, const struct cli_col *cols)
{
	if (c->all)
		return list_all(c, path, cols);
	struct cli_response rs;
	json_t *o = NULL;
	int ex = fetch_page(c, path, c->page, c->per_page, &rs, &o);
	if (ex)
		return ex;
	if (c->json) {
		cli_print_body(rs.body, rs.len);
	} else {
		json_t *items = json_object_get(o, "items");
		json_int_t total = json_integer_value(json_object_get(o, "total"));
		json_int_t page = json_integer_value(json_object_get(o, "page"));
		json_int_t per = json_integer_value(json_object_get(o, "per_page"));
		json_int_t first = (page - 1) * per + 1, n = (json_int_t)json_array_size(items);
		cli_print_table(items, cols, c->tty_out);
		if (n == 0)
			fprintf(stderr,
			        "no items on page %" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT
			        " in all\n",
			        page, total);
		else if (n < total)
			fprintf(stderr,
			        "showing %" JSON_INTEGER_FORMAT "-%" JSON_INTEGER_FORMAT
			        " of %" JSON_INTEGER_FORMAT " (use --page or --all)\n",
			        first, first + n - 1, total);
	}
	cli_response_free(&rs);
	json_decref(o);
	return ex;
}

/* ---- passwords ---- */

static int read_line(FILE *f, char *out, size_t outsz)
{
	if (!fgets(out, (int)outsz, f))
		return -1;
	size_t n = strlen(out);
	if (n == outsz - 1 && out[n - 1] != '\n')
		return -1; /* too long */
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	return 0;
}

int cli_read_password(const char *prompt, int from_stdin, char *out, size_t outsz)
{
	if (from_stdin) {
		if (read_line(stdin, out, outsz)) {
			cli_error("--password-stdin: expected one line of at most %zu bytes",
			          outsz - 2);
			return -1;
		}
		return 0;
	}
	if (!isatty(STDIN_FILENO)) {
		cli_error("stdin is not a terminal; pass the password with --password-stdin");
		return -1;
	}
	struct termios old, quiet;
	if (tcgetattr(STDIN_FILENO, &old)) {
		cli_error("cannot read the terminal settings: %s", strerror(errno));
		return -1;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	fputs(prompt, stderr);
	fflush(stderr);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	int rc = read_line(stdin, out, outsz);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	if (rc)
		cli_error("no password read");
	return rc;
}
