/*
 * webhook.c — validation, subscription matching, bodies, the retry schedule
 * and signatures of outgoing webhooks (include/fleetpatch/webhook.h).
 */
#include <inttypes.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleetpatch/webhook.h"

int fp_webhook_url_check(const char *url, struct fp_err *err)
{
	if (!url || !*url)
		return fp_err_set(err, FP_EINVAL, "url: expected an http:// or https:// URL");
	size_t len = strnlen(url, FP_WEBHOOK_URL_MAX + 1);
	if (len > FP_WEBHOOK_URL_MAX)
		return fp_err_set(err, FP_ETOOBIG, "url: at most %d bytes", FP_WEBHOOK_URL_MAX);
	for (const char *p = url; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return fp_err_set(
			    err, FP_EINVAL,
			    "url: only printable ASCII without spaces (percent-encode "
			    "the rest)");
	const char *host;
	if (strncmp(url, "http://", 7) == 0)
		host = url + 7;
	else if (strncmp(url, "https://", 8) == 0)
		host = url + 8;
	else
		return fp_err_set(err, FP_EINVAL,
		                  "url: only http:// and https:// URLs can receive webhooks");
	/* The authority ends at the path, query or fragment; the host after any user info. */
	size_t alen = strcspn(host, "/?#");
	const char *at = memchr(host, '@', alen);
	if (at) {
		alen -= (size_t)(at + 1 - host);
		host = at + 1;
	}
	if (alen == 0 || host[0] == ':')
		return fp_err_set(err, FP_EINVAL, "url: the host is missing");
	return 0;
}

int fp_webhook_secret_check(const char *secret, struct fp_err *err)
{
	if (!secret)
		return fp_err_set(err, FP_EINVAL, "secret: expected a string");
	size_t len = strnlen(secret, FP_WEBHOOK_SECRET_MAX + 1);
	if (len < FP_WEBHOOK_SECRET_MIN || len > FP_WEBHOOK_SECRET_MAX)
		return fp_err_set(err, FP_EINVAL,
		                  "secret: %d to %d bytes (leave it out and the server generates "
		                  "one)",
		                  FP_WEBHOOK_SECRET_MIN, FP_WEBHOOK_SECRET_MAX);
	for (const char *p = secret; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return fp_err_set(err, FP_EINVAL,
			                  "secret: only printable ASCII characters without spaces");
	return 0;
}

int fp_webhook_event_check(const char *name, int pattern, struct fp_err *err)
{
	if (!name || !*name)
		return fp_err_set(err, FP_EINVAL, "an event name is empty");
	size_t len = strnlen(name, FP_WEBHOOK_EVENT_MAX + 1);
	if (len > FP_WEBHOOK_EVENT_MAX)
		return fp_err_set(err, FP_EINVAL, "event '%.64s…': at most %d bytes", name,
		                  FP_WEBHOOK_EVENT_MAX);
	if (pattern && strcmp(name, "*") == 0)
		return 0;
	size_t body = len;
	if (pattern && len >= 2 && strcmp(name + len - 2, ".*") == 0)
		body = len - 2; /* "rollout.*": the prefix must itself be a name */
	for (size_t i = 0; i < body; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.'))
			return fp_err_set(
			    err, FP_EINVAL,
			    "event '%s': use a-z 0-9 _ and . (a subscription may also "
			    "be '*' or end in '.*')",
			    name);
	}
	if (body == 0 || name[0] == '.' || name[body - 1] == '.' ||
	    memmem(name, body, "..", 2) != NULL)
		return fp_err_set(err, FP_EINVAL,
		                  "event '%s': dots separate non-empty parts, as in "
		                  "'rollout.started'",
		                  name);
	return 0;
}

int fp_webhook_events_parse(const char *text, struct fp_webhook_events *out, struct fp_err *err)
{
	memset(out, 0, sizeof(*out));
	if (!text || !*text)
		return fp_err_set(err, FP_EINVAL, "events: list at least one event");
	const char *p = text;
	for (;;) {
		size_t len = strcspn(p, ",");
		if (out->n == FP_WEBHOOK_EVENTS_MAX)
			return fp_err_set(err, FP_ETOOBIG, "events: at most %d entries",
			                  FP_WEBHOOK_EVENTS_MAX);
		if (len == 0)
			return fp_err_set(err, FP_EINVAL, "events[%d]: an event name is empty",
			                  out->n);
		if (len > FP_WEBHOOK_EVENT_MAX)
			return fp_err_set(err, FP_EINVAL, "events[%d]: at most %d bytes", out->n,
			                  FP_WEBHOOK_EVENT_MAX);
		char *dst = out->name[out->n];
		memcpy(dst, p, len);
		dst[len] = '\0';
		int rc = fp_webhook_event_check(dst, 1, err);
		if (rc)
			return rc;
		for (int i = 0; i < out->n; i++)
			if (strcmp(out->name[i], dst) == 0)
				return fp_err_set(err, FP_EINVAL, "events: '%s' is listed twice",
				                  dst);
		out->n++;
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

void fp_webhook_events_format(const struct fp_webhook_events *ev,
                              char out[FP_WEBHOOK_EVENTS_TEXT_MAX])
{
	size_t off = 0;
	out[0] = '\0';
	for (int i = 0; i < ev->n; i++) {
		int w = snprintf(out + off, FP_WEBHOOK_EVENTS_TEXT_MAX - off, "%s%s", i ? "," : "",
		                 ev->name[i]);
		if (w < 0 || (size_t)w >= FP_WEBHOOK_EVENTS_TEXT_MAX - off)
			return; /* cannot happen for a parsed list: the buffer fits the caps */
		off += (size_t)w;
	}
}

int fp_webhook_events_match(const struct fp_webhook_events *ev, const char *event)
{
	size_t elen = strlen(event);
	for (int i = 0; i < ev->n; i++) {
		const char *e = ev->name[i];
		size_t len = strlen(e);
		if (strcmp(e, "*") == 0 || strcmp(e, event) == 0)
			return 1;
		/* "rollout.*" matches "rollout.x" but not "rollout" nor "rollouts.x". */
		if (len >= 2 && e[len - 1] == '*' && elen > len - 1 &&
		    memcmp(e, event, len - 1) == 0)
			return 1;
	}
	return 0;
}

char *fp_webhook_body(int64_t id, const char *event, const char *created_at, const json_t *data)
{
	json_t *d = data ? json_deep_copy(data) : json_object();
	json_t *o = json_pack("{s:I,s:s,s:s,s:o}", "id", (json_int_t)id, "event", event,
	                      "created_at", created_at, "data", d);
	if (!o)
		return NULL;
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	json_decref(o);
	if (s && strlen(s) > FP_WEBHOOK_BODY_MAX) {
		free(s);
		s = NULL;
	}
	return s;
}

long fp_webhook_backoff(int attempts, long base)
{
	if (base < 1)
		base = 1;
	if (attempts < 1)
		attempts = 1;
	long wait = base;
	for (int i = 1; i < attempts && wait < FP_WEBHOOK_BACKOFF_MAX_S; i++)
		wait *= 2;
	return wait < FP_WEBHOOK_BACKOFF_MAX_S ? wait : FP_WEBHOOK_BACKOFF_MAX_S;
}

int fp_webhook_hmac_hex(const void *key, size_t keylen, const void *prefix, size_t prefixlen,
                        const void *msg, size_t msglen, char out[65])
{
	int rc = FP_ECRYPTO;
	unsigned char mac[32];
	size_t maclen = 0;
	EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = m ? EVP_MAC_CTX_new(m) : NULL;
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
	    OSSL_PARAM_construct_end(),
	};
	static const unsigned char empty[1] = {0};
	/* OpenSSL refuses a NULL key even of length 0. */
	if (!ctx || !EVP_MAC_init(ctx, keylen ? key : empty, keylen, params))
		goto out;
	if ((prefixlen && !EVP_MAC_update(ctx, prefix, prefixlen)) ||
	    (msglen && !EVP_MAC_update(ctx, msg, msglen)))
		goto out;
	if (!EVP_MAC_final(ctx, mac, &maclen, sizeof(mac)) || maclen != sizeof(mac))
		goto out;
	for (size_t i = 0; i < sizeof(mac); i++)
		snprintf(out + 2 * i, 3, "%02x", mac[i]);
	rc = 0;
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(m);
	return rc;
}

int fp_webhook_signature(const char *secret, int64_t timestamp, const char *body, size_t bodylen,
                         char out[FP_WEBHOOK_SIG_LEN + 1])
{
	char prefix[32];
	int n = snprintf(prefix, sizeof(prefix), "%" PRId64 ".", timestamp);
	memcpy(out, "sha256=", 7);
	return fp_webhook_hmac_hex(secret, strlen(secret), prefix, (size_t)n, body, bodylen,
	                           out + 7);
}
