/*
 * api_devices.c — operators' device endpoints: paged, filtered, sorted
 * listings; create (inventory-only or pre-authorised with the device's
 * public key); change; delete; accept and reject enrolment requests.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "fleetpatch/filter.h"
#include "fleetpatch/sig.h"
#include "fleetpatch/version.h"
#include "server.h"
#include "store_devices.h"
#include "vuln.h"

/* Fields only the server sets; a client may echo them back and they are ignored. */
const char *const fp_device_readonly[] = {"id",        "status",          "source", "first_seen",
                                          "last_seen", "key_fingerprint", NULL};

/* -------- listing -------- */

struct list_item {
	json_t *obj;
	const char *key; /* borrowed from obj; NULL sorts first */
	int64_t id;
};

struct list_ctx {
	struct fp_filter *filter;
	struct fp_filter *extra; /* a dynamic group's own filter */
	const char *status;
	int64_t group_id; /* static group members only */
	const char *sort_field;
	int by_version, by_id, desc;
	struct list_item *items;
	size_t n, cap;
	struct fp_err *err;
};

static size_t rec_values(const void *subject, const char *name, const char **out, size_t max)
{
	const struct fp_device_row *d = subject;
	if (strcmp(name, "status") == 0) {
		out[0] = d->status;
		return max ? 1 : 0;
	}
	if (strcmp(name, "source") == 0) {
		out[0] = d->source;
		return max ? 1 : 0;
	}
	if (strcmp(name, "last_seen") == 0 || strcmp(name, "first_seen") == 0) {
		const char *v = name[0] == 'l' ? d->last_seen : d->first_seen;
		if (!*v || !max)
			return 0;
		out[0] = v;
		return 1;
	}
	return fp_device_rec_values(&d->rec, name, out, max);
}

int fp_filter_attr_known(const char *name)
{
	return strcmp(name, "status") == 0 || strcmp(name, "source") == 0 ||
	       strcmp(name, "last_seen") == 0 || strcmp(name, "first_seen") == 0 ||
	       fp_device_attr_known(name);
}

int fp_device_matches(const struct fp_filter *f, const struct fp_device_row *d)
{
	return fp_filter_eval(f, rec_values, d);
}

static int collect(void *vctx, struct fp_device_row *d)
{
	struct list_ctx *c = vctx;
	if (c->status && strcmp(c->status, d->status) != 0)
		return 0;
	if (c->filter && !fp_filter_eval(c->filter, rec_values, d))
		return 0;
	if (c->extra && !fp_filter_eval(c->extra, rec_values, d))
		return 0;
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 256;
		struct list_item *ni = realloc(c->items, ncap * sizeof(*ni));
		if (!ni)
			return fp_err_set(c->err, FP_ENOMEM, "out of memory");
		c->items = ni;
		c->cap = ncap;
	}
	json_t *o = fp_device_row_json(d);
	if (!o)
		return fp_err_set(c->err, FP_ENOMEM, "out of memory");
	struct list_item *it = &c->items[c->n++];
	it->obj = o;
	it->id = d->id;
	it->key = NULL;
	if (c->sort_field && !c->by_id)
		it->key = json_string_value(json_object_get(o, c->sort_field));
	return 0;
}

static int cmp_items(const void *a, const void *b, void *arg)
{
	const struct list_item *x = a, *y = b;
	const struct list_ctx *c = arg;
	int r = 0;
	if (!c->by_id) {
		if (!x->key || !y->key)
			r = (x->key != NULL) - (y->key != NULL);
		else
			r = c->by_version ? fp_version_cmp(x->key, y->key) : strcmp(x->key, y->key);
	}
	if (r == 0)
		r = (x->id > y->id) - (x->id < y->id);
	return c->desc ? -r : r;
}

static const char *const version_sorted[] = {"firmware_version", "os_version", "hw_revision",
                                             "patch_level", NULL};

/*
 * Lists devices for GET /devices and GET /groups/{name}/devices. Filtering
 * happens on the validated records (so version-aware comparison and
 * multi-valued tags behave exactly as the filter language says).
 */
void fp_api_list_devices(struct fp_req *r, const char *extra_filter, int64_t static_group)
{
	static const char *const q[] = {"filter", "sort", "page", "per_page", "status", NULL};
	struct fp_err err = {0};
	struct list_ctx c = {0};
	c.err = &err;
	int64_t page, per_page;
	if (fp_req_only_query(r, q) || fp_req_paging(r, &page, &per_page))
		return;
	const char *ftext = fp_req_query(r, "filter");
	c.status = fp_req_query(r, "status");
	if (ftext && fp_filter_parse(ftext, fp_filter_attr_known, &c.filter, &err)) {
		fp_reply_err(r, &err);
		return;
	}
	if (extra_filter && fp_filter_parse(extra_filter, fp_filter_attr_known, &c.extra, &err)) {
		fp_reply_err(r, &err);
		goto out;
	}
	const char *sort = fp_req_query(r, "sort");
	if (sort) {
		c.desc = sort[0] == '-';
		const char *fname = sort + (c.desc || sort[0] == '+');
		if (strcmp(fname, "id") == 0) {
			c.by_id = 1;
		} else if (fp_device_field_lookup(fname) >= 0) {
			c.sort_field = fp_device_field_name(fp_device_field_lookup(fname));
		} else if (strcmp(fname, "status") == 0 || strcmp(fname, "last_seen") == 0 ||
		           strcmp(fname, "first_seen") == 0 || strcmp(fname, "source") == 0) {
			c.sort_field = fname;
		} else {
			fp_reply_error(
			    r, 400, "invalid",
			    "sort: '%.64s' is not a device field (prefix - for descending)", fname);
			goto out;
		}
		for (const char *const *v = version_sorted; c.sort_field && *v; v++)
			if (strcmp(*v, c.sort_field) == 0)
				c.by_version = 1;
	} else {
		c.by_id = 1;
	}
	int rc;
	if (static_group > 0)
		rc = fp_store_device_each(r->db,
		                          "WHERE id IN (SELECT device_id FROM group_members WHERE "
		                          "group_id = ?)",
		                          static_group, collect, &c, &err);
	else
		rc = fp_store_device_each(r->db, NULL, 0, collect, &c, &err);
	if (rc) {
		fp_reply_err(r, &err);
		goto out;
	}
	if (c.n > 1)
		qsort_r(c.items, c.n, sizeof(*c.items), cmp_items, &c);
	json_t *arr = json_array();
	size_t start = (size_t)((page - 1) * per_page);
	for (size_t i = start; i < c.n && i < start + (size_t)per_page; i++)
		json_array_append(arr, c.items[i].obj);
	fp_reply_page(r, arr, c.n, page, per_page);
out:
	for (size_t i = 0; i < c.n; i++)
		json_decref(c.items[i].obj);
	free(c.items);
	fp_filter_free(c.filter);
	fp_filter_free(c.extra);
}

void fp_api_devices_list(struct fp_req *r)
{
	fp_api_list_devices(r, NULL, 0);
}

/* -------- single devices -------- */

static int load(struct fp_req *r, struct fp_device_row *d)
{
	int64_t id;
	struct fp_err err = {0};
	if (fp_req_id(r, 0, &id))
		return -1;
	if (fp_store_device_get(r->db, id, d, &err)) {
		if (err.code == FP_ENOTFOUND)
			fp_reply_error(r, 404, "not_found", "no device with id %" PRId64, id);
		else
			fp_reply_err(r, &err);
		return -1;
	}
	return 0;
}

void fp_api_device_get(struct fp_req *r)
{
	struct fp_device_row d;
	if (load(r, &d))
		return;
	fp_reply(r, 200, fp_device_row_json(&d));
	fp_device_row_free(&d);
}

void fp_api_list_page(struct fp_req *r, const char *count_sql, const char *list_sql, int64_t owner,
                      fp_row_json_fn row)
{
	static const char *const q[] = {"page", "per_page", NULL};
	int64_t page, per_page, total = 0;
	if (fp_req_only_query(r, q) || fp_req_paging(r, &page, &per_page))
		return;
	struct fp_err err = {0};
	fp_stmt *st = NULL;
	int rc = owner >= 0 ? fp_db_run(r->db, &err, &total, count_sql, "i", owner)
	                    : fp_db_run(r->db, &err, &total, count_sql, NULL);
	if (rc || fp_db_prepare(r->db, list_sql, &st, &err)) {
		fp_reply_err(r, &err);
		return;
	}
	int i = 1;
	if (owner >= 0)
		fp_stmt_int(st, i++, owner);
	fp_stmt_int(st, i++, per_page);
	fp_stmt_int(st, i, (page - 1) * per_page);
	json_t *arr = json_array();
	while (fp_stmt_step(st, NULL) == FP_DB_ROW)
		json_array_append_new(arr, row(r, st));
	fp_stmt_finalize(st);
	fp_reply_page(r, arr, total, page, per_page);
}

/* Commits a change with its audit entry, or rolls it back and replies the error. */
int fp_api_finish(struct fp_req *r, int rc, struct fp_err *err, const char *action,
                  const char *object, const json_t *before, const json_t *after)
{
	if (rc == 0)
		rc = fp_audit_append(r->db, &r->who, action, object, before, after, err);
	if (rc == 0)
		rc = fp_db_commit(r->db, err);
	if (rc) {
		fp_db_rollback(r->db);
		fp_reply_err(r, err);
	}
	return rc;
}

void fp_api_device_create(struct fp_req *r)
{
	struct fp_err err = {0};
	struct fp_device_row d = {0};
	fp_device_rec_init(&d.rec);
	json_t *body = json_deep_copy(r->json), *after = NULL;
	const char *pem = json_string_value(json_object_get(body, "public_key"));
	if (json_object_get(body, "public_key") && !pem) {
		fp_reply_error(r, 400, "invalid", "public_key: expected a PEM string");
		goto out;
	}
	if (pem) {
		char type[16];
		if (fp_pubkey_check(pem, type, d.pubkey_fp, &err)) {
			fp_reply_err(r, &err);
			goto out;
		}
		if (!(d.pubkey = strdup(pem)))
			goto oom;
		json_object_del(body, "public_key");
	}
	if (fp_device_rec_from_json(&d.rec, body, fp_device_readonly, &err) ||
	    fp_device_rec_derive_identity(&d.rec, &err)) {
		fp_reply_err(r, &err);
		goto out;
	}
	snprintf(d.status, sizeof(d.status), "%s",
	         pem ? FP_DEVSTAT_PREAUTHORIZED : FP_DEVSTAT_DISCOVERED);
	snprintf(d.source, sizeof(d.source), "manual");
	fp_time_rfc3339(fp_now_s(), d.first_seen);
	if (fp_db_begin(r->db, &err)) {
		fp_reply_err(r, &err);
		goto out;
	}
	int rc = fp_store_device_insert(r->db, &d, &err);
	char obj[64];
	snprintf(obj, sizeof(obj), "device:%" PRId64, d.id);
	after = rc ? NULL : fp_device_row_json(&d);
	if (fp_api_finish(r, rc, &err, pem ? "device.preauthorize" : "device.create", obj, NULL,
	                  after))
		goto out;
	fp_reply(r, 201, json_incref(after));
	goto out;
oom:
	fp_reply_error(r, 500, "out_of_memory", "out of memory");
out:
	json_decref(after);
	json_decref(body);
	fp_device_row_free(&d);
}

void fp_api_device_patch(struct fp_req *r)
{
	struct fp_err err = {0};
	struct fp_device_row d;
	struct fp_device_rec change;
	json_t *before = NULL, *after = NULL;
	fp_device_rec_init(&change);
	if (fp_db_begin(r->db, &err)) {
		fp_reply_err(r, &err);
		fp_device_rec_free(&change);
		return;
	}
	if (load(r, &d)) {
		fp_db_rollback(r->db);
		fp_device_rec_free(&change);
		return;
	}
	if (fp_device_rec_from_json(&change, r->json, fp_device_readonly, &err)) {
		fp_db_rollback(r->db);
		fp_reply_err(r, &err);
		goto out;
	}
	json_t *jid = json_object_get(r->json, "identity");
	if (json_is_null(jid) || (json_is_string(jid) && !*json_string_value(jid))) {
		fp_db_rollback(r->db);
		fp_reply_error(r, 400, "invalid", "identity: a device cannot lose its identity");
		goto out;
	}
	before = fp_device_row_json(&d);
	int rc = fp_device_rec_merge(&d.rec, &change);
	/* A null (or "") in the request clears the field; merge copies only present values. */
	const char *k;
	json_t *v;
	json_object_foreach(r->json, k, v)
	{
		int f = fp_device_field_lookup(k);
		if (f >= 0 && (json_is_null(v) || (json_is_string(v) && !*json_string_value(v)))) {
			free(d.rec.f[f]);
			d.rec.f[f] = NULL;
		}
	}
	if (rc == 0)
		rc = fp_store_device_update(r->db, &d, &err);
	else
		fp_err_set(&err, rc, "out of memory");
	/* A new configuration is assessed at once (no-op before any CVE import). */
	if (rc == 0)
		rc = fp_assess_device(r->db, d.id, &err);
	after = fp_device_row_json(&d);
	char obj[64];
	snprintf(obj, sizeof(obj), "device:%" PRId64, d.id);
	if (fp_api_finish(r, rc, &err, "device.update", obj, before, after) == 0)
		fp_reply(r, 200, json_incref(after));
out:
	json_decref(before);
	json_decref(after);
	fp_device_rec_free(&change);
	fp_device_row_free(&d);
}

void fp_api_device_delete(struct fp_req *r)
{
	struct fp_err err = {0};
	struct fp_device_row d;
	if (fp_db_begin(r->db, &err)) {
		fp_reply_err(r, &err);
		return;
	}
	if (load(r, &d)) {
		fp_db_rollback(r->db);
		return;
	}
	json_t *before = fp_device_row_json(&d);
	int rc = fp_store_device_delete(r->db, d.id, &err);
	char obj[64];
	snprintf(obj, sizeof(obj), "device:%" PRId64, d.id);
	if (fp_api_finish(r, rc, &err, "device.delete", obj, before, NULL) == 0)
		fp_reply(r, 200, json_pack("{s:I}", "deleted", (json_int_t)d.id));
	json_decref(before);
	fp_device_row_free(&d);
}

static void decide(struct fp_req *r, int accept)
{
	struct fp_err err = {0};
	struct fp_device_row d;
	if (fp_db_begin(r->db, &err)) {
		fp_reply_err(r, &err);
		return;
	}
	if (load(r, &d)) {
		fp_db_rollback(r->db);
		return;
	}
	json_t *before = fp_device_row_json(&d), *after = NULL;
	int rc = 0;
	if (accept && !d.pubkey) {
		fp_db_rollback(r->db);
		fp_reply_error(r, 409, "conflict",
		               "device %" PRId64
		               " has no key yet: it can be accepted once its agent "
		               "asks to enrol, or pre-authorised with its public key",
		               d.id);
		goto out;
	}
	if (accept && strcmp(d.status, FP_DEVSTAT_ACCEPTED) == 0) {
		fp_db_rollback(r->db);
		fp_reply(r, 200, json_incref(before));
		goto out;
	}
	snprintf(d.status, sizeof(d.status), "%s",
	         accept ? FP_DEVSTAT_ACCEPTED : FP_DEVSTAT_REJECTED);
	/* A new epoch invalidates every device token issued before. */
	d.auth_epoch++;
	rc = fp_store_device_update(r->db, &d, &err);
	after = fp_device_row_json(&d);
	char obj[64];
	snprintf(obj, sizeof(obj), "device:%" PRId64, d.id);
	if (fp_api_finish(r, rc, &err, accept ? "device.accept" : "device.reject", obj, before,
	                  after) == 0)
		fp_reply(r, 200, json_incref(after));
out:
	json_decref(before);
	json_decref(after);
	fp_device_row_free(&d);
}

void fp_api_device_accept(struct fp_req *r)
{
	decide(r, 1);
}

void fp_api_device_reject(struct fp_req *r)
{
	decide(r, 0);
}
