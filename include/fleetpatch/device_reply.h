/*
 * device_reply.h — what a device agent reads from the server's answers to
 * its authentication (POST /api/v1/device/auth) and check-in (GET
 * /api/v1/device/checkin). Pure: the agent hands over the bytes it
 * received; a hostile or broken server's answer is refused with a sentence
 * that says what was wrong, and nothing of it is used.
 */
#ifndef FLEETPATCH_DEVICE_REPLY_H
#define FLEETPATCH_DEVICE_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "fleetpatch/err.h"

#define FP_DEVICE_REPLY_MAX   65536         /* bytes of an answer */
#define FP_DEVICE_REPLY_DEPTH 4             /* nesting of an answer */
#define FP_DEVICE_TOKEN_MAX   512           /* bytes of a device token, with the NUL */
#define FP_POLL_INTERVAL_MAX  (7 * 86400LL) /* the longest poll interval a server may ask */

/* POST /api/v1/device/auth: 200 {status, token, device_id, expires_at, poll_interval_s}. */
struct fp_auth_reply {
	char token[FP_DEVICE_TOKEN_MAX]; /* "" when waiting for acceptance */
	int64_t device_id;               /* 0 when absent */
	int64_t expires_at;              /* unix time; 0 when absent */
	int64_t poll_s;                  /* 0 when absent */
};

/*
 * Reads an authentication answer. pending: the answer was 202 (waiting for
 * an operator), so no token is expected. Refused (FP_EINVAL, FP_ETOOBIG): not
 * a JSON object, over the caps, duplicate keys, a token that is missing
 * (unless pending), empty, too long or not printable ASCII, a poll interval
 * that is not an integer from 1 to FP_POLL_INTERVAL_MAX, an expiry that is
 * not "YYYY-MM-DDTHH:MM:SSZ", a device id that is not a positive integer.
 */
int fp_auth_reply_parse(const char *buf, size_t len, int pending, struct fp_auth_reply *out,
                        struct fp_err *err) FP_WUR;

/* GET /api/v1/device/checkin: {poll_interval_s, assignment: null | {version, url}}. */
struct fp_checkin_reply {
	int64_t poll_s;             /* 0 when absent */
	int64_t assignment_version; /* 0 when the director has nothing for the device */
};

/*
 * Reads a check-in answer. Refused as above, and when assignment is neither
 * null nor an object whose version is an integer from 1 to 2^53.
 */
int fp_checkin_reply_parse(const char *buf, size_t len, struct fp_checkin_reply *out,
                           struct fp_err *err) FP_WUR;

#endif
