/*
 * jobs.h — background jobs: device imports, feed imports, assessments.
 *
 * A job is a row in the `imports` table (its kind in `format`) and a worker
 * thread with its own pooled connection. Progress (done/total) lives in
 * memory while the job runs; the outcome (status, report or error) is
 * stored with the row. Jobs left unfinished by a crash are marked failed
 * at the next start: their work was one transaction that never committed.
 */
#ifndef FP_SERVER_JOBS_H
#define FP_SERVER_JOBS_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

#include "server.h"

#define FP_JOB_COLS                                                                                \
	"id, format, status, dry_run, created_by, created_at, finished_at, report, error"

struct fp_job {
	int64_t id;
	struct fp_server *srv;
	struct fp_principal who;
	int dry_run;
	void *arg; /* the job's input; owned, freed with free_arg */
	void (*free_arg)(void *arg);
	/* Runs in the worker; returns 0 with *report set (owned), or an error in err. */
	int (*run)(struct fp_job *job, fp_db *db, json_t **report, struct fp_err *err);
	atomic_long done, total; /* progress, updated by run */
	/* Private to jobs.c. */
	pthread_t thread;
	atomic_int finished;
	struct fp_job *next;
};

/*
 * Records the job (kind such as "csv" or "nvd") and starts its worker. Takes
 * ownership of job (calloc'd by the caller) whatever the outcome; sets
 * job->id first, so the caller may read it on success only.
 */
int fp_job_start(struct fp_server *s, fp_db *db, const char *kind, struct fp_job *job, int64_t *id,
                 struct fp_err *err) FP_WUR;

/* The API's JSON of a job row selected with FP_JOB_COLS, with live progress. */
json_t *fp_job_json(struct fp_server *s, fp_stmt *st);

/* Replies with the job `id` (200), or 404. */
void fp_job_reply(struct fp_req *r, int64_t id, int status);

/* True when the server is shutting down; long jobs check it between steps. */
int fp_job_stopping(const struct fp_job *job);

void fp_jobs_shutdown(struct fp_server *s);
int fp_jobs_recover(struct fp_server *s, struct fp_err *err) FP_WUR;

#endif
