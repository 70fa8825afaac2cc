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
	int corrupt;               /* ... in a file that had bytes: the journal was lost */
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

/*
 * DIR/journal.idle: a copy of the last idle record, written when the agent
 * journals the idle state on the slot it booted, normalised (seq 0,
 * new_slot = the other slot) so that an unchanged state is not rewritten.
 * If the journal is lost (a file without one valid record), it tells which
 * slot was last committed and what each slot held (docs/design/agent.md,
 * "Journal"). mirror_write syncs the file; a failure is logged, not fatal.
 * mirror_read: 0 with *rec, FP_ENOTFOUND, or FP_EINVAL for a damaged copy.
 */
void agent_journal_mirror_write(const char *dir, const struct fp_journal_rec *rec, int booted);
int agent_journal_mirror_read(const char *dir, struct fp_journal_rec *rec) FP_WUR;

#endif
