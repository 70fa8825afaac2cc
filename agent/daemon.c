/*
 * daemon.c — `fleetpatch-agent run` / `--simulate DIR`: the device agent.
 *
 * At start it plays the bootloader's step when simulating, reads its
 * journal and continues the update the journal describes (lib/agent_state
 * decides what that means for the slot it booted). Then it polls: it
 * authenticates with its own key, checks in at the interval the server
 * gives (with jitter, and exponential backoff after failures), reports its
 * inventory with the version it really runs, and installs a verified
 * assignment through the A/B backend. Every state is journaled and synced
 * before the agent acts on it.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "bootloader.h"
#include "daemon.h"
#include "fetch.h"
#include "fleetpatch/device_reply.h"
#include "fileio.h"
#include "fleetpatch/agent_state.h"
#include "fleetpatch/conf.h"
#include "fleetpatch/secret.h"
#include "health.h"
#include "install_ab.h"
#include "install_delta.h"
#include "install_module.h"
#include "inventory.h"
#include "log.h"

#define DRIVE_STEPS_MAX 32 /* transitions in one drive() before giving up for this poll */
#define SIM_FACTORY     "fleetpatch simulated factory image\n"

static volatile sig_atomic_t stop_flag, poll_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void on_usr1(int sig)
{
	(void)sig;
	poll_flag = 1;
}

static const char daemon_usage[] =
    "usage: fleetpatch-agent run --config FILE [--once | --single-process] [-v]\n"
    "       fleetpatch-agent --simulate DIR [--config FILE] [--once | --single-process] [-v]\n"
    "\n"
    "Runs the device agent: enrolment with the device's own key, polling, inventory\n"
    "reports, verified downloads into the inactive slot, the boot-slot switch, the\n"
    "health check after the reboot, commit or rollback (docs/design/agent.md).\n"
    "\n"
    "  --config FILE   the configuration file (docs/cli.md lists the settings)\n"
    "  --simulate DIR  a simulated device in DIR: slots are files, the bootloader\n"
    "                  environment is DIR/bootenv, a reboot re-executes the agent,\n"
    "                  DIR/health-fail makes the health check fail; DIR/agent.conf\n"
    "                  is read when present\n"
    "  --once          one poll, then exit (after continuing a journaled update)\n"
    "  --single-process  poll from this process instead of starting one short-lived\n"
    "                  worker per poll from fleetpatch-agentd (more memory at idle)\n"
    "  -v              debug log lines\n"
    "\n"
    "SIGUSR1 makes the agent poll now; SIGTERM stops it.\n";

static int journal(struct agent *a, enum fp_agent_state st)
{
	struct fp_err err = {0};
	enum fp_agent_state from = a->j.cur.state;
	a->w.state = st;
	int rc = agent_journal_write(&a->j, &a->w, &err);
	if (rc)
		agent_log(AGENT_LOG_ERROR, "cannot write the journal; not acting on the new state",
		          "state=%s error=\"%s\"", fp_agent_state_name(st), err.msg);
	else if (from != st)
		agent_log(AGENT_LOG_INFO, "state", "from=%s to=%s target=%s seq=%llu",
		          fp_agent_state_name(from), fp_agent_state_name(st), a->w.target,
		          (unsigned long long)a->w.seq);
	/* Idle runs the booted slot, committed: what the journal's copy keeps. */
	if (rc == 0 && st == FP_AS_IDLE)
		agent_journal_mirror_write(a->c.state_dir, &a->w, a->booted);
	return rc;
}

/*
 * The journal was lost (a file without one valid record). Its copy of the
 * last idle record says which slot was committed and what both slots hold.
 * Booted on that slot, the device is idle on it, with those versions.
 * Booted on the other, which the copy does not vouch for (an update may
 * have written it, and its trial boot was not judged), the agent rolls
 * back to the committed slot. 0 when the copy decided, else the caller
 * starts afresh on the booted slot.
 */
static int recover_journal(struct agent *a)
{
	struct fp_journal_rec m;
	int rc = agent_journal_mirror_read(a->c.state_dir, &m);
	if (rc) {
		agent_log(AGENT_LOG_ERROR,
		          "no copy of the last idle record; idle on the booted slot",
		          "booted=%c copy=%s version=%s", 'A' + a->booted,
		          rc == FP_ENOTFOUND ? "missing" : "damaged", a->c.firmware_version);
		return rc;
	}
	int committed = 1 - m.new_slot;
	a->w = m;
	if (a->booted == committed) {
		agent_log(AGENT_LOG_WARN, "journal restored from the copy of the last idle record",
		          "booted=%c version=%s", 'A' + a->booted, m.slot_version[a->booted]);
		return journal(a, FP_AS_IDLE);
	}
	a->w.new_slot = a->booted;
	a->w.slot_version[a->booted][0] = '\0';
	a->w.slot_sha256[a->booted][0] = '\0';
	a->w.backend[0] = '\0';
	snprintf(a->w.reason, sizeof(a->w.reason),
	         "the journal was lost while slot %c ran an image it has no record of; "
	         "returning to the committed slot %c",
	         'A' + a->booted, 'A' + committed);
	agent_log(AGENT_LOG_ERROR, "update failed", "target=%s reason=\"%s\"", a->w.target,
	          a->w.reason);
	return journal(a, FP_AS_ROLLBACK);
}

static int is_module(const struct agent *a)
{
	return a->w.backend[0] != '\0';
}

/*
 * The facts the state machine decides on. why receives the error when the
 * bootloader environment could not be read ("" otherwise): the new slot then
 * counts as not pending, as a bootloader with an unreadable environment
 * boots its default.
 */
static void boot_facts(struct agent *a, struct fp_agent_facts *f, char *why, size_t cap)
{
	struct agent_bootenv e;
	struct fp_err err = {0};
	why[0] = '\0';
	/*
	 * A module's install is in effect from Install on, whichever slot
	 * booted, and no bootloader falls back from it: only Rollback undoes it.
	 */
	if (is_module(a)) {
		f->running_new = a->w.state == FP_AS_REBOOT || a->w.state == FP_AS_HEALTH ||
		                 a->w.state == FP_AS_COMMIT;
		f->new_pending = 0;
		return;
	}
	f->running_new = a->booted == a->w.new_slot;
	int readable = f->running_new || agent_boot_read(&a->c, &e, &err) == 0;
	if (!readable)
		snprintf(why, cap, "%s", err.msg);
	f->new_pending = readable && !f->running_new && agent_boot_pending(&e, a->w.new_slot);
}

static int progress(void *ctx, int64_t synced, struct fp_err *err)
{
	struct agent *a = ctx;
	(void)err;
	a->w.bytes_done = synced;
	return journal(a, FP_AS_DOWNLOAD);
}

/*
 * The image from the delta target: applied against the running slot into
 * the new one, from the start every time (install_delta.h). A failure other
 * than the network's is reported to the server, which re-signs the
 * assignment full; the agent never falls back to the full image itself.
 */
static int do_delta(struct agent *a, struct fp_err *err)
{
	char path[128], url[AGENT_PATH_MAX];
	snprintf(path, sizeof(path), "/api/v1/device/artifacts/%s", a->w.delta_sha256);
	if (agent_url(a, path, url, sizeof(url)) != 0)
		return fp_err_set(err, FP_ETOOBIG, "server URL is too long");
	struct agent_delta d = {.url = url,
	                        .bearer = a->token,
	                        .base_path = a->c.slot[1 - a->w.new_slot],
	                        .slot_path = a->c.slot[a->w.new_slot],
	                        .delta_sha256 = a->w.delta_sha256,
	                        .delta_length = a->w.delta_length,
	                        .sha256 = a->w.sha256,
	                        .length = a->w.length,
	                        .timeout_s = a->c.download_timeout_s,
	                        .max_rate = a->c.download_rate};
	long long t0 = agent_now_ms();
	int rc = agent_install_delta(&d, err);
	long long ms = agent_now_ms() - t0;
	a->w.bytes_downloaded = d.fetched;
	a->w.download_ms = ms;
	if (rc == 0) {
		a->w.bytes_done = a->w.length;
		a->w.install_ms = ms;
		snprintf(a->w.slot_sha256[a->w.new_slot], sizeof(a->w.slot_sha256[0]), "%s",
		         a->w.sha256);
		snprintf(a->w.slot_version[a->w.new_slot], sizeof(a->w.slot_version[0]), "%s",
		         a->w.version);
		agent_log(AGENT_LOG_INFO, "image made from the delta and verified",
		          "slot=%c bytes=%lld fetched=%lld ms=%lld", 'A' + a->w.new_slot,
		          (long long)a->w.length, (long long)d.fetched, ms);
		return 0;
	}
	if (rc == FP_EIO)
		return rc;
	/* What the slot holds is not the image: nothing may count on it. */
	a->w.slot_sha256[a->w.new_slot][0] = '\0';
	char why[FP_ERR_MSG_MAX];
	snprintf(why, sizeof(why), "delta failed: %s", err->msg);
	struct fp_err rerr = {0};
	if (agent_report_delta_failed(a, a->w.target, why, &rerr) != 0)
		return fp_err_set(err, FP_EIO, "%s (not reported yet: %s)", why, rerr.msg);
	return fp_err_set(err, rc, "%s", why);
}

static int do_download(struct agent *a, struct fp_err *err)
{
	if (a->w.delta_sha256[0] && !is_module(a))
		return do_delta(a, err);
	char path[128], url[AGENT_PATH_MAX], work[AGENT_PATH_MAX + 16],
	    payload[AGENT_PATH_MAX + 32];
	snprintf(path, sizeof(path), "/api/v1/device/artifacts/%s", a->w.sha256);
	if (agent_url(a, path, url, sizeof(url)) != 0 ||
	    agent_module_paths(&a->c, work, sizeof(work), payload, sizeof(payload)) != 0)
		return fp_err_set(err, FP_ETOOBIG,
		                  "server URL or state directory path is too long");
	if (is_module(a) && mkdir(work, 0700) != 0 && errno != EEXIST)
		return fp_err_set(err, FP_EIO, "%s: %s", work, strerror(errno));
	struct agent_download d = {.url = url,
	                           .bearer = a->token,
	                           .slot_path = is_module(a) ? payload : a->c.slot[a->w.new_slot],
	                           .sha256 = a->w.sha256,
	                           .length = a->w.length,
	                           .timeout_s = a->c.download_timeout_s,
	                           .max_rate = a->c.download_rate,
	                           .sync_every = (int64_t)a->c.download_sync_mib << 20,
	                           .offset = a->w.bytes_done,
	                           .progress = progress,
	                           .ctx = a};
	long long t0 = agent_now_ms();
	int rc = agent_install_ab(&d, err);
	long long ms = agent_now_ms() - t0;
	a->w.bytes_downloaded = d.fetched;
	a->w.download_ms = ms;
	if (rc == 0 && is_module(a)) {
		a->w.bytes_done = a->w.length;
		a->w.install_ms = ms;
		agent_log(AGENT_LOG_INFO, "payload downloaded and verified",
		          "module=%s bytes=%lld resumed=%d ms=%lld", a->w.backend,
		          (long long)a->w.length, d.resumed, ms);
		rc = agent_module_run(&a->c, &a->w, FP_MODULE_DOWNLOAD, NULL, err);
	} else if (rc == 0) {
		a->w.bytes_done = a->w.length;
		a->w.install_ms = ms;
		snprintf(a->w.slot_sha256[a->w.new_slot], sizeof(a->w.slot_sha256[0]), "%s",
		         a->w.sha256);
		snprintf(a->w.slot_version[a->w.new_slot], sizeof(a->w.slot_version[0]), "%s",
		         a->w.version);
		agent_log(AGENT_LOG_INFO, "image written and verified",
		          "slot=%c bytes=%lld fetched=%lld resumed=%d ms=%lld", 'A' + a->w.new_slot,
		          (long long)a->w.length, (long long)d.fetched, d.resumed, ms);
	}
	return rc;
}

/* Cleanup, then the payload goes: a module's update has ended either way. */
static void module_cleanup(struct agent *a)
{
	struct fp_err err = {0};
	char work[AGENT_PATH_MAX + 16], payload[AGENT_PATH_MAX + 32];
	if (agent_module_run(&a->c, &a->w, FP_MODULE_CLEANUP, NULL, &err) != 0)
		agent_log(AGENT_LOG_WARN, "module cleanup failed", "error=\"%s\"", err.msg);
	if (agent_module_paths(&a->c, work, sizeof(work), payload, sizeof(payload)) == 0)
		unlink(payload);
}

static int do_reboot(struct agent *a, struct fp_err *err)
{
	a->w.reboots++;
	if (journal(a, a->w.state) != 0)
		return fp_err_set(err, FP_EIO, "cannot journal the reboot");
	agent_log(AGENT_LOG_INFO, "rebooting", "simulate=%d", a->c.simulate);
	if (a->in_process) {
		/* fleet: the caller starts the device again from what is on disk. */
		agent_journal_close(&a->j);
		a->rebooting = 1;
		return 0;
	}
	if (a->c.simulate) {
		agent_journal_close(&a->j);
		agent_session_forget(a);
		fflush(NULL);
		execv("/proc/self/exe", a->argv);
		return fp_err_set(err, FP_EIO, "re-exec failed: %s", strerror(errno));
	}
	int st = 0;
	int rc = agent_run_shell(a->c.reboot_command, 120, &st, err);
	if (rc == 0 && st != 0)
		rc = fp_err_set(err, FP_EIO, "'%s' exited with %d", a->c.reboot_command, st);
	if (rc)
		return rc;
	/* The system is going down; wait to be stopped. */
	while (!stop_flag)
		pause();
	exit(0);
}

/*
 * Runs the state machine from the journaled state with ev until it has
 * nothing left to do. A transient failure (network) leaves the state as it
 * is for the next poll.
 */
static int drive(struct agent *a, enum fp_agent_event ev)
{
	struct fp_err err = {0};
	struct fp_agent_step st;
	char detail[FP_ERR_MSG_MAX] = "", envwhy[FP_ERR_MSG_MAX];
	int failed_in_row = 0;
	for (int guard = 0; guard < DRIVE_STEPS_MAX && !stop_flag; guard++) {
		struct fp_agent_facts f;
		boot_facts(a, &f, envwhy, sizeof(envwhy));
		if (fp_agent_step(a->w.state, ev, &f, &st) != 0)
			return FP_EINVAL;
		/* "Fell back" because the environment could not be read: say that. */
		if (st.reason && envwhy[0] && !detail[0])
			snprintf(detail, sizeof(detail),
			         "the bootloader environment could not be read: %s", envwhy);
		if (st.reason) {
			snprintf(a->w.reason, sizeof(a->w.reason), "%s%s%s", st.reason,
			         detail[0] ? ": " : "", detail);
			agent_log(AGENT_LOG_ERROR, "update failed", "target=%s reason=\"%s\"",
			          a->w.target, a->w.reason);
		}
		/* The firmware's counter guards downgrades; a module's target leaves it. */
		if (a->w.state == FP_AS_COMMIT && st.next == FP_AS_IDLE) {
			if (!is_module(a))
				a->w.running_counter = a->w.security_counter;
			a->w.reason[0] = '\0';
		}
		if ((st.next != a->w.state || st.reason) && journal(a, st.next) != 0)
			return FP_EIO;
		int rc = 0;
		detail[0] = '\0';
		fp_err_clear(&err);
		switch (st.action) {
		case FP_AA_NONE: return 0;
		case FP_AA_REPORT:
			a->inventory_sent = 0;
			if (is_module(a))
				module_cleanup(a);
			if (!a->w.reason[0])
				agent_log(AGENT_LOG_INFO, "update committed",
				          "target=%s version=%s slot=%c", a->w.target, a->w.version,
				          'A' + a->w.new_slot);
			return 0;
		case FP_AA_DOWNLOAD:
			rc = do_download(a, &err);
			if (rc == FP_EIO) {
				agent_log(AGENT_LOG_WARN,
				          "download interrupted; it resumes at the next poll",
				          "target=%s synced=%lld error=\"%s\"", a->w.target,
				          (long long)a->w.bytes_done, err.msg);
				return rc;
			}
			break;
		case FP_AA_SWITCH:
			rc = is_module(a)
			         ? agent_module_run(&a->c, &a->w, FP_MODULE_INSTALL, NULL, &err)
			         : agent_boot_switch(&a->c, a->w.new_slot, &err);
			break;
		case FP_AA_REBOOT:
			if (is_module(a) && a->w.state == FP_AS_REBOOT) {
				int reboot = 1;
				rc = agent_module_run(&a->c, &a->w, FP_MODULE_NEEDS_REBOOT, &reboot,
				                      &err);
				if (rc == 0 && !reboot) {
					/* Carry on as after a boot: the install is in effect. */
					ev = FP_AE_START;
					continue;
				}
			}
			if (rc == 0)
				rc = do_reboot(a, &err);
			if (a->rebooting)
				return 0;
			break;
		case FP_AA_HEALTH:
			rc = agent_health_check(&a->c, &err);
			agent_log(rc ? AGENT_LOG_ERROR : AGENT_LOG_INFO, "health check",
			          "ok=%d slot=%c error=\"%s\"", rc == 0, 'A' + a->booted, err.msg);
			break;
		case FP_AA_COMMIT:
			rc = is_module(a)
			         ? agent_module_run(&a->c, &a->w, FP_MODULE_COMMIT, NULL, &err)
			         : agent_boot_mark_good(&a->c, a->w.new_slot, &err);
			break;
		case FP_AA_ROLLBACK:
			rc = is_module(a)
			         ? agent_module_run(&a->c, &a->w, FP_MODULE_ROLLBACK, NULL, &err)
			         : agent_boot_rollback(&a->c, 1 - a->w.new_slot, &err);
			break;
		default: return FP_EINVAL;
		}
		if (rc) {
			snprintf(detail, sizeof(detail), "%s", err.msg);
			if (st.action != FP_AA_HEALTH)
				agent_log(AGENT_LOG_ERROR, "action failed",
				          "action=%s error=\"%s\"", fp_agent_action_name(st.action),
				          err.msg);
			/*
			 * Two failures in a row (a switch, then the rollback after it;
			 * or a retried commit) are not retried at once: the journaled
			 * state carries on at the next poll.
			 */
			if (++failed_in_row >= 2 && st.action != FP_AA_HEALTH) {
				agent_log(AGENT_LOG_WARN, "retrying at the next poll", "state=%s",
				          fp_agent_state_name(a->w.state));
				return FP_EIO;
			}
		} else {
			failed_in_row = 0;
		}
		ev = rc ? FP_AE_FAIL : FP_AE_OK;
	}
	return stop_flag ? 0 : FP_EIO;
}

struct membuf {
	char buf[AGENT_API_MAX + 1];
	size_t len;
};

static int mem_sink(void *ctx, const void *data, size_t n, struct fp_err *err)
{
	struct membuf *m = ctx;
	(void)err;
	memcpy(m->buf + m->len, data, n);
	m->len += n;
	m->buf[m->len] = '\0';
	return 0;
}

static int api(struct agent *a, const char *method, const char *path, const char *body,
               struct membuf *m, long *status, struct fp_err *err)
{
	char url[AGENT_PATH_MAX];
	if (agent_url(a, path, url, sizeof(url)) != 0)
		return fp_err_set(err, FP_ETOOBIG, "server URL is too long");
	m->len = 0;
	m->buf[0] = '\0';
	struct agent_http_req rq = {.method = method,
	                            .url = url,
	                            .bearer = a->token,
	                            .body = body,
	                            .body_len = body ? strlen(body) : 0,
	                            .max_bytes = AGENT_API_MAX,
	                            .timeout_s = AGENT_API_TIMEOUT,
	                            .sink = mem_sink,
	                            .ctx = m};
	int rc = agent_http(&rq, status, err);
	if (rc == 0 && *status == 401)
		a->token[0] = '\0'; /* expired or revoked: authenticate again */
	return rc;
}

/*
 * PUT /api/v1/device/inventory when it says something new: the first report
 * after each start (with packages and the SBOM), a document that differs
 * from the last one the server accepted, or one older than
 * inventory_interval_seconds. The check-in alone keeps last_seen fresh, so
 * a large fleet does not resend the same document at every poll.
 */
static int report(struct agent *a, struct membuf *m, struct fp_err *err)
{
	json_t *inv = NULL;
	long status = 0;
	unsigned char hash[32];
	char *body = NULL, *plain = NULL;
	int64_t now = (int64_t)time(NULL);
	int rc = agent_inventory_build(&a->c, &a->w, a->booted, &inv, err);
	if (rc)
		return rc;
	json_t *comps = json_incref(json_object_get(inv, "components"));
	json_object_del(inv, "components");
	plain = json_dumps(inv, JSON_COMPACT | JSON_SORT_KEYS);
	if (!plain) {
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	fp_sha256(plain, strlen(plain), hash);
	if (a->inventory_sent && memcmp(hash, a->inventory_hash, sizeof(hash)) == 0 &&
	    now - a->inventory_at < a->c.inventory_interval_s && now >= a->inventory_at) {
		agent_log(AGENT_LOG_DEBUG, "inventory unchanged; not sent", NULL);
		goto out;
	}
	/* Packages and the SBOM go with the first report of each start. */
	if (!a->inventory_sent && comps)
		json_object_set(inv, "components", comps);
	body = json_dumps(inv, JSON_COMPACT);
	if (!body) {
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	rc = api(a, "PUT", "/api/v1/device/inventory", body, m, &status, err);
	if (rc == 0 && status != 200)
		rc = FP_EIO;
	if (rc == 0) {
		agent_log(AGENT_LOG_DEBUG, "inventory sent", "components=%d",
		          !a->inventory_sent && comps);
		a->inventory_sent = 1;
		a->inventory_at = now;
		memcpy(a->inventory_hash, hash, sizeof(hash));
	}
out:
	json_decref(comps);
	json_decref(inv);
	free(plain);
	free(body);
	return rc;
}

int agent_poll_once(struct agent *a)
{
	struct fp_err err = {0};
	long status = 0;
	int rc = 0;
	struct membuf *m = malloc(sizeof(*m));
	if (!m)
		return FP_ENOMEM;
	if (!a->token[0] || (int64_t)time(NULL) >= a->token_expires) {
		/* No token: the first session of this start, or the server answered 401. */
		int lost = !a->token[0];
		rc = agent_enroll(a, &err);
		if (rc) {
			agent_log(rc == FP_ELIMIT ? AGENT_LOG_INFO : AGENT_LOG_ERROR,
			          rc == FP_ELIMIT ? "not accepted yet" : "authentication failed",
			          "error=\"%s\"", err.msg);
			goto out;
		}
		/*
		 * After a 401 the server may have lost the device (a restored
		 * database): report in full. A token renewed on expiry is not news.
		 */
		if (lost)
			a->inventory_sent = 0;
	}
	rc = api(a, "GET", "/api/v1/device/checkin", NULL, m, &status, &err);
	if (rc == 0 && status != 200)
		rc = FP_EIO;
	if (rc) {
		agent_log(AGENT_LOG_ERROR, "check-in failed", "error=\"%s\"", err.msg);
		goto out;
	}
	struct fp_checkin_reply cr;
	if ((rc = fp_checkin_reply_parse(m->buf, m->len, &cr, &err))) {
		agent_log(AGENT_LOG_ERROR, "check-in answer refused", "error=\"%s\"", err.msg);
		goto out;
	}
	if (cr.poll_s)
		a->poll_s = (long)cr.poll_s;
	int64_t av = cr.assignment_version;
	if (a->w.state != FP_AS_IDLE) {
		(void)drive(a, FP_AE_START);
	} else if (av > a->w.assignment_version) {
		int install = 0;
		int64_t before = a->w.assignment_version;
		rc = agent_update_check(a, &install, &err);
		if (rc)
			agent_log(AGENT_LOG_ERROR, "assignment refused", "error=\"%s\"", err.msg);
		if (install) {
			a->w.slot_sha256[a->w.new_slot][0] = '\0';
			a->w.slot_version[a->w.new_slot][0] = '\0';
			(void)drive(a, FP_AE_ASSIGNED);
		} else if (a->w.assignment_version != before) {
			(void)journal(a, FP_AS_IDLE);
			a->inventory_sent = 0;
		}
		rc = 0;
	}
	if (a->rebooting)
		goto out; /* fleet: the device reboots; it reports after its start */
	if (report(a, m, &err) != 0)
		agent_log(AGENT_LOG_WARN, "inventory report failed", "error=\"%s\"", err.msg);
out:
	free(m);
	return rc;
}

static void sleep_ms(long long ms)
{
	long long end = agent_now_ms() + ms;
	while (!stop_flag && !poll_flag && agent_now_ms() < end) {
		struct timespec ts = {0, 100 * 1000000};
		nanosleep(&ts, NULL);
	}
}

/* Where the device booted from: the simulated bootloader, a file, or the kernel command line. */
static int booted_slot(struct agent *a, struct fp_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;
	/*
	 * A simulated start plays the bootloader; a worker that continues a
	 * session was not booted: it reads the slot the last start picked.
	 */
	if (a->c.simulate && !a->quiet_start)
		return agent_boot_simulate(&a->c, &a->booted, err);
	if (a->c.booted_slot_file[0]) {
		rc = agent_read_file(a->c.booted_slot_file, 64, &buf, &len, err);
		if (rc == 0)
			a->booted = buf[0] == 'B' || buf[0] == 'b';
		free(buf);
		return rc;
	}
	rc = agent_read_file("/proc/cmdline", 65536, &buf, &len, err);
	if (rc)
		return rc;
	const char *p = strstr(buf, "rauc.slot=");
	const char *q = strstr(buf, "fleetpatch.slot=");
	if (q)
		p = q + strlen("fleetpatch.slot=");
	else if (p)
		p += strlen("rauc.slot=");
	if (!p) {
		free(buf);
		return fp_err_set(err, FP_ENOTFOUND,
		                  "cannot tell the booted slot: set booted_slot_file, or pass "
		                  "fleetpatch.slot=A|B on the kernel command line");
	}
	a->booted = *p == 'B' || *p == 'b';
	free(buf);
	return 0;
}

int agent_start(struct agent *a, struct fp_err *err)
{
	int rc;
	if (mkdir(a->c.state_dir, 0700) != 0 && errno != EEXIST)
		return fp_err_set(err, FP_EIO, "%s: %s", a->c.state_dir, strerror(errno));
	if (a->c.simulate && access(a->c.slot[0], F_OK) != 0 &&
	    (rc = agent_write_atomic(a->c.slot[0], SIM_FACTORY, strlen(SIM_FACTORY), 0644, err)))
		return rc;
	if ((rc = booted_slot(a, err)) != 0)
		return rc;
	if ((rc = agent_journal_open(&a->j, a->c.state_dir, err)) != 0)
		return rc;
	a->w = a->j.cur;
	if (a->j.fresh && !(a->j.corrupt && recover_journal(a) == 0)) {
		memset(&a->w, 0, sizeof(a->w));
		a->w.new_slot = 1 - a->booted;
		snprintf(a->w.slot_version[a->booted], sizeof(a->w.slot_version[0]), "%s",
		         a->c.firmware_version);
		if (journal(a, FP_AS_IDLE) != 0)
			return fp_err_set(err, FP_EIO, "cannot write the journal");
	}
	/* The TUF client starts from the root the device ships with. */
	char mdir[AGENT_PATH_MAX + 16], root[AGENT_PATH_MAX + 32];
	snprintf(mdir, sizeof(mdir), "%s/tuf", a->c.state_dir);
	snprintf(root, sizeof(root), "%s/root.json", mdir);
	if (mkdir(mdir, 0755) != 0 && errno != EEXIST)
		return fp_err_set(err, FP_EIO, "%s: %s", mdir, strerror(errno));
	if (access(root, F_OK) != 0 && (rc = agent_tuf_init(mdir, a->c.tuf_root, err)) != 0)
		return rc;
	if ((rc = agent_enroll_keys(a, err)) != 0)
		return rc;
	agent_log(a->quiet_start ? AGENT_LOG_DEBUG : AGENT_LOG_INFO, "started",
	          "identity=%s booted=%c state=%s version=%s simulate=%d", a->c.identity,
	          'A' + a->booted, fp_agent_state_name(a->w.state),
	          a->w.slot_version[a->booted][0] ? a->w.slot_version[a->booted]
	                                          : a->c.firmware_version,
	          a->c.simulate);
	/*
	 * --simulate DIR with DIR/boot-hang: a new slot that never reaches user
	 * space. The watchdog reboots it without the agent doing anything, so
	 * the bootloader spends its attempts and falls back.
	 */
	char hang[AGENT_PATH_MAX + 16];
	snprintf(hang, sizeof(hang), "%s/boot-hang", a->c.sim_dir);
	if (a->c.simulate && a->booted == a->w.new_slot && a->w.state != FP_AS_IDLE &&
	    a->w.state != FP_AS_DOWNLOAD && access(hang, F_OK) == 0) {
		agent_log(AGENT_LOG_WARN, "simulated hang of the new slot; the watchdog reboots",
		          "slot=%c", 'A' + a->booted);
		agent_journal_close(&a->j);
		if (a->in_process) {
			a->rebooting = 1;
			return 0;
		}
		agent_session_forget(a);
		fflush(NULL);
		execv("/proc/self/exe", a->argv);
		return fp_err_set(err, FP_EIO, "re-exec failed: %s", strerror(errno));
	}
	(void)drive(a, FP_AE_START);
	if (a->rebooting)
		return 0;
	/*
	 * Running a committed slot: keep it marked good (RAUC's mark-good at
	 * every boot) and its idle record copied. Once per start, not per
	 * worker: a worker that continues a session runs since such a start.
	 */
	if (a->w.state != FP_AS_IDLE || a->quiet_start)
		return 0;
	agent_journal_mirror_write(a->c.state_dir, &a->w, a->booted);
	if (agent_boot_mark_good(&a->c, a->booted, err) != 0)
		agent_log(AGENT_LOG_WARN, "cannot mark the booted slot good", "error=\"%s\"",
		          err->msg);
	return 0;
}

int agent_resume(struct agent *a, struct fp_err *err)
{
	int rc = agent_journal_open(&a->j, a->c.state_dir, err);
	if (rc)
		return rc;
	a->w = a->j.cur;
	/* A device that ran a start has a journal and a key pair; reading them is enough. */
	if (a->j.fresh) {
		agent_journal_close(&a->j);
		return fp_err_set(err, FP_EIO, "%s: the journal went missing", a->c.state_dir);
	}
	return agent_enroll_keys(a, err);
}

void agent_release(struct agent *a)
{
	agent_journal_close(&a->j);
	if (a->priv_pem) {
		fp_wipe(a->priv_pem, strlen(a->priv_pem));
		free(a->priv_pem);
		a->priv_pem = NULL;
	}
	free(a->pub_pem);
	a->pub_pem = NULL;
}

long long agent_next_poll_ms(const struct agent *a, int rc, int *fails, unsigned *seed)
{
	long interval = a->c.poll_interval_s ? a->c.poll_interval_s : a->poll_s;
	*fails = rc && rc != FP_ELIMIT ? *fails + 1 : 0;
	long long wait = interval;
	/* Exponential backoff from one interval, capped. */
	for (int i = 1; i < *fails && wait < a->c.backoff_max_s; i++)
		wait *= 2;
	if (*fails && wait > a->c.backoff_max_s)
		wait = a->c.backoff_max_s;
	/* -5 % to +5 %, so that a fleet does not poll in lockstep. */
	wait *= 1000;
	long long span = wait / 10;
	return wait - wait / 20 + (span > 0 ? (long long)(rand_r(seed) % (span + 1)) : 0);
}

int agent_stopping(void)
{
	return stop_flag != 0;
}

void agent_signals_init(void)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/*
 * Replaces this process with fleetpatch-agentd from the agent's own
 * directory, which runs this binary once per poll as a worker. Returns
 * only on failure.
 */
static int exec_supervisor(char **orig_argv)
{
	char exe[AGENT_PATH_MAX], agentd[AGENT_PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0 || (size_t)n >= sizeof(exe) - 1) {
		agent_log(AGENT_LOG_ERROR, "cannot start", "error=\"cannot read /proc/self/exe\"");
		return 1;
	}
	exe[n] = '\0';
	const char *slash = strrchr(exe, '/');
	snprintf(agentd, sizeof(agentd), "%.*s/fleetpatch-agentd", (int)(slash - exe), exe);
	int argc = 0;
	while (orig_argv[argc])
		argc++;
	if (argc > 60) {
		agent_log(AGENT_LOG_ERROR, "cannot start", "error=\"too many arguments\"");
		return 2;
	}
	char *args[64];
	int k = 0;
	args[k++] = agentd;
	args[k++] = exe;
	for (int i = 1; i < argc; i++)
		args[k++] = orig_argv[i];
	args[k] = NULL;
	fflush(NULL);
	execv(agentd, args);
	agent_log(AGENT_LOG_ERROR, "cannot start",
	          "error=\"%s: %s (install it next to the agent, or pass --single-process)\"",
	          agentd, strerror(errno));
	return 1;
}

int agent_daemon_main(int argc, char **argv, char **orig_argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"simulate", required_argument, NULL, 's'},
	    {"once", no_argument, NULL, '1'},
	    {"single-process", no_argument, NULL, 'S'},
	    {"worker", required_argument, NULL, 'w'},
	    {"report-fd", required_argument, NULL, 'r'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *config = NULL, *sim = NULL;
	int once = 0, single = 0, o, fails = 0;
	long worker = -1, report_fd = -1;
	struct fp_err err = {0};
	static struct agent a;
	optind = 1;
	while ((o = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (o) {
		case 'c': config = optarg; break;
		case 's': sim = optarg; break;
		case '1': once = 1; break;
		case 'S': single = 1; break;
		case 'w':
			if (fp_conf_long(optarg, 0, LONG_MAX, &worker)) {
				fprintf(stderr, "fleetpatch-agent: --worker: not a number: %s\n",
				        optarg);
				return 2;
			}
			break;
		case 'r':
			if (fp_conf_long(optarg, 3, 1024, &report_fd)) {
				fprintf(stderr,
				        "fleetpatch-agent: --report-fd: not a descriptor: %s\n",
				        optarg);
				return 2;
			}
			break;
		case 'v': agent_log_set_level(AGENT_LOG_DEBUG); break;
		case 'h': fputs(daemon_usage, stdout); return 0;
		default: fputs(daemon_usage, stderr); return 2;
		}
	}
	if (optind != argc || (!config && !sim) || ((worker >= 0) != (report_fd >= 0))) {
		fputs(daemon_usage, stderr);
		return 2;
	}
	a.argv = orig_argv;
	a.poll_s = 300;
	if (agent_config_load(&a.c, config, &err) != 0 ||
	    (sim && agent_config_simulate(&a.c, sim, &err) != 0) ||
	    agent_config_check(&a.c, &err) != 0) {
		fprintf(stderr, "fleetpatch-agent: %s\n", err.msg);
		return 2;
	}
	if (!once && !single && worker < 0)
		return exec_supervisor(orig_argv);
	if (sim && !a.c.firmware_version[0])
		snprintf(a.c.firmware_version, sizeof(a.c.firmware_version), "1.0");
	agent_signals_init();
	if (worker >= 0)
		signal(SIGUSR1, SIG_IGN); /* fleetpatch-agentd's signal, sent to the whole unit */
	if (agent_fetch_init(&err) != 0) {
		agent_log(AGENT_LOG_ERROR, "cannot start", "error=\"%s\"", err.msg);
		return 1;
	}
	agent_fetch_set_ca(a.c.ca_file);
	agent_fetch_set_stall_timeout(a.c.stall_timeout_s);
	agent_fetch_set_abort(agent_stopping);
	/* A later worker continues the session of the one before; the first starts anew. */
	if (worker > 0)
		agent_session_load(&a, &fails);
	/* A start within a session is routine; a first start or one after a reboot is news. */
	a.quiet_start = a.session_loaded;
	if (agent_start(&a, &err) != 0) {
		agent_log(AGENT_LOG_ERROR, "cannot start", "error=\"%s\"", err.msg);
		agent_fetch_cleanup();
		return 1;
	}
	unsigned seed = (unsigned)(time(NULL) ^ getpid());
	while (!stop_flag) {
		int rc = agent_poll_once(&a);
		if (once)
			break;
		long long next = agent_next_poll_ms(&a, rc, &fails, &seed);
		if (worker >= 0) {
			agent_session_save(&a, fails);
			agent_release(&a);
			agent_fetch_cleanup();
			if (dprintf((int)report_fd, "next_ms=%lld\n", next) < 0)
				return 1;
			close((int)report_fd);
			return 0;
		}
		poll_flag = 0;
		sleep_ms(next);
	}
	agent_log(AGENT_LOG_INFO, "stopped", "state=%s", fp_agent_state_name(a.w.state));
	agent_release(&a);
	agent_fetch_cleanup();
	return 0;
}
