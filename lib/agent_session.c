/*
 * agent_session.c — the agent's session file between two polls
 * (agent_session.h).
 */
#include "fleetpatch/agent_session.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "fleetpatch/hex.h"

#define SESSION_MAGIC "fleetpatch-agent-session 1"

enum { K_TOKEN, K_EXPIRES, K_POLL, K_SENT, K_HASH, K_AT, K_FAILS, K_COUNT };

static const char *const keys[K_COUNT] = {
    "token", "token_expires", "poll_s", "inventory_sent", "inventory_hash", "inventory_at", "fails",
};

/* A decimal integer from lo to hi, the whole of [v, v + n). */
static int read_int(const char *v, size_t n, int64_t lo, int64_t hi, int64_t *out)
{
	int neg = n > 0 && v[0] == '-';
	size_t i = (size_t)neg;
	if (i == n || n - i > 18)
		return -1;
	int64_t x = 0;
	for (; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	if (neg)
		x = -x;
	if (x < lo || x > hi)
		return -1;
	*out = x;
	return 0;
}

static int read_value(int k, const char *v, size_t n, struct fp_agent_session *s)
{
	int64_t x = 0;
	switch (k) {
	case K_TOKEN:
		if (n >= sizeof(s->token))
			return -1;
		for (size_t i = 0; i < n; i++)
			if (v[i] < 0x21 || v[i] > 0x7e)
				return -1;
		memcpy(s->token, v, n);
		s->token[n] = '\0';
		return 0;
	case K_HASH:
		if (n != 64)
			return -1;
		for (size_t i = 0; i < 32; i++) {
			int hi = fp_hex_value(v[2 * i]), lo = fp_hex_value(v[2 * i + 1]);
			if (hi < 0 || lo < 0 || (v[2 * i] >= 'A' && v[2 * i] <= 'F') ||
			    (v[2 * i + 1] >= 'A' && v[2 * i + 1] <= 'F'))
				return -1;
			s->inventory_hash[i] = (unsigned char)(hi << 4 | lo);
		}
		return 0;
	case K_EXPIRES: return read_int(v, n, 0, INT64_MAX / 2, &s->token_expires);
	case K_AT: return read_int(v, n, 0, INT64_MAX / 2, &s->inventory_at);
	case K_POLL: return read_int(v, n, 0, FP_POLL_INTERVAL_MAX, &s->poll_s);
	case K_SENT:
		if (read_int(v, n, 0, 1, &x))
			return -1;
		s->inventory_sent = (int)x;
		return 0;
	default:
		if (read_int(v, n, 0, FP_AGENT_SESSION_FAILS, &x))
			return -1;
		s->fails = (int)x;
		return 0;
	}
}

int fp_agent_session_parse(const char *buf, size_t len, struct fp_agent_session *out,
                           struct fp_err *err)
{
	struct fp_agent_session s;
	memset(&s, 0, sizeof(s));
	if (len > FP_AGENT_SESSION_MAX)
		return fp_err_set(err, FP_ETOOBIG, "session file: over %d bytes",
		                  FP_AGENT_SESSION_MAX);
	const char *p = buf, *end = buf + len;
	for (int line = 0; line <= K_COUNT; line++) {
		const char *nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
		if (!nl)
			return fp_err_set(err, FP_EINVAL, "session file: line %d: %s", line + 1,
			                  p < end ? "no newline at its end" : "missing");
		size_t n = (size_t)(nl - p);
		if (line == 0) {
			if (n != strlen(SESSION_MAGIC) || memcmp(p, SESSION_MAGIC, n) != 0)
				return fp_err_set(err, FP_EINVAL,
				                  "session file: line 1: not \"" SESSION_MAGIC
				                  "\"");
		} else {
			int k = line - 1;
			size_t kl = strlen(keys[k]);
			if (n <= kl || memcmp(p, keys[k], kl) != 0 || p[kl] != '=')
				return fp_err_set(err, FP_EINVAL,
				                  "session file: line %d: expected %s=", line + 1,
				                  keys[k]);
			if (read_value(k, p + kl + 1, n - kl - 1, &s) != 0)
				return fp_err_set(err, FP_EINVAL,
				                  "session file: line %d: bad value of %s",
				                  line + 1, keys[k]);
		}
		p = nl + 1;
	}
	if (p != end)
		return fp_err_set(err, FP_EINVAL, "session file: data after line %d", K_COUNT + 1);
	memcpy(out, &s, sizeof(s)); /* with its zeroed padding: callers compare with memcmp */
	return 0;
}

int fp_agent_session_format(const struct fp_agent_session *s, char *out, size_t cap)
{
	size_t tl = strnlen(s->token, sizeof(s->token));
	if (tl == sizeof(s->token) || s->poll_s < 0 || s->poll_s > FP_POLL_INTERVAL_MAX ||
	    s->fails < 0 || s->fails > FP_AGENT_SESSION_FAILS || s->token_expires < 0 ||
	    s->inventory_at < 0 || (s->inventory_sent != 0 && s->inventory_sent != 1))
		return FP_EINVAL;
	for (size_t i = 0; i < tl; i++)
		if (s->token[i] < 0x21 || s->token[i] > 0x7e)
			return FP_EINVAL;
	char hex[65];
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", s->inventory_hash[i]);
	int n = snprintf(out, cap,
	                 SESSION_MAGIC "\ntoken=%s\ntoken_expires=%" PRId64 "\npoll_s=%" PRId64
	                               "\ninventory_sent=%d\ninventory_hash=%s\n"
	                               "inventory_at=%" PRId64 "\nfails=%d\n",
	                 s->token, s->token_expires, s->poll_s, s->inventory_sent, hex,
	                 s->inventory_at, s->fails);
	if (n < 0 || (size_t)n >= cap || n > FP_AGENT_SESSION_MAX)
		return FP_ETOOBIG;
	return n;
}
