/*
 * daemon.h — the running agent's state, shared by its parts: enrolment
 * (enroll.c), the assignment check (update.c) and the state machine driver
 * and poll loop (daemon.c).
 */
#ifndef FLEETPATCH_AGENT_DAEMON_H
#define FLEETPATCH_AGENT_DAEMON_H

#include <jansson.h>
#include <stdint.h>

#include "config.h"
#include "journal_io.h"

#define AGENT_TOKEN_MAX    512
#define AGENT_API_MAX      (1 << 20) /* bytes of an API answer */
#define AGENT_API_TIMEOUT  60        /* seconds of an API request */
#define AGENT_KEY_FILE_MAX 16384     /* bytes of the device's key files */

struct agent {
	struct agent_config c;
	struct agent_journal j;
	struct fp_journal_rec w; /* the working copy of the state, journaled at each step */
	int booted;              /* slot index the device runs */
	char *priv_pem, *pub_pem;
	char token[AGENT_TOKEN_MAX];
	int64_t token_expires; /* unix seconds */
	int64_t last_auth_ts;
	long poll_s; /* the server's interval */
	int inventory_sent;
	unsigned char inventory_hash[32]; /* of the last report the server accepted */
	int64_t inventory_at;             /* unix seconds of that report */
	char **argv;                      /* for the re-exec that plays a reboot in --simulate */
	int in_process;     /* `fleet`: a reboot returns to the caller instead of execv */
	int rebooting;      /* in_process: the device "rebooted"; the caller starts it again */
	int quiet_start;    /* a worker that continues a session: its start is logged at debug */
	int session_loaded; /* a worker read state_dir/session */
};

/*
 * The device's start, as after a boot: the simulated bootloader's pick, the
 * journal, the state machine driven from the journaled state. a->c is
 * loaded and the rest of *a is zero (but argv, in_process, poll_s). With
 * a->in_process, a reboot (or a simulated boot hang) sets a->rebooting and
 * returns 0 with the journal closed: the caller releases *a and starts it
 * again from what is on disk.
 */
int agent_start(struct agent *a, struct fp_err *err) FP_WUR;

/*
 * Reopens a device between polls (fleet): the journal and the key pair,
 * without the start's bootloader step or state machine run. The caller
 * sets a->booted to the slot the device's last agent_start() booted.
 */
int agent_resume(struct agent *a, struct fp_err *err) FP_WUR;

/*
 * One poll: authentication when needed, check-in, an assignment, the
 * inventory report. 0, FP_ELIMIT while not accepted, or an error. May set
 * a->rebooting (see agent_start()).
 */
int agent_poll_once(struct agent *a);

/* Closes the journal and frees the keys; *a can then be loaded again. */
void agent_release(struct agent *a);

/* Milliseconds until the next poll: the interval, backoff after fails, jitter. */
long long agent_next_poll_ms(const struct agent *a, int rc, int *fails, unsigned *seed);

/* Non-zero once SIGTERM or SIGINT arrived (the whole process stops). */
int agent_stopping(void);

/* Installs the SIGTERM/SIGINT handlers and ignores SIGPIPE. */
void agent_signals_init(void);

/* Loads or makes the device key pair (private key mode 0600) in the state directory. */
int agent_enroll_keys(struct agent *a, struct fp_err *err) FP_WUR;

/*
 * POST /api/v1/device/auth, signed. 0 with a token; FP_ELIMIT while the
 * device waits for an operator to accept it; FP_EPERM when rejected.
 */
int agent_enroll(struct agent *a, struct fp_err *err) FP_WUR;

/*
 * Fetches and checks the director assignment (director key, TUF targets,
 * hardware, security counter). 0 and *install = 1 when w now names a target
 * to install; 0 and *install = 0 when there is nothing to do; an error
 * with the reason when the assignment was refused.
 */
int agent_update_check(struct agent *a, int *install, struct fp_err *err) FP_WUR;

/*
 * Tells the server that the delta offered for `target` failed on this
 * device (POST /api/v1/device/assignment/delta-failed); the server answers
 * by re-signing the assignment full. 0 when the server recorded it; FP_EIO
 * when it could not be told (try again later).
 */
int agent_report_delta_failed(struct agent *a, const char *target, const char *reason,
                              struct fp_err *err) FP_WUR;

/*
 * The session file (session.c) of a worker started by fleetpatch-agentd:
 * load copies a valid state_dir/session into *a and *fails (a refused one
 * is logged and ignored); save writes it when it changed; forget removes
 * it (a reboot ends the session).
 */
void agent_session_load(struct agent *a, int *fails);
void agent_session_save(struct agent *a, int fails);
void agent_session_forget(const struct agent *a);

/* base URL + path into out. */
int agent_url(const struct agent *a, const char *path, char *out, size_t cap);

#endif
