/*
 * http.c — the HTTP side of fleetpatchd on libmicrohttpd: routing, body
 * caps, authentication, JSON parsing and responses. Handlers never see a
 * request that is over its cap, malformed, or not allowed for the caller.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fleetpatch/device.h"
#include "log.h"
#include "server.h"

static void drop_fd(struct fp_req *r)
{
	if (r->resp_kind == FP_RESP_FD && r->resp_fd >= 0)
		close(r->resp_fd);
	r->resp_fd = -1;
	r->resp_kind = FP_RESP_JSON;
}

void fp_reply(struct fp_req *r, int status, json_t *body)
{
	drop_fd(r);
	json_decref(r->out);
	free(r->raw);
	r->raw = NULL;
	r->status = status;
	r->out = body;
}

void fp_reply_fd(struct fp_req *r, int status, const char *ctype, int fd, uint64_t off,
                 uint64_t len)
{
	fp_reply(r, status, NULL);
	r->resp_kind = FP_RESP_FD;
	r->resp_fd = fd;
	r->resp_off = off;
	r->resp_len = len;
	r->content_type = ctype;
}

void fp_reply_empty(struct fp_req *r, int status)
{
	fp_reply(r, status, NULL);
	r->resp_kind = FP_RESP_EMPTY;
}

void fp_reply_header(struct fp_req *r, const char *name, const char *value)
{
	size_t used = strlen(r->more_headers);
	int n = snprintf(r->more_headers + used, sizeof(r->more_headers) - used, "%s: %s\n", name,
	                 value);
	if (n < 0 || (size_t)n >= sizeof(r->more_headers) - used)
		r->more_headers[used] = '\0';
}

void fp_reply_raw(struct fp_req *r, int status, const char *ctype, char *data, size_t len)
{
	drop_fd(r);
	json_decref(r->out);
	r->out = NULL;
	free(r->raw);
	r->status = status;
	r->raw = data;
	r->raw_len = len;
	r->content_type = ctype;
}

void fp_reply_page(struct fp_req *r, json_t *items, int64_t total, int64_t page, int64_t per_page)
{
	fp_reply(r, 200,
	         json_pack("{s:o,s:I,s:I,s:I}", "items", items, "total", (json_int_t)total, "page",
	                   (json_int_t)page, "per_page", (json_int_t)per_page));
}

void fp_reply_error(struct fp_req *r, int status, const char *code, const char *fmt, ...)
{
	char msg[FP_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Messages quote user input; keep the JSON valid whatever it held. */
	if (!fp_text_valid(msg, sizeof(msg)))
		snprintf(msg, sizeof(msg), "the request was rejected (%s)", code);
	fp_reply(r, status, json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg));
}

void fp_reply_err(struct fp_req *r, const struct fp_err *err)
{
	int status;
	switch (err->code) {
	case FP_EINVAL: status = 400; break;
	case FP_ETOOBIG: status = 413; break;
	case FP_ENOTFOUND: status = 404; break;
	case FP_EEXIST: status = 409; break;
	case FP_ECONFLICT: status = 409; break;
	case FP_EAUTH: status = 401; break;
	case FP_EPERM: status = 403; break;
	case FP_EUNSUPP: status = 422; break;
	case FP_ELIMIT: status = 429; break;
	default: status = 500; break;
	}
	if (status == 500)
		fp_log(FP_LOG_ERROR, "request failed", "path=%s error=%s", r->path,
		       fp_err_name(err->code));
	fp_reply_error(r, status, fp_err_name(err->code), "%s",
	               err->msg[0] ? err->msg : "internal error");
}

const char *fp_req_query(struct fp_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *fp_req_header(struct fp_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

struct query_check {
	const char *const *allowed;
	const char *bad;
	int too_long;
};

static enum MHD_Result check_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
	(void)kind;
	struct query_check *q = cls;
	if (value && strlen(value) > FP_QUERY_MAX) {
		q->too_long = 1;
		q->bad = key;
		return MHD_NO;
	}
	for (const char *const *a = q->allowed; a && *a; a++)
		if (strcmp(*a, key) == 0)
			return MHD_YES;
	q->bad = key;
	return MHD_NO;
}

int fp_req_only_query(struct fp_req *r, const char *const *allowed)
{
	struct query_check q = {allowed, NULL, 0};
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, check_query, &q);
	if (q.bad) {
		if (q.too_long)
			fp_reply_error(r, 400, "invalid",
			               "query parameter '%.64s' is longer than %d bytes", q.bad,
			               FP_QUERY_MAX);
		else
			fp_reply_error(r, 400, "invalid", "unknown query parameter '%.64s'", q.bad);
		return -1;
	}
	return 0;
}

int fp_req_only_fields(struct fp_req *r, const json_t *obj, const char *const *allowed)
{
	if (!json_is_object(obj)) {
		fp_reply_error(r, 400, "invalid", "the request body must be a JSON object");
		return -1;
	}
	const char *k;
	const json_t *v;
	json_object_foreach((json_t *)obj, k, v)
	{
		int ok = 0;
		for (const char *const *a = allowed; *a; a++)
			if (strcmp(*a, k) == 0)
				ok = 1;
		if (!ok) {
			fp_reply_error(r, 400, "invalid", "unknown field '%.64s'", k);
			return -1;
		}
	}
	return 0;
}

int fp_req_id(struct fp_req *r, int idx, int64_t *out)
{
	const char *s = idx < r->nparams ? r->params[idx] : NULL;
	int64_t v = 0;
	if (!s || !*s || strlen(s) > 18)
		goto bad;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			goto bad;
		v = v * 10 + (*p - '0');
	}
	if (v <= 0)
		goto bad;
	*out = v;
	return 0;
bad:
	fp_reply_error(r, 404, "not_found", "no such resource: '%.64s' is not an id", s ? s : "");
	return -1;
}

static int parse_bounded(const char *s, int64_t min, int64_t max, int64_t *out)
{
	int64_t v = 0;
	if (!s || !*s || strlen(s) > 9)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int fp_req_paging(struct fp_req *r, int64_t *page, int64_t *per_page)
{
	const char *p = fp_req_query(r, "page"), *pp = fp_req_query(r, "per_page");
	*page = 1;
	*per_page = 50;
	if (p && parse_bounded(p, 1, 100000000, page)) {
		fp_reply_error(r, 400, "invalid", "page must be an integer from 1");
		return -1;
	}
	if (pp && parse_bounded(pp, 1, 1000, per_page)) {
		fp_reply_error(r, 400, "invalid", "per_page must be an integer from 1 to 1000");
		return -1;
	}
	return 0;
}

/* Matches path against pattern, filling params; 1 on match. */
static int match(const char *pattern, const char *path, struct fp_req *r)
{
	const char *p = pattern, *s = path;
	int n = 0;
	char *params[FP_PATH_MAX_PARAMS] = {0};
	while (*p && *s) {
		if (*p == '{') {
			const char *pe = strchr(p, '}');
			const char *se = strchr(s, '/');
			if (!se)
				se = s + strlen(s);
			if (se == s || n >= FP_PATH_MAX_PARAMS || !pe)
				goto no;
			params[n] = strndup(s, (size_t)(se - s));
			if (!params[n])
				goto no;
			n++;
			p = pe + 1;
			s = se;
			continue;
		}
		if (*p != *s)
			goto no;
		p++;
		s++;
	}
	if (*p || *s)
		goto no;
	for (int i = 0; i < n; i++)
		r->params[i] = params[i];
	r->nparams = n;
	return 1;
no:
	for (int i = 0; i < n; i++)
		free(params[i]);
	return 0;
}

static void route_request(struct fp_req *r)
{
	size_t n;
	struct fp_route *routes = fp_routes(&n);
	int path_matched = 0;
	for (size_t i = 0; i < n; i++) {
		struct fp_route *rt = &routes[i];
		if (!match(rt->pattern, r->path, r))
			continue;
		if (strcmp(rt->method, r->method) == 0) {
			r->route = rt;
			return;
		}
		path_matched = 1;
		for (int j = 0; j < r->nparams; j++) {
			free(r->params[j]);
			r->params[j] = NULL;
		}
		r->nparams = 0;
	}
	if (path_matched)
		fp_reply_error(r, 405, "method_not_allowed", "%s is not allowed on %.200s",
		               r->method, r->path);
	else
		fp_reply_error(r, 404, "not_found", "no such endpoint: %.200s", r->path);
}

static void authenticate(struct fp_req *r)
{
	const struct fp_route *rt = r->route;
	if (rt->auth == FP_AUTH_NONE)
		return;
	const char *h = fp_req_header(r, "Authorization");
	if (!h || strncasecmp(h, "Bearer ", 7) != 0 || !h[7]) {
		fp_reply_error(r, 401, "unauthorized",
		               "this endpoint needs 'Authorization: Bearer <token>'");
		return;
	}
	struct fp_err err = {0};
	int rc = rt->auth == FP_AUTH_USER
	             ? fp_auth_user_token(r->srv, r->db, h + 7, &r->who, &err)
	             : fp_auth_device_token(r->srv, r->db, h + 7, &r->who, &err);
	if (rc) {
		fp_reply_err(r, &err);
		return;
	}
	if (rt->auth == FP_AUTH_USER && r->who.role < rt->min_role)
		fp_reply_error(r, 403, "forbidden", "this needs the %s role; you are %s",
		               fp_role_name(rt->min_role), fp_role_name(r->who.role));
}

static void parse_json_body(struct fp_req *r)
{
	if (r->route->raw_body)
		return;
	if (r->body_len == 0) {
		if (strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0 ||
		    strcmp(r->method, "PATCH") == 0)
			r->json = json_object(); /* an empty body means "no fields" */
		return;
	}
	if (memchr(r->body, '\0', r->body_len)) {
		fp_reply_error(r, 400, "invalid", "request body contains a NUL byte");
		return;
	}
	json_error_t je;
	r->json = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
	if (!r->json) {
		fp_reply_error(r, 400, "invalid",
		               "request body is not valid JSON: %s (line %d, column %d)", je.text,
		               je.line, je.column);
		return;
	}
	if (!json_is_object(r->json))
		fp_reply_error(r, 400, "invalid", "request body must be a JSON object");
}

static void count(struct fp_req *r)
{
	atomic_fetch_add(&r->srv->requests_total, 1);
	if (!r->route)
		return;
	int cls = r->status / 100;
	if (cls < 1 || cls > 5)
		cls = 0;
	atomic_fetch_add(&r->route->hits[cls], 1);
	atomic_fetch_add(&r->route->usec_total, (unsigned long)(fp_now_us() - r->t_start_us));
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, struct fp_req *r)
{
	struct MHD_Response *resp;
	if (r->resp_kind == FP_RESP_FD) {
		resp =
		    MHD_create_response_from_fd_at_offset64(r->resp_len, r->resp_fd, r->resp_off);
		if (resp)
			r->resp_fd = -1; /* the response closes it */
	} else if (r->resp_kind == FP_RESP_EMPTY) {
		resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		r->content_type = NULL;
	} else if (r->raw) {
		resp = MHD_create_response_from_buffer(r->raw_len, r->raw, MHD_RESPMEM_MUST_FREE);
		r->raw = NULL;
	} else {
		if (!r->out) {
			r->status = 500;
			r->out = json_pack("{s:{s:s,s:s}}", "error", "code", "internal", "message",
			                   "the handler produced no response");
		}
		char *s = json_dumps(r->out, JSON_COMPACT | JSON_REAL_PRECISION(12));
		if (!s)
			return MHD_NO;
		size_t len = strlen(s);
		/* A trailing newline makes curl output and logs readable. */
		char *t = realloc(s, len + 2);
		if (!t) {
			free(s);
			return MHD_NO;
		}
		t[len] = '\n';
		t[len + 1] = '\0';
		resp = MHD_create_response_from_buffer(len + 1, t, MHD_RESPMEM_MUST_FREE);
		r->content_type = "application/json";
	}
	if (!resp)
		return MHD_NO;
	if (r->content_type)
		MHD_add_response_header(resp, "Content-Type", r->content_type);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	for (char *line = r->more_headers; *line;) {
		char *nl = strchr(line, '\n'), *colon = strchr(line, ':');
		if (!nl || !colon || colon > nl)
			break;
		*nl = '\0';
		*colon = '\0';
		MHD_add_response_header(resp, line, colon + 2);
		line = nl + 1;
	}
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (r->extra_header[0]) {
		char name[64];
		const char *colon = strchr(r->extra_header, ':');
		if (colon && (size_t)(colon - r->extra_header) < sizeof(name)) {
			memcpy(name, r->extra_header, (size_t)(colon - r->extra_header));
			name[colon - r->extra_header] = '\0';
			MHD_add_response_header(resp, name, colon + 2);
		}
	}
	count(r);
	if (fp_log_enabled(FP_LOG_DEBUG) || r->status >= 500) {
		char q[256];
		fp_log(r->status >= 500 ? FP_LOG_WARN : FP_LOG_DEBUG, "request",
		       "method=%s path=%s status=%d client=%s us=%lld", r->method,
		       fp_log_quote(r->path, q, sizeof(q)), r->status, r->client,
		       (long long)(fp_now_us() - r->t_start_us));
	}
	enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void client_addr(struct MHD_Connection *conn, char out[64])
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(out, 64, "unknown");
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
		          64);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		          out, 64);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
	(void)version;
	struct fp_server *s = cls;
	struct fp_req *r = *con_cls;
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		*con_cls = r;
		r->srv = s;
		r->conn = conn;
		r->method = method;
		r->path = url;
		r->t_start_us = fp_now_us();
		r->resp_fd = -1;
		client_addr(conn, r->client);
		if (strlen(url) > 1024) {
			fp_reply_error(r, 414, "too_large",
			               "the request path is longer than 1024 bytes");
			return send_reply(conn, r);
		}
		route_request(r);
		if (!r->route)
			return send_reply(conn, r);
		if (r->route->stream) {
			/* Authenticate before accepting a byte of a streamed body. */
			r->db = fp_db_pool_get(s->pool);
			authenticate(r);
			if (!r->status)
				r->route->stream->begin(r);
			fp_db_pool_put(s->pool, r->db);
			r->db = NULL;
			if (r->status)
				return send_reply(conn, r);
			return MHD_YES;
		}
		r->body_cap =
		    r->route->body_max ? r->route->body_max : (size_t)s->cfg.max_body_bytes;
		const char *cl =
		    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
		if (cl && strtoull(cl, NULL, 10) > r->body_cap) {
			fp_reply_error(r, 413, "too_large",
			               "the request body is larger than %zu bytes", r->body_cap);
			return send_reply(conn, r);
		}
		return MHD_YES;
	}
	if (r->status)
		return MHD_YES; /* already answered; MHD drains or closes */
	if (*upload_size) {
		size_t n = *upload_size;
		*upload_size = 0;
		if (r->route->stream) {
			r->route->stream->data(r, upload, n);
			return MHD_YES;
		}
		if (r->too_big)
			return MHD_YES;
		if (r->body_len + n > r->body_cap) {
			r->too_big = 1;
			free(r->body);
			r->body = NULL;
			r->body_len = 0;
			return MHD_YES;
		}
		char *b = realloc(r->body, r->body_len + n + 1);
		if (!b)
			return MHD_NO;
		memcpy(b + r->body_len, upload, n);
		r->body = b;
		r->body_len += n;
		r->body[r->body_len] = '\0';
		return MHD_YES;
	}
	if (r->too_big) {
		fp_reply_error(r, 413, "too_large", "the request body is larger than %zu bytes",
		               r->body_cap);
		return send_reply(conn, r);
	}
	r->db = fp_db_pool_get(s->pool);
	if (!r->route->stream)
		authenticate(r);
	if (!r->status && !r->route->stream)
		parse_json_body(r);
	if (!r->status)
		r->route->fn(r);
	fp_db_pool_put(s->pool, r->db);
	r->db = NULL;
	return send_reply(conn, r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	struct fp_req *r = *con_cls;
	if (!r)
		return;
	if (r->route && r->route->stream && r->stream_ctx)
		r->route->stream->cleanup(r);
	drop_fd(r);
	for (int i = 0; i < r->nparams; i++)
		free(r->params[i]);
	free(r->body);
	free(r->raw);
	json_decref(r->json);
	json_decref(r->out);
	free(r);
	*con_cls = NULL;
}

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	char q[600];
	fp_log(FP_LOG_WARN, "http", "detail=%s", fp_log_quote(msg, q, sizeof(q)));
}

static char *slurp(const char *path, struct fp_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fp_err_set(err, FP_EIO, "cannot read %s", path);
		return NULL;
	}
	char *buf = malloc(1 << 20);
	size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
	fclose(f);
	if (!buf) {
		fp_err_set(err, FP_ENOMEM, "out of memory");
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

int fp_http_start(struct fp_server *s, struct fp_err *err)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	unsigned flags =
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_USE_ITC;
	int loopback = 0;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, s->cfg.listen_addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)s->cfg.listen_port);
		loopback = (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	} else if (inet_pton(AF_INET6, s->cfg.listen_addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)s->cfg.listen_port);
		loopback = IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
		flags |= MHD_USE_IPv6;
	} else {
		return fp_err_set(err, FP_EINVAL, "listen: '%s' is not an IPv4 or IPv6 address",
		                  s->cfg.listen_addr);
	}
	int tls = s->cfg.tls_cert[0] && s->cfg.tls_key[0];
	if (!tls && !loopback && !s->cfg.allow_insecure_http)
		return fp_err_set(err, FP_EINVAL,
		                  "refusing plain HTTP on %s, which is not a loopback address: set "
		                  "tls_cert and tls_key in the config file (or "
		                  "allow_insecure_http = true behind a TLS-terminating proxy)",
		                  s->cfg.listen_addr);
	char *cert = NULL, *key = NULL;
	if (tls) {
		if (!(cert = slurp(s->cfg.tls_cert, err)) || !(key = slurp(s->cfg.tls_key, err))) {
			free(cert);
			return err ? err->code : FP_EIO;
		}
		flags |= MHD_USE_TLS;
	}
	struct MHD_OptionItem opts[] = {
	    {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL},
	    {MHD_OPTION_SOCK_ADDR, 0, &ss},
	    {MHD_OPTION_THREAD_POOL_SIZE, s->cfg.threads, NULL},
	    {MHD_OPTION_CONNECTION_LIMIT, 10000, NULL},
	    {MHD_OPTION_CONNECTION_TIMEOUT, 30, NULL},
	    {MHD_OPTION_CONNECTION_MEMORY_LIMIT, 64 * 1024, NULL},
	    {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL},
	    {tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, cert},
	    {tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, key},
	    {MHD_OPTION_END, 0, NULL},
	};
	s->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_ARRAY, opts,
	                          MHD_OPTION_END);
	free(cert);
	free(key);
	if (!s->mhd)
		return fp_err_set(err, FP_EIO,
		                  "cannot listen on %s:%d (address in use, or bad TLS "
		                  "certificate or key)",
		                  s->cfg.listen_addr, s->cfg.listen_port);
	return 0;
}

void fp_http_stop(struct fp_server *s)
{
	if (s->mhd) {
		/* Stop accepting, then let requests in flight finish. */
		MHD_quiesce_daemon(s->mhd);
		MHD_stop_daemon(s->mhd);
		s->mhd = NULL;
	}
}
