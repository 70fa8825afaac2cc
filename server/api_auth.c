/*
 * api_auth.c — operator sessions, users and API tokens.
 *
 * Passwords are kept as scrypt hashes; tokens are random and kept as their
 * SHA-256, so a copy of the database gives no one a way in. Login failures
 * are counted per user and per client address in the database (so several
 * server processes share the count) and answered with 429 past the limit.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "fleetpatch/device.h"
#include "fleetpatch/secret.h"
#include "log.h"

#define PASSWORD_MIN   12
#define USERNAME_MAX   64
#define TOKEN_NAME_MAX 128

static int username_valid(const char *u)
{
	size_t n = strlen(u);
	if (n == 0 || n > USERNAME_MAX || !isalnum((unsigned char)u[0]))
		return 0;
	for (const char *p = u; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) &&
		    !strchr("_.-@", *p))
			return 0;
	return 1;
}

static int password_ok(struct fp_req *r, const char *pw)
{
	if (!pw) {
		fp_reply_error(r, 400, "invalid", "password: expected a string");
		return 0;
	}
	size_t n = strlen(pw);
	if (n < PASSWORD_MIN || n > FP_PASSWORD_MAX) {
		fp_reply_error(r, 400, "invalid", "password: must be %d to %d bytes long",
		               PASSWORD_MIN, FP_PASSWORD_MAX);
		return 0;
	}
	return 1;
}

/* ---- login rate limiting ---- */

static int limited(struct fp_req *r, const char *key, long max, int64_t *retry)
{
	fp_stmt *st = NULL;
	int hit = 0;
	if (fp_db_prepare(r->db, "SELECT failures, window_start FROM login_failures WHERE key = ?",
	                  &st, NULL))
		return 0;
	fp_stmt_text(st, 1, key);
	if (fp_stmt_step(st, NULL) == FP_DB_ROW) {
		int64_t end = fp_stmt_col_int(st, 1) + r->srv->cfg.login_window_s;
		if (fp_stmt_col_int(st, 0) >= max && end > fp_now_s()) {
			hit = 1;
			*retry = end - fp_now_s();
		}
	}
	fp_stmt_finalize(st);
	return hit;
}

static void count_failure(struct fp_req *r, const char *key)
{
	int64_t now = fp_now_s();
	int64_t start = now - r->srv->cfg.login_window_s;
	if (fp_db_begin(r->db, NULL))
		return;
	int rc = fp_db_run(r->db, NULL, NULL,
	                   "DELETE FROM login_failures WHERE key = ? AND window_start <= ?", "si",
	                   key, start);
	if (rc == 0)
		rc =
		    fp_db_run(r->db, NULL, NULL,
		              "INSERT INTO login_failures (key, failures, window_start) VALUES (?, "
		              "1, ?) ON CONFLICT (key) DO UPDATE SET failures = "
		              "login_failures.failures + 1",
		              "si", key, now);
	if (rc == 0)
		rc = fp_db_commit(r->db, NULL);
	if (rc)
		fp_db_rollback(r->db);
}

static int issue_token(struct fp_req *r, int64_t user_id, const char *name, const char *kind,
                       int64_t ttl_s, char token[FP_TOKEN_MAX], int64_t *id, int64_t *expires,
                       struct fp_err *err)
{
	int rc = fp_token_new("fpu", token, err);
	if (rc)
		return rc;
	char hash[FP_SHA256_HEX_LEN + 1], now[32];
	fp_sha256_hex(token, strlen(token), hash);
	fp_time_rfc3339(fp_now_s(), now);
	*expires = fp_now_s() + ttl_s;
	return fp_db_run(r->db, err, id,
	                 "INSERT INTO api_tokens (user_id, name, kind, token_hash, created_at, "
	                 "expires_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
	                 "isssi"
	                 "i",
	                 user_id, name, kind, hash, now, *expires);
}

/* A hash to verify against when the user does not exist (made once). */
static char dummy_hash[FP_PWHASH_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy_hash(void)
{
	if (fp_password_hash("fleetpatch-dummy-password", dummy_hash, NULL))
		dummy_hash[0] = '\0';
}

void fp_api_login(struct fp_req *r)
{
	static const char *const fields[] = {"username", "password", NULL};
	if (fp_req_only_fields(r, r->json, fields))
		return;
	const char *user = json_string_value(json_object_get(r->json, "username"));
	const char *pw = json_string_value(json_object_get(r->json, "password"));
	if (!user || !pw || strlen(user) > USERNAME_MAX || strlen(pw) > FP_PASSWORD_MAX) {
		fp_reply_error(r, 400, "invalid",
		               "username and password are required strings (at most %d and %d "
		               "bytes)",
		               USERNAME_MAX, FP_PASSWORD_MAX);
		return;
	}
	char ukey[96], ikey[96];
	snprintf(ukey, sizeof(ukey), "user:%s", user);
	snprintf(ikey, sizeof(ikey), "addr:%s", r->client);
	int64_t retry = 0;
	long max = r->srv->cfg.login_max_failures;
	if (limited(r, ukey, max, &retry) || limited(r, ikey, max * 4, &retry)) {
		snprintf(r->extra_header, sizeof(r->extra_header), "Retry-After: %" PRId64, retry);
		fp_reply_error(r, 429, "rate_limited",
		               "too many failed logins; try again in %" PRId64 " seconds", retry);
		return;
	}
	fp_stmt *st = NULL;
	struct fp_err err = {0};
	if (fp_db_prepare(r->db,
	                  "SELECT id, password_hash, role, disabled FROM users WHERE username = ?",
	                  &st, &err)) {
		fp_reply_err(r, &err);
		return;
	}
	fp_stmt_text(st, 1, user);
	int found = fp_stmt_step(st, NULL) == FP_DB_ROW;
	int64_t uid = found ? fp_stmt_col_int(st, 0) : 0;
	char hash[FP_PWHASH_MAX] = "";
	char role[16] = "";
	int disabled = found ? (int)fp_stmt_col_int(st, 3) : 0;
	if (found) {
		snprintf(hash, sizeof(hash), "%s", fp_stmt_col_text(st, 1));
		snprintf(role, sizeof(role), "%s", fp_stmt_col_text(st, 2));
	}
	fp_stmt_finalize(st);
	/* Unknown users cost the same scrypt work, so timing does not reveal them. */
	pthread_once(&dummy_once, make_dummy_hash);
	int ok = fp_password_verify(pw, found ? hash : dummy_hash, NULL) == 0 && found && !disabled;
	if (!ok) {
		count_failure(r, ukey);
		count_failure(r, ikey);
		atomic_fetch_add(&r->srv->logins_failed, 1);
		char q[160];
		fp_log(FP_LOG_WARN, "login failed", "user=%s client=%s",
		       fp_log_quote(user, q, sizeof(q)), r->client);
		fp_reply_error(r, 401, "unauthorized", "wrong username or password");
		return;
	}
	if (fp_db_run(r->db, NULL, NULL, "DELETE FROM login_failures WHERE key = ?", "s", ukey))
		fp_log(FP_LOG_WARN, "cannot reset login failures", "client=%s", r->client);
	char token[FP_TOKEN_MAX];
	int64_t id, expires;
	if (issue_token(r, uid, "login session", "session", r->srv->cfg.session_ttl_s, token, &id,
	                &expires, &err)) {
		fp_reply_err(r, &err);
		return;
	}
	atomic_fetch_add(&r->srv->logins_ok, 1);
	char exp[32];
	fp_time_rfc3339(expires, exp);
	fp_reply(r, 200,
	         json_pack("{s:s,s:s,s:{s:s,s:s}}", "token", token, "expires_at", exp, "user",
	                   "username", user, "role", role));
	fp_wipe(token, sizeof(token));
}

void fp_api_logout(struct fp_req *r)
{
	char now[32];
	fp_time_rfc3339(fp_now_s(), now);
	struct fp_err err = {0};
	if (fp_db_run(r->db, &err, NULL, "UPDATE api_tokens SET revoked_at = ? WHERE id = ?", "si",
	              now, r->who.token_id))
		fp_reply_err(r, &err);
	else
		fp_reply(r, 200, json_pack("{s:b}", "logged_out", 1));
}

void fp_api_whoami(struct fp_req *r)
{
	fp_reply(r, 200,
	         json_pack("{s:s,s:s,s:I}", "username", r->who.name, "role",
	                   fp_role_name(r->who.role), "token_id", (json_int_t)r->who.token_id));
}

/* ---- users ---- */

static json_t *user_json(struct fp_req *r, fp_stmt *st)
{
	(void)r;
	return json_pack("{s:s,s:s,s:b,s:s,s:s}", "username", fp_stmt_col_text(st, 0), "role",
	                 fp_stmt_col_text(st, 1), "disabled", (int)fp_stmt_col_int(st, 2),
	                 "created_at", fp_stmt_col_text(st, 3), "updated_at",
	                 fp_stmt_col_text(st, 4));
}

#define USER_COLS "username, role, disabled, created_at, updated_at"

static json_t *load_user(struct fp_req *r, const char *name)
{
	fp_stmt *st = NULL;
	json_t *u = NULL;
	if (fp_db_prepare(r->db, "SELECT " USER_COLS " FROM users WHERE username = ?", &st, NULL))
		return NULL;
	fp_stmt_text(st, 1, name);
	if (fp_stmt_step(st, NULL) == FP_DB_ROW)
		u = user_json(r, st);
	fp_stmt_finalize(st);
	return u;
}

void fp_api_users_list(struct fp_req *r)
{
	fp_api_list_page(r, "SELECT COUNT(*) FROM users",
	                 "SELECT " USER_COLS " FROM users ORDER BY username LIMIT ? OFFSET ?", -1,
	                 user_json);
}

void fp_api_user_create(struct fp_req *r)
{
	static const char *const fields[] = {"username", "role", "password", NULL};
	if (fp_req_only_fields(r, r->json, fields))
		return;
	const char *name = json_string_value(json_object_get(r->json, "username"));
	const char *role = json_string_value(json_object_get(r->json, "role"));
	const char *pw = json_string_value(json_object_get(r->json, "password"));
	if (!name || !username_valid(name)) {
		fp_reply_error(
		    r, 400, "invalid",
		    "username: 1-%d characters of a-z 0-9 _ . - @, starting with a letter "
		    "or digit",
		    USERNAME_MAX);
		return;
	}
	if (!role || fp_role_parse(role) == FP_ROLE_NONE) {
		fp_reply_error(r, 400, "invalid",
		               "role: must be one of viewer, operator, approver, admin");
		return;
	}
	if (!password_ok(r, pw))
		return;
	struct fp_err err = {0};
	char hash[FP_PWHASH_MAX], now[32];
	if (fp_password_hash(pw, hash, &err)) {
		fp_reply_err(r, &err);
		return;
	}
	fp_time_rfc3339(fp_now_s(), now);
	if (fp_db_begin(r->db, &err)) {
		fp_reply_err(r, &err);
		return;
	}
	int rc = fp_db_run(r->db, &err, NULL,
	                   "INSERT INTO users (username, role, password_hash, created_at, "
	                   "updated_at) VALUES (?, ?, ?, ?, ?)",
	                   "sssss", name, role, hash, now, now);
	if (rc == FP_EEXIST)
		fp_err_set(&err, FP_EEXIST, "a user named '%s' already exists", name);
	json_t *after = rc ? NULL : load_user(r, name);
	char obj[96];
	snprintf(obj, sizeof(obj), "user:%s", name);
	if (fp_api_finish(r, rc, &err, "user.create", obj, NULL, after) == 0)
		fp_reply(r, 201, json_incref(after));
	json_decref(after);
}

static int may_see_user(struct fp_req *r, const char *name)
{
	if (r->who.role >= FP_ROLE_ADMIN || strcmp(r->who.name, name) == 0)
		return 1;
	fp_reply_error(r, 403, "forbidden", "only an admin may see or change another user");
	return 0;
}

void fp_api_user_get(struct fp_req *r)
{
	const char *name = r->params[0];
	if (!may_see_user(r, name))
		return;
	json_t *u = load_user(r, name);
	if (!u)
		fp_reply_error(r, 404, "not_found", "no user named '%.64s'", name);
	else
		fp_reply(r, 200, u);
}

static int64_t active_admins_except(struct fp_req *r, const char *name)
{
	int64_t n = 0;
	if (fp_db_run(r->db, NULL, &n,
	              "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0 AND "
	              "username <> ?",
	              "s", name))
		return 0;
	return n;
}

void fp_api_user_patch(struct fp_req *r)
{
	static const char *const fields[] = {"role", "disabled", "password", "current_password",
	                                     NULL};
	const char *name = r->params[0];
	if (fp_req_only_fields(r, r->json, fields) || !may_see_user(r, name))
		return;
	json_t *jrole = json_object_get(r->json, "role"),
	       *jdis = json_object_get(r->json, "disabled");
	json_t *jpw = json_object_get(r->json, "password");
	int admin = r->who.role >= FP_ROLE_ADMIN;
	if ((jrole || jdis) && !admin) {
		fp_reply_error(r, 403, "forbidden",
		               "only an admin may change roles or disable users");
		return;
	}
	if (jrole && (!json_is_string(jrole) || fp_role_parse(json_string_value(jrole)) == 0)) {
		fp_reply_error(r, 400, "invalid",
		               "role: must be one of viewer, operator, approver, admin");
		return;
	}
	if (jdis && !json_is_boolean(jdis)) {
		fp_reply_error(r, 400, "invalid", "disabled: expected true or false");
		return;
	}
	if (jpw && !password_ok(r, json_string_value(jpw)))
		return;
	struct fp_err err = {0};
	char hash[FP_PWHASH_MAX] = "";
	if (jpw && !admin) {
		/* Changing one's own password needs the current one. */
		const char *cur = json_string_value(json_object_get(r->json, "current_password"));
		fp_stmt *st = NULL;
		int ok = 0;
		if (cur && strlen(cur) <= FP_PASSWORD_MAX &&
		    fp_db_prepare(r->db, "SELECT password_hash FROM users WHERE username = ?", &st,
		                  NULL) == 0) {
			fp_stmt_text(st, 1, name);
			if (fp_stmt_step(st, NULL) == FP_DB_ROW)
				ok = fp_password_verify(cur, fp_stmt_col_text(st, 0), NULL) == 0;
			fp_stmt_finalize(st);
		}
		if (!ok) {
			fp_reply_error(r, 403, "forbidden", "current_password is missing or wrong");
			return;
		}
	}
	if (jpw && fp_password_hash(json_string_value(jpw), hash, &err)) {
		fp_reply_err(r, &err);
		return;
	}
	if (fp_db_begin(r->db, &err)) {
		fp_reply_err(r, &err);
		return;
	}
	json_t *before = load_user(r, name), *after = NULL;
	int rc = 0;
	if (!before) {
		fp_db_rollback(r->db);
		fp_reply_error(r, 404, "not_found", "no user named '%.64s'", name);
		return;
	}
	int demote = (jrole && strcmp(json_string_value(jrole), "admin") != 0) ||
	             (jdis && json_is_true(jdis));
	if (demote && strcmp(json_string_value(json_object_get(before, "role")), "admin") == 0 &&
	    active_admins_except(r, name) == 0) {
		rc = fp_err_set(&err, FP_ECONFLICT,
		                "'%s' is the last active admin; make another admin first", name);
		goto done;
	}
	char now[32];
	fp_time_rfc3339(fp_now_s(), now);
	if (jrole)
		rc = fp_db_run(r->db, &err, NULL,
		               "UPDATE users SET role = ?, updated_at = ? WHERE username = ?",
		               "sss", json_string_value(jrole), now, name);
	if (!rc && jdis)
		rc = fp_db_run(r->db, &err, NULL,
		               "UPDATE users SET disabled = ?, updated_at = ? WHERE username = ?",
		               "iss", (int64_t)json_is_true(jdis), now, name);
	if (!rc && jpw) {
		rc = fp_db_run(
		    r->db, &err, NULL,
		    "UPDATE users SET password_hash = ?, updated_at = ? WHERE username = ?", "sss",
		    hash, now, name);
		/* A new password ends every login session of that user but this one. */
		if (!rc)
			rc =
			    fp_db_run(r->db, &err, NULL,
			              "UPDATE api_tokens SET revoked_at = ? WHERE kind = 'session' "
			              "AND revoked_at IS NULL AND id <> ? AND user_id = (SELECT id "
			              "FROM users WHERE username = ?)",
			              "sis", now, r->who.token_id, name);
	}
	after = rc ? NULL : load_user(r, name);
	if (after && jpw)
		json_object_set_new(after, "password_changed", json_true());
done:;
	char obj[96];
	snprintf(obj, sizeof(obj), "user:%s", name);
	if (fp_api_finish(r, rc, &err, "user.update", obj, before, after) == 0) {
		json_object_del(after, "password_changed");
		fp_reply(r, 200, json_incref(after));
	}
	json_decref(before);
	json_decref(after);
}

void fp_api_user_delete(struct fp_req *r)
{
	const char *name = r->params[0];
	struct fp_err err = {0};
	if (fp_db_begin(r->db, &err)) {
		fp_reply_err(r, &err);
		return;
	}
	json_t *before = load_user(r, name);
	int rc = 0;
	if (!before) {
		fp_db_rollback(r->db);
		fp_reply_error(r, 404, "not_found", "no user named '%.64s'", name);
		return;
	}
	if (strcmp(name, r->who.name) == 0)
		rc = fp_err_set(&err, FP_ECONFLICT, "you cannot delete yourself");
	else if (strcmp(json_string_value(json_object_get(before, "role")), "admin") == 0 &&
	         active_admins_except(r, name) == 0)
		rc = fp_err_set(&err, FP_ECONFLICT, "'%s' is the last active admin", name);
	else
		rc =
		    fp_db_run(r->db, &err, NULL, "DELETE FROM users WHERE username = ?", "s", name);
	char obj[96];
	snprintf(obj, sizeof(obj), "user:%s", name);
	if (fp_api_finish(r, rc, &err, "user.delete", obj, before, NULL) == 0)
		fp_reply(r, 200, json_pack("{s:s}", "deleted", name));
	json_decref(before);
}

/* ---- API tokens ---- */

static json_t *token_json(struct fp_req *r, fp_stmt *st)
{
	(void)r;
	char exp[32];
	fp_time_rfc3339(fp_stmt_col_int(st, 4), exp);
	return json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s?,s:s?}", "id",
	                 (json_int_t)fp_stmt_col_int(st, 0), "name", fp_stmt_col_text(st, 1),
	                 "kind", fp_stmt_col_text(st, 2), "username", fp_stmt_col_text(st, 3),
	                 "expires_at", exp, "created_at", fp_stmt_col_text(st, 5), "last_used_at",
	                 fp_stmt_col_text(st, 6), "revoked_at", fp_stmt_col_text(st, 7));
}

void fp_api_tokens_list(struct fp_req *r)
{
	/* Admins see every token; others only their own. */
	int64_t owner = r->who.role >= FP_ROLE_ADMIN ? 0 : r->who.id;
	fp_api_list_page(r, "SELECT COUNT(*) FROM api_tokens WHERE ? IN (0, user_id)",
	                 "SELECT t.id, t.name, t.kind, u.username, t.expires_at, t.created_at, "
	                 "t.last_used_at, t.revoked_at FROM api_tokens t JOIN users u ON u.id = "
	                 "t.user_id WHERE ? IN (0, t.user_id) ORDER BY t.id LIMIT ? OFFSET ?",
	                 owner, token_json);
}

void fp_api_token_create(struct fp_req *r)
{
	static const char *const fields[] = {"name", "expires_in_days", NULL};
	if (fp_req_only_fields(r, r->json, fields))
		return;
	const char *name = json_string_value(json_object_get(r->json, "name"));
	json_t *jd = json_object_get(r->json, "expires_in_days");
	long max_days = r->srv->cfg.api_token_max_ttl_s / 86400;
	if (!name || !*name || !fp_text_valid(name, TOKEN_NAME_MAX)) {
		fp_reply_error(r, 400, "invalid", "name: a text of 1-%d bytes is required",
		               TOKEN_NAME_MAX);
		return;
	}
	/* Without an explicit lifetime a token lives 90 days, or less if the config says so. */
	int64_t days = max_days < 90 ? max_days : 90;
	if (jd) {
		if (!json_is_integer(jd) || json_integer_value(jd) < 1 ||
		    json_integer_value(jd) > max_days) {
			fp_reply_error(r, 400, "invalid",
			               "expires_in_days: an integer from 1 to %ld", max_days);
			return;
		}
		days = json_integer_value(jd);
	}
	struct fp_err err = {0};
	char token[FP_TOKEN_MAX];
	int64_t id = 0, expires = 0;
	if (fp_db_begin(r->db, &err)) {
		fp_reply_err(r, &err);
		return;
	}
	int rc = issue_token(r, r->who.id, name, "api", days * 86400, token, &id, &expires, &err);
	char exp[32], obj[64];
	fp_time_rfc3339(expires, exp);
	snprintf(obj, sizeof(obj), "token:%" PRId64, id);
	json_t *after = json_pack("{s:I,s:s,s:s,s:s}", "id", (json_int_t)id, "name", name,
	                          "username", r->who.name, "expires_at", exp);
	if (fp_api_finish(r, rc, &err, "token.create", obj, NULL, after) == 0) {
		json_t *out = json_deep_copy(after);
		json_object_set_new(out, "token", json_string(token));
		fp_reply(r, 201, out);
	}
	fp_wipe(token, sizeof(token));
	json_decref(after);
}

void fp_api_token_revoke(struct fp_req *r)
{
	int64_t id;
	if (fp_req_id(r, 0, &id))
		return;
	struct fp_err err = {0};
	if (fp_db_begin(r->db, &err)) {
		fp_reply_err(r, &err);
		return;
	}
	int64_t owner = 0;
	int rc =
	    fp_db_run(r->db, &err, &owner, "SELECT user_id FROM api_tokens WHERE id = ?", "i", id);
	if (rc == FP_ENOTFOUND || (rc == 0 && owner != r->who.id && r->who.role < FP_ROLE_ADMIN)) {
		/* Someone else's token is reported as absent, not as forbidden. */
		fp_db_rollback(r->db);
		fp_reply_error(r, 404, "not_found", "no token with id %" PRId64, id);
		return;
	}
	char now[32], obj[64];
	fp_time_rfc3339(fp_now_s(), now);
	if (rc == 0)
		rc =
		    fp_db_run(r->db, &err, NULL,
		              "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS "
		              "NULL",
		              "si", now, id);
	snprintf(obj, sizeof(obj), "token:%" PRId64, id);
	json_t *after = json_pack("{s:I,s:s}", "id", (json_int_t)id, "revoked_at", now);
	if (fp_api_finish(r, rc, &err, "token.revoke", obj, NULL, after) == 0)
		fp_reply(r, 200, json_incref(after));
	json_decref(after);
}
