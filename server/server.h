/*
 * server.h — fleetpatchd's shared state and the request interface that every
 * api_*.c handler sees.
 */
#ifndef FP_SERVER_SERVER_H
#define FP_SERVER_SERVER_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "fleetpatch/err.h"
#include "fleetpatch/risk.h"

#define FP_BODY_MAX_DEFAULT     (1u << 20)   /* JSON request bodies */
#define FP_IMPORT_BODY_MAX      (64u << 20)  /* import uploads */
#define FP_FEED_BODY_MAX        (256u << 20) /* one NVD, KEV or EPSS feed file */
#define FP_SBOM_BODY_MAX        (32u << 20)  /* SBOM and VEX documents */
#define FP_PATH_MAX_PARAMS      4
#define FP_QUERY_MAX            4096       /* bytes of one query parameter */
#define FP_ARTIFACT_MAX_DEFAULT (4L << 30) /* artifact_max_bytes */

struct fp_config {
	char listen_addr[64];
	int listen_port;
	char data_dir[1024];
	char tls_cert[1024];
	char tls_key[1024];
	int allow_insecure_http; /* plain HTTP on a non-loopback address */
	int threads;
	long session_ttl_s;       /* operator login sessions */
	long api_token_max_ttl_s; /* longest API token an operator may create */
	long device_token_ttl_s;  /* short-lived device tokens */
	long login_max_failures;  /* per user and per client address, per window */
	long login_window_s;
	long poll_interval_s; /* what devices are told */
	long max_body_bytes;
	char oui_file[1024];
	int demo;
	char log_level[16];
	struct fp_risk_weights risk; /* risk_* settings; defaults from lib/risk */
	char feed_url[3][1024];      /* feed_nvd_url, feed_kev_url, feed_epss_url; "" = none */
	long feed_interval_s;        /* how often those are fetched */
	long artifact_max_bytes;     /* one artifact upload */
	long tuf_timestamp_expiry_s; /* lifetime of a timestamp the server signs */
	long tuf_snapshot_expiry_s;  /* lifetime of a snapshot the server signs */
	long tuf_resign_check_s;     /* how often the re-signing thread looks */
	long tuf_alert_before_s;     /* alert this long before any role expires */
	long director_expiry_s;      /* lifetime of a signed device assignment */
	long rollout_tick_ms;        /* how often the rollout scheduler decides */
	char zoneinfo_dir[1024];     /* the IANA time zone files, for device windows */
	long webhook_retry_base_s;   /* first wait after a failed webhook delivery */
	long webhook_retention_days; /* finished deliveries older than this are deleted */
};

/* Sets defaults, then applies the file (if any), then command-line values. */
void fp_config_defaults(struct fp_config *c);
int fp_config_listen(struct fp_config *c, const char *addr_port, struct fp_err *err) FP_WUR;
int fp_config_load(struct fp_config *c, const char *path, int must_exist,
                   struct fp_err *err) FP_WUR;

enum fp_role {
	FP_ROLE_NONE = 0,
	FP_ROLE_VIEWER,
	FP_ROLE_OPERATOR,
	FP_ROLE_APPROVER,
	FP_ROLE_ADMIN
};
const char *fp_role_name(int role);
int fp_role_parse(const char *s); /* FP_ROLE_NONE when unknown */

enum fp_auth_kind { FP_AUTH_NONE, FP_AUTH_USER, FP_AUTH_DEVICE };

struct fp_principal {
	int kind; /* enum fp_auth_kind */
	int64_t id;
	int64_t token_id;
	char name[128]; /* username, or device identity */
	int role;
	int64_t last_checkin; /* devices: unix time of the last recorded check-in */
};

struct fp_server;
struct fp_req;
typedef void (*fp_handler)(struct fp_req *r);

/*
 * A route whose body is handed to the handler piece by piece instead of
 * being buffered (artifact uploads). The caller is authenticated before the
 * first byte; the route's fn then runs once the body is complete and
 * replies. An error found while the body arrives is recorded in the
 * handler's own state: HTTP cannot answer before the body is read, so the
 * rest is drained and fn replies the error.
 */
struct fp_stream {
	/* Called once, before any body byte; may reply (the body is then ignored). */
	void (*begin)(struct fp_req *r);
	/* Called with each piece of the body unless begin replied. */
	void (*data)(struct fp_req *r, const char *p, size_t n);
	/* Releases r->stream_ctx however the request ended (also after fn). */
	void (*cleanup)(struct fp_req *r);
};

struct fp_route {
	const char *method;
	const char *pattern; /* "/api/v1/devices/{id}" */
	int auth;            /* enum fp_auth_kind */
	int min_role;        /* for FP_AUTH_USER */
	size_t body_max;     /* 0: the configured default */
	int raw_body;        /* 1: handler reads r->body itself (not JSON) */
	fp_handler fn;
	const struct fp_stream *stream; /* NULL: the body is buffered (see raw_body) */
	atomic_ulong hits[6];           /* by status class 0=other,1xx..5xx */
	atomic_ulong usec_total;
};

struct fp_req {
	struct fp_server *srv;
	void *conn; /* struct MHD_Connection * */
	const char *method;
	const char *path;
	struct fp_route *route;
	char *params[FP_PATH_MAX_PARAMS];
	int nparams;
	char *body;
	size_t body_len, body_cap;
	int too_big;
	json_t *json; /* parsed body for JSON routes; borrowed by handlers */
	struct fp_principal who;
	char client[64];
	fp_db *db; /* a pooled connection for the handler */
	/* The response the handler sets. */
	int status;
	json_t *out;
	char *raw;
	size_t raw_len;
	const char *content_type;
	char extra_header[128]; /* one optional "Name: value" */
	char more_headers[512]; /* further "Name: value" lines, each ending in '\n' */
	int resp_kind;          /* 0: out or raw; FP_RESP_FD; FP_RESP_EMPTY */
	int resp_fd;            /* FP_RESP_FD: owned until the response takes it */
	uint64_t resp_off, resp_len;
	void *stream_ctx; /* a streamed route's state (struct fp_stream) */
	int64_t t_start_us;
};

enum { FP_RESP_JSON = 0, FP_RESP_FD = 1, FP_RESP_EMPTY = 2 };

struct fp_oui;
struct fp_job;

struct fp_server {
	struct fp_config cfg;
	struct fp_db_pool *pool;
	void *mhd;
	struct fp_oui *oui;
	unsigned char device_key[32]; /* HMAC key of device tokens */
	int64_t started_at;
	atomic_int stopping;
	pthread_mutex_t jobs_mu;
	struct fp_job *jobs; /* background jobs (jobs.c) */
	atomic_ulong logins_failed, logins_ok, requests_total;
	pthread_t feeds_thread;
	int feeds_running;
	struct fp_repo *repo;         /* the TUF repository's online keys and thread (repo.h) */
	struct fp_rollouts *rollouts; /* the rollout scheduler (rollouts.h) */
};

/* Responses. fp_reply takes ownership of body. */
void fp_reply(struct fp_req *r, int status, json_t *body);
void fp_reply_error(struct fp_req *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Maps an fp_err to the matching HTTP status and error code. */
void fp_reply_err(struct fp_req *r, const struct fp_err *err);
void fp_reply_raw(struct fp_req *r, int status, const char *ctype, char *data, size_t len);
/* Answers len bytes of the open file fd from off without buffering; takes fd. */
void fp_reply_fd(struct fp_req *r, int status, const char *ctype, int fd, uint64_t off,
                 uint64_t len);
/* Answers status with no body (304, 204). */
void fp_reply_empty(struct fp_req *r, int status);
/* Adds a response header "name: value" (dropped when the headers are full). */
void fp_reply_header(struct fp_req *r, const char *name, const char *value);
/* A 200 page of a listing: {"items", "total", "page", "per_page"}; takes ownership of items. */
void fp_reply_page(struct fp_req *r, json_t *items, int64_t total, int64_t page, int64_t per_page);

/* Request helpers. */
const char *fp_req_query(struct fp_req *r, const char *name);
const char *fp_req_header(struct fp_req *r, const char *name);
/* Rejects any query parameter not in allowed (NULL-terminated); replies 400 and returns -1. */
int fp_req_only_query(struct fp_req *r, const char *const *allowed);
/* Rejects JSON body members not in allowed; replies 400 and returns -1. */
int fp_req_only_fields(struct fp_req *r, const json_t *obj, const char *const *allowed);
/* Parses a positive integer path parameter; replies 404 and returns -1 when it is not one. */
int fp_req_id(struct fp_req *r, int idx, int64_t *out);
/* Paging: page (from 1) and per_page (1..1000, default 50) from the query; -1 after a 400. */
int fp_req_paging(struct fp_req *r, int64_t *page, int64_t *per_page);

/* The route table (routes.c) and the HTTP server (http.c). */
struct fp_route *fp_routes(size_t *n);
int fp_http_start(struct fp_server *s, struct fp_err *err) FP_WUR;
void fp_http_stop(struct fp_server *s);

/* Time. */
int64_t fp_now_us(void);
int64_t fp_now_s(void);
void fp_time_rfc3339(int64_t unix_s, char out[32]);
void fp_time_rfc3339_ms(int64_t unix_us, char out[32]);

/* Audit (audit_log.c): appends an entry inside the caller's transaction. */
int fp_audit_append(fp_db *db, const struct fp_principal *who, const char *action,
                    const char *object, const json_t *before, const json_t *after,
                    struct fp_err *err) FP_WUR;
void fp_actor_name(const struct fp_principal *who, char out[160]);

/* Authentication (auth.c). */
int fp_auth_user_token(struct fp_server *s, fp_db *db, const char *token, struct fp_principal *who,
                       struct fp_err *err) FP_WUR;
int fp_auth_device_token(struct fp_server *s, fp_db *db, const char *token,
                         struct fp_principal *who, struct fp_err *err) FP_WUR;
int fp_device_token_issue(struct fp_server *s, int64_t device_id, int64_t epoch, int64_t ttl_s,
                          char *out, size_t outsz) FP_WUR;
int fp_bootstrap_admin(struct fp_server *s, struct fp_err *err) FP_WUR;
int fp_server_secret(struct fp_server *s, struct fp_err *err) FP_WUR;

/* Metrics text (metrics.c). */
char *fp_metrics_render(struct fp_server *s, fp_db *db, size_t *len);

/* The demo fleet (api_imports.c). */
int fp_demo_seed(struct fp_server *s, struct fp_err *err) FP_WUR;

#endif
