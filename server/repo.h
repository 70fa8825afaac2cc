/*
 * repo.h — fleetpatchd's TUF repository: the online keys (snapshot,
 * timestamp, director), the stored metadata versions, snapshot and
 * timestamp signing, re-signing before expiry, and expiry alerts.
 * docs/design/repository.md describes the rules.
 */
#ifndef FP_SERVER_REPO_H
#define FP_SERVER_REPO_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

#include "fleetpatch/tuf.h"
#include "server.h"

enum fp_online_key { FP_KEY_SNAPSHOT, FP_KEY_TIMESTAMP, FP_KEY_DIRECTOR, FP_KEY_COUNT };

struct fp_repo {
	char *priv[FP_KEY_COUNT]; /* unencrypted PKCS#8 PEM, 0600 files in <data_dir>/keys */
	char *pub[FP_KEY_COUNT];
	json_t *key[FP_KEY_COUNT]; /* TUF key objects */
	char keyid[FP_KEY_COUNT][FP_TUF_KEYID_LEN + 1];
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	int running;
	/* Role -> version already reported in the log as near expiry. */
	int64_t alerted[4];
	atomic_llong resigned; /* timestamps signed by the background thread */
};

const char *fp_online_key_name(int k);

/* Loads the online keys, generating missing ones (mode 0600). */
int fp_repo_open(struct fp_server *s, struct fp_err *err) FP_WUR;
void fp_repo_close(struct fp_server *s);
/* The re-signing and alerting thread. */
int fp_repo_start(struct fp_server *s, struct fp_err *err) FP_WUR;
void fp_repo_stop(struct fp_server *s);

/*
 * The newest stored version of role ("root", "targets", "snapshot",
 * "timestamp"), or a given version when version > 0 on input: *version,
 * *expires and the canonical bytes (caller frees *body; body may be NULL).
 * FP_ENOTFOUND when there is none.
 */
int fp_repo_get(fp_db *db, const char *role, int64_t *version, int64_t *expires, char **body,
                size_t *len, struct fp_err *err) FP_WUR;

/*
 * Signs a new snapshot (when new_snapshot, listing the newest targets) and
 * a new timestamp for the newest snapshot, storing both in the caller's
 * transaction.
 */
int fp_repo_sign_online(struct fp_server *s, fp_db *db, int new_snapshot,
                        struct fp_err *err) FP_WUR;

/* The "targets" object of the newest targets metadata (caller owns). */
int fp_repo_targets_all(fp_db *db, json_t **out, struct fp_err *err) FP_WUR;

/*
 * The target `name` of the newest targets metadata as a new object
 * {"name", "length", "hashes", "custom"}. FP_ENOTFOUND when there is no
 * targets metadata or no such target.
 */
int fp_repo_target(fp_db *db, const char *name, json_t **out, struct fp_err *err) FP_WUR;

/* The current alerts (roles close to expiry) as an array; caller owns. */
json_t *fp_repo_alerts(struct fp_server *s, fp_db *db, int64_t now);

/* Prometheus lines about the repository; caller frees. */
char *fp_repo_metrics(struct fp_server *s, fp_db *db);

#endif
