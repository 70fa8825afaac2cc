/*
 * main.c — fleetpatchd: start-up, signals and shutdown.
 *
 * With no options it serves http://127.0.0.1:8080 from ./fleetpatch-data
 * with an embedded SQLite database, creating the database, its schema and a
 * first administrator on the first start.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fleetpatch/oui.h"
#include "api.h"
#include "jobs.h"
#include "vuln.h"
#include "log.h"
#include "repo.h"
#include "rollouts.h"
#include "migrate.h"
#include "server.h"
#include "webhooks.h"

#define OUI_FILE_MAX (32u << 20)

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: fleetpatchd [options]\n"
	        "\n"
	        "The fleetpatch server: API, device endpoints and inventory.\n"
	        "\n"
	        "options:\n"
	        "  -l, --listen ADDR:PORT   address to serve (default 127.0.0.1:8080; [::1]:8080 "
	        "for IPv6)\n"
	        "  -d, --data-dir DIR       database and state (default ./fleetpatch-data)\n"
	        "  -c, --config FILE        config file (default DATA_DIR/fleetpatchd.conf if "
	        "present)\n"
	        "      --demo               create a demo fleet on an empty database\n"
	        "      --log-level LEVEL    debug, info, warn or error (default info)\n"
	        "      --routes             print every served METHOD and path, then exit\n"
	        "  -h, --help               show this help\n"
	        "  -V, --version            show the version\n"
	        "\n"
	        "The config file holds the other settings (TLS, token lifetimes, limits); see\n"
	        "docs/user-guide.md. Plain HTTP is served only on loopback addresses unless\n"
	        "allow_insecure_http = true.\n");
}

static int load_oui(struct fp_server *s)
{
	FILE *f = fopen(s->cfg.oui_file, "rb");
	if (!f) {
		fp_log(FP_LOG_WARN, "no MAC vendor table; imports will not name vendors",
		       "oui_file=%s", s->cfg.oui_file);
		return 0;
	}
	char *buf = malloc(OUI_FILE_MAX);
	size_t n = buf ? fread(buf, 1, OUI_FILE_MAX, f) : 0;
	fclose(f);
	if (!buf)
		return FP_ENOMEM;
	struct fp_err err = {0};
	int rc = fp_oui_parse(buf, n, &s->oui, &err);
	free(buf);
	if (rc)
		fp_log(FP_LOG_WARN, "cannot read the MAC vendor table", "oui_file=%s error=\"%s\"",
		       s->cfg.oui_file, err.msg);
	return 0;
}

static int mkdir_p(const char *dir)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(path, 0700) && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return mkdir(path, 0700) && errno != EEXIST ? -1 : 0;
}

int main(int argc, char **argv)
{
	static struct fp_server srv;
	struct fp_server *s = &srv;
	struct fp_err err = {0};
	const char *listen = NULL, *data_dir = NULL, *config = NULL, *level = NULL;
	int demo = 0;
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"data-dir", required_argument, NULL, 'd'},
	    {"config", required_argument, NULL, 'c'},
	    {"demo", no_argument, NULL, 'D'},
	    {"log-level", required_argument, NULL, 'L'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {"routes", no_argument, NULL, 'R'},
	    {NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "l:d:c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'l': listen = optarg; break;
		case 'd': data_dir = optarg; break;
		case 'c': config = optarg; break;
		case 'D': demo = 1; break;
		case 'L': level = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("fleetpatchd %s\n", FLEETPATCH_VERSION); return 0;
		case 'R': {
			size_t n;
			struct fp_route *rt = fp_routes(&n);
			for (size_t i = 0; i < n; i++)
				printf("%s %s\n", rt[i].method, rt[i].pattern);
			return 0;
		}
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "fleetpatchd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	/*
	 * Assessments and feed imports allocate and free tens of megabytes per
	 * step; without this glibc returns the top of the heap to the kernel and
	 * takes it back at once, and the page clearing that costs showed as a
	 * sixth of an assessment's time.
	 */
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	fp_config_defaults(&s->cfg);
	if (data_dir)
		snprintf(s->cfg.data_dir, sizeof(s->cfg.data_dir), "%s", data_dir);
	char path[1200];
	if (config) {
		if (fp_config_load(&s->cfg, config, 1, &err))
			goto fail;
	} else {
		snprintf(path, sizeof(path), "%s/fleetpatchd.conf", s->cfg.data_dir);
		if (fp_config_load(&s->cfg, path, 0, &err))
			goto fail;
	}
	/* The command line wins over the file. */
	if (data_dir)
		snprintf(s->cfg.data_dir, sizeof(s->cfg.data_dir), "%s", data_dir);
	if (listen && fp_config_listen(&s->cfg, listen, &err))
		goto fail;
	if (level)
		snprintf(s->cfg.log_level, sizeof(s->cfg.log_level), "%s", level);
	enum fp_log_level lvl;
	if (fp_log_level_parse(s->cfg.log_level, &lvl)) {
		fp_err_set(&err, FP_EINVAL, "--log-level: use debug, info, warn or error");
		goto fail;
	}
	fp_log_set_level(lvl);
	s->cfg.demo = demo;

	if (mkdir_p(s->cfg.data_dir)) {
		fp_err_set(&err, FP_EIO, "cannot create data directory %s: %s", s->cfg.data_dir,
		           strerror(errno));
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/fleetpatch.db", s->cfg.data_dir);
	if (fp_db_pool_open(path, s->cfg.threads + 2, &s->pool, &err))
		goto fail;
	fp_db *db = fp_db_pool_get(s->pool);
	int from = 0;
	int rc = fp_migrate(db, &from, &err);
	fp_db_pool_put(s->pool, db);
	if (rc)
		goto fail;
	if (from != fp_migrate_latest())
		fp_log(FP_LOG_INFO, "database schema migrated", "from=%d to=%d", from,
		       fp_migrate_latest());
	pthread_mutex_init(&s->jobs_mu, NULL);
	s->started_at = fp_now_s();
	if (fp_server_secret(s, &err) || fp_repo_open(s, &err) || fp_artifacts_recover(s) ||
	    fp_bootstrap_admin(s, &err) || fp_jobs_recover(s, &err) || fp_vuln_backfill(s, &err) ||
	    load_oui(s))
		goto fail;
	if (s->cfg.demo && fp_demo_seed(s, &err))
		goto fail;

	/* Signals are taken by sigwait below; every thread started after this inherits the mask. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (fp_http_start(s, &err) || fp_feeds_fetch_start(s, &err) || fp_repo_start(s, &err) ||
	    fp_rollouts_start(s, &err) || fp_webhooks_start(s, &err))
		goto fail;
	int tls = s->cfg.tls_cert[0] != '\0';
	fp_log(FP_LOG_INFO, "listening", "url=%s://%s%s%s:%d data_dir=%s schema=%d",
	       tls ? "https" : "http", strchr(s->cfg.listen_addr, ':') ? "[" : "",
	       s->cfg.listen_addr, strchr(s->cfg.listen_addr, ':') ? "]" : "", s->cfg.listen_port,
	       s->cfg.data_dir, fp_migrate_latest());
	int sig = 0;
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			fp_log(FP_LOG_INFO, "SIGHUP ignored; restart to apply configuration", "%s",
			       "");
			continue;
		}
		break;
	}
	fp_log(FP_LOG_INFO, "shutting down", "signal=%d", sig);
	atomic_store(&s->stopping, 1);
	fp_http_stop(s);
	fp_feeds_fetch_stop(s);
	fp_repo_stop(s);
	fp_rollouts_stop(s);
	fp_webhooks_stop(s);
	fp_jobs_shutdown(s);
	fp_repo_close(s);
	fp_db_pool_close(s->pool);
	fp_oui_free(s->oui);
	fp_log(FP_LOG_INFO, "stopped", "%s", "");
	return 0;
fail:
	fp_log(FP_LOG_ERROR, "cannot start", "error=\"%s\"", err.msg);
	fprintf(stderr, "fleetpatchd: %s\n", err.msg);
	if (s->mhd)
		fp_http_stop(s);
	fp_webhooks_stop(s);
	fp_repo_stop(s);
	fp_rollouts_stop(s);
	fp_repo_close(s);
	fp_db_pool_close(s->pool);
	fp_oui_free(s->oui);
	return 1;
}
