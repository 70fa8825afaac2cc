/*
 * err.c — error codes and messages shared by every module (see err.h).
 */
#include "fleetpatch/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int fp_err_set(struct fp_err *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

void fp_err_clear(struct fp_err *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}

const char *fp_err_name(int code)
{
	switch (code) {
	case FP_OK: return "ok";
	case FP_EINVAL: return "invalid";
	case FP_ENOMEM: return "out_of_memory";
	case FP_ETOOBIG: return "too_large";
	case FP_ENOTFOUND: return "not_found";
	case FP_EEXIST: return "exists";
	case FP_EIO: return "io";
	case FP_EAUTH: return "unauthorized";
	case FP_EPERM: return "forbidden";
	case FP_ECONFLICT: return "conflict";
	case FP_ECRYPTO: return "crypto";
	case FP_EUNSUPP: return "unsupported";
	case FP_ELIMIT: return "rate_limited";
	default: return "error";
	}
}
