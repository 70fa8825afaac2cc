/*
 * webhooks.h — outgoing webhooks: the durable outbox that server code fills
 * inside its own transactions, the thread that delivers it, and the
 * /api/v1/webhooks handlers. The rules (validation, matching, signature) are
 * in lib/webhook.c; the design is docs/design/webhooks.md.
 */
#ifndef FP_SERVER_WEBHOOKS_H
#define FP_SERVER_WEBHOOKS_H

#include <jansson.h>

#include "server.h"

/*
 * Queues event for every webhook subscribed to it: one webhook_deliveries
 * row each, whose body is
 *   {"created_at": RFC 3339, "data": data, "event": event, "id": delivery id}.
 * Call it INSIDE the caller's open transaction, so the deliveries commit or
 * roll back with the change they report; it does no network I/O. event is a
 * concrete name such as "rollout.started" (fp_webhook_event_check). data is
 * borrowed, not stolen: the caller still owns its reference (NULL stands for
 * {}). Returns 0, FP_EINVAL for a bad event name, FP_ETOOBIG for a body over
 * FP_WEBHOOK_BODY_MAX, or a database error; the caller then rolls back.
 * Deliveries go out within about FP_WEBHOOK_POLL_MS of the commit; call
 * fp_webhook_kick() after committing to send them at once.
 */
int fp_webhook_emit(fp_db *db, const char *event, json_t *data, struct fp_err *err) FP_WUR;

/* Wakes the delivery thread (after a commit that queued deliveries). Safe from any thread. */
void fp_webhook_kick(void);

#define FP_WEBHOOK_POLL_MS 200  /* the delivery thread looks for due rows this often */
#define FP_WEBHOOK_PRUNE_S 3600 /* ... and deletes old finished deliveries this often */

/* Starts and stops the delivery thread (main.c); stop is safe when start never ran. */
int fp_webhooks_start(struct fp_server *s, struct fp_err *err) FP_WUR;
void fp_webhooks_stop(struct fp_server *s);

/* Handlers (routes.c). */
void fp_api_webhooks_list(struct fp_req *r);
void fp_api_webhook_create(struct fp_req *r);
void fp_api_webhook_get(struct fp_req *r);
void fp_api_webhook_delete(struct fp_req *r);
void fp_api_webhook_deliveries(struct fp_req *r);
void fp_api_webhook_test(struct fp_req *r);

#endif
