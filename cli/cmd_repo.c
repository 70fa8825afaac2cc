/*
 * cmd_repo.c — `fleetpatch repo …`: the server's TUF repository as a
 * client sees it. `repo check` is a complete TUF client run (spec 1.0
 * section 5) against the public metadata endpoints, starting from a root
 * the operator trusts: root rotations, timestamp, snapshot, targets, and
 * optionally one target file verified by length and hashes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tufcli.h"

static const char usage[] =
    "usage: fleetpatch repo keys [--json]\n"
    "       fleetpatch repo status [--json]\n"
    "       fleetpatch repo check --root ROOT.json [--target NAME [--out FILE]] [--json]\n"
    "\n"
    "keys    the server's online keys (snapshot, timestamp, director) with key ids.\n"
    "status  versions and expiry of every role, and open alerts.\n"
    "check   fetches and verifies the server's metadata like a device does, from\n"
    "        ROOT.json (a root you trust) on; with --target also downloads that\n"
    "        target and checks its length and hashes (--out keeps it).\n";

static int keys(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {CLI_COMMON_OPTS, CLI_OPTS_END};
	if (cli_args(c, argc, argv, opts, usage, 0))
		return c->rc;
	json_t *out = NULL;
	int ex = cli_call(c, "GET", "/api/v1/repo/keys", NULL, &out);
	if (!ex && !c->json) {
		const char *k;
		json_t *v;
		json_object_foreach(out, k, v)
		    printf("%-10s %s\n", k, json_string_value(json_object_get(v, "keyid")));
	}
	json_decref(out);
	return ex;
}

static int status(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {CLI_COMMON_OPTS, CLI_OPTS_END};
	if (cli_args(c, argc, argv, opts, usage, 0))
		return c->rc;
	json_t *out = NULL;
	int ex = cli_call(c, "GET", "/api/v1/repo/status", NULL, &out);
	if (!ex && !c->json) {
		static const char *const roles[] = {"root", "targets", "snapshot", "timestamp"};
		for (int i = 0; i < 4; i++) {
			const json_t *r = json_object_get(json_object_get(out, "roles"), roles[i]);
			if (json_is_object(r))
				printf("%-10s version %-6lld expires %s\n", roles[i],
				       (long long)json_integer_value(json_object_get(r, "version")),
				       json_string_value(json_object_get(r, "expires")));
			else
				printf("%-10s none\n", roles[i]);
		}
		size_t i;
		json_t *a;
		json_array_foreach(json_object_get(out, "alerts"), i, a)
		    printf("alert: %s\n", json_string_value(json_object_get(a, "message")));
	}
	json_decref(out);
	return ex;
}

/* GETs a metadata file; 1 in *missing for a 404. */
static int fetch(struct cli *c, const char *file, struct cli_response *rs, int *missing)
{
	char path[256];
	struct fp_err err = {0};
	snprintf(path, sizeof(path), "/api/v1/repo/metadata/%s", file);
	int ex = cli_get_raw(c, path, rs);
	if (ex)
		return ex;
	if (missing && rs->status == 404) {
		*missing = 1;
		return CLI_EXIT_OK;
	}
	if (rs->status != 200) {
		ex = cli_http_outcome(c, 0, &err, rs);
		cli_response_free(rs);
	}
	return ex;
}

static void hex(const unsigned char *d, size_t n, char *out)
{
	static const char h[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = h[d[i] >> 4];
		out[2 * i + 1] = h[d[i] & 15];
	}
	out[2 * n] = '\0';
}

static int check(struct cli *c, int argc, char **argv)
{
	enum { O_ROOT = CLI_OPT_FIRST_OWN, O_TARGET, O_OUT };
	static const struct option opts[] = {
	    CLI_COMMON_OPTS,
	    {"root", required_argument, NULL, O_ROOT},
	    {"target", required_argument, NULL, O_TARGET},
	    {"out", required_argument, NULL, O_OUT},
	    CLI_OPTS_END,
	};
	const char *rootf = NULL, *target = NULL, *outf = NULL;
	int o;
	while ((o = cli_opt(c, argc, argv, opts, usage)) != -1) {
		switch (o) {
		case CLI_STOP: return c->rc;
		case O_ROOT: rootf = optarg; break;
		case O_TARGET: target = optarg; break;
		case O_OUT: outf = optarg; break;
		}
	}
	if (cli_operands(c, argc, argv, 0, usage))
		return c->rc;
	if (!rootf)
		return cli_usage_error(usage, "--root ROOT.json (a root you trust) is required");
	char *rdata = NULL, file[64];
	size_t rlen = 0;
	struct fp_tuf_trusted *t = NULL;
	struct fp_err err = {0};
	struct cli_response rs = {0};
	int64_t now = (int64_t)time(NULL);
	int ex = cli_read_file(rootf, FP_TUF_ROOT_MAX, &rdata, &rlen);
	if (ex)
		return ex;
	ex = CLI_EXIT_FAIL;
	if (fp_tuf_trusted_new(rdata, rlen, &t, &err))
		goto bad;
	for (int i = 0; i < FP_TUF_ROOT_ROTATIONS_MAX; i++) {
		int missing = 0;
		snprintf(file, sizeof(file), "%" PRId64 ".root.json",
		         fp_tuf_version(t, FP_TUF_ROOT) + 1);
		if ((ex = fetch(c, file, &rs, &missing)))
			goto out;
		ex = CLI_EXIT_FAIL;
		if (missing) {
			cli_response_free(&rs);
			break;
		}
		int rc = fp_tuf_update_root(t, rs.body, rs.len, &err);
		cli_response_free(&rs);
		if (rc)
			goto bad;
	}
	if ((ex = fetch(c, "timestamp.json", &rs, NULL)))
		goto out;
	ex = CLI_EXIT_FAIL;
	int rc = fp_tuf_update_timestamp(t, rs.body, rs.len, now, &err);
	cli_response_free(&rs);
	if (rc)
		goto bad;
	static const enum fp_tuf_role next[2] = {FP_TUF_SNAPSHOT, FP_TUF_TARGETS};
	for (int i = 0; i < 2; i++) {
		struct fp_tuf_metafile mf;
		if (fp_tuf_expected_meta(t, next[i], &mf, &err))
			goto bad;
		snprintf(file, sizeof(file), "%" PRId64 ".%s.json", mf.version,
		         fp_tuf_role_name(next[i]));
		if ((ex = fetch(c, file, &rs, NULL)))
			goto out;
		ex = CLI_EXIT_FAIL;
		rc = i == 0 ? fp_tuf_update_snapshot(t, rs.body, rs.len, now, 0, &err)
		            : fp_tuf_update_targets(t, rs.body, rs.len, now, &err);
		cli_response_free(&rs);
		if (rc)
			goto bad;
	}
	char sha[65] = "";
	if (target) {
		struct fp_tuf_target tg;
		char path[1400];
		if (fp_tuf_target_get(t, target, &tg, &err))
			goto bad;
		if (!tg.hashes.has_sha256) {
			fp_err_set(&err, FP_EUNSUPP, "target '%s' lists no sha256", target);
			goto bad;
		}
		hex(tg.hashes.sha256, 32, sha);
		snprintf(path, sizeof(path), "/api/v1/repo/targets/%s.%s", sha, target);
		if ((ex = cli_get_raw(c, path, &rs)))
			goto out;
		ex = CLI_EXIT_FAIL;
		if (rs.status != 200) {
			ex = cli_http_outcome(c, 0, &err, &rs);
			cli_response_free(&rs);
			goto out;
		}
		rc = fp_tuf_target_verify(&tg, rs.body, rs.len, &err);
		if (rc == 0 && outf) {
			FILE *f = fopen(outf, "wb");
			if (!f || fwrite(rs.body, 1, rs.len, f) != rs.len || fclose(f)) {
				cli_error("cannot write %s: %s", outf, strerror(errno));
				cli_response_free(&rs);
				goto out;
			}
		}
		cli_response_free(&rs);
		if (rc)
			goto bad;
	}
	if (c->json)
		printf("{\"valid\":true,\"root\":%" PRId64 ",\"timestamp\":%" PRId64
		       ",\"snapshot\":%" PRId64 ",\"targets\":%" PRId64 "%s%s%s}\n",
		       fp_tuf_version(t, FP_TUF_ROOT), fp_tuf_version(t, FP_TUF_TIMESTAMP),
		       fp_tuf_version(t, FP_TUF_SNAPSHOT), fp_tuf_version(t, FP_TUF_TARGETS),
		       target ? ",\"target_sha256\":\"" : "", target ? sha : "",
		       target ? "\"" : "");
	else
		printf("valid: root %" PRId64 ", timestamp %" PRId64 ", snapshot %" PRId64
		       ", targets %" PRId64 "%s%s\n",
		       fp_tuf_version(t, FP_TUF_ROOT), fp_tuf_version(t, FP_TUF_TIMESTAMP),
		       fp_tuf_version(t, FP_TUF_SNAPSHOT), fp_tuf_version(t, FP_TUF_TARGETS),
		       target ? "; target verified: " : "", target ? target : "");
	ex = CLI_EXIT_OK;
	goto out;
bad:
	if (c->json) {
		json_t *j = json_pack("{s:b,s:s}", "valid", 0, "reason", err.msg);
		json_dumpf(j, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(j);
	}
	cli_error("the repository did not verify: %s", err.msg);
	ex = CLI_EXIT_FAIL;
out:
	fp_tuf_trusted_free(t);
	free(rdata);
	return ex;
}

int cli_cmd_repo(struct cli *c, int argc, char **argv)
{
	static const struct cli_cmd cmds[] = {
	    {"keys", keys},
	    {"status", status},
	    {"check", check},
	};
	return cli_dispatch(c, argc, argv, cmds, sizeof(cmds) / sizeof(cmds[0]), usage);
}
