/*
 * http.h — the CLI's HTTP client: one libcurl handle per invocation, request
 * URLs built with percent-encoding, responses read into a capped buffer, and
 * the mapping of outcomes onto the CLI's exit codes.
 */
#ifndef FP_CLI_HTTP_H
#define FP_CLI_HTTP_H

#include <stddef.h>

#include "cli.h"

#define CLI_RESPONSE_MAX    (64u << 20) /* bytes of one response body */
#define CLI_CONNECT_TIMEOUT 10L         /* seconds to connect */
#define CLI_TOTAL_TIMEOUT   120L        /* seconds for one ordinary request */
#define CLI_URL_MAX         16384       /* bytes of a request path with its query */

/* A request path under construction: "/api/v1/groups/" + segment + query. */
struct cli_url {
	char s[CLI_URL_MAX];
	size_t len;
	int overflow; /* set when something did not fit; s is then "", which is refused */
};

void cli_url_init(struct cli_url *u, const char *path);
/* Appends s as is. */
void cli_url_add(struct cli_url *u, const char *s);
/* Appends s percent-encoded (one path segment). */
void cli_url_seg(struct cli_url *u, const char *s);
/* Appends ?name=value or &name=value with value percent-encoded; nothing when value is NULL. */
void cli_url_query(struct cli_url *u, const char *name, const char *value);
/* Like cli_url_query with an integer value. */
void cli_url_query_long(struct cli_url *u, const char *name, long value);

struct cli_request {
	const char *method;
	const char *path;  /* "/api/v1/…" with its query */
	const char *ctype; /* Content-Type of body; NULL sends no body */
	const char *body;  /* borrowed */
	size_t body_len;
	long timeout_s; /* 0: no total timeout (long uploads and exports) */
	int upload_bar; /* draw an upload progress bar on a terminal */
};

struct cli_response {
	long status;
	char *body; /* owned, NUL-terminated */
	size_t len;
	char next_after[32]; /* X-FP-Next-After, "" when absent */
};

/*
 * Performs rq. Returns 0 when the server answered (any status; see rs), or
 * FP_EIO (cannot connect, TLS, timeout), FP_ETOOBIG (response over
 * CLI_RESPONSE_MAX, or a URL that did not fit), FP_ENOMEM; err says which.
 * Free rs with cli_response_free in every case.
 */
int cli_http_do(struct cli *c, const struct cli_request *rq, struct cli_response *rs,
                struct fp_err *err) FP_WUR;
void cli_response_free(struct cli_response *rs);

/* Releases the handle of c (at exit). */
void cli_http_cleanup(struct cli *c);

/*
 * Turns a transport failure (rc != 0) or a non-2xx answer into an exit code
 * and prints the error: the server's {"error":{"message"}} when it sent one.
 * Returns CLI_EXIT_OK for a 2xx answer.
 */
int cli_http_outcome(struct cli *c, int rc, const struct fp_err *err,
                     const struct cli_response *rs);

#endif
