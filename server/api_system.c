/*
 * api_system.c — health and Prometheus metrics.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "migrate.h"

void fp_api_health(struct fp_req *r)
{
	int64_t v = 0;
	int db_ok = fp_db_run(r->db, NULL, &v, "SELECT version FROM schema_version", NULL) == 0;
	fp_reply(r, db_ok ? 200 : 503,
	         json_pack("{s:s,s:s,s:s,s:I,s:I}", "status", db_ok ? "ok" : "unavailable",
	                   "version", FLEETPATCH_VERSION, "database", db_ok ? "ok" : "unavailable",
	                   "schema_version", (json_int_t)v, "uptime_s",
	                   (json_int_t)(fp_now_s() - r->srv->started_at)));
}

void fp_api_metrics(struct fp_req *r)
{
	size_t len = 0;
	char *text = fp_metrics_render(r->srv, r->db, &len);
	if (!text) {
		fp_reply_error(r, 500, "internal", "cannot render metrics");
		return;
	}
	fp_reply_raw(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}
