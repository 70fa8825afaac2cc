/*
 * api_groups.c — device groups: static (explicit members) or dynamic (a
 * filter expression over device attributes, evaluated when asked, so a
 * device joins or leaves as its inventory changes).
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "fleetpatch/device.h"
#include "fleetpatch/filter.h"
#include "store_devices.h"
#include "vuln.h"

#define GROUP_NAME_MAX         64
#define GROUP_DESC_MAX         1024
#define GROUP_MEMBERS_PER_CALL 10000

static int name_valid(const char *n)
{
	size_t len = strlen(n);
	if (len == 0 || len > GROUP_NAME_MAX || !isalnum((unsigned char)n[0]))
		return 0;
	for (const char *p = n; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
			return 0;
	return 1;
}

struct group {
	int64_t id;
	char name[GROUP_NAME_MAX + 1];
	char *description;
	char *filter; /* NULL for a static group */
	char created_at[32], updated_at[32];
};

static void group_free(struct group *g)
{
	free(g->description);
	free(g->filter);
}

static int load_group(struct fp_req *r, const char *name, struct group *g)
{
	memset(g, 0, sizeof(*g));
	fp_stmt *st = NULL;
	struct fp_err err = {0};
	if (fp_db_prepare(r->db,
	                  "SELECT id, name, description, filter, created_at, updated_at FROM "
	                  "device_groups WHERE name = ?",
	                  &st, &err)) {
		fp_reply_err(r, &err);
		return -1;
	}
	fp_stmt_text(st, 1, name);
	int rc = fp_stmt_step(st, &err);
	if (rc == FP_DB_ROW) {
		g->id = fp_stmt_col_int(st, 0);
		snprintf(g->name, sizeof(g->name), "%s", fp_stmt_col_text(st, 1));
		g->description = strdup(fp_stmt_col_text(st, 2));
		const char *f = fp_stmt_col_text(st, 3);
		g->filter = f ? strdup(f) : NULL;
		snprintf(g->created_at, sizeof(g->created_at), "%s", fp_stmt_col_text(st, 4));
		snprintf(g->updated_at, sizeof(g->updated_at), "%s", fp_stmt_col_text(st, 5));
	}
	fp_stmt_finalize(st);
	if (rc == FP_DB_ROW && g->description)
		return 0;
	if (rc == FP_DB_DONE)
		fp_reply_error(r, 404, "not_found", "no group named '%.64s'", name);
	else
		fp_reply_err(r, &err);
	group_free(g);
	return -1;
}

/* Begins a change of the group named in the path: -1 after replying when it
 * cannot (the transaction is then rolled back). */
static int begin_group(struct fp_req *r, struct group *g, struct fp_err *err)
{
	if (fp_db_begin(r->db, err)) {
		fp_reply_err(r, err);
		return -1;
	}
	if (load_group(r, r->params[0], g)) {
		fp_db_rollback(r->db);
		return -1;
	}
	return 0;
}

static json_t *group_json(const struct group *g)
{
	return json_pack("{s:s,s:s,s:s,s:s?,s:s,s:s}", "name", g->name, "type",
	                 g->filter ? "dynamic" : "static", "description", g->description, "filter",
	                 g->filter, "created_at", g->created_at, "updated_at", g->updated_at);
}

struct count_ctx {
	struct fp_filter *f;
	int64_t n;
};

static int count_match(void *ctx, struct fp_device_row *d)
{
	struct count_ctx *c = ctx;
	if (fp_device_matches(c->f, d))
		c->n++;
	return 0;
}

static int64_t member_count(struct fp_req *r, const struct group *g)
{
	int64_t n = 0;
	if (!g->filter) {
		if (fp_db_run(r->db, NULL, &n,
		              "SELECT COUNT(*) FROM group_members WHERE group_id = ?", "i", g->id))
			return -1;
		return n;
	}
	struct count_ctx c = {0};
	if (fp_filter_parse(g->filter, fp_filter_attr_known, &c.f, NULL))
		return -1;
	int rc = fp_store_device_each(r->db, NULL, 0, count_match, &c, NULL);
	fp_filter_free(c.f);
	return rc ? -1 : c.n;
}

/* Validates a filter text and returns its canonical form (caller frees), or NULL after a 400. */
static char *check_filter(struct fp_req *r, const json_t *jf)
{
	struct fp_err err = {0};
	struct fp_filter *f = NULL;
	char *canon = NULL;
	if (!json_is_string(jf)) {
		fp_reply_error(r, 400, "invalid", "filter: expected a filter expression string");
		return NULL;
	}
	if (fp_filter_parse(json_string_value(jf), fp_filter_attr_known, &f, &err) ||
	    fp_filter_to_string(f, &canon)) {
		fp_reply_err(r, &err);
		canon = NULL;
	}
	fp_filter_free(f);
	return canon;
}

static json_t *group_row_json(struct fp_req *r, fp_stmt *st)
{
	(void)r;
	struct group g = {.id = fp_stmt_col_int(st, 0)};
	snprintf(g.name, sizeof(g.name), "%s", fp_stmt_col_text(st, 1));
	g.description = (char *)fp_stmt_col_text(st, 2);
	g.filter = (char *)fp_stmt_col_text(st, 3);
	snprintf(g.created_at, sizeof(g.created_at), "%s", fp_stmt_col_text(st, 4));
	snprintf(g.updated_at, sizeof(g.updated_at), "%s", fp_stmt_col_text(st, 5));
	return group_json(&g);
}

void fp_api_groups_list(struct fp_req *r)
{
	fp_api_list_page(r, "SELECT COUNT(*) FROM device_groups",
	                 "SELECT id, name, description, filter, created_at, updated_at FROM "
	                 "device_groups ORDER BY name LIMIT ? OFFSET ?",
	                 -1, group_row_json);
}

void fp_api_group_create(struct fp_req *r)
{
	static const char *const fields[] = {"name", "description", "filter", NULL};
	if (fp_req_only_fields(r, r->json, fields))
		return;
	const char *name = json_string_value(json_object_get(r->json, "name"));
	json_t *jdesc = json_object_get(r->json, "description");
	json_t *jf = json_object_get(r->json, "filter");
	if (!name || !name_valid(name)) {
		fp_reply_error(r, 400, "invalid",
		               "name: 1-%d characters of A-Z a-z 0-9 _ . -, starting with a letter "
		               "or digit",
		               GROUP_NAME_MAX);
		return;
	}
	const char *desc = "";
	if (jdesc &&
	    (!json_is_string(jdesc) || !fp_text_valid(json_string_value(jdesc), GROUP_DESC_MAX))) {
		fp_reply_error(r, 400, "invalid", "description: text of at most %d bytes",
		               GROUP_DESC_MAX);
		return;
	}
	if (jdesc)
		desc = json_string_value(jdesc);
	char *filter = NULL;
	if (jf && !json_is_null(jf) && !(filter = check_filter(r, jf)))
		return;
	struct fp_err err = {0};
	char now[32], obj[96];
	fp_time_rfc3339(fp_now_s(), now);
	if (fp_db_begin(r->db, &err)) {
		fp_reply_err(r, &err);
		free(filter);
		return;
	}
	int rc = fp_db_run(r->db, &err, NULL,
	                   "INSERT INTO device_groups (name, description, filter, created_at, "
	                   "updated_at) VALUES (?, ?, ?, ?, ?)",
	                   "sssss", name, desc, filter, now, now);
	if (rc == FP_EEXIST)
		fp_err_set(&err, FP_EEXIST, "a group named '%s' already exists", name);
	struct group g = {0};
	snprintf(g.name, sizeof(g.name), "%s", name);
	g.description = (char *)desc;
	g.filter = filter;
	snprintf(g.created_at, sizeof(g.created_at), "%s", now);
	snprintf(g.updated_at, sizeof(g.updated_at), "%s", now);
	json_t *after = group_json(&g);
	snprintf(obj, sizeof(obj), "group:%s", name);
	if (fp_api_finish(r, rc, &err, "group.create", obj, NULL, after) == 0)
		fp_reply(r, 201, json_incref(after));
	json_decref(after);
	free(filter);
}

void fp_api_group_get(struct fp_req *r)
{
	struct group g;
	if (load_group(r, r->params[0], &g))
		return;
	json_t *o = group_json(&g);
	json_object_set_new(o, "device_count", json_integer(member_count(r, &g)));
	fp_reply(r, 200, o);
	group_free(&g);
}

void fp_api_group_patch(struct fp_req *r)
{
	static const char *const fields[] = {"description", "filter", NULL};
	if (fp_req_only_fields(r, r->json, fields))
		return;
	json_t *jdesc = json_object_get(r->json, "description");
	json_t *jf = json_object_get(r->json, "filter");
	if (jdesc &&
	    (!json_is_string(jdesc) || !fp_text_valid(json_string_value(jdesc), GROUP_DESC_MAX))) {
		fp_reply_error(r, 400, "invalid", "description: text of at most %d bytes",
		               GROUP_DESC_MAX);
		return;
	}
	struct fp_err err = {0};
	struct group g;
	if (begin_group(r, &g, &err))
		return;
	char *filter = NULL;
	json_t *before = group_json(&g), *after = NULL;
	if (jf && !g.filter) {
		fp_db_rollback(r->db);
		fp_reply_error(r, 409, "conflict",
		               "'%s' is a static group; its members are set explicitly, not by a "
		               "filter",
		               g.name);
		goto out;
	}
	if (jf && !(filter = check_filter(r, jf))) {
		fp_db_rollback(r->db);
		goto out;
	}
	if (jdesc) {
		free(g.description);
		g.description = strdup(json_string_value(jdesc));
	}
	if (filter) {
		free(g.filter);
		g.filter = filter;
		filter = NULL;
	}
	fp_time_rfc3339(fp_now_s(), g.updated_at);
	int rc = fp_db_run(r->db, &err, NULL,
	                   "UPDATE device_groups SET description = ?, filter = ?, updated_at = ? "
	                   "WHERE id = ?",
	                   "sssi", g.description, g.filter, g.updated_at, g.id);
	after = group_json(&g);
	char obj[96];
	snprintf(obj, sizeof(obj), "group:%s", g.name);
	if (fp_api_finish(r, rc, &err, "group.update", obj, before, after) == 0)
		fp_reply(r, 200, json_incref(after));
out:
	free(filter);
	json_decref(before);
	json_decref(after);
	group_free(&g);
}

void fp_api_group_delete(struct fp_req *r)
{
	struct fp_err err = {0};
	struct group g;
	if (begin_group(r, &g, &err))
		return;
	json_t *before = group_json(&g);
	int rc = fp_db_run(r->db, &err, NULL, "DELETE FROM device_groups WHERE id = ?", "i", g.id);
	char obj[96];
	snprintf(obj, sizeof(obj), "group:%s", g.name);
	if (fp_api_finish(r, rc, &err, "group.delete", obj, before, NULL) == 0)
		fp_reply(r, 200, json_pack("{s:s}", "deleted", g.name));
	json_decref(before);
	group_free(&g);
}

void fp_api_group_devices(struct fp_req *r)
{
	struct group g;
	if (load_group(r, r->params[0], &g))
		return;
	if (g.filter)
		fp_api_list_devices(r, g.filter, 0);
	else
		fp_api_list_devices(r, NULL, g.id);
	group_free(&g);
}

void fp_api_group_members_add(struct fp_req *r)
{
	static const char *const fields[] = {"device_ids", NULL};
	if (fp_req_only_fields(r, r->json, fields))
		return;
	json_t *ids = json_object_get(r->json, "device_ids");
	if (!json_is_array(ids) || json_array_size(ids) == 0 ||
	    json_array_size(ids) > GROUP_MEMBERS_PER_CALL) {
		fp_reply_error(r, 400, "invalid", "device_ids: an array of 1 to %d device ids",
		               GROUP_MEMBERS_PER_CALL);
		return;
	}
	size_t i;
	json_t *v;
	json_array_foreach(ids, i, v) if (!json_is_integer(v) || json_integer_value(v) <= 0)
	{
		fp_reply_error(r, 400, "invalid", "device_ids[%zu]: expected a positive integer",
		               i);
		return;
	}
	struct fp_err err = {0};
	struct group g;
	if (begin_group(r, &g, &err))
		return;
	int rc = 0;
	int64_t added = 0;
	if (g.filter) {
		rc = fp_err_set(&err, FP_ECONFLICT,
		                "'%s' is a dynamic group; its members follow its filter", g.name);
		goto done;
	}
	json_array_foreach(ids, i, v)
	{
		int64_t id = json_integer_value(v), exists = 0;
		rc = fp_db_run(r->db, &err, &exists, "SELECT COUNT(*) FROM devices WHERE id = ?",
		               "i", id);
		if (rc == 0 && !exists)
			rc = fp_err_set(&err, FP_ENOTFOUND,
			                "device_ids[%zu]: no device with id %" PRId64
			                "; nothing was added",
			                i, id);
		if (rc == 0)
			rc = fp_db_run(
			    r->db, &err, NULL,
			    "INSERT INTO group_members (group_id, device_id) VALUES (?, ?) "
			    "ON CONFLICT DO NOTHING",
			    "ii", g.id, id);
		if (rc)
			break;
		added += fp_db_changes(r->db);
	}
done:;
	char obj[96];
	snprintf(obj, sizeof(obj), "group:%s", g.name);
	json_t *after = json_pack("{s:O}", "added_device_ids", ids);
	if (fp_api_finish(r, rc, &err, "group.members_add", obj, NULL, after) == 0)
		fp_reply(r, 200,
		         json_pack("{s:s,s:I,s:I}", "group", g.name, "added", (json_int_t)added,
		                   "device_count", (json_int_t)member_count(r, &g)));
	json_decref(after);
	group_free(&g);
}

void fp_api_group_member_remove(struct fp_req *r)
{
	int64_t id;
	if (fp_req_id(r, 1, &id))
		return;
	struct fp_err err = {0};
	struct group g;
	if (begin_group(r, &g, &err))
		return;
	int rc = fp_db_run(r->db, &err, NULL,
	                   "DELETE FROM group_members WHERE group_id = ? AND device_id = ?", "ii",
	                   g.id, id);
	if (rc == 0 && fp_db_changes(r->db) == 0)
		rc = fp_err_set(&err, FP_ENOTFOUND,
		                "device %" PRId64 " is not a member of group '%s'", id, g.name);
	char obj[96];
	snprintf(obj, sizeof(obj), "group:%s", g.name);
	json_t *before = json_pack("{s:I}", "device_id", (json_int_t)id);
	if (fp_api_finish(r, rc, &err, "group.member_remove", obj, before, NULL) == 0)
		fp_reply(r, 200,
		         json_pack("{s:s,s:I}", "group", g.name, "removed", (json_int_t)id));
	json_decref(before);
	group_free(&g);
}

struct exposure_sum {
	fp_db *db;
	struct fp_filter *f;
	struct fp_window_stats total;
	int64_t devices, devices_exposed;
	struct fp_err *err;
};

static int add_device(struct exposure_sum *x, int64_t id)
{
	struct fp_window_stats ws;
	int rc = fp_device_windows(x->db, id, NULL, &ws, x->err);
	if (rc)
		return rc;
	x->devices++;
	x->devices_exposed += ws.open > 0;
	x->total.open += ws.open;
	x->total.fixed += ws.fixed;
	x->total.fixed_secs += ws.fixed_secs;
	x->total.overdue += ws.overdue;
	return 0;
}

static int add_if_member(void *ctx, struct fp_device_row *d)
{
	struct exposure_sum *x = ctx;
	return fp_device_matches(x->f, d) ? add_device(x, d->id) : 0;
}

/* Exposure of a group's devices: open and fixed windows, mean time to remediate. */
void fp_api_group_exposures(struct fp_req *r)
{
	struct group g;
	if (load_group(r, r->params[0], &g))
		return;
	struct fp_err err = {0};
	struct exposure_sum x = {.db = r->db, .err = &err};
	int rc = 0;
	if (g.filter) {
		rc = fp_filter_parse(g.filter, fp_filter_attr_known, &x.f, &err);
		if (rc == 0)
			rc = fp_store_device_each(r->db, NULL, 0, add_if_member, &x, &err);
		fp_filter_free(x.f);
	} else {
		fp_stmt *st = NULL;
		int64_t *ids = NULL;
		size_t n = 0, cap = 0;
		rc =
		    fp_db_prepare(r->db,
		                  "SELECT device_id FROM group_members WHERE group_id = ? ORDER BY "
		                  "device_id",
		                  &st, &err);
		if (rc == 0) {
			fp_stmt_int(st, 1, g.id);
			while (fp_stmt_step(st, NULL) == FP_DB_ROW) {
				if (n == cap) {
					size_t nc = cap ? cap * 2 : 64;
					int64_t *ni = realloc(ids, nc * sizeof(*ni));
					if (!ni)
						break;
					ids = ni;
					cap = nc;
				}
				ids[n++] = fp_stmt_col_int(st, 0);
			}
			fp_stmt_finalize(st);
		}
		for (size_t i = 0; rc == 0 && i < n; i++)
			rc = add_device(&x, ids[i]);
		free(ids);
	}
	if (rc) {
		fp_reply_err(r, &err);
	} else {
		json_t *o = json_pack("{s:s,s:I,s:I,s:I,s:I}", "group", g.name, "devices",
		                      (json_int_t)x.devices, "devices_exposed",
		                      (json_int_t)x.devices_exposed, "open",
		                      (json_int_t)x.total.open, "fixed", (json_int_t)x.total.fixed);
		json_object_set_new(o, "kev_overdue", json_integer(x.total.overdue));
		json_object_set_new(o, "mean_time_to_remediate_days", fp_window_mttr(&x.total));
		fp_reply(r, 200, o);
	}
	group_free(&g);
}
