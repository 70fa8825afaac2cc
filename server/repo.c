/*
 * repo.c — the TUF repository of fleetpatchd (repo.h).
 *
 * root and targets are signed offline and uploaded (api_repo.c); this file
 * holds what is online: the snapshot, timestamp and director keys, the
 * snapshot and timestamp the server signs whenever targets change, and a
 * thread that re-signs them before they expire and reports every role that
 * is close to its expiry (log line, GET /api/v1/alerts, /metrics).
 */
#include "repo.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fleetpatch/cjson.h"
#include "fleetpatch/secret.h"
#include "fleetpatch/sig.h"
#include "log.h"

#define KEY_PATH_MAX 1200

static const char *const key_names[FP_KEY_COUNT] = {"snapshot", "timestamp", "director"};
static const char *const role_names[4] = {"root", "targets", "snapshot", "timestamp"};

const char *fp_online_key_name(int k)
{
	return k >= 0 && k < FP_KEY_COUNT ? key_names[k] : "?";
}

static char *read_small(const char *path, size_t max)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(max + 1);
	size_t n = buf ? fread(buf, 1, max, f) : 0;
	int bad = ferror(f) || !feof(f);
	fclose(f);
	if (!buf || bad || n == 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

static int write_new(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	size_t n = strlen(text), off = 0;
	while (off < n) {
		ssize_t w = write(fd, text + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			unlink(path);
			return -1;
		}
		off += (size_t)w;
	}
	int rc = fsync(fd);
	close(fd);
	return rc;
}

static int load_key(struct fp_server *s, int k, struct fp_err *err)
{
	struct fp_repo *rp = s->repo;
	char priv[KEY_PATH_MAX], pub[KEY_PATH_MAX];
	snprintf(priv, sizeof(priv), "%s/keys/%s.pem", s->cfg.data_dir, key_names[k]);
	snprintf(pub, sizeof(pub), "%s/keys/%s.pub", s->cfg.data_dir, key_names[k]);
	if (access(priv, F_OK) != 0) {
		char *p = NULL, *q = NULL;
		int rc = fp_keypair_generate(&p, &q, err);
		if (rc)
			return rc;
		if (write_new(priv, p, 0600) || write_new(pub, q, 0644)) {
			fp_wipe(p, strlen(p));
			free(p);
			free(q);
			return fp_err_set(err, FP_EIO, "cannot write the %s key to %s: %s",
			                  key_names[k], priv, strerror(errno));
		}
		fp_wipe(p, strlen(p));
		free(p);
		free(q);
		fp_log(FP_LOG_INFO, "generated an online key", "role=%s path=%s", key_names[k],
		       priv);
	}
	struct stat st;
	if (stat(priv, &st) == 0 && (st.st_mode & 077))
		fp_log(FP_LOG_WARN, "an online key file is readable by others", "path=%s mode=%o",
		       priv, (unsigned)(st.st_mode & 0777));
	rp->priv[k] = read_small(priv, FP_PRIVKEY_PEM_MAX);
	rp->pub[k] = read_small(pub, FP_PUBKEY_PEM_MAX);
	if (!rp->priv[k] || !rp->pub[k])
		return fp_err_set(err, FP_EIO, "cannot read the %s key (%s and %s)", key_names[k],
		                  priv, pub);
	int rc = fp_tuf_key_from_pem(rp->pub[k], &rp->key[k], rp->keyid[k], err);
	if (rc)
		return rc;
	fp_log(FP_LOG_INFO, "online key", "role=%s keyid=%s", key_names[k], rp->keyid[k]);
	return 0;
}

int fp_repo_open(struct fp_server *s, struct fp_err *err)
{
	char dir[KEY_PATH_MAX];
	s->repo = calloc(1, sizeof(*s->repo));
	if (!s->repo)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	pthread_mutex_init(&s->repo->mu, NULL);
	pthread_cond_init(&s->repo->cv, NULL);
	snprintf(dir, sizeof(dir), "%s/keys", s->cfg.data_dir);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return fp_err_set(err, FP_EIO, "cannot create %s: %s", dir, strerror(errno));
	for (int k = 0; k < FP_KEY_COUNT; k++) {
		int rc = load_key(s, k, err);
		if (rc)
			return rc;
	}
	return 0;
}

void fp_repo_close(struct fp_server *s)
{
	struct fp_repo *rp = s->repo;
	if (!rp)
		return;
	for (int k = 0; k < FP_KEY_COUNT; k++) {
		if (rp->priv[k]) {
			fp_wipe(rp->priv[k], strlen(rp->priv[k]));
			free(rp->priv[k]);
		}
		free(rp->pub[k]);
		json_decref(rp->key[k]);
	}
	pthread_mutex_destroy(&rp->mu);
	pthread_cond_destroy(&rp->cv);
	free(rp);
	s->repo = NULL;
}

int fp_repo_get(fp_db *db, const char *role, int64_t *version, int64_t *expires, char **body,
                size_t *len, struct fp_err *err)
{
	fp_stmt *st = NULL;
	int by_version = *version > 0;
	int rc = fp_db_prepare(db,
	                       by_version ? "SELECT version, expires, body FROM tuf_metadata "
	                                    "WHERE role = ? AND version = ?"
	                                  : "SELECT version, expires, body FROM tuf_metadata "
	                                    "WHERE role = ? ORDER BY version DESC LIMIT 1",
	                       &st, err);
	if (rc)
		return rc;
	fp_stmt_text(st, 1, role);
	if (by_version)
		fp_stmt_int(st, 2, *version);
	rc = fp_stmt_step(st, err);
	if (rc == FP_DB_ROW) {
		*version = fp_stmt_col_int(st, 0);
		if (expires)
			*expires = fp_stmt_col_int(st, 1);
		if (body) {
			const char *b = fp_stmt_col_text(st, 2);
			*body = strdup(b ? b : "");
			if (len)
				*len = *body ? strlen(*body) : 0;
			rc = *body ? 0 : fp_err_set(err, FP_ENOMEM, "out of memory");
		} else {
			rc = 0;
		}
	} else if (rc == FP_DB_DONE) {
		rc = fp_err_set(err, FP_ENOTFOUND, "the repository has no %s metadata yet", role);
	}
	fp_stmt_finalize(st);
	return rc;
}

/* {"version", "length", "hashes": {"sha256"}} of stored canonical bytes. */
static json_t *metafile(int64_t version, const char *body, size_t len)
{
	char h[FP_SHA256_HEX_LEN + 1];
	fp_sha256_hex(body, len, h);
	return json_pack("{s:I,s:I,s:{s:s}}", "version", (json_int_t)version, "length",
	                 (json_int_t)len, "hashes", "sha256", h);
}

/* Wraps, signs with online key k, serializes and stores role version. */
static int sign_store(struct fp_server *s, fp_db *db, const char *role, int k, json_t *signed_part,
                      int64_t version, int64_t expires, char **body_out, size_t *len_out,
                      struct fp_err *err)
{
	json_t *md = NULL;
	char *body = NULL, now[32];
	size_t len = 0;
	int rc = fp_tuf_envelope(signed_part, &md, err);
	if (rc == 0)
		rc = fp_tuf_sign(md, s->repo->priv[k], NULL, err);
	if (rc == 0)
		rc = fp_tuf_serialize(md, &body, &len, err);
	fp_time_rfc3339(fp_now_s(), now);
	if (rc == 0)
		rc =
		    fp_db_run(db, err, NULL,
		              "INSERT INTO tuf_metadata (role, version, body, expires, created_at) "
		              "VALUES (?, ?, ?, ?, ?)",
		              "sisis", role, version, body, expires, now);
	json_decref(md);
	if (rc == 0 && body_out) {
		*body_out = body;
		*len_out = len;
	} else {
		free(body);
	}
	return rc;
}

int fp_repo_sign_online(struct fp_server *s, fp_db *db, int new_snapshot, struct fp_err *err)
{
	int64_t tv = 0, sv = 0, tsv = 0, now = fp_now_s();
	char *tbody = NULL, *sbody = NULL;
	size_t tlen = 0, slen = 0;
	int rc;
	if (new_snapshot) {
		if ((rc = fp_repo_get(db, "targets", &tv, NULL, &tbody, &tlen, err)))
			goto out;
		int64_t cur = 0;
		rc = fp_repo_get(db, "snapshot", &cur, NULL, NULL, NULL, err);
		if (rc && rc != FP_ENOTFOUND)
			goto out;
		sv = cur + 1;
		int64_t exp = now + s->cfg.tuf_snapshot_expiry_s;
		json_t *sk = NULL;
		if ((rc = fp_tuf_signed_new(FP_TUF_SNAPSHOT, sv, exp, &sk, err)))
			goto out;
		json_object_set_new(sk, "meta",
		                    json_pack("{s:o}", "targets.json", metafile(tv, tbody, tlen)));
		if ((rc = sign_store(s, db, "snapshot", FP_KEY_SNAPSHOT, sk, sv, exp, &sbody, &slen,
		                     err)))
			goto out;
	} else {
		if ((rc = fp_repo_get(db, "snapshot", &sv, NULL, &sbody, &slen, err)))
			goto out;
	}
	rc = fp_repo_get(db, "timestamp", &tsv, NULL, NULL, NULL, err);
	if (rc && rc != FP_ENOTFOUND)
		goto out;
	int64_t exp = now + s->cfg.tuf_timestamp_expiry_s;
	json_t *tk = NULL;
	if ((rc = fp_tuf_signed_new(FP_TUF_TIMESTAMP, tsv + 1, exp, &tk, err)))
		goto out;
	json_object_set_new(tk, "meta",
	                    json_pack("{s:o}", "snapshot.json", metafile(sv, sbody, slen)));
	rc = sign_store(s, db, "timestamp", FP_KEY_TIMESTAMP, tk, tsv + 1, exp, NULL, NULL, err);
out:
	free(tbody);
	free(sbody);
	return rc;
}

int fp_repo_targets_all(fp_db *db, json_t **out, struct fp_err *err)
{
	char *body = NULL;
	size_t len = 0;
	int64_t v = 0;
	json_t *md = NULL;
	*out = NULL;
	int rc = fp_repo_get(db, "targets", &v, NULL, &body, &len, err);
	if (rc == 0)
		rc = fp_cjson_load(body, len, FP_TUF_TARGETS_MAX, &md, err);
	if (rc == 0) {
		*out = json_incref(json_object_get(json_object_get(md, "signed"), "targets"));
		if (!json_is_object(*out)) {
			json_decref(*out);
			*out = json_object();
		}
	}
	free(body);
	json_decref(md);
	return rc;
}

int fp_repo_target(fp_db *db, const char *name, json_t **out, struct fp_err *err)
{
	int64_t v = 0;
	char *body = NULL;
	size_t len = 0;
	json_t *md = NULL;
	*out = NULL;
	int rc = fp_repo_get(db, "targets", &v, NULL, &body, &len, err);
	if (rc)
		return rc;
	if ((rc = fp_cjson_load(body, len, FP_TUF_TARGETS_MAX, &md, err)))
		goto out;
	const json_t *t =
	    json_object_get(json_object_get(json_object_get(md, "signed"), "targets"), name);
	if (!json_is_object(t)) {
		rc = fp_err_set(
		    err, FP_ENOTFOUND,
		    "no target '%.200s' in the published targets metadata (version %lld)", name,
		    (long long)v);
		goto out;
	}
	json_t *o = json_pack("{s:s,s:O,s:O}", "name", name, "length", json_object_get(t, "length"),
	                      "hashes", json_object_get(t, "hashes"));
	if (o && json_object_get(t, "custom"))
		json_object_set(o, "custom", json_object_get(t, "custom"));
	if (!o)
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
	*out = o;
out:
	free(body);
	json_decref(md);
	return rc;
}

/*
 * Offline roles are reported tuf_alert_before_seconds before they expire.
 * The online roles are re-signed at half their lifetime; one is reported
 * when a quarter of its lifetime is left, which means re-signing failed.
 */
static int64_t alert_window(const struct fp_server *s, int role)
{
	if (role == 2)
		return s->cfg.tuf_snapshot_expiry_s / 4;
	if (role == 3)
		return s->cfg.tuf_timestamp_expiry_s / 4;
	return s->cfg.tuf_alert_before_s;
}

json_t *fp_repo_alerts(struct fp_server *s, fp_db *db, int64_t now)
{
	json_t *arr = json_array();
	for (int i = 0; i < 4; i++) {
		int64_t v = 0, exp = 0;
		if (fp_repo_get(db, role_names[i], &v, &exp, NULL, NULL, NULL))
			continue;
		int64_t left = exp - now;
		if (left > alert_window(s, i))
			continue;
		char when[21] = "";
		if (fp_tuf_time_format(exp, when, NULL))
			continue;
		char msg[256];
		if (left <= 0)
			snprintf(msg, sizeof(msg), "%s version %lld expired at %s", role_names[i],
			         (long long)v, when);
		else
			snprintf(msg, sizeof(msg),
			         "%s version %lld expires at %s (in %lld days): %s", role_names[i],
			         (long long)v, when, (long long)(left / 86400),
			         i < 2 ? "sign and upload a new version"
			               : "the server failed to re-sign it; look at its log");
		json_array_append_new(
		    arr, json_pack("{s:s,s:s,s:s,s:I,s:s,s:I,s:s}", "kind", "tuf_role_expiry",
		                   "severity", left <= 0 ? "critical" : "warning", "role",
		                   role_names[i], "version", (json_int_t)v, "expires", when,
		                   "seconds_left", (json_int_t)left, "message", msg));
	}
	return arr;
}

char *fp_repo_metrics(struct fp_server *s, fp_db *db)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	int64_t now = fp_now_s();
	fprintf(f, "# HELP fleetpatch_tuf_expires_seconds Seconds until the newest version of a "
	           "TUF role expires.\n"
	           "# TYPE fleetpatch_tuf_expires_seconds gauge\n");
	for (int i = 0; i < 4; i++) {
		int64_t v = 0, exp = 0;
		if (fp_repo_get(db, role_names[i], &v, &exp, NULL, NULL, NULL) == 0)
			fprintf(f, "fleetpatch_tuf_expires_seconds{role=\"%s\"} %lld\n",
			        role_names[i], (long long)(exp - now));
	}
	json_t *a = fp_repo_alerts(s, db, now);
	fprintf(f,
	        "# HELP fleetpatch_alerts Open alerts (TUF roles close to expiry).\n"
	        "# TYPE fleetpatch_alerts gauge\n"
	        "fleetpatch_alerts %zu\n"
	        "# HELP fleetpatch_tuf_timestamps_resigned_total Timestamps re-signed before "
	        "expiry.\n"
	        "# TYPE fleetpatch_tuf_timestamps_resigned_total counter\n"
	        "fleetpatch_tuf_timestamps_resigned_total %lld\n",
	        json_array_size(a), (long long)atomic_load(&s->repo->resigned));
	json_decref(a);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* One round of the thread: re-sign what is at half its lifetime, log alerts. */
static void round_once(struct fp_server *s)
{
	struct fp_err err = {0};
	fp_db *db = fp_db_pool_get(s->pool);
	int64_t now = fp_now_s(), sv = 0, sexp = 0, tv = 0, texp = 0;
	int rc = fp_db_begin(db, &err);
	int have_s = rc == 0 && fp_repo_get(db, "snapshot", &sv, &sexp, NULL, NULL, NULL) == 0;
	int have_t = rc == 0 && fp_repo_get(db, "timestamp", &tv, &texp, NULL, NULL, NULL) == 0;
	int new_snapshot = have_s && sexp - now <= s->cfg.tuf_snapshot_expiry_s / 2;
	int new_timestamp = have_t && texp - now <= s->cfg.tuf_timestamp_expiry_s / 2;
	if (rc == 0 && (new_snapshot || new_timestamp)) {
		struct fp_principal sys = {0};
		rc = fp_repo_sign_online(s, db, new_snapshot, &err);
		json_t *after = json_pack("{s:b,s:I}", "snapshot", new_snapshot,
		                          "timestamp_version", (json_int_t)(tv + 1));
		if (rc == 0)
			rc = fp_audit_append(db, &sys, "repo.resign", "repo:timestamp", NULL, after,
			                     &err);
		json_decref(after);
		if (rc == 0)
			rc = fp_db_commit(db, &err);
		if (rc == 0) {
			atomic_fetch_add(&s->repo->resigned, 1);
			fp_log(FP_LOG_INFO, "re-signed timestamp", "version=%lld snapshot=%s",
			       (long long)(tv + 1), new_snapshot ? "new" : "same");
		} else {
			fp_log(FP_LOG_ERROR, "cannot re-sign timestamp", "error=\"%s\"", err.msg);
		}
	}
	fp_db_rollback(db);
	json_t *alerts = fp_repo_alerts(s, db, fp_now_s());
	size_t i;
	json_t *a;
	json_array_foreach(alerts, i, a)
	{
		const char *role = json_string_value(json_object_get(a, "role"));
		int64_t v = json_integer_value(json_object_get(a, "version"));
		for (int r = 0; r < 4; r++) {
			if (strcmp(role, role_names[r]) != 0 || s->repo->alerted[r] == v)
				continue;
			s->repo->alerted[r] = v;
			char q[400];
			fp_log(FP_LOG_WARN, "alert: TUF role close to expiry",
			       "role=%s version=%lld expires=%s message=%s", role, (long long)v,
			       json_string_value(json_object_get(a, "expires")),
			       fp_log_quote(json_string_value(json_object_get(a, "message")), q,
			                    sizeof(q)));
		}
	}
	json_decref(alerts);
	fp_db_pool_put(s->pool, db);
}

static void *loop(void *arg)
{
	struct fp_server *s = arg;
	struct fp_repo *rp = s->repo;
	while (!atomic_load(&s->stopping)) {
		round_once(s);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += s->cfg.tuf_resign_check_s;
		pthread_mutex_lock(&rp->mu);
		if (rp->running)
			pthread_cond_timedwait(&rp->cv, &rp->mu, &ts);
		int stop = !rp->running;
		pthread_mutex_unlock(&rp->mu);
		if (stop)
			break;
	}
	return NULL;
}

int fp_repo_start(struct fp_server *s, struct fp_err *err)
{
	s->repo->running = 1;
	if (pthread_create(&s->repo->thread, NULL, loop, s)) {
		s->repo->running = 0;
		return fp_err_set(err, FP_EIO, "cannot start the repository thread");
	}
	return 0;
}

void fp_repo_stop(struct fp_server *s)
{
	struct fp_repo *rp = s->repo;
	if (!rp)
		return;
	pthread_mutex_lock(&rp->mu);
	int was = rp->running;
	rp->running = 0;
	pthread_cond_broadcast(&rp->cv);
	pthread_mutex_unlock(&rp->mu);
	if (was)
		pthread_join(rp->thread, NULL);
}
