/*
 * feeds_fetch.c — fetching the configured NVD, KEV and EPSS URLs on a
 * schedule (feed_*_url, feed_interval_seconds), each download becoming the
 * same import job as an upload. The first round runs a few seconds after
 * start. A download has a size cap (the upload cap) and time limits; a
 * failure is logged and retried at the next round.
 */
#include <curl/curl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "vuln.h"

#define FETCH_CONNECT_TIMEOUT_S 30L
#define FETCH_TIMEOUT_S         1800L
#define FIRST_ROUND_DELAY_S     2

struct dl {
	char *buf;
	size_t len, cap;
	int too_big;
};

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
	struct dl *d = ctx;
	size_t add = size * n;
	if (d->len + add > FP_FEED_BODY_MAX) {
		d->too_big = 1;
		return 0; /* aborts the transfer */
	}
	if (d->len + add > d->cap) {
		size_t nc = (d->cap ? d->cap * 2 : 1 << 20) + add;
		char *nb = realloc(d->buf, nc);
		if (!nb)
			return 0;
		d->buf = nb;
		d->cap = nc;
	}
	memcpy(d->buf + d->len, p, add);
	d->len += add;
	return add;
}

/* A shutdown stops a download in progress instead of waiting for it. */
static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return atomic_load(&((struct fp_server *)ctx)->stopping) ? 1 : 0;
}

static void fetch_one(struct fp_server *s, const char *kind, const char *url)
{
	struct dl d = {0};
	char q[1100], why[CURL_ERROR_SIZE] = "", qwhy[CURL_ERROR_SIZE + 64];
	CURL *h = curl_easy_init();
	if (!h)
		return;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, FETCH_CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, FETCH_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, why);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "fleetpatchd/" FLEETPATCH_VERSION);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &d);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, s);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	CURLcode cc = curl_easy_perform(h);
	curl_easy_cleanup(h);
	if (cc != CURLE_OK || d.len == 0) {
		fp_log(FP_LOG_WARN, "feed fetch failed", "kind=%s url=%s error=%s", kind,
		       fp_log_quote(url, q, sizeof(q)),
		       d.too_big ? "\"larger than the feed cap\""
		                 : fp_log_quote(why[0] ? why : curl_easy_strerror(cc), qwhy,
		                                sizeof(qwhy)));
		free(d.buf);
		return;
	}
	struct fp_principal sys = {.kind = FP_AUTH_NONE};
	struct fp_err err = {0};
	int64_t id = 0;
	fp_db *db = fp_db_pool_get(s->pool);
	if (fp_feed_job_start(s, db, kind, &sys, d.buf, d.len, &id, &err))
		fp_log(FP_LOG_WARN, "feed job failed to start", "kind=%s error=\"%s\"", kind,
		       err.msg);
	else
		fp_log(FP_LOG_INFO, "feed fetched", "kind=%s bytes=%zu job_id=%" PRId64, kind,
		       d.len, id);
	fp_db_pool_put(s->pool, db);
}

static void *loop(void *arg)
{
	struct fp_server *s = arg;
	static const char *const kinds[3] = {"nvd", "kev", "epss"};
	int64_t next = fp_now_s() + FIRST_ROUND_DELAY_S;
	while (!atomic_load(&s->stopping)) {
		if (fp_now_s() >= next) {
			/* KEV and EPSS first: small, and they make scores right at once. */
			static const int order[3] = {1, 2, 0};
			for (int i = 0; i < 3 && !atomic_load(&s->stopping); i++)
				if (s->cfg.feed_url[order[i]][0])
					fetch_one(s, kinds[order[i]], s->cfg.feed_url[order[i]]);
			next = fp_now_s() + s->cfg.feed_interval_s;
		}
		sleep(1);
	}
	return NULL;
}

int fp_feeds_fetch_start(struct fp_server *s, struct fp_err *err)
{
	if (!s->cfg.feed_url[0][0] && !s->cfg.feed_url[1][0] && !s->cfg.feed_url[2][0])
		return 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return fp_err_set(err, FP_EIO, "cannot initialise libcurl");
	if (pthread_create(&s->feeds_thread, NULL, loop, s))
		return fp_err_set(err, FP_EIO, "cannot start the feed fetcher thread");
	s->feeds_running = 1;
	return 0;
}

void fp_feeds_fetch_stop(struct fp_server *s)
{
	if (s->feeds_running) {
		pthread_join(s->feeds_thread, NULL);
		s->feeds_running = 0;
		curl_global_cleanup();
	}
}
