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
	char **argv; /* for the re-exec that plays a reboot in --simulate */
};

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

/* base URL + path into out. */
int agent_url(const struct agent *a, const char *path, char *out, size_t cap);

#endif
