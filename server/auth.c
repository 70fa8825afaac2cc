/*
 * auth.c — who is calling: operator tokens (stored hashed), stateless
 * device tokens (HMAC with a server key, revocable through the device's
 * auth epoch), and the first administrator.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleetpatch/secret.h"
#include "log.h"
#include "server.h"

#define USER_TOKEN_MAX          128
#define LAST_USED_GRANULARITY_S 60

int fp_auth_user_token(struct fp_server *s, fp_db *db, const char *token, struct fp_principal *who,
                       struct fp_err *err)
{
	(void)s;
	if (strlen(token) > USER_TOKEN_MAX || strncmp(token, "fpu_", 4) != 0)
		return fp_err_set(err, FP_EAUTH, "the token is not a fleetpatch operator token");
	char hash[FP_SHA256_HEX_LEN + 1];
	fp_sha256_hex(token, strlen(token), hash);
	fp_stmt *st = NULL;
	int rc =
	    fp_db_prepare(db,
	                  "SELECT t.id, t.user_id, t.expires_at, t.revoked_at, u.username, "
	                  "u.role, u.disabled, t.last_used_at FROM api_tokens t JOIN users u ON "
	                  "u.id = t.user_id WHERE t.token_hash = ?",
	                  &st, err);
	if (rc)
		return rc;
	fp_stmt_text(st, 1, hash);
	rc = fp_stmt_step(st, err);
	if (rc < 0)
		goto out;
	if (rc != FP_DB_ROW) {
		rc = fp_err_set(err, FP_EAUTH, "the token is not valid");
		goto out;
	}
	int64_t now = fp_now_s();
	if (!fp_stmt_col_null(st, 3)) {
		rc = fp_err_set(err, FP_EAUTH, "the token was revoked");
		goto out;
	}
	if (fp_stmt_col_int(st, 2) <= now) {
		rc = fp_err_set(err, FP_EAUTH, "the token has expired; log in again");
		goto out;
	}
	if (fp_stmt_col_int(st, 6)) {
		rc = fp_err_set(err, FP_EAUTH, "the user is disabled");
		goto out;
	}
	who->kind = FP_AUTH_USER;
	who->token_id = fp_stmt_col_int(st, 0);
	who->id = fp_stmt_col_int(st, 1);
	snprintf(who->name, sizeof(who->name), "%s", fp_stmt_col_text(st, 4));
	who->role = fp_role_parse(fp_stmt_col_text(st, 5));
	char nowtxt[32], cutoff[32];
	fp_time_rfc3339(now, nowtxt);
	fp_time_rfc3339(now - LAST_USED_GRANULARITY_S, cutoff);
	const char *last = fp_stmt_col_text(st, 7);
	int stale = !last || strcmp(last, cutoff) < 0;
	fp_stmt_finalize(st);
	st = NULL;
	rc = 0;
	/* Recording last use once a minute keeps reads from turning into writes. */
	if (stale &&
	    fp_db_run(db, NULL, NULL, "UPDATE api_tokens SET last_used_at = ? WHERE id = ?", "si",
	              nowtxt, who->token_id))
		fp_log(FP_LOG_WARN, "cannot record token use", "token_id=%" PRId64, who->token_id);
out:
	fp_stmt_finalize(st);
	return rc;
}

static void device_mac(struct fp_server *s, const char *payload, char out[65])
{
	unsigned char mac[32];
	fp_hmac_sha256(s->device_key, sizeof(s->device_key), payload, strlen(payload), mac);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", mac[i]);
}

int fp_device_token_issue(struct fp_server *s, int64_t device_id, int64_t epoch, int64_t ttl_s,
                          char *out, size_t outsz)
{
	char payload[96], mac[65];
	snprintf(payload, sizeof(payload), "fpd_%" PRId64 "_%" PRId64 "_%" PRId64, device_id, epoch,
	         fp_now_s() + ttl_s);
	device_mac(s, payload, mac);
	int n = snprintf(out, outsz, "%s_%s", payload, mac);
	return n > 0 && (size_t)n < outsz ? 0 : FP_ETOOBIG;
}

static int parse_i64(const char **p, int64_t *out)
{
	int64_t v = 0;
	int n = 0;
	while (**p >= '0' && **p <= '9' && n < 18) {
		v = v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	*out = v;
	return n > 0 && **p == '_' ? ((*p)++, 0) : -1;
}

int fp_auth_device_token(struct fp_server *s, fp_db *db, const char *token,
                         struct fp_principal *who, struct fp_err *err)
{
	if (strlen(token) > 160 || strncmp(token, "fpd_", 4) != 0)
		return fp_err_set(err, FP_EAUTH, "the token is not a fleetpatch device token");
	const char *p = token + 4;
	int64_t id, epoch, exp;
	if (parse_i64(&p, &id) || parse_i64(&p, &epoch) || parse_i64(&p, &exp) || strlen(p) != 64)
		return fp_err_set(err, FP_EAUTH, "the device token is malformed");
	char payload[96], mac[65];
	size_t plen = (size_t)(p - 1 - token);
	if (plen >= sizeof(payload))
		return fp_err_set(err, FP_EAUTH, "the device token is malformed");
	memcpy(payload, token, plen);
	payload[plen] = '\0';
	device_mac(s, payload, mac);
	if (!fp_ct_equal(mac, p, 64))
		return fp_err_set(err, FP_EAUTH, "the device token is not valid");
	if (exp <= fp_now_s())
		return fp_err_set(err, FP_EAUTH,
		                  "the device token has expired; authenticate again");
	fp_stmt *st = NULL;
	int rc = fp_db_prepare(
	    db, "SELECT status, auth_epoch, identity, last_checkin FROM devices WHERE id = ?", &st,
	    err);
	if (rc)
		return rc;
	fp_stmt_int(st, 1, id);
	rc = fp_stmt_step(st, err);
	if (rc < 0)
		goto out;
	if (rc != FP_DB_ROW || strcmp(fp_stmt_col_text(st, 0), "accepted") != 0 ||
	    fp_stmt_col_int(st, 1) != epoch) {
		rc = fp_err_set(err, FP_EAUTH, "the device is no longer authorised");
		goto out;
	}
	who->kind = FP_AUTH_DEVICE;
	who->id = id;
	who->role = FP_ROLE_NONE;
	snprintf(who->name, sizeof(who->name), "%s", fp_stmt_col_text(st, 2));
	who->last_checkin = fp_stmt_col_int(st, 3);
	rc = 0;
out:
	fp_stmt_finalize(st);
	return rc;
}

int fp_server_secret(struct fp_server *s, struct fp_err *err)
{
	fp_db *db = fp_db_pool_get(s->pool);
	fp_stmt *st = NULL;
	int rc = fp_db_prepare(db, "SELECT value FROM settings WHERE key = 'device_token_key'", &st,
	                       err);
	if (rc)
		goto out;
	rc = fp_stmt_step(st, err);
	if (rc == FP_DB_ROW) {
		const char *hex = fp_stmt_col_text(st, 0);
		for (int i = 0; i < 32 && hex && strlen(hex) == 64; i++) {
			unsigned v;
			sscanf(hex + 2 * i, "%2x", &v);
			s->device_key[i] = (unsigned char)v;
		}
		rc = 0;
		goto out;
	}
	if (rc < 0)
		goto out;
	if ((rc = fp_random_bytes(s->device_key, sizeof(s->device_key)))) {
		fp_err_set(err, rc, "cannot get random bytes for the device token key");
		goto out;
	}
	char hex[65];
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", s->device_key[i]);
	rc =
	    fp_db_run(db, err, NULL,
	              "INSERT INTO settings (key, value) VALUES ('device_token_key', ?)", "s", hex);
	fp_wipe(hex, sizeof(hex));
out:
	fp_stmt_finalize(st);
	fp_db_pool_put(s->pool, db);
	return rc;
}

int fp_bootstrap_admin(struct fp_server *s, struct fp_err *err)
{
	fp_db *db = fp_db_pool_get(s->pool);
	int64_t users = 0;
	char pw[21], hash[FP_PWHASH_MAX], now[32];
	int rc = fp_db_begin(db, err);
	if (rc)
		goto out;
	if ((rc = fp_db_run(db, err, &users, "SELECT COUNT(*) FROM users", NULL)))
		goto out;
	if (users > 0)
		goto out;
	if ((rc = fp_password_generate(pw, 20, err)) || (rc = fp_password_hash(pw, hash, err)))
		goto out;
	fp_time_rfc3339(fp_now_s(), now);
	if ((rc = fp_db_run(db, err, NULL,
	                    "INSERT INTO users (username, role, password_hash, created_at, "
	                    "updated_at) VALUES ('admin', 'admin', ?, ?, ?)",
	                    "sss", hash, now, now)))
		goto out;
	struct fp_principal sys = {.kind = FP_AUTH_NONE};
	json_t *after = json_pack("{s:s,s:s}", "username", "admin", "role", "admin");
	rc = fp_audit_append(db, &sys, "user.create", "user:admin", NULL, after, err);
	json_decref(after);
	if (rc)
		goto out;
	if ((rc = fp_db_commit(db, err)))
		goto out;
	/* The one time the password is shown; it is stored only as a scrypt hash. */
	fprintf(stderr,
	        "\n  fleetpatchd: created the first administrator\n"
	        "    username: admin\n"
	        "    password: %s\n"
	        "  This password is shown once. Log in with 'fleetpatch login' and change it\n"
	        "  with 'fleetpatch user passwd admin'.\n\n",
	        pw);
	fp_log(FP_LOG_INFO, "created first administrator", "username=admin");
out:
	fp_wipe(pw, sizeof(pw));
	fp_db_rollback(db);
	fp_db_pool_put(s->pool, db);
	return rc;
}
