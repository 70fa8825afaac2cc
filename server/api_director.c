/*
 * api_director.c — the director: operators assign a published target to a
 * device, and the device fetches its assignment signed with the online
 * director key (docs/design/director.md). Each change increments the
 * device's assignment version, which the agent uses against replays.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "fleetpatch/director.h"
#include "fleetpatch/secret.h"
#include "fleetpatch/tuf.h"
#include "log.h"
#include "repo.h"

#define DEADLINE_MAX 64

struct assignment {
	int found;
	char target[256];
	int has_target;
	char deadline[DEADLINE_MAX];
	int64_t version;
	char nonce[40];
	char by[160];
	char updated_at[32];
	int delta_refused;
};

static int load(fp_db *db, int64_t device_id, struct assignment *a, struct fp_err *err)
{
	fp_stmt *st = NULL;
	memset(a, 0, sizeof(*a));
	int rc = fp_db_prepare(db,
	                       "SELECT target, deadline, version, nonce, created_by, updated_at, "
	                       "delta_refused "
	                       "FROM device_assignments WHERE device_id = ?",
	                       &st, err);
	if (rc)
		return rc;
	fp_stmt_int(st, 1, device_id);
	rc = fp_stmt_step(st, err);
	if (rc == FP_DB_ROW) {
		const char *t = fp_stmt_col_text(st, 0), *d = fp_stmt_col_text(st, 1);
		a->found = 1;
		a->has_target = t != NULL;
		snprintf(a->target, sizeof(a->target), "%s", t ? t : "");
		snprintf(a->deadline, sizeof(a->deadline), "%s", d ? d : "");
		a->version = fp_stmt_col_int(st, 2);
		snprintf(a->nonce, sizeof(a->nonce), "%s", fp_stmt_col_text(st, 3));
		snprintf(a->by, sizeof(a->by), "%s", fp_stmt_col_text(st, 4));
		snprintf(a->updated_at, sizeof(a->updated_at), "%s", fp_stmt_col_text(st, 5));
		a->delta_refused = fp_stmt_col_int(st, 6) != 0;
		rc = 0;
	} else if (rc == FP_DB_DONE) {
		rc = 0;
	}
	fp_stmt_finalize(st);
	return rc;
}

static json_t *assignment_json(int64_t device_id, const struct assignment *a)
{
	return json_pack("{s:I,s:s?,s:s?,s:I,s:s,s:s,s:s,s:b}", "device_id", (json_int_t)device_id,
	                 "target", a->has_target ? a->target : NULL, "deadline",
	                 a->deadline[0] ? a->deadline : NULL, "version", (json_int_t)a->version,
	                 "nonce", a->nonce, "updated_by", a->by, "updated_at", a->updated_at,
	                 "delta_refused", a->delta_refused);
}

/*
 * Writes version + 1 with a new nonce; target NULL clears the assignment.
 * An operator's change offers deltas again; a device's report of a failed
 * delta (a->delta_refused set by the caller) keeps the target, full only.
 */
static int save_as(fp_db *db, const char *actor, int64_t device_id, struct assignment *a,
                   const char *target, const char *deadline, struct fp_err *err)
{
	unsigned char n[16];
	static const char h[] = "0123456789abcdef";
	int rc = fp_random_bytes(n, sizeof(n));
	if (rc)
		return fp_err_set(err, rc, "cannot make a nonce");
	for (size_t i = 0; i < sizeof(n); i++) {
		a->nonce[2 * i] = h[n[i] >> 4];
		a->nonce[2 * i + 1] = h[n[i] & 15];
	}
	a->nonce[32] = '\0';
	a->version++;
	a->has_target = target != NULL;
	snprintf(a->target, sizeof(a->target), "%s", target ? target : "");
	snprintf(a->deadline, sizeof(a->deadline), "%s", deadline ? deadline : "");
	snprintf(a->by, sizeof(a->by), "%s", actor);
	fp_time_rfc3339(fp_now_s(), a->updated_at);
	return fp_db_run(db, err, NULL,
	                 "INSERT INTO device_assignments (device_id, target, deadline, version, "
	                 "nonce, created_by, updated_at, delta_refused) "
	                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
	                 "ON CONFLICT (device_id) DO UPDATE SET target = excluded.target, "
	                 "deadline = excluded.deadline, version = excluded.version, "
	                 "nonce = excluded.nonce, created_by = excluded.created_by, "
	                 "updated_at = excluded.updated_at, delta_refused = excluded.delta_refused",
	                 "ississ"
	                 "si",
	                 device_id, target, deadline, a->version, a->nonce, a->by, a->updated_at,
	                 (int64_t)a->delta_refused);
}

static int save(struct fp_req *r, int64_t device_id, struct assignment *a, const char *target,
                const char *deadline, struct fp_err *err)
{
	char actor[160];
	fp_actor_name(&r->who, actor);
	return save_as(r->db, actor, device_id, a, target, deadline, err);
}

int fp_director_set(fp_db *db, int64_t device_id, const char *target, const char *deadline,
                    const char *actor, int64_t *version, struct fp_err *err)
{
	struct assignment a;
	int rc = load(db, device_id, &a, err);
	if (rc == 0) {
		a.delta_refused = 0;
		rc = save_as(db, actor, device_id, &a, target, deadline, err);
	}
	if (rc == 0 && version)
		*version = a.version;
	return rc;
}

/* The device's model must be among the target's compatible hardware types. */
static int hardware_ok(struct fp_req *r, int64_t device_id, const json_t *target,
                       struct fp_err *err)
{
	fp_stmt *st = NULL;
	char model[256] = "";
	int rc = fp_db_prepare(r->db, "SELECT model FROM devices WHERE id = ?", &st, err);
	if (rc)
		return rc;
	fp_stmt_int(st, 1, device_id);
	rc = fp_stmt_step(st, err);
	if (rc == FP_DB_ROW) {
		const char *m = fp_stmt_col_text(st, 0);
		snprintf(model, sizeof(model), "%s", m ? m : "");
		rc = 0;
	} else if (rc == FP_DB_DONE) {
		rc = fp_err_set(err, FP_ENOTFOUND, "no device %" PRId64, device_id);
	}
	fp_stmt_finalize(st);
	if (rc)
		return rc;
	const json_t *hw = json_object_get(json_object_get(target, "custom"), "hardware");
	if (!json_is_array(hw) || json_array_size(hw) == 0)
		return fp_err_set(err, FP_EUNSUPP,
		                  "target '%s' names no compatible hardware (custom.hardware)",
		                  json_string_value(json_object_get(target, "name")));
	if (!model[0])
		return fp_err_set(err, FP_EUNSUPP,
		                  "device %" PRId64 " has no model, so its hardware is unknown",
		                  device_id);
	size_t i;
	const json_t *v;
	json_array_foreach(hw, i, v)
	{
		if (json_is_string(v) && strcmp(json_string_value(v), model) == 0)
			return 0;
	}
	return fp_err_set(err, FP_EUNSUPP,
	                  "target '%s' is not compatible with device %" PRId64
	                  " (model '%s' is not in its hardware types)",
	                  json_string_value(json_object_get(target, "name")), device_id, model);
}

void fp_api_assignment_put(struct fp_req *r)
{
	static const char *const fields[] = {"target", "deadline", NULL};
	struct fp_err err = {0};
	struct assignment a;
	json_t *target = NULL, *before = NULL, *after = NULL;
	int64_t id;
	if (fp_req_id(r, 0, &id) || fp_req_only_fields(r, r->json, fields))
		return;
	const char *name = json_string_value(json_object_get(r->json, "target"));
	const json_t *dl = json_object_get(r->json, "deadline");
	int64_t dlt = 0;
	if (!name || !*name || strlen(name) > 255) {
		fp_reply_error(r, 400, "invalid",
		               "target: the name of a published target is required");
		return;
	}
	if (dl && !json_is_null(dl) &&
	    (!json_is_string(dl) || fp_tuf_time_parse(json_string_value(dl), &dlt, NULL))) {
		fp_reply_error(r, 400, "invalid", "deadline: expected \"YYYY-MM-DDTHH:MM:SSZ\"");
		return;
	}
	int rc = fp_db_begin(r->db, &err);
	if (rc == 0)
		rc = fp_repo_target(r->db, name, &target, &err);
	if (rc == FP_ENOTFOUND && !err.msg[0])
		fp_err_set(&err, FP_ENOTFOUND, "no published target '%s'", name);
	if (rc == FP_ENOTFOUND)
		err.code = rc = FP_EUNSUPP; /* the device exists; the target does not: 422 */
	if (rc == 0)
		rc = hardware_ok(r, id, target, &err);
	if (rc == 0)
		rc = load(r->db, id, &a, &err);
	if (rc == 0) {
		before = a.found ? assignment_json(id, &a) : NULL;
		a.delta_refused = 0;
		rc = save(r, id, &a, name, json_string_value(dl), &err);
	}
	if (rc == 0)
		after = assignment_json(id, &a);
	char obj[48];
	snprintf(obj, sizeof(obj), "device:%" PRId64, id);
	if (fp_api_finish(r, rc, &err, "director.assign", obj, before, after) == 0)
		fp_reply(r, 200, json_incref(after));
	json_decref(target);
	json_decref(before);
	json_decref(after);
}

void fp_api_assignment_get(struct fp_req *r)
{
	struct fp_err err = {0};
	struct assignment a;
	int64_t id;
	if (fp_req_id(r, 0, &id))
		return;
	if (load(r->db, id, &a, &err)) {
		fp_reply_err(r, &err);
		return;
	}
	if (!a.found || !a.has_target) {
		fp_reply_error(r, 404, "not_found", "device %" PRId64 " has no assignment", id);
		return;
	}
	fp_reply(r, 200, assignment_json(id, &a));
}

void fp_api_assignment_delete(struct fp_req *r)
{
	struct fp_err err = {0};
	struct assignment a;
	int64_t id;
	json_t *before = NULL, *after = NULL;
	if (fp_req_id(r, 0, &id))
		return;
	int rc = fp_db_begin(r->db, &err);
	if (rc == 0)
		rc = load(r->db, id, &a, &err);
	if (rc == 0 && (!a.found || !a.has_target))
		rc = fp_err_set(&err, FP_ENOTFOUND, "device %" PRId64 " has no assignment", id);
	if (rc == 0) {
		before = assignment_json(id, &a);
		a.delta_refused = 0;
		rc = save(r, id, &a, NULL, NULL, &err);
		after = assignment_json(id, &a);
	}
	char obj[48];
	snprintf(obj, sizeof(obj), "device:%" PRId64, id);
	if (fp_api_finish(r, rc, &err, "director.unassign", obj, before, after) == 0)
		fp_reply(r, 200, json_incref(after));
	json_decref(before);
	json_decref(after);
}

/*
 * The delta for `target` whose base is the device's reported firmware
 * version, if the newest targets metadata has one: a target whose
 * custom.delta is {"target": target, "base_version": fw, "base_sha256"}.
 * Returns 0 with *delta NULL when there is none.
 */
static int find_delta(struct fp_req *r, const char *target, json_t **delta, const char **base,
                      struct fp_err *err)
{
	char fw[256] = "";
	fp_stmt *st = NULL;
	*delta = NULL;
	int rc =
	    fp_db_prepare(r->db, "SELECT firmware_version FROM devices WHERE id = ?", &st, err);
	if (rc)
		return rc;
	fp_stmt_int(st, 1, r->who.id);
	if (fp_stmt_step(st, err) == FP_DB_ROW && fp_stmt_col_text(st, 0))
		snprintf(fw, sizeof(fw), "%s", fp_stmt_col_text(st, 0));
	fp_stmt_finalize(st);
	if (!fw[0])
		return 0;
	json_t *all = NULL;
	if ((rc = fp_repo_targets_all(r->db, &all, err)))
		return rc == FP_ENOTFOUND ? 0 : rc;
	const char *name;
	json_t *t;
	json_object_foreach(all, name, t)
	{
		const json_t *d = json_object_get(json_object_get(t, "custom"), "delta");
		const char *dt = json_string_value(json_object_get(d, "target")),
		           *bv = json_string_value(json_object_get(d, "base_version")),
		           *bs = json_string_value(json_object_get(d, "base_sha256"));
		if (!dt || !bv || !bs || strcmp(dt, target) != 0 || strcmp(bv, fw) != 0)
			continue;
		*delta =
		    json_pack("{s:s,s:O,s:O}", "name", name, "length", json_object_get(t, "length"),
		              "hashes", json_object_get(t, "hashes"));
		if (!*delta) {
			rc = fp_err_set(err, FP_ENOMEM, "out of memory");
			break;
		}
		/* base borrows from the delta entry, which keeps a reference to it. */
		json_object_set_new(*delta, "base_sha256", json_string(bs));
		*base = json_string_value(json_object_get(*delta, "base_sha256"));
		break;
	}
	json_decref(all);
	return rc;
}

void fp_api_device_delta_failed(struct fp_req *r)
{
	static const char *const fields[] = {"target", "reason", NULL};
	struct fp_err err = {0};
	struct assignment a;
	json_t *before = NULL, *after = NULL;
	if (fp_req_only_fields(r, r->json, fields))
		return;
	const char *name = json_string_value(json_object_get(r->json, "target"));
	const char *reason = json_string_value(json_object_get(r->json, "reason"));
	if (!name || !reason || strlen(reason) > 1024) {
		fp_reply_error(r, 400, "invalid",
		               "target (the assigned target) and reason (up to 1024 bytes) are "
		               "required");
		return;
	}
	int rc = fp_db_begin(r->db, &err);
	if (rc == 0)
		rc = load(r->db, r->who.id, &a, &err);
	if (rc == 0 && (!a.found || !a.has_target || strcmp(a.target, name) != 0))
		rc = fp_err_set(&err, FP_ECONFLICT,
		                "'%.200s' is not this device's assigned target; fetch the "
		                "assignment again",
		                name);
	if (rc == 0) {
		before = assignment_json(r->who.id, &a);
		json_object_set_new(before, "reason", json_string(reason));
		/* Already refused: the report is recorded, the full assignment stands. */
		if (!a.delta_refused) {
			char tgt[sizeof(a.target)], dl[sizeof(a.deadline)];
			snprintf(tgt, sizeof(tgt), "%s", a.target); /* save() rewrites a */
			snprintf(dl, sizeof(dl), "%s", a.deadline);
			a.delta_refused = 1;
			rc = save(r, r->who.id, &a, tgt, dl[0] ? dl : NULL, &err);
		}
		after = assignment_json(r->who.id, &a);
	}
	char obj[48];
	snprintf(obj, sizeof(obj), "device:%" PRId64, r->who.id);
	if (fp_api_finish(r, rc, &err, "director.delta_failed", obj, before, after) == 0)
		fp_reply(r, 200,
		         json_pack("{s:I,s:s}", "version", (json_int_t)a.version, "mode", "full"));
	json_decref(before);
	json_decref(after);
}

void fp_api_device_assignment(struct fp_req *r)
{
	struct fp_err err = {0};
	struct assignment a;
	json_t *target = NULL, *md = NULL;
	char *body = NULL;
	size_t len = 0;
	int rc = load(r->db, r->who.id, &a, &err);
	if (rc == 0 && !a.found)
		rc = fp_err_set(&err, FP_ENOTFOUND, "this device has never had an assignment");
	if (rc == 0 && a.has_target) {
		rc = fp_repo_target(r->db, a.target, &target, &err);
		if (rc == FP_ENOTFOUND)
			fp_err_set(
			    &err, FP_ECONFLICT,
			    "the assigned target '%s' is no longer published; ask an operator",
			    a.target);
		if (rc == FP_ENOTFOUND)
			rc = FP_ECONFLICT;
	}
	if (rc == 0)
		rc = fp_director_build(r->who.name, target, a.deadline[0] ? a.deadline : NULL,
		                       a.version, a.nonce,
		                       fp_now_s() + r->srv->cfg.director_expiry_s, &md, &err);
	if (rc == 0 && target && !a.delta_refused) {
		json_t *delta = NULL;
		const char *base = NULL;
		rc = find_delta(r, a.target, &delta, &base, &err);
		if (rc == 0 && delta)
			rc = fp_director_offer_delta(md, delta, base, &err);
		json_decref(delta);
	}
	if (rc == 0)
		rc = fp_tuf_sign(md, r->srv->repo->priv[FP_KEY_DIRECTOR], NULL, &err);
	if (rc == 0)
		rc = fp_tuf_serialize(md, &body, &len, &err);
	if (rc)
		fp_reply_err(r, &err);
	else
		fp_reply_raw(r, 200, "application/json", body, len);
	json_decref(target);
	json_decref(md);
}
