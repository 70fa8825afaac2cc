/*
 * journal.h — the device agent's state journal: the record format, with no I/O.
 *
 * The agent appends one record per state transition to a journal file and
 * fsyncs it before it acts on the new state (docs/design/agent.md). Each
 * record is a full snapshot of the update state, so the last valid record
 * is all the agent needs at start. On disk a record is
 *
 *   "FPJ1" | length (u32, little endian) | CRC-32 of the payload (u32, LE) | payload
 *
 * where the payload is a JSON object of at most FP_JOURNAL_PAYLOAD_MAX
 * bytes. A torn or corrupt record (short header, bad magic, length over the
 * cap, CRC mismatch, payload that does not parse) ends the valid part of
 * the journal: it and everything after it are ignored, and the reader says
 * how many bytes were valid so the writer can cut the tail off.
 */
#ifndef FLEETPATCH_JOURNAL_H
#define FLEETPATCH_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "fleetpatch/err.h"
#include "fleetpatch/agent_state.h"

#define FP_JOURNAL_MAGIC       "FPJ1"
#define FP_JOURNAL_HEADER      12   /* magic, length, CRC */
#define FP_JOURNAL_PAYLOAD_MAX 4096 /* bytes of one record's JSON payload */
#define FP_JOURNAL_RECORD_MAX  (FP_JOURNAL_HEADER + FP_JOURNAL_PAYLOAD_MAX)
#define FP_JOURNAL_TEXT_MAX    256 /* bytes of a name, version or reason, with its NUL */
#define FP_JOURNAL_BACKEND_MAX 64  /* bytes of a backend name, with its NUL */

/* One snapshot of the agent's update state. Plain data; no ownership. */
struct fp_journal_rec {
	uint64_t seq;                         /* increases by one per record */
	enum fp_agent_state state;            /* the state entered */
	char target[FP_JOURNAL_TEXT_MAX];     /* target name being installed, or "" */
	char version[FP_JOURNAL_TEXT_MAX];    /* its custom.version */
	char backend[FP_JOURNAL_BACKEND_MAX]; /* "" or "ab": A/B slots; else an install module */
	char sha256[65];                      /* its hash (lowercase hex), or "" */
	int64_t length;                       /* its signed length */
	int64_t security_counter;             /* its counter */
	int new_slot;                         /* 0 (A) or 1 (B): the slot written */
	int64_t bytes_done;                   /* bytes of the download written and synced */
	int64_t assignment_version;           /* highest director version accepted */
	int64_t running_counter;              /* security counter of the committed version */
	char slot_version[2][FP_JOURNAL_TEXT_MAX]; /* version in each slot, "" if unknown */
	char slot_sha256[2][65];                   /* hash of the image in each slot */
	char reason[FP_JOURNAL_TEXT_MAX];          /* why the last update failed, or "" */
	int64_t reboots;                           /* reboots the agent asked for */
	int64_t bytes_downloaded;                  /* telemetry: bytes of the last download */
	int64_t download_ms;                       /* telemetry: its duration */
	int64_t install_ms;                        /* telemetry: last install duration */
	char delta_sha256[65]; /* "" or the delta target the image is made from */
	int64_t delta_length;  /* its signed length */
};

/*
 * Encodes rec as one record into out (cap bytes). *n receives the record's
 * size. FP_ETOOBIG when it does not fit; FP_EINVAL for a state out of range.
 */
int fp_journal_encode(const struct fp_journal_rec *rec, uint8_t *out, size_t cap, size_t *n,
                      struct fp_err *err) FP_WUR;

/*
 * Decodes one record from the start of data. *used receives its size.
 * FP_EINVAL for a torn or corrupt record (the message says which check
 * failed).
 */
int fp_journal_decode(const void *data, size_t len, struct fp_journal_rec *rec, size_t *used,
                      struct fp_err *err) FP_WUR;

/*
 * Scans a whole journal: *last receives the last valid record, *valid the
 * number of bytes up to its end, *count the number of valid records. A
 * corrupt record stops the scan (the rest is a torn tail). FP_ENOTFOUND
 * when not one record is valid (*last is then zeroed, state IDLE).
 */
int fp_journal_scan(const void *data, size_t len, struct fp_journal_rec *last, size_t *valid,
                    size_t *count) FP_WUR;

#endif
