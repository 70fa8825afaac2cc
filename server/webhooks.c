/*
 * webhooks.c — outgoing webhooks: the outbox (webhook_deliveries rows that
 * fp_webhook_emit adds inside the caller's transaction), the delivery thread
 * that POSTs them with an HMAC-SHA256 signature and retries with backoff, and
 * the /api/v1/webhooks handlers. Deliveries are rows, so they survive a crash
 * or kill -9 and are sent at least once; docs/design/webhooks.md has the
 * details and the receiver's side.
 *
 * The thread state is file-local: fleetpatchd runs one server per process.
 */
#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "fleetpatch/secret.h"
#include "fleetpatch/webhook.h"
#include "log.h"
#include "webhooks.h"

#define WEBHOOKS_MAX      100          /* registered webhooks */
#define BATCH             16           /* deliveries picked per round */
#define CONNECT_TIMEOUT_S 5L           /* per attempt */
#define TOTAL_TIMEOUT_S   10L          /* per attempt, connect included */
#define RESPONSE_MAX      (64u << 10)  /* response bytes read (and discarded) */
#define GAVE_UP_NEXT_AT   253402300799 /* 9999-12-31T23:59:59Z: never due again */
#define STATUS_GAVE_UP    (-1)
#define ERROR_TEXT_MAX    256
#define GENERATED_PREFIX  "whsec"

/* ---- the outbox ---- */

/* Adds one delivery of event to webhook_id; *id_out receives its id. */
static int queue_delivery(fp_db *db, int64_t webhook_id, const char *event, const json_t *data,
                          int64_t *id_out, struct fp_err *err)
{
	int64_t now = fp_now_s(), id = 0;
	char created[32];
	fp_time_rfc3339(now, created);
	/* The body names its own row, so the id comes first and the body after. */
	int rc = fp_db_run(db, err, &id,
	                   "INSERT INTO webhook_deliveries (webhook_id, event, body, created_at, "
	                   "attempts, next_at) VALUES (?, ?, '', ?, 0, ?) RETURNING id",
	                   "issi", webhook_id, event, created, now);
	if (rc)
		return rc;
	char *body = fp_webhook_body(id, event, created, data);
	if (!body)
		return fp_err_set(
		    err, FP_ETOOBIG,
		    "the data of event '%s' does not fit in a webhook body of %u bytes", event,
		    FP_WEBHOOK_BODY_MAX);
	rc = fp_db_run(db, err, NULL, "UPDATE webhook_deliveries SET body = ? WHERE id = ?", "si",
	               body, id);
	free(body);
	if (rc == 0 && id_out)
		*id_out = id;
	return rc;
}

int fp_webhook_emit(fp_db *db, const char *event, json_t *data, struct fp_err *err)
{
	int rc = fp_webhook_event_check(event, 0, err);
	if (rc)
		return rc;
	int64_t ids[WEBHOOKS_MAX];
	int n = 0;
	fp_stmt *st = NULL;
	rc = fp_db_prepare(db, "SELECT id, events FROM webhooks ORDER BY id", &st, err);
	if (rc)
		return rc;
	while (n < WEBHOOKS_MAX && (rc = fp_stmt_step(st, err)) == FP_DB_ROW) {
		struct fp_webhook_events ev;
		if (fp_webhook_events_parse(fp_stmt_col_text(st, 1), &ev, NULL) == 0 &&
		    fp_webhook_events_match(&ev, event))
			ids[n++] = fp_stmt_col_int(st, 0);
	}
	fp_stmt_finalize(st);
	if (rc < 0)
		return rc;
	rc = 0;
	for (int i = 0; i < n && rc == 0; i++)
		rc = queue_delivery(db, ids[i], event, data, NULL, err);
	return rc;
}

/* ---- the delivery thread ---- */

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	int running, kicked;
	atomic_int stop; /* also read by curl's progress callback, without the lock */
	struct fp_server *s;
} W = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

void fp_webhook_kick(void)
{
	pthread_mutex_lock(&W.mu);
	W.kicked = 1;
	pthread_cond_signal(&W.cv);
	pthread_mutex_unlock(&W.mu);
}

struct delivery {
	int64_t id, webhook_id, attempts;
	char *event, *body, *url, *secret;
};

static void delivery_free(struct delivery *d)
{
	if (d->secret)
		fp_wipe(d->secret, strlen(d->secret));
	free(d->event);
	free(d->body);
	free(d->url);
	free(d->secret);
	memset(d, 0, sizeof(*d));
}

struct sink {
	size_t n;
};

/* Reads up to RESPONSE_MAX bytes of the response and drops them. */
static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	struct sink *k = ctx;
	k->n += size * n;
	return k->n > RESPONSE_MAX ? 0 : size * n;
}

static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)ctx;
	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return atomic_load(&W.s->stopping) || atomic_load(&W.stop) ? 1 : 0;
}

/* POSTs one delivery; returns the HTTP status (0 when none came) and an error text. */
static long post(const struct delivery *d, char why[ERROR_TEXT_MAX])
{
	why[0] = '\0';
	int64_t ts = fp_now_s();
	char sig[FP_WEBHOOK_SIG_LEN + 1];
	if (fp_webhook_signature(d->secret, ts, d->body, strlen(d->body), sig)) {
		snprintf(why, ERROR_TEXT_MAX, "cannot compute the signature");
		return 0;
	}
	char h_event[128], h_id[64], h_ts[64], h_sig[128], cerr[CURL_ERROR_SIZE] = "";
	snprintf(h_event, sizeof(h_event), "X-Fleetpatch-Event: %s", d->event);
	snprintf(h_id, sizeof(h_id), "X-Fleetpatch-Delivery: %" PRId64, d->id);
	snprintf(h_ts, sizeof(h_ts), "X-Fleetpatch-Timestamp: %" PRId64, ts);
	snprintf(h_sig, sizeof(h_sig), "X-Fleetpatch-Signature: %s", sig);
	struct curl_slist *hs = NULL, *t;
	const char *const lines[] = {
	    "Content-Type: application/json", h_event, h_id, h_ts, h_sig, "Expect:"};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		if (!(t = curl_slist_append(hs, lines[i]))) {
			curl_slist_free_all(hs);
			snprintf(why, ERROR_TEXT_MAX, "out of memory");
			return 0;
		}
		hs = t;
	}
	long status = 0;
	struct sink k = {0};
	CURL *h = curl_easy_init();
	if (!h) {
		curl_slist_free_all(hs);
		snprintf(why, ERROR_TEXT_MAX, "cannot initialise libcurl");
		return 0;
	}
	curl_easy_setopt(h, CURLOPT_URL, d->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, TOTAL_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "fleetpatchd/" FLEETPATCH_VERSION);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, d->body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(d->body));
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &k);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	CURLcode cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	curl_slist_free_all(hs);
	/* A response longer than the cap was cut short on purpose; its status stands. */
	if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR && k.n > RESPONSE_MAX && status)) {
		snprintf(why, ERROR_TEXT_MAX, "%s", cerr[0] ? cerr : curl_easy_strerror(cc));
		return status;
	}
	if (status < 200 || status > 299)
		snprintf(why, ERROR_TEXT_MAX, "the receiver answered HTTP %ld", status);
	return status;
}

/* Records the outcome of one attempt. */
static void record(struct fp_server *s, const struct delivery *d, long status, const char *why)
{
	struct fp_err err = {0};
	int64_t now = fp_now_s(), attempts = d->attempts + 1;
	int rc;
	fp_db *db = fp_db_pool_get(s->pool);
	if (status >= 200 && status <= 299) {
		char at[32];
		fp_time_rfc3339(now, at);
		rc = fp_db_run(db, &err, NULL,
		               "UPDATE webhook_deliveries SET attempts = ?, delivered_at = ?, "
		               "status = ?, last_error = NULL WHERE id = ?",
		               "isii", attempts, at, (int64_t)status, d->id);
		fp_log(FP_LOG_INFO, "webhook delivered",
		       "webhook=%" PRId64 " delivery=%" PRId64
		       " event=%s status=%ld attempts=%" PRId64,
		       d->webhook_id, d->id, d->event, status, attempts);
	} else if (attempts >= FP_WEBHOOK_ATTEMPTS_MAX) {
		char msg[ERROR_TEXT_MAX + 64];
		snprintf(msg, sizeof(msg), "gave up after %d attempts; the last: %s",
		         FP_WEBHOOK_ATTEMPTS_MAX, why);
		rc = fp_db_run(
		    db, &err, NULL,
		    "UPDATE webhook_deliveries SET attempts = ?, status = ?, last_error = ?, "
		    "next_at = ? WHERE id = ?",
		    "iisii", attempts, (int64_t)STATUS_GAVE_UP, msg, (int64_t)GAVE_UP_NEXT_AT,
		    d->id);
		fp_log(FP_LOG_WARN, "webhook delivery given up",
		       "webhook=%" PRId64 " delivery=%" PRId64 " event=%s attempts=%" PRId64,
		       d->webhook_id, d->id, d->event, attempts);
	} else {
		long wait = fp_webhook_backoff((int)attempts, s->cfg.webhook_retry_base_s);
		rc = fp_db_run(
		    db, &err, NULL,
		    "UPDATE webhook_deliveries SET attempts = ?, status = ?, last_error = ?, "
		    "next_at = ? WHERE id = ?",
		    "iisii", attempts, (int64_t)status, why, now + wait, d->id);
		fp_log(FP_LOG_INFO, "webhook delivery failed; will retry",
		       "webhook=%" PRId64 " delivery=%" PRId64 " status=%ld attempts=%" PRId64
		       " retry_in_s=%ld",
		       d->webhook_id, d->id, status, attempts, wait);
	}
	fp_db_pool_put(s->pool, db);
	if (rc)
		fp_log(FP_LOG_ERROR, "cannot record a webhook delivery",
		       "delivery=%" PRId64 " error=%s", d->id, fp_err_name(rc));
}

/* Sends the due deliveries, oldest first; returns how many were picked. */
static int deliver_due(struct fp_server *s)
{
	struct delivery ds[BATCH];
	int n = 0;
	memset(ds, 0, sizeof(ds));
	fp_db *db = fp_db_pool_get(s->pool);
	fp_stmt *st = NULL;
	if (fp_db_prepare(db,
	                  "SELECT d.id, d.webhook_id, d.event, d.body, d.attempts, w.url, w.secret "
	                  "FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id "
	                  "WHERE d.delivered_at IS NULL AND d.next_at <= ? "
	                  "AND (d.status IS NULL OR d.status <> -1) "
	                  "ORDER BY d.next_at, d.id LIMIT ?",
	                  &st, NULL) == 0) {
		fp_stmt_int(st, 1, fp_now_s());
		fp_stmt_int(st, 2, BATCH);
		while (n < BATCH && fp_stmt_step(st, NULL) == FP_DB_ROW) {
			struct delivery *d = &ds[n];
			d->id = fp_stmt_col_int(st, 0);
			d->webhook_id = fp_stmt_col_int(st, 1);
			d->event = strdup(fp_stmt_col_text(st, 2));
			d->body = strdup(fp_stmt_col_text(st, 3));
			d->attempts = fp_stmt_col_int(st, 4);
			d->url = strdup(fp_stmt_col_text(st, 5));
			d->secret = strdup(fp_stmt_col_text(st, 6));
			if (!d->event || !d->body || !d->url || !d->secret) {
				delivery_free(d);
				break;
			}
			n++;
		}
		fp_stmt_finalize(st);
	}
	/* No connection is held during network I/O. */
	fp_db_pool_put(s->pool, db);
	for (int i = 0; i < n; i++) {
		if (!atomic_load(&s->stopping) && !atomic_load(&W.stop)) {
			char why[ERROR_TEXT_MAX];
			long status = post(&ds[i], why);
			/* An attempt cut short by shutdown is not counted; it is sent again later.
			 */
			if (!atomic_load(&s->stopping) && !atomic_load(&W.stop))
				record(s, &ds[i], status, why);
		}
		delivery_free(&ds[i]);
	}
	return n;
}

/*
 * Deletes the deliveries that are finished (delivered, or given up) and
 * older than webhook_retention_days; pending ones stay whatever their age.
 */
static void prune(struct fp_server *s)
{
	char cutoff[32];
	struct fp_err err = {0};
	int64_t n = 0;
	fp_time_rfc3339(fp_now_s() - s->cfg.webhook_retention_days * 86400, cutoff);
	fp_db *db = fp_db_pool_get(s->pool);
	int rc = fp_db_run(db, &err, NULL,
	                   "DELETE FROM webhook_deliveries WHERE created_at < ? AND "
	                   "(delivered_at IS NOT NULL OR status = -1)",
	                   "s", cutoff);
	if (rc == 0)
		n = fp_db_changes(db);
	fp_db_pool_put(s->pool, db);
	if (rc)
		fp_log(FP_LOG_ERROR, "cannot prune webhook deliveries", "error=\"%s\"", err.msg);
	else if (n)
		fp_log(FP_LOG_INFO, "pruned webhook deliveries",
		       "deleted=%" PRId64 " older_than=%s", n, cutoff);
}

static void *loop(void *arg)
{
	struct fp_server *s = arg;
	int64_t pruned_at = 0;
	for (;;) {
		if (fp_now_s() - pruned_at >= FP_WEBHOOK_PRUNE_S) {
			prune(s);
			pruned_at = fp_now_s();
		}
		pthread_mutex_lock(&W.mu);
		int stop = atomic_load(&W.stop);
		W.kicked = 0;
		pthread_mutex_unlock(&W.mu);
		if (stop || atomic_load(&s->stopping))
			break;
		if (deliver_due(s) == BATCH)
			continue; /* more may be due at once */
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += FP_WEBHOOK_POLL_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_mutex_lock(&W.mu);
		while (!W.kicked && !atomic_load(&W.stop) &&
		       pthread_cond_timedwait(&W.cv, &W.mu, &until) == 0)
			;
		pthread_mutex_unlock(&W.mu);
	}
	return NULL;
}

int fp_webhooks_start(struct fp_server *s, struct fp_err *err)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return fp_err_set(err, FP_EIO, "cannot initialise libcurl");
	W.s = s;
	atomic_store(&W.stop, 0);
	if (pthread_create(&W.thread, NULL, loop, s)) {
		curl_global_cleanup();
		return fp_err_set(err, FP_EIO, "cannot start the webhook delivery thread");
	}
	W.running = 1;
	return 0;
}

void fp_webhooks_stop(struct fp_server *s)
{
	(void)s;
	if (!W.running)
		return;
	pthread_mutex_lock(&W.mu);
	atomic_store(&W.stop, 1);
	pthread_cond_signal(&W.cv);
	pthread_mutex_unlock(&W.mu);
	pthread_join(W.thread, NULL);
	W.running = 0;
	curl_global_cleanup();
}

/* ---- the API ---- */

/* The URL without user info, query or fragment, for the audit log (they may hold credentials). */
static void url_for_audit(const char *url, char out[FP_WEBHOOK_URL_MAX + 1])
{
	const char *rest = strstr(url, "://");
	rest = rest ? rest + 3 : url;
	size_t scheme = (size_t)(rest - url);
	size_t alen = strcspn(rest, "/?#");
	const char *at = memchr(rest, '@', alen);
	const char *host = at ? at + 1 : rest;
	size_t keep = strcspn(host, "?#");
	snprintf(out, FP_WEBHOOK_URL_MAX + 1, "%.*s%.*s", (int)scheme, url, (int)keep, host);
}

static json_t *events_json(const char *text)
{
	json_t *a = json_array();
	struct fp_webhook_events ev;
	if (fp_webhook_events_parse(text, &ev, NULL) == 0)
		for (int i = 0; i < ev.n; i++)
			json_array_append_new(a, json_string(ev.name[i]));
	return a;
}

/* The public view of a webhook: never its secret. */
static json_t *webhook_row_json(struct fp_req *r, fp_stmt *st)
{
	(void)r;
	return json_pack("{s:I,s:s,s:o,s:s,s:s}", "id", (json_int_t)fp_stmt_col_int(st, 0), "url",
	                 fp_stmt_col_text(st, 1), "events", events_json(fp_stmt_col_text(st, 2)),
	                 "created_by", fp_stmt_col_text(st, 3), "created_at",
	                 fp_stmt_col_text(st, 4));
}

/* Loads the webhook of path parameter 0; NULL after replying 404 or an error. */
static json_t *load_webhook(struct fp_req *r, int64_t *id)
{
	if (fp_req_id(r, 0, id))
		return NULL;
	struct fp_err err = {0};
	fp_stmt *st = NULL;
	if (fp_db_prepare(r->db,
	                  "SELECT id, url, events, created_by, created_at FROM webhooks WHERE "
	                  "id = ?",
	                  &st, &err)) {
		fp_reply_err(r, &err);
		return NULL;
	}
	fp_stmt_int(st, 1, *id);
	int rc = fp_stmt_step(st, &err);
	json_t *o = rc == FP_DB_ROW ? webhook_row_json(r, st) : NULL;
	fp_stmt_finalize(st);
	if (rc == FP_DB_DONE)
		fp_reply_error(r, 404, "not_found", "no webhook with id %" PRId64, *id);
	else if (rc < 0)
		fp_reply_err(r, &err);
	return o;
}

void fp_api_webhooks_list(struct fp_req *r)
{
	fp_api_list_page(r, "SELECT COUNT(*) FROM webhooks",
	                 "SELECT id, url, events, created_by, created_at FROM webhooks ORDER BY id "
	                 "LIMIT ? OFFSET ?",
	                 -1, webhook_row_json);
}

void fp_api_webhook_create(struct fp_req *r)
{
	static const char *const fields[] = {"url", "secret", "events", NULL};
	if (fp_req_only_fields(r, r->json, fields))
		return;
	struct fp_err err = {0};
	json_t *jurl = json_object_get(r->json, "url");
	json_t *jsecret = json_object_get(r->json, "secret");
	json_t *jevents = json_object_get(r->json, "events");
	const char *url = json_string_value(jurl);
	if (fp_webhook_url_check(url, &err)) {
		fp_reply_error(r, 400, "invalid", "%s", err.msg);
		return;
	}
	char secret[FP_WEBHOOK_SECRET_MAX + 1];
	int generated = 0;
	if (jsecret && !json_is_null(jsecret)) {
		if (fp_webhook_secret_check(json_string_value(jsecret), &err)) {
			fp_reply_error(r, 400, "invalid", "%s", err.msg);
			return;
		}
		snprintf(secret, sizeof(secret), "%s", json_string_value(jsecret));
	} else {
		char tok[FP_TOKEN_MAX];
		if (fp_token_new(GENERATED_PREFIX, tok, &err)) {
			fp_reply_err(r, &err);
			return;
		}
		snprintf(secret, sizeof(secret), "%s", tok);
		fp_wipe(tok, sizeof(tok));
		generated = 1;
	}
	/* The list is checked in its stored form, so the API and the store agree. */
	char text[FP_WEBHOOK_EVENTS_TEXT_MAX] = "";
	struct fp_webhook_events ev;
	size_t i, off = 0;
	json_t *v;
	if (!json_is_array(jevents) || json_array_size(jevents) == 0 ||
	    json_array_size(jevents) > FP_WEBHOOK_EVENTS_MAX) {
		fp_reply_error(r, 400, "invalid",
		               "events: an array of 1 to %d event names, such as \"rollout.*\" or "
		               "\"*\"",
		               FP_WEBHOOK_EVENTS_MAX);
		goto out;
	}
	json_array_foreach(jevents, i, v)
	{
		const char *e = json_string_value(v);
		if (!e || fp_webhook_event_check(e, 1, &err)) {
			fp_reply_error(r, 400, "invalid", "events[%zu]: %s", i,
			               e ? err.msg : "expected a string");
			goto out;
		}
		off += (size_t)snprintf(text + off, sizeof(text) - off, "%s%s", i ? "," : "", e);
	}
	if (fp_webhook_events_parse(text, &ev, &err)) {
		fp_reply_error(r, 400, "invalid", "%s", err.msg);
		goto out;
	}
	char now[32], actor[160];
	fp_time_rfc3339(fp_now_s(), now);
	fp_actor_name(&r->who, actor);
	if (fp_db_begin(r->db, &err)) {
		fp_reply_err(r, &err);
		goto out;
	}
	int64_t count = 0, id = 0;
	int rc = fp_db_run(r->db, &err, &count, "SELECT COUNT(*) FROM webhooks", NULL);
	if (rc == 0 && count >= WEBHOOKS_MAX)
		rc = fp_err_set(&err, FP_ECONFLICT,
		                "there are already %d webhooks; delete one first", WEBHOOKS_MAX);
	if (rc == 0)
		rc = fp_db_run(r->db, &err, &id,
		               "INSERT INTO webhooks (url, secret, events, created_by, created_at) "
		               "VALUES (?, ?, ?, ?, ?) RETURNING id",
		               "sssss", url, secret, text, actor, now);
	char audit_url[FP_WEBHOOK_URL_MAX + 1], obj[64];
	url_for_audit(url, audit_url);
	snprintf(obj, sizeof(obj), "webhook:%" PRId64, id);
	json_t *after = json_pack("{s:I,s:s,s:o}", "id", (json_int_t)id, "url", audit_url, "events",
	                          events_json(text));
	if (fp_api_finish(r, rc, &err, "webhook.create", obj, NULL, after) == 0) {
		json_t *o =
		    json_pack("{s:I,s:s,s:o,s:s,s:s}", "id", (json_int_t)id, "url", url, "events",
		              events_json(text), "created_by", actor, "created_at", now);
		/* A generated secret is shown this once; it cannot be read back. */
		if (generated)
			json_object_set_new(o, "secret", json_string(secret));
		fp_reply(r, 201, o);
	}
	json_decref(after);
out:
	fp_wipe(secret, sizeof(secret));
}

void fp_api_webhook_get(struct fp_req *r)
{
	int64_t id;
	json_t *o = load_webhook(r, &id);
	if (!o)
		return;
	int64_t pending = 0, delivered = 0, failed = 0;
	if (fp_db_run(r->db, NULL, &pending,
	              "SELECT COUNT(*) FROM webhook_deliveries WHERE webhook_id = ? AND "
	              "delivered_at IS NULL AND (status IS NULL OR status <> -1)",
	              "i", id) ||
	    fp_db_run(r->db, NULL, &delivered,
	              "SELECT COUNT(*) FROM webhook_deliveries WHERE webhook_id = ? AND "
	              "delivered_at IS NOT NULL",
	              "i", id) ||
	    fp_db_run(
	        r->db, NULL, &failed,
	        "SELECT COUNT(*) FROM webhook_deliveries WHERE webhook_id = ? AND status = -1", "i",
	        id)) {
		json_decref(o);
		fp_reply_error(r, 500, "io", "cannot count the deliveries of webhook %" PRId64, id);
		return;
	}
	json_object_set_new(o, "deliveries",
	                    json_pack("{s:I,s:I,s:I}", "pending", (json_int_t)pending, "delivered",
	                              (json_int_t)delivered, "failed", (json_int_t)failed));
	fp_reply(r, 200, o);
}

void fp_api_webhook_delete(struct fp_req *r)
{
	struct fp_err err = {0};
	int64_t id;
	if (fp_db_begin(r->db, &err)) {
		fp_reply_err(r, &err);
		return;
	}
	json_t *before = load_webhook(r, &id);
	if (!before) {
		fp_db_rollback(r->db);
		return;
	}
	char audit_url[FP_WEBHOOK_URL_MAX + 1], obj[64];
	url_for_audit(json_string_value(json_object_get(before, "url")), audit_url);
	json_object_set_new(before, "url", json_string(audit_url));
	/* Its deliveries, pending or not, go with it (ON DELETE CASCADE). */
	int rc = fp_db_run(r->db, &err, NULL, "DELETE FROM webhooks WHERE id = ?", "i", id);
	snprintf(obj, sizeof(obj), "webhook:%" PRId64, id);
	if (fp_api_finish(r, rc, &err, "webhook.delete", obj, before, NULL) == 0)
		fp_reply(r, 200, json_pack("{s:I}", "deleted", (json_int_t)id));
	json_decref(before);
}

static json_t *delivery_row_json(struct fp_req *r, fp_stmt *st)
{
	(void)r;
	int64_t status = fp_stmt_col_int(st, 6);
	int has_status = !fp_stmt_col_null(st, 6);
	const char *delivered = fp_stmt_col_text(st, 5);
	const char *state = delivered                                ? "delivered"
	                    : has_status && status == STATUS_GAVE_UP ? "failed"
	                                                             : "pending";
	json_t *o =
	    json_pack("{s:I,s:s,s:s,s:s,s:I,s:s?,s:s?}", "id", (json_int_t)fp_stmt_col_int(st, 0),
	              "event", fp_stmt_col_text(st, 1), "state", state, "created_at",
	              fp_stmt_col_text(st, 2), "attempts", (json_int_t)fp_stmt_col_int(st, 3),
	              "delivered_at", delivered, "last_error", fp_stmt_col_text(st, 7));
	/* The last HTTP status (0: no response); absent before the first attempt and once given up.
	 */
	if (has_status && status >= 0)
		json_object_set_new(o, "status", json_integer(status));
	if (!delivered && status != STATUS_GAVE_UP) {
		char next[32];
		fp_time_rfc3339(fp_stmt_col_int(st, 4), next);
		json_object_set_new(o, "next_attempt_at", json_string(next));
	}
	return o;
}

void fp_api_webhook_deliveries(struct fp_req *r)
{
	int64_t id;
	json_t *o = load_webhook(r, &id);
	if (!o)
		return;
	json_decref(o);
	fp_api_list_page(r, "SELECT COUNT(*) FROM webhook_deliveries WHERE webhook_id = ?",
	                 "SELECT id, event, created_at, attempts, next_at, delivered_at, status, "
	                 "last_error FROM webhook_deliveries WHERE webhook_id = ? ORDER BY id DESC "
	                 "LIMIT ? OFFSET ?",
	                 id, delivery_row_json);
}

void fp_api_webhook_test(struct fp_req *r)
{
	struct fp_err err = {0};
	int64_t id, delivery = 0;
	if (fp_db_begin(r->db, &err)) {
		fp_reply_err(r, &err);
		return;
	}
	json_t *o = load_webhook(r, &id);
	if (!o) {
		fp_db_rollback(r->db);
		return;
	}
	json_decref(o);
	char actor[160], obj[64];
	fp_actor_name(&r->who, actor);
	json_t *data = json_pack("{s:I,s:s}", "webhook_id", (json_int_t)id, "requested_by", actor);
	int rc = queue_delivery(r->db, id, "ping", data, &delivery, &err);
	json_decref(data);
	snprintf(obj, sizeof(obj), "webhook:%" PRId64, id);
	json_t *after =
	    json_pack("{s:I,s:s}", "delivery_id", (json_int_t)delivery, "event", "ping");
	if (fp_api_finish(r, rc, &err, "webhook.test", obj, NULL, after) == 0) {
		fp_webhook_kick();
		fp_reply(
		    r, 202,
		    json_pack("{s:I,s:s}", "delivery_id", (json_int_t)delivery, "event", "ping"));
	}
	json_decref(after);
}
