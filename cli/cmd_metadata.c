/*
 * cmd_metadata.c — `fleetpatch metadata …` and `fleetpatch root …`: offline
 * work on TUF metadata files. Each key holder signs the same file on their
 * own machine (`metadata sign`), the copies are merged (`metadata merge`),
 * checked (`metadata verify`) and uploaded (`metadata push`). `root init`
 * and `root rotate` write unsigned root versions for them to sign.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fleetpatch/cjson.h"
#include "fleetpatch/tuf_role.h"
#include "keyfile.h"
#include "tufcli.h"

#define ROLE_KEYS_MAX 16 /* key files one option list may name */

static const char usage[] =
    "usage: fleetpatch metadata sign FILE --key NAME.key [--passphrase-file F] [--out FILE]\n"
    "       fleetpatch metadata merge --out FILE FILE...\n"
    "       fleetpatch metadata verify FILE [--root ROOT.json]\n"
    "       fleetpatch metadata push FILE [--json]\n"
    "\n"
    "sign    adds (or replaces) this key's signature over the canonical form of\n"
    "        FILE's \"signed\" part; FILE is rewritten as canonical JSON.\n"
    "merge   joins the signatures of copies of the same document, each signed on\n"
    "        another machine.\n"
    "verify  checks the signatures against a threshold: a root by its own root keys\n"
    "        (or, with --root OLD, as the rotation OLD -> FILE), any other role by\n"
    "        the keys ROOT.json gives it; also the expiry. Exits 1 when not valid.\n"
    "push    uploads signed root or targets metadata to the server.\n";

static const char root_usage[] =
    "usage: fleetpatch root init --out FILE --root-key PUB... --targets-key PUB...\n"
    "                            (--server-keys | --snapshot-key PUB --timestamp-key PUB)\n"
    "                            [--root-threshold N] [--targets-threshold N]\n"
    "                            [--expires-days N]\n"
    "       fleetpatch root rotate --in ROOT.json --out FILE [--root-key PUB...]\n"
    "                            [--targets-key PUB...] [--root-threshold N]\n"
    "                            [--targets-threshold N] [--expires-days N]\n"
    "\n"
    "init    writes an unsigned root version 1 (consistent snapshots on). Each key\n"
    "        option may be repeated or take a comma-separated list of .pub files.\n"
    "        --server-keys takes the snapshot and timestamp keys from the server\n"
    "        (GET /api/v1/repo/keys); compare their key ids with its log.\n"
    "rotate  writes version N+1 of ROOT.json with the roles' keys replaced where\n"
    "        given and no signatures: it must be signed by a threshold of the old\n"
    "        root keys and of the new ones.\n"
    "Thresholds default to 1; --expires-days to 365.\n";

static int sign_file(struct cli *c, int argc, char **argv)
{
	enum { O_KEY = CLI_OPT_FIRST_OWN, O_PASS, O_OUT };
	static const struct option opts[] = {
	    CLI_COMMON_OPTS,
	    {"key", required_argument, NULL, O_KEY},
	    {"passphrase-file", required_argument, NULL, O_PASS},
	    {"out", required_argument, NULL, O_OUT},
	    CLI_OPTS_END,
	};
	const char *key = NULL, *pass = NULL, *out = NULL;
	int o;
	while ((o = cli_opt(c, argc, argv, opts, usage)) != -1) {
		switch (o) {
		case CLI_STOP: return c->rc;
		case O_KEY: key = optarg; break;
		case O_PASS: pass = optarg; break;
		case O_OUT: out = optarg; break;
		}
	}
	if (cli_operands(c, argc, argv, 1, usage))
		return c->rc;
	if (!key)
		return cli_usage_error(usage, "--key NAME.key is required");
	const char *file = argv[optind];
	json_t *md = NULL;
	char *pem = NULL, keyid[FP_TUF_KEYID_LEN + 1];
	struct fp_err err = {0};
	int ex = cli_md_read(file, &md);
	if (ex)
		return ex;
	if (cli_key_load(key, pass, &pem)) {
		json_decref(md);
		return CLI_EXIT_FAIL;
	}
	if (fp_tuf_sign(md, pem, keyid, &err)) {
		cli_error("%s", err.msg);
		ex = CLI_EXIT_FAIL;
	}
	explicit_bzero(pem, strlen(pem));
	free(pem);
	if (!ex)
		ex = cli_md_write(out ? out : file, md);
	if (!ex && !c->json)
		printf("signed %s with key %s (%zu signature(s) now)\n", out ? out : file, keyid,
		       json_array_size(json_object_get(md, "signatures")));
	json_decref(md);
	return ex;
}

static int merge(struct cli *c, int argc, char **argv)
{
	enum { O_OUT = CLI_OPT_FIRST_OWN };
	static const struct option opts[] = {
	    CLI_COMMON_OPTS,
	    {"out", required_argument, NULL, O_OUT},
	    CLI_OPTS_END,
	};
	const char *out = NULL;
	int o;
	while ((o = cli_opt(c, argc, argv, opts, usage)) != -1) {
		if (o == CLI_STOP)
			return c->rc;
		if (o == O_OUT)
			out = optarg;
	}
	if (!out || optind >= argc)
		return cli_usage_error(usage, "merge needs --out FILE and at least one input");
	json_t *base = NULL;
	int ex = CLI_EXIT_OK;
	for (int i = optind; i < argc && !ex; i++) {
		json_t *md = NULL;
		if ((ex = cli_md_read(argv[i], &md)))
			break;
		if (!base) {
			base = md;
			continue;
		}
		if (!json_equal(json_object_get(base, "signed"), json_object_get(md, "signed"))) {
			cli_error("%s signs another document than %s; nothing was merged", argv[i],
			          argv[optind]);
			ex = CLI_EXIT_FAIL;
		}
		json_t *sigs = json_object_get(base, "signatures");
		size_t j, k;
		json_t *s, *t;
		json_array_foreach(json_object_get(md, "signatures"), j, s)
		{
			const char *kid = json_string_value(json_object_get(s, "keyid"));
			int dup = 0;
			json_array_foreach(sigs, k, t)
			{
				const char *tk = json_string_value(json_object_get(t, "keyid"));
				if (kid && tk && strcmp(kid, tk) == 0)
					dup = 1;
			}
			if (!dup && !ex)
				json_array_append(sigs, s);
		}
		json_decref(md);
	}
	if (!ex)
		ex = cli_md_write(out, base);
	if (!ex && !c->json)
		printf("%s: %zu signature(s)\n", out,
		       json_array_size(json_object_get(base, "signatures")));
	json_decref(base);
	return ex;
}

static int role_of(const json_t *md, enum fp_tuf_role *role)
{
	static const enum fp_tuf_role all[] = {FP_TUF_ROOT, FP_TUF_TIMESTAMP, FP_TUF_SNAPSHOT,
	                                       FP_TUF_TARGETS};
	const char *t = json_string_value(json_object_get(json_object_get(md, "signed"), "_type"));
	for (size_t i = 0; t && i < 4; i++)
		if (strcmp(t, fp_tuf_role_name(all[i])) == 0) {
			*role = all[i];
			return 0;
		}
	cli_error("_type must be root, timestamp, snapshot or targets");
	return -1;
}

static int verify(struct cli *c, int argc, char **argv)
{
	enum { O_ROOT = CLI_OPT_FIRST_OWN };
	static const struct option opts[] = {
	    CLI_COMMON_OPTS,
	    {"root", required_argument, NULL, O_ROOT},
	    CLI_OPTS_END,
	};
	const char *rootf = NULL;
	int o;
	while ((o = cli_opt(c, argc, argv, opts, usage)) != -1) {
		if (o == CLI_STOP)
			return c->rc;
		if (o == O_ROOT)
			rootf = optarg;
	}
	if (cli_operands(c, argc, argv, 1, usage))
		return c->rc;
	const char *file = argv[optind];
	char *data = NULL, *rdata = NULL;
	size_t len = 0, rlen = 0;
	json_t *md = NULL, *root = NULL;
	struct fp_tuf_trusted *t = NULL;
	struct fp_err err = {0};
	enum fp_tuf_role role;
	int64_t version = 0, expires = 0;
	int valid = 0, thr = 0, ex;
	if ((ex = cli_read_file(file, CLI_MD_MAX, &data, &len)) || (ex = cli_md_read(file, &md)))
		goto out;
	ex = CLI_EXIT_FAIL;
	if (role_of(md, &role))
		goto out;
	if (fp_tuf_parse(role, data, len, &version, &expires, &err))
		goto bad;
	if (rootf && cli_read_file(rootf, FP_TUF_ROOT_MAX, &rdata, &rlen))
		goto out;
	if (role == FP_TUF_ROOT) {
		if (rdata) {
			if (fp_tuf_trusted_new(rdata, rlen, &t, &err) ||
			    fp_tuf_update_root(t, data, len, &err))
				goto bad;
		} else if (fp_tuf_trusted_new(data, len, &t, &err)) {
			goto bad;
		}
		if (fp_tuf_role_check(json_object_get(md, "signed"), "root", md, &valid, &thr,
		                      &err))
			goto bad;
	} else {
		if (!rdata) {
			cli_usage_error(usage, "verifying %s metadata needs --root ROOT.json",
			                fp_tuf_role_name(role));
			ex = CLI_EXIT_USAGE;
			goto out;
		}
		if (fp_cjson_load(rdata, rlen, FP_TUF_ROOT_MAX, &root, &err) ||
		    fp_tuf_role_check(json_object_get(root, "signed"), fp_tuf_role_name(role), md,
		                      &valid, &thr, &err))
			goto bad;
	}
	if (expires <= (int64_t)time(NULL)) {
		fp_err_set(&err, FP_EPERM, "%s version %lld has expired", fp_tuf_role_name(role),
		           (long long)version);
		goto bad;
	}
	if (!fp_cjson_is_canonical(data, len))
		fprintf(stderr,
		        "fleetpatch: note: %s is not canonical JSON; 'metadata sign' "
		        "rewrites it so\n",
		        file);
	if (c->json)
		printf("{\"valid\":true,\"role\":\"%s\",\"version\":%lld,\"signatures\":%d,"
		       "\"threshold\":%d}\n",
		       fp_tuf_role_name(role), (long long)version, valid, thr);
	else
		printf("%s version %lld: valid (%d signature(s), threshold %d)\n",
		       fp_tuf_role_name(role), (long long)version, valid, thr);
	ex = CLI_EXIT_OK;
	goto out;
bad:
	if (c->json) {
		json_t *o2 = json_pack("{s:b,s:s}", "valid", 0, "reason", err.msg);
		json_dumpf(o2, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(o2);
	}
	cli_error("%s: not valid: %s", file, err.msg);
	ex = CLI_EXIT_FAIL;
out:
	fp_tuf_trusted_free(t);
	json_decref(md);
	json_decref(root);
	free(data);
	free(rdata);
	return ex;
}

int cli_push_file(struct cli *c, const char *file)
{
	char *data = NULL;
	size_t len = 0;
	json_t *md = NULL, *out = NULL;
	enum fp_tuf_role role;
	int ex = cli_read_file(file, CLI_MD_MAX, &data, &len);
	if (!ex)
		ex = cli_md_read(file, &md);
	if (!ex && role_of(md, &role))
		ex = CLI_EXIT_FAIL;
	if (!ex && role != FP_TUF_ROOT && role != FP_TUF_TARGETS) {
		cli_error("only root and targets are uploaded; the server signs the others");
		ex = CLI_EXIT_FAIL;
	}
	if (!ex) {
		ex = cli_post_raw(
		    c, role == FP_TUF_ROOT ? "/api/v1/repo/root" : "/api/v1/repo/targets", data,
		    len, &out);
		if (!ex && c->json) {
			json_dumpf(out, stdout, JSON_COMPACT);
			putchar('\n');
		} else if (!ex) {
			printf("published %s version %lld (expires %s)\n", fp_tuf_role_name(role),
			       (long long)json_integer_value(json_object_get(out, "version")),
			       json_string_value(json_object_get(out, "expires")));
		}
	}
	json_decref(md);
	json_decref(out);
	free(data);
	return ex;
}

static int push(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {CLI_COMMON_OPTS, CLI_OPTS_END};
	if (cli_args(c, argc, argv, opts, usage, 1))
		return c->rc;
	return cli_push_file(c, argv[optind]);
}

int cli_cmd_metadata(struct cli *c, int argc, char **argv)
{
	static const struct cli_cmd cmds[] = {
	    {"sign", sign_file},
	    {"merge", merge},
	    {"verify", verify},
	    {"push", push},
	};
	return cli_dispatch(c, argc, argv, cmds, sizeof(cmds) / sizeof(cmds[0]), usage);
}

/* ---- root ---- */

struct role_opt {
	const char *files[ROLE_KEYS_MAX];
	int n;
	long threshold; /* 0: not given */
};

static int add_files(struct role_opt *r, char *arg)
{
	for (char *save = NULL, *p = strtok_r(arg, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		if (r->n >= ROLE_KEYS_MAX)
			return cli_usage_error(root_usage, "at most %d keys per role",
			                       ROLE_KEYS_MAX);
		r->files[r->n++] = p;
	}
	return 0;
}

/* Sets role's keyids (and the keys) from key files or key objects. */
static int set_role(json_t *sg, const char *role, const struct role_opt *ro, json_t *objs,
                    long threshold)
{
	json_t *keys = json_object_get(sg, "keys"), *ids = json_array();
	for (int i = 0; i < ro->n; i++) {
		json_t *key = NULL;
		char kid[FP_TUF_KEYID_LEN + 1];
		if (cli_pub_key(ro->files[i], &key, kid)) {
			json_decref(ids);
			return CLI_EXIT_FAIL;
		}
		json_object_set_new(keys, kid, key);
		json_array_append_new(ids, json_string(kid));
	}
	const char *kid;
	json_t *kobj;
	json_object_foreach(objs, kid, kobj)
	{
		json_object_set(keys, kid, kobj);
		json_array_append_new(ids, json_string(kid));
	}
	if (threshold > (long)json_array_size(ids)) {
		cli_error("%s: threshold %ld is more than its %zu key(s)", role, threshold,
		          json_array_size(ids));
		json_decref(ids);
		return CLI_EXIT_FAIL;
	}
	json_object_set_new(
	    json_object_get(sg, "roles"), role,
	    json_pack("{s:o,s:I}", "keyids", ids, "threshold", (json_int_t)threshold));
	return CLI_EXIT_OK;
}

/* Drops keys that no role lists any more. */
static void prune_keys(json_t *sg)
{
	json_t *keys = json_object_get(sg, "keys"), *keep = json_object();
	const char *role, *kid;
	json_t *r, *k;
	json_object_foreach(json_object_get(sg, "roles"), role, r)
	{
		size_t i;
		json_t *id;
		json_array_foreach(json_object_get(r, "keyids"), i, id)
		{
			if ((k = json_object_get(keys, json_string_value(id))))
				json_object_set(keep, json_string_value(id), k);
		}
	}
	(void)kid;
	json_object_set_new(sg, "keys", keep);
}

static int server_keys(struct cli *c, json_t *objs[2])
{
	json_t *out = NULL;
	int ex = cli_api(c, "GET", "/api/v1/repo/keys", NULL, NULL, &out);
	if (ex)
		return ex;
	static const char *const names[2] = {"snapshot", "timestamp"};
	for (int i = 0; i < 2; i++) {
		const json_t *e = json_object_get(out, names[i]);
		const char *kid = json_string_value(json_object_get(e, "keyid"));
		const json_t *key = json_object_get(e, "key");
		if (!kid || !json_is_object(key)) {
			cli_error("the server did not send its %s key", names[i]);
			json_decref(out);
			return CLI_EXIT_FAIL;
		}
		objs[i] = json_object();
		json_object_set(objs[i], kid, (json_t *)key);
		fprintf(stderr, "%s key from the server: %s\n", names[i], kid);
	}
	json_decref(out);
	return CLI_EXIT_OK;
}

static int root_cmd(struct cli *c, int argc, char **argv, int rotate)
{
	enum {
		O_OUT = CLI_OPT_FIRST_OWN,
		O_IN,
		O_ROOTK,
		O_TARGK,
		O_SNAPK,
		O_TSK,
		O_ROOTT,
		O_TARGT,
		O_EXP,
		O_SRV
	};
	static const struct option opts[] = {
	    CLI_COMMON_OPTS,
	    {"out", required_argument, NULL, O_OUT},
	    {"in", required_argument, NULL, O_IN},
	    {"root-key", required_argument, NULL, O_ROOTK},
	    {"targets-key", required_argument, NULL, O_TARGK},
	    {"snapshot-key", required_argument, NULL, O_SNAPK},
	    {"timestamp-key", required_argument, NULL, O_TSK},
	    {"root-threshold", required_argument, NULL, O_ROOTT},
	    {"targets-threshold", required_argument, NULL, O_TARGT},
	    {"expires-days", required_argument, NULL, O_EXP},
	    {"server-keys", no_argument, NULL, O_SRV},
	    CLI_OPTS_END,
	};
	struct role_opt ro[4] = {0}; /* root, targets, snapshot, timestamp */
	static const char *const rn[4] = {"root", "targets", "snapshot", "timestamp"};
	const char *out = NULL, *in = NULL;
	long days = 365;
	int srv = 0, o;
	while ((o = cli_opt(c, argc, argv, opts, root_usage)) != -1) {
		int bad = 0;
		switch (o) {
		case CLI_STOP: return c->rc;
		case O_OUT: out = optarg; break;
		case O_IN: in = optarg; break;
		case O_ROOTK: bad = add_files(&ro[0], optarg); break;
		case O_TARGK: bad = add_files(&ro[1], optarg); break;
		case O_SNAPK: bad = add_files(&ro[2], optarg); break;
		case O_TSK: bad = add_files(&ro[3], optarg); break;
		case O_ROOTT:
		case O_TARGT:
			if (cli_parse_long(optarg, 1, FP_TUF_ROLE_KEYIDS_MAX,
			                   &ro[o == O_ROOTT ? 0 : 1].threshold))
				return cli_usage_error(root_usage, "a threshold is 1 to %d",
				                       FP_TUF_ROLE_KEYIDS_MAX);
			break;
		case O_EXP:
			if (cli_parse_long(optarg, 1, CLI_EXPIRES_MAX, &days))
				return cli_usage_error(root_usage, "--expires-days is 1 to %d",
				                       CLI_EXPIRES_MAX);
			break;
		case O_SRV: srv = 1; break;
		}
		if (bad)
			return bad;
	}
	if (cli_operands(c, argc, argv, 0, root_usage))
		return c->rc;
	if (!out || (rotate && !in))
		return cli_usage_error(root_usage,
		                       rotate ? "rotate needs --in and --out" : "init needs --out");
	json_t *md = NULL, *sg = NULL, *objs[4] = {0};
	int ex = CLI_EXIT_OK;
	if (rotate) {
		if ((ex = cli_md_read(in, &md)))
			return ex;
		sg = json_object_get(md, "signed");
		json_object_set_new(md, "signatures", json_array());
		json_int_t v = json_integer_value(json_object_get(sg, "version"));
		json_object_set_new(sg, "version", json_integer(v + 1));
	} else {
		if (!ro[0].n || !ro[1].n || (!srv && (!ro[2].n || !ro[3].n)))
			return cli_usage_error(root_usage,
			                       "init needs root and targets keys, and the snapshot "
			                       "and timestamp keys (or --server-keys)");
		if (srv && (ex = server_keys(c, objs + 2)))
			return ex;
		sg = json_pack("{s:s,s:s,s:i,s:b,s:{},s:{}}", "_type", "root", "spec_version",
		               "1.0.31", "version", 1, "consistent_snapshot", 1, "keys", "roles");
		if (fp_tuf_envelope(sg, &md, NULL)) {
			cli_error("out of memory");
			return CLI_EXIT_FAIL;
		}
		sg = json_object_get(md, "signed");
	}
	for (int i = 0; i < 4 && !ex; i++) {
		const json_t *cur = json_object_get(json_object_get(sg, "roles"), rn[i]);
		long thr = ro[i].threshold;
		if (!ro[i].n && !objs[i]) {
			if (!rotate)
				continue;
			if (thr) /* a new threshold for the same keys */
				json_object_set_new((json_t *)cur, "threshold", json_integer(thr));
			continue;
		}
		if (!thr)
			thr = rotate && cur
			          ? (long)json_integer_value(json_object_get(cur, "threshold"))
			          : 1;
		ex = set_role(sg, rn[i], &ro[i], objs[i], thr);
	}
	if (!ex) {
		prune_keys(sg);
		ex = cli_md_set_expiry(sg, days);
	}
	if (!ex)
		ex = cli_md_write(out, md);
	if (!ex && !c->json)
		printf("wrote unsigned root version %lld to %s; now sign it with 'fleetpatch "
		       "metadata sign'\n",
		       (long long)json_integer_value(json_object_get(sg, "version")), out);
	for (int i = 0; i < 4; i++)
		json_decref(objs[i]);
	json_decref(md);
	return ex;
}

static int root_init(struct cli *c, int argc, char **argv)
{
	return root_cmd(c, argc, argv, 0);
}

static int root_rotate(struct cli *c, int argc, char **argv)
{
	return root_cmd(c, argc, argv, 1);
}

int cli_cmd_root(struct cli *c, int argc, char **argv)
{
	static const struct cli_cmd cmds[] = {
	    {"init", root_init},
	    {"rotate", root_rotate},
	};
	return cli_dispatch(c, argc, argv, cmds, sizeof(cmds) / sizeof(cmds[0]), root_usage);
}
