/*
 * metrics.c — the Prometheus text exposition of fleetpatchd: request
 * counters and latency per route, logins, and fleet gauges read from the
 * database at scrape time.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repo.h"
#include "server.h"

struct out {
	char *buf;
	size_t len, cap;
	int failed;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	if (o->failed)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->failed = 1;
			return;
		}
		if ((size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		size_t ncap = o->cap * 2 + (size_t)n;
		char *nb = realloc(o->buf, ncap);
		if (!nb) {
			o->failed = 1;
			return;
		}
		o->buf = nb;
		o->cap = ncap;
	}
}

char *fp_metrics_render(struct fp_server *s, fp_db *db, size_t *len)
{
	struct out o = {malloc(8192), 0, 8192, 0};
	if (!o.buf)
		return NULL;
	o.buf[0] = '\0';
	put(&o,
	    "# HELP fleetpatch_build_info Build information.\n"
	    "# TYPE fleetpatch_build_info gauge\n"
	    "fleetpatch_build_info{version=\"%s\"} 1\n",
	    FLEETPATCH_VERSION);
	put(&o,
	    "# HELP fleetpatch_uptime_seconds Seconds since the server started.\n"
	    "# TYPE fleetpatch_uptime_seconds gauge\n"
	    "fleetpatch_uptime_seconds %lld\n",
	    (long long)(fp_now_s() - s->started_at));
	put(&o, "# HELP fleetpatch_http_requests_total HTTP requests by route and status class.\n"
	        "# TYPE fleetpatch_http_requests_total counter\n");
	size_t n;
	struct fp_route *rt = fp_routes(&n);
	static const char *const cls[] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
	for (size_t i = 0; i < n; i++)
		for (int c = 0; c < 6; c++) {
			unsigned long v = atomic_load(&rt[i].hits[c]);
			if (v)
				put(&o,
				    "fleetpatch_http_requests_total{method=\"%s\",route=\"%s\","
				    "code=\"%s\"} %lu\n",
				    rt[i].method, rt[i].pattern, cls[c], v);
		}
	put(&o, "# HELP fleetpatch_http_request_seconds_total Time spent answering, by route.\n"
	        "# TYPE fleetpatch_http_request_seconds_total counter\n");
	for (size_t i = 0; i < n; i++) {
		unsigned long us = atomic_load(&rt[i].usec_total);
		if (us)
			put(&o,
			    "fleetpatch_http_request_seconds_total{method=\"%s\",route=\"%s\"} "
			    "%.6f\n",
			    rt[i].method, rt[i].pattern, (double)us / 1e6);
	}
	put(&o,
	    "# HELP fleetpatch_logins_total Operator logins by outcome.\n"
	    "# TYPE fleetpatch_logins_total counter\n"
	    "fleetpatch_logins_total{outcome=\"success\"} %lu\n"
	    "fleetpatch_logins_total{outcome=\"failure\"} %lu\n",
	    atomic_load(&s->logins_ok), atomic_load(&s->logins_failed));
	put(&o, "# HELP fleetpatch_devices Devices by enrolment status.\n"
	        "# TYPE fleetpatch_devices gauge\n");
	fp_stmt *st = NULL;
	if (fp_db_prepare(db,
	                  "SELECT status, COUNT(*) FROM devices GROUP BY status ORDER BY status",
	                  &st, NULL) == 0) {
		while (fp_stmt_step(st, NULL) == FP_DB_ROW)
			put(&o, "fleetpatch_devices{status=\"%s\"} %lld\n", fp_stmt_col_text(st, 0),
			    (long long)fp_stmt_col_int(st, 1));
		fp_stmt_finalize(st);
	}
	int64_t audit = 0, groups = 0, users = 0;
	if (fp_db_run(db, NULL, &audit, "SELECT COUNT(*) FROM audit_log", NULL) == 0)
		put(&o,
		    "# HELP fleetpatch_audit_entries Entries in the audit log.\n"
		    "# TYPE fleetpatch_audit_entries gauge\n"
		    "fleetpatch_audit_entries %lld\n",
		    (long long)audit);
	if (fp_db_run(db, NULL, &groups, "SELECT COUNT(*) FROM device_groups", NULL) == 0)
		put(&o,
		    "# HELP fleetpatch_groups Device groups.\n"
		    "# TYPE fleetpatch_groups gauge\n"
		    "fleetpatch_groups %lld\n",
		    (long long)groups);
	if (fp_db_run(db, NULL, &users, "SELECT COUNT(*) FROM users", NULL) == 0)
		put(&o,
		    "# HELP fleetpatch_users Operator accounts.\n"
		    "# TYPE fleetpatch_users gauge\n"
		    "fleetpatch_users %lld\n",
		    (long long)users);
	char *repo = fp_repo_metrics(s, db);
	if (repo)
		put(&o, "%s", repo);
	free(repo);
	if (o.failed) {
		free(o.buf);
		return NULL;
	}
	*len = o.len;
	return o.buf;
}
