/*
 * http.c — the CLI's HTTP client on libcurl.
 *
 * One easy handle is kept for the whole invocation so that the polling of an
 * import or the pages of an export reuse one connection. Every response body
 * is read into memory up to CLI_RESPONSE_MAX and the transfer is aborted past
 * it; headers are scanned only for the one the CLI needs (X-FP-Next-After).
 */
#include <ctype.h>
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "output.h"

struct cli_http {
	CURL *curl;
};

/* ---- request URLs ---- */

void cli_url_init(struct cli_url *u, const char *path)
{
	u->len = 0;
	u->overflow = 0;
	u->s[0] = '\0';
	cli_url_add(u, path);
}

static void put(struct cli_url *u, const char *s, size_t n)
{
	if (u->overflow || u->len + n >= sizeof(u->s)) {
		/* An empty path is refused by cli_http_do, so nothing truncated is sent. */
		u->overflow = 1;
		u->s[0] = '\0';
		return;
	}
	memcpy(u->s + u->len, s, n);
	u->len += n;
	u->s[u->len] = '\0';
}

void cli_url_add(struct cli_url *u, const char *s)
{
	put(u, s, strlen(s));
}

void cli_url_seg(struct cli_url *u, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || strchr("-._~", *p)) {
			put(u, (const char *)p, 1);
		} else {
			char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			put(u, e, 3);
		}
	}
}

void cli_url_query(struct cli_url *u, const char *name, const char *value)
{
	if (!value)
		return;
	put(u, strchr(u->s, '?') ? "&" : "?", 1);
	cli_url_add(u, name);
	put(u, "=", 1);
	cli_url_seg(u, value);
}

void cli_url_query_long(struct cli_url *u, const char *name, long value)
{
	char v[24];
	snprintf(v, sizeof(v), "%ld", value);
	cli_url_query(u, name, v);
}

/* ---- transfers ---- */

struct sink {
	struct cli_response *rs;
	size_t cap;
	int too_big;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;
	struct cli_response *rs = s->rs;
	if (rs->len + n > CLI_RESPONSE_MAX) {
		s->too_big = 1;
		return 0; /* aborts the transfer */
	}
	if (rs->len + n + 1 > s->cap) {
		size_t ncap = s->cap ? s->cap : 16384;
		while (ncap < rs->len + n + 1)
			ncap *= 2;
		char *nb = realloc(rs->body, ncap);
		if (!nb)
			return 0;
		rs->body = nb;
		s->cap = ncap;
	}
	memcpy(rs->body + rs->len, data, n);
	rs->len += n;
	rs->body[rs->len] = '\0';
	return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;
	static const char name[] = "X-FP-Next-After:";
	if (n > sizeof(name) && strncasecmp(data, name, sizeof(name) - 1) == 0) {
		const char *v = data + sizeof(name) - 1;
		size_t vn = n - (sizeof(name) - 1);
		while (vn && (*v == ' ' || *v == '\t'))
			v++, vn--;
		while (vn && isspace((unsigned char)v[vn - 1]))
			vn--;
		if (vn < sizeof(s->rs->next_after)) {
			memcpy(s->rs->next_after, v, vn);
			s->rs->next_after[vn] = '\0';
		}
	}
	return n;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	(void)arg;
	(void)dltotal;
	(void)dlnow;
	if (ultotal > 0)
		cli_progress("uploading", (double)ulnow, (double)ultotal);
	return 0;
}

static int handle(struct cli *c, CURL **out, struct fp_err *err)
{
	if (!c->http) {
		c->http = calloc(1, sizeof(*c->http));
		if (!c->http || !(c->http->curl = curl_easy_init()))
			return fp_err_set(err, FP_ENOMEM, "cannot initialise libcurl");
	}
	curl_easy_reset(c->http->curl);
	*out = c->http->curl;
	return 0;
}

int cli_http_do(struct cli *c, const struct cli_request *rq, struct cli_response *rs,
                struct fp_err *err)
{
	memset(rs, 0, sizeof(*rs));
	struct sink sink = {.rs = rs};
	struct curl_slist *hdrs = NULL;
	CURL *h = NULL;
	char url[CLI_SERVER_MAX + CLI_URL_MAX], auth[CLI_TOKEN_MAX + 32];
	int rc = cli_resolve(c, err);
	if (rc)
		return rc;
	if (!rq->path[0] ||
	    (size_t)snprintf(url, sizeof(url), "%s%s", c->server, rq->path) >= sizeof(url))
		return fp_err_set(err, FP_ETOOBIG, "the request URL is too long");
	if ((rc = handle(c, &h, err)))
		return rc;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CLI_CONNECT_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, rq->timeout_s);
	if (rq->timeout_s == 0) {
		/* No total limit, but a stalled transfer still ends. */
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, CLI_TOTAL_TIMEOUT);
	}
	curl_easy_setopt(h, CURLOPT_USERAGENT, "fleetpatch/" FLEETPATCH_VERSION);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
	if (strcmp(rq->method, "GET") == 0)
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	if (c->cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &sink);
	if (rq->upload_bar && c->tty_err) {
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	}
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	/* libcurl would otherwise wait for "100 Continue" before a large upload. */
	hdrs = hdrs ? curl_slist_append(hdrs, "Expect:") : NULL;
	if (hdrs && c->token[0]) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->token);
		hdrs = curl_slist_append(hdrs, auth);
		explicit_bzero(auth, sizeof(auth));
	}
	if (hdrs && rq->ctype) {
		char ct[128];
		snprintf(ct, sizeof(ct), "Content-Type: %s", rq->ctype);
		hdrs = curl_slist_append(hdrs, ct);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
	}
	if (!hdrs) {
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	CURLcode cc = curl_easy_perform(h);
	if (rq->upload_bar && c->tty_err)
		cli_progress_end();
	if (sink.too_big) {
		rc =
		    fp_err_set(err, FP_ETOOBIG,
		               "the server's response is larger than %u MiB; aborted (page through "
		               "it with --page or --per-page)",
		               CLI_RESPONSE_MAX >> 20);
		goto out;
	}
	if (cc != CURLE_OK) {
		rc = fp_err_set(err, cc == CURLE_WRITE_ERROR ? FP_ENOMEM : FP_EIO,
		                "cannot reach %s: %s", c->server, curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &rs->status);
	if (!rs->body && !(rs->body = strdup("")))
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
out:
	curl_slist_free_all(hdrs);
	return rc;
}

void cli_response_free(struct cli_response *rs)
{
	free(rs->body);
	rs->body = NULL;
	rs->len = 0;
}

void cli_http_cleanup(struct cli *c)
{
	if (!c->http)
		return;
	curl_easy_cleanup(c->http->curl);
	free(c->http);
	c->http = NULL;
}

/* The server's message from {"error":{"code","message"}}, or NULL. */
static char *server_message(const struct cli_response *rs)
{
	json_t *j = json_loadb(rs->body, rs->len, 0, NULL);
	const char *m = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
	char *out = m ? strdup(m) : NULL;
	json_decref(j);
	return out;
}

int cli_http_outcome(struct cli *c, int rc, const struct fp_err *err, const struct cli_response *rs)
{
	if (rc) {
		cli_error("%s", err->msg);
		if (rc == FP_EINVAL)
			return CLI_EXIT_USAGE;
		return rc == FP_EIO || rc == FP_ETOOBIG ? CLI_EXIT_UNREACHABLE : CLI_EXIT_FAIL;
	}
	if (rs->status >= 200 && rs->status < 300)
		return CLI_EXIT_OK;
	char *msg = server_message(rs);
	if (msg)
		cli_error("%s", msg);
	else
		cli_error("the server answered HTTP %ld", rs->status);
	free(msg);
	if (rs->status == 401) {
		fprintf(stderr,
		        "fleetpatch: log in with 'fleetpatch login' or set FLEETPATCH_TOKEN "
		        "(server %s)\n",
		        c->server);
		return CLI_EXIT_AUTH;
	}
	if (rs->status == 403)
		return CLI_EXIT_AUTH;
	if (rs->status >= 400 && rs->status < 500)
		return CLI_EXIT_FAIL;
	return CLI_EXIT_UNREACHABLE;
}
