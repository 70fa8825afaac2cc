/*
 * jobs.c — the background job runner (see jobs.h).
 */
#include "jobs.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

int fp_job_stopping(const struct fp_job *job)
{
	return atomic_load(&job->srv->stopping);
}

static void *worker(void *arg)
{
	struct fp_job *job = arg;
	struct fp_server *s = job->srv;
	struct fp_err err = {0};
	json_t *report = NULL;
	fp_db *db = fp_db_pool_get(s->pool);
	if (fp_db_run(db, NULL, NULL, "UPDATE imports SET status = 'running' WHERE id = ?", "i",
	              job->id))
		fp_log(FP_LOG_WARN, "cannot mark job running", "job_id=%" PRId64, job->id);
	int rc = job->run(job, db, &report, &err);
	fp_db_rollback(db); /* whatever run left open does not survive */
	if (rc && !err.msg[0])
		fp_err_set(&err, rc, "the job failed");
	char *rtext = report ? json_dumps(report, JSON_COMPACT) : NULL;
	char now[32];
	fp_time_rfc3339(fp_now_s(), now);
	if (fp_db_run(db, NULL, NULL,
	              "UPDATE imports SET status = ?, finished_at = ?, report = ?, error = ? WHERE "
	              "id = ?",
	              "ssssi", rc ? "failed" : "succeeded", now, rc ? NULL : rtext,
	              rc ? err.msg : NULL, job->id))
		fp_log(FP_LOG_ERROR, "cannot record job result", "job_id=%" PRId64, job->id);
	char q[FP_ERR_MSG_MAX + 8];
	fp_log(rc ? FP_LOG_WARN : FP_LOG_INFO, "job finished",
	       "job_id=%" PRId64 " status=%s done=%ld error=%s", job->id,
	       rc ? "failed" : "succeeded", atomic_load(&job->done),
	       fp_log_quote(rc ? err.msg : "", q, sizeof(q)));
	free(rtext);
	json_decref(report);
	fp_db_pool_put(s->pool, db);
	atomic_store(&job->finished, 1);
	return NULL;
}

static void job_free(struct fp_job *j)
{
	if (j->free_arg)
		j->free_arg(j->arg);
	free(j);
}

static void reap(struct fp_server *s, int all)
{
	pthread_mutex_lock(&s->jobs_mu);
	struct fp_job **pp = &s->jobs;
	while (*pp) {
		struct fp_job *j = *pp;
		if (all || atomic_load(&j->finished)) {
			*pp = j->next;
			pthread_mutex_unlock(&s->jobs_mu);
			pthread_join(j->thread, NULL);
			job_free(j);
			pthread_mutex_lock(&s->jobs_mu);
			pp = &s->jobs;
			continue;
		}
		pp = &j->next;
	}
	pthread_mutex_unlock(&s->jobs_mu);
}

int fp_job_start(struct fp_server *s, fp_db *db, const char *kind, struct fp_job *job, int64_t *id,
                 struct fp_err *err)
{
	char now[32], actor[160];
	fp_time_rfc3339(fp_now_s(), now);
	fp_actor_name(&job->who, actor);
	job->srv = s;
	int rc = fp_db_run(db, err, &job->id,
	                   "INSERT INTO imports (format, status, dry_run, created_by, created_at) "
	                   "VALUES (?, 'queued', ?, ?, ?) RETURNING id",
	                   "siss", kind, (int64_t)job->dry_run, actor, now);
	if (rc) {
		job_free(job);
		return rc;
	}
	reap(s, 0);
	pthread_mutex_lock(&s->jobs_mu);
	rc = pthread_create(&job->thread, NULL, worker, job);
	if (rc == 0) {
		job->next = s->jobs;
		s->jobs = job;
		*id = job->id;
	}
	pthread_mutex_unlock(&s->jobs_mu);
	if (rc) {
		if (fp_db_run(
		        db, NULL, NULL,
		        "UPDATE imports SET status = 'failed', error = 'cannot start a worker' "
		        "WHERE id = ?",
		        "i", job->id))
			fp_log(FP_LOG_ERROR, "cannot record job failure", "job_id=%" PRId64,
			       job->id);
		job_free(job);
		return fp_err_set(err, FP_EIO, "cannot start a worker thread; try again");
	}
	return 0;
}

void fp_jobs_shutdown(struct fp_server *s)
{
	reap(s, 1);
}

int fp_jobs_recover(struct fp_server *s, struct fp_err *err)
{
	fp_db *db = fp_db_pool_get(s->pool);
	int rc =
	    fp_db_run(db, err, NULL,
	              "UPDATE imports SET status = 'failed', error = 'the server stopped during "
	              "the job; nothing was applied' WHERE status IN ('queued', 'running')",
	              NULL);
	fp_db_pool_put(s->pool, db);
	return rc;
}

json_t *fp_job_json(struct fp_server *s, fp_stmt *st)
{
	int64_t id = fp_stmt_col_int(st, 0);
	const char *rep = fp_stmt_col_text(st, 7);
	json_t *report = rep ? json_loads(rep, 0, NULL) : NULL;
	json_t *o = json_pack("{s:I,s:s,s:s,s:b,s:s,s:s,s:s?,s:s?}", "id", (json_int_t)id, "format",
	                      fp_stmt_col_text(st, 1), "status", fp_stmt_col_text(st, 2), "dry_run",
	                      (int)fp_stmt_col_int(st, 3), "created_by", fp_stmt_col_text(st, 4),
	                      "created_at", fp_stmt_col_text(st, 5), "finished_at",
	                      fp_stmt_col_text(st, 6), "error", fp_stmt_col_text(st, 8));
	json_object_set_new(o, "report", report ? report : json_null());
	long done = 0, total = -1;
	if (report && json_is_integer(json_object_get(report, "rows"))) {
		total = (long)json_integer_value(json_object_get(report, "rows"));
		done = total;
	}
	pthread_mutex_lock(&s->jobs_mu);
	for (struct fp_job *j = s->jobs; j; j = j->next)
		if (j->id == id && !report) {
			done = atomic_load(&j->done);
			total = atomic_load(&j->total);
		}
	pthread_mutex_unlock(&s->jobs_mu);
	json_object_set_new(o, "progress",
	                    total >= 0 ? json_pack("{s:I,s:I}", "done", (json_int_t)done, "total",
	                                           (json_int_t)total)
	                               : json_null());
	return o;
}

void fp_job_reply(struct fp_req *r, int64_t id, int status)
{
	struct fp_err err = {0};
	fp_stmt *st = NULL;
	if (fp_db_prepare(r->db, "SELECT " FP_JOB_COLS " FROM imports WHERE id = ?", &st, &err)) {
		fp_reply_err(r, &err);
		return;
	}
	fp_stmt_int(st, 1, id);
	int rc = fp_stmt_step(st, &err);
	if (rc == FP_DB_ROW)
		fp_reply(r, status, fp_job_json(r->srv, st));
	else if (rc == FP_DB_DONE)
		fp_reply_error(r, 404, "not_found", "no job with id %" PRId64, id);
	else
		fp_reply_err(r, &err);
	fp_stmt_finalize(st);
}
