/*
 * db_sqlite.c — the embedded SQLite backend of db.h (WAL mode).
 */
#include "db.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

struct sq_db {
	struct fp_db base;
	sqlite3 *h;
};

struct fp_stmt {
	fp_db *db;
	sqlite3_stmt *st;
};

static int sq_prepare(fp_db *db, const char *sql, fp_stmt **out, struct fp_err *err)
{
	struct sq_db *d = (struct sq_db *)db;
	fp_stmt *s = calloc(1, sizeof(*s));
	if (!s)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	if (sqlite3_prepare_v2(d->h, sql, -1, &s->st, NULL) != SQLITE_OK) {
		fp_err_set(err, FP_EIO, "database: cannot prepare statement: %s",
		           sqlite3_errmsg(d->h));
		free(s);
		return FP_EIO;
	}
	s->db = db;
	*out = s;
	return 0;
}

static int sq_bind_text(fp_stmt *st, int idx, const char *v)
{
	int rc = v ? sqlite3_bind_text(st->st, idx, v, -1, SQLITE_TRANSIENT)
	           : sqlite3_bind_null(st->st, idx);
	return rc == SQLITE_OK ? 0 : FP_EIO;
}

static int sq_bind_int64(fp_stmt *st, int idx, int64_t v)
{
	return sqlite3_bind_int64(st->st, idx, v) == SQLITE_OK ? 0 : FP_EIO;
}

static int sq_step(fp_stmt *st, struct fp_err *err)
{
	int rc = sqlite3_step(st->st);
	if (rc == SQLITE_ROW)
		return FP_DB_ROW;
	if (rc == SQLITE_DONE)
		return FP_DB_DONE;
	sqlite3 *h = sqlite3_db_handle(st->st);
	if (rc == SQLITE_CONSTRAINT)
		return fp_err_set(err, FP_EEXIST, "database: constraint failed: %s",
		                  sqlite3_errmsg(h));
	return fp_err_set(err, FP_EIO, "database: %s", sqlite3_errmsg(h));
}

static int sq_reset(fp_stmt *st)
{
	sqlite3_reset(st->st);
	sqlite3_clear_bindings(st->st);
	return 0;
}

static const char *sq_col_text(fp_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st->st, col);
}

static int64_t sq_col_int64(fp_stmt *st, int col)
{
	return sqlite3_column_int64(st->st, col);
}

static int sq_col_is_null(fp_stmt *st, int col)
{
	return sqlite3_column_type(st->st, col) == SQLITE_NULL;
}

static void sq_finalize(fp_stmt *st)
{
	if (st) {
		sqlite3_finalize(st->st);
		free(st);
	}
}

static int sq_exec(fp_db *db, const char *sql, struct fp_err *err)
{
	struct sq_db *d = (struct sq_db *)db;
	char *msg = NULL;
	if (sqlite3_exec(d->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fp_err_set(err, FP_EIO, "database: %s", msg ? msg : "error");
		sqlite3_free(msg);
		return FP_EIO;
	}
	return 0;
}

static int sq_changes(fp_db *db)
{
	return sqlite3_changes(((struct sq_db *)db)->h);
}

static void sq_close(fp_db *db)
{
	struct sq_db *d = (struct sq_db *)db;
	if (d) {
		sqlite3_close_v2(d->h);
		free(d);
	}
}

static const struct fp_db_ops sqlite_ops = {
    .name = "sqlite",
    .prepare = sq_prepare,
    .bind_text = sq_bind_text,
    .bind_int64 = sq_bind_int64,
    .step = sq_step,
    .reset = sq_reset,
    .col_text = sq_col_text,
    .col_int64 = sq_col_int64,
    .col_is_null = sq_col_is_null,
    .finalize = sq_finalize,
    .exec = sq_exec,
    .changes = sq_changes,
    .close = sq_close,
};

int fp_db_open_sqlite(const char *path, fp_db **out, struct fp_err *err)
{
	struct sq_db *d = calloc(1, sizeof(*d));
	if (!d)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	d->base.ops = &sqlite_ops;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &d->h, flags, NULL) != SQLITE_OK) {
		fp_err_set(err, FP_EIO, "database: cannot open %s: %s", path,
		           d->h ? sqlite3_errmsg(d->h) : "out of memory");
		sqlite3_close(d->h);
		free(d);
		return FP_EIO;
	}
	sqlite3_busy_timeout(d->h, 10000);
	/*
	 * WAL lets readers run beside the one writer; synchronous=NORMAL in WAL
	 * mode stays consistent across power loss and only risks the last
	 * commits, which a server accepts for the write throughput it buys.
	 */
	int rc = sq_exec(&d->base,
	                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
	                 "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;",
	                 err);
	if (rc) {
		sq_close(&d->base);
		return rc;
	}
	*out = &d->base;
	return 0;
}

/*
 * The WAL checkpointer. SQLite's automatic checkpoint runs inside the COMMIT
 * of whichever writer pushes the WAL past 1,000 pages: that writer copies
 * the WAL into the database file and waits for its fsync, so a large
 * transaction (an NVD import) pays for its data twice before it returns.
 * Connections attached here instead signal a thread that runs passive
 * checkpoints on a connection of its own, beside the writers. Should the
 * WAL still grow past FP_WAL_CKPT_SELF_PAGES (the thread cannot keep up, or
 * is blocked by readers), the committing connection checkpoints itself as
 * SQLite would.
 */
struct fp_db_checkpointer {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	sqlite3 *h;
	int pending, stop;
};

static void *ckpt_main(void *arg)
{
	struct fp_db_checkpointer *c = arg;
	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->pending && !c->stop)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->stop)
			break;
		c->pending = 0;
		pthread_mutex_unlock(&c->mu);
		/* PASSIVE takes no lock that a writer or reader waits for; what it
		 * cannot copy now is copied at the next signal. */
		sqlite3_wal_checkpoint_v2(c->h, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int fp_db_checkpointer_start(const char *path, struct fp_db_checkpointer **out, struct fp_err *err)
{
	struct fp_db_checkpointer *c = calloc(1, sizeof(*c));
	if (!c)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	if (sqlite3_open_v2(path, &c->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		fp_err_set(err, FP_EIO, "database: cannot open %s: %s", path,
		           c->h ? sqlite3_errmsg(c->h) : "out of memory");
		sqlite3_close(c->h);
		free(c);
		return FP_EIO;
	}
	sqlite3_busy_timeout(c->h, 10000);
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (pthread_create(&c->thread, NULL, ckpt_main, c) != 0) {
		pthread_cond_destroy(&c->cv);
		pthread_mutex_destroy(&c->mu);
		sqlite3_close(c->h);
		free(c);
		return fp_err_set(err, FP_EIO, "cannot start the WAL checkpoint thread");
	}
	*out = c;
	return 0;
}

static int ckpt_hook(void *arg, sqlite3 *h, const char *name, int pages)
{
	struct fp_db_checkpointer *c = arg;
	if (pages >= FP_WAL_CKPT_SELF_PAGES) {
		sqlite3_wal_checkpoint(h, name);
		return SQLITE_OK;
	}
	if (pages >= FP_WAL_CKPT_PAGES) {
		pthread_mutex_lock(&c->mu);
		c->pending = 1;
		pthread_cond_signal(&c->cv);
		pthread_mutex_unlock(&c->mu);
	}
	return SQLITE_OK;
}

void fp_db_checkpointer_attach(struct fp_db_checkpointer *c, fp_db *db)
{
	/* Replaces the automatic checkpoint (itself a WAL hook). */
	sqlite3_wal_hook(((struct sq_db *)db)->h, ckpt_hook, c);
}

void fp_db_checkpointer_stop(struct fp_db_checkpointer *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	/* What the last writers left in the WAL goes to the database now. */
	sqlite3_wal_checkpoint_v2(c->h, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	sqlite3_close_v2(c->h);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
