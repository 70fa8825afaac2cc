/*
 * api_device.c — the endpoints devices call: authentication with their own
 * key pair, check-in ("is there work for me?") and inventory reports.
 *
 * A device proves possession of its private key by signing the raw request
 * body of /device/auth (header X-FP-Signature, base64). An unknown identity
 * becomes a pending device that an operator accepts or rejects; a
 * pre-authorised identity is accepted when the key matches the registered
 * one. Accepted devices get a short-lived token.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "rollouts.h"
#include "fleetpatch/sig.h"
#include "log.h"
#include "store_devices.h"
#include "vuln.h"

#define AUTH_CLOCK_SKEW_S       300
#define LAST_SEEN_GRANULARITY_S 60

/* Fields a device may report about itself; the rest belong to operators. */
static const enum fp_device_field device_reported[] = {
    FP_DEV_SERIAL,           FP_DEV_MANUFACTURER, FP_DEV_MODEL,      FP_DEV_HW_REVISION,
    FP_DEV_FIRMWARE,         FP_DEV_PLATFORM,     FP_DEV_OS_VERSION, FP_DEV_PATCH_LEVEL,
    FP_DEV_UPDATE_MECHANISM, FP_DEV_IP,           FP_DEV_MAC,        FP_DEV_HOSTNAME,
};

static int is_reported(const char *key)
{
	if (strcmp(key, "components") == 0 || strcmp(key, "attributes") == 0)
		return 1;
	int f = fp_device_field_lookup(key);
	for (size_t i = 0; i < sizeof(device_reported) / sizeof(device_reported[0]); i++)
		if (f == (int)device_reported[i])
			return 1;
	return 0;
}

static int only_reported(struct fp_req *r, const json_t *inv)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)inv, k, v)
	{
		if (!is_reported(k)) {
			fp_reply_error(r, 400, "invalid",
			               "inventory: '%.64s' is not a field a device reports", k);
			return -1;
		}
	}
	return 0;
}

static void set_seen(struct fp_device_row *d)
{
	fp_time_rfc3339(fp_now_s(), d->last_seen);
}

void fp_api_device_auth(struct fp_req *r)
{
	struct fp_err err = {0};
	struct fp_device_row d = {0};
	struct fp_device_rec inv;
	fp_device_rec_init(&inv);
	json_t *before = NULL, *after = NULL;
	int have_row = 0;
	const char *sig = fp_req_header(r, "X-FP-Signature");
	if (!sig || strlen(sig) > 1024) {
		fp_reply_error(r, 401, "unauthorized",
		               "X-FP-Signature: the body must be signed with the device's key");
		goto out;
	}
	if (!r->body || memchr(r->body, '\0', r->body_len)) {
		fp_reply_error(r, 400, "invalid", "request body must be a JSON object");
		goto out;
	}
	json_error_t je;
	r->json = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(r->json)) {
		fp_reply_error(r, 400, "invalid", "request body is not a JSON object: %s", je.text);
		goto out;
	}
	static const char *const fields[] = {"identity", "public_key", "timestamp", "inventory",
	                                     NULL};
	if (fp_req_only_fields(r, r->json, fields))
		goto out;
	const char *identity = json_string_value(json_object_get(r->json, "identity"));
	const char *pem = json_string_value(json_object_get(r->json, "public_key"));
	json_t *jts = json_object_get(r->json, "timestamp");
	json_t *jinv = json_object_get(r->json, "inventory");
	if (!identity || !pem || !json_is_integer(jts)) {
		fp_reply_error(r, 400, "invalid",
		               "identity (string), public_key (PEM string) and timestamp (unix "
		               "seconds) are required");
		goto out;
	}
	char type[16], fpr[FP_SHA256_HEX_LEN + 1];
	if (fp_pubkey_check(pem, type, fpr, &err)) {
		fp_reply_err(r, &err);
		goto out;
	}
	if (fp_sig_verify(pem, r->body, r->body_len, sig, &err)) {
		fp_reply_error(r, 401, "unauthorized", "signature: %s", err.msg);
		goto out;
	}
	int64_t ts = json_integer_value(jts), skew = ts - fp_now_s();
	if (skew > AUTH_CLOCK_SKEW_S || skew < -AUTH_CLOCK_SKEW_S) {
		fp_reply_error(r, 401, "unauthorized",
		               "timestamp is %" PRId64
		               " s away from the server's clock (at most %d "
		               "allowed); fix the device's time",
		               skew, AUTH_CLOCK_SKEW_S);
		goto out;
	}
	if (fp_device_rec_set(&inv, "identity", identity, &err)) {
		fp_reply_err(r, &err);
		goto out;
	}
	if (jinv && (!json_is_object(jinv) || only_reported(r, jinv) ||
	             fp_device_rec_from_json(&inv, jinv, NULL, &err))) {
		if (!r->status)
			fp_reply_err(r, &err);
		goto out;
	}
	if (fp_db_begin(r->db, &err)) {
		fp_reply_err(r, &err);
		goto out;
	}
	int rc = fp_store_device_by_identity(r->db, inv.f[FP_DEV_IDENTITY], &d, &err);
	const char *action = NULL;
	if (rc == FP_ENOTFOUND) {
		memset(&d, 0, sizeof(d));
		fp_device_rec_init(&d.rec);
		rc = fp_device_rec_merge(&d.rec, &inv);
		snprintf(d.status, sizeof(d.status), FP_DEVSTAT_PENDING);
		snprintf(d.source, sizeof(d.source), "agent");
		d.pubkey = strdup(pem);
		snprintf(d.pubkey_fp, sizeof(d.pubkey_fp), "%s", fpr);
		fp_time_rfc3339(fp_now_s(), d.first_seen);
		set_seen(&d);
		have_row = 1;
		if (rc == 0 && d.pubkey)
			rc = fp_store_device_insert(r->db, &d, &err);
		action = "device.enroll_request";
	} else if (rc == 0) {
		have_row = 1;
		before = fp_device_row_json(&d);
		int key_known = d.pubkey_fp[0] != '\0';
		int key_match = key_known && strcmp(d.pubkey_fp, fpr) == 0;
		if (strcmp(d.status, FP_DEVSTAT_REJECTED) == 0) {
			fp_db_rollback(r->db);
			fp_reply_error(r, 403, "forbidden",
			               "this device was rejected by an operator");
			goto out;
		}
		if (key_known && !key_match) {
			fp_db_rollback(r->db);
			fp_log(FP_LOG_WARN, "device key mismatch",
			       "device_id=%" PRId64 " client=%s", d.id, r->client);
			fp_reply_error(r, 403, "forbidden",
			               "this identity is registered with a different key");
			goto out;
		}
		if (!key_known) {
			/* An inventory-only device's agent asks for the first time. */
			d.pubkey = strdup(pem);
			snprintf(d.pubkey_fp, sizeof(d.pubkey_fp), "%s", fpr);
			snprintf(d.status, sizeof(d.status), FP_DEVSTAT_PENDING);
			action = "device.enroll_request";
		} else if (strcmp(d.status, FP_DEVSTAT_PREAUTHORIZED) == 0) {
			snprintf(d.status, sizeof(d.status), FP_DEVSTAT_ACCEPTED);
			action = "device.enroll_preauthorized";
		}
		rc = fp_device_rec_merge(&d.rec, &inv);
		set_seen(&d);
		if (rc == 0)
			rc = d.pubkey ? fp_store_device_update(r->db, &d, &err) : FP_ENOMEM;
	}
	if (rc) {
		if (!err.msg[0])
			fp_err_set(&err, rc, "cannot store the device");
		fp_db_rollback(r->db);
		fp_reply_err(r, &err);
		goto out;
	}
	/*
	 * Each signed request must carry a newer timestamp than the last one
	 * accepted for this device, so a captured request cannot be replayed
	 * within the clock-skew window.
	 */
	if (fp_db_run(r->db, &err, NULL,
	              "UPDATE devices SET last_auth_ts = ? WHERE id = ? AND last_auth_ts < ?",
	              "iii", ts, d.id, ts) == 0 &&
	    fp_db_changes(r->db) == 0) {
		fp_db_rollback(r->db);
		fp_reply_error(
		    r, 401, "unauthorized",
		    "timestamp is not newer than this device's last request (a replayed or "
		    "reordered request); sign a new one");
		goto out;
	}
	char obj[64];
	snprintf(obj, sizeof(obj), "device:%" PRId64, d.id);
	struct fp_principal dev = {.kind = FP_AUTH_DEVICE, .id = d.id};
	if (action) {
		after = fp_device_row_json(&d);
		rc = fp_audit_append(r->db, &dev, action, obj, before, after, &err);
	}
	if (rc == 0)
		rc = fp_db_commit(r->db, &err);
	if (rc) {
		fp_db_rollback(r->db);
		fp_reply_err(r, &err);
		goto out;
	}
	if (strcmp(d.status, FP_DEVSTAT_ACCEPTED) != 0) {
		fp_reply(r, 202,
		         json_pack("{s:s,s:I,s:s,s:I}", "status", d.status, "device_id",
		                   (json_int_t)d.id, "message",
		                   "waiting for an operator to accept this device",
		                   "poll_interval_s", (json_int_t)r->srv->cfg.poll_interval_s));
		goto out;
	}
	char token[192], exp[32];
	if (fp_device_token_issue(r->srv, d.id, d.auth_epoch, r->srv->cfg.device_token_ttl_s, token,
	                          sizeof(token))) {
		fp_reply_error(r, 500, "internal", "cannot issue a device token");
		goto out;
	}
	fp_time_rfc3339(fp_now_s() + r->srv->cfg.device_token_ttl_s, exp);
	fp_reply(r, 200,
	         json_pack("{s:s,s:s,s:I,s:s,s:I}", "status", d.status, "token", token, "device_id",
	                   (json_int_t)d.id, "expires_at", exp, "poll_interval_s",
	                   (json_int_t)r->srv->cfg.poll_interval_s));
out:
	json_decref(before);
	json_decref(after);
	fp_device_rec_free(&inv);
	if (have_row)
		fp_device_row_free(&d);
	else
		fp_device_rec_free(&d.rec);
}

void fp_api_device_checkin(struct fp_req *r)
{
	/*
	 * The hot path of the fleet: one indexed read (in authentication) and,
	 * at most once a minute per device, one small write for last_seen.
	 */
	int64_t now = fp_now_s();
	if (now - r->who.last_checkin >= LAST_SEEN_GRANULARITY_S) {
		char ts[32];
		fp_time_rfc3339(now, ts);
		if (fp_db_run(r->db, NULL, NULL,
		              "UPDATE devices SET last_checkin = ?, last_seen = ? WHERE id = ?",
		              "isi", now, ts, r->who.id))
			fp_log(FP_LOG_WARN, "cannot record check-in", "device_id=%" PRId64,
			       r->who.id);
	}
	/* Where the director has work, the device fetches the signed document. */
	int64_t version = 0;
	json_t *assignment = json_null();
	if (fp_db_run(r->db, NULL, &version,
	              "SELECT version FROM device_assignments WHERE device_id = ?", "i",
	              r->who.id) == 0)
		assignment = json_pack("{s:I,s:s}", "version", (json_int_t)version, "url",
		                       "/api/v1/device/assignment");
	fp_reply(r, 200,
	         json_pack("{s:I,s:o}", "poll_interval_s", (json_int_t)r->srv->cfg.poll_interval_s,
	                   "assignment", assignment));
}

void fp_api_device_inventory(struct fp_req *r)
{
	struct fp_err err = {0};
	struct fp_device_rec inv;
	struct fp_device_row d;
	fp_device_rec_init(&inv);
	if (only_reported(r, r->json) || fp_device_rec_from_json(&inv, r->json, NULL, &err)) {
		if (!r->status)
			fp_reply_err(r, &err);
		fp_device_rec_free(&inv);
		return;
	}
	if (fp_db_begin(r->db, &err) || fp_store_device_get(r->db, r->who.id, &d, &err)) {
		fp_db_rollback(r->db);
		fp_reply_err(r, &err);
		fp_device_rec_free(&inv);
		return;
	}
	json_t *before = fp_device_row_json(&d);
	int rc = fp_device_rec_merge(&d.rec, &inv);
	set_seen(&d);
	json_t *after = fp_device_row_json(&d);
	/* last_seen always moves; only a change of what the device is gets audited. */
	json_t *b2 = json_deep_copy(before), *a2 = json_deep_copy(after);
	json_object_del(b2, "last_seen");
	json_object_del(a2, "last_seen");
	int changed = !json_equal(b2, a2);
	json_decref(b2);
	json_decref(a2);
	if (rc == 0)
		rc = fp_store_device_update(r->db, &d, &err);
	else
		fp_err_set(&err, rc, "out of memory");
	/* A new configuration is assessed at once (no-op before any CVE import). */
	if (rc == 0)
		rc = fp_assess_device(r->db, d.id, &err);
	/* What the device says about its update moves its rollouts on. */
	if (rc == 0)
		rc = fp_rollouts_device_report(r->srv, r->db, d.id, &d.rec, &err);
	char obj[64];
	snprintf(obj, sizeof(obj), "device:%" PRId64, d.id);
	if (rc == 0 && changed)
		rc = fp_audit_append(r->db, &r->who, "device.inventory", obj, before, after, &err);
	if (rc == 0)
		rc = fp_db_commit(r->db, &err);
	if (rc) {
		fp_db_rollback(r->db);
		fp_reply_err(r, &err);
	} else {
		fp_reply(r, 200,
		         json_pack("{s:I,s:b}", "device_id", (json_int_t)d.id, "changed", changed));
	}
	json_decref(before);
	json_decref(after);
	fp_device_row_free(&d);
	fp_device_rec_free(&inv);
}
