/*
 * fuzz_device_reply.c — libFuzzer target for the agent's readers of the
 * server's authentication and check-in answers (lib/device_reply.c). Any
 * input is accepted or refused without a crash; what is accepted keeps the
 * documented ranges.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fleetpatch/device_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct fp_auth_reply a;
	for (int pending = 0; pending <= 1; pending++)
		if (fp_auth_reply_parse(s, size, pending, &a, NULL) == 0) {
			size_t n = strnlen(a.token, sizeof(a.token));
			if (n == sizeof(a.token) || (!pending && n == 0) || a.poll_s < 0 ||
			    a.poll_s > FP_POLL_INTERVAL_MAX || a.device_id < 0)
				abort();
		}
	struct fp_checkin_reply c;
	if (fp_checkin_reply_parse(s, size, &c, NULL) == 0 &&
	    (c.poll_s < 0 || c.poll_s > FP_POLL_INTERVAL_MAX || c.assignment_version < 0))
		abort();
	return 0;
}
