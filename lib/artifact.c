/*
 * artifact.c — the fleetpatch artifact format: manifest, streaming reader
 * and writer (see artifact.h and docs/design/artifact.md).
 *
 * The reader is a state machine over the bytes it is fed: header, manifest,
 * then each payload in turn, then nothing. It holds at most the manifest
 * (FP_ARTIFACT_MANIFEST_MAX bytes), a zstd decoder with a capped window and
 * one output buffer, so its memory does not depend on the payloads' sizes.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "fleetpatch/artifact.h"
#include "fleetpatch/json_depth.h"

/* Declared content sizes (decompressed payloads, delta bases and results) stop here: 1 TiB. */
#define CONTENT_MAX (1ull << 40)
#define IO_CHUNK    (1u << 20) /* bytes the writer reads at a time */

/* ---- small helpers ---- */

void fp_artifact_hex32(const unsigned char d[32], char out[65])
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[64] = '\0';
}

static int unhex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Lowercase hex only, so that one digest has exactly one spelling. */
static int parse_hex32(const char *s, unsigned char out[32])
{
	if (strlen(s) != 64)
		return -1;
	for (int i = 0; i < 32; i++) {
		int hi = unhex(s[2 * i]), lo = unhex(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static int valid_name(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static int valid_text(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static const char *const payload_types[] = {"image", "file", "module"};

static int valid_type(const char *s)
{
	for (size_t i = 0; i < sizeof(payload_types) / sizeof(payload_types[0]); i++)
		if (strcmp(s, payload_types[i]) == 0)
			return 1;
	return 0;
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void fp_artifact_header(size_t manifest_len, unsigned char out[FP_ARTIFACT_HEADER_SIZE])
{
	memcpy(out, FP_ARTIFACT_MAGIC, 8);
	put_be32(out + 8, FP_ARTIFACT_FORMAT_VERSION);
	put_be32(out + 12, (uint32_t)manifest_len);
}

/* ---- manifest ---- */

/* Fails unless every member of o is one of the NULL-terminated names. */
static int only_members(const json_t *o, const char *const *names, const char *where,
                        struct fp_err *err)
{
	const char *k;
	const json_t *v;
	json_object_foreach((json_t *)o, k, v)
	{
		int known = 0;
		for (size_t i = 0; names[i]; i++)
			if (strcmp(k, names[i]) == 0)
				known = 1;
		if (!known)
			return fp_err_set(err, FP_EINVAL, "%s: unknown member \"%s\"", where, k);
	}
	return 0;
}

static int get_string(const json_t *o, const char *key, int required, char *out, size_t max,
                      const char *where, struct fp_err *err)
{
	const json_t *v = json_object_get(o, key);
	out[0] = '\0';
	if (!v) {
		if (required)
			return fp_err_set(err, FP_EINVAL, "%s: \"%s\" is missing", where, key);
		return 0;
	}
	if (!json_is_string(v))
		return fp_err_set(err, FP_EINVAL, "%s: \"%s\" must be a string", where, key);
	size_t n = json_string_length(v);
	if (n > max)
		return fp_err_set(err, FP_ETOOBIG, "%s: \"%s\" is longer than %zu bytes", where,
		                  key, max);
	memcpy(out, json_string_value(v), n + 1);
	return 0;
}

static int get_size(const json_t *o, const char *key, int required, uint64_t *out,
                    const char *where, struct fp_err *err)
{
	const json_t *v = json_object_get(o, key);
	*out = 0;
	if (!v) {
		if (required)
			return fp_err_set(err, FP_EINVAL, "%s: \"%s\" is missing", where, key);
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return fp_err_set(err, FP_EINVAL, "%s: \"%s\" must be a non-negative integer",
		                  where, key);
	*out = (uint64_t)json_integer_value(v);
	if (*out > CONTENT_MAX)
		return fp_err_set(err, FP_ETOOBIG, "%s: \"%s\" is over the cap of %llu bytes",
		                  where, key, (unsigned long long)CONTENT_MAX);
	return 0;
}

static int get_digest(const json_t *o, const char *key, unsigned char out[32], const char *where,
                      struct fp_err *err)
{
	char hex[65];
	int rc = get_string(o, key, 1, hex, 64, where, err);
	if (rc)
		return rc == FP_ETOOBIG
		           ? fp_err_set(err, FP_EINVAL,
		                        "%s: \"%s\" must be 64 lowercase hex digits", where, key)
		           : rc;
	if (parse_hex32(hex, out))
		return fp_err_set(err, FP_EINVAL, "%s: \"%s\" must be 64 lowercase hex digits",
		                  where, key);
	return 0;
}

static int parse_delta(const json_t *d, struct fp_artifact_delta *out, const char *where,
                       struct fp_err *err)
{
	static const char *const members[] = {"base_version", "base_size",     "base_sha256",
	                                      "target_size",  "target_sha256", NULL};
	if (!json_is_object(d))
		return fp_err_set(err, FP_EINVAL, "%s: \"delta\" must be an object", where);
	int rc = only_members(d, members, where, err);
	if (!rc)
		rc = get_string(d, "base_version", 0, out->base_version, FP_ARTIFACT_VERSION_MAX,
		                where, err);
	if (!rc && !valid_text(out->base_version))
		rc = fp_err_set(err, FP_EINVAL, "%s: \"base_version\" has control characters",
		                where);
	if (!rc)
		rc = get_size(d, "base_size", 1, &out->base_size, where, err);
	if (!rc)
		rc = get_digest(d, "base_sha256", out->base_sha256, where, err);
	if (!rc)
		rc = get_size(d, "target_size", 1, &out->target_size, where, err);
	if (!rc)
		rc = get_digest(d, "target_sha256", out->target_sha256, where, err);
	return rc;
}

static int parse_payload(const json_t *o, struct fp_artifact_payload *p, size_t i,
                         struct fp_err *err)
{
	static const char *const members[] = {"name",        "type",         "size",  "sha256",
	                                      "compression", "content_size", "delta", NULL};
	char where[96], comp[16];
	snprintf(where, sizeof(where), "manifest: payload %zu", i);
	if (!json_is_object(o))
		return fp_err_set(err, FP_EINVAL, "%s must be an object", where);
	int rc = get_string(o, "name", 1, p->name, FP_ARTIFACT_NAME_MAX, where, err);
	if (rc)
		return rc;
	if (!valid_name(p->name, FP_ARTIFACT_NAME_MAX))
		return fp_err_set(err, FP_EINVAL,
		                  "%s: name \"%s\" must be 1 to %d characters of A-Z a-z 0-9 . _ -",
		                  where, p->name, FP_ARTIFACT_NAME_MAX);
	snprintf(where, sizeof(where), "manifest: payload \"%s\"", p->name);
	if ((rc = only_members(o, members, where, err)))
		return rc;
	if ((rc = get_string(o, "type", 1, p->type, sizeof(p->type) - 1, where, err)) == 0 &&
	    !valid_type(p->type))
		rc = fp_err_set(err, FP_EINVAL, "%s: type \"%s\" is not one of %s", where, p->type,
		                FP_ARTIFACT_TYPES);
	if (!rc)
		rc = get_size(o, "size", 1, &p->size, where, err);
	if (!rc)
		rc = get_digest(o, "sha256", p->sha256, where, err);
	if (!rc)
		rc = get_string(o, "compression", 0, comp, sizeof(comp) - 1, where, err);
	if (rc)
		return rc;
	if (comp[0] == '\0' || strcmp(comp, "none") == 0)
		p->compression = FP_ARTIFACT_COMP_NONE;
	else if (strcmp(comp, "zstd") == 0)
		p->compression = FP_ARTIFACT_COMP_ZSTD;
	else
		return fp_err_set(err, FP_EINVAL, "%s: compression \"%s\" is not none or zstd",
		                  where, comp);
	const json_t *cs = json_object_get(o, "content_size");
	if (p->compression == FP_ARTIFACT_COMP_ZSTD) {
		if ((rc = get_size(o, "content_size", 1, &p->content_size, where, err)))
			return rc;
		if (p->size == 0)
			return fp_err_set(err, FP_EINVAL, "%s: a zstd payload cannot be empty",
			                  where);
	} else {
		if (cs)
			return fp_err_set(err, FP_EINVAL,
			                  "%s: \"content_size\" is only for compressed payloads",
			                  where);
		p->content_size = p->size;
	}
	const json_t *d = json_object_get(o, "delta");
	p->is_delta = d != NULL;
	if (d) {
		if ((rc = parse_delta(d, &p->delta, where, err)))
			return rc;
		if (p->compression != FP_ARTIFACT_COMP_NONE || strcmp(p->type, "image") != 0)
			return fp_err_set(err, FP_EINVAL,
			                  "%s: a delta must be an uncompressed image payload",
			                  where);
	}
	return 0;
}

int fp_artifact_manifest_parse(const char *json, size_t len, struct fp_artifact_manifest *m,
                               struct fp_err *err)
{
	static const char *const members[] = {"version", "compatible", "payloads", NULL};
	json_t *root = NULL;
	json_error_t jerr;
	int rc;
	memset(m, 0, sizeof(*m));
	if (len > FP_ARTIFACT_MANIFEST_MAX)
		return fp_err_set(err, FP_ETOOBIG, "manifest: %zu bytes, over the cap of %u", len,
		                  FP_ARTIFACT_MANIFEST_MAX);
	if ((rc = fp_json_check_depth(json, len, FP_ARTIFACT_DEPTH_MAX, err)))
		goto out;
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		rc = fp_err_set(err, FP_EINVAL, "manifest: not valid JSON (line %d column %d: %s)",
		                jerr.line, jerr.column, jerr.text);
		goto out;
	}
	if (!json_is_object(root)) {
		rc = fp_err_set(err, FP_EINVAL, "manifest: must be a JSON object");
		goto out;
	}
	if ((rc = only_members(root, members, "manifest", err)))
		goto out;
	if ((rc = get_string(root, "version", 0, m->version, FP_ARTIFACT_VERSION_MAX, "manifest",
	                     err)))
		goto out;
	if (!valid_text(m->version)) {
		rc = fp_err_set(err, FP_EINVAL, "manifest: \"version\" has control characters");
		goto out;
	}
	const json_t *compat = json_object_get(root, "compatible");
	if (compat) {
		if (!json_is_array(compat)) {
			rc =
			    fp_err_set(err, FP_EINVAL, "manifest: \"compatible\" must be an array");
			goto out;
		}
		if (json_array_size(compat) > FP_ARTIFACT_COMPAT_MAX) {
			rc = fp_err_set(err, FP_ETOOBIG,
			                "manifest: more than %d compatible hardware types",
			                FP_ARTIFACT_COMPAT_MAX);
			goto out;
		}
		for (size_t i = 0; i < json_array_size(compat); i++) {
			const char *s = json_string_value(json_array_get(compat, i));
			if (!s || !valid_name(s, FP_ARTIFACT_HWTYPE_MAX)) {
				rc = fp_err_set(err, FP_EINVAL,
				                "manifest: compatible[%zu] must be 1 to %d "
				                "characters of A-Z a-z 0-9 . _ -",
				                i, FP_ARTIFACT_HWTYPE_MAX);
				goto out;
			}
			snprintf(m->compatible[i], sizeof(m->compatible[i]), "%s", s);
		}
		m->n_compatible = json_array_size(compat);
	}
	const json_t *pl = json_object_get(root, "payloads");
	if (!json_is_array(pl) || json_array_size(pl) == 0) {
		rc = fp_err_set(err, FP_EINVAL, "manifest: \"payloads\" must be a non-empty array");
		goto out;
	}
	if (json_array_size(pl) > FP_ARTIFACT_PAYLOADS_MAX) {
		rc = fp_err_set(err, FP_ETOOBIG, "manifest: more than %d payloads",
		                FP_ARTIFACT_PAYLOADS_MAX);
		goto out;
	}
	for (size_t i = 0; i < json_array_size(pl); i++) {
		if ((rc = parse_payload(json_array_get(pl, i), &m->payloads[i], i, err)))
			goto out;
		for (size_t j = 0; j < i; j++)
			if (strcmp(m->payloads[j].name, m->payloads[i].name) == 0) {
				rc = fp_err_set(err, FP_EINVAL,
				                "manifest: two payloads are named \"%s\"",
				                m->payloads[i].name);
				goto out;
			}
		m->n_payloads = i + 1;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

static json_t *encode_payload(const struct fp_artifact_payload *p)
{
	char hex[65];
	fp_artifact_hex32(p->sha256, hex);
	json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:s}", "name", p->name, "type", p->type, "size",
	                      (json_int_t)p->size, "sha256", hex, "compression",
	                      p->compression == FP_ARTIFACT_COMP_ZSTD ? "zstd" : "none");
	if (o && p->compression == FP_ARTIFACT_COMP_ZSTD &&
	    json_object_set_new(o, "content_size", json_integer((json_int_t)p->content_size))) {
		json_decref(o);
		return NULL;
	}
	if (o && p->is_delta) {
		char bh[65], th[65];
		fp_artifact_hex32(p->delta.base_sha256, bh);
		fp_artifact_hex32(p->delta.target_sha256, th);
		json_t *d =
		    json_pack("{s:I, s:s, s:I, s:s}", "base_size", (json_int_t)p->delta.base_size,
		              "base_sha256", bh, "target_size", (json_int_t)p->delta.target_size,
		              "target_sha256", th);
		if (d && p->delta.base_version[0] &&
		    json_object_set_new(d, "base_version", json_string(p->delta.base_version))) {
			json_decref(d);
			d = NULL;
		}
		if (!d || json_object_set_new(o, "delta", d)) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

int fp_artifact_manifest_encode(const struct fp_artifact_manifest *m, char **out, size_t *len,
                                struct fp_err *err)
{
	json_t *root = json_object(), *pl = json_array(), *compat = json_array();
	char *s = NULL;
	int rc = FP_ENOMEM;
	*out = NULL;
	if (!root || !pl || !compat)
		goto out;
	if (m->n_payloads > FP_ARTIFACT_PAYLOADS_MAX || m->n_compatible > FP_ARTIFACT_COMPAT_MAX) {
		rc = fp_err_set(err, FP_ETOOBIG, "manifest: too many payloads or hardware types");
		goto out;
	}
	for (size_t i = 0; i < m->n_payloads; i++) {
		json_t *p = encode_payload(&m->payloads[i]);
		if (!p || json_array_append_new(pl, p))
			goto out;
	}
	for (size_t i = 0; i < m->n_compatible; i++)
		if (json_array_append_new(compat, json_string(m->compatible[i])))
			goto out;
	if (m->version[0] && json_object_set_new(root, "version", json_string(m->version)))
		goto out;
	if (m->n_compatible && json_object_set(root, "compatible", compat))
		goto out;
	if (json_object_set(root, "payloads", pl))
		goto out;
	s = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	if (!s)
		goto out;
	/* What we write must be what a reader accepts: check it the reader's way. */
	struct fp_artifact_manifest *check = malloc(sizeof(*check));
	if (!check)
		goto out;
	rc = fp_artifact_manifest_parse(s, strlen(s), check, err);
	free(check);
	if (rc)
		goto out;
	*len = strlen(s);
	*out = s;
	s = NULL;
	rc = 0;
out:
	if (rc == FP_ENOMEM)
		fp_err_set(err, rc, "manifest: out of memory");
	free(s);
	json_decref(root);
	json_decref(pl);
	json_decref(compat);
	return rc;
}

/* ---- reader ---- */

enum reader_state { ST_HEADER, ST_MANIFEST, ST_PAYLOAD, ST_DONE, ST_FAILED };

struct fp_artifact_reader {
	struct fp_artifact_callbacks cb;
	uint64_t total_max;
	int raw;
	enum reader_state state;
	struct fp_err fail; /* the sticky failure */
	unsigned char hdr[FP_ARTIFACT_HEADER_SIZE];
	size_t hdr_have;
	char *mbuf;
	size_t mlen, mhave;
	unsigned char manifest_sha256[32];
	struct fp_artifact_manifest m;
	size_t cur;        /* the payload being read */
	uint64_t cur_left; /* its stored bytes still to come */
	uint64_t cur_out;  /* its content bytes handed out */
	int frame_done;    /* the zstd decoder ended a frame with the last input */
	EVP_MD_CTX *pay, *w256, *w512;
	ZSTD_DStream *zd;
	unsigned char *zout;
	size_t zout_size;
	uint64_t total; /* bytes fed */
	int finished;
	unsigned char d256[32], d512[64];
};

int fp_artifact_reader_new(const struct fp_artifact_callbacks *cb,
                           const struct fp_artifact_reader_opts *opts,
                           struct fp_artifact_reader **out, struct fp_err *err)
{
	struct fp_artifact_reader *r = calloc(1, sizeof(*r));
	*out = NULL;
	if (!r)
		return fp_err_set(err, FP_ENOMEM, "artifact reader: out of memory");
	if (cb)
		r->cb = *cb;
	r->total_max = opts && opts->total_max ? opts->total_max : FP_ARTIFACT_TOTAL_DEFAULT;
	r->raw = opts ? opts->raw : 0;
	r->pay = EVP_MD_CTX_new();
	r->w256 = EVP_MD_CTX_new();
	r->w512 = EVP_MD_CTX_new();
	if (!r->pay || !r->w256 || !r->w512 ||
	    EVP_DigestInit_ex(r->w256, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestInit_ex(r->w512, EVP_sha512(), NULL) != 1) {
		fp_artifact_reader_free(r);
		return fp_err_set(err, FP_ECRYPTO, "artifact reader: cannot set up SHA-2");
	}
	*out = r;
	return 0;
}

void fp_artifact_reader_free(struct fp_artifact_reader *r)
{
	if (!r)
		return;
	EVP_MD_CTX_free(r->pay);
	EVP_MD_CTX_free(r->w256);
	EVP_MD_CTX_free(r->w512);
	ZSTD_freeDStream(r->zd);
	free(r->zout);
	free(r->mbuf);
	free(r);
}

const struct fp_artifact_manifest *fp_artifact_reader_manifest(const struct fp_artifact_reader *r)
{
	return r->state >= ST_PAYLOAD && r->state != ST_FAILED ? &r->m : NULL;
}

int fp_artifact_reader_manifest_sha256(const struct fp_artifact_reader *r, unsigned char out[32])
{
	if (r->state < ST_PAYLOAD || r->state == ST_FAILED)
		return FP_EINVAL;
	memcpy(out, r->manifest_sha256, 32);
	return 0;
}

int fp_artifact_reader_digests(const struct fp_artifact_reader *r, uint64_t *length,
                               unsigned char sha256[32], unsigned char sha512[64])
{
	if (!r->finished)
		return FP_EINVAL;
	*length = r->total;
	memcpy(sha256, r->d256, 32);
	memcpy(sha512, r->d512, 64);
	return 0;
}

/* Records a failure so that it sticks; returns its code. */
static int fail(struct fp_artifact_reader *r, struct fp_err *err, int code)
{
	r->state = ST_FAILED;
	r->fail.code = code;
	if (err && err->msg[0])
		memcpy(r->fail.msg, err->msg, sizeof(r->fail.msg));
	else
		snprintf(r->fail.msg, sizeof(r->fail.msg), "artifact: %s", fp_err_name(code));
	if (err && !err->msg[0])
		*err = r->fail;
	return code;
}

/* Starts payload r->cur, and finishes at once the empty ones that follow. */
static int start_payloads(struct fp_artifact_reader *r, struct fp_err *err);

static int end_payload(struct fp_artifact_reader *r, struct fp_err *err)
{
	const struct fp_artifact_payload *p = &r->m.payloads[r->cur];
	unsigned char md[32];
	unsigned int mdlen = 0;
	if (EVP_DigestFinal_ex(r->pay, md, &mdlen) != 1 || mdlen != 32)
		return fp_err_set(err, FP_ECRYPTO, "artifact: SHA-256 failed");
	if (memcmp(md, p->sha256, 32) != 0) {
		char want[65], got[65];
		fp_artifact_hex32(p->sha256, want);
		fp_artifact_hex32(md, got);
		return fp_err_set(err, FP_ECRYPTO,
		                  "artifact: payload \"%s\" is corrupt: its sha256 is %s, the "
		                  "manifest says %s",
		                  p->name, got, want);
	}
	if (p->compression == FP_ARTIFACT_COMP_ZSTD && !r->raw &&
	    (!r->frame_done || r->cur_out != p->content_size))
		return fp_err_set(err, FP_EINVAL,
		                  "artifact: payload \"%s\" decompresses to %llu bytes%s, the "
		                  "manifest says %llu",
		                  p->name, (unsigned long long)r->cur_out,
		                  r->frame_done ? "" : " and an unfinished zstd frame",
		                  (unsigned long long)p->content_size);
	if (r->cb.payload_end) {
		int rc = r->cb.payload_end(r->cb.ctx, r->cur, p, err);
		if (rc)
			return rc;
	}
	r->cur++;
	return start_payloads(r, err);
}

static int start_payloads(struct fp_artifact_reader *r, struct fp_err *err)
{
	if (r->cur == r->m.n_payloads) {
		r->state = ST_DONE;
		return 0;
	}
	const struct fp_artifact_payload *p = &r->m.payloads[r->cur];
	r->state = ST_PAYLOAD;
	r->cur_left = p->size;
	r->cur_out = 0;
	r->frame_done = 0;
	if (EVP_DigestInit_ex(r->pay, EVP_sha256(), NULL) != 1)
		return fp_err_set(err, FP_ECRYPTO, "artifact: SHA-256 failed");
	if (p->compression == FP_ARTIFACT_COMP_ZSTD && !r->raw) {
		if (!r->zd) {
			r->zd = ZSTD_createDStream();
			r->zout_size = ZSTD_DStreamOutSize();
			r->zout = malloc(r->zout_size);
			if (!r->zd || !r->zout)
				return fp_err_set(err, FP_ENOMEM, "artifact: out of memory");
		}
		if (ZSTD_isError(ZSTD_DCtx_reset(r->zd, ZSTD_reset_session_and_parameters)) ||
		    ZSTD_isError(ZSTD_DCtx_setParameter(r->zd, ZSTD_d_windowLogMax,
		                                        FP_ARTIFACT_ZSTD_WINDOW_LOG_MAX)))
			return fp_err_set(err, FP_ENOMEM, "artifact: cannot set up zstd");
	}
	if (r->cb.payload_begin) {
		int rc = r->cb.payload_begin(r->cb.ctx, r->cur, p, err);
		if (rc)
			return rc;
	}
	if (p->size == 0)
		return end_payload(r, err);
	return 0;
}

static int emit(struct fp_artifact_reader *r, const void *buf, size_t n, struct fp_err *err)
{
	const struct fp_artifact_payload *p = &r->m.payloads[r->cur];
	if (n == 0)
		return 0;
	/* Raw output is the stored bytes, which the sha256 check bounds already. */
	uint64_t limit = r->raw ? p->size : p->content_size;
	r->cur_out += n;
	if (r->cur_out > limit)
		return fp_err_set(
		    err, FP_EINVAL,
		    "artifact: payload \"%s\" decompresses to more than the %llu bytes "
		    "the manifest says",
		    p->name, (unsigned long long)p->content_size);
	return r->cb.payload_data ? r->cb.payload_data(r->cb.ctx, r->cur, buf, n, err) : 0;
}

static int payload_bytes(struct fp_artifact_reader *r, const unsigned char *buf, size_t n,
                         struct fp_err *err)
{
	const struct fp_artifact_payload *p = &r->m.payloads[r->cur];
	if (EVP_DigestUpdate(r->pay, buf, n) != 1)
		return fp_err_set(err, FP_ECRYPTO, "artifact: SHA-256 failed");
	r->cur_left -= n;
	if (p->compression == FP_ARTIFACT_COMP_NONE || r->raw)
		return emit(r, buf, n, err);
	ZSTD_inBuffer in = {buf, n, 0};
	for (;;) {
		ZSTD_outBuffer o = {r->zout, r->zout_size, 0};
		size_t z = ZSTD_decompressStream(r->zd, &o, &in);
		if (ZSTD_isError(z))
			return fp_err_set(err, FP_EINVAL, "artifact: payload \"%s\": zstd: %s",
			                  p->name, ZSTD_getErrorName(z));
		int rc = emit(r, r->zout, o.pos, err);
		if (rc)
			return rc;
		/*
		 * A frame has ended when z is 0; more input then starts another frame
		 * (zstd may write several). Calling on with no input would start one too.
		 */
		r->frame_done = z == 0;
		if (in.pos == in.size && (z == 0 || o.pos < o.size))
			break;
	}
	return 0;
}

static int got_header(struct fp_artifact_reader *r, struct fp_err *err)
{
	if (memcmp(r->hdr, FP_ARTIFACT_MAGIC, 8) != 0)
		return fp_err_set(err, FP_EINVAL,
		                  "artifact: not a fleetpatch artifact (bad magic)");
	uint32_t ver = get_be32(r->hdr + 8);
	if (ver != FP_ARTIFACT_FORMAT_VERSION)
		return fp_err_set(err, FP_EUNSUPP,
		                  "artifact: format version %u; this build reads version %u only",
		                  ver, FP_ARTIFACT_FORMAT_VERSION);
	r->mlen = get_be32(r->hdr + 12);
	if (r->mlen == 0)
		return fp_err_set(err, FP_EINVAL, "artifact: the manifest is empty");
	if (r->mlen > FP_ARTIFACT_MANIFEST_MAX)
		return fp_err_set(err, FP_ETOOBIG,
		                  "artifact: manifest of %zu bytes, over the cap of %u", r->mlen,
		                  FP_ARTIFACT_MANIFEST_MAX);
	r->mbuf = malloc(r->mlen);
	if (!r->mbuf)
		return fp_err_set(err, FP_ENOMEM, "artifact: out of memory");
	r->state = ST_MANIFEST;
	return 0;
}

static int got_manifest(struct fp_artifact_reader *r, struct fp_err *err)
{
	int rc = fp_artifact_manifest_parse(r->mbuf, r->mlen, &r->m, err);
	if (rc)
		return rc;
	/* The declared sizes must fit the total cap before any payload byte is accepted. */
	uint64_t total = FP_ARTIFACT_HEADER_SIZE + r->mlen;
	for (size_t i = 0; i < r->m.n_payloads; i++) {
		if (r->m.payloads[i].size > r->total_max - total)
			return fp_err_set(
			    err, FP_ETOOBIG,
			    "artifact: its payloads add up to more than the cap of %llu "
			    "bytes",
			    (unsigned long long)r->total_max);
		total += r->m.payloads[i].size;
	}
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int n = 0;
	int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
	         EVP_DigestUpdate(c, r->hdr, sizeof(r->hdr)) == 1 &&
	         EVP_DigestUpdate(c, r->mbuf, r->mlen) == 1 &&
	         EVP_DigestFinal_ex(c, r->manifest_sha256, &n) == 1;
	EVP_MD_CTX_free(c);
	if (!ok)
		return fp_err_set(err, FP_ECRYPTO, "artifact: SHA-256 failed");
	free(r->mbuf);
	r->mbuf = NULL;
	r->state = ST_PAYLOAD;
	if (r->cb.manifest && (rc = r->cb.manifest(r->cb.ctx, &r->m, err)))
		return rc;
	r->cur = 0;
	return start_payloads(r, err);
}

int fp_artifact_reader_feed(struct fp_artifact_reader *r, const void *buf, size_t n,
                            struct fp_err *err)
{
	const unsigned char *p = buf;
	int rc = 0;
	if (err)
		fp_err_clear(err);
	if (r->state == ST_FAILED) {
		if (err)
			*err = r->fail;
		return r->fail.code;
	}
	if (r->finished)
		return fail(r, err, fp_err_set(err, FP_EINVAL, "artifact: fed after finish"));
	if (n > r->total_max - r->total)
		return fail(r, err,
		            fp_err_set(err, FP_ETOOBIG,
		                       "artifact: longer than the cap of %llu bytes",
		                       (unsigned long long)r->total_max));
	if (n && (EVP_DigestUpdate(r->w256, p, n) != 1 || EVP_DigestUpdate(r->w512, p, n) != 1))
		return fail(r, err, fp_err_set(err, FP_ECRYPTO, "artifact: SHA-2 failed"));
	r->total += n;
	while (n > 0) {
		size_t take;
		switch (r->state) {
		case ST_HEADER:
			take = sizeof(r->hdr) - r->hdr_have;
			take = take < n ? take : n;
			memcpy(r->hdr + r->hdr_have, p, take);
			r->hdr_have += take;
			if (r->hdr_have == sizeof(r->hdr))
				rc = got_header(r, err);
			break;
		case ST_MANIFEST:
			take = r->mlen - r->mhave;
			take = take < n ? take : n;
			memcpy(r->mbuf + r->mhave, p, take);
			r->mhave += take;
			if (r->mhave == r->mlen)
				rc = got_manifest(r, err);
			break;
		case ST_PAYLOAD:
			take = r->cur_left < n ? (size_t)r->cur_left : n;
			rc = payload_bytes(r, p, take, err);
			if (!rc && r->cur_left == 0)
				rc = end_payload(r, err);
			break;
		default:
			rc = fp_err_set(err, FP_EINVAL,
			                "artifact: %zu unexpected bytes after the last payload", n);
			take = n;
			break;
		}
		if (rc)
			return fail(r, err, rc);
		p += take;
		n -= take;
	}
	return 0;
}

int fp_artifact_reader_finish(struct fp_artifact_reader *r, struct fp_err *err)
{
	if (err)
		fp_err_clear(err);
	if (r->state == ST_FAILED) {
		if (err)
			*err = r->fail;
		return r->fail.code;
	}
	if (r->finished)
		return 0;
	if (r->state != ST_DONE) {
		const char *where = r->state == ST_HEADER     ? "in its header"
		                    : r->state == ST_MANIFEST ? "in its manifest"
		                                              : "in a payload";
		int rc;
		if (r->state == ST_PAYLOAD)
			rc =
			    fp_err_set(err, FP_EINVAL,
			               "artifact: truncated after %llu bytes, %llu bytes short of "
			               "the end of payload \"%s\"",
			               (unsigned long long)r->total,
			               (unsigned long long)r->cur_left, r->m.payloads[r->cur].name);
		else
			rc = fp_err_set(err, FP_EINVAL, "artifact: truncated after %llu bytes, %s",
			                (unsigned long long)r->total, where);
		return fail(r, err, rc);
	}
	unsigned int a = 0, b = 0;
	if (EVP_DigestFinal_ex(r->w256, r->d256, &a) != 1 ||
	    EVP_DigestFinal_ex(r->w512, r->d512, &b) != 1)
		return fail(r, err, fp_err_set(err, FP_ECRYPTO, "artifact: SHA-2 failed"));
	r->finished = 1;
	return 0;
}

/* ---- writer ---- */

/* Where the writer sends a payload's stored bytes: counted, hashed, maybe written. */
struct sink {
	int fd; /* -1: count and hash only */
	EVP_MD_CTX *md;
	uint64_t stored, content;
};

static int sink_put(struct sink *s, const void *buf, size_t n, struct fp_err *err)
{
	const unsigned char *p = buf;
	if (EVP_DigestUpdate(s->md, buf, n) != 1)
		return fp_err_set(err, FP_ECRYPTO, "artifact: SHA-256 failed");
	s->stored += n;
	while (s->fd >= 0 && n > 0) {
		ssize_t w = write(s->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return fp_err_set(err, FP_EIO, "artifact: cannot write the output: %s",
			                  strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int write_all(int fd, const void *buf, size_t n, struct fp_err *err)
{
	struct sink s = {.fd = fd, .md = EVP_MD_CTX_new()};
	int rc = s.md && EVP_DigestInit_ex(s.md, EVP_sha256(), NULL) == 1
	             ? sink_put(&s, buf, n, err)
	             : fp_err_set(err, FP_ECRYPTO, "artifact: SHA-256 failed");
	EVP_MD_CTX_free(s.md);
	return rc;
}

/* Reads the input once from the start, compressing when asked, into s. */
static int pump(const struct fp_artifact_input *in, ZSTD_CCtx *cc, unsigned char *ibuf,
                unsigned char *obuf, size_t osize, struct sink *s, struct fp_err *err)
{
	int fd = -1, rc = 0;
	size_t mem_off = 0;
	if (in->path) {
		fd = open(in->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return fp_err_set(err, FP_EIO, "artifact: cannot open %s: %s", in->path,
			                  strerror(errno));
	}
	if (cc) {
		/* The frame header states the content size, which the reader checks. */
		struct stat st;
		uint64_t size = in->len;
		if (fd >= 0 && fstat(fd, &st) == 0)
			size = (uint64_t)st.st_size;
		if (ZSTD_isError(ZSTD_CCtx_reset(cc, ZSTD_reset_session_only)) ||
		    ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(cc, size))) {
			rc = fp_err_set(err, FP_ENOMEM, "artifact: cannot set up zstd");
			goto out;
		}
	}
	for (;;) {
		size_t got;
		const unsigned char *chunk;
		if (fd >= 0) {
			ssize_t r = read(fd, ibuf, IO_CHUNK);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				rc = fp_err_set(err, FP_EIO, "artifact: cannot read %s: %s",
				                in->path, strerror(errno));
				goto out;
			}
			got = (size_t)r;
			chunk = ibuf;
		} else {
			got = in->len - mem_off < IO_CHUNK ? in->len - mem_off : IO_CHUNK;
			chunk = (const unsigned char *)in->data + mem_off;
			mem_off += got;
		}
		s->content += got;
		if (!cc) {
			if (got == 0)
				break;
			if ((rc = sink_put(s, chunk, got, err)))
				goto out;
			continue;
		}
		ZSTD_EndDirective mode = got ? ZSTD_e_continue : ZSTD_e_end;
		ZSTD_inBuffer zin = {chunk, got, 0};
		size_t left;
		do {
			ZSTD_outBuffer zo = {obuf, osize, 0};
			left = ZSTD_compressStream2(cc, &zo, &zin, mode);
			if (ZSTD_isError(left)) {
				rc = fp_err_set(err, FP_EINVAL, "artifact: zstd: %s",
				                ZSTD_getErrorName(left));
				goto out;
			}
			if (zo.pos && (rc = sink_put(s, obuf, zo.pos, err)))
				goto out;
		} while (mode == ZSTD_e_end ? left != 0 : zin.pos < zin.size);
		if (got == 0)
			break;
	}
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

int fp_artifact_write(int fd, const char *version, const char *const *compatible,
                      size_t n_compatible, const struct fp_artifact_input *in, size_t n,
                      struct fp_err *err)
{
	struct fp_artifact_manifest *m = calloc(1, sizeof(*m));
	unsigned char *ibuf = malloc(IO_CHUNK);
	size_t osize = ZSTD_CStreamOutSize();
	unsigned char *obuf = malloc(osize);
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	struct sink s = {.fd = -1, .md = EVP_MD_CTX_new()};
	char *json = NULL;
	size_t jlen = 0;
	int rc = FP_ENOMEM;
	if (!m || !ibuf || !obuf || !cc || !s.md) {
		fp_err_set(err, rc, "artifact: out of memory");
		goto out;
	}
	if (n == 0 || n > FP_ARTIFACT_PAYLOADS_MAX || n_compatible > FP_ARTIFACT_COMPAT_MAX) {
		rc = fp_err_set(err, FP_EINVAL,
		                "artifact: 1 to %d payloads and at most %d hardware "
		                "types",
		                FP_ARTIFACT_PAYLOADS_MAX, FP_ARTIFACT_COMPAT_MAX);
		goto out;
	}
	if (ZSTD_isError(
	        ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, FP_ARTIFACT_ZSTD_LEVEL)) ||
	    ZSTD_isError(
	        ZSTD_CCtx_setParameter(cc, ZSTD_c_windowLog, FP_ARTIFACT_ZSTD_WINDOW_LOG_MAX)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 0))) {
		rc = fp_err_set(err, FP_ENOMEM, "artifact: cannot set up zstd");
		goto out;
	}
	if (version && strlen(version) > FP_ARTIFACT_VERSION_MAX) {
		rc = fp_err_set(err, FP_ETOOBIG, "artifact: version longer than %d bytes",
		                FP_ARTIFACT_VERSION_MAX);
		goto out;
	}
	snprintf(m->version, sizeof(m->version), "%s", version ? version : "");
	for (size_t i = 0; i < n_compatible; i++) {
		if (strlen(compatible[i]) > FP_ARTIFACT_HWTYPE_MAX) {
			rc = fp_err_set(err, FP_ETOOBIG,
			                "artifact: hardware type longer than %d "
			                "bytes",
			                FP_ARTIFACT_HWTYPE_MAX);
			goto out;
		}
		snprintf(m->compatible[i], sizeof(m->compatible[i]), "%s", compatible[i]);
	}
	m->n_compatible = n_compatible;
	/* Pass 1: the stored size and sha256 of every payload. */
	for (size_t i = 0; i < n; i++) {
		struct fp_artifact_payload *p = &m->payloads[i];
		if (!in[i].name || strlen(in[i].name) > FP_ARTIFACT_NAME_MAX || !in[i].type ||
		    strlen(in[i].type) >= sizeof(p->type) || (!in[i].path == !in[i].data)) {
			rc = fp_err_set(err, FP_EINVAL,
			                "artifact: payload %zu needs a name of at most %d bytes, a "
			                "type, and a path or data",
			                i, FP_ARTIFACT_NAME_MAX);
			goto out;
		}
		snprintf(p->name, sizeof(p->name), "%s", in[i].name);
		snprintf(p->type, sizeof(p->type), "%s", in[i].type);
		p->compression = in[i].compression;
		if (in[i].delta) {
			p->is_delta = 1;
			p->delta = *in[i].delta;
		}
		s.stored = s.content = 0;
		if (EVP_DigestInit_ex(s.md, EVP_sha256(), NULL) != 1) {
			rc = fp_err_set(err, FP_ECRYPTO, "artifact: SHA-256 failed");
			goto out;
		}
		rc = pump(&in[i], p->compression == FP_ARTIFACT_COMP_ZSTD ? cc : NULL, ibuf, obuf,
		          osize, &s, err);
		if (rc)
			goto out;
		unsigned int l = 0;
		if (EVP_DigestFinal_ex(s.md, p->sha256, &l) != 1) {
			rc = fp_err_set(err, FP_ECRYPTO, "artifact: SHA-256 failed");
			goto out;
		}
		p->size = s.stored;
		p->content_size = s.content;
	}
	m->n_payloads = n;
	if ((rc = fp_artifact_manifest_encode(m, &json, &jlen, err)))
		goto out;
	if (jlen > FP_ARTIFACT_MANIFEST_MAX) {
		rc = fp_err_set(err, FP_ETOOBIG, "artifact: manifest over %u bytes",
		                FP_ARTIFACT_MANIFEST_MAX);
		goto out;
	}
	unsigned char hdr[FP_ARTIFACT_HEADER_SIZE];
	fp_artifact_header(jlen, hdr);
	if ((rc = write_all(fd, hdr, sizeof(hdr), err)) || (rc = write_all(fd, json, jlen, err)))
		goto out;
	/* Pass 2: the payloads themselves, which must read as they did in pass 1. */
	for (size_t i = 0; i < n; i++) {
		const struct fp_artifact_payload *p = &m->payloads[i];
		unsigned char md[32];
		unsigned int l = 0;
		s.fd = fd;
		s.stored = s.content = 0;
		if (EVP_DigestInit_ex(s.md, EVP_sha256(), NULL) != 1) {
			rc = fp_err_set(err, FP_ECRYPTO, "artifact: SHA-256 failed");
			goto out;
		}
		rc = pump(&in[i], p->compression == FP_ARTIFACT_COMP_ZSTD ? cc : NULL, ibuf, obuf,
		          osize, &s, err);
		if (rc)
			goto out;
		if (EVP_DigestFinal_ex(s.md, md, &l) != 1 || memcmp(md, p->sha256, 32) != 0 ||
		    s.stored != p->size) {
			rc = fp_err_set(err, FP_ECONFLICT,
			                "artifact: payload \"%s\" changed while the artifact was "
			                "written; the output is unusable",
			                p->name);
			goto out;
		}
	}
	rc = 0;
out:
	free(json);
	EVP_MD_CTX_free(s.md);
	ZSTD_freeCCtx(cc);
	free(obuf);
	free(ibuf);
	free(m);
	return rc;
}
