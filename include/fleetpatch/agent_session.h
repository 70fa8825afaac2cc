/*
 * agent_session.h — what the device agent remembers between two polls
 * when each poll runs in its own short-lived worker process (see
 * docs/design/agent.md, "Idle memory"): the device token, the server's
 * poll interval, the last inventory the server accepted and the count of
 * failed polls behind the backoff.
 *
 * Pure: the agent reads and writes the file (state_dir/session, mode 0600);
 * this module turns its bytes into a struct and back. The file is a cache:
 * a refused one is dropped, and the agent authenticates and reports again.
 *
 *   fleetpatch-agent-session 1
 *   token=<printable ASCII, or empty>
 *   token_expires=<unix seconds>
 *   poll_s=<0 or 1..FP_POLL_INTERVAL_MAX>
 *   inventory_sent=<0|1>
 *   inventory_hash=<64 lower-case hex digits>
 *   inventory_at=<unix seconds>
 *   fails=<0..1000000>
 *
 * Every key once, in this order; nothing else.
 */
#ifndef FLEETPATCH_AGENT_SESSION_H
#define FLEETPATCH_AGENT_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "fleetpatch/device_reply.h"
#include "fleetpatch/err.h"

#define FP_AGENT_SESSION_MAX   2048 /* bytes of a session file */
#define FP_AGENT_SESSION_FAILS 1000000

struct fp_agent_session {
	char token[FP_DEVICE_TOKEN_MAX]; /* "" when the agent has none */
	int64_t token_expires;
	int64_t poll_s;
	int inventory_sent;
	unsigned char inventory_hash[32];
	int64_t inventory_at;
	int fails;
};

/*
 * Reads a session file. FP_ETOOBIG over FP_AGENT_SESSION_MAX; FP_EINVAL
 * with the line and what was wrong: a wrong first line, a missing,
 * repeated, unknown or out-of-order key, a value out of its range, a token
 * with a byte outside 0x21–0x7e, a line without its newline.
 */
int fp_agent_session_parse(const char *buf, size_t len, struct fp_agent_session *out,
                           struct fp_err *err) FP_WUR;

/*
 * Writes s in the format above into out (cap bytes with the NUL). The
 * length written, or FP_ETOOBIG / FP_EINVAL (a value parse would refuse).
 */
int fp_agent_session_format(const struct fp_agent_session *s, char *out, size_t cap) FP_WUR;

#endif
