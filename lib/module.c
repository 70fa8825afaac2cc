/*
 * module.c — the install-module protocol's names and answers (module.h).
 */
#include "fleetpatch/module.h"

#include <string.h>

static const char *const names[FP_MODULE_STATE_COUNT] = {
    "Download", "Install", "NeedsReboot", "Commit", "Rollback", "Cleanup",
};

const char *fp_module_state_name(enum fp_module_state s)
{
	return (unsigned)s < FP_MODULE_STATE_COUNT ? names[s] : "?";
}

int fp_module_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > FP_MODULE_NAME_MAX || name[0] == '-' || strcmp(name, "ab") == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int fp_module_parse_needs_reboot(const char *out, size_t len, int *reboot, struct fp_err *err)
{
	if (len > FP_MODULE_ANSWER_MAX)
		return fp_err_set(err, FP_ETOOBIG, "module: NeedsReboot printed more than %d bytes",
		                  FP_MODULE_ANSWER_MAX);
	size_t word = 0;
	while (word < len && out[word] != ' ' && out[word] != '\t' && out[word] != '\r' &&
	       out[word] != '\n')
		word++;
	for (size_t i = word; i < len; i++)
		if (out[i] != ' ' && out[i] != '\t' && out[i] != '\r' && out[i] != '\n')
			word = 0; /* more than one word */
	if (word == 3 && memcmp(out, "Yes", 3) == 0) {
		*reboot = 1;
		return 0;
	}
	if (word == 2 && memcmp(out, "No", 2) == 0) {
		*reboot = 0;
		return 0;
	}
	/* Quote only printable bytes, so the log line stays one line. */
	char q[41];
	size_t k = 0;
	for (size_t i = 0; i < len && k < sizeof(q) - 1; i++)
		q[k++] = out[i] >= 0x20 && out[i] < 0x7f ? out[i] : '?';
	q[k] = '\0';
	return fp_err_set(err, FP_EINVAL, "module: NeedsReboot must print Yes or No, not \"%s\"%s",
	                  q, len > k ? "…" : "");
}
