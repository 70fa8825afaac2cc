/*
 * rollouts.h — rollouts in the database and the scheduler thread that
 * applies the pure decision core (include/fleetpatch/rollout.h) to them.
 * Every decision is persisted with its director assignments in one
 * transaction, so a kill -9 at any instant loses nothing
 * (docs/design/rollout.md).
 */
#ifndef FP_SERVER_ROLLOUTS_H
#define FP_SERVER_ROLLOUTS_H

#include <jansson.h>

#include "fleetpatch/device.h"
#include "fleetpatch/rollout.h"
#include "server.h"

#define FP_RO_NAME_MAX    128
#define FP_RO_TICKET_MAX  200
#define FP_RO_REASON_MAX  1000
#define FP_RO_VERSION_MAX 128

/* Server-side facts about one device of a rollout, beside the core's view. */
struct fp_ro_dev {
	int64_t assigned_version;  /* the director version of our latest assignment */
	int64_t withdrawn_version; /* the version that withdrew it, until it saw it (else 0) */
	char *prev_target;         /* owned; the release it ran before (NULL: unknown) */
	char *prev_version;        /* owned */
	char *tz;                  /* owned; its time zone attribute (NULL: UTC) */
	enum fp_rollout_dev_state loaded; /* the state when loaded (to count changes) */
};

/* A rollout with (optionally) its devices. Release with fp_ro_free. */
struct fp_ro {
	int64_t id;
	char name[FP_RO_NAME_MAX + 1];
	char target[256];
	char target_version[FP_RO_VERSION_MAX + 1];
	json_t *selector; /* owned: {"group": NAME} or {"filter": TEXT} */
	char created_by[160], created_at[32], approved_by[160], approved_at[32], updated_at[32];
	char ticket[FP_RO_TICKET_MAX + 1];
	char *approval_reason; /* owned, may be NULL */
	struct fp_rollout r;
	struct fp_rollout r_loaded; /* to see whether the rollout row changed */
	size_t n;
	struct fp_rollout_dev *devs; /* owned, in rollout order */
	struct fp_ro_dev *x;         /* owned, parallel to devs */
};

void fp_ro_free(struct fp_ro *ro);

/* Loads rollout id (and its devices when with_devices); FP_ENOTFOUND. */
int fp_ro_load(fp_db *db, int64_t id, int with_devices, struct fp_ro *ro,
               struct fp_err *err) FP_WUR;

/* Fills the core's inputs of every device (windows, claims, priorities) at now. */
int fp_ro_inputs(struct fp_server *s, fp_db *db, struct fp_ro *ro, int64_t now,
                 struct fp_err *err) FP_WUR;

/*
 * Performs the actions (director assignments, events to the audit log and
 * webhooks) as `who` and writes every changed device and the rollout row,
 * inside the caller's transaction.
 */
int fp_ro_apply(struct fp_server *s, fp_db *db, struct fp_ro *ro,
                const struct fp_rollout_actions *acts, const struct fp_principal *who,
                struct fp_err *err) FP_WUR;

/*
 * The rollout with per-phase counts and progress, as the API shows it (the
 * counts come from the database; ro's devices need not be loaded). Caller
 * decrefs; NULL when out of memory or the database fails.
 */
json_t *fp_ro_json(fp_db *db, const struct fp_ro *ro);

/* Applies a device's inventory report to its rollouts (inside the caller's transaction). */
int fp_rollouts_device_report(struct fp_server *s, fp_db *db, int64_t device_id,
                              const struct fp_device_rec *rec, struct fp_err *err) FP_WUR;

/* The scheduler thread. */
int fp_rollouts_start(struct fp_server *s, struct fp_err *err) FP_WUR;
void fp_rollouts_stop(struct fp_server *s);
/* Wakes the scheduler at once (after a command). */
void fp_rollouts_kick(struct fp_server *s);
/* One pass over every active rollout (the thread calls it each tick). */
int fp_rollouts_tick(struct fp_server *s, fp_db *db, int64_t now, struct fp_err *err) FP_WUR;

#endif
