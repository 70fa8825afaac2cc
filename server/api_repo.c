/*
 * api_repo.c — the TUF repository over HTTP: uploads of offline-signed root
 * (admin) and targets (approver) metadata, each verified before anything is
 * stored, and the public, read-only metadata and target files laid out for
 * consistent snapshots (docs/design/repository.md).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "fleetpatch/cjson.h"
#include "fleetpatch/secret.h"
#include "fleetpatch/tuf_role.h"
#include "log.h"
#include "repo.h"

#define TARGET_NAME_MAX 255 /* bytes of a target name this repository accepts */

/* Replies a verification failure: a refusal, never an authentication error. */
static void reply_rejected(struct fp_req *r, const struct fp_err *err)
{
	int status = 400;
	const char *code = "rejected";
	if (err->code == FP_ETOOBIG) {
		status = 413;
		code = "too_large";
	} else if (err->code == FP_ECONFLICT) {
		status = 409;
		code = "conflict";
	} else if (err->code == FP_ENOMEM || err->code == FP_EIO) {
		fp_reply_err(r, err);
		return;
	}
	fp_reply_error(r, status, code, "%s; nothing was stored", err->msg);
}

/*
 * Parses an uploaded document of role strictly (caps, duplicate keys,
 * structure), requires canonical JSON and a future expiry.
 */
static int read_upload(struct fp_req *r, enum fp_tuf_role role, json_t **md, int64_t *version,
                       int64_t *expires, struct fp_err *err)
{
	const char *name = fp_tuf_role_name(role);
	*md = NULL;
	if (!r->body_len)
		return fp_err_set(err, FP_EINVAL, "the request body must hold %s metadata", name);
	int rc = fp_tuf_parse(role, r->body, r->body_len, version, expires, err);
	if (rc)
		return rc;
	if (!fp_cjson_is_canonical(r->body, r->body_len))
		return fp_err_set(
		    err, FP_EINVAL,
		    "%s: the document is not canonical JSON (fleetpatch metadata sign "
		    "writes it canonical)",
		    name);
	if (*expires <= fp_now_s())
		return fp_err_set(err, FP_EPERM, "%s version %lld has expired", name,
		                  (long long)*version);
	return fp_cjson_load(r->body, r->body_len, r->body_len, md, err);
}

static int store(struct fp_req *r, const char *role, int64_t version, int64_t expires,
                 struct fp_err *err)
{
	char now[32];
	fp_time_rfc3339(fp_now_s(), now);
	return fp_db_run(r->db, err, NULL,
	                 "INSERT INTO tuf_metadata (role, version, body, expires, created_at) "
	                 "VALUES (?, ?, ?, ?, ?)",
	                 "sisis", role, version, r->body, expires, now);
}

static json_t *summary(const char *role, int64_t version, int64_t expires)
{
	char exp[21] = "";
	if (fp_tuf_time_format(expires, exp, NULL))
		exp[0] = '\0';
	return json_pack("{s:s,s:I,s:s}", "role", role, "version", (json_int_t)version, "expires",
	                 exp);
}

void fp_api_repo_root_put(struct fp_req *r)
{
	struct fp_err err = {0};
	json_t *md = NULL, *after = NULL;
	struct fp_tuf_trusted *t = NULL;
	char *cur = NULL;
	size_t cur_len = 0;
	int64_t version = 0, expires = 0, cv = 0;
	int rc = read_upload(r, FP_TUF_ROOT, &md, &version, &expires, &err);
	if (rc) {
		reply_rejected(r, &err);
		goto out;
	}
	if ((rc = fp_db_begin(r->db, &err))) {
		fp_reply_err(r, &err);
		goto out;
	}
	rc = fp_repo_get(r->db, "root", &cv, NULL, &cur, &cur_len, &err);
	if (rc == FP_ENOTFOUND) {
		/* The first root is trusted on upload by an admin: it must sign itself. */
		if (version != 1)
			rc = fp_err_set(&err, FP_ECONFLICT,
			                "the first root must be version 1, not %lld",
			                (long long)version);
		else
			rc = fp_tuf_trusted_new(r->body, r->body_len, &t, &err);
	} else if (rc == 0) {
		/* N+1 must be signed by a threshold of the old root keys and of its own. */
		rc = fp_tuf_trusted_new(cur, cur_len, &t, &err);
		if (rc == 0)
			rc = fp_tuf_update_root(t, r->body, r->body_len, &err);
	}
	const json_t *sg = json_object_get(md, "signed");
	for (int k = FP_KEY_SNAPSHOT; rc == 0 && k <= FP_KEY_TIMESTAMP; k++)
		if (!fp_tuf_role_has_key(sg, fp_online_key_name(k), r->srv->repo->keyid[k]))
			rc = fp_err_set(&err, FP_EINVAL,
			                "root: the %s role must list this server's %s key %s (GET "
			                "/api/v1/repo/keys)",
			                fp_online_key_name(k), fp_online_key_name(k),
			                r->srv->repo->keyid[k]);
	if (rc) {
		fp_db_rollback(r->db);
		reply_rejected(r, &err);
		goto out;
	}
	rc = store(r, "root", version, expires, &err);
	after = summary("root", version, expires);
	char obj[48];
	snprintf(obj, sizeof(obj), "repo:root:%" PRId64, version);
	if (fp_api_finish(r, rc, &err, "repo.root", obj, NULL, after) == 0) {
		fp_log(FP_LOG_INFO, "root metadata stored", "version=%lld", (long long)version);
		fp_reply(r, 201, json_incref(after));
	}
out:
	fp_tuf_trusted_free(t);
	json_decref(md);
	json_decref(after);
	free(cur);
}

static int valid_target_name(const char *n)
{
	size_t len = strlen(n);
	if (len == 0 || len > TARGET_NAME_MAX || n[0] == '.' || n[0] == '-')
		return 0;
	for (const char *p = n; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-' || *p == '+'))
			return 0;
	return 1;
}

/* Every target must be an uploaded artifact with the same length and hashes. */
static int check_targets(struct fp_req *r, const json_t *targets, struct fp_err *err)
{
	const char *name;
	const json_t *t;
	json_object_foreach((json_t *)targets, name, t)
	{
		const json_t *hashes = json_object_get(t, "hashes");
		const char *sha256 = json_string_value(json_object_get(hashes, "sha256"));
		const char *sha512 = json_string_value(json_object_get(hashes, "sha512"));
		int64_t len = json_integer_value(json_object_get(t, "length")), have = 0;
		char stored512[160];
		if (!valid_target_name(name))
			return fp_err_set(
			    err, FP_EINVAL,
			    "target '%.64s': names are 1 to %d characters of A-Z a-z 0-9 "
			    "and . _ - + (no directories), not starting with . or -",
			    name, TARGET_NAME_MAX);
		if (!sha256 || !fp_sha256_hex_valid(sha256))
			return fp_err_set(err, FP_EINVAL, "target '%s': a sha256 hash is required",
			                  name);
		int rc = fp_artifact_get(r->db, sha256, stored512, &have, err);
		if (rc == FP_ENOTFOUND)
			return fp_err_set(
			    err, FP_EINVAL,
			    "target '%s': no artifact with sha256 %s was uploaded (POST "
			    "/api/v1/artifacts first)",
			    name, sha256);
		if (rc)
			return rc;
		if (have != len)
			return fp_err_set(err, FP_EINVAL,
			                  "target '%s': its length %lld differs from the uploaded "
			                  "artifact's %lld bytes",
			                  name, (long long)len, (long long)have);
		if (sha512 && strcmp(sha512, stored512) != 0)
			return fp_err_set(
			    err, FP_EINVAL,
			    "target '%s': its sha512 differs from the uploaded artifact's", name);
	}
	return 0;
}

void fp_api_repo_targets_put(struct fp_req *r)
{
	struct fp_err err = {0};
	json_t *md = NULL, *root = NULL, *after = NULL;
	char *rbody = NULL;
	size_t rlen = 0;
	int64_t version = 0, expires = 0, rv = 0, tv = 0;
	int rc = read_upload(r, FP_TUF_TARGETS, &md, &version, &expires, &err);
	if (rc) {
		reply_rejected(r, &err);
		goto out;
	}
	if ((rc = fp_db_begin(r->db, &err))) {
		fp_reply_err(r, &err);
		goto out;
	}
	rc = fp_repo_get(r->db, "root", &rv, NULL, &rbody, &rlen, &err);
	if (rc == FP_ENOTFOUND)
		rc = fp_err_set(&err, FP_ECONFLICT, "upload a root first (POST /api/v1/repo/root)");
	if (rc == 0)
		rc = fp_cjson_load(rbody, rlen, FP_TUF_ROOT_MAX, &root, &err);
	if (rc == 0)
		rc = fp_tuf_role_check(json_object_get(root, "signed"), "targets", md, NULL, NULL,
		                       &err);
	if (rc == 0) {
		rc = fp_repo_get(r->db, "targets", &tv, NULL, NULL, NULL, &err);
		if (rc == FP_ENOTFOUND)
			rc = 0;
		if (rc == 0 && version != tv + 1)
			rc = fp_err_set(&err, FP_ECONFLICT,
			                "targets: version %lld, but the next version is %lld",
			                (long long)version, (long long)(tv + 1));
	}
	if (rc == 0)
		rc = check_targets(r, json_object_get(json_object_get(md, "signed"), "targets"),
		                   &err);
	if (rc) {
		fp_db_rollback(r->db);
		reply_rejected(r, &err);
		goto out;
	}
	rc = store(r, "targets", version, expires, &err);
	if (rc == 0)
		rc = fp_repo_sign_online(r->srv, r->db, 1, &err);
	after = summary("targets", version, expires);
	json_object_set_new(after, "targets",
	                    json_integer((json_int_t)json_object_size(
	                        json_object_get(json_object_get(md, "signed"), "targets"))));
	char obj[48];
	snprintf(obj, sizeof(obj), "repo:targets:%" PRId64, version);
	if (fp_api_finish(r, rc, &err, "repo.targets", obj, NULL, after) == 0) {
		fp_log(FP_LOG_INFO, "targets metadata published", "version=%lld",
		       (long long)version);
		fp_reply(r, 201, json_incref(after));
	}
out:
	json_decref(md);
	json_decref(root);
	json_decref(after);
	free(rbody);
}

static json_t *keys_json(struct fp_server *s)
{
	json_t *o = json_object();
	for (int k = 0; k < FP_KEY_COUNT; k++)
		json_object_set_new(o, fp_online_key_name(k),
		                    json_pack("{s:s,s:O,s:s}", "keyid", s->repo->keyid[k], "key",
		                              s->repo->key[k], "public_key_pem", s->repo->pub[k]));
	return o;
}

void fp_api_repo_keys(struct fp_req *r)
{
	fp_reply(r, 200, keys_json(r->srv));
}

void fp_api_repo_status(struct fp_req *r)
{
	static const char *const roles[] = {"root", "targets", "snapshot", "timestamp"};
	json_t *o = json_object(), *rl = json_object();
	for (int i = 0; i < 4; i++) {
		int64_t v = 0, exp = 0;
		if (fp_repo_get(r->db, roles[i], &v, &exp, NULL, NULL, NULL) == 0)
			json_object_set_new(rl, roles[i], summary(roles[i], v, exp));
		else
			json_object_set_new(rl, roles[i], json_null());
	}
	json_object_set_new(o, "roles", rl);
	json_object_set_new(o, "keys", keys_json(r->srv));
	json_object_set_new(o, "alerts", fp_repo_alerts(r->srv, r->db, fp_now_s()));
	fp_reply(r, 200, o);
}

void fp_api_alerts_list(struct fp_req *r)
{
	static const char *const q[] = {"page", "per_page", NULL};
	int64_t page, per_page;
	if (fp_req_only_query(r, q) || fp_req_paging(r, &page, &per_page))
		return;
	json_t *all = fp_repo_alerts(r->srv, r->db, fp_now_s()), *items = json_array();
	size_t n = json_array_size(all);
	for (size_t i = (size_t)((page - 1) * per_page); i < n && i < (size_t)(page * per_page);
	     i++)
		json_array_append(items, json_array_get(all, i));
	json_decref(all);
	fp_reply_page(r, items, (int64_t)n, page, per_page);
}

/* "N.role.json" or "role.json" (the newest version). */
static int parse_meta_name(const char *file, char role[16], int64_t *version)
{
	*version = 0;
	const char *p = file;
	if (*p >= '0' && *p <= '9') {
		int64_t v = 0;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (v > INT64_MAX / 10 - 10)
				return -1;
			v = v * 10 + (*p - '0');
		}
		if (*p != '.' || v < 1 || file[0] == '0')
			return -1;
		p++;
		*version = v;
	}
	static const char *const roles[] = {"root", "targets", "snapshot", "timestamp"};
	for (int i = 0; i < 4; i++) {
		size_t n = strlen(roles[i]);
		if (strncmp(p, roles[i], n) == 0 && strcmp(p + n, ".json") == 0) {
			/* Timestamp is never versioned in a URL (TUF 5.4). */
			if (i == 3 && *version)
				return -1;
			snprintf(role, 16, "%s", roles[i]);
			return 0;
		}
	}
	return -1;
}

void fp_api_repo_metadata(struct fp_req *r)
{
	char role[16];
	int64_t v = 0;
	char *body = NULL;
	size_t len = 0;
	struct fp_err err = {0};
	if (parse_meta_name(r->params[0], role, &v)) {
		fp_reply_error(r, 404, "not_found",
		               "metadata files are root.json, timestamp.json and N.root.json, "
		               "N.snapshot.json, N.targets.json");
		return;
	}
	int rc = fp_repo_get(r->db, role, &v, NULL, &body, &len, &err);
	if (rc) {
		fp_reply_err(r, &err);
		return;
	}
	fp_reply_raw(r, 200, "application/json", body, len);
}

void fp_api_repo_target_file(struct fp_req *r)
{
	/* Consistent snapshots: "<sha256>.<name>" of a target in the newest targets. */
	const char *file = r->params[0], *dot = strchr(file, '.');
	char hash[FP_SHA256_HEX_LEN + 1];
	struct fp_err err = {0};
	json_t *t = NULL;
	if (!dot || dot - file != FP_SHA256_HEX_LEN) {
		fp_reply_error(r, 404, "not_found",
		               "target files are named <sha256>.<target name>");
		return;
	}
	memcpy(hash, file, FP_SHA256_HEX_LEN);
	hash[FP_SHA256_HEX_LEN] = '\0';
	if (fp_repo_target(r->db, dot + 1, &t, &err)) {
		fp_reply_err(r, &err);
		return;
	}
	const char *want =
	    json_string_value(json_object_get(json_object_get(t, "hashes"), "sha256"));
	if (!want || strcmp(want, hash) != 0)
		fp_reply_error(r, 404, "not_found", "target '%.200s' has another sha256", dot + 1);
	else
		fp_artifact_serve(r, hash);
	json_decref(t);
}
