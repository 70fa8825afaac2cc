/*
 * webhook.h — the pure rules of outgoing webhooks: which URLs, secrets and
 * event lists are acceptable, which events a webhook subscribes to, the
 * delivery body, the retry schedule and the HMAC-SHA256 signature that
 * receivers verify (docs/design/webhooks.md). The server (server/webhooks.c)
 * stores and delivers; nothing here does I/O.
 */
#ifndef FLEETPATCH_WEBHOOK_H
#define FLEETPATCH_WEBHOOK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "fleetpatch/err.h"

#define FP_WEBHOOK_URL_MAX       2048 /* bytes of a URL */
#define FP_WEBHOOK_SECRET_MIN    16   /* bytes of a secret */
#define FP_WEBHOOK_SECRET_MAX    256
#define FP_WEBHOOK_EVENT_MAX     64           /* bytes of one event name or pattern */
#define FP_WEBHOOK_EVENTS_MAX    32           /* entries of one webhook's list */
#define FP_WEBHOOK_BODY_MAX      (256u << 10) /* bytes of one delivery body */
#define FP_WEBHOOK_ATTEMPTS_MAX  10           /* then the delivery is given up */
#define FP_WEBHOOK_BACKOFF_MAX_S 3600         /* longest wait between attempts */
#define FP_WEBHOOK_SIG_LEN       (7 + 64)     /* "sha256=" and 64 hex digits */
/* The stored list, "a,b,c": every name plus its comma. */
#define FP_WEBHOOK_EVENTS_TEXT_MAX (FP_WEBHOOK_EVENTS_MAX * (FP_WEBHOOK_EVENT_MAX + 1))

/* A parsed event list: exact names, prefix patterns ("rollout.*") or "*". */
struct fp_webhook_events {
	int n;
	char name[FP_WEBHOOK_EVENTS_MAX][FP_WEBHOOK_EVENT_MAX + 1];
};

/*
 * Checks a delivery URL: http:// or https:// (lower case), a non-empty host,
 * at most FP_WEBHOOK_URL_MAX bytes, printable ASCII without spaces. 0 or
 * FP_EINVAL / FP_ETOOBIG with a sentence in err.
 */
int fp_webhook_url_check(const char *url, struct fp_err *err) FP_WUR;

/*
 * Checks a signing secret: FP_WEBHOOK_SECRET_MIN to FP_WEBHOOK_SECRET_MAX
 * bytes of printable ASCII without spaces. 0 or FP_EINVAL with a sentence.
 */
int fp_webhook_secret_check(const char *secret, struct fp_err *err) FP_WUR;

/*
 * Checks one event name. With pattern set, "*" and a trailing ".*" are
 * allowed (subscriptions); without it only a concrete name is (emitted
 * events). A name is 1 to FP_WEBHOOK_EVENT_MAX bytes of [a-z0-9_.] that
 * neither starts nor ends with '.' nor has "..". 0 or FP_EINVAL.
 */
int fp_webhook_event_check(const char *name, int pattern, struct fp_err *err) FP_WUR;

/*
 * Parses the stored form of a subscription list, names joined by commas
 * ("rollout.*,ping"), into out: 1 to FP_WEBHOOK_EVENTS_MAX entries, each a
 * valid pattern, none repeated. 0, FP_EINVAL or FP_ETOOBIG with a sentence
 * naming the bad entry.
 */
int fp_webhook_events_parse(const char *text, struct fp_webhook_events *out,
                            struct fp_err *err) FP_WUR;

/* Writes the stored form of ev into out (FP_WEBHOOK_EVENTS_TEXT_MAX bytes). */
void fp_webhook_events_format(const struct fp_webhook_events *ev,
                              char out[FP_WEBHOOK_EVENTS_TEXT_MAX]);

/* 1 when event is subscribed to by ev: an exact entry, "*", or "p.*" with event "p.<rest>". */
int fp_webhook_events_match(const struct fp_webhook_events *ev, const char *event);

/*
 * The delivery body, compact JSON with sorted keys:
 *   {"created_at": created_at, "data": data, "event": event, "id": id}
 * data is borrowed (NULL stands for {}). Returns a string the caller frees
 * with free(), or NULL when out of memory or longer than FP_WEBHOOK_BODY_MAX.
 */
char *fp_webhook_body(int64_t id, const char *event, const char *created_at, const json_t *data);

/*
 * Seconds to wait after the attempts-th failed attempt (1-based): base,
 * 2 * base, 4 * base, … capped at FP_WEBHOOK_BACKOFF_MAX_S. base < 1 counts as 1.
 */
long fp_webhook_backoff(int attempts, long base);

/*
 * HMAC-SHA256 under key of prefix followed by msg (either may be empty),
 * as 64 lowercase hex digits and a NUL.
 */
int fp_webhook_hmac_hex(const void *key, size_t keylen, const void *prefix, size_t prefixlen,
                        const void *msg, size_t msglen, char out[65]) FP_WUR;

/*
 * The X-Fleetpatch-Signature value: "sha256=" and the hex HMAC-SHA256 under
 * secret of "<timestamp>.<body>", timestamp in decimal unix seconds.
 * 0 or FP_ECRYPTO.
 */
int fp_webhook_signature(const char *secret, int64_t timestamp, const char *body, size_t bodylen,
                         char out[FP_WEBHOOK_SIG_LEN + 1]) FP_WUR;

#endif
