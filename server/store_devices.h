/*
 * store_devices.h — devices in the database: one row per device, its
 * inventory record kept as validated JSON beside a few indexed columns.
 */
#ifndef FP_SERVER_STORE_DEVICES_H
#define FP_SERVER_STORE_DEVICES_H

#include <jansson.h>

#include "db.h"
#include "fleetpatch/device.h"

/* Device lifecycle states. */
#define FP_DEVSTAT_DISCOVERED    "discovered"    /* known from an import; no agent yet */
#define FP_DEVSTAT_PREAUTHORIZED "preauthorized" /* identity and key registered by an operator */
#define FP_DEVSTAT_PENDING       "pending"       /* an agent asked; waits for an operator */
#define FP_DEVSTAT_ACCEPTED      "accepted"
#define FP_DEVSTAT_REJECTED      "rejected"

struct fp_device_row {
	int64_t id;
	char status[16];
	char source[16];
	char *pubkey; /* owned PEM, may be NULL */
	char pubkey_fp[65];
	int64_t auth_epoch;
	char first_seen[32];
	char last_seen[32]; /* "" when never */
	struct fp_device_rec rec;
};

void fp_device_row_free(struct fp_device_row *d);

/* Loads by id or by identity; FP_ENOTFOUND when absent. */
int fp_store_device_get(fp_db *db, int64_t id, struct fp_device_row *out,
                        struct fp_err *err) FP_WUR;
int fp_store_device_by_identity(fp_db *db, const char *identity, struct fp_device_row *out,
                                struct fp_err *err) FP_WUR;
/* Inserts d (id is set on return); the identity must be new (FP_EEXIST otherwise). */
int fp_store_device_insert(fp_db *db, struct fp_device_row *d, struct fp_err *err) FP_WUR;
/* Writes every column of d back. */
int fp_store_device_update(fp_db *db, const struct fp_device_row *d, struct fp_err *err) FP_WUR;
int fp_store_device_delete(fp_db *db, int64_t id, struct fp_err *err) FP_WUR;

/* The API's JSON of a device (caller owns). */
json_t *fp_device_row_json(const struct fp_device_row *d);

/* Calls fn for every device, in id order; a non-zero return stops and is returned. */
typedef int (*fp_device_visit)(void *ctx, struct fp_device_row *d);
int fp_store_device_each(fp_db *db, const char *where_sql, int64_t where_id, fp_device_visit fn,
                         void *ctx, struct fp_err *err) FP_WUR;

#endif
