/*
 * api_artifacts.c — content-addressed artifacts: streamed uploads and
 * downloads with ETag and Range.
 *
 * An upload is written to a temporary file under <data_dir>/artifacts/tmp
 * while SHA-256 and SHA-512 are computed on the fly, so memory use does not
 * depend on its size. Only a complete upload within artifact_max_bytes is
 * renamed to <data_dir>/artifacts/<sha256> and recorded; an identical
 * upload finds the stored file and changes nothing. Downloads are served
 * from the file with libmicrohttpd's file-descriptor responses.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "fleetpatch/secret.h"
#include "log.h"

#define ARTIFACT_PATH_MAX 1200
#define SHA512_HEX_LEN    128

struct upload {
	int fd;
	char tmp[ARTIFACT_PATH_MAX];
	EVP_MD_CTX *h256, *h512;
	uint64_t len, cap;
	int status; /* non-zero: the upload failed with this HTTP status */
	char code[32];
	char msg[256];
};

int fp_artifact_path(const struct fp_server *s, const char *sha256, char *out, size_t outsz)
{
	int n = snprintf(out, outsz, "%s/artifacts/%s", s->cfg.data_dir, sha256 ? sha256 : "");
	return n < 0 || (size_t)n >= outsz ? FP_ETOOBIG : 0;
}

int fp_sha256_hex_valid(const char *s)
{
	if (!s || strlen(s) != FP_SHA256_HEX_LEN)
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

int fp_artifacts_recover(const struct fp_server *s)
{
	char dir[ARTIFACT_PATH_MAX], path[ARTIFACT_PATH_MAX + 300];
	snprintf(dir, sizeof(dir), "%s/artifacts/tmp", s->cfg.data_dir);
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strncmp(e->d_name, "upload-", 7) == 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			n += unlink(path) == 0;
		}
	closedir(d);
	if (n)
		fp_log(FP_LOG_INFO, "removed uploads a stop interrupted", "files=%d", n);
	return 0;
}

static void up_fail(struct upload *u, int status, const char *code, const char *msg)
{
	if (u->status)
		return;
	u->status = status;
	snprintf(u->code, sizeof(u->code), "%s", code);
	snprintf(u->msg, sizeof(u->msg), "%s", msg);
	/* Nothing of a refused upload stays on disk. */
	if (u->fd >= 0) {
		close(u->fd);
		u->fd = -1;
		unlink(u->tmp);
	}
}

static void upload_cleanup(struct fp_req *r)
{
	struct upload *u = r->stream_ctx;
	if (!u)
		return;
	if (u->fd >= 0) {
		close(u->fd);
		unlink(u->tmp);
	}
	EVP_MD_CTX_free(u->h256);
	EVP_MD_CTX_free(u->h512);
	free(u);
	r->stream_ctx = NULL;
}

static int mkdir_one(const char *path)
{
	return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

static void upload_begin(struct fp_req *r)
{
	static const char *const q[] = {NULL};
	if (fp_req_only_query(r, q))
		return;
	uint64_t cap = (uint64_t)r->srv->cfg.artifact_max_bytes;
	const char *cl = fp_req_header(r, "Content-Length");
	if (cl && strtoull(cl, NULL, 10) > cap) {
		fp_reply_error(r, 413, "too_large",
		               "the artifact is larger than %" PRIu64
		               " bytes (artifact_max_bytes); nothing was stored",
		               cap);
		return;
	}
	struct upload *u = calloc(1, sizeof(*u));
	if (!u) {
		fp_reply_error(r, 500, "out_of_memory", "out of memory");
		return;
	}
	u->fd = -1;
	u->cap = cap;
	r->stream_ctx = u;
	char dir[ARTIFACT_PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/artifacts", r->srv->cfg.data_dir);
	int n = snprintf(u->tmp, sizeof(u->tmp), "%s/artifacts/tmp/upload-XXXXXX",
	                 r->srv->cfg.data_dir);
	if (n < 0 || (size_t)n >= sizeof(u->tmp)) {
		fp_reply_error(r, 500, "io", "the data directory path is too long");
		return;
	}
	if (mkdir_one(dir)) {
		fp_reply_error(r, 500, "io", "cannot create the artifact directory");
		return;
	}
	snprintf(dir, sizeof(dir), "%s/artifacts/tmp", r->srv->cfg.data_dir);
	if (mkdir_one(dir) || (u->fd = mkostemp(u->tmp, O_CLOEXEC)) < 0) {
		fp_log(FP_LOG_ERROR, "cannot create an upload file", "dir=%s errno=%d", dir, errno);
		fp_reply_error(r, 500, "io", "cannot create a temporary file for the upload");
		return;
	}
	u->h256 = EVP_MD_CTX_new();
	u->h512 = EVP_MD_CTX_new();
	if (!u->h256 || !u->h512 || !EVP_DigestInit_ex(u->h256, EVP_sha256(), NULL) ||
	    !EVP_DigestInit_ex(u->h512, EVP_sha512(), NULL))
		fp_reply_error(r, 500, "crypto", "cannot start hashing");
}

static void upload_data(struct fp_req *r, const char *p, size_t n)
{
	struct upload *u = r->stream_ctx;
	if (!u || u->status)
		return;
	if (u->len + n > u->cap) {
		char msg[160];
		snprintf(msg, sizeof(msg),
		         "the artifact is larger than %" PRIu64
		         " bytes (artifact_max_bytes); nothing was stored",
		         u->cap);
		up_fail(u, 413, "too_large", msg);
		return;
	}
	if (!EVP_DigestUpdate(u->h256, p, n) || !EVP_DigestUpdate(u->h512, p, n)) {
		up_fail(u, 500, "crypto", "hashing failed");
		return;
	}
	while (n) {
		ssize_t w = write(u->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			up_fail(u, 507, "io",
			        "cannot write the upload (disk full?); nothing was stored");
			return;
		}
		p += w;
		n -= (size_t)w;
		u->len += (uint64_t)w;
	}
}

static void hex(const unsigned char *d, size_t n, char *out)
{
	static const char h[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = h[d[i] >> 4];
		out[2 * i + 1] = h[d[i] & 15];
	}
	out[2 * n] = '\0';
}

static json_t *artifact_json(const char *sha256, const char *sha512, int64_t length, const char *by,
                             const char *at)
{
	return json_pack("{s:s,s:I,s:{s:s,s:s},s:s,s:s}", "sha256", sha256, "length",
	                 (json_int_t)length, "hashes", "sha256", sha256, "sha512", sha512,
	                 "created_by", by, "created_at", at);
}

static void upload_finish(struct fp_req *r)
{
	struct upload *u = r->stream_ctx;
	struct fp_err err = {0};
	char sha256[FP_SHA256_HEX_LEN + 1], sha512[SHA512_HEX_LEN + 1], final[ARTIFACT_PATH_MAX];
	unsigned char d256[32], d512[64];
	int created_file = 0;
	if (!u) {
		fp_reply_error(r, 500, "internal", "the upload has no state");
		return;
	}
	if (u->status) {
		fp_reply_error(r, u->status, u->code, "%s", u->msg);
		return;
	}
	if (u->len == 0) {
		fp_reply_error(r, 400, "invalid", "the request body must hold the artifact");
		return;
	}
	if (!EVP_DigestFinal_ex(u->h256, d256, NULL) || !EVP_DigestFinal_ex(u->h512, d512, NULL)) {
		fp_reply_error(r, 500, "crypto", "hashing failed");
		return;
	}
	hex(d256, 32, sha256);
	hex(d512, 64, sha512);
	if (fsync(u->fd) || fp_artifact_path(r->srv, sha256, final, sizeof(final))) {
		fp_reply_error(r, 500, "io", "cannot store the upload");
		return;
	}
	close(u->fd);
	u->fd = -1;
	if (access(final, F_OK) == 0) {
		unlink(u->tmp); /* the same content is stored already */
	} else {
		if (rename(u->tmp, final)) {
			unlink(u->tmp);
			fp_reply_error(r, 500, "io", "cannot store the upload");
			return;
		}
		created_file = 1;
	}
	char now[32], by[160], obj[80];
	fp_time_rfc3339(fp_now_s(), now);
	fp_actor_name(&r->who, by);
	snprintf(obj, sizeof(obj), "artifact:%s", sha256);
	int64_t exists = 0;
	int rc = fp_db_begin(r->db, &err);
	if (rc == 0)
		rc = fp_db_run(r->db, &err, &exists,
		               "SELECT COUNT(*) FROM artifacts WHERE sha256 = ?", "s", sha256);
	if (rc == 0 && exists) {
		fp_db_rollback(r->db);
		fp_stmt *st = NULL;
		json_t *out = NULL;
		if (fp_db_prepare(r->db,
		                  "SELECT sha512, length, created_by, created_at FROM artifacts "
		                  "WHERE sha256 = ?",
		                  &st, &err) == 0) {
			fp_stmt_text(st, 1, sha256);
			if (fp_stmt_step(st, &err) == FP_DB_ROW)
				out = artifact_json(sha256, fp_stmt_col_text(st, 0),
				                    fp_stmt_col_int(st, 1), fp_stmt_col_text(st, 2),
				                    fp_stmt_col_text(st, 3));
			fp_stmt_finalize(st);
		}
		if (out)
			json_object_set_new(out, "existed", json_true());
		fp_reply(r, out ? 200 : 500, out);
		return;
	}
	if (rc == 0)
		rc = fp_db_run(r->db, &err, NULL,
		               "INSERT INTO artifacts (sha256, sha512, length, created_by, "
		               "created_at) VALUES (?, ?, ?, ?, ?)",
		               "ssiss", sha256, sha512, (int64_t)u->len, by, now);
	json_t *after = artifact_json(sha256, sha512, (int64_t)u->len, by, now);
	if (fp_api_finish(r, rc, &err, "artifact.upload", obj, NULL, after) == 0) {
		char loc[128];
		snprintf(loc, sizeof(loc), "Location: /api/v1/artifacts/%s", sha256);
		snprintf(r->extra_header, sizeof(r->extra_header), "%s", loc);
		json_object_set_new(after, "existed", json_false());
		fp_reply(r, 201, after);
		return;
	}
	json_decref(after);
	if (created_file)
		unlink(final);
}

const struct fp_stream fp_artifact_upload_stream = {
    .begin = upload_begin,
    .data = upload_data,
    .cleanup = upload_cleanup,
};

void fp_api_artifact_upload(struct fp_req *r)
{
	upload_finish(r);
}

static json_t *row_json(struct fp_req *r, fp_stmt *st)
{
	(void)r;
	return artifact_json(fp_stmt_col_text(st, 0), fp_stmt_col_text(st, 1),
	                     fp_stmt_col_int(st, 2), fp_stmt_col_text(st, 3),
	                     fp_stmt_col_text(st, 4));
}

void fp_api_artifacts_list(struct fp_req *r)
{
	fp_api_list_page(r, "SELECT COUNT(*) FROM artifacts",
	                 "SELECT sha256, sha512, length, created_by, created_at FROM artifacts "
	                 "ORDER BY created_at DESC, sha256 LIMIT ? OFFSET ?",
	                 -1, row_json);
}

int fp_artifact_get(fp_db *db, const char *sha256, char *sha512, int64_t *length,
                    struct fp_err *err)
{
	fp_stmt *st = NULL;
	int rc =
	    fp_db_prepare(db, "SELECT sha512, length FROM artifacts WHERE sha256 = ?", &st, err);
	if (rc)
		return rc;
	fp_stmt_text(st, 1, sha256);
	rc = fp_stmt_step(st, err);
	if (rc == FP_DB_ROW) {
		if (sha512)
			snprintf(sha512, SHA512_HEX_LEN + 1, "%s", fp_stmt_col_text(st, 0));
		*length = fp_stmt_col_int(st, 1);
		rc = 0;
	} else if (rc == FP_DB_DONE) {
		rc = fp_err_set(err, FP_ENOTFOUND, "no artifact with sha256 %s", sha256);
	}
	fp_stmt_finalize(st);
	return rc;
}

void fp_api_artifact_get(struct fp_req *r)
{
	const char *sha = r->params[0];
	if (!fp_sha256_hex_valid(sha)) {
		fp_reply_error(r, 404, "not_found",
		               "an artifact is named by 64 lowercase hex digits");
		return;
	}
	fp_stmt *st = NULL;
	struct fp_err err = {0};
	if (fp_db_prepare(r->db,
	                  "SELECT sha256, sha512, length, created_by, created_at FROM artifacts "
	                  "WHERE sha256 = ?",
	                  &st, &err)) {
		fp_reply_err(r, &err);
		return;
	}
	fp_stmt_text(st, 1, sha);
	if (fp_stmt_step(st, &err) == FP_DB_ROW)
		fp_reply(r, 200, row_json(r, st));
	else
		fp_reply_error(r, 404, "not_found", "no artifact with sha256 %s", sha);
	fp_stmt_finalize(st);
}

/* Whether an If-None-Match header names etag (a quoted sha256), or is "*". */
static int etag_matches(const char *inm, const char *etag)
{
	size_t el = strlen(etag);
	for (const char *p = inm; p && *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '*')
			return 1;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (strncmp(p, etag, el) == 0 && (p[el] == '\0' || p[el] == ',' || p[el] == ' '))
			return 1;
		p = strchr(p, ',');
	}
	return 0;
}

static int parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	if (n == 0 || n > 19)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/*
 * Parses one "bytes=a-b", "bytes=a-" or "bytes=-n" range against size.
 * Returns 1 with [*off, *off + *len) when satisfiable, 0 when unsatisfiable
 * (416), -1 when the header is not a single byte range (it is then ignored
 * and the whole file is sent, as RFC 9110 allows).
 */
static int parse_range(const char *h, uint64_t size, uint64_t *off, uint64_t *len)
{
	if (strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
		return -1;
	const char *spec = h + 6, *dash = strchr(spec, '-');
	if (!dash)
		return -1;
	uint64_t a, b;
	if (dash == spec) {
		if (parse_u64(dash + 1, strlen(dash + 1), &b))
			return -1;
		if (b == 0 || size == 0)
			return 0;
		if (b > size)
			b = size;
		*off = size - b;
		*len = b;
		return 1;
	}
	if (parse_u64(spec, (size_t)(dash - spec), &a))
		return -1;
	if (dash[1] == '\0') {
		b = size ? size - 1 : 0;
	} else {
		if (parse_u64(dash + 1, strlen(dash + 1), &b) || b < a)
			return -1;
		if (b >= size)
			b = size - 1;
	}
	if (a >= size)
		return 0;
	*off = a;
	*len = b - a + 1;
	return 1;
}

void fp_artifact_serve(struct fp_req *r, const char *sha256)
{
	char path[ARTIFACT_PATH_MAX], etag[FP_SHA256_HEX_LEN + 3], buf[96];
	if (!fp_sha256_hex_valid(sha256) || fp_artifact_path(r->srv, sha256, path, sizeof(path))) {
		fp_reply_error(r, 404, "not_found",
		               "an artifact is named by 64 lowercase hex digits");
		return;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		fp_reply_error(r, 404, "not_found", "no artifact with sha256 %s", sha256);
		return;
	}
	uint64_t size = (uint64_t)st.st_size, off = 0, len = size;
	snprintf(etag, sizeof(etag), "\"%s\"", sha256);
	fp_reply_header(r, "ETag", etag);
	fp_reply_header(r, "Accept-Ranges", "bytes");
	const char *inm = fp_req_header(r, "If-None-Match");
	if (inm && etag_matches(inm, etag)) {
		close(fd);
		fp_reply_empty(r, 304);
		return;
	}
	const char *range = fp_req_header(r, "Range");
	const char *if_range = fp_req_header(r, "If-Range");
	int status = 200;
	if (range && (!if_range || strcmp(if_range, etag) == 0)) {
		int pr = parse_range(range, size, &off, &len);
		if (pr == 0) {
			close(fd);
			snprintf(buf, sizeof(buf), "bytes */%" PRIu64, size);
			fp_reply_header(r, "Content-Range", buf);
			fp_reply_error(r, 416, "range_not_satisfiable",
			               "the range is outside the artifact's %" PRIu64 " bytes",
			               size);
			return;
		}
		if (pr == 1) {
			status = 206;
			snprintf(buf, sizeof(buf), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, off,
			         off + len - 1, size);
			fp_reply_header(r, "Content-Range", buf);
		} else {
			off = 0;
			len = size;
		}
	}
	fp_reply_fd(r, status, "application/octet-stream", fd, off, len);
}

void fp_api_artifact_content(struct fp_req *r)
{
	fp_artifact_serve(r, r->params[0]);
}

void fp_api_device_artifact(struct fp_req *r)
{
	fp_artifact_serve(r, r->params[0]);
}
