/*
 * nvd_import.h — the NVD feed import: an uploaded feed file into the cves
 * and cve_keys tables, on two threads.
 *
 * A reader thread inflates and scans the feed (lib/nvd.c), parses each
 * record's configurations and derives the products it names; the caller's
 * thread writes the records to the database in the caller's transaction.
 * The two meet in a queue capped in records and bytes, so memory stays
 * bounded whatever the feed size. See docs/design/vulnerabilities.md.
 */
#ifndef FP_SERVER_NVD_IMPORT_H
#define FP_SERVER_NVD_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "fleetpatch/err.h"
#include "jobs.h"

#define FP_NVD_QUEUE_RECORDS 256         /* records between the two threads */
#define FP_NVD_QUEUE_BYTES   (16u << 20) /* bytes of records between the two threads */
#define FP_NVD_IMPORT_CHUNK  (1u << 20)  /* bytes of the file fed to the reader at a time */

struct fp_nvd_import {
	int64_t records, created, updated, unchanged, unassessed;
	/* "vendor:product" keys of changed CVEs (with repeats), unless too_many_dirty */
	char **dirty;
	size_t n_dirty, cap_dirty;
	int too_many_dirty; /* more than dirty_max keys changed; dirty is then incomplete */
	char **changed;     /* ids of the CVEs created or changed */
	size_t n_changed, cap_changed;
};

/*
 * Imports the feed data[len] (gzip or plain) into db, in the transaction the
 * caller opened: an error leaves records written that the caller must roll
 * back. Unchanged records (same lastModified) are not rewritten. Keys of
 * changed records are collected in out->dirty until there are more than
 * dirty_max of them. job (may be NULL) receives the progress in bytes of data
 * and is watched for the server's shutdown. out is zeroed first; free it with
 * fp_nvd_import_free(), also after a failure.
 */
int fp_nvd_import(fp_db *db, struct fp_job *job, const char *data, size_t len, size_t dirty_max,
                  struct fp_nvd_import *out, struct fp_err *err) FP_WUR;

void fp_nvd_import_free(struct fp_nvd_import *imp);

#endif
