/*
 * db.h — the small storage interface under every store_*.c file.
 *
 * Stores write portable SQL (standard types, `?` placeholders, RETURNING,
 * no engine-specific functions) and run it through this interface. A backend
 * is one file that fills struct fp_db_ops: db_sqlite.c today; a PostgreSQL
 * backend (libpq) translates `?` to `$n` and implements the same calls.
 * A connection is used by one thread at a time; fp_db_pool hands them out.
 */
#ifndef FP_SERVER_DB_H
#define FP_SERVER_DB_H

#include <stdint.h>

#include "fleetpatch/err.h"

typedef struct fp_db fp_db;
typedef struct fp_stmt fp_stmt;

enum { FP_DB_ROW = 1, FP_DB_DONE = 0 };

struct fp_db_ops {
	const char *name;
	int (*prepare)(fp_db *db, const char *sql, fp_stmt **out, struct fp_err *err);
	int (*bind_text)(fp_stmt *st, int idx, const char *v); /* 1-based; NULL binds NULL */
	int (*bind_int64)(fp_stmt *st, int idx, int64_t v);
	int (*step)(fp_stmt *st, struct fp_err *err); /* FP_DB_ROW, FP_DB_DONE or <0 */
	int (*reset)(fp_stmt *st);
	const char *(*col_text)(fp_stmt *st,
	                        int col); /* NULL for SQL NULL; valid until next step */
	int64_t (*col_int64)(fp_stmt *st, int col);
	int (*col_is_null)(fp_stmt *st, int col);
	void (*finalize)(fp_stmt *st);
	int (*exec)(fp_db *db, const char *sql, struct fp_err *err); /* no parameters, no rows */
	int (*changes)(fp_db *db);
	void (*close)(fp_db *db);
};

#define FP_DB_STMT_CACHE 64 /* prepared statements kept per connection */

struct fp_db_cached {
	char *sql; /* owned copy: the key */
	fp_stmt *st;
	int in_use;
};

struct fp_db {
	const struct fp_db_ops *ops;
	int in_tx;
	/* Statements are kept prepared and reset after use, so the hot paths
	 * (authentication, check-in) do not parse the same SQL on every request. */
	struct fp_db_cached cache[FP_DB_STMT_CACHE];
	int ncache;
};

/* Opens the embedded SQLite database at path (WAL, foreign keys, busy timeout). */
int fp_db_open_sqlite(const char *path, fp_db **out, struct fp_err *err) FP_WUR;

/*
 * Prepares sql, or hands out the connection's kept statement for the same
 * text when it is not in use. Release with fp_stmt_finalize, which resets a
 * kept statement for the next caller instead of destroying it.
 */
int fp_db_prepare(fp_db *db, const char *sql, fp_stmt **out, struct fp_err *err) FP_WUR;
int fp_db_exec(fp_db *db, const char *sql, struct fp_err *err) FP_WUR;
void fp_db_close(fp_db *db);

/* Transactions: begin takes the write lock at once so two writers never deadlock. */
int fp_db_begin(fp_db *db, struct fp_err *err) FP_WUR;
int fp_db_commit(fp_db *db, struct fp_err *err) FP_WUR;
void fp_db_rollback(fp_db *db);

/* Statement helpers that dispatch through the statement's connection. */
int fp_stmt_text(fp_stmt *st, int idx, const char *v);
int fp_stmt_int(fp_stmt *st, int idx, int64_t v);
int fp_stmt_step(fp_stmt *st, struct fp_err *err);
int fp_stmt_reset(fp_stmt *st);
const char *fp_stmt_col_text(fp_stmt *st, int col);
int64_t fp_stmt_col_int(fp_stmt *st, int col);
int fp_stmt_col_null(fp_stmt *st, int col);
void fp_stmt_finalize(fp_stmt *st);
int fp_db_changes(fp_db *db);

/*
 * Runs sql with parameters described by fmt: one letter per `?`, 's' for a
 * const char * (NULL binds NULL) and 'i' for an int64_t. For statements that
 * return no rows, or to read the first column of the first row as an
 * integer into *out (out may be NULL). Returns FP_ENOTFOUND when a row was
 * wanted and none came.
 */
int fp_db_run(fp_db *db, struct fp_err *err, int64_t *out, const char *sql, const char *fmt,
              ...) FP_WUR;

/*
 * The SQLite WAL checkpointer: a thread that copies the WAL into the
 * database beside the writers, so that no COMMIT waits for a checkpoint.
 * Attached connections signal it once the WAL holds FP_WAL_CKPT_PAGES
 * pages, and checkpoint themselves only past FP_WAL_CKPT_SELF_PAGES.
 * Stop it after closing the connections attached to it.
 */
#define FP_WAL_CKPT_PAGES      1000   /* SQLite's own automatic checkpoint size */
#define FP_WAL_CKPT_SELF_PAGES 100000 /* about 400 MB of WAL with 4 KiB pages */
struct fp_db_checkpointer;
int fp_db_checkpointer_start(const char *path, struct fp_db_checkpointer **out,
                             struct fp_err *err) FP_WUR;
void fp_db_checkpointer_attach(struct fp_db_checkpointer *c, fp_db *db);
void fp_db_checkpointer_stop(struct fp_db_checkpointer *c);

/* A fixed pool of connections shared by the server's threads, attached to a
 * checkpointer of their own. */
struct fp_db_pool;
int fp_db_pool_open(const char *path, int size, struct fp_db_pool **out, struct fp_err *err) FP_WUR;
fp_db *fp_db_pool_get(struct fp_db_pool *p); /* blocks until a connection is free */
void fp_db_pool_put(struct fp_db_pool *p, fp_db *db);
void fp_db_pool_close(struct fp_db_pool *p);

#endif
