/*
 * journal_io.h — the agent's journal file: read at start (a torn or
 * corrupt tail is cut off and logged), appended and fsynced before every
 * action (lib/journal.c has the record format).
 */
#ifndef FLEETPATCH_AGENT_JOURNAL_IO_H
#define FLEETPATCH_AGENT_JOURNAL_IO_H

#include "fleetpatch/journal.h"

#define AGENT_JOURNAL_COMPACT 65536 /* bytes after which the file restarts with one record */

struct agent_journal {
	int fd;
	char path[4200];
	size_t size;
	struct fp_journal_rec cur; /* the last record written or read */
	int fresh;                 /* no valid record was found */
};

/* Opens (creating) DIR/journal and reads the current state into j->cur. */
int agent_journal_open(struct agent_journal *j, const char *dir, struct fp_err *err) FP_WUR;

/*
 * Appends rec (its seq is set to the next number) and syncs it to disk;
 * only then is j->cur updated. FP_EIO when the disk refused (full disk):
 * the caller must not act on the new state.
 */
int agent_journal_write(struct agent_journal *j, struct fp_journal_rec *rec,
                        struct fp_err *err) FP_WUR;

void agent_journal_close(struct agent_journal *j);

#endif
