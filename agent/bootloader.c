/*
 * bootloader.c — the boot-slot variables through one adapter per
 * bootloader (bootloader.h): file, U-Boot, GRUB, hook.
 */
#include "bootloader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "log.h"

#define BOOTENV_MAX      4096 /* bytes of the variables as text */
#define BOOT_CMD_TIMEOUT 60   /* seconds for fw_setenv, grub-editenv or the hook */

static const char slot_letter[2] = {'A', 'B'};

static void env_default(const struct agent_config *c, struct agent_bootenv *e)
{
	e->order[0] = 0;
	e->order[1] = 1;
	e->left[0] = e->left[1] = c->boot_attempts;
}

/*
 * Parses "KEY=VALUE" lines; unknown keys are ignored, an empty value is a
 * variable that is not set (the default), malformed values are refused.
 */
static int env_parse(const char *text, struct agent_bootenv *e, struct fp_err *err)
{
	const char *p = text;
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		char line[256];
		if (n < sizeof(line)) {
			memcpy(line, p, n);
			line[n] = '\0';
			char *v = strchr(line, '=');
			/* fw_printenv prints "NAME=" for a variable that is not set. */
			if (v && v[1]) {
				*v++ = '\0';
				if (strcmp(line, "BOOT_ORDER") == 0) {
					char a, b;
					if (sscanf(v, "%c %c", &a, &b) != 2 ||
					    (a != 'A' && a != 'B') || (b != 'A' && b != 'B') ||
					    a == b)
						return fp_err_set(
						    err, FP_EINVAL,
						    "bootloader: BOOT_ORDER '%.16s' is not "
						    "\"A B\" or \"B A\"",
						    v);
					e->order[0] = a - 'A';
					e->order[1] = b - 'A';
				} else if (strcmp(line, "BOOT_A_LEFT") == 0 ||
				           strcmp(line, "BOOT_B_LEFT") == 0) {
					char *end;
					long x = strtol(v, &end, 10);
					if (end == v || *end || x < 0 || x > 100)
						return fp_err_set(
						    err, FP_EINVAL,
						    "bootloader: %s='%.16s' is not a count", line,
						    v);
					e->left[line[5] - 'A'] = x;
				}
			}
		}
		p += n;
		if (*p)
			p++;
	}
	return 0;
}

static void env_format(const struct agent_bootenv *e, char *out, size_t cap)
{
	snprintf(out, cap, "BOOT_ORDER=%c %c\nBOOT_A_LEFT=%ld\nBOOT_B_LEFT=%ld\n",
	         slot_letter[e->order[0]], slot_letter[e->order[1]], e->left[0], e->left[1]);
}

static const char *grubenv(const struct agent_config *c)
{
	return c->bootenv_file[0] ? c->bootenv_file : "/boot/grub/grubenv";
}

/*
 * argv of fw_printenv or fw_setenv with the configured fw_env.config, then
 * `rest` (NULL-terminated, at most 4 entries).
 */
static void uboot_argv(const struct agent_config *c, const char *tool, char *const rest[],
                       char *argv[8])
{
	int n = 0;
	argv[n++] = (char *)tool;
	if (c->uboot_env_config[0]) {
		argv[n++] = "-c";
		argv[n++] = (char *)c->uboot_env_config;
	}
	for (int i = 0; rest[i] && n < 7; i++)
		argv[n++] = rest[i];
	argv[n] = NULL;
}

/* A clear error for a bootloader tool that did not exit 0; its own message went to the log. */
static int tool_failed(const char *tool, int st, struct fp_err *err)
{
	if (st == 127)
		return fp_err_set(err, FP_EIO,
		                  "bootloader: %s is not installed or cannot run (exit 127); "
		                  "nothing was switched",
		                  tool);
	return fp_err_set(err, FP_EIO,
	                  "bootloader: %s failed (exit %d): the environment is missing, "
	                  "corrupt or not writable (its own message is in the log); "
	                  "nothing was switched",
	                  tool, st);
}

int agent_boot_read(const struct agent_config *c, struct agent_bootenv *e, struct fp_err *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc = 0, st = 0;
	const char *tool = "";
	env_default(c, e);
	switch (c->bootloader) {
	case AGENT_BL_FILE:
		rc = agent_read_file(c->bootenv_file, BOOTENV_MAX, &text, &len, err);
		if (rc == FP_ENOTFOUND) {
			fp_err_clear(err);
			return 0;
		}
		break;
	case AGENT_BL_UBOOT: {
		/*
		 * fw_printenv prints "NAME=" and exits 0 for a variable that is not
		 * set; it exits non-zero only when no valid environment (CRC) or
		 * configuration was found, which must not read as the defaults.
		 */
		char *rest[] = {"BOOT_ORDER", "BOOT_A_LEFT", "BOOT_B_LEFT", NULL}, *argv[8];
		uboot_argv(c, tool = "fw_printenv", rest, argv);
		rc = agent_run(argv, BOOT_CMD_TIMEOUT, &st, &text, err);
		break;
	}
	case AGENT_BL_GRUB: {
		/* A grubenv that does not exist lists nothing and exits 0: the defaults. */
		char *argv[] = {"grub-editenv", (char *)grubenv(c), "list", NULL};
		rc = agent_run(argv, BOOT_CMD_TIMEOUT, &st, &text, err);
		tool = "grub-editenv";
		break;
	}
	case AGENT_BL_HOOK: {
		char *argv[] = {(char *)c->bootloader_hook, "get", NULL};
		rc = agent_run(argv, BOOT_CMD_TIMEOUT, &st, &text, err);
		tool = "the bootloader hook's get";
		break;
	}
	}
	if (rc == 0 && st != 0)
		rc = tool_failed(tool, st, err);
	if (rc == 0 && text)
		rc = env_parse(text, e, err);
	free(text);
	return rc;
}

/* Writes the variables with the bootloader's tool, without reading them back. */
static int env_store(const struct agent_config *c, const struct agent_bootenv *e,
                     struct fp_err *err)
{
	char text[256], o[32], a[24], b[24], tmp[AGENT_PATH_MAX + 16];
	int st = 0, rc = 0;
	const char *tool = "";
	env_format(e, text, sizeof(text));
	snprintf(o, sizeof(o), "BOOT_ORDER=%c %c", slot_letter[e->order[0]],
	         slot_letter[e->order[1]]);
	snprintf(a, sizeof(a), "BOOT_A_LEFT=%ld", e->left[0]);
	snprintf(b, sizeof(b), "BOOT_B_LEFT=%ld", e->left[1]);
	switch (c->bootloader) {
	case AGENT_BL_FILE:
		return agent_write_atomic(c->bootenv_file, text, strlen(text), 0644, err);
	case AGENT_BL_UBOOT: {
		/*
		 * fw_setenv -s applies a whole script in one (redundant) environment
		 * write. libubootenv's script lines are NAME=VALUE, as `env import
		 * -t`; it skips lines without '=' and still exits 0.
		 */
		snprintf(tmp, sizeof(tmp), "%s/fw_setenv.script", c->state_dir);
		rc = agent_write_atomic(tmp, text, strlen(text), 0600, err);
		char *rest[] = {"-s", tmp, NULL}, *argv[8];
		uboot_argv(c, tool = "fw_setenv", rest, argv);
		if (rc == 0)
			rc = agent_run(argv, BOOT_CMD_TIMEOUT, &st, NULL, err);
		break;
	}
	case AGENT_BL_GRUB: {
		char *argv[] = {"grub-editenv", (char *)grubenv(c), "set", o, a, b, NULL};
		rc = agent_run(argv, BOOT_CMD_TIMEOUT, &st, NULL, err);
		tool = "grub-editenv";
		break;
	}
	case AGENT_BL_HOOK: {
		char *argv[] = {(char *)c->bootloader_hook, "set", o, a, b, NULL};
		rc = agent_run(argv, BOOT_CMD_TIMEOUT, &st, NULL, err);
		tool = "the bootloader hook's set";
		break;
	}
	}
	if (rc == 0 && st != 0)
		rc = tool_failed(tool, st, err);
	return rc;
}

int agent_boot_write(const struct agent_config *c, const struct agent_bootenv *e,
                     struct fp_err *err)
{
	int rc = env_store(c, e, err);
	if (rc || c->bootloader == AGENT_BL_FILE)
		return rc;
	/*
	 * A tool that exits 0 without storing (a script format it does not
	 * read, a default environment it wrote elsewhere) must not pass for a
	 * switch: the variables are read back through the same tool.
	 */
	struct agent_bootenv back;
	rc = agent_boot_read(c, &back, err);
	if (rc == 0 && (back.order[0] != e->order[0] || back.left[0] != e->left[0] ||
	                back.left[1] != e->left[1]))
		rc = fp_err_set(err, FP_EIO,
		                "bootloader: the environment does not hold what was written "
		                "(BOOT_ORDER=%c %c BOOT_A_LEFT=%ld BOOT_B_LEFT=%ld read back)",
		                slot_letter[back.order[0]], slot_letter[back.order[1]],
		                back.left[0], back.left[1]);
	return rc;
}

int agent_boot_switch(const struct agent_config *c, int slot, struct fp_err *err)
{
	struct agent_bootenv e;
	int rc = agent_boot_read(c, &e, err);
	if (rc)
		return rc;
	e.order[0] = slot;
	e.order[1] = 1 - slot;
	e.left[slot] = c->boot_attempts;
	/* The fallback keeps attempts of its own, so it boots when the new slot fails. */
	if (e.left[1 - slot] < 1)
		e.left[1 - slot] = c->boot_attempts;
	return agent_boot_write(c, &e, err);
}

int agent_boot_mark_good(const struct agent_config *c, int slot, struct fp_err *err)
{
	struct agent_bootenv e;
	int rc = agent_boot_read(c, &e, err);
	if (rc)
		return rc;
	if (e.order[0] == slot && e.left[slot] == c->boot_attempts)
		return 0;
	e.order[0] = slot;
	e.order[1] = 1 - slot;
	e.left[slot] = c->boot_attempts;
	return agent_boot_write(c, &e, err);
}

int agent_boot_rollback(const struct agent_config *c, int good, struct fp_err *err)
{
	struct agent_bootenv e;
	int rc = agent_boot_read(c, &e, err);
	if (rc)
		return rc;
	e.order[0] = good;
	e.order[1] = 1 - good;
	e.left[good] = c->boot_attempts;
	e.left[1 - good] = 0;
	return agent_boot_write(c, &e, err);
}

int agent_boot_pending(const struct agent_bootenv *e, int slot)
{
	for (int i = 0; i < 2; i++)
		if (e->left[e->order[i]] > 0)
			return e->order[i] == slot;
	return e->order[0] == slot;
}

int agent_boot_simulate(const struct agent_config *c, int *booted, struct fp_err *err)
{
	struct agent_bootenv e;
	int rc = agent_boot_read(c, &e, err);
	if (rc)
		return rc;
	int pick = -1;
	for (int i = 0; i < 2 && pick < 0; i++)
		if (e.left[e.order[i]] > 0)
			pick = e.order[i];
	if (pick < 0) {
		e.left[0] = e.left[1] = c->boot_attempts;
		pick = e.order[0];
	}
	e.left[pick]--;
	rc = agent_boot_write(c, &e, err);
	if (rc == 0) {
		char s[2] = {slot_letter[pick], '\n'};
		rc = agent_write_atomic(c->booted_slot_file, s, 2, 0644, err);
	}
	if (rc == 0)
		*booted = pick;
	return rc;
}
