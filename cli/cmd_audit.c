/*
 * cmd_audit.c — `fleetpatch audit …`: reading, exporting and verifying the
 * hash-chained audit log.
 *
 * `audit verify` checks the chain here, with lib/audit, on an export it
 * fetched or a file it was given; it never takes the server's word for it
 * (a compromised server could simply answer "intact").
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "fleetpatch/audit.h"
#include "http.h"
#include "output.h"

#define EXPORT_PAGE       10000      /* entries asked for per export request */
#define VERIFY_MEMORY_MAX (1L << 30) /* bytes of an export fetched for verification */

static const char usage[] = "usage: fleetpatch audit COMMAND ...\n"
                            "\n"
                            "  list [--after SEQ] [--limit N]\n"
                            "  export [-o FILE]\n"
                            "  verify [--file FILE] [--anchor HASH]\n"
                            "\n"
                            "Each command has --help.\n";

static const struct cli_col audit_cols[] = {
    {"SEQ", "seq", 0},        {"TIME", "ts", 0},        {"ACTOR", "actor", 24},
    {"ACTION", "action", 24}, {"OBJECT", "object", 32}, {NULL, NULL, 0},
};

static int audit_list(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch audit list [--after SEQ] [--limit N] [--json]\n"
	    "\n"
	    "Lists audit entries in order, from the one after SEQ (default: "
	    "the first),\n"
	    "N at a time (default 100, at most 1000).\n";
	static const struct option opts[] = {
	    CLI_COMMON_OPTS,
	    {"after", required_argument, NULL, 'a'},
	    {"limit", required_argument, NULL, 'n'},
	    CLI_OPTS_END,
	};
	long after = -1, limit = -1;
	int o;
	while ((o = cli_opt(c, argc, argv, opts, use)) != -1) {
		if (o == CLI_STOP)
			return c->rc;
		if (o == 'a' && cli_parse_long(optarg, 0, LONG_MAX / 4, &after))
			return cli_usage_error(use, "--after: expected a sequence number");
		if (o == 'n' && cli_parse_long(optarg, 1, 1000, &limit))
			return cli_usage_error(use, "--limit: expected a number from 1 to 1000");
	}
	if (cli_operands(c, argc, argv, 0, use))
		return c->rc;
	struct cli_url u;
	cli_url_init(&u, "/api/v1/audit");
	if (after >= 0)
		cli_url_query_long(&u, "after", after);
	if (limit > 0)
		cli_url_query_long(&u, "limit", limit);
	json_t *out = NULL;
	int ex = cli_call(c, "GET", u.s, NULL, &out);
	if (ex == CLI_EXIT_OK && !c->json) {
		cli_print_table(json_object_get(out, "items"), audit_cols, c->tty_out);
		const json_t *next = json_object_get(out, "next_after");
		if (json_is_integer(next))
			fprintf(stderr,
			        "more entries follow: use --after %" JSON_INTEGER_FORMAT "\n",
			        json_integer_value(next));
	}
	json_decref(out);
	return ex;
}

/* ---- the export, page by page ---- */

typedef int (*page_sink)(void *ctx, const char *data, size_t len);

/*
 * Fetches the whole export, following X-FP-Next-After, and hands each page
 * to sink. A page over the response cap is asked for again in smaller
 * pieces, so a few huge entries do not stop an export.
 */
static int fetch_export(struct cli *c, page_sink sink, void *ctx)
{
	char after[32] = "0";
	long limit = EXPORT_PAGE;
	for (;;) {
		struct cli_url u;
		cli_url_init(&u, "/api/v1/audit/export");
		cli_url_query(&u, "after", after);
		cli_url_query_long(&u, "limit", limit);
		struct cli_request rq = {.method = "GET", .path = u.s, .timeout_s = 0};
		struct cli_response rs;
		struct fp_err err = {0};
		int rc = cli_http_do(c, &rq, &rs, &err);
		if (rc == FP_ETOOBIG && limit > 1) {
			cli_response_free(&rs);
			limit = limit / 10 ? limit / 10 : 1;
			continue;
		}
		int ex = cli_http_outcome(c, rc, &err, &rs);
		if (ex == CLI_EXIT_OK)
			ex = sink(ctx, rs.body, rs.len);
		int more = rs.next_after[0] != '\0';
		if (more)
			memcpy(after, rs.next_after, sizeof(after));
		cli_response_free(&rs);
		if (ex || !more)
			return ex;
	}
}

static int write_page(void *ctx, const char *data, size_t len)
{
	FILE *f = ctx;
	if (fwrite(data, 1, len, f) != len) {
		cli_error("cannot write the export: %s", strerror(errno));
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

static int audit_export(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch audit export [-o FILE]\n"
	    "\n"
	    "Writes the whole audit log as JSON Lines (one entry per line, from seq 1) to\n"
	    "FILE or stdout. Keep the last entry's hash elsewhere to detect truncation\n"
	    "later with 'audit verify --anchor'.\n";
	static const struct option opts[] = {
	    CLI_COMMON_OPTS,
	    {"output", required_argument, NULL, 'o'},
	    CLI_OPTS_END,
	};
	const char *path = NULL;
	int o;
	while ((o = cli_opt(c, argc, argv, opts, use)) != -1) {
		if (o == CLI_STOP)
			return c->rc;
		if (o == 'o')
			path = optarg;
	}
	if (cli_operands(c, argc, argv, 0, use))
		return c->rc;
	if (!path || strcmp(path, "-") == 0)
		return fetch_export(c, write_page, stdout);
	/* Write beside the target (mode 0600) and rename, so FILE is never half an export. */
	char tmp[PATH_MAX];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp))
		return cli_usage_error(use, "-o: the path is too long");
	int fd = mkstemp(tmp);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		cli_error("cannot create %s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return CLI_EXIT_FAIL;
	}
	int ex = fetch_export(c, write_page, f);
	if (fflush(f) || fsync(fileno(f))) {
		cli_error("cannot write %s: %s", tmp, strerror(errno));
		ex = ex ? ex : CLI_EXIT_FAIL;
	}
	fclose(f);
	if (ex == CLI_EXIT_OK && rename(tmp, path)) {
		cli_error("cannot write %s: %s", path, strerror(errno));
		ex = CLI_EXIT_FAIL;
	}
	if (ex)
		unlink(tmp);
	return ex;
}

/* ---- verification ---- */

struct membuf {
	char *data;
	size_t len, cap;
};

static int keep_page(void *ctx, const char *data, size_t len)
{
	struct membuf *b = ctx;
	if (b->len + len > VERIFY_MEMORY_MAX) {
		cli_error("the audit log is larger than %ld MiB; export it with 'audit export -o "
		          "FILE' and verify the file",
		          VERIFY_MEMORY_MAX >> 20);
		return CLI_EXIT_FAIL;
	}
	if (b->len + len > b->cap) {
		size_t ncap = b->cap ? b->cap : 1 << 20;
		while (ncap < b->len + len)
			ncap *= 2;
		char *nd = realloc(b->data, ncap);
		if (!nd) {
			cli_error("out of memory");
			return CLI_EXIT_FAIL;
		}
		b->data = nd;
		b->cap = ncap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return CLI_EXIT_OK;
}

/* Prints the verdict on data; returns 0 when the chain is intact, else 1. */
static int verdict(struct cli *c, const char *data, size_t len, const char *anchor)
{
	struct fp_audit_verifier v;
	struct fp_err err = {0};
	int rc = fp_audit_verify_export(data, len, anchor, &v, &err);
	long long head = v.next_seq - 1;
	if (c->json) {
		json_t *o = json_pack("{s:b,s:I}", "ok", rc == 0, "entries", (json_int_t)v.count);
		json_object_set_new(
		    o, "head",
		    rc == 0 && head > 0
		        ? json_pack("{s:I,s:s}", "seq", (json_int_t)head, "hash", v.prev_hash)
		        : json_null());
		json_object_set_new(o, "first_bad",
		                    rc ? json_pack("{s:I,s:s}", "seq", (json_int_t)v.first_bad_seq,
		                                   "reason", v.reason[0] ? v.reason : err.msg)
		                       : json_null());
		char *s = json_dumps(o, JSON_COMPACT);
		if (s)
			printf("%s\n", s);
		free(s);
		json_decref(o);
	} else if (rc == 0 && head > 0) {
		printf("audit log intact: %lld entries, head seq %lld hash %s\n", v.count, head,
		       v.prev_hash);
	} else if (rc == 0) {
		printf("audit log intact: 0 entries\n");
	} else {
		char reason[sizeof(err.msg)];
		cli_clean_text(v.reason[0] ? v.reason : err.msg, reason, sizeof(reason));
		printf("audit log TAMPERED at entry %lld: %s\n", v.first_bad_seq, reason);
	}
	return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

/* Verifies an exported file; mapped, so its size is bounded only by the address space. */
static int verify_file(struct cli *c, const char *path, const char *anchor)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		cli_error("cannot read %s: %s", path, fd < 0 ? strerror(errno) : "not a file");
		if (fd >= 0)
			close(fd);
		return CLI_EXIT_FAIL;
	}
	size_t len = (size_t)st.st_size;
	void *map = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
	close(fd);
	if (len && map == MAP_FAILED) {
		cli_error("cannot read %s: %s", path, strerror(errno));
		return CLI_EXIT_FAIL;
	}
	int ex = verdict(c, len ? map : "", len, anchor);
	if (len)
		munmap(map, len);
	return ex;
}

static int audit_verify(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch audit verify [--file FILE] [--anchor HASH] [--json]\n"
	    "\n"
	    "Verifies the audit log's hash chain on this machine. Without --file it fetches\n"
	    "the export from the server; with --file it checks an exported file offline.\n"
	    "With --anchor the chain must contain the entry with that hash (one you kept\n"
	    "elsewhere), which detects entries cut off the end.\n"
	    "Prints 'audit log intact: …' and exits 0, or 'audit log TAMPERED at entry S: …'\n"
	    "and exits 1.\n";
	static const struct option opts[] = {
	    CLI_COMMON_OPTS,
	    {"file", required_argument, NULL, 'f'},
	    {"anchor", required_argument, NULL, 'a'},
	    CLI_OPTS_END,
	};
	const char *file = NULL, *anchor = NULL;
	int o;
	while ((o = cli_opt(c, argc, argv, opts, use)) != -1) {
		if (o == CLI_STOP)
			return c->rc;
		if (o == 'f')
			file = optarg;
		else if (o == 'a')
			anchor = optarg;
	}
	if (cli_operands(c, argc, argv, 0, use))
		return c->rc;
	if (anchor && (strlen(anchor) != FP_SHA256_HEX_LEN ||
	               strspn(anchor, "0123456789abcdef") != FP_SHA256_HEX_LEN))
		return cli_usage_error(use, "--anchor: expected 64 lowercase hex digits");
	if (file)
		return verify_file(c, file, anchor);
	struct membuf b = {0};
	int ex = fetch_export(c, keep_page, &b);
	if (ex == CLI_EXIT_OK)
		ex = verdict(c, b.data ? b.data : "", b.len, anchor);
	free(b.data);
	return ex;
}

int cli_cmd_audit(struct cli *c, int argc, char **argv)
{
	static const struct cli_cmd cmds[] = {
	    {"list", audit_list},
	    {"export", audit_export},
	    {"verify", audit_verify},
	};
	return cli_dispatch(c, argc, argv, cmds, sizeof(cmds) / sizeof(cmds[0]), usage);
}
