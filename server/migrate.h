/*
 * migrate.h — versioned schema migrations, applied in order at start.
 */
#ifndef FP_SERVER_MIGRATE_H
#define FP_SERVER_MIGRATE_H

#include "db.h"

/* The newest schema version this build knows. */
int fp_migrate_latest(void);

/*
 * Brings the schema up to fp_migrate_latest(), each step in its own
 * transaction. Refuses (FP_EUNSUPP) a database whose schema is newer than
 * this build, so an old binary never writes into a newer layout.
 * *from receives the version found (0 for a new database).
 */
int fp_migrate(fp_db *db, int *from, struct fp_err *err) FP_WUR;

#endif
