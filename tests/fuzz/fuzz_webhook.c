/*
 * fuzz_webhook.c — libFuzzer target for the webhook rules (lib/webhook.c).
 *
 * The input up to its first NUL is parsed as a stored subscription list;
 * whatever parses must format back to the same text, parse again to the same
 * list and match each of its own concrete entries. The input is also checked
 * as a URL, a secret and an event name, and, split at the first newline, as
 * a list and an event to match. Violations trap.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fleetpatch/webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	struct fp_webhook_events ev, again;
	struct fp_err err;
	err.msg[0] = '\0';
	if (fp_webhook_events_parse(s, &ev, &err) == 0) {
		char text[FP_WEBHOOK_EVENTS_TEXT_MAX];
		fp_webhook_events_format(&ev, text);
		if (strcmp(text, s) != 0 || fp_webhook_events_parse(text, &again, NULL) != 0 ||
		    again.n != ev.n || ev.n < 1 || ev.n > FP_WEBHOOK_EVENTS_MAX)
			__builtin_trap();
		for (int i = 0; i < ev.n; i++) {
			if (strcmp(ev.name[i], again.name[i]) != 0)
				__builtin_trap();
			if (fp_webhook_event_check(ev.name[i], 0, NULL) == 0 &&
			    !fp_webhook_events_match(&ev, ev.name[i]))
				__builtin_trap();
		}
	} else if (err.msg[0] == '\0') {
		__builtin_trap(); /* every error says what was wrong */
	}

	/* Each check either accepts or says why not. */
	err.msg[0] = '\0';
	if (fp_webhook_url_check(s, &err) != 0 && err.msg[0] == '\0')
		__builtin_trap();
	err.msg[0] = '\0';
	if (fp_webhook_secret_check(s, &err) != 0 && err.msg[0] == '\0')
		__builtin_trap();
	err.msg[0] = '\0';
	if (fp_webhook_event_check(s, 1, &err) != 0 && err.msg[0] == '\0')
		__builtin_trap();

	char *nl = strchr(s, '\n');
	if (nl) {
		*nl = '\0';
		if (fp_webhook_events_parse(s, &ev, NULL) == 0 &&
		    fp_webhook_events_match(&ev, nl + 1) > 1)
			__builtin_trap();
	}
	free(s);
	return 0;
}
