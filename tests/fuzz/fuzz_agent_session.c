/*
 * fuzz_agent_session.c — libFuzzer target for the agent's session file
 * reader (lib/agent_session.c). Any input is accepted or refused without a
 * crash; what is accepted is written back by format and read again to the
 * same values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fleetpatch/agent_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fp_agent_session s, t;
	char buf[FP_AGENT_SESSION_MAX + 1];
	if (fp_agent_session_parse((const char *)data, size, &s, NULL) != 0)
		return 0;
	int n = fp_agent_session_format(&s, buf, sizeof(buf));
	if (n < 0 || fp_agent_session_parse(buf, (size_t)n, &t, NULL) != 0 ||
	    memcmp(&s, &t, sizeof(s)) != 0)
		abort();
	return 0;
}
