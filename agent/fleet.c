/*
 * fleet.c — `fleetpatch-agent fleet`: many simulated devices in one process,
 * for fleet tests and benchmarks.
 *
 * Device i is a whole --simulate device in BASE/dev-%05d (slots are files,
 * the bootloader environment is a file, state/ holds the journal and the
 * key pair, agent.conf is written on first start when it is absent). The
 * devices share nothing but the process: a min-heap orders them by the
 * time of their next poll, and a pool of worker threads takes the device
 * that is due, loads it from disk into the worker's struct agent, polls it
 * with the same code as a single agent (daemon.c), and puts it back with
 * its next time. Between polls a device keeps only a small struct in memory
 * (its session: token, backoff, the hash of the last inventory accepted);
 * everything else is on disk, read again at the next poll.
 *
 * A reboot does not re-execute the process: the device's start (the
 * simulated bootloader's pick, the journal, the state machine from the
 * journaled state) runs again from disk in a struct agent cleared as a new
 * process would have it, and its session is dropped.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "fetch.h"
#include "fileio.h"
#include "log.h"

#define FLEET_COUNT_MAX   100000 /* devices in one process */
#define FLEET_THREADS_DEF 8
#define FLEET_THREADS_MAX 256
#define FLEET_BOOTS_MAX   16  /* in-process reboots of one device in one turn */
#define FLEET_IDLE_MS     200 /* a worker looks at the stop flag at least this often */
#define FLEET_TEXT_MAX    256 /* bytes of --model, --firmware-version, --identity-prefix */

static const char fleet_usage[] =
    "usage: fleetpatch-agent fleet --dir BASE --count N --server URL --tuf-root FILE\n"
    "              [--threads T] [--model M] [--firmware-version V] [--identity-prefix P]\n"
    "              [--timezone TZ] [--poll-interval S] [--config FILE] [-v]\n"
    "\n"
    "Runs N simulated devices in one process (fleet tests, benchmarks). Device i\n"
    "lives in BASE/dev-%05d with the layout of --simulate DIR; a reboot restarts the\n"
    "device inside the process (no re-exec). BASE/dev-NNNNN/health-fail makes that\n"
    "device's health check fail, BASE/dev-NNNNN/boot-hang its new slot hang.\n"
    "\n"
    "  --dir BASE            the devices' directories (made when missing)\n"
    "  --count N             devices, 1 to 100000\n"
    "  --server URL          the fleetpatchd URL\n"
    "  --tuf-root FILE       the root.json every device ships with\n"
    "  --threads T           worker threads, 1 to 256 (default 8)\n"
    "  --model M             model (default unknown)\n"
    "  --firmware-version V  version of the factory image (default 1.0)\n"
    "  --identity-prefix P   identities are P00000, P00001, ... (default fleet-)\n"
    "  --timezone TZ         the timezone setting, reported as attribute \"timezone\"\n"
    "  --poll-interval S     poll_interval_seconds (default: the server's)\n"
    "  --config FILE         settings for every device, under its own agent.conf\n"
    "  -v                    info log lines (-vv debug); errors only by default\n"
    "\n"
    "The options are written into BASE/dev-NNNNN/agent.conf on first start only:\n"
    "an existing agent.conf wins, so single devices can be customised. The CA file\n"
    "and the stall timeout are the process's, from --config. SIGTERM or SIGINT\n"
    "stops the whole fleet.\n";

/* What a device keeps in memory between its polls: the agent's session. */
struct fleet_dev {
	long long due_ms; /* monotonic time of the next poll */
	int idx;
	int started; /* its start ran since the process (or its last reboot) began */
	int booted;  /* the slot its start booted */
	int fails;
	long poll_s;
	char *token; /* NULL, or the device token (owned) */
	int64_t token_expires;
	int64_t last_auth_ts;
	int inventory_sent;
	unsigned char inventory_hash[32];
	int64_t inventory_at;
};

struct fleet {
	const char *base, *config;
	int count, threads;
	struct fleet_dev *devs;
	struct fleet_dev **heap; /* min-heap by due_ms of the devices no worker holds */
	int n_heap;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
};

struct worker {
	struct fleet *f;
	pthread_t th;
	struct agent *a; /* the device being polled (about 100 KiB, one per worker) */
	unsigned seed;
};

static void heap_push(struct fleet *f, struct fleet_dev *d)
{
	int i = f->n_heap++;
	while (i > 0) {
		int p = (i - 1) / 2;
		if (f->heap[p]->due_ms <= d->due_ms)
			break;
		f->heap[i] = f->heap[p];
		i = p;
	}
	f->heap[i] = d;
}

static struct fleet_dev *heap_pop(struct fleet *f)
{
	struct fleet_dev *top = f->heap[0], *last = f->heap[--f->n_heap];
	int i = 0;
	for (;;) {
		int c = 2 * i + 1;
		if (c >= f->n_heap)
			break;
		if (c + 1 < f->n_heap && f->heap[c + 1]->due_ms < f->heap[c]->due_ms)
			c++;
		if (last->due_ms <= f->heap[c]->due_ms)
			break;
		f->heap[i] = f->heap[c];
		i = c;
	}
	if (f->n_heap)
		f->heap[i] = last;
	return top;
}

static void dev_dir(const struct fleet *f, int idx, char *out, size_t cap)
{
	snprintf(out, cap, "%s/dev-%05d", f->base, idx);
}

/* Loads device d's configuration from disk into a cleared *a, with its session. */
static int load(struct fleet *f, struct fleet_dev *d, struct agent *a, struct fp_err *err)
{
	char dir[AGENT_PATH_MAX];
	memset(a, 0, sizeof(*a));
	a->j.fd = -1;
	a->in_process = 1;
	a->poll_s = d->poll_s ? d->poll_s : 300;
	dev_dir(f, d->idx, dir, sizeof(dir));
	int rc = agent_config_load(&a->c, f->config, err);
	if (rc == 0)
		rc = agent_config_simulate(&a->c, dir, err);
	if (rc == 0)
		rc = agent_config_check(&a->c, err);
	if (!a->c.firmware_version[0])
		snprintf(a->c.firmware_version, sizeof(a->c.firmware_version), "1.0");
	if (d->token)
		snprintf(a->token, sizeof(a->token), "%s", d->token);
	a->booted = d->booted;
	a->token_expires = d->token_expires;
	a->last_auth_ts = d->last_auth_ts;
	a->inventory_sent = d->inventory_sent;
	memcpy(a->inventory_hash, d->inventory_hash, sizeof(a->inventory_hash));
	a->inventory_at = d->inventory_at;
	return rc;
}

static void save(struct fleet_dev *d, const struct agent *a)
{
	if (!d->token || strcmp(d->token, a->token) != 0) {
		free(d->token);
		d->token = a->token[0] ? strdup(a->token) : NULL;
	}
	d->booted = a->booted;
	d->poll_s = a->poll_s;
	d->token_expires = a->token_expires;
	d->last_auth_ts = a->last_auth_ts;
	d->inventory_sent = a->inventory_sent;
	memcpy(d->inventory_hash, a->inventory_hash, sizeof(d->inventory_hash));
	d->inventory_at = a->inventory_at;
}

/* A reboot: nothing but the disk survives it. */
static void reboot(struct fleet_dev *d, struct agent *a)
{
	agent_release(a);
	free(d->token);
	d->token = NULL;
	d->poll_s = 0;
	d->token_expires = d->last_auth_ts = d->inventory_at = 0;
	d->inventory_sent = 0;
	d->started = 0;
}

/* One turn of device d: its start when due, one poll, and the starts after reboots. */
static int run_device(struct fleet *f, struct worker *w, struct fleet_dev *d)
{
	struct agent *a = w->a;
	struct fp_err err = {0};
	int rc = 0;
	for (int boots = 0; boots < FLEET_BOOTS_MAX && !agent_stopping(); boots++) {
		fp_err_clear(&err);
		rc = load(f, d, a, &err);
		agent_log_set_device(a->c.identity[0] ? a->c.identity : NULL);
		if (rc == 0)
			rc = d->started ? agent_resume(a, &err) : agent_start(a, &err);
		if (rc) {
			agent_log(AGENT_LOG_ERROR,
			          d->started ? "cannot open the device" : "cannot start",
			          "dev=%d error=\"%s\"", d->idx, err.msg);
			agent_release(a);
			break;
		}
		if (!d->started) {
			d->started = 1;
			if (a->rebooting) {
				reboot(d, a);
				continue;
			}
		}
		rc = agent_poll_once(a);
		if (a->rebooting) {
			reboot(d, a);
			continue;
		}
		save(d, a);
		agent_release(a);
		break;
	}
	agent_log_set_device(NULL);
	return rc;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct fleet *f = w->f;
	pthread_mutex_lock(&f->mu);
	while (!f->stop && !agent_stopping()) {
		long long now = agent_now_ms();
		long long wait = FLEET_IDLE_MS;
		if (f->n_heap && f->heap[0]->due_ms <= now) {
			struct fleet_dev *d = heap_pop(f);
			pthread_mutex_unlock(&f->mu);
			int rc = run_device(f, w, d);
			long long next = agent_next_poll_ms(w->a, rc, &d->fails, &w->seed);
			pthread_mutex_lock(&f->mu);
			d->due_ms = agent_now_ms() + next;
			heap_push(f, d);
			pthread_cond_signal(&f->cv);
			continue;
		}
		if (f->n_heap && f->heap[0]->due_ms - now < wait)
			wait = f->heap[0]->due_ms - now;
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)(wait / 1000);
		ts.tv_nsec += (long)(wait % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&f->cv, &f->mu, &ts);
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

/* Makes BASE/dev-NNNNN and its agent.conf, unless one is there already. */
static int prepare(const struct fleet *f, int idx, const char *text, struct fp_err *err)
{
	char dir[AGENT_PATH_MAX], conf[AGENT_PATH_MAX + 16];
	dev_dir(f, idx, dir, sizeof(dir));
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return fp_err_set(err, FP_EIO, "%s: %s", dir, strerror(errno));
	snprintf(conf, sizeof(conf), "%s/agent.conf", dir);
	if (access(conf, F_OK) == 0)
		return 0;
	return agent_write_atomic(conf, text, strlen(text), 0644, err);
}

static int parse_int(const char *s, long min, long max, long *out)
{
	char *end = NULL;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return FP_EINVAL;
	*out = v;
	return 0;
}

int agent_fleet_main(int argc, char **argv)
{
	enum {
		O_DIR = 256,
		O_COUNT,
		O_SERVER,
		O_THREADS,
		O_MODEL,
		O_FW,
		O_PREFIX,
		O_TZ,
		O_POLL,
		O_ROOT,
		O_CONFIG
	};
	static const struct option opts[] = {
	    {"dir", required_argument, NULL, O_DIR},
	    {"count", required_argument, NULL, O_COUNT},
	    {"server", required_argument, NULL, O_SERVER},
	    {"threads", required_argument, NULL, O_THREADS},
	    {"model", required_argument, NULL, O_MODEL},
	    {"firmware-version", required_argument, NULL, O_FW},
	    {"identity-prefix", required_argument, NULL, O_PREFIX},
	    {"timezone", required_argument, NULL, O_TZ},
	    {"poll-interval", required_argument, NULL, O_POLL},
	    {"tuf-root", required_argument, NULL, O_ROOT},
	    {"config", required_argument, NULL, O_CONFIG},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *server = NULL, *model = "unknown", *fw = "1.0", *prefix = "fleet-", *tz = NULL,
	           *root = NULL;
	long count = 0, threads = FLEET_THREADS_DEF, poll = 0;
	int verbose = 0, o, rc = 1;
	struct fleet f = {0};
	struct worker *ws = NULL;
	struct fp_err err = {0};
	char *text = NULL, rootabs[AGENT_PATH_MAX] = "";
	optind = 1;
	while ((o = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (o) {
		case O_DIR: f.base = optarg; break;
		case O_COUNT:
			if (parse_int(optarg, 1, FLEET_COUNT_MAX, &count)) {
				fprintf(stderr, "fleetpatch-agent fleet: --count is 1 to %d\n",
				        FLEET_COUNT_MAX);
				return 2;
			}
			break;
		case O_SERVER: server = optarg; break;
		case O_THREADS:
			if (parse_int(optarg, 1, FLEET_THREADS_MAX, &threads)) {
				fprintf(stderr, "fleetpatch-agent fleet: --threads is 1 to %d\n",
				        FLEET_THREADS_MAX);
				return 2;
			}
			break;
		case O_MODEL: model = optarg; break;
		case O_FW: fw = optarg; break;
		case O_PREFIX: prefix = optarg; break;
		case O_TZ: tz = optarg; break;
		case O_POLL:
			if (parse_int(optarg, 1, 7 * 86400, &poll)) {
				fputs("fleetpatch-agent fleet: --poll-interval is 1 to 604800 s\n",
				      stderr);
				return 2;
			}
			break;
		case O_ROOT: root = optarg; break;
		case O_CONFIG: f.config = optarg; break;
		case 'v': verbose++; break;
		case 'h': fputs(fleet_usage, stdout); return 0;
		default: fputs(fleet_usage, stderr); return 2;
		}
	}
	if (optind != argc || !f.base || !count || !server) {
		fputs(fleet_usage, stderr);
		return 2;
	}
	if (strlen(f.base) > AGENT_PATH_MAX - 64 || strlen(model) >= FLEET_TEXT_MAX ||
	    strlen(fw) >= FLEET_TEXT_MAX || strlen(prefix) >= FLEET_TEXT_MAX - 8 ||
	    (tz && strlen(tz) > AGENT_TZ_MAX) || strlen(server) >= AGENT_PATH_MAX ||
	    (root && strlen(root) >= AGENT_PATH_MAX) || strpbrk(server, "\n") ||
	    strpbrk(model, "\n") || strpbrk(fw, "\n") || strpbrk(prefix, "\n") ||
	    (tz && strpbrk(tz, "\n"))) {
		fputs("fleetpatch-agent fleet: an option is too long or holds a newline\n", stderr);
		return 2;
	}
	/* Each device's agent.conf must name the root wherever the agent runs from. */
	if (root && !realpath(root, rootabs)) {
		fprintf(stderr, "fleetpatch-agent fleet: %s: %s\n", root, strerror(errno));
		return 2;
	}
	agent_log_set_level(verbose > 1 ? AGENT_LOG_DEBUG
	                    : verbose   ? AGENT_LOG_INFO
	                                : AGENT_LOG_ERROR);
	f.count = (int)count;
	f.threads = (int)threads;
	if (mkdir(f.base, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "fleetpatch-agent fleet: %s: %s\n", f.base, strerror(errno));
		return 1;
	}
	size_t cap = 3 * AGENT_PATH_MAX + 4 * FLEET_TEXT_MAX;
	text = malloc(cap);
	f.devs = calloc((size_t)f.count, sizeof(*f.devs));
	f.heap = calloc((size_t)f.count, sizeof(*f.heap));
	ws = calloc((size_t)f.threads, sizeof(*ws));
	if (!text || !f.devs || !f.heap || !ws) {
		fputs("fleetpatch-agent fleet: out of memory\n", stderr);
		goto out;
	}
	for (int i = 0; i < f.count; i++) {
		int n =
		    snprintf(text, cap,
		             "# written by fleetpatch-agent fleet; edits here win\n"
		             "server = %s\nidentity = %s%05d\nmodel = %s\nfirmware_version = %s\n",
		             server, prefix, i, model, fw);
		if (root)
			n += snprintf(text + n, cap - (size_t)n, "tuf_root = %s\n", rootabs);
		if (tz)
			n += snprintf(text + n, cap - (size_t)n, "timezone = %s\n", tz);
		if (poll)
			snprintf(text + n, cap - (size_t)n, "poll_interval_seconds = %ld\n", poll);
		if (prepare(&f, i, text, &err) != 0) {
			fprintf(stderr, "fleetpatch-agent fleet: %s\n", err.msg);
			goto out;
		}
		f.devs[i].idx = i;
		f.devs[i].due_ms = agent_now_ms();
		heap_push(&f, &f.devs[i]);
	}
	/* The process-wide transfer settings come from --config. */
	struct agent_config *base = malloc(sizeof(*base));
	if (!base || agent_config_load(base, f.config, &err) != 0) {
		fprintf(stderr, "fleetpatch-agent fleet: %s\n", base ? err.msg : "out of memory");
		free(base);
		goto out;
	}
	agent_signals_init();
	/* Both keep process-wide state: set up once, before any thread. */
	json_object_seed(0);
	if (agent_fetch_init(&err) != 0) {
		fprintf(stderr, "fleetpatch-agent fleet: %s\n", err.msg);
		free(base);
		goto out;
	}
	agent_fetch_set_ca(base->ca_file);
	agent_fetch_set_stall_timeout(base->stall_timeout_s);
	free(base);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&f.cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&f.mu, NULL);
	fprintf(stderr,
	        "fleetpatch-agent: level=info msg=\"fleet started\" devices=%d threads=%d "
	        "dir=%s pid=%d\n",
	        f.count, f.threads, f.base, (int)getpid());
	int started = 0;
	for (; started < f.threads; started++) {
		ws[started].f = &f;
		ws[started].seed = (unsigned)(time(NULL) ^ getpid()) + (unsigned)started * 7919u;
		ws[started].a = malloc(sizeof(struct agent));
		if (!ws[started].a ||
		    pthread_create(&ws[started].th, NULL, worker_main, &ws[started]) != 0) {
			free(ws[started].a);
			fputs("fleetpatch-agent fleet: cannot start a worker thread\n", stderr);
			break;
		}
	}
	rc = started == f.threads ? 0 : 1;
	while (rc == 0 && !agent_stopping()) {
		struct timespec ts = {0, 100 * 1000000};
		nanosleep(&ts, NULL);
	}
	pthread_mutex_lock(&f.mu);
	f.stop = 1;
	pthread_cond_broadcast(&f.cv);
	pthread_mutex_unlock(&f.mu);
	for (int i = 0; i < started; i++) {
		pthread_join(ws[i].th, NULL);
		free(ws[i].a);
	}
	pthread_cond_destroy(&f.cv);
	pthread_mutex_destroy(&f.mu);
	agent_fetch_cleanup();
	fprintf(stderr, "fleetpatch-agent: level=info msg=\"fleet stopped\" devices=%d\n", f.count);
out:
	if (f.devs)
		for (int i = 0; i < f.count; i++)
			free(f.devs[i].token);
	free(f.devs);
	free(f.heap);
	free(ws);
	free(text);
	return rc;
}
