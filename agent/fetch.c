/*
 * fetch.c — HTTP GET with byte and time caps through libcurl (see fetch.h).
 */
#include "fetch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

static long stall_timeout = AGENT_FETCH_STALL_TIMEOUT;
static char ca_path[4096];
static int (*abort_fn)(void);

void agent_fetch_set_abort(int (*should_abort)(void))
{
	abort_fn = should_abort;
}

/* libcurl's progress callback: non-zero ends the transfer (SIGTERM while downloading). */
static int on_progress(void *p, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)p, (void)dt, (void)dn, (void)ut, (void)un;
	return abort_fn && abort_fn();
}

void agent_fetch_set_ca(const char *ca_file)
{
	snprintf(ca_path, sizeof(ca_path), "%s", ca_file ? ca_file : "");
}

void agent_fetch_set_stall_timeout(long seconds)
{
	if (seconds >= 1 && seconds <= AGENT_FETCH_STALL_MAX)
		stall_timeout = seconds;
}

struct transfer {
	size_t max;
	size_t got;
	agent_fetch_sink sink;
	void *ctx;
	int sink_rc;
	int too_big;
	struct fp_err *err;
};

static size_t on_data(char *p, size_t size, size_t nmemb, void *userdata)
{
	struct transfer *t = userdata;
	size_t n = size * nmemb;
	if (n > t->max - t->got) {
		t->too_big = 1;
		return 0;
	}
	t->got += n;
	int rc = t->sink(t->ctx, p, n, t->err);
	if (rc) {
		t->sink_rc = rc;
		return 0;
	}
	return n;
}

int agent_fetch_init(struct fp_err *err)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return fp_err_set(err, FP_EIO, "libcurl could not be initialised");
	return 0;
}

void agent_fetch_cleanup(void)
{
	curl_global_cleanup();
}

int agent_fetch(const char *url, size_t max_bytes, long timeout_s, agent_fetch_sink sink, void *ctx,
                struct fp_err *err)
{
	struct transfer t = {.max = max_bytes, .sink = sink, .ctx = ctx, .err = err};
	char curl_err[CURL_ERROR_SIZE] = "";
	long status = 0;
	int rc = 0;
	if (strlen(url) > AGENT_URL_MAX)
		return fp_err_set(err, FP_EINVAL, "URL longer than %d bytes", AGENT_URL_MAX);
	CURL *h = curl_easy_init();
	if (!h)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)AGENT_FETCH_REDIRECTS_MAX);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)AGENT_FETCH_CONNECT_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, (long)AGENT_FETCH_LOW_SPEED);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, stall_timeout);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_bytes);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "fleetpatch-agent/" FLEETPATCH_VERSION);
	if (ca_path[0])
		curl_easy_setopt(h, CURLOPT_CAINFO, ca_path);
	CURLcode cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (t.sink_rc)
		rc = t.sink_rc;
	else if (t.too_big || cc == CURLE_FILESIZE_EXCEEDED)
		rc = fp_err_set(err, FP_ETOOBIG, "%s: response is larger than the cap of %zu bytes",
		                url, max_bytes);
	else if (cc == CURLE_HTTP_RETURNED_ERROR && (status == 404 || status == 403))
		rc = fp_err_set(err, FP_ENOTFOUND, "%s: HTTP %ld", url, status);
	else if (cc == CURLE_HTTP_RETURNED_ERROR)
		rc = fp_err_set(err, FP_EIO, "%s: HTTP %ld", url, status);
	else if (cc == CURLE_ABORTED_BY_CALLBACK)
		rc = fp_err_set(err, FP_EIO, "%s: stopped (SIGTERM)", url);
	else if (cc == CURLE_OPERATION_TIMEDOUT)
		rc = fp_err_set(
		    err, FP_EIO,
		    "%s: gave up on a slow transfer (%s; the limits are %ld s in all and "
		    "%d bytes/s over %ld s)",
		    url, curl_err[0] ? curl_err : curl_easy_strerror(cc), timeout_s,
		    AGENT_FETCH_LOW_SPEED, stall_timeout);
	else if (cc != CURLE_OK)
		rc = fp_err_set(err, FP_EIO, "%s: %s", url,
		                curl_err[0] ? curl_err : curl_easy_strerror(cc));
	else if (status != 200)
		rc = fp_err_set(err, FP_EIO, "%s: HTTP %ld instead of 200", url, status);
	curl_easy_cleanup(h);
	return rc;
}

struct membuf {
	char *p;
	size_t len;
	size_t cap;
};

static int mem_sink(void *ctx, const void *data, size_t n, struct fp_err *err)
{
	struct membuf *m = ctx;
	if (m->len + n + 1 > m->cap) {
		size_t ncap = m->cap ? m->cap : 4096;
		while (ncap < m->len + n + 1)
			ncap *= 2;
		char *np = realloc(m->p, ncap);
		if (!np)
			return fp_err_set(err, FP_ENOMEM, "out of memory");
		m->p = np;
		m->cap = ncap;
	}
	memcpy(m->p + m->len, data, n);
	m->len += n;
	m->p[m->len] = '\0';
	return 0;
}

int agent_fetch_mem(const char *url, size_t max_bytes, long timeout_s, char **buf, size_t *len,
                    struct fp_err *err)
{
	struct membuf m = {0};
	*buf = NULL;
	*len = 0;
	int rc = agent_fetch(url, max_bytes, timeout_s, mem_sink, &m, err);
	if (rc == 0 && !m.p) {
		m.p = calloc(1, 1);
		if (!m.p)
			rc = fp_err_set(err, FP_ENOMEM, "out of memory");
	}
	if (rc) {
		free(m.p);
		return rc;
	}
	*buf = m.p;
	*len = m.len;
	return 0;
}

struct http_transfer {
	struct transfer t;
	CURL *h;
	int ranged;
	int range_ignored;
	int checked;
	int failed; /* a status other than 2xx: the body is kept as a message only */
	char msg[301];
	size_t msg_len;
};

static size_t on_http_data(char *p, size_t size, size_t nmemb, void *userdata)
{
	struct http_transfer *x = userdata;
	size_t n = size * nmemb;
	if (!x->checked) {
		long st = 0;
		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &st);
		x->checked = 1;
		x->failed = st < 200 || st > 299;
		if (x->ranged && st == 200) {
			x->range_ignored = 1;
			return 0;
		}
	}
	if (x->failed) {
		size_t k =
		    n < sizeof(x->msg) - 1 - x->msg_len ? n : sizeof(x->msg) - 1 - x->msg_len;
		memcpy(x->msg + x->msg_len, p, k);
		x->msg_len += k;
		x->msg[x->msg_len] = '\0';
		return n;
	}
	return on_data(p, size, nmemb, &x->t);
}

int agent_http(const struct agent_http_req *rq, long *status, struct fp_err *err)
{
	struct http_transfer x = {
	    .t = {.max = rq->max_bytes, .sink = rq->sink, .ctx = rq->ctx, .err = err},
	    .ranged = rq->range_from > 0};
	char curl_err[CURL_ERROR_SIZE] = "", auth[1024], sig[1024], range[64];
	struct curl_slist *hdr = NULL;
	int rc = 0;
	*status = 0;
	if (strlen(rq->url) > AGENT_URL_MAX)
		return fp_err_set(err, FP_EINVAL, "URL longer than %d bytes", AGENT_URL_MAX);
	CURL *h = curl_easy_init();
	if (!h)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	x.h = h;
	if (rq->bearer) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", rq->bearer);
		hdr = curl_slist_append(hdr, auth);
	}
	if (rq->signature) {
		snprintf(sig, sizeof(sig), "X-FP-Signature: %s", rq->signature);
		hdr = curl_slist_append(hdr, sig);
	}
	if (rq->body)
		hdr = curl_slist_append(hdr, "Content-Type: application/json");
	if (rq->range_from > 0) {
		snprintf(range, sizeof(range), "Range: bytes=%lld-", rq->range_from);
		hdr = curl_slist_append(hdr, range);
	}
	curl_easy_setopt(h, CURLOPT_URL, rq->url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
	if (rq->body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)AGENT_FETCH_REDIRECTS_MAX);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)AGENT_FETCH_CONNECT_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, rq->timeout_s);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, (long)AGENT_FETCH_LOW_SPEED);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, stall_timeout);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	/*
	 * Large reads mean fewer, larger writes into the slot; a rate limit
	 * keeps the default, smaller reads, which libcurl paces more evenly.
	 */
	if (rq->max_rate > 0)
		curl_easy_setopt(h, CURLOPT_MAX_RECV_SPEED_LARGE, (curl_off_t)rq->max_rate);
	else
		curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 256L * 1024);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_http_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "fleetpatch-agent/" FLEETPATCH_VERSION);
	if (ca_path[0])
		curl_easy_setopt(h, CURLOPT_CAINFO, ca_path);
	CURLcode cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	if (x.range_ignored)
		rc = fp_err_set(err, FP_ECONFLICT, "%s: the server ignored the Range request",
		                rq->url);
	else if (x.t.sink_rc)
		rc = x.t.sink_rc;
	else if (x.t.too_big)
		rc = fp_err_set(err, FP_ETOOBIG, "%s: response is larger than the cap of %zu bytes",
		                rq->url, rq->max_bytes);
	else if (cc == CURLE_ABORTED_BY_CALLBACK)
		rc = fp_err_set(err, FP_EIO, "%s: stopped (SIGTERM)", rq->url);
	else if (cc == CURLE_TOO_MANY_REDIRECTS)
		rc = fp_err_set(err, FP_EIO, "%s: more than %d redirects (a redirect loop?)",
		                rq->url, AGENT_FETCH_REDIRECTS_MAX);
	else if (cc == CURLE_OPERATION_TIMEDOUT)
		rc = fp_err_set(err, FP_EIO,
		                "%s: gave up on a slow transfer (%s; the limits are %ld s in all "
		                "and %d bytes/s over %ld s)",
		                rq->url, curl_err[0] ? curl_err : curl_easy_strerror(cc),
		                rq->timeout_s, AGENT_FETCH_LOW_SPEED, stall_timeout);
	else if (cc != CURLE_OK)
		rc = fp_err_set(err, FP_EIO, "%s: %s", rq->url,
		                curl_err[0] ? curl_err : curl_easy_strerror(cc));
	else if (*status < 200 || *status > 299)
		fp_err_set(err, FP_EIO, "%s: HTTP %ld %s", rq->url, *status, x.msg);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdr);
	return rc;
}
