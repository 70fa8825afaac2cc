/*
 * store_devices.c — SQL for devices (see store_devices.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "store_devices.h"

#define DEVICE_COLS                                                                                \
	"id, status, source, pubkey, pubkey_fingerprint, auth_epoch, record, first_seen, "         \
	"last_seen"

void fp_device_row_free(struct fp_device_row *d)
{
	if (!d)
		return;
	free(d->pubkey);
	fp_device_rec_free(&d->rec);
	memset(d, 0, sizeof(*d));
}

static int row_from_stmt(fp_stmt *st, struct fp_device_row *d, struct fp_err *err)
{
	memset(d, 0, sizeof(*d));
	fp_device_rec_init(&d->rec);
	d->id = fp_stmt_col_int(st, 0);
	snprintf(d->status, sizeof(d->status), "%s", fp_stmt_col_text(st, 1));
	snprintf(d->source, sizeof(d->source), "%s", fp_stmt_col_text(st, 2));
	const char *pk = fp_stmt_col_text(st, 3);
	if (pk && !(d->pubkey = strdup(pk)))
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	const char *fp = fp_stmt_col_text(st, 4);
	snprintf(d->pubkey_fp, sizeof(d->pubkey_fp), "%s", fp ? fp : "");
	d->auth_epoch = fp_stmt_col_int(st, 5);
	json_error_t je;
	json_t *rec = json_loads(fp_stmt_col_text(st, 6), JSON_REJECT_DUPLICATES, &je);
	int rc = rec ? fp_device_rec_from_json(&d->rec, rec, NULL, err)
	             : fp_err_set(err, FP_EIO, "device %lld: stored record is not JSON",
	                          (long long)d->id);
	json_decref(rec);
	snprintf(d->first_seen, sizeof(d->first_seen), "%s", fp_stmt_col_text(st, 7));
	const char *ls = fp_stmt_col_text(st, 8);
	snprintf(d->last_seen, sizeof(d->last_seen), "%s", ls ? ls : "");
	if (rc)
		fp_device_row_free(d);
	return rc;
}

static int get_one(fp_db *db, const char *sql, const char *s, int64_t id, struct fp_device_row *out,
                   struct fp_err *err)
{
	fp_stmt *st = NULL;
	int rc = fp_db_prepare(db, sql, &st, err);
	if (rc)
		return rc;
	if (s)
		fp_stmt_text(st, 1, s);
	else
		fp_stmt_int(st, 1, id);
	rc = fp_stmt_step(st, err);
	if (rc == FP_DB_ROW)
		rc = row_from_stmt(st, out, err);
	else if (rc == FP_DB_DONE)
		rc = fp_err_set(err, FP_ENOTFOUND, "no such device");
	fp_stmt_finalize(st);
	return rc;
}

int fp_store_device_get(fp_db *db, int64_t id, struct fp_device_row *out, struct fp_err *err)
{
	return get_one(db, "SELECT " DEVICE_COLS " FROM devices WHERE id = ?", NULL, id, out, err);
}

int fp_store_device_by_identity(fp_db *db, const char *identity, struct fp_device_row *out,
                                struct fp_err *err)
{
	return get_one(db, "SELECT " DEVICE_COLS " FROM devices WHERE identity = ?", identity, 0,
	               out, err);
}

static char *record_text(const struct fp_device_rec *rec)
{
	json_t *o = json_object();
	char *s = NULL;
	if (o && fp_device_rec_to_json(rec, o) == 0)
		s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

static const char *field(const struct fp_device_row *d, enum fp_device_field f)
{
	return d->rec.f[f];
}

int fp_store_device_insert(fp_db *db, struct fp_device_row *d, struct fp_err *err)
{
	char *rec = record_text(&d->rec);
	if (!rec)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	int64_t id = 0;
	char key[65];
	if (fp_device_config_key(&d->rec, key)) {
		free(rec);
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	}
	int rc = fp_db_run(
	    db, err, &id,
	    "INSERT INTO devices (identity, status, source, pubkey, pubkey_fingerprint, "
	    "auth_epoch, record, name, model, firmware_version, ip, mac, serial, first_seen, "
	    "last_seen, updated_at, config_key, exposure, criticality, eol_date) VALUES (?, ?, ?, "
	    "?, "
	    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
	    "sssssissssssssssssss", field(d, FP_DEV_IDENTITY), d->status, d->source, d->pubkey,
	    d->pubkey_fp[0] ? d->pubkey_fp : NULL, d->auth_epoch, rec, field(d, FP_DEV_NAME),
	    field(d, FP_DEV_MODEL), field(d, FP_DEV_FIRMWARE), field(d, FP_DEV_IP),
	    field(d, FP_DEV_MAC), field(d, FP_DEV_SERIAL), d->first_seen,
	    d->last_seen[0] ? d->last_seen : NULL, d->first_seen, key, field(d, FP_DEV_EXPOSURE),
	    field(d, FP_DEV_CRITICALITY), field(d, FP_DEV_EOL_DATE));
	free(rec);
	if (rc == FP_EEXIST)
		return fp_err_set(err, FP_EEXIST, "a device with identity '%.128s' already exists",
		                  field(d, FP_DEV_IDENTITY));
	if (rc == 0)
		d->id = id;
	return rc;
}

int fp_store_device_update(fp_db *db, const struct fp_device_row *d, struct fp_err *err)
{
	char *rec = record_text(&d->rec);
	if (!rec)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	char now[32];
	fp_time_rfc3339(fp_now_s(), now);
	char key[65];
	if (fp_device_config_key(&d->rec, key)) {
		free(rec);
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	}
	int rc =
	    fp_db_run(db, err, NULL,
	              "UPDATE devices SET identity = ?, status = ?, source = ?, pubkey = ?, "
	              "pubkey_fingerprint = ?, auth_epoch = ?, record = ?, name = ?, model = ?, "
	              "firmware_version = ?, ip = ?, mac = ?, serial = ?, last_seen = ?, "
	              "updated_at = ?, config_key = ?, exposure = ?, criticality = ?, "
	              "eol_date = ? WHERE id = ?",
	              "sssssisssssssssssssi", field(d, FP_DEV_IDENTITY), d->status, d->source,
	              d->pubkey, d->pubkey_fp[0] ? d->pubkey_fp : NULL, d->auth_epoch, rec,
	              field(d, FP_DEV_NAME), field(d, FP_DEV_MODEL), field(d, FP_DEV_FIRMWARE),
	              field(d, FP_DEV_IP), field(d, FP_DEV_MAC), field(d, FP_DEV_SERIAL),
	              d->last_seen[0] ? d->last_seen : NULL, now, key, field(d, FP_DEV_EXPOSURE),
	              field(d, FP_DEV_CRITICALITY), field(d, FP_DEV_EOL_DATE), d->id);
	free(rec);
	if (rc == FP_EEXIST)
		return fp_err_set(err, FP_EEXIST, "a device with identity '%.128s' already exists",
		                  field(d, FP_DEV_IDENTITY));
	return rc;
}

int fp_store_device_delete(fp_db *db, int64_t id, struct fp_err *err)
{
	return fp_db_run(db, err, NULL, "DELETE FROM devices WHERE id = ?", "i", id);
}

json_t *fp_device_row_json(const struct fp_device_row *d)
{
	json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s?}", "id", (json_int_t)d->id, "status",
	                      d->status, "source", d->source, "first_seen", d->first_seen,
	                      "last_seen", d->last_seen[0] ? d->last_seen : NULL);
	if (!o)
		return NULL;
	if (d->pubkey_fp[0])
		json_object_set_new(o, "key_fingerprint", json_string(d->pubkey_fp));
	else
		json_object_set_new(o, "key_fingerprint", json_null());
	if (fp_device_rec_to_json(&d->rec, o)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int fp_store_device_each(fp_db *db, const char *where_sql, int64_t where_id, fp_device_visit fn,
                         void *ctx, struct fp_err *err)
{
	char sql[512];
	snprintf(sql, sizeof(sql), "SELECT " DEVICE_COLS " FROM devices %s ORDER BY id",
	         where_sql ? where_sql : "");
	fp_stmt *st = NULL;
	int rc = fp_db_prepare(db, sql, &st, err);
	if (rc)
		return rc;
	if (where_sql && strchr(where_sql, '?'))
		fp_stmt_int(st, 1, where_id);
	while ((rc = fp_stmt_step(st, err)) == FP_DB_ROW) {
		struct fp_device_row d;
		if ((rc = row_from_stmt(st, &d, err)))
			break;
		rc = fn(ctx, &d);
		fp_device_row_free(&d);
		if (rc)
			break;
	}
	fp_stmt_finalize(st);
	return rc < 0 ? rc : (rc == FP_DB_DONE ? 0 : rc);
}
