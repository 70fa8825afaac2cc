/*
 * update.c — decides whether the director's assignment is installed: the
 * document must verify with the pinned director key (lib/director.c), and
 * the target it names must be in the TUF targets metadata that the TUF
 * client workflow verified from the device's trusted root (tuf_client.c)
 * with the same length and hashes, list this device's model in
 * custom.hardware, and carry a security counter not lower than the running
 * one unless the targets metadata marks it as a revert (custom.revert).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "agent.h"
#include "daemon.h"
#include "fetch.h"
#include "fileio.h"
#include "fleetpatch/director.h"
#include "fleetpatch/tuf.h"
#include "install_module.h"
#include "log.h"

#define REPO_KEYS_MAX 65536

struct buf {
	char *p;
	size_t len, cap;
};

static int buf_sink(void *ctx, const void *data, size_t n, struct fp_err *err)
{
	struct buf *b = ctx;
	if (b->len + n > b->cap)
		return fp_err_set(err, FP_ETOOBIG, "answer over %zu bytes", b->cap);
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static int api_get(struct agent *a, const char *path, const char *bearer, size_t cap, struct buf *b,
                   long *status, struct fp_err *err)
{
	char url[AGENT_PATH_MAX];
	b->p = malloc(cap + 1);
	b->len = 0;
	b->cap = cap;
	if (!b->p)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	b->p[0] = '\0';
	if (agent_url(a, path, url, sizeof(url)) != 0)
		return fp_err_set(err, FP_ETOOBIG, "server URL is too long");
	struct agent_http_req rq = {.method = "GET",
	                            .url = url,
	                            .bearer = bearer,
	                            .max_bytes = cap,
	                            .timeout_s = AGENT_API_TIMEOUT,
	                            .sink = buf_sink,
	                            .ctx = b};
	return agent_http(&rq, status, err);
}

int agent_report_delta_failed(struct agent *a, const char *target, const char *reason,
                              struct fp_err *err)
{
	char url[AGENT_PATH_MAX];
	struct buf b = {.p = malloc(4097), .cap = 4096};
	long status = 0;
	json_t *o = json_pack("{s:s,s:s}", "target", target, "reason", reason);
	char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	int rc = 0;
	json_decref(o);
	if (!b.p || !body)
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
	else if (agent_url(a, "/api/v1/device/assignment/delta-failed", url, sizeof(url)) != 0)
		rc = fp_err_set(err, FP_ETOOBIG, "server URL is too long");
	if (rc == 0) {
		struct agent_http_req rq = {.method = "POST",
		                            .url = url,
		                            .bearer = a->token,
		                            .body = body,
		                            .body_len = strlen(body),
		                            .max_bytes = b.cap,
		                            .timeout_s = AGENT_API_TIMEOUT,
		                            .sink = buf_sink,
		                            .ctx = &b};
		b.p[0] = '\0';
		rc = agent_http(&rq, &status, err);
		if (rc == 0 && status == 401)
			a->token[0] = '\0';
		if (rc == 0 && status != 200)
			rc = fp_err_set(err, FP_EIO, "the server answered %ld to the delta report",
			                status);
	}
	if (rc == 0)
		agent_log(AGENT_LOG_WARN, "delta failed; reported, waiting for the full assignment",
		          "target=%s reason=\"%s\"", target, reason);
	else
		rc = FP_EIO;
	free(body);
	free(b.p);
	return rc;
}

/* The pinned director key: from the configuration, else pinned on first use. */
static int director_key(struct agent *a, json_t **key, struct fp_err *err)
{
	char pinned[AGENT_PATH_MAX + 32], keyid[FP_TUF_KEYID_LEN + 1];
	char *pem = NULL;
	size_t len = 0;
	struct buf b = {0};
	long status = 0;
	json_t *keys = NULL;
	int rc;
	snprintf(pinned, sizeof(pinned), "%s/director.pub", a->c.state_dir);
	const char *path = a->c.director_key[0] ? a->c.director_key : pinned;
	rc = agent_read_file(path, AGENT_KEY_FILE_MAX, &pem, &len, err);
	if (rc == FP_ENOTFOUND && !a->c.director_key[0]) {
		fp_err_clear(err);
		rc = api_get(a, "/api/v1/repo/keys", NULL, REPO_KEYS_MAX, &b, &status, err);
		if (rc == 0 && status != 200)
			rc = FP_EIO;
		if (rc == 0) {
			keys = json_loadb(b.p, b.len, JSON_REJECT_DUPLICATES, NULL);
			const char *p = json_string_value(
			    json_object_get(json_object_get(keys, "director"), "public_key_pem"));
			if (!p)
				rc = fp_err_set(err, FP_EINVAL, "repo/keys: no director key");
			else
				pem = strdup(p);
			if (rc == 0 && !pem)
				rc = fp_err_set(err, FP_ENOMEM, "out of memory");
			if (rc == 0)
				rc = agent_write_atomic(pinned, pem, strlen(pem), 0644, err);
			if (rc == 0)
				agent_log(
				    AGENT_LOG_WARN,
				    "pinned the director key on first use (set director_key to "
				    "provision it instead)",
				    "path=%s", pinned);
		}
	}
	if (rc == 0)
		rc = fp_tuf_key_from_pem(pem, key, keyid, err);
	json_decref(keys);
	free(b.p);
	free(pem);
	return rc;
}

static void to_hex(const uint8_t *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* The Uptane rule: director and offline-signed targets agree, for this device. */
static int check_target(struct agent *a, const struct fp_director_assignment *as,
                        const struct fp_tuf_target *tg, struct fp_err *err)
{
	const json_t *dh = json_object_get(as->target, "hashes");
	char hex[2 * FP_TUF_SHA512_LEN + 1];
	if (tg->length != as->target_length)
		return fp_err_set(err, FP_EAUTH,
		                  "director and TUF targets disagree on the length of %.200s (%lld "
		                  "and %lld)",
		                  as->target_name, (long long)as->target_length,
		                  (long long)tg->length);
	if (!tg->hashes.has_sha256)
		return fp_err_set(err, FP_EUNSUPP, "target %.200s has no sha256", as->target_name);
	to_hex(tg->hashes.sha256, FP_TUF_SHA256_LEN, hex);
	const char *d256 = json_string_value(json_object_get(dh, "sha256"));
	if (!d256 || strcmp(d256, hex) != 0)
		return fp_err_set(err, FP_EAUTH,
		                  "director and TUF targets disagree on the sha256 of %.200s",
		                  as->target_name);
	if (tg->hashes.has_sha512) {
		const char *d512 = json_string_value(json_object_get(dh, "sha512"));
		to_hex(tg->hashes.sha512, FP_TUF_SHA512_LEN, hex);
		if (d512 && strcmp(d512, hex) != 0)
			return fp_err_set(
			    err, FP_EAUTH,
			    "director and TUF targets disagree on the sha512 of %.200s",
			    as->target_name);
	}
	const json_t *hw = json_object_get(tg->custom, "hardware");
	size_t i;
	const json_t *v;
	int ok = 0;
	json_array_foreach(hw, i, v) ok |=
	    json_is_string(v) && strcmp(json_string_value(v), a->c.model) == 0;
	if (!ok)
		return fp_err_set(err, FP_EPERM,
		                  "target %.200s is not for hardware '%.100s' (not in its signed "
		                  "custom.hardware)",
		                  as->target_name, a->c.model);
	const json_t *jc = json_object_get(tg->custom, "security_counter");
	int64_t counter = json_is_integer(jc) ? (int64_t)json_integer_value(jc) : 0;
	int revert = json_is_true(json_object_get(tg->custom, "revert"));
	if (counter < a->w.running_counter && !revert)
		return fp_err_set(err, FP_EPERM,
		                  "target %.200s has security counter %lld, lower than the running "
		                  "%lld (a downgrade; only a signed revert may do that)",
		                  as->target_name, (long long)counter,
		                  (long long)a->w.running_counter);
	return 0;
}

/*
 * The delta the director offers: an A/B image, its own target in the
 * trusted TUF targets with the length and hashes the director names, whose
 * signed custom.delta rebuilds the assigned target from the image the
 * running slot holds (when the journal knows it; else the applier checks
 * the slot's sha256 before it writes anything).
 */
static int check_delta(struct agent *a, const struct fp_director_assignment *as,
                       const struct fp_tuf_trusted *t, const char *backend, char *dsha,
                       int64_t *dlen, struct fp_err *err)
{
	struct fp_tuf_target dt;
	if (backend[0])
		return fp_err_set(err, FP_EUNSUPP,
		                  "a delta is for A/B images, not the install module '%.64s'",
		                  backend);
	int rc = fp_tuf_target_get(t, as->delta_name, &dt, err);
	if (rc == FP_ENOTFOUND)
		return fp_err_set(err, FP_EAUTH,
		                  "delta %.200s is not in the trusted TUF targets metadata",
		                  as->delta_name);
	if (rc)
		return rc;
	to_hex(dt.hashes.sha256, FP_TUF_SHA256_LEN, dsha);
	const char *dsig = json_string_value(
	    json_object_get(json_object_get(as->delta_target, "hashes"), "sha256"));
	const json_t *cd = json_object_get(dt.custom, "delta");
	const char *ct = json_string_value(json_object_get(cd, "target")),
	           *cb = json_string_value(json_object_get(cd, "base_sha256"));
	if (dt.length != as->delta_length || !dsig || strcmp(dsig, dsha) != 0 || !ct ||
	    strcmp(ct, as->target_name) != 0 || !cb || strcmp(cb, as->delta_base_sha256) != 0)
		return fp_err_set(err, FP_EAUTH,
		                  "delta %.200s: the director and the signed TUF targets disagree "
		                  "on its length, hash, target or base",
		                  as->delta_name);
	const char *running = a->w.slot_sha256[a->booted];
	if (running[0] && strcmp(running, cb) != 0)
		return fp_err_set(err, FP_ECONFLICT,
		                  "wrong base: the delta applies to %.16s…, the running slot holds "
		                  "%.16s…; a full download is needed",
		                  cb, running);
	*dlen = dt.length;
	return 0;
}

int agent_update_check(struct agent *a, int *install, struct fp_err *err)
{
	struct buf b = {0};
	long status = 0;
	json_t *key = NULL, *doc = NULL;
	struct fp_tuf_trusted *t = NULL;
	struct fp_director_assignment as = {0};
	struct fp_tuf_target tg;
	char mdir[AGENT_PATH_MAX + 16], murl[AGENT_PATH_MAX];
	*install = 0;
	int rc = director_key(a, &key, err);
	if (rc == 0)
		rc = api_get(a, "/api/v1/device/assignment", a->token, FP_DIRECTOR_DOC_MAX + 1, &b,
		             &status, err);
	if (rc == FP_ETOOBIG)
		rc = fp_err_set(err, FP_ETOOBIG, "the assignment is larger than %d bytes",
		                FP_DIRECTOR_DOC_MAX);
	if (rc)
		goto out;
	if (status == 404) {
		fp_err_clear(err);
		goto out;
	}
	if (status != 200) {
		rc = FP_EIO;
		goto out;
	}
	rc = fp_director_verify(b.p, b.len, key, a->c.identity, a->w.assignment_version,
	                        (int64_t)time(NULL), &doc, &as, err);
	if (rc == FP_ECONFLICT)
		fp_err_set(err, rc,
		           "refused a replayed assignment (older than version %lld, the newest "
		           "this device accepted)",
		           (long long)a->w.assignment_version);
	if (rc)
		goto out;
	if (as.version == a->w.assignment_version && a->w.assignment_version > 0)
		goto out; /* handled before (installed, refused or failed) */
	if (!as.target) {
		a->w.assignment_version = as.version;
		goto out;
	}
	snprintf(mdir, sizeof(mdir), "%s/tuf", a->c.state_dir);
	if (agent_url(a, "/api/v1/repo/metadata", murl, sizeof(murl)) != 0) {
		rc = fp_err_set(err, FP_ETOOBIG, "server URL is too long");
		goto out;
	}
	rc = agent_tuf_refresh(mdir, murl, &t, err);
	if (rc) {
		char why[FP_ERR_MSG_MAX];
		snprintf(why, sizeof(why), "%s", err->msg);
		fp_err_set(err, rc, "TUF metadata did not verify: %s", why);
		goto out;
	}
	rc = fp_tuf_target_get(t, as.target_name, &tg, err);
	if (rc == FP_ENOTFOUND)
		rc = fp_err_set(err, FP_EAUTH,
		                "target %.200s is not in the trusted TUF targets metadata",
		                as.target_name);
	if (rc == 0)
		rc = check_target(a, &as, &tg, err);
	/* A verified assignment that is refused is not fetched again until it changes. */
	if (rc) {
		a->w.assignment_version = as.version;
		snprintf(a->w.reason, sizeof(a->w.reason), "%s", err->msg);
		goto out;
	}
	/* The signed custom.backend: A/B images, or an install module on this device. */
	const char *backend = json_string_value(json_object_get(tg.custom, "backend"));
	if (!backend || strcmp(backend, "ab") == 0)
		backend = "";
	if (backend[0] && !agent_module_present(&a->c, backend)) {
		rc = fp_err_set(err, FP_EUNSUPP,
		                "target %.200s needs the install module '%.64s', which this device "
		                "does not have",
		                as.target_name, backend);
		a->w.assignment_version = as.version;
		snprintf(a->w.reason, sizeof(a->w.reason), "%s", err->msg);
		goto out;
	}
	char sha[2 * FP_TUF_SHA256_LEN + 1], dsha[2 * FP_TUF_SHA256_LEN + 1] = "";
	int64_t dlen = 0;
	to_hex(tg.hashes.sha256, FP_TUF_SHA256_LEN, sha);
	int64_t prev = a->w.assignment_version;
	a->w.assignment_version = as.version;
	if (!backend[0] && strcmp(a->w.slot_sha256[a->booted], sha) == 0) {
		agent_log(AGENT_LOG_INFO, "the assigned target already runs", "target=%s",
		          as.target_name);
		goto out;
	}
	if (as.delta && (rc = check_delta(a, &as, t, backend, dsha, &dlen, err)) != 0) {
		/* Never a silent full download: the server decides, after this report. */
		char why[FP_ERR_MSG_MAX];
		snprintf(why, sizeof(why), "%s", err->msg);
		if ((rc = agent_report_delta_failed(a, as.target_name, why, err)) != 0) {
			a->w.assignment_version = prev; /* not told: checked again later */
			goto out;
		}
		a->w.assignment_version = as.version;
		snprintf(a->w.reason, sizeof(a->w.reason), "%s", why);
		rc = fp_err_set(err, FP_ECONFLICT, "%s", why);
		goto out;
	}
	const char *ver = json_string_value(json_object_get(tg.custom, "version"));
	const json_t *jc = json_object_get(tg.custom, "security_counter");
	snprintf(a->w.target, sizeof(a->w.target), "%s", as.target_name);
	snprintf(a->w.backend, sizeof(a->w.backend), "%s", backend);
	snprintf(a->w.version, sizeof(a->w.version), "%s", ver ? ver : "");
	snprintf(a->w.sha256, sizeof(a->w.sha256), "%s", sha);
	a->w.length = tg.length;
	a->w.security_counter = json_is_integer(jc) ? (int64_t)json_integer_value(jc) : 0;
	a->w.new_slot = 1 - a->booted;
	a->w.bytes_done = 0;
	snprintf(a->w.delta_sha256, sizeof(a->w.delta_sha256), "%s", dsha);
	a->w.delta_length = dlen;
	a->w.reason[0] = '\0';
	*install = 1;
	agent_log(AGENT_LOG_INFO, "assignment verified",
	          "target=%s version=%s length=%lld backend=%s slot=%c mode=%s", a->w.target,
	          a->w.version, (long long)a->w.length, backend[0] ? backend : "ab",
	          'A' + a->w.new_slot, dsha[0] ? "delta" : "full");
out:
	fp_tuf_trusted_free(t);
	json_decref(doc);
	json_decref(key);
	free(b.p);
	return rc;
}
