/*
 * rollouts.c — rollouts in the database, the device reports that drive
 * them, and the scheduler thread. The decisions themselves are pure
 * (lib/rollout.c); this file loads their inputs, persists their outputs
 * and performs their actions (director assignments, audit entries,
 * webhook events), one rollout per transaction. See docs/design/rollout.md.
 */
#include "rollouts.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "fleetpatch/tuf.h"
#include "fleetpatch/tz.h"
#include "log.h"
#include "tzdb.h"
#include "webhooks.h"

#define TZ_NAME_MAX 64

struct fp_rollouts {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int running;
	int kicked;
};

void fp_ro_free(struct fp_ro *ro)
{
	if (!ro)
		return;
	json_decref(ro->selector);
	free(ro->approval_reason);
	for (size_t i = 0; ro->x && i < ro->n; i++) {
		free(ro->x[i].prev_target);
		free(ro->x[i].prev_version);
		free(ro->x[i].tz);
	}
	free(ro->x);
	free(ro->devs);
	memset(ro, 0, sizeof(*ro));
}

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int load_devices(fp_db *db, struct fp_ro *ro, struct fp_err *err)
{
	int64_t n = 0;
	int rc = fp_db_run(db, err, &n, "SELECT COUNT(*) FROM rollout_devices WHERE rollout_id = ?",
	                   "i", ro->id);
	if (rc)
		return rc;
	if (n == 0)
		return 0;
	ro->devs = calloc((size_t)n, sizeof(*ro->devs));
	ro->x = calloc((size_t)n, sizeof(*ro->x));
	if (!ro->devs || !ro->x)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	fp_stmt *st = NULL;
	rc = fp_db_prepare(db,
	                   "SELECT rd.device_id, rd.phase, rd.state, rd.since, rd.attempts, "
	                   "rd.failures, rd.reason, rd.assigned_version, rd.prev_target, "
	                   "rd.prev_version, rd.withdrawn_version, "
	                   "CASE WHEN ? THEN json_extract(d.record, '$.attributes.timezone') END "
	                   "FROM rollout_devices rd JOIN devices d ON d.id = rd.device_id "
	                   "WHERE rd.rollout_id = ? ORDER BY rd.ord",
	                   &st, err);
	if (rc)
		return rc;
	/* Zones only matter to a rollout with windows; reading them costs a JSON parse each. */
	fp_stmt_int(st, 1, ro->r.spec.nwindows > 0);
	fp_stmt_int(st, 2, ro->id);
	while ((rc = fp_stmt_step(st, err)) == FP_DB_ROW && ro->n < (size_t)n) {
		struct fp_rollout_dev *d = &ro->devs[ro->n];
		struct fp_ro_dev *x = &ro->x[ro->n];
		d->id = fp_stmt_col_int(st, 0);
		d->phase = (int)fp_stmt_col_int(st, 1);
		if (fp_rollout_dev_state_from_name(fp_stmt_col_text(st, 2), &d->state)) {
			rc = fp_err_set(err, FP_EIO,
			                "rollout %" PRId64 ": device %" PRId64
			                " has an unknown state",
			                ro->id, d->id);
			break;
		}
		d->since = fp_stmt_col_int(st, 3);
		d->attempts = (int)fp_stmt_col_int(st, 4);
		d->failures = (int)fp_stmt_col_int(st, 5);
		copy(d->reason, sizeof(d->reason), fp_stmt_col_text(st, 6));
		x->assigned_version = fp_stmt_col_int(st, 7);
		x->prev_target = dup_or_null(fp_stmt_col_text(st, 8));
		x->prev_version = dup_or_null(fp_stmt_col_text(st, 9));
		x->withdrawn_version = fp_stmt_col_int(st, 10);
		x->tz = dup_or_null(fp_stmt_col_text(st, 11));
		x->loaded = d->state;
		d->has_prev = x->prev_target != NULL;
		d->unsettled = x->withdrawn_version > 0;
		ro->n++;
	}
	fp_stmt_finalize(st);
	return rc == FP_DB_DONE || rc == FP_DB_ROW ? 0 : rc;
}

int fp_ro_load(fp_db *db, int64_t id, int with_devices, struct fp_ro *ro, struct fp_err *err)
{
	memset(ro, 0, sizeof(*ro));
	fp_stmt *st = NULL;
	json_t *spec = NULL, *rt = NULL;
	int rc = fp_db_prepare(db,
	                       "SELECT name, target, target_version, selector, spec, runtime, "
	                       "created_by, created_at, approved_by, approved_at, ticket, "
	                       "approval_reason, updated_at FROM rollouts WHERE id = ?",
	                       &st, err);
	if (rc)
		return rc;
	fp_stmt_int(st, 1, id);
	rc = fp_stmt_step(st, err);
	if (rc == FP_DB_DONE) {
		rc = fp_err_set(err, FP_ENOTFOUND, "no rollout %" PRId64, id);
	} else if (rc == FP_DB_ROW) {
		rc = 0;
		ro->id = id;
		copy(ro->name, sizeof(ro->name), fp_stmt_col_text(st, 0));
		copy(ro->target, sizeof(ro->target), fp_stmt_col_text(st, 1));
		copy(ro->target_version, sizeof(ro->target_version), fp_stmt_col_text(st, 2));
		ro->selector = json_loads(fp_stmt_col_text(st, 3), 0, NULL);
		spec = json_loads(fp_stmt_col_text(st, 4), 0, NULL);
		rt = json_loads(fp_stmt_col_text(st, 5), 0, NULL);
		copy(ro->created_by, sizeof(ro->created_by), fp_stmt_col_text(st, 6));
		copy(ro->created_at, sizeof(ro->created_at), fp_stmt_col_text(st, 7));
		copy(ro->approved_by, sizeof(ro->approved_by), fp_stmt_col_text(st, 8));
		copy(ro->approved_at, sizeof(ro->approved_at), fp_stmt_col_text(st, 9));
		copy(ro->ticket, sizeof(ro->ticket), fp_stmt_col_text(st, 10));
		ro->approval_reason = dup_or_null(fp_stmt_col_text(st, 11));
		copy(ro->updated_at, sizeof(ro->updated_at), fp_stmt_col_text(st, 12));
	}
	fp_stmt_finalize(st);
	if (rc == 0 && (!ro->selector || !spec || !rt))
		rc = fp_err_set(err, FP_EIO, "rollout %" PRId64 ": stored JSON does not parse", id);
	if (rc == 0)
		rc = fp_rollout_spec_from_json(spec, &ro->r.spec, err);
	if (rc == 0)
		rc = fp_rollout_runtime_from_json(rt, &ro->r, err);
	if (rc == 0)
		ro->r_loaded = ro->r;
	if (rc == 0 && with_devices)
		rc = load_devices(db, ro, err);
	json_decref(spec);
	json_decref(rt);
	if (rc)
		fp_ro_free(ro);
	return rc;
}

static int cmp_id(const void *a, const void *b)
{
	const struct fp_rollout_dev *const *x = a, *const *y = b;
	return (*x)->id < (*y)->id ? -1 : (*x)->id > (*y)->id;
}

static struct fp_rollout_dev *find_dev(struct fp_rollout_dev **by_id, size_t n, int64_t id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (by_id[mid]->id == id)
			return by_id[mid];
		if (by_id[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Sets *flag on the devices that sql (bound: rollout id, then priority) returns. */
static int mark(fp_db *db, const char *sql, const struct fp_ro *ro, struct fp_rollout_dev **by_id,
                size_t which, struct fp_err *err)
{
	fp_stmt *st = NULL;
	int rc = fp_db_prepare(db, sql, &st, err);
	if (rc)
		return rc;
	fp_stmt_int(st, 1, ro->id);
	if (which == 1)
		fp_stmt_int(st, 2, ro->r.spec.priority);
	while ((rc = fp_stmt_step(st, err)) == FP_DB_ROW) {
		struct fp_rollout_dev *d = find_dev(by_id, ro->n, fp_stmt_col_int(st, 0));
		if (d && which == 0)
			d->claimed = 1;
		else if (d)
			d->outranked = 1;
	}
	fp_stmt_finalize(st);
	return rc == FP_DB_DONE ? 0 : rc;
}

/* The device's zone; an unknown one counts as UTC (logged once per tick and name). */
static void device_zone(struct fp_server *s, const char *name, struct fp_tz *tz)
{
	char rule[FP_TZ_RULE_MAX];
	struct fp_err err = {0};
	if (!name || !*name || fp_tzdb_rule(s->cfg.zoneinfo_dir, name, rule, &err) ||
	    fp_tz_parse(rule, tz, &err)) {
		if (name && *name)
			fp_log(FP_LOG_DEBUG, "unknown device time zone; using UTC", "tz=\"%.64s\"",
			       name);
		fp_tz_utc(tz);
	}
}

int fp_ro_inputs(struct fp_server *s, fp_db *db, struct fp_ro *ro, int64_t now, struct fp_err *err)
{
	int rc = 0;
	if (ro->n == 0)
		return 0;
	struct fp_rollout_dev **by_id = malloc(ro->n * sizeof(*by_id));
	if (!by_id)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	for (size_t i = 0; i < ro->n; i++) {
		by_id[i] = &ro->devs[i];
		ro->devs[i].claimed = ro->devs[i].outranked = 0;
		ro->devs[i].in_window = 1;
	}
	qsort(by_id, ro->n, sizeof(*by_id), cmp_id);
	/* Another rollout's assignment in flight holds the device. */
	rc = mark(db,
	          "SELECT DISTINCT rd.device_id FROM rollout_devices rd JOIN rollout_devices o "
	          "ON o.device_id = rd.device_id AND o.rollout_id <> rd.rollout_id "
	          "WHERE rd.rollout_id = ? AND rd.state IN ('pending', 'waiting') "
	          "AND o.state IN ('assigned', 'installing', 'reverting')",
	          ro, by_id, 0, err);
	/* A live rollout of higher priority takes the devices this one has not started. */
	if (rc == 0)
		rc = mark(
		    db,
		    "SELECT DISTINCT rd.device_id FROM rollout_devices rd JOIN rollout_devices o "
		    "ON o.device_id = rd.device_id AND o.rollout_id <> rd.rollout_id "
		    "JOIN rollouts ro ON ro.id = o.rollout_id "
		    "WHERE rd.rollout_id = ? AND rd.state IN ('pending', 'waiting') "
		    "AND ro.priority > ? "
		    "AND ro.state IN ('approved', 'running', 'waiting_approval', 'paused') "
		    "AND o.state IN ('pending', 'waiting', 'assigned', 'installing')",
		    ro, by_id, 1, err);
	free(by_id);
	if (rc || ro->r.spec.nwindows == 0)
		return rc;
	/* Windows in each device's own zone; devices share zones, so cache the last. */
	struct fp_tz tz;
	const char *last = NULL;
	int have = 0;
	for (size_t i = 0; i < ro->n; i++) {
		struct fp_rollout_dev *d = &ro->devs[i];
		if (d->state != FP_RD_PENDING && d->state != FP_RD_WAITING &&
		    d->state != FP_RD_ASSIGNED)
			continue;
		const char *name = ro->x[i].tz;
		if (!have || (name == NULL) != (last == NULL) ||
		    (name && strcmp(name, last) != 0)) {
			device_zone(s, name, &tz);
			last = name;
			have = 1;
		}
		d->in_window =
		    fp_window_open(ro->r.spec.window, ro->r.spec.nwindows, &tz, now, NULL);
	}
	return 0;
}

/* The director's deadline for the devices: the rollout's, if it has one. */
static const char *deadline_text(const struct fp_ro *ro, char buf[32])
{
	if (!ro->r.spec.deadline || fp_tuf_time_format(ro->r.spec.deadline, buf, NULL))
		return NULL;
	return buf;
}

/* Our assignment is still the device's (an operator may have replaced it). */
static int still_ours(fp_db *db, int64_t device_id, int64_t version, struct fp_err *err)
{
	int64_t v = 0;
	int rc =
	    fp_db_run(db, err, &v, "SELECT version FROM device_assignments WHERE device_id = ?",
	              "i", device_id);
	if (rc == FP_ENOTFOUND)
		return 0;
	return rc ? rc : v == version;
}

static int device_action(fp_db *db, struct fp_ro *ro, const struct fp_rollout_action *a,
                         const char *actor, struct fp_err *err)
{
	char dl[32];
	struct fp_rollout_dev *d = &ro->devs[a->dev];
	struct fp_ro_dev *x = &ro->x[a->dev];
	int rc;
	switch (a->kind) {
	case FP_ACT_ASSIGN:
		return fp_director_set(db, d->id, ro->target, deadline_text(ro, dl), actor,
		                       &x->assigned_version, err);
	case FP_ACT_REVERT:
		if (!x->prev_target)
			return 0;
		return fp_director_set(db, d->id, x->prev_target, NULL, actor, &x->assigned_version,
		                       err);
	case FP_ACT_WITHDRAW:
		rc = still_ours(db, d->id, x->assigned_version, err);
		if (rc <= 0)
			return rc;
		/* Until the device reports this version, it may still install the release. */
		return fp_director_set(db, d->id, NULL, NULL, actor, &x->withdrawn_version, err);
	default: return 0;
	}
}

static json_t *event_data(const struct fp_ro *ro, const struct fp_rollout_action *a)
{
	const struct fp_rollout_phase *p = &ro->r.spec.phase[ro->r.phase];
	return json_pack("{s:I,s:s,s:s,s:s,s:s,s:i,s:s,s:s}", "rollout_id", (json_int_t)ro->id,
	                 "name", ro->name, "release", ro->target, "event", a->event, "state",
	                 fp_rollout_state_name(ro->r.state), "phase", ro->r.phase, "phase_name",
	                 p->name, "detail", a->detail);
}

static int save_devices(fp_db *db, struct fp_ro *ro, struct fp_err *err)
{
	fp_stmt *st = NULL;
	int rc = fp_db_prepare(db,
	                       "UPDATE rollout_devices SET state = ?, since = ?, attempts = ?, "
	                       "failures = ?, reason = ?, assigned_version = ?, "
	                       "withdrawn_version = ? WHERE rollout_id = ? AND device_id = ?",
	                       &st, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < ro->n && rc == 0; i++) {
		struct fp_rollout_dev *d = &ro->devs[i];
		if (!d->dirty)
			continue;
		fp_stmt_text(st, 1, fp_rollout_dev_state_name(d->state));
		fp_stmt_int(st, 2, d->since);
		fp_stmt_int(st, 3, d->attempts);
		fp_stmt_int(st, 4, d->failures);
		fp_stmt_text(st, 5, d->reason);
		fp_stmt_int(st, 6, ro->x[i].assigned_version);
		fp_stmt_int(st, 7, ro->x[i].withdrawn_version);
		fp_stmt_int(st, 8, ro->id);
		fp_stmt_int(st, 9, d->id);
		rc = fp_stmt_step(st, err);
		rc = rc == FP_DB_DONE ? 0 : rc;
		fp_stmt_reset(st);
		d->dirty = 0;
	}
	fp_stmt_finalize(st);
	return rc;
}

static int save_rollout(fp_db *db, struct fp_ro *ro, struct fp_err *err)
{
	if (memcmp(&ro->r, &ro->r_loaded, sizeof(ro->r)) == 0)
		return 0;
	json_t *rt = fp_rollout_runtime_to_json(&ro->r);
	char *text = rt ? json_dumps(rt, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(rt);
	if (!text)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	fp_time_rfc3339(fp_now_s(), ro->updated_at);
	int rc =
	    fp_db_run(db, err, NULL,
	              "UPDATE rollouts SET state = ?, runtime = ?, updated_at = ? WHERE id = ?",
	              "sssi", fp_rollout_state_name(ro->r.state), text, ro->updated_at, ro->id);
	free(text);
	if (rc == 0)
		ro->r_loaded = ro->r;
	return rc;
}

int fp_ro_apply(struct fp_server *s, fp_db *db, struct fp_ro *ro,
                const struct fp_rollout_actions *acts, const struct fp_principal *who,
                struct fp_err *err)
{
	(void)s;
	char actor[160], obj[48];
	int rc = 0;
	snprintf(actor, sizeof(actor), "rollout:%" PRId64, ro->id);
	snprintf(obj, sizeof(obj), "rollout:%" PRId64, ro->id);
	for (size_t i = 0; i < acts->n && rc == 0; i++) {
		const struct fp_rollout_action *a = &acts->v[i];
		if (a->kind != FP_ACT_EVENT) {
			rc = device_action(db, ro, a, actor, err);
			ro->devs[a->dev].dirty = 1;
			continue;
		}
		char action[64];
		snprintf(action, sizeof(action), "rollout.%s", a->event);
		json_t *data = event_data(ro, a);
		if (!data)
			rc = fp_err_set(err, FP_ENOMEM, "out of memory");
		/* A command's own audit entry is written by the API; events by the scheduler. */
		if (rc == 0 && who->kind != FP_AUTH_USER)
			rc = fp_audit_append(db, who, action, obj, NULL, data, err);
		if (rc == 0)
			rc = fp_webhook_emit(db, action, data, err);
		if (rc == 0)
			fp_log(FP_LOG_INFO, "rollout event",
			       "rollout=%" PRId64 " event=%s state=%s detail=\"%s\"", ro->id,
			       a->event, fp_rollout_state_name(ro->r.state), a->detail);
		json_decref(data);
	}
	if (rc == 0)
		rc = save_devices(db, ro, err);
	if (rc == 0)
		rc = save_rollout(db, ro, err);
	return rc;
}

static json_t *counts_json(const size_t by_state[FP_RD_COUNT])
{
	json_t *o = json_object();
	for (int k = 0; o && k < FP_RD_COUNT; k++)
		json_object_set_new(o, fp_rollout_dev_state_name((enum fp_rollout_dev_state)k),
		                    json_integer((json_int_t)by_state[k]));
	return o;
}

/* Per-phase counts of each device state, by the database (no device is loaded). */
static int counts(fp_db *db, const struct fp_ro *ro, struct fp_rollout_counts *c)
{
	fp_stmt *st = NULL;
	enum fp_rollout_dev_state ds;
	int rc = fp_db_prepare(db,
	                       "SELECT phase, state, COUNT(*) FROM rollout_devices "
	                       "WHERE rollout_id = ? GROUP BY phase, state",
	                       &st, NULL);
	if (rc)
		return rc;
	fp_stmt_int(st, 1, ro->id);
	while ((rc = fp_stmt_step(st, NULL)) == FP_DB_ROW) {
		int64_t ph = fp_stmt_col_int(st, 0), k = fp_stmt_col_int(st, 2);
		if (ph < 0 || ph >= FP_ROLLOUT_PHASES_MAX ||
		    fp_rollout_dev_state_from_name(fp_stmt_col_text(st, 1), &ds))
			continue;
		c->total[ph] += (size_t)k;
		c->by_state[ph][ds] += (size_t)k;
	}
	fp_stmt_finalize(st);
	return rc == FP_DB_DONE ? 0 : rc;
}

json_t *fp_ro_json(fp_db *db, const struct fp_ro *ro)
{
	struct fp_rollout_counts *c = calloc(1, sizeof(*c));
	json_t *o = NULL, *phases = json_array(), *spec = fp_rollout_spec_to_json(&ro->r.spec);
	size_t all[FP_RD_COUNT] = {0}, total = 0;
	char nb[32] = "";
	if (!c || !phases || !spec || counts(db, ro, c))
		goto out;
	const struct fp_rollout_spec *sp = &ro->r.spec;
	for (size_t i = 0; i < sp->nphases; i++) {
		const struct fp_rollout_phase *p = &sp->phase[i];
		size_t n = c->total[i];
		size_t need = (size_t)(((uint64_t)p->success_pct * n + 99) / 100);
		const char *st = (int)i < ro->r.phase             ? "completed"
		                 : (int)i > ro->r.phase           ? "pending"
		                 : ro->r.state == FP_RS_COMPLETED ? "completed"
		                 : ro->r.phase_started            ? "running"
		                                                  : "pending";
		json_t *ph = json_pack(
		    "{s:s,s:I,s:s,s:o,s:{s:I,s:I,s:b},s:I,s:b}", "name", p->name, "devices",
		    (json_int_t)n, "status", st, "counts", counts_json(c->by_state[i]), "gate",
		    "needed", (json_int_t)need, "succeeded",
		    (json_int_t)c->by_state[i][FP_RD_SUCCEEDED], "met",
		    (int)i < ro->r.phase || ro->r.state == FP_RS_COMPLETED ||
		        ((int)i == ro->r.phase && ro->r.gate_met_at != 0),
		    "soak_s", (json_int_t)p->soak_s, "tripped", (ro->r.tripped >> i) & 1u);
		json_array_append_new(phases, ph);
		for (int k = 0; k < FP_RD_COUNT; k++)
			all[k] += c->by_state[i][k];
		total += n;
	}
	if (ro->r.not_before)
		fp_time_rfc3339(ro->r.not_before, nb);
	size_t done = all[FP_RD_SUCCEEDED];
	o = json_pack("{s:I,s:s,s:s,s:s,s:O,s:s,s:s,s:i,s:s,s:I,s:o,s:{s:I,s:I,s:f},s:s,s:s,"
	              "s:s?,s:s?,s:s?,s:s?,s:s,s:s?,s:i,s:O}",
	              "id", (json_int_t)ro->id, "name", ro->name, "release", ro->target,
	              "release_version", ro->target_version, "target_set", ro->selector, "state",
	              fp_rollout_state_name(ro->r.state), "reason", ro->r.reason, "phase",
	              ro->r.phase, "phase_name", sp->phase[ro->r.phase].name, "devices",
	              (json_int_t)total, "counts", counts_json(all), "progress", "succeeded",
	              (json_int_t)done, "total", (json_int_t)total, "percent",
	              total ? 100.0 * (double)done / (double)total : 0.0, "created_by",
	              ro->created_by, "created_at", ro->created_at, "approved_by",
	              ro->approved_by[0] ? ro->approved_by : NULL, "approved_at",
	              ro->approved_at[0] ? ro->approved_at : NULL, "ticket",
	              ro->ticket[0] ? ro->ticket : NULL, "approval_reason", ro->approval_reason,
	              "updated_at", ro->updated_at, "not_before", nb[0] ? nb : NULL, "priority",
	              sp->priority, "spec", spec);
	if (o)
		json_object_set_new(o, "phases", json_incref(phases));
out:
	json_decref(phases);
	json_decref(spec);
	free(c);
	return o;
}

/* What the device's inventory says about the update it was given. */
static void read_report(const struct fp_device_rec *rec, struct fp_rollout_report *rep, int64_t *av,
                        const char **target, const char **fw)
{
	const char *status = NULL, *version = NULL;
	memset(rep, 0, sizeof(*rep));
	*av = -1;
	*target = NULL;
	for (size_t i = 0; i < rec->n_attrs; i++) {
		const char *k = rec->attrs[i].key, *v = rec->attrs[i].val;
		if (strcmp(k, "fp_update_status") == 0)
			status = v;
		else if (strcmp(k, "fp_last_error") == 0)
			rep->reason = v;
		else if (strcmp(k, "fp_target") == 0)
			*target = v;
		else if (strcmp(k, "fp_assignment_version") == 0)
			version = v;
	}
	*fw = rec->f[FP_DEV_FIRMWARE];
	if (version) {
		char *end = NULL;
		long long x = strtoll(version, &end, 10);
		if (end && end != version && !*end && x >= 0)
			*av = x;
	}
	if (!status)
		rep->status = FP_REP_NONE;
	else if (strcmp(status, "in-progress") == 0)
		rep->status = FP_REP_INSTALLING;
	else if (strcmp(status, "installed") == 0)
		rep->status = FP_REP_INSTALLED;
	else if (strcmp(status, "failed") == 0)
		rep->status = FP_REP_FAILED;
}

int fp_rollouts_device_report(struct fp_server *s, fp_db *db, int64_t device_id,
                              const struct fp_device_rec *rec, struct fp_err *err)
{
	(void)s;
	struct fp_rollout_report rep;
	int64_t av;
	const char *target, *fw;
	read_report(rec, &rep, &av, &target, &fw);
	if (rep.status == FP_REP_NONE && av < 0)
		return 0;
	/* The rows this report can be about: devices with work in progress. */
	fp_stmt *st = NULL;
	int rc = fp_db_prepare(db,
	                       "SELECT rd.rollout_id FROM rollout_devices rd "
	                       "WHERE rd.device_id = ? AND rd.state IN ('waiting', 'assigned', "
	                       "'installing', 'reverting', 'failed', 'cancelled') "
	                       "AND rd.assigned_version > 0",
	                       &st, err);
	if (rc)
		return rc;
	int64_t ids[16];
	size_t nids = 0;
	fp_stmt_int(st, 1, device_id);
	while ((rc = fp_stmt_step(st, err)) == FP_DB_ROW && nids < 16)
		ids[nids++] = fp_stmt_col_int(st, 0);
	fp_stmt_finalize(st);
	if (rc != FP_DB_DONE && rc != FP_DB_ROW)
		return rc;
	rc = 0;
	/*
	 * Only the rollout that made the device's current director assignment
	 * hears its reports: two rollouts of one release must not take each
	 * other's devices for their own.
	 */
	char owner[160] = "";
	if (nids) {
		rc = fp_db_prepare(
		    db, "SELECT created_by FROM device_assignments WHERE device_id = ?", &st, err);
		if (rc)
			return rc;
		fp_stmt_int(st, 1, device_id);
		if (fp_stmt_step(st, err) == FP_DB_ROW)
			copy(owner, sizeof(owner), fp_stmt_col_text(st, 0));
		fp_stmt_finalize(st);
	}
	int64_t now = fp_now_s();
	for (size_t k = 0; k < nids && rc == 0; k++) {
		char me[48];
		snprintf(me, sizeof(me), "rollout:%" PRId64, ids[k]);
		if (strcmp(owner, me) != 0)
			continue;
		struct fp_ro ro;
		rc = fp_ro_load(db, ids[k], 0, &ro, err);
		if (rc)
			break;
		struct fp_rollout_dev d = {0};
		char *prev_target = NULL, *prev_version = NULL;
		int64_t assigned = 0, withdrawn = 0;
		rc = fp_db_prepare(db,
		                   "SELECT phase, state, since, attempts, failures, reason, "
		                   "assigned_version, prev_target, prev_version, withdrawn_version "
		                   "FROM rollout_devices WHERE rollout_id = ? AND device_id = ?",
		                   &st, err);
		if (rc == 0) {
			fp_stmt_int(st, 1, ro.id);
			fp_stmt_int(st, 2, device_id);
			rc = fp_stmt_step(st, err);
			if (rc == FP_DB_ROW) {
				rc = 0;
				d.id = device_id;
				d.phase = (int)fp_stmt_col_int(st, 0);
				if (fp_rollout_dev_state_from_name(fp_stmt_col_text(st, 1),
				                                   &d.state))
					rc =
					    fp_err_set(err, FP_EIO, "unknown rollout device state");
				d.since = fp_stmt_col_int(st, 2);
				d.attempts = (int)fp_stmt_col_int(st, 3);
				d.failures = (int)fp_stmt_col_int(st, 4);
				copy(d.reason, sizeof(d.reason), fp_stmt_col_text(st, 5));
				assigned = fp_stmt_col_int(st, 6);
				prev_target = dup_or_null(fp_stmt_col_text(st, 7));
				prev_version = dup_or_null(fp_stmt_col_text(st, 8));
				withdrawn = fp_stmt_col_int(st, 9);
				d.has_prev = prev_target != NULL;
			} else if (rc == FP_DB_DONE) {
				rc = 0;
				d.id = 0;
			}
			fp_stmt_finalize(st);
		}
		/*
		 * The report is about our assignment when the device says it took that
		 * director version (or a later one) and names its target: its status
		 * outlives the update it describes.
		 */
		const char *want = d.state == FP_RD_REVERTING ? prev_target : ro.target;
		int ours =
		    target && want && strcmp(target, want) == 0 && (av < 0 || av >= assigned);
		/* The device took the withdrawal: whatever it does now is not this rollout's. */
		if (rc == 0 && d.id && withdrawn > 0 && av >= withdrawn)
			rc = fp_db_run(db, err, NULL,
			               "UPDATE rollout_devices SET withdrawn_version = 0 "
			               "WHERE rollout_id = ? AND device_id = ?",
			               "ii", ro.id, device_id);
		if (rc == 0 && d.id && ours && rep.status != FP_REP_NONE) {
			rep.runs_target = fw && strcmp(fw, ro.target_version) == 0;
			rep.runs_prev = fw && prev_version && strcmp(fw, prev_version) == 0;
			if (fp_rollout_on_report(&ro.r, &d, &rep, now)) {
				rc = fp_db_run(db, err, NULL,
				               "UPDATE rollout_devices SET state = ?, since = ?, "
				               "attempts = ?, "
				               "failures = ?, reason = ? WHERE rollout_id = ? AND "
				               "device_id = ?",
				               "siiisii", fp_rollout_dev_state_name(d.state),
				               d.since, (int64_t)d.attempts, (int64_t)d.failures,
				               d.reason, ro.id, device_id);
			}
		}
		free(prev_target);
		free(prev_version);
		fp_ro_free(&ro);
	}
	return rc;
}

/* One rollout's tick in its own transaction. */
static int tick_one(struct fp_server *s, fp_db *db, int64_t id, int64_t now, struct fp_err *err)
{
	struct fp_ro ro;
	struct fp_rollout_actions acts = {0};
	struct fp_principal system = {0};
	int rc = fp_db_begin(db, err);
	if (rc)
		return rc;
	rc = fp_ro_load(db, id, 1, &ro, err);
	if (rc == 0) {
		rc = fp_ro_inputs(s, db, &ro, now, err);
		if (rc == 0)
			rc = fp_rollout_tick(&ro.r, ro.devs, ro.n, now, &acts);
		if (rc > 0)
			rc = 0;
		if (rc == FP_ENOMEM)
			fp_err_set(err, rc, "out of memory");
		if (rc == 0)
			rc = fp_ro_apply(s, db, &ro, &acts, &system, err);
		fp_ro_free(&ro);
	}
	int events = 0;
	for (size_t i = 0; i < acts.n; i++)
		events |= acts.v[i].kind == FP_ACT_EVENT;
	fp_rollout_actions_free(&acts);
	if (rc == 0)
		rc = fp_db_commit(db, err);
	if (rc)
		fp_db_rollback(db);
	else if (events)
		fp_webhook_kick();
	return rc;
}

int fp_rollouts_tick(struct fp_server *s, fp_db *db, int64_t now, struct fp_err *err)
{
	/* Live rollouts, and finished ones whose devices are still in flight. */
	fp_stmt *st = NULL;
	int rc =
	    fp_db_prepare(db,
	                  "SELECT id FROM rollouts WHERE state IN ('running', "
	                  "'waiting_approval', 'paused', 'reverting') UNION "
	                  "SELECT DISTINCT rollout_id FROM rollout_devices WHERE state IN "
	                  "('assigned', 'installing', 'reverting') UNION "
	                  "SELECT DISTINCT rd.rollout_id FROM rollout_devices rd JOIN rollouts "
	                  "ro ON ro.id = rd.rollout_id WHERE ro.state = 'reverted' AND "
	                  "rd.state = 'succeeded' AND rd.prev_target IS NOT NULL ORDER BY 1",
	                  &st, err);
	if (rc)
		return rc;
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	while ((rc = fp_stmt_step(st, err)) == FP_DB_ROW) {
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			int64_t *p = realloc(ids, nc * sizeof(*ids));
			if (!p) {
				rc = fp_err_set(err, FP_ENOMEM, "out of memory");
				break;
			}
			ids = p;
			cap = nc;
		}
		ids[n++] = fp_stmt_col_int(st, 0);
	}
	fp_stmt_finalize(st);
	rc = rc == FP_DB_DONE ? 0 : rc;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct fp_err e = {0};
		if (tick_one(s, db, ids[i], now, &e))
			fp_log(FP_LOG_ERROR, "rollout tick failed",
			       "rollout=%" PRId64 " error=\"%s\"", ids[i], e.msg);
	}
	free(ids);
	return rc;
}

static void *loop(void *arg)
{
	struct fp_server *s = arg;
	struct fp_rollouts *rs = s->rollouts;
	pthread_mutex_lock(&rs->mu);
	while (rs->running) {
		pthread_mutex_unlock(&rs->mu);
		fp_db *db = fp_db_pool_get(s->pool);
		struct fp_err err = {0};
		if (fp_rollouts_tick(s, db, fp_now_s(), &err))
			fp_log(FP_LOG_ERROR, "rollout scheduler", "error=\"%s\"", err.msg);
		fp_db_pool_put(s->pool, db);
		pthread_mutex_lock(&rs->mu);
		if (!rs->running)
			break;
		if (!rs->kicked) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			long ms = s->cfg.rollout_tick_ms;
			ts.tv_sec += ms / 1000;
			ts.tv_nsec += (ms % 1000) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&rs->cv, &rs->mu, &ts);
		}
		rs->kicked = 0;
	}
	pthread_mutex_unlock(&rs->mu);
	return NULL;
}

int fp_rollouts_start(struct fp_server *s, struct fp_err *err)
{
	struct fp_rollouts *rs = calloc(1, sizeof(*rs));
	if (!rs)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	pthread_mutex_init(&rs->mu, NULL);
	pthread_cond_init(&rs->cv, NULL);
	rs->running = 1;
	s->rollouts = rs;
	if (pthread_create(&rs->thread, NULL, loop, s)) {
		rs->running = 0;
		return fp_err_set(err, FP_EIO, "cannot start the rollout scheduler");
	}
	return 0;
}

void fp_rollouts_stop(struct fp_server *s)
{
	struct fp_rollouts *rs = s->rollouts;
	if (!rs)
		return;
	pthread_mutex_lock(&rs->mu);
	int was = rs->running;
	rs->running = 0;
	pthread_cond_broadcast(&rs->cv);
	pthread_mutex_unlock(&rs->mu);
	if (was)
		pthread_join(rs->thread, NULL);
	pthread_mutex_destroy(&rs->mu);
	pthread_cond_destroy(&rs->cv);
	free(rs);
	s->rollouts = NULL;
}

void fp_rollouts_kick(struct fp_server *s)
{
	struct fp_rollouts *rs = s->rollouts;
	if (!rs)
		return;
	pthread_mutex_lock(&rs->mu);
	rs->kicked = 1;
	pthread_cond_broadcast(&rs->cv);
	pthread_mutex_unlock(&rs->mu);
}
