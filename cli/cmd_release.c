/*
 * cmd_release.c — `fleetpatch release …`: releases and their artifacts.
 *
 * A release is a TUF target: `release create` hashes the artifact locally
 * (length, sha256, sha512) and writes the next, unsigned version of the
 * targets metadata with the target's custom fields (version, compatible
 * hardware, security counter, install backend). Key holders sign it
 * offline (`metadata sign`), then `release publish` uploads it. The
 * artifact itself is uploaded with `release upload`.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tufcli.h"

#define ARTIFACT_UPLOAD_MAX (4UL << 30) /* bytes the CLI uploads (read into memory) */
#define HARDWARE_MAX        64          /* hardware types of one target */

static const char usage[] =
    "usage: fleetpatch release create --artifact FILE --name NAME --version V\n"
    "                                 --hardware HW[,HW...] --security-counter N\n"
    "                                 --backend B (--targets FILE | --from-server | --new)\n"
    "                                 --out FILE [--expires-days N]\n"
    "                                 [--delta-of TARGET --base-sha256 H --base-version V]\n"
    "       fleetpatch release publish FILE [--json]\n"
    "       fleetpatch release upload FILE [--json]\n"
    "       fleetpatch release artifacts [--page N] [--per-page N] [--all] [--json]\n"
    "       fleetpatch release assign DEVICE_ID --target NAME [--deadline T] [--json]\n"
    "       fleetpatch release assignment DEVICE_ID [--json]\n"
    "       fleetpatch release unassign DEVICE_ID [--json]\n"
    "\n"
    "create   hashes FILE locally and writes the next version of the targets\n"
    "         metadata (from a local targets file, the server's newest one, or a new\n"
    "         version 1) with the target NAME added or replaced, unsigned. Custom\n"
    "         fields: version, hardware (compatible hardware types: device models),\n"
    "         security_counter, backend. --expires-days defaults to 90.\n"
    "         With --delta-of, FILE is a delta (fleetpatch artifact delta) that\n"
    "         rebuilds the target TARGET from the image whose sha256 is H, which\n"
    "         devices report as firmware version V: custom.delta is then\n"
    "         {\"target\", \"base_sha256\", \"base_version\"}, and the director\n"
    "         offers it to devices that run V (docs/design/director.md).\n"
    "publish  uploads a signed targets file; the server checks it against root and\n"
    "         the uploaded artifacts, then signs snapshot and timestamp.\n"
    "upload   stores an artifact (the file a target names) on the server under its\n"
    "         sha256 (an identical file is kept once); prints its length and hash.\n"
    "artifacts  lists the uploaded artifacts.\n"
    "assign   has the director assign a published target to a device (its model\n"
    "         must be one of the target's hardware types); T is YYYY-MM-DDTHH:MM:SSZ.\n"
    "assignment, unassign  show or clear a device's assignment.\n";

static void hex(const unsigned char *d, size_t n, char *out)
{
	static const char h[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = h[d[i] >> 4];
		out[2 * i + 1] = h[d[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Length, sha256 and sha512 of a file, read in pieces. */
static int hash_file(const char *file, long long *len, char sha256[65], char sha512[129])
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cli_error("cannot open %s: %s", file, strerror(errno));
		return CLI_EXIT_FAIL;
	}
	EVP_MD_CTX *a = EVP_MD_CTX_new(), *b = EVP_MD_CTX_new();
	int ex = CLI_EXIT_FAIL;
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		cli_error("%s is not a regular file", file);
		goto out;
	}
	if (!a || !b || !EVP_DigestInit_ex(a, EVP_sha256(), NULL) ||
	    !EVP_DigestInit_ex(b, EVP_sha512(), NULL))
		goto out;
	static char buf[1 << 16];
	long long total = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cli_error("cannot read %s: %s", file, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (!EVP_DigestUpdate(a, buf, (size_t)n) || !EVP_DigestUpdate(b, buf, (size_t)n))
			goto out;
		total += n;
	}
	unsigned char d[64];
	if (!EVP_DigestFinal_ex(a, d, NULL))
		goto out;
	hex(d, 32, sha256);
	if (!EVP_DigestFinal_ex(b, d, NULL))
		goto out;
	hex(d, 64, sha512);
	if (total == 0) {
		cli_error("%s is empty", file);
		goto out;
	}
	*len = total;
	ex = CLI_EXIT_OK;
out:
	EVP_MD_CTX_free(a);
	EVP_MD_CTX_free(b);
	close(fd);
	return ex;
}

/* The server's newest targets, or NULL in *md when it has none. */
static int server_targets(struct cli *c, json_t **md)
{
	json_t *st = NULL;
	*md = NULL;
	int ex = cli_api(c, "GET", "/api/v1/repo/status", NULL, NULL, &st);
	if (ex)
		return ex;
	const json_t *t = json_object_get(json_object_get(st, "roles"), "targets");
	if (json_is_object(t)) {
		char path[96];
		struct cli_response rs;
		struct fp_err err = {0};
		snprintf(path, sizeof(path), "/api/v1/repo/metadata/%lld.targets.json",
		         (long long)json_integer_value(json_object_get(t, "version")));
		ex = cli_get_raw(c, path, &rs);
		if (!ex && rs.status != 200)
			ex = cli_http_outcome(c, 0, &err, &rs);
		if (!ex && fp_tuf_parse(FP_TUF_TARGETS, rs.body, rs.len, NULL, NULL, &err) == 0)
			*md = json_loadb(rs.body, rs.len, 0, NULL);
		if (!ex && !*md) {
			cli_error("the server's targets metadata is not valid: %s", err.msg);
			ex = CLI_EXIT_FAIL;
		}
		cli_response_free(&rs);
	}
	json_decref(st);
	return ex;
}

static int release_create(struct cli *c, int argc, char **argv)
{
	enum {
		O_ART = CLI_OPT_FIRST_OWN,
		O_NAME,
		O_VER,
		O_HW,
		O_SC,
		O_BE,
		O_TGT,
		O_SRV,
		O_NEW,
		O_OUT,
		O_EXP,
		O_DOF,
		O_BSHA,
		O_BVER
	};
	static const struct option opts[] = {
	    CLI_COMMON_OPTS,
	    {"artifact", required_argument, NULL, O_ART},
	    {"name", required_argument, NULL, O_NAME},
	    {"version", required_argument, NULL, O_VER},
	    {"hardware", required_argument, NULL, O_HW},
	    {"security-counter", required_argument, NULL, O_SC},
	    {"backend", required_argument, NULL, O_BE},
	    {"targets", required_argument, NULL, O_TGT},
	    {"from-server", no_argument, NULL, O_SRV},
	    {"new", no_argument, NULL, O_NEW},
	    {"out", required_argument, NULL, O_OUT},
	    {"expires-days", required_argument, NULL, O_EXP},
	    {"delta-of", required_argument, NULL, O_DOF},
	    {"base-sha256", required_argument, NULL, O_BSHA},
	    {"base-version", required_argument, NULL, O_BVER},
	    CLI_OPTS_END,
	};
	const char *art = NULL, *name = NULL, *ver = NULL, *be = NULL, *tgt = NULL, *out = NULL;
	const char *dof = NULL, *bsha = NULL, *bver = NULL;
	char *hw = NULL;
	long sc = -1, days = 90;
	int srv = 0, fresh = 0, o;
	while ((o = cli_opt(c, argc, argv, opts, usage)) != -1) {
		switch (o) {
		case CLI_STOP: return c->rc;
		case O_ART: art = optarg; break;
		case O_NAME: name = optarg; break;
		case O_VER: ver = optarg; break;
		case O_HW: hw = optarg; break;
		case O_BE: be = optarg; break;
		case O_TGT: tgt = optarg; break;
		case O_SRV: srv = 1; break;
		case O_NEW: fresh = 1; break;
		case O_OUT: out = optarg; break;
		case O_DOF: dof = optarg; break;
		case O_BSHA: bsha = optarg; break;
		case O_BVER: bver = optarg; break;
		case O_SC:
			if (cli_parse_long(optarg, 0, 2147483647L, &sc))
				return cli_usage_error(usage,
				                       "--security-counter is an integer >= 0");
			break;
		case O_EXP:
			if (cli_parse_long(optarg, 1, CLI_EXPIRES_MAX, &days))
				return cli_usage_error(usage, "--expires-days is 1 to %d",
				                       CLI_EXPIRES_MAX);
			break;
		}
	}
	if (cli_operands(c, argc, argv, 0, usage))
		return c->rc;
	if (!art || !name || !ver || !hw || sc < 0 || !be || !out)
		return cli_usage_error(usage,
		                       "--artifact, --name, --version, --hardware, "
		                       "--security-counter, --backend and --out are required");
	if ((tgt != NULL) + srv + fresh != 1)
		return cli_usage_error(usage,
		                       "give exactly one of --targets FILE, --from-server, --new");
	int ndelta = (dof != NULL) + (bsha != NULL) + (bver != NULL);
	if (ndelta != 0 && ndelta != 3)
		return cli_usage_error(usage,
		                       "--delta-of, --base-sha256 and --base-version go together");
	if (bsha && (strlen(bsha) != 64 || strspn(bsha, "0123456789abcdef") != 64))
		return cli_usage_error(usage, "--base-sha256 is 64 lowercase hex digits");
	long long len = 0;
	char s256[65], s512[129];
	int ex = hash_file(art, &len, s256, s512);
	if (ex)
		return ex;
	json_t *md = NULL, *sg;
	if (tgt)
		ex = cli_md_read(tgt, &md);
	else if (srv)
		ex = server_targets(c, &md);
	if (ex)
		return ex;
	if (!md) {
		sg = json_pack("{s:s,s:s,s:i,s:{}}", "_type", "targets", "spec_version", "1.0.31",
		               "version", 0, "targets");
		if (fp_tuf_envelope(sg, &md, NULL)) {
			cli_error("out of memory");
			return CLI_EXIT_FAIL;
		}
	}
	sg = json_object_get(md, "signed");
	json_t *hwl = json_array();
	for (char *save = NULL, *p = strtok_r(hw, ",", &save); p; p = strtok_r(NULL, ",", &save))
		if (json_array_size(hwl) < HARDWARE_MAX)
			json_array_append_new(hwl, json_string(p));
	json_t *entry =
	    json_pack("{s:I,s:{s:s,s:s},s:{s:s,s:o,s:I,s:s}}", "length", (json_int_t)len, "hashes",
	              "sha256", s256, "sha512", s512, "custom", "version", ver, "hardware", hwl,
	              "security_counter", (json_int_t)sc, "backend", be);
	if (entry && dof)
		json_object_set_new(json_object_get(entry, "custom"), "delta",
		                    json_pack("{s:s,s:s,s:s}", "target", dof, "base_sha256", bsha,
		                              "base_version", bver));
	json_t *targets = json_object_get(sg, "targets");
	if (!entry || !json_is_object(targets)) {
		cli_error("the targets metadata has no \"targets\" object");
		json_decref(entry);
		json_decref(md);
		return CLI_EXIT_FAIL;
	}
	json_object_set_new(targets, name, entry);
	json_object_set_new(sg, "version",
	                    json_integer(json_integer_value(json_object_get(sg, "version")) + 1));
	json_object_set_new(md, "signatures", json_array());
	ex = cli_md_set_expiry(sg, days);
	if (!ex)
		ex = cli_md_write(out, md);
	if (!ex && !c->json)
		printf("wrote unsigned targets version %lld to %s: %s (%lld bytes, sha256 %s)\n",
		       (long long)json_integer_value(json_object_get(sg, "version")), out, name,
		       len, s256);
	json_decref(md);
	return ex;
}

static int release_publish(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {CLI_COMMON_OPTS, CLI_OPTS_END};
	if (cli_args(c, argc, argv, opts, usage, 1))
		return c->rc;
	return cli_push_file(c, argv[optind]);
}

static int artifact_upload(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {CLI_COMMON_OPTS, CLI_OPTS_END};
	if (cli_args(c, argc, argv, opts, usage, 1))
		return c->rc;
	json_t *out = NULL;
	int ex = cli_upload(c, "/api/v1/artifacts", argv[optind], ARTIFACT_UPLOAD_MAX, NULL, &out);
	if (ex)
		return ex;
	if (c->json) {
		json_dumpf(out, stdout, JSON_COMPACT);
		putchar('\n');
	} else {
		printf("%s %s (%lld bytes)%s\n", argv[optind],
		       json_string_value(json_object_get(out, "sha256")),
		       (long long)json_integer_value(json_object_get(out, "length")),
		       json_is_true(json_object_get(out, "existed")) ? ", stored already" : "");
	}
	json_decref(out);
	return CLI_EXIT_OK;
}

static int artifact_list(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {CLI_COMMON_OPTS, CLI_PAGING_OPTS, CLI_OPTS_END};
	static const struct cli_col cols[] = {
	    {"SHA256", "sha256", 0},      {"LENGTH", "length", 0}, {"BY", "created_by", 24},
	    {"CREATED", "created_at", 0}, {NULL, NULL, 0},
	};
	if (cli_args(c, argc, argv, opts, usage, 0))
		return c->rc;
	return cli_list(c, "/api/v1/artifacts", cols);
}

static int assignment_path(struct cli *c, const char *id, struct cli_url *u)
{
	long v;
	if (cli_parse_long(id, 1, 999999999999999999L, &v)) {
		c->rc = cli_usage_error(usage, "'%s' is not a device id", id);
		return -1;
	}
	cli_url_init(u, "/api/v1/devices/");
	cli_url_seg(u, id);
	cli_url_add(u, "/assignment");
	return 0;
}

static int assign(struct cli *c, int argc, char **argv)
{
	enum { O_TARGET = CLI_OPT_FIRST_OWN, O_DEADLINE };
	static const struct option opts[] = {
	    CLI_COMMON_OPTS,
	    {"target", required_argument, NULL, O_TARGET},
	    {"deadline", required_argument, NULL, O_DEADLINE},
	    CLI_OPTS_END,
	};
	const char *target = NULL, *deadline = NULL;
	int o;
	while ((o = cli_opt(c, argc, argv, opts, usage)) != -1) {
		switch (o) {
		case CLI_STOP: return c->rc;
		case O_TARGET: target = optarg; break;
		case O_DEADLINE: deadline = optarg; break;
		}
	}
	if (cli_operands(c, argc, argv, 1, usage))
		return c->rc;
	if (!target)
		return cli_usage_error(usage, "--target NAME is required");
	struct cli_url u;
	if (assignment_path(c, argv[optind], &u))
		return c->rc;
	json_t *body = json_pack("{s:s}", "target", target);
	if (deadline)
		json_object_set_new(body, "deadline", json_string(deadline));
	int ex = cli_show(c, "POST", u.s, body);
	json_decref(body);
	return ex;
}

static int assignment_simple(struct cli *c, int argc, char **argv, const char *method)
{
	static const struct option opts[] = {CLI_COMMON_OPTS, CLI_OPTS_END};
	if (cli_args(c, argc, argv, opts, usage, 1))
		return c->rc;
	struct cli_url u;
	if (assignment_path(c, argv[optind], &u))
		return c->rc;
	return cli_show(c, method, u.s, NULL);
}

static int assignment_show(struct cli *c, int argc, char **argv)
{
	return assignment_simple(c, argc, argv, "GET");
}

static int unassign(struct cli *c, int argc, char **argv)
{
	return assignment_simple(c, argc, argv, "DELETE");
}

int cli_cmd_release(struct cli *c, int argc, char **argv)
{
	static const struct cli_cmd cmds[] = {
	    {"create", release_create},  {"publish", release_publish},
	    {"upload", artifact_upload}, {"artifacts", artifact_list},
	    {"assign", assign},          {"assignment", assignment_show},
	    {"unassign", unassign},
	};
	return cli_dispatch(c, argc, argv, cmds, sizeof(cmds) / sizeof(cmds[0]), usage);
}
