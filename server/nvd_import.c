/*
 * nvd_import.c — the NVD feed import on two threads (see nvd_import.h).
 *
 * Reading a feed (inflating, scanning and validating the JSON, parsing the
 * CPE names of each record's configurations) costs about as much CPU as
 * writing it to SQLite, so the two run side by side: a reader thread turns
 * the file into self-contained records (struct rec) and the caller's thread,
 * which owns the database connection and its transaction, writes them in
 * feed order. The queue between them holds at most FP_NVD_QUEUE_RECORDS
 * records and FP_NVD_QUEUE_BYTES bytes of them (one record alone may be
 * larger, up to FP_NVD_RECORD_MAX), so memory does not grow with the feed.
 *
 * The first error wins and stops both: the writer stops the reader by
 * setting q->stop, the reader ends the queue with its result. A record
 * whose configurations cannot be used carries its error to the writer,
 * which reports it only when the record is to be written: an unchanged
 * record is skipped before anything of it is looked at, as it always was.
 */
#include "nvd_import.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleetpatch/nvd.h"
#include "fleetpatch/nvd_match.h"
#include "vuln.h"

/* One record as the writer needs it; everything owned. */
struct rec {
	struct rec *next;
	struct fp_cve cve; /* the scalar fields; description owned, no configurations */
	char *cfg_text;    /* the configurations' JSON text, or NULL */
	int has_configs;
	char *keys; /* nkeys NUL-terminated "vendor:product", back to back, sorted */
	size_t nkeys, keys_len, keys_cap;
	int bad;                      /* 0, or the error of its configurations */
	char bad_msg[FP_ERR_MSG_MAX]; /* the message of that error */
	size_t bytes;                 /* its weight in the queue */
};

struct queue {
	pthread_mutex_t mu;
	pthread_cond_t can_put, can_get;
	struct rec *head, *tail;
	size_t n, bytes;
	int done;          /* the reader ended; rc and err say how */
	int stop;          /* the writer gave up; the reader stops at its next record */
	int get_waits;     /* the writer waits for records */
	int put_waits;     /* the reader waits for room */
	int rc;            /* the reader's result */
	struct fp_err err; /* the reader's error */
};

struct reader {
	struct queue *q;
	struct fp_job *job;
	const char *data;
	size_t len;
};

static void rec_free(struct rec *r)
{
	if (!r)
		return;
	free(r->cve.description);
	free(r->cfg_text);
	free(r->keys);
	free(r);
}

static int rec_add_key(void *ctx, const char *key)
{
	struct rec *r = ctx;
	size_t n = strlen(key) + 1;
	if (r->keys_len + n > r->keys_cap) {
		size_t nc = r->keys_cap ? r->keys_cap * 2 : 256;
		while (nc < r->keys_len + n)
			nc *= 2;
		char *nk = realloc(r->keys, nc);
		if (!nk)
			return FP_ENOMEM;
		r->keys = nk;
		r->keys_cap = nc;
	}
	memcpy(r->keys + r->keys_len, key, n);
	r->keys_len += n;
	r->nkeys++;
	return 0;
}

/* Makes the writer's copy of cve; only allocation failures are errors here. */
static int rec_make(const struct fp_cve *cve, struct rec **out, struct fp_err *err)
{
	struct rec *r = calloc(1, sizeof(*r));
	if (!r)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	r->cve = *cve;
	r->cve.description = NULL;
	r->cve.configurations = NULL;
	r->cve.configs = NULL;
	r->cve.configs_text = NULL;
	r->cve.configs_len = 0;
	int rc = 0;
	if (cve->description && !(r->cve.description = strdup(cve->description)))
		rc = FP_ENOMEM;
	/* The reader parsed the configurations itself, or left them as a JSON tree. */
	struct fp_nvd_configs own = {0};
	const struct fp_nvd_configs *cfg = cve->configs ? cve->configs : &own;
	struct fp_err cerr = {0};
	if (rc == 0 && cve->configurations &&
	    (r->bad = fp_nvd_configs_from_json(cve->configurations, &own, &cerr)) != 0) {
		snprintf(r->bad_msg, sizeof(r->bad_msg), "%s: configurations: %s", cve->id,
		         cerr.msg);
		goto out;
	}
	if (rc == 0 && cve->configs_text) {
		if ((r->cfg_text = malloc(cve->configs_len + 1)) != NULL) {
			memcpy(r->cfg_text, cve->configs_text, cve->configs_len);
			r->cfg_text[cve->configs_len] = '\0';
		}
	} else if (rc == 0 && cve->configurations) {
		r->cfg_text = json_dumps(cve->configurations, JSON_COMPACT);
	}
	if (rc == 0 && (cve->configs_text || cve->configurations) && !r->cfg_text)
		rc = FP_ENOMEM;
	r->has_configs = cfg->n > 0;
	/* Platform conditions (hardware) are indexed too: a configuration is
	 * evaluated over every CPE whose product the CVE names. */
	if (rc == 0 && (rc = fp_vuln_config_keys(cfg, rec_add_key, r)) != 0) {
		r->bad = rc;
		snprintf(r->bad_msg, sizeof(r->bad_msg), "%s: cannot index its products", cve->id);
		rc = 0;
	}
out:
	fp_nvd_configs_free(&own);
	if (rc) {
		rec_free(r);
		return fp_err_set(err, rc, "out of memory");
	}
	r->bytes = sizeof(*r) + r->keys_cap + (r->cfg_text ? strlen(r->cfg_text) : 0) +
	           (r->cve.description ? strlen(r->cve.description) : 0);
	*out = r;
	return 0;
}

/* Hands r to the writer (taking ownership); fails when the writer stopped. */
static int queue_put(struct queue *q, struct rec *r)
{
	pthread_mutex_lock(&q->mu);
	/* One record always fits, so a record larger than the byte cap still passes. */
	while (!q->stop && q->n > 0 &&
	       (q->n >= FP_NVD_QUEUE_RECORDS || q->bytes + r->bytes > FP_NVD_QUEUE_BYTES)) {
		if (q->get_waits) {
			q->get_waits = 0;
			pthread_cond_signal(&q->can_get);
		}
		q->put_waits = 1;
		pthread_cond_wait(&q->can_put, &q->mu);
	}
	int stopped = q->stop;
	if (!stopped) {
		if (q->tail)
			q->tail->next = r;
		else
			q->head = r;
		q->tail = r;
		q->n++;
		q->bytes += r->bytes;
		/* Waking the writer for each record would cost more than the record. */
		if (q->get_waits && q->n >= FP_NVD_QUEUE_RECORDS / 4) {
			q->get_waits = 0;
			pthread_cond_signal(&q->can_get);
		}
	}
	pthread_mutex_unlock(&q->mu);
	if (stopped) {
		rec_free(r);
		return FP_EIO;
	}
	return 0;
}

/*
 * Takes every queued record (a list the caller owns, in feed order), waiting
 * for some; NULL once the reader ended and all were taken.
 */
static struct rec *queue_get(struct queue *q)
{
	pthread_mutex_lock(&q->mu);
	while (!q->head && !q->done) {
		q->get_waits = 1;
		pthread_cond_wait(&q->can_get, &q->mu);
	}
	struct rec *r = q->head;
	q->head = q->tail = NULL;
	q->n = q->bytes = 0;
	if (q->put_waits) {
		q->put_waits = 0;
		pthread_cond_signal(&q->can_put);
	}
	pthread_mutex_unlock(&q->mu);
	return r;
}

static int on_cve(void *ctx, const struct fp_cve *cve, const char *raw, size_t raw_len)
{
	(void)raw;
	(void)raw_len;
	struct reader *rd = ctx;
	struct rec *r = NULL;
	int rc = rec_make(cve, &r, &rd->q->err);
	if (rc == 0 && (rc = queue_put(rd->q, r)) != 0)
		fp_err_set(&rd->q->err, rc, "the import stopped");
	return rc;
}

static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	struct queue *q = rd->q;
	struct fp_nvd_reader *nr = NULL;
	int rc = fp_nvd_reader_new(on_cve, rd, &nr, &q->err);
	if (rc == 0)
		fp_nvd_reader_parse_configs(nr);
	for (size_t off = 0; rc == 0 && off < rd->len; off += FP_NVD_IMPORT_CHUNK) {
		if (rd->job && fp_job_stopping(rd->job)) {
			rc = fp_err_set(&q->err, FP_EIO,
			                "the server shut down; nothing was imported");
			break;
		}
		size_t n =
		    rd->len - off < FP_NVD_IMPORT_CHUNK ? rd->len - off : FP_NVD_IMPORT_CHUNK;
		rc = fp_nvd_reader_feed(nr, rd->data + off, n, &q->err);
		/* Progress of an NVD import is in bytes of the uploaded file. */
		if (rd->job)
			atomic_store(&rd->job->done, (long)(off + n));
	}
	if (rc == 0)
		rc = fp_nvd_reader_finish(nr, &q->err);
	fp_nvd_reader_free(nr);
	pthread_mutex_lock(&q->mu);
	q->rc = rc;
	q->done = 1;
	q->get_waits = 0;
	pthread_cond_signal(&q->can_get);
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

static int list_add(char ***l, size_t *n, size_t *cap, const char *s)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 1024;
		char **ns = realloc(*l, nc * sizeof(*ns));
		if (!ns)
			return FP_ENOMEM;
		*l = ns;
		*cap = nc;
	}
	if (!((*l)[*n] = strdup(s)))
		return FP_ENOMEM;
	(*n)++;
	return 0;
}

static void list_free(char **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

static int add_dirty(struct fp_nvd_import *imp, size_t dirty_max, const char *key)
{
	if (imp->too_many_dirty)
		return 0;
	if (imp->n_dirty >= dirty_max) {
		/* The caller re-matches everything then; the list is not needed. */
		imp->too_many_dirty = 1;
		return 0;
	}
	return list_add(&imp->dirty, &imp->n_dirty, &imp->cap_dirty, key);
}

/* Writes one record, unless the stored one has the same lastModified. */
static int write_rec(fp_db *db, const struct rec *r, size_t dirty_max, struct fp_nvd_import *imp,
                     struct fp_err *err)
{
	const struct fp_cve *cve = &r->cve;
	imp->records++;
	fp_stmt *st = NULL;
	int rc = fp_db_prepare(db, "SELECT last_modified FROM cves WHERE id = ?", &st, err);
	if (rc)
		return rc;
	fp_stmt_text(st, 1, cve->id);
	int exists = fp_stmt_step(st, NULL) == FP_DB_ROW;
	int same = exists && strcmp(fp_stmt_col_text(st, 0), cve->last_modified) == 0;
	fp_stmt_finalize(st);
	st = NULL;
	/* An unchanged record is not rewritten: re-imports are cheap and idempotent. */
	if (same) {
		imp->unchanged++;
		return 0;
	}
	if (r->bad)
		return fp_err_set(err, r->bad, "%s", r->bad_msg);
	double cvss = cve->cvss4 >= 0    ? cve->cvss4
	              : cve->cvss31 >= 0 ? cve->cvss31
	              : cve->cvss30 >= 0 ? cve->cvss30
	                                 : cve->cvss2;
	const char *ver = cve->cvss4 >= 0    ? "4.0"
	                  : cve->cvss31 >= 0 ? "3.1"
	                  : cve->cvss30 >= 0 ? "3.0"
	                  : cve->cvss2 >= 0  ? "2.0"
	                                     : NULL;
	int64_t milli = cvss >= 0 ? (int64_t)llround(cvss * 1000) : -1;
	/* Keys the record named before change meaning too (a new record has none). */
	if (exists) {
		if ((rc = fp_db_prepare(db, "SELECT key FROM cve_keys WHERE cve_id = ?", &st, err)))
			return rc;
		fp_stmt_text(st, 1, cve->id);
		while (rc == 0 && fp_stmt_step(st, NULL) == FP_DB_ROW)
			rc = add_dirty(imp, dirty_max, fp_stmt_col_text(st, 0));
		fp_stmt_finalize(st);
		if (rc)
			return fp_err_set(err, rc, "out of memory");
	}
	rc = fp_db_run(
	    db, err, NULL,
	    "INSERT INTO cves (id, published, last_modified, status, description, "
	    "cvss_milli, "
	    "cvss_version, vector, severity, cwe, configurations, has_configs) VALUES (?, "
	    "?, ?, "
	    "?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET published = "
	    "excluded.published, last_modified = excluded.last_modified, status = "
	    "excluded.status, description = excluded.description, cvss_milli = "
	    "excluded.cvss_milli, cvss_version = excluded.cvss_version, vector = "
	    "excluded.vector, "
	    "severity = excluded.severity, cwe = excluded.cwe, configurations = "
	    "excluded.configurations, has_configs = excluded.has_configs",
	    "sssssisssssi", cve->id, cve->published, cve->last_modified, cve->status,
	    cve->description, milli, ver, cve->vector, cve->severity, cve->cwe, r->cfg_text,
	    (int64_t)r->has_configs);
	if (rc == 0 && exists)
		rc =
		    fp_db_run(db, err, NULL, "DELETE FROM cve_keys WHERE cve_id = ?", "s", cve->id);
	const char *key = r->keys;
	for (size_t i = 0; rc == 0 && i < r->nkeys; i++, key += strlen(key) + 1) {
		rc = fp_db_run(
		    db, err, NULL,
		    "INSERT INTO cve_keys (key, cve_id) VALUES (?, ?) ON CONFLICT DO NOTHING", "ss",
		    key, cve->id);
		if (rc == 0 && (rc = add_dirty(imp, dirty_max, key)) != 0)
			fp_err_set(err, rc, "out of memory");
	}
	if (rc == 0 &&
	    (rc = list_add(&imp->changed, &imp->n_changed, &imp->cap_changed, cve->id)) != 0)
		fp_err_set(err, rc, "out of memory");
	if (rc == 0) {
		if (exists)
			imp->updated++;
		else
			imp->created++;
		if (!r->has_configs)
			imp->unassessed++;
	}
	return rc;
}

int fp_nvd_import(fp_db *db, struct fp_job *job, const char *data, size_t len, size_t dirty_max,
                  struct fp_nvd_import *out, struct fp_err *err)
{
	memset(out, 0, sizeof(*out));
	struct queue q = {0};
	struct reader rd = {.q = &q, .job = job, .data = data, .len = len};
	pthread_mutex_init(&q.mu, NULL);
	pthread_cond_init(&q.can_put, NULL);
	pthread_cond_init(&q.can_get, NULL);
	pthread_t thread;
	int rc = 0;
	if (pthread_create(&thread, NULL, reader_main, &rd) != 0) {
		rc = fp_err_set(err, FP_EIO, "cannot start the feed reader thread");
		goto out;
	}
	struct rec *batch, *r;
	while (rc == 0 && (batch = queue_get(&q)) != NULL) {
		while ((r = batch) != NULL) {
			batch = r->next;
			if (rc == 0)
				rc = write_rec(db, r, dirty_max, out, err);
			rec_free(r);
		}
	}
	if (rc) {
		pthread_mutex_lock(&q.mu);
		q.stop = 1;
		pthread_cond_signal(&q.can_put);
		pthread_mutex_unlock(&q.mu);
	}
	pthread_join(thread, NULL);
	/* The writer's error comes first; the reader's otherwise (it ended the queue). */
	if (rc == 0 && q.rc) {
		rc = q.rc;
		if (err)
			*err = q.err;
	}
	while ((r = q.head) != NULL) {
		q.head = r->next;
		rec_free(r);
	}
out:
	pthread_cond_destroy(&q.can_get);
	pthread_cond_destroy(&q.can_put);
	pthread_mutex_destroy(&q.mu);
	return rc;
}

void fp_nvd_import_free(struct fp_nvd_import *imp)
{
	list_free(imp->dirty, imp->n_dirty);
	list_free(imp->changed, imp->n_changed);
	memset(imp, 0, sizeof(*imp));
}
