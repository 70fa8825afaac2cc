/*
 * enroll.c — the device's key pair and its authentication to the server
 * (POST /api/v1/device/auth with the body signed by the device key, and a
 * timestamp that increases with every request, docs/design/server.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "fetch.h"
#include "fileio.h"
#include "fleetpatch/secret.h"
#include "fleetpatch/sig.h"
#include "fleetpatch/device_reply.h"
#include "fleetpatch/tuf.h"
#include "inventory.h"
#include "log.h"

int agent_url(const struct agent *a, const char *path, char *out, size_t cap)
{
	size_t n = strlen(a->c.server);
	while (n && a->c.server[n - 1] == '/')
		n--;
	int k = snprintf(out, cap, "%.*s%s", (int)n, a->c.server, path);
	return k < 0 || (size_t)k >= cap ? FP_ETOOBIG : 0;
}

int agent_enroll_keys(struct agent *a, struct fp_err *err)
{
	char kpath[AGENT_PATH_MAX + 32], ppath[AGENT_PATH_MAX + 32];
	size_t len = 0;
	snprintf(kpath, sizeof(kpath), "%s/device.key", a->c.state_dir);
	snprintf(ppath, sizeof(ppath), "%s/device.pub", a->c.state_dir);
	int rc = agent_read_file(kpath, AGENT_KEY_FILE_MAX, &a->priv_pem, &len, err);
	if (rc == 0)
		rc = agent_read_file(ppath, AGENT_KEY_FILE_MAX, &a->pub_pem, &len, err);
	if (rc != FP_ENOTFOUND)
		return rc;
	fp_err_clear(err);
	free(a->priv_pem);
	a->priv_pem = NULL;
	rc = fp_keypair_generate(&a->priv_pem, &a->pub_pem, err);
	/* The private key is written 0600 before the public one marks the pair complete. */
	if (rc == 0)
		rc = agent_write_atomic(kpath, a->priv_pem, strlen(a->priv_pem), 0600, err);
	if (rc == 0)
		rc = agent_write_atomic(ppath, a->pub_pem, strlen(a->pub_pem), 0644, err);
	if (rc == 0)
		agent_log(AGENT_LOG_INFO, "made the device key pair", "path=%s", kpath);
	return rc;
}

struct mem {
	char buf[AGENT_API_MAX + 1];
	size_t len;
};

static int mem_sink(void *ctx, const void *data, size_t n, struct fp_err *err)
{
	struct mem *m = ctx;
	(void)err;
	memcpy(m->buf + m->len, data, n); /* agent_http() enforces max_bytes */
	m->len += n;
	m->buf[m->len] = '\0';
	return 0;
}

int agent_enroll(struct agent *a, struct fp_err *err)
{
	char url[AGENT_PATH_MAX], *body = NULL, *sig = NULL;
	struct mem *m = calloc(1, sizeof(*m));
	json_t *inv = NULL, *req = NULL;
	long status = 0;
	int rc = 0;
	if (!m)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	/*
	 * The server refuses a timestamp that is not newer than the last one it
	 * accepted, also across restarts: the last one is kept in the state
	 * directory.
	 */
	char tspath[AGENT_PATH_MAX + 32], tsbuf[32], *stored = NULL;
	size_t slen = 0;
	snprintf(tspath, sizeof(tspath), "%s/auth_timestamp", a->c.state_dir);
	if (agent_read_file(tspath, 31, &stored, &slen, NULL) == 0) {
		long long v = strtoll(stored, NULL, 10);
		if (v > a->last_auth_ts)
			a->last_auth_ts = v;
	}
	free(stored);
	int64_t ts = (int64_t)time(NULL);
	if (ts <= a->last_auth_ts)
		ts = a->last_auth_ts + 1;
	a->last_auth_ts = ts;
	snprintf(tsbuf, sizeof(tsbuf), "%lld\n", (long long)ts);
	rc = agent_write_atomic(tspath, tsbuf, strlen(tsbuf), 0600, err);
	if (rc)
		goto out;
	rc = agent_inventory_build(&a->c, &a->w, a->booted, &inv, err);
	if (rc)
		goto out;
	json_object_del(inv, "components");
	json_object_del(inv, "attributes");
	req = json_pack("{s:s,s:s,s:I,s:O}", "identity", a->c.identity, "public_key", a->pub_pem,
	                "timestamp", (json_int_t)ts, "inventory", inv);
	body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	if (!body) {
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	rc = fp_sig_sign(a->priv_pem, body, strlen(body), &sig, err);
	if (rc == 0)
		rc = agent_url(a, "/api/v1/device/auth", url, sizeof(url)) ? FP_ETOOBIG : 0;
	if (rc)
		goto out;
	struct agent_http_req rq = {.method = "POST",
	                            .url = url,
	                            .signature = sig,
	                            .body = body,
	                            .body_len = strlen(body),
	                            .max_bytes = AGENT_API_MAX,
	                            .timeout_s = AGENT_API_TIMEOUT,
	                            .sink = mem_sink,
	                            .ctx = m};
	rc = agent_http(&rq, &status, err);
	if (rc)
		goto out;
	if (status == 202) {
		/* Waiting devices ask again at the server's interval, as accepted ones poll. */
		struct fp_auth_reply ar;
		if (fp_auth_reply_parse(m->buf, m->len, 1, &ar, NULL) == 0 && ar.poll_s)
			a->poll_s = (long)ar.poll_s;
		rc =
		    fp_err_set(err, FP_ELIMIT, "waiting for an operator to accept this device (%s)",
		               a->c.identity);
		goto out;
	}
	if (status == 403) {
		rc = fp_err_set(err, FP_EPERM, "the server refused this device: %s", err->msg);
		goto out;
	}
	if (status != 200) {
		rc = FP_EIO;
		goto out;
	}
	struct fp_auth_reply ar;
	if ((rc = fp_auth_reply_parse(m->buf, m->len, 0, &ar, err)))
		goto out;
	snprintf(a->token, sizeof(a->token), "%s", ar.token);
	if (ar.poll_s)
		a->poll_s = (long)ar.poll_s;
	/* Tokens are short-lived: renew one a minute before it expires (or in 30 s). */
	int64_t now = (int64_t)time(NULL);
	a->token_expires = now + 30;
	if (ar.expires_at && ar.expires_at - 60 > a->token_expires)
		a->token_expires = ar.expires_at - 60;
	fp_wipe(ar.token, sizeof(ar.token));
	agent_log(AGENT_LOG_INFO, "authenticated", "identity=%s device_id=%lld", a->c.identity,
	          (long long)ar.device_id);
out:
	json_decref(inv);
	json_decref(req);
	free(body);
	free(sig);
	free(m);
	return rc;
}
