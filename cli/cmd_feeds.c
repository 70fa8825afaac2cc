/*
 * cmd_feeds.c — `fleetpatch feeds …`: the vulnerability feeds (NVD CVE 2.0,
 * CISA KEV, FIRST EPSS) the server matches the fleet against.
 *
 * `feeds import` uploads each file as is (POST /api/v1/feeds/{kind}), one
 * job per file in the order given; the server answers with a job (202) that
 * the CLI polls (GET /api/v1/jobs/{id}) until it has succeeded or failed,
 * drawing the upload and then the job's progress on a terminal.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "http.h"
#include "output.h"

#define FEED_FILE_MAX ((size_t)256 << 20) /* bytes of one feed file; the server's cap too */

static const char usage[] =
    "usage: fleetpatch feeds COMMAND ...\n"
    "\n"
    "  import --kind nvd|kev|epss FILE... [--no-wait]\n"
    "  status\n"
    "\n"
    "The vulnerability feeds the fleet is matched against. Each command has --help.\n";

static const char import_use[] =
    "usage: fleetpatch feeds import --kind nvd|kev|epss FILE... [--no-wait] [--json]\n"
    "\n"
    "Imports feed files, one server job per file, in the order given; each file is\n"
    "applied all or nothing. An NVD import re-matches the devices its changed\n"
    "records concern.\n"
    "\n"
    "  --kind KIND  nvd  NVD CVE 2.0 JSON feed (nvdcve-2.0-*.json, gzip or plain)\n"
    "               kev  CISA Known Exploited Vulnerabilities catalogue (JSON)\n"
    "               epss FIRST EPSS scores (CSV, gzip or plain); replaces the previous\n"
    "                    scores, as a KEV import replaces the previous catalogue\n"
    "  --no-wait    print each queued job and go on; follow one with\n"
    "               'fleetpatch vuln job ID'\n"
    "\n"
    "Prints one line per file, e.g.\n"
    "  nvdcve-2.0-2002.json.gz: 6,748 records: 6,748 created, 0 updated, 0 unchanged,\n"
    "  12 unassessed\n"
    "(unassessed: records without product configurations, which match no device).\n"
    "With --json, each final job as the server sends it, one per line.\n"
    "\n"
    "A failed job does not stop the files after it. Exits 1 when any job failed,\n"
    "naming the file and the job's error; a refused upload stops at once.\n"
    "Files are at most 256 MiB.\n";

/* v with thousands separators: 6748 → "6,748". */
static const char *thousands(json_int_t v, char *out, size_t outsz)
{
	char digits[32];
	int n = snprintf(digits, sizeof(digits), "%" JSON_INTEGER_FORMAT, v);
	size_t o = 0, start = digits[0] == '-';
	if (start)
		out[o++] = '-';
	for (int i = (int)start; i < n && o + 2 < outsz; i++) {
		if (i > (int)start && (n - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
	return out;
}

static json_int_t rep_int(const json_t *rep, const char *key)
{
	return json_integer_value(json_object_get(rep, key));
}

/* The one-line summary of a succeeded feed job. */
static void print_summary(const char *file, const char *kind, const json_t *job)
{
	const json_t *rep = json_object_get(job, "report");
	char name[1024], a[32], b[32], d[32], e[32], f[32], s1[256], s2[256];
	cli_clean_text(file, name, sizeof(name));
	printf("%s: %s records", name, thousands(rep_int(rep, "rows"), a, sizeof(a)));
	if (strcmp(kind, "nvd") == 0) {
		printf(": %s created, %s updated, %s unchanged, %s unassessed",
		       thousands(rep_int(rep, "created"), b, sizeof(b)),
		       thousands(rep_int(rep, "updated"), d, sizeof(d)),
		       thousands(rep_int(rep, "unchanged"), e, sizeof(e)),
		       thousands(rep_int(rep, "unassessed"), f, sizeof(f)));
	} else if (strcmp(kind, "kev") == 0) {
		cli_format_value(json_object_get(rep, "catalog_version"), s1, sizeof(s1));
		printf(": catalogue version %s, %s with known ransomware use", s1,
		       thousands(rep_int(rep, "ransomware"), b, sizeof(b)));
	} else {
		/* A file without its "#model_version:…,score_date:…" line names neither. */
		const char *model = json_string_value(json_object_get(rep, "model_version"));
		const char *date = json_string_value(json_object_get(rep, "score_date"));
		cli_clean_text(model ? model : "", s1, sizeof(s1));
		cli_clean_text(date ? date : "", s2, sizeof(s2));
		if (s1[0])
			printf(": model %s", s1);
		if (s2[0])
			printf("%s scores of %s", s1[0] ? "," : ":", s2);
	}
	putchar('\n');
}

/* Imports one file; *failed is set when its job failed. Returns an exit code. */
static int import_one(struct cli *c, const char *kind, const char *file, int no_wait, int *failed)
{
	struct cli_url u;
	struct cli_response rs = {0};
	json_t *job = NULL;
	cli_url_init(&u, "/api/v1/feeds/");
	cli_url_seg(&u, kind);
	int ex = cli_upload(c, u.s, file, FEED_FILE_MAX, &rs, &job);
	if (ex) {
		cli_error("%s: not imported", file);
		return ex;
	}
	json_int_t id = json_integer_value(json_object_get(job, "id"));
	if (id <= 0) {
		cli_error("%s: the server's answer names no job", file);
		ex = CLI_EXIT_UNREACHABLE;
		goto out;
	}
	if (!no_wait) {
		cli_response_free(&rs);
		json_decref(job);
		job = NULL;
		if ((ex = cli_wait_job(c, id, "importing", &rs, &job)))
			goto out;
	}
	const char *status = json_string_value(json_object_get(job, "status"));
	if (c->json)
		cli_print_body(rs.body, rs.len);
	else if (no_wait)
		printf("%s: job %" JSON_INTEGER_FORMAT " queued; follow it with 'fleetpatch vuln "
		       "job %" JSON_INTEGER_FORMAT "'\n",
		       file, id, id);
	else if (status && strcmp(status, "succeeded") == 0)
		print_summary(file, kind, job);
	if (!no_wait && (!status || strcmp(status, "succeeded") != 0)) {
		const char *e = json_string_value(json_object_get(job, "error"));
		cli_error("%s: import job %" JSON_INTEGER_FORMAT " failed: %s; nothing was changed",
		          file, id, e ? e : "no reason given");
		*failed = 1;
	}
out:
	cli_response_free(&rs);
	json_decref(job);
	return ex;
}

static int feeds_import(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    CLI_COMMON_OPTS,
	    {"kind", required_argument, NULL, 'k'},
	    {"no-wait", no_argument, NULL, CLI_OPT_FIRST_OWN},
	    CLI_OPTS_END,
	};
	const char *kind = NULL;
	int no_wait = 0, o;
	while ((o = cli_opt(c, argc, argv, opts, import_use)) != -1) {
		if (o == CLI_STOP)
			return c->rc;
		if (o == 'k')
			kind = optarg;
		else if (o == CLI_OPT_FIRST_OWN)
			no_wait = 1;
	}
	if (!kind ||
	    (strcmp(kind, "nvd") != 0 && strcmp(kind, "kev") != 0 && strcmp(kind, "epss") != 0))
		return cli_usage_error(import_use, "--kind: one of nvd, kev, epss is required");
	if (optind >= argc)
		return cli_usage_error(import_use, "give at least one FILE");
	int failed = 0;
	for (int i = optind; i < argc; i++) {
		int ex = import_one(c, kind, argv[i], no_wait, &failed);
		if (ex)
			return ex;
	}
	return failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static int feeds_status(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch feeds status [--json]\n"
	    "\n"
	    "Shows what the imported feeds hold: CVE records (and those without product\n"
	    "configurations, which match no device), KEV entries, EPSS scores, and the\n"
	    "fleet's current findings.\n";
	static const struct option opts[] = {CLI_COMMON_OPTS, CLI_OPTS_END};
	if (cli_args(c, argc, argv, opts, use, 0))
		return c->rc;
	return cli_show(c, "GET", "/api/v1/feeds", NULL);
}

int cli_cmd_feeds(struct cli *c, int argc, char **argv)
{
	static const struct cli_cmd cmds[] = {
	    {"import", feeds_import},
	    {"status", feeds_status},
	};
	return cli_dispatch(c, argc, argv, cmds, sizeof(cmds) / sizeof(cmds[0]), usage);
}
