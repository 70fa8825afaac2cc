/*
 * fileio.h — small file and process helpers of the agent: whole-file reads
 * with a cap, atomic replacement (temporary file, fsync, rename, fsync of
 * the directory), and running a program with a time limit.
 */
#ifndef FLEETPATCH_AGENT_FILEIO_H
#define FLEETPATCH_AGENT_FILEIO_H

#include <stddef.h>

#include "fleetpatch/err.h"

#define AGENT_CMD_OUTPUT_MAX 65536 /* bytes of a program's output kept */

/* Reads at most cap bytes (caller frees *buf, NUL-terminated). FP_ENOTFOUND if absent. */
int agent_read_file(const char *path, size_t cap, char **buf, size_t *len,
                    struct fp_err *err) FP_WUR;

/* Replaces path with data atomically and durably; mode for a new file. */
int agent_write_atomic(const char *path, const void *data, size_t n, int mode,
                       struct fp_err *err) FP_WUR;

/*
 * agent_write_atomic, unless path already holds exactly these bytes: state
 * files rewritten at every poll or transition would wear a device's flash.
 * 1 when unchanged (nothing written), 0 when written, or an error.
 */
int agent_write_if_changed(const char *path, const void *data, size_t n, int mode,
                           struct fp_err *err) FP_WUR;

int agent_write_all(int fd, const void *data, size_t n);
void agent_sync_parent(const char *path);

/*
 * Runs argv (argv[0] looked up in PATH) with stdin from /dev/null, killing
 * it after timeout_s. *status gets the exit status (128+signal when killed,
 * 124 on the time limit). When out is not NULL it receives up to
 * AGENT_CMD_OUTPUT_MAX bytes of stdout (caller frees).
 */
int agent_run(char *const argv[], long timeout_s, int *status, char **out,
              struct fp_err *err) FP_WUR;

/* The same through /bin/sh -c. */
int agent_run_shell(const char *cmd, long timeout_s, int *status, struct fp_err *err) FP_WUR;

/* Milliseconds of a monotonic clock. */
long long agent_now_ms(void);

#endif
