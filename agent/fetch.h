/*
 * fetch.h — HTTP GET for the agent, with a byte cap and a time cap on every transfer.
 *
 * The agent downloads from mirrors it does not trust, so every transfer has
 * a hard byte cap (the signed length, or a role's default cap) and a time
 * cap, redirects are limited to http and https, and a response over its cap
 * is cut off as soon as the cap is crossed instead of being read to the end.
 */
#ifndef FLEETPATCH_AGENT_FETCH_H
#define FLEETPATCH_AGENT_FETCH_H

#include <stddef.h>

#include "fleetpatch/err.h"

#define AGENT_FETCH_CONNECT_TIMEOUT 15   /* seconds to connect */
#define AGENT_FETCH_META_TIMEOUT    60   /* seconds for one metadata file */
#define AGENT_FETCH_TARGET_TIMEOUT  900  /* seconds for one target */
#define AGENT_FETCH_STALL_TIMEOUT   30   /* seconds below AGENT_FETCH_LOW_SPEED before giving up */
#define AGENT_FETCH_STALL_MAX       3600 /* the largest stall timeout an option may set */
#define AGENT_FETCH_LOW_SPEED       1024 /* bytes per second a transfer must keep up */
#define AGENT_FETCH_REDIRECTS_MAX   5
#define AGENT_URL_MAX               4096 /* bytes of a URL */

/* Receives the body in chunks; a non-zero return stops the transfer with that code. */
typedef int (*agent_fetch_sink)(void *ctx, const void *data, size_t n, struct fp_err *err);

/*
 * A mirror that trickles bytes (slow retrieval) would hold the agent for the
 * whole time cap: a transfer that moves fewer than AGENT_FETCH_LOW_SPEED bytes
 * per second for `seconds` in a row (1..AGENT_FETCH_STALL_MAX, default
 * AGENT_FETCH_STALL_TIMEOUT) is abandoned with FP_EIO. Applies to every later
 * agent_fetch() of the process.
 */
void agent_fetch_set_stall_timeout(long seconds);

/*
 * should_abort is called during transfers; non-zero ends the transfer as a
 * failure ("stopped"), which the journal resumes later. NULL: never.
 */
void agent_fetch_set_abort(int (*should_abort)(void));

/*
 * Pins the CA bundle that https servers must chain to (every later
 * transfer of the process); NULL or "" keeps the system's CAs.
 */
void agent_fetch_set_ca(const char *ca_file);

/* Sets up libcurl once per process; 0 or FP_EIO. */
int agent_fetch_init(struct fp_err *err) FP_WUR;
void agent_fetch_cleanup(void);

/*
 * GETs url and feeds the body of a 200 response to sink. Returns 0 on
 * success; FP_ENOTFOUND for 403 and 404 (the "not there" answers of TUF
 * mirrors); FP_ETOOBIG when the body exceeds max_bytes (checked on
 * Content-Length and on every chunk); FP_EIO for other statuses, transport
 * errors, timeouts and stalls; or the sink's code.
 */
int agent_fetch(const char *url, size_t max_bytes, long timeout_s, agent_fetch_sink sink, void *ctx,
                struct fp_err *err) FP_WUR;

/* The same into memory: *buf (caller frees) gets *len bytes and a NUL. */
int agent_fetch_mem(const char *url, size_t max_bytes, long timeout_s, char **buf, size_t *len,
                    struct fp_err *err) FP_WUR;

/* One request of the device API (agent_http()). */
struct agent_http_req {
	const char *method; /* "GET", "POST" or "PUT" */
	const char *url;
	const char *bearer;    /* device token, or NULL */
	const char *signature; /* X-FP-Signature value, or NULL */
	const void *body;      /* request body (JSON), or NULL */
	size_t body_len;
	long long range_from; /* > 0: ask for the bytes from this offset on (206) */
	size_t max_bytes;     /* cap of the response body */
	long timeout_s;
	long long max_rate;    /* bytes per second, 0 = no limit */
	agent_fetch_sink sink; /* receives the body */
	void *ctx;
};

/*
 * Performs one request and feeds the body of any status to the sink, with
 * the same caps, redirect rules, stall timeout and pinned CA as
 * agent_fetch(). *status receives the HTTP status (0 on a transport
 * error). Returns 0 when a response arrived whatever its status;
 * FP_ECONFLICT when a range was asked for and the server answered 200 with
 * the whole body (nothing is fed to the sink then); FP_ETOOBIG over the cap;
 * FP_EIO for transport errors, TLS errors, redirect loops and stalls; or the
 * sink's code.
 */
int agent_http(const struct agent_http_req *rq, long *status, struct fp_err *err) FP_WUR;

#endif
