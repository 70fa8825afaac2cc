/*
 * fp_enroll.c — enrols many devices into a running fleetpatchd for the
 * benchmarks, and writes one device token per line.
 *
 * For each device i it does what a real agent does, with its own ed25519 key:
 *   1. POST /api/v1/devices (operator token) pre-authorises the identity
 *      serial:<prefix>-%05d with the device's public key;
 *   2. POST /api/v1/device/auth with the raw body signed by the device's
 *      private key (header X-FP-Signature) returns the device token.
 * One curl easy handle is reused, so every request rides the same
 * keep-alive connection.
 *
 * usage: fp_enroll BASE_URL OPERATOR_TOKEN COUNT OUT_FILE [PREFIX]
 */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fleetpatch/secret.h"
#include "fleetpatch/sig.h"

#define ENROLL_MAX      1000000 /* devices in one run */
#define RESP_MAX        (64 * 1024)
#define URL_MAX         512
#define AUTH_HEADER_MAX 512

struct buf {
	char data[RESP_MAX + 1];
	size_t len;
	int overflow;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct buf *b = ud;
	size_t len = size * n;
	if (b->len + len > RESP_MAX) {
		b->overflow = 1;
		return 0;
	}
	memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return len;
}

/* POSTs body to url with the given extra header; returns the HTTP status or -1. */
static long post(CURL *c, const char *url, const char *header, const char *body, struct buf *resp)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	if (header)
		h = curl_slist_append(h, header);
	resp->len = 0;
	resp->overflow = 0;
	resp->data[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	CURLcode cc = curl_easy_perform(c);
	long status = -1;
	if (cc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	else
		fprintf(stderr, "fp_enroll: %s: %s\n", url, curl_easy_strerror(cc));
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(h);
	return status;
}

/* Enrols device i and writes its token to out. Returns 0 or -1 with a message. */
static int enroll_one(CURL *c, const char *base, const char *op_auth, const char *prefix, long i,
                      FILE *out, struct buf *resp)
{
	int rc = -1;
	char *priv = NULL, *pub = NULL, *sig = NULL, *create = NULL, *auth = NULL;
	json_t *j = NULL;
	struct fp_err err = {0};
	char identity[128], url[URL_MAX], sighdr[AUTH_HEADER_MAX];

	snprintf(identity, sizeof(identity), "serial:%s-%05ld", prefix, i);
	if (fp_keypair_generate(&priv, &pub, &err)) {
		fprintf(stderr, "fp_enroll: key generation: %s\n", err.msg);
		goto out;
	}
	j = json_pack("{s:s,s:s,s:s}", "identity", identity, "model", "bench", "public_key", pub);
	create = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	j = NULL;
	snprintf(url, sizeof(url), "%s/api/v1/devices", base);
	long st = create ? post(c, url, op_auth, create, resp) : -1;
	if (st != 201) {
		fprintf(stderr, "fp_enroll: %s: POST /api/v1/devices: HTTP %ld %s\n", identity, st,
		        resp->data);
		goto out;
	}

	j = json_pack("{s:s,s:s,s:I}", "identity", identity, "public_key", pub, "timestamp",
	              (json_int_t)time(NULL));
	auth = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	j = NULL;
	if (!auth || fp_sig_sign(priv, auth, strlen(auth), &sig, &err)) {
		fprintf(stderr, "fp_enroll: %s: signing: %s\n", identity, err.msg);
		goto out;
	}
	snprintf(sighdr, sizeof(sighdr), "X-FP-Signature: %s", sig);
	snprintf(url, sizeof(url), "%s/api/v1/device/auth", base);
	st = post(c, url, sighdr, auth, resp);
	if (st != 200) {
		fprintf(stderr, "fp_enroll: %s: POST /api/v1/device/auth: HTTP %ld %s\n", identity,
		        st, resp->data);
		goto out;
	}
	j = json_loadb(resp->data, resp->len, 0, NULL);
	const char *token = json_string_value(json_object_get(j, "token"));
	if (!token) {
		fprintf(stderr, "fp_enroll: %s: no token in %s\n", identity, resp->data);
		goto out;
	}
	if (fprintf(out, "%s\n", token) < 0) {
		perror("fp_enroll: write");
		goto out;
	}
	rc = 0;
out:
	json_decref(j);
	if (priv) {
		fp_wipe(priv, strlen(priv));
		free(priv);
	}
	free(pub);
	free(sig);
	free(create);
	free(auth);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 5 || argc > 6) {
		fprintf(stderr,
		        "usage: fp_enroll BASE_URL OPERATOR_TOKEN COUNT OUT_FILE [PREFIX]\n");
		return 2;
	}
	const char *base = argv[1], *prefix = argc == 6 ? argv[5] : "bench";
	char *end;
	long count = strtol(argv[3], &end, 10);
	if (*end || count < 1 || count > ENROLL_MAX) {
		fprintf(stderr, "fp_enroll: COUNT must be 1-%d\n", ENROLL_MAX);
		return 2;
	}
	char op_auth[AUTH_HEADER_MAX];
	if (strlen(argv[2]) > 400) {
		fprintf(stderr, "fp_enroll: the operator token is too long\n");
		return 2;
	}
	snprintf(op_auth, sizeof(op_auth), "Authorization: Bearer %s", argv[2]);
	FILE *out = fopen(argv[4], "w");
	if (!out) {
		perror(argv[4]);
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	CURL *c = curl_easy_init();
	static struct buf resp;
	int rc = c ? 0 : 1;
	if (c) {
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
		curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	}
	for (long i = 0; rc == 0 && i < count; i++)
		if (enroll_one(c, base, op_auth, prefix, i, out, &resp))
			rc = 1;
	if (fclose(out) != 0) {
		perror(argv[4]);
		rc = 1;
	}
	curl_easy_cleanup(c);
	curl_global_cleanup();
	return rc;
}
