/*
 * err.h — the one error convention of libfleetpatch.
 *
 * Every fallible function returns an int: 0 on success or a negative FP_E…
 * code. Results travel through out-parameters. An optional struct fp_err *
 * passed last receives a human sentence that says what was wrong and, where
 * possible, what to do; callers may pass NULL when they only need the code.
 */
#ifndef FLEETPATCH_ERR_H
#define FLEETPATCH_ERR_H

#include <stddef.h>

#define FP_WUR __attribute__((warn_unused_result))

enum {
	FP_OK = 0,
	FP_EINVAL = -1,    /* malformed or invalid input */
	FP_ENOMEM = -2,    /* allocation failed */
	FP_ETOOBIG = -3,   /* input exceeds a documented cap */
	FP_ENOTFOUND = -4, /* the named thing does not exist */
	FP_EEXIST = -5,    /* the thing already exists */
	FP_EIO = -6,       /* file, network or database I/O failed */
	FP_EAUTH = -7,     /* authentication failed */
	FP_EPERM = -8,     /* authenticated but not allowed */
	FP_ECONFLICT = -9, /* the request conflicts with the current state */
	FP_ECRYPTO = -10,  /* a cryptographic operation failed */
	FP_EUNSUPP = -11,  /* a valid but unsupported request */
	FP_ELIMIT = -12,   /* rate limited; retry later */
};

#define FP_ERR_MSG_MAX 512

struct fp_err {
	int code;
	char msg[FP_ERR_MSG_MAX];
};

/*
 * Records code and a printf-style message in err (when err is not NULL) and
 * returns code, so callers can write `return fp_err_set(err, FP_EINVAL, …);`.
 */
int fp_err_set(struct fp_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Clears err (when not NULL). */
void fp_err_clear(struct fp_err *err);

/* A short stable identifier for code, e.g. "invalid" for FP_EINVAL. */
const char *fp_err_name(int code);

#endif
