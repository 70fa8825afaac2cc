/*
 * api_rollouts.c — creating rollouts and the change-control commands on
 * them (approve, start, pause, resume, abort, revert), their progress and
 * their devices. The decisions are lib/rollout.c's; this file validates
 * requests, resolves the target set and writes the audit trail
 * (docs/design/rollout.md).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "fleetpatch/filter.h"
#include "fleetpatch/tuf.h"
#include "log.h"
#include "repo.h"
#include "rollouts.h"
#include "store_devices.h"
#include "webhooks.h"

/* A device of the target set while a rollout is created. */
struct member {
	int64_t id;
	uint64_t key; /* order within the rollout: a hash, so phases are a fair sample */
	char *prev_target, *prev_version;
};

struct members {
	struct member *v;
	size_t n, cap;
	size_t incompatible;
	const json_t *hardware; /* the release's custom.hardware */
	json_t *targets;        /* every published target, for the previous release */
	struct fp_filter *filter;
	int64_t rollout_id;
	struct fp_err *err;
};

static uint64_t mix(uint64_t x)
{
	/* splitmix64's finaliser: a cheap, well-spread hash of the ids. */
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static int in_array(const json_t *a, const char *s)
{
	size_t i;
	const json_t *v;
	if (!s)
		return 0;
	json_array_foreach(a, i, v) if (json_is_string(v) &&
	                                strcmp(json_string_value(v), s) == 0) return 1;
	return 0;
}

/* The published full image with this version for this model: what the device runs now. */
static const char *previous_target(const json_t *targets, const char *model, const char *fw)
{
	const char *name;
	const json_t *t;
	if (!fw || !model)
		return NULL;
	json_object_foreach((json_t *)targets, name, t)
	{
		const json_t *c = json_object_get(t, "custom");
		const char *v = json_string_value(json_object_get(c, "version"));
		if (json_object_get(c, "delta") || !v || strcmp(v, fw) != 0)
			continue;
		if (in_array(json_object_get(c, "hardware"), model))
			return name;
	}
	return NULL;
}

static int add_member(void *ctx, struct fp_device_row *d)
{
	struct members *m = ctx;
	if (strcmp(d->status, FP_DEVSTAT_ACCEPTED) != 0)
		return 0;
	if (m->filter && !fp_device_matches(m->filter, d))
		return 0;
	const char *model = d->rec.f[FP_DEV_MODEL], *fw = d->rec.f[FP_DEV_FIRMWARE];
	if (!in_array(m->hardware, model)) {
		m->incompatible++;
		return 0;
	}
	if (m->n >= FP_ROLLOUT_DEVICES_MAX)
		return fp_err_set(m->err, FP_ETOOBIG, "a rollout holds at most %d devices",
		                  FP_ROLLOUT_DEVICES_MAX);
	if (m->n == m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 256;
		struct member *p = realloc(m->v, nc * sizeof(*p));
		if (!p)
			return fp_err_set(m->err, FP_ENOMEM, "out of memory");
		m->v = p;
		m->cap = nc;
	}
	struct member *x = &m->v[m->n];
	memset(x, 0, sizeof(*x));
	x->id = d->id;
	const char *prev = previous_target(m->targets, model, fw);
	if (prev) {
		x->prev_target = strdup(prev);
		x->prev_version = strdup(fw);
		if (!x->prev_target || !x->prev_version) {
			free(x->prev_target);
			free(x->prev_version);
			return fp_err_set(m->err, FP_ENOMEM, "out of memory");
		}
	}
	m->n++;
	return 0;
}

static void members_free(struct members *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].prev_target);
		free(m->v[i].prev_version);
	}
	free(m->v);
	json_decref(m->targets);
	fp_filter_free(m->filter);
}

static int cmp_member(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Resolves {"group": NAME} or {"filter": TEXT} into accepted, compatible devices. */
static int resolve_targets(fp_db *db, const char *group, const char *filter, struct members *m,
                           struct fp_err *err)
{
	int rc = 0;
	if (group) {
		int64_t gid = 0;
		char *gfilter = NULL;
		fp_stmt *st = NULL;
		rc = fp_db_prepare(db, "SELECT id, filter FROM device_groups WHERE name = ?", &st,
		                   err);
		if (rc)
			return rc;
		fp_stmt_text(st, 1, group);
		rc = fp_stmt_step(st, err);
		if (rc == FP_DB_ROW) {
			gid = fp_stmt_col_int(st, 0);
			const char *f = fp_stmt_col_text(st, 1);
			gfilter = f ? strdup(f) : NULL;
			rc = f && !gfilter ? fp_err_set(err, FP_ENOMEM, "out of memory") : 0;
		} else if (rc == FP_DB_DONE) {
			rc = fp_err_set(err, FP_EUNSUPP, "group: no group named '%.64s'", group);
		}
		fp_stmt_finalize(st);
		if (rc == 0 && gfilter)
			rc = fp_filter_parse(gfilter, fp_filter_attr_known, &m->filter, err);
		free(gfilter);
		if (rc == 0 && m->filter)
			rc = fp_store_device_each(db, NULL, 0, add_member, m, err);
		else if (rc == 0)
			rc = fp_store_device_each(
			    db,
			    "WHERE id IN (SELECT device_id FROM group_members WHERE group_id = ?)",
			    gid, add_member, m, err);
		return rc;
	}
	rc = fp_filter_parse(filter, fp_filter_attr_known, &m->filter, err);
	if (rc == 0)
		rc = fp_store_device_each(db, NULL, 0, add_member, m, err);
	return rc;
}

/*
 * Devices of the set that a live rollout of the same or a higher priority
 * already holds: such a rollout must finish (or be outranked) first.
 */
static int conflicts(fp_db *db, int64_t rollout_id, int priority, struct fp_err *err)
{
	fp_stmt *st = NULL;
	int rc = fp_db_prepare(
	    db,
	    "SELECT o.rollout_id, ro.name, ro.priority, COUNT(*) FROM rollout_devices rd "
	    "JOIN rollout_devices o ON o.device_id = rd.device_id AND o.rollout_id <> "
	    "rd.rollout_id "
	    "JOIN rollouts ro ON ro.id = o.rollout_id "
	    "WHERE rd.rollout_id = ? AND ro.priority >= ? "
	    "AND ro.state IN ('draft', 'approved', 'running', 'waiting_approval', 'paused', "
	    "'reverting') AND o.state IN ('pending', 'waiting', 'assigned', 'installing', "
	    "'reverting') GROUP BY o.rollout_id ORDER BY o.rollout_id LIMIT 1",
	    &st, err);
	if (rc)
		return rc;
	fp_stmt_int(st, 1, rollout_id);
	fp_stmt_int(st, 2, priority);
	rc = fp_stmt_step(st, err);
	if (rc == FP_DB_ROW)
		rc = fp_err_set(err, FP_ECONFLICT,
		                "%" PRId64 " of its devices belong to rollout %" PRId64
		                " '%.100s' (priority %" PRId64 " >= %d), which has not finished; "
		                "wait for it, abort it, or give this rollout a higher priority",
		                fp_stmt_col_int(st, 3), fp_stmt_col_int(st, 0),
		                fp_stmt_col_text(st, 1), fp_stmt_col_int(st, 2), priority);
	else if (rc == FP_DB_DONE)
		rc = 0;
	fp_stmt_finalize(st);
	return rc;
}

/* When the release first appeared in the targets metadata (for the deferral). */
static int64_t published_at(fp_db *db, const char *target)
{
	char quoted[300];
	int64_t v = 0;
	snprintf(quoted, sizeof(quoted), "\"%s\"", target);
	fp_stmt *st = NULL;
	if (fp_db_prepare(db,
	                  "SELECT MIN(created_at) FROM tuf_metadata WHERE role = 'targets' AND "
	                  "instr(body, ?) > 0",
	                  &st, NULL))
		return 0;
	fp_stmt_text(st, 1, quoted);
	if (fp_stmt_step(st, NULL) == FP_DB_ROW && fp_stmt_col_text(st, 0)) {
		const char *t = fp_stmt_col_text(st, 0);
		if (fp_tuf_time_parse(t, &v, NULL))
			v = 0;
	}
	fp_stmt_finalize(st);
	return v;
}

static int text_field(struct fp_req *r, const json_t *o, const char *key, size_t max, int required,
                      const char **out)
{
	const json_t *v = json_object_get(o, key);
	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			fp_reply_error(r, 400, "invalid", "%s: required", key);
		return required ? -1 : 0;
	}
	const char *s = json_string_value(v);
	if (!s || !*s || strlen(s) > max) {
		fp_reply_error(r, 400, "invalid",
		               "%s: expected a non-empty string of at most %zu bytes", key, max);
		return -1;
	}
	*out = s;
	return 0;
}

static int insert_devices(fp_db *db, int64_t id, struct members *m,
                          const struct fp_rollout_spec *spec, struct fp_err *err)
{
	size_t cum[FP_ROLLOUT_PHASES_MAX];
	fp_rollout_phase_sizes(spec, m->n, cum);
	for (size_t i = 0; i < m->n; i++)
		m->v[i].key = mix(((uint64_t)id << 32) ^ (uint64_t)m->v[i].id);
	qsort(m->v, m->n, sizeof(*m->v), cmp_member);
	fp_stmt *st = NULL;
	int rc = fp_db_prepare(db,
	                       "INSERT INTO rollout_devices (rollout_id, device_id, ord, phase, "
	                       "state, since, prev_target, prev_version) "
	                       "VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)",
	                       &st, err);
	if (rc)
		return rc;
	int64_t now = fp_now_s();
	size_t phase = 0;
	for (size_t i = 0; i < m->n && rc == 0; i++) {
		while (phase + 1 < spec->nphases && i >= cum[phase])
			phase++;
		fp_stmt_int(st, 1, id);
		fp_stmt_int(st, 2, m->v[i].id);
		fp_stmt_int(st, 3, (int64_t)i);
		fp_stmt_int(st, 4, (int64_t)phase);
		fp_stmt_int(st, 5, now);
		fp_stmt_text(st, 6, m->v[i].prev_target);
		fp_stmt_text(st, 7, m->v[i].prev_version);
		rc = fp_stmt_step(st, err);
		rc = rc == FP_DB_DONE ? 0 : rc;
		fp_stmt_reset(st);
	}
	fp_stmt_finalize(st);
	return rc;
}

void fp_api_rollout_create(struct fp_req *r)
{
	fp_rollout_create_draft(r, r->json);
}

void fp_rollout_create_draft(struct fp_req *r, const json_t *body)
{
	static const char *const own[] = {"name", "release", "group", "filter", NULL};
	struct fp_err err = {0};
	struct members m = {0};
	struct fp_rollout ro = {0};
	json_t *spec = NULL, *target = NULL, *selector = NULL, *after = NULL, *rt = NULL;
	char *spec_text = NULL, *sel_text = NULL, *rt_text = NULL;
	const char *name, *release, *group, *filter;
	int rc = 0;
	m.err = &err;
	if (!json_is_object(body)) {
		fp_reply_error(r, 400, "invalid", "request body must be a JSON object");
		return;
	}
	if (text_field(r, body, "name", FP_RO_NAME_MAX, 1, &name) ||
	    text_field(r, body, "release", 255, 1, &release) ||
	    text_field(r, body, "group", 128, 0, &group) ||
	    text_field(r, body, "filter", 4096, 0, &filter))
		return;
	if (!group == !filter) {
		fp_reply_error(r, 400, "invalid",
		               "give exactly one of group (a group's name) and filter (a device "
		               "filter) as the rollout's target set");
		return;
	}
	/* Everything else is the specification. */
	spec = json_deep_copy(body);
	for (const char *const *k = own; spec && *k; k++)
		json_object_del(spec, *k);
	if (!spec) {
		fp_reply_error(r, 500, "internal", "out of memory");
		return;
	}
	rc = fp_rollout_spec_from_json(spec, &ro.spec, &err);
	json_decref(spec);
	spec = NULL;
	if (rc) {
		fp_reply_err(r, &err);
		return;
	}
	rc = fp_db_begin(r->db, &err);
	if (rc == 0) {
		rc = fp_repo_target(r->db, release, &target, &err);
		if (rc == FP_ENOTFOUND)
			rc = fp_err_set(&err, FP_EUNSUPP, "release: no published target '%.200s'",
			                release);
	}
	const json_t *custom = json_object_get(target, "custom");
	const char *version = json_string_value(json_object_get(custom, "version"));
	if (rc == 0 && json_object_get(custom, "delta"))
		rc = fp_err_set(
		    &err, FP_EUNSUPP,
		    "release: '%.200s' is a delta; roll out the full target it leads to", release);
	if (rc == 0 && (!version || !*version || strlen(version) > FP_RO_VERSION_MAX))
		rc =
		    fp_err_set(&err, FP_EUNSUPP,
		               "release: '%.200s' has no custom.version, so updated devices cannot "
		               "be told from the others (publish it with --version)",
		               release);
	if (rc == 0) {
		m.hardware = json_object_get(custom, "hardware");
		rc = fp_repo_targets_all(r->db, &m.targets, &err);
	}
	if (rc == 0)
		rc = resolve_targets(r->db, group, filter, &m, &err);
	if (rc == 0 && m.n == 0)
		rc = fp_err_set(&err, FP_EUNSUPP,
		                "the target set has no accepted device that can install '%.200s' "
		                "(%zu of another hardware type)",
		                release, m.incompatible);
	selector =
	    group ? json_pack("{s:s}", "group", group) : json_pack("{s:s}", "filter", filter);
	spec = fp_rollout_spec_to_json(&ro.spec);
	ro.state = FP_RS_DRAFT;
	int64_t pub = published_at(r->db, release);
	ro.not_before = ro.spec.start_at;
	if (pub && pub + ro.spec.defer_s > ro.not_before)
		ro.not_before = pub + ro.spec.defer_s;
	rt = fp_rollout_runtime_to_json(&ro);
	spec_text = spec ? json_dumps(spec, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	sel_text = selector ? json_dumps(selector, JSON_COMPACT) : NULL;
	rt_text = rt ? json_dumps(rt, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (rc == 0 && (!spec_text || !sel_text || !rt_text))
		rc = fp_err_set(&err, FP_ENOMEM, "out of memory");
	char actor[160], ts[32];
	fp_actor_name(&r->who, actor);
	fp_time_rfc3339(fp_now_s(), ts);
	int64_t id = 0;
	if (rc == 0)
		rc =
		    fp_db_run(r->db, &err, NULL,
		              "INSERT INTO rollouts (name, target, target_version, selector, spec, "
		              "state, priority, runtime, created_by, created_at, updated_at) "
		              "VALUES (?, ?, ?, ?, ?, 'draft', ?, ?, ?, ?, ?)",
		              "sssssissss", name, release, version, sel_text, spec_text,
		              (int64_t)ro.spec.priority, rt_text, actor, ts, ts);
	if (rc == 0)
		rc = fp_db_run(r->db, &err, &id, "SELECT last_insert_rowid()", NULL);
	if (rc == 0)
		rc = insert_devices(r->db, id, &m, &ro.spec, &err);
	if (rc == 0)
		rc = conflicts(r->db, id, ro.spec.priority, &err);
	struct fp_ro full = {0};
	if (rc == 0)
		rc = fp_ro_load(r->db, id, 0, &full, &err);
	if (rc == 0) {
		after = fp_ro_json(r->db, &full);
		if (after)
			json_object_set_new(after, "incompatible_devices",
			                    json_integer((json_int_t)m.incompatible));
	}
	char obj[48];
	snprintf(obj, sizeof(obj), "rollout:%" PRId64, id);
	/* The audit log keeps integers and text only: not the progress percentage. */
	json_t *audited = after ? json_deep_copy(after) : NULL;
	json_object_del(audited, "progress");
	if (rc == 0 && !audited)
		rc = fp_err_set(&err, FP_ENOMEM, "out of memory");
	if (fp_api_finish(r, rc, &err, "rollout.create", obj, NULL, audited) == 0)
		fp_reply(r, 201, json_incref(after));
	json_decref(audited);
	fp_ro_free(&full);
	members_free(&m);
	json_decref(target);
	json_decref(selector);
	json_decref(spec);
	json_decref(rt);
	json_decref(after);
	free(spec_text);
	free(sel_text);
	free(rt_text);
}

static json_t *rollout_row_json(struct fp_req *r, fp_stmt *st)
{
	struct fp_ro ro;
	struct fp_err err = {0};
	if (fp_ro_load(r->db, fp_stmt_col_int(st, 0), 0, &ro, &err))
		return json_pack("{s:I,s:s}", "id", (json_int_t)fp_stmt_col_int(st, 0), "error",
		                 err.msg);
	json_t *o = fp_ro_json(r->db, &ro);
	fp_ro_free(&ro);
	return o;
}

void fp_api_rollouts_list(struct fp_req *r)
{
	static const char *const q[] = {"state", "page", "per_page", NULL};
	if (fp_req_only_query(r, q))
		return;
	const char *state = fp_req_query(r, "state");
	enum fp_rollout_state s;
	if (state && fp_rollout_state_from_name(state, &s)) {
		fp_reply_error(r, 400, "invalid", "state: '%.32s' is not a rollout state", state);
		return;
	}
	if (!state) {
		fp_api_list_page(r, "SELECT COUNT(*) FROM rollouts",
		                 "SELECT id FROM rollouts ORDER BY id DESC LIMIT ? OFFSET ?", -1,
		                 rollout_row_json);
		return;
	}
	/* The state names are a fixed list, so the text is safe to embed. */
	char count[160], list[200];
	snprintf(count, sizeof(count), "SELECT COUNT(*) FROM rollouts WHERE state = '%s'",
	         fp_rollout_state_name(s));
	snprintf(list, sizeof(list),
	         "SELECT id FROM rollouts WHERE state = '%s' ORDER BY id DESC LIMIT ? OFFSET ?",
	         fp_rollout_state_name(s));
	fp_api_list_page(r, count, list, -1, rollout_row_json);
}

void fp_api_rollout_get(struct fp_req *r)
{
	struct fp_err err = {0};
	struct fp_ro ro;
	int64_t id;
	if (fp_req_id(r, 0, &id))
		return;
	if (fp_ro_load(r->db, id, 0, &ro, &err)) {
		fp_reply_err(r, &err);
		return;
	}
	json_t *o = fp_ro_json(r->db, &ro);
	fp_ro_free(&ro);
	if (!o)
		fp_reply_error(r, 500, "internal", "out of memory");
	else
		fp_reply(r, 200, o);
}

void fp_api_rollout_devices(struct fp_req *r)
{
	static const char *const q[] = {"state", "phase", "page", "per_page", NULL};
	struct fp_err err = {0};
	int64_t id, page, per_page;
	if (fp_req_id(r, 0, &id) || fp_req_only_query(r, q) || fp_req_paging(r, &page, &per_page))
		return;
	const char *state = fp_req_query(r, "state"), *phase = fp_req_query(r, "phase");
	enum fp_rollout_dev_state ds;
	if (state && fp_rollout_dev_state_from_name(state, &ds)) {
		fp_reply_error(r, 400, "invalid",
		               "state: '%.32s' is not a device state of a rollout", state);
		return;
	}
	long ph = -1;
	if (phase) {
		char *end = NULL;
		ph = strtol(phase, &end, 10);
		if (!end || end == phase || *end || ph < 0 || ph >= FP_ROLLOUT_PHASES_MAX) {
			fp_reply_error(r, 400, "invalid", "phase: expected a phase index from 0");
			return;
		}
	}
	int64_t exists = 0;
	if (fp_db_run(r->db, &err, &exists, "SELECT COUNT(*) FROM rollouts WHERE id = ?", "i",
	              id) ||
	    !exists) {
		if (!err.msg[0])
			fp_err_set(&err, FP_ENOTFOUND, "no rollout %" PRId64, id);
		fp_reply_err(r, &err);
		return;
	}
	const char *st_name = state ? fp_rollout_dev_state_name(ds) : "";
	int64_t total = 0;
	if (fp_db_run(r->db, &err, &total,
	              "SELECT COUNT(*) FROM rollout_devices WHERE rollout_id = ? AND "
	              "(? = '' OR state = ?) AND (? < 0 OR phase = ?)",
	              "issii", id, st_name, st_name, (int64_t)ph, (int64_t)ph)) {
		fp_reply_err(r, &err);
		return;
	}
	fp_stmt *st = NULL;
	json_t *items = json_array();
	int rc = fp_db_prepare(
	    r->db,
	    "SELECT rd.device_id, d.identity, rd.phase, rd.state, rd.since, rd.attempts, "
	    "rd.failures, rd.reason, rd.assigned_version, rd.prev_target, d.firmware_version "
	    "FROM rollout_devices rd JOIN devices d ON d.id = rd.device_id "
	    "WHERE rd.rollout_id = ? AND (? = '' OR rd.state = ?) AND (? < 0 OR rd.phase = ?) "
	    "ORDER BY rd.ord LIMIT ? OFFSET ?",
	    &st, &err);
	if (rc == 0) {
		fp_stmt_int(st, 1, id);
		fp_stmt_text(st, 2, st_name);
		fp_stmt_text(st, 3, st_name);
		fp_stmt_int(st, 4, ph);
		fp_stmt_int(st, 5, ph);
		fp_stmt_int(st, 6, per_page);
		fp_stmt_int(st, 7, (page - 1) * per_page);
		while ((rc = fp_stmt_step(st, &err)) == FP_DB_ROW) {
			char since[32];
			fp_time_rfc3339(fp_stmt_col_int(st, 4), since);
			json_array_append_new(
			    items, json_pack("{s:I,s:s,s:I,s:s,s:s,s:I,s:I,s:s,s:I,s:s?,s:s?}",
			                     "device_id", (json_int_t)fp_stmt_col_int(st, 0),
			                     "identity", fp_stmt_col_text(st, 1), "phase",
			                     (json_int_t)fp_stmt_col_int(st, 2), "state",
			                     fp_stmt_col_text(st, 3), "since", since, "attempts",
			                     (json_int_t)fp_stmt_col_int(st, 5), "failures",
			                     (json_int_t)fp_stmt_col_int(st, 6), "reason",
			                     fp_stmt_col_text(st, 7), "assignment_version",
			                     (json_int_t)fp_stmt_col_int(st, 8), "previous_release",
			                     fp_stmt_col_text(st, 9), "firmware_version",
			                     fp_stmt_col_text(st, 10)));
		}
		fp_stmt_finalize(st);
		rc = rc == FP_DB_DONE ? 0 : rc;
	}
	if (rc) {
		json_decref(items);
		fp_reply_err(r, &err);
		return;
	}
	fp_reply_page(r, items, total, page, per_page);
}

/* approve: by an approver who did not create the rollout, with a ticket and a reason. */
static int approval(struct fp_req *r, const struct fp_ro *ro, const char **ticket,
                    const char **reason)
{
	char actor[160];
	fp_actor_name(&r->who, actor);
	if (text_field(r, r->json, "ticket", FP_RO_TICKET_MAX, 1, ticket) ||
	    text_field(r, r->json, "reason", FP_RO_REASON_MAX, 1, reason))
		return -1;
	if (strcmp(actor, ro->created_by) == 0) {
		fp_reply_error(r, 403, "forbidden",
		               "you created rollout %" PRId64
		               "; another user with the approver role must approve it",
		               ro->id);
		return -1;
	}
	return 0;
}

static void command(struct fp_req *r, enum fp_rollout_command cmd)
{
	static const char *const with_ticket[] = {"ticket", "reason", NULL};
	static const char *const with_reason[] = {"reason", NULL};
	struct fp_err err = {0};
	struct fp_ro ro = {0};
	struct fp_rollout_actions acts = {0};
	json_t *before = NULL, *after = NULL;
	const char *ticket = NULL, *reason = NULL;
	int64_t id;
	if (fp_req_id(r, 0, &id))
		return;
	if (r->json && !json_is_object(r->json)) {
		fp_reply_error(r, 400, "invalid", "request body must be a JSON object");
		return;
	}
	if (r->json &&
	    fp_req_only_fields(r, r->json, cmd == FP_CMD_APPROVE ? with_ticket : with_reason))
		return;
	if (cmd != FP_CMD_APPROVE && r->json &&
	    text_field(r, r->json, "reason", FP_RO_REASON_MAX, 0, &reason))
		return;
	int rc = fp_db_begin(r->db, &err);
	if (rc) {
		fp_reply_err(r, &err);
		return;
	}
	rc = fp_ro_load(r->db, id, 1, &ro, &err);
	if (rc) {
		fp_db_rollback(r->db);
		fp_reply_err(r, &err);
		return;
	}
	if (cmd == FP_CMD_APPROVE && approval(r, &ro, &ticket, &reason)) {
		fp_db_rollback(r->db);
		goto out;
	}
	before =
	    json_pack("{s:s,s:i}", "state", fp_rollout_state_name(ro.r.state), "phase", ro.r.phase);
	int64_t now = fp_now_s();
	/* A start re-checks conflicts: another rollout may have started meanwhile. */
	if (cmd == FP_CMD_START)
		rc = conflicts(r->db, ro.id, ro.r.spec.priority, &err);
	if (rc == 0)
		rc = fp_ro_inputs(r->srv, r->db, &ro, now, &err);
	if (rc == 0)
		rc = fp_rollout_command(&ro.r, ro.devs, ro.n, cmd, now, &acts, &err);
	/* The rollout says who stopped it, and why when they said. */
	if (rc == 0 && (cmd == FP_CMD_PAUSE || cmd == FP_CMD_ABORT || cmd == FP_CMD_REVERT)) {
		char actor[160];
		fp_actor_name(&r->who, actor);
		snprintf(ro.r.reason, sizeof(ro.r.reason), "%s by %.48s%s%.120s",
		         cmd == FP_CMD_PAUSE   ? "paused"
		         : cmd == FP_CMD_ABORT ? "aborted"
		                               : "reverted",
		         actor, reason ? ": " : "", reason ? reason : "");
	}
	if (rc == 0 && cmd == FP_CMD_APPROVE && ro.r.state == FP_RS_APPROVED) {
		char actor[160], ts[32];
		fp_actor_name(&r->who, actor);
		fp_time_rfc3339(now, ts);
		rc = fp_db_run(r->db, &err, NULL,
		               "UPDATE rollouts SET approved_by = ?, approved_at = ?, ticket = ?, "
		               "approval_reason = ? WHERE id = ?",
		               "ssssi", actor, ts, ticket, reason, ro.id);
	}
	if (rc == 0)
		rc = fp_ro_apply(r->srv, r->db, &ro, &acts, &r->who, &err);
	if (rc == 0) {
		after = json_pack("{s:s,s:i,s:s?,s:s?}", "state", fp_rollout_state_name(ro.r.state),
		                  "phase", ro.r.phase, "ticket", ticket, "reason", reason);
	}
	char obj[48], action[48];
	snprintf(obj, sizeof(obj), "rollout:%" PRId64, id);
	snprintf(action, sizeof(action), "rollout.%s", fp_rollout_command_name(cmd));
	if (fp_api_finish(r, rc, &err, action, obj, before, after) == 0) {
		fp_rollouts_kick(r->srv);
		fp_webhook_kick();
		struct fp_ro fresh;
		if (fp_ro_load(r->db, id, 0, &fresh, &err) == 0) {
			fp_reply(r, 200, fp_ro_json(r->db, &fresh));
			fp_ro_free(&fresh);
		} else {
			fp_reply_err(r, &err);
		}
	}
out:
	fp_rollout_actions_free(&acts);
	fp_ro_free(&ro);
	json_decref(before);
	json_decref(after);
}

void fp_api_rollout_approve(struct fp_req *r)
{
	command(r, FP_CMD_APPROVE);
}

void fp_api_rollout_start(struct fp_req *r)
{
	command(r, FP_CMD_START);
}

void fp_api_rollout_pause(struct fp_req *r)
{
	command(r, FP_CMD_PAUSE);
}

void fp_api_rollout_resume(struct fp_req *r)
{
	command(r, FP_CMD_RESUME);
}

void fp_api_rollout_abort(struct fp_req *r)
{
	command(r, FP_CMD_ABORT);
}

void fp_api_rollout_revert(struct fp_req *r)
{
	command(r, FP_CMD_REVERT);
}
