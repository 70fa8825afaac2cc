/*
 * session.c — what a worker remembers for the next one (daemon.h): the
 * session file state_dir/session (lib/agent_session.c reads and writes
 * its bytes). Written only when it changed (agent_write_if_changed), so an
 * idle device does not write its flash at every poll.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "fileio.h"
#include "fleetpatch/agent_session.h"
#include "fleetpatch/secret.h"
#include "log.h"

static void session_path(const struct agent *a, char *out, size_t cap)
{
	snprintf(out, cap, "%s/session", a->c.state_dir);
}

void agent_session_load(struct agent *a, int *fails)
{
	char path[AGENT_PATH_MAX + 16], *buf = NULL;
	size_t len = 0;
	struct fp_err err = {0};
	struct fp_agent_session s;
	session_path(a, path, sizeof(path));
	int rc = agent_read_file(path, FP_AGENT_SESSION_MAX, &buf, &len, &err);
	if (rc == FP_ENOTFOUND) {
		free(buf);
		return;
	}
	if (rc == 0)
		rc = fp_agent_session_parse(buf, len, &s, &err);
	if (buf) {
		fp_wipe(buf, len);
		free(buf);
	}
	if (rc) {
		/* A cache: without it the agent authenticates and reports again. */
		agent_log(AGENT_LOG_WARN, "session file refused; starting a new session",
		          "error=\"%s\"", err.msg);
		return;
	}
	memcpy(a->token, s.token, sizeof(a->token));
	a->token_expires = s.token_expires;
	if (s.poll_s)
		a->poll_s = (long)s.poll_s;
	a->inventory_sent = s.inventory_sent;
	memcpy(a->inventory_hash, s.inventory_hash, sizeof(a->inventory_hash));
	a->inventory_at = s.inventory_at;
	*fails = s.fails;
	a->session_loaded = 1;
	fp_wipe(&s, sizeof(s));
}

void agent_session_save(struct agent *a, int fails)
{
	struct fp_agent_session s;
	memset(&s, 0, sizeof(s));
	memcpy(s.token, a->token, sizeof(s.token));
	s.token_expires = a->token_expires > 0 ? a->token_expires : 0;
	s.poll_s = a->poll_s > 0 && a->poll_s <= FP_POLL_INTERVAL_MAX ? a->poll_s : 0;
	s.inventory_sent = a->inventory_sent != 0;
	memcpy(s.inventory_hash, a->inventory_hash, sizeof(s.inventory_hash));
	s.inventory_at = a->inventory_at > 0 ? a->inventory_at : 0;
	s.fails = fails < FP_AGENT_SESSION_FAILS ? fails : FP_AGENT_SESSION_FAILS;
	char path[AGENT_PATH_MAX + 16], text[FP_AGENT_SESSION_MAX + 1];
	struct fp_err err = {0};
	session_path(a, path, sizeof(path));
	int n = fp_agent_session_format(&s, text, sizeof(text));
	if (n < 0 || agent_write_if_changed(path, text, (size_t)n, 0600, &err) < 0)
		agent_log(AGENT_LOG_WARN, "cannot save the session; the next poll starts a new one",
		          "error=\"%s\"", n < 0 ? "unwritable values" : err.msg);
	if (n > 0)
		fp_wipe(text, (size_t)n);
	fp_wipe(&s, sizeof(s));
}

void agent_session_forget(const struct agent *a)
{
	char path[AGENT_PATH_MAX + 16];
	session_path(a, path, sizeof(path));
	if (unlink(path) != 0 && errno != ENOENT)
		agent_log(AGENT_LOG_WARN, "cannot remove the session file", "error=\"%s\"",
		          strerror(errno));
}
