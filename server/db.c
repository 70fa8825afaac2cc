/*
 * db.c — backend-independent helpers of db.h: transactions, a one-call
 * statement runner and the connection pool.
 */
#include "db.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct fp_stmt_head {
	fp_db *db; /* every backend's statement struct starts with its connection */
};

static const struct fp_db_ops *ops_of(fp_stmt *st)
{
	return ((struct fp_stmt_head *)st)->db->ops;
}

int fp_stmt_text(fp_stmt *st, int idx, const char *v)
{
	return ops_of(st)->bind_text(st, idx, v);
}
int fp_stmt_int(fp_stmt *st, int idx, int64_t v)
{
	return ops_of(st)->bind_int64(st, idx, v);
}
int fp_stmt_step(fp_stmt *st, struct fp_err *err)
{
	return ops_of(st)->step(st, err);
}
int fp_stmt_reset(fp_stmt *st)
{
	return ops_of(st)->reset(st);
}
const char *fp_stmt_col_text(fp_stmt *st, int col)
{
	return ops_of(st)->col_text(st, col);
}
int64_t fp_stmt_col_int(fp_stmt *st, int col)
{
	return ops_of(st)->col_int64(st, col);
}
int fp_stmt_col_null(fp_stmt *st, int col)
{
	return ops_of(st)->col_is_null(st, col);
}
int fp_db_prepare(fp_db *db, const char *sql, fp_stmt **out, struct fp_err *err)
{
	for (int i = 0; i < db->ncache; i++) {
		struct fp_db_cached *c = &db->cache[i];
		if (!c->in_use && strcmp(c->sql, sql) == 0) {
			c->in_use = 1;
			*out = c->st;
			return 0;
		}
	}
	int rc = db->ops->prepare(db, sql, out, err);
	if (rc || db->ncache == FP_DB_STMT_CACHE)
		return rc;
	/* Keep it; a statement already in use (a nested query) gets a fresh one. */
	char *key = strdup(sql);
	if (!key)
		return 0;
	struct fp_db_cached *c = &db->cache[db->ncache++];
	c->sql = key;
	c->st = *out;
	c->in_use = 1;
	return 0;
}

void fp_stmt_finalize(fp_stmt *st)
{
	if (!st)
		return;
	fp_db *db = ((struct fp_stmt_head *)st)->db;
	for (int i = 0; i < db->ncache; i++)
		if (db->cache[i].st == st) {
			db->ops->reset(st);
			db->cache[i].in_use = 0;
			return;
		}
	db->ops->finalize(st);
}
int fp_db_changes(fp_db *db)
{
	return db->ops->changes(db);
}

int fp_db_exec(fp_db *db, const char *sql, struct fp_err *err)
{
	return db->ops->exec(db, sql, err);
}

void fp_db_close(fp_db *db)
{
	if (!db)
		return;
	for (int i = 0; i < db->ncache; i++) {
		db->ops->finalize(db->cache[i].st);
		free(db->cache[i].sql);
	}
	db->ncache = 0;
	db->ops->close(db);
}

int fp_db_begin(fp_db *db, struct fp_err *err)
{
	/* SQLite's IMMEDIATE takes the write lock now; PostgreSQL ignores the word. */
	int rc =
	    fp_db_exec(db, strcmp(db->ops->name, "sqlite") == 0 ? "BEGIN IMMEDIATE" : "BEGIN", err);
	if (rc == 0)
		db->in_tx = 1;
	return rc;
}

int fp_db_commit(fp_db *db, struct fp_err *err)
{
	int rc = fp_db_exec(db, "COMMIT", err);
	if (rc)
		fp_db_rollback(db);
	db->in_tx = 0;
	return rc;
}

void fp_db_rollback(fp_db *db)
{
	if (db->in_tx && fp_db_exec(db, "ROLLBACK", NULL))
		db->in_tx = 0; /* SQLite already rolled back after the error */
	db->in_tx = 0;
}

int fp_db_run(fp_db *db, struct fp_err *err, int64_t *out, const char *sql, const char *fmt, ...)
{
	fp_stmt *st = NULL;
	int rc = fp_db_prepare(db, sql, &st, err);
	if (rc)
		return rc;
	va_list ap;
	va_start(ap, fmt);
	for (int i = 0; fmt && fmt[i]; i++) {
		if (fmt[i] == 's')
			rc = fp_stmt_text(st, i + 1, va_arg(ap, const char *));
		else
			rc = fp_stmt_int(st, i + 1, va_arg(ap, int64_t));
		if (rc)
			break;
	}
	va_end(ap);
	if (rc) {
		rc = fp_err_set(err, FP_EIO, "database: cannot bind parameters");
		goto out;
	}
	rc = fp_stmt_step(st, err);
	if (rc < 0)
		goto out;
	if (out) {
		if (rc != FP_DB_ROW) {
			rc = fp_err_set(err, FP_ENOTFOUND, "not found");
			goto out;
		}
		*out = fp_stmt_col_int(st, 0);
	}
	rc = 0;
out:
	fp_stmt_finalize(st);
	return rc;
}

struct fp_db_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	fp_db **conns;
	int *busy;
	int size;
	struct fp_db_checkpointer *ckpt;
};

int fp_db_pool_open(const char *path, int size, struct fp_db_pool **out, struct fp_err *err)
{
	struct fp_db_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	p->conns = calloc((size_t)size, sizeof(*p->conns));
	p->busy = calloc((size_t)size, sizeof(*p->busy));
	if (!p->conns || !p->busy) {
		fp_db_pool_close(p);
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->size = size;
	for (int i = 0; i < size; i++) {
		int rc = fp_db_open_sqlite(path, &p->conns[i], err);
		/* The first connection made the database a WAL one; the
		 * checkpointer's own connection opens it after that. */
		if (rc == 0 && i == 0)
			rc = fp_db_checkpointer_start(path, &p->ckpt, err);
		if (rc) {
			fp_db_pool_close(p);
			return rc;
		}
		fp_db_checkpointer_attach(p->ckpt, p->conns[i]);
	}
	*out = p;
	return 0;
}

fp_db *fp_db_pool_get(struct fp_db_pool *p)
{
	pthread_mutex_lock(&p->mu);
	for (;;) {
		for (int i = 0; i < p->size; i++)
			if (!p->busy[i]) {
				p->busy[i] = 1;
				pthread_mutex_unlock(&p->mu);
				return p->conns[i];
			}
		pthread_cond_wait(&p->cv, &p->mu);
	}
}

void fp_db_pool_put(struct fp_db_pool *p, fp_db *db)
{
	if (!db)
		return;
	if (db->in_tx)
		fp_db_rollback(db);
	pthread_mutex_lock(&p->mu);
	for (int i = 0; i < p->size; i++)
		if (p->conns[i] == db)
			p->busy[i] = 0;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void fp_db_pool_close(struct fp_db_pool *p)
{
	if (!p)
		return;
	for (int i = 0; p->conns && i < p->size; i++)
		fp_db_close(p->conns[i]);
	fp_db_checkpointer_stop(p->ckpt);
	free(p->conns);
	free(p->busy);
	if (p->size) {
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->cv);
	}
	free(p);
}
