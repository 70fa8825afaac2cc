/*
 * config.c — reads the agent's configuration file (config.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fleetpatch/conf.h"

static void defaults(struct agent_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/fleetpatch-agent");
	snprintf(c->model, sizeof(c->model), "unknown");
	snprintf(c->packages_db, sizeof(c->packages_db), "auto");
	snprintf(c->reboot_command, sizeof(c->reboot_command), "systemctl reboot");
	c->bootloader = AGENT_BL_UBOOT;
	c->health_timeout_s = 60;
	c->boot_attempts = 3;
	c->stall_timeout_s = 30;
	c->download_timeout_s = 3600;
	c->backoff_max_s = 3600;
	c->download_sync_mib = 32;
	c->module_timeout_s = 600;
	c->inventory_interval_s = 86400;
	snprintf(c->module_dir, sizeof(c->module_dir), "/usr/lib/fleetpatch/modules");
}

static int set_text(char *dst, size_t cap, const char *key, const char *v, int line,
                    struct fp_err *err)
{
	if (strlen(v) >= cap)
		return fp_err_set(err, FP_ETOOBIG, "config: line %d: %s is longer than %zu bytes",
		                  line, key, cap - 1);
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int on_setting(void *ctx, const char *key, const char *v, int line, struct fp_err *err)
{
	struct agent_config *c = ctx;
	struct {
		const char *key;
		char *dst;
		size_t cap;
	} texts[] = {
	    {"server", c->server, sizeof(c->server)},
	    {"ca_file", c->ca_file, sizeof(c->ca_file)},
	    {"state_dir", c->state_dir, sizeof(c->state_dir)},
	    {"identity", c->identity, sizeof(c->identity)},
	    {"model", c->model, sizeof(c->model)},
	    {"hw_revision", c->hw_revision, sizeof(c->hw_revision)},
	    {"firmware_version", c->firmware_version, sizeof(c->firmware_version)},
	    {"tuf_root", c->tuf_root, sizeof(c->tuf_root)},
	    {"director_key", c->director_key, sizeof(c->director_key)},
	    {"slot_a", c->slot[0], sizeof(c->slot[0])},
	    {"slot_b", c->slot[1], sizeof(c->slot[1])},
	    {"booted_slot_file", c->booted_slot_file, sizeof(c->booted_slot_file)},
	    {"bootenv_file", c->bootenv_file, sizeof(c->bootenv_file)},
	    {"bootloader_hook", c->bootloader_hook, sizeof(c->bootloader_hook)},
	    {"uboot_env_config", c->uboot_env_config, sizeof(c->uboot_env_config)},
	    {"sbom_file", c->sbom_file, sizeof(c->sbom_file)},
	    {"packages_db", c->packages_db, sizeof(c->packages_db)},
	    {"packages_root", c->packages_root, sizeof(c->packages_root)},
	    {"reboot_command", c->reboot_command, sizeof(c->reboot_command)},
	    {"module_dir", c->module_dir, sizeof(c->module_dir)},
	    {"timezone", c->tz, sizeof(c->tz)},
	};
	struct {
		const char *key;
		long *dst;
		long min, max;
	} nums[] = {
	    {"health_timeout_seconds", &c->health_timeout_s, 1, 3600},
	    {"boot_attempts", &c->boot_attempts, 1, AGENT_ATTEMPTS_MAX},
	    {"poll_interval_seconds", &c->poll_interval_s, 1, 7 * 86400},
	    {"stall_timeout_seconds", &c->stall_timeout_s, 1, 3600},
	    {"download_timeout_seconds", &c->download_timeout_s, 10, 7 * 86400},
	    {"backoff_max_seconds", &c->backoff_max_s, 1, 86400},
	    {"module_timeout_seconds", &c->module_timeout_s, 1, 86400},
	    {"download_max_bytes_per_second", &c->download_rate, 0, 1L << 40},
	    {"download_sync_mib", &c->download_sync_mib, 1, 1024},
	    {"inventory_interval_seconds", &c->inventory_interval_s, 1, 30 * 86400},
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (strcmp(key, texts[i].key) == 0)
			return set_text(texts[i].dst, texts[i].cap, key, v, line, err);
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		if (strcmp(key, nums[i].key) != 0)
			continue;
		if (fp_conf_long(v, nums[i].min, nums[i].max, nums[i].dst))
			return fp_err_set(err, FP_EINVAL,
			                  "config: line %d: %s must be an integer from %ld to %ld",
			                  line, key, nums[i].min, nums[i].max);
		return 0;
	}
	if (strcmp(key, "health_command") == 0) {
		if (c->n_health == AGENT_HEALTH_MAX)
			return fp_err_set(err, FP_ETOOBIG,
			                  "config: line %d: at most %d health_command", line,
			                  AGENT_HEALTH_MAX);
		return set_text(c->health[c->n_health++], AGENT_PATH_MAX, key, v, line, err);
	}
	if (strcmp(key, "bootloader") == 0) {
		static const char *const names[] = {"file", "uboot", "grub", "hook"};
		for (int i = 0; i < 4; i++)
			if (strcmp(v, names[i]) == 0) {
				c->bootloader = (enum agent_bootloader)i;
				return 0;
			}
		return fp_err_set(err, FP_EINVAL,
		                  "config: line %d: bootloader is file, uboot, grub or hook", line);
	}
	return fp_err_set(err, FP_EINVAL, "config: line %d: unknown setting '%.64s'", line, key);
}

static int load_file(struct agent_config *c, const char *path, int optional, struct fp_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		if (optional && errno == ENOENT)
			return 0;
		return fp_err_set(err, FP_EIO, "%s: %s", path, strerror(errno));
	}
	char *buf = malloc(FP_CONF_MAX_BYTES + 1);
	size_t n = buf ? fread(buf, 1, FP_CONF_MAX_BYTES + 1, f) : 0;
	fclose(f);
	int rc = 0;
	if (!buf)
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
	else if (n > FP_CONF_MAX_BYTES)
		rc = fp_err_set(err, FP_ETOOBIG, "%s is larger than %u bytes", path,
		                FP_CONF_MAX_BYTES);
	else
		rc = fp_conf_parse(buf, n, on_setting, c, err);
	free(buf);
	return rc;
}

int agent_config_load(struct agent_config *c, const char *path, struct fp_err *err)
{
	defaults(c);
	return path ? load_file(c, path, 0, err) : 0;
}

int agent_config_simulate(struct agent_config *c, const char *dir, struct fp_err *err)
{
	char conf[AGENT_PATH_MAX + 16];
	if (strlen(dir) > AGENT_PATH_MAX - 32)
		return fp_err_set(err, FP_ETOOBIG, "--simulate: directory path is too long");
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return fp_err_set(err, FP_EIO, "%s: %s", dir, strerror(errno));
	c->simulate = 1;
	snprintf(c->sim_dir, sizeof(c->sim_dir), "%s", dir);
	snprintf(c->state_dir, sizeof(c->state_dir), "%s/state", dir);
	snprintf(c->slot[0], sizeof(c->slot[0]), "%s/slot-a.img", dir);
	snprintf(c->slot[1], sizeof(c->slot[1]), "%s/slot-b.img", dir);
	snprintf(c->bootenv_file, sizeof(c->bootenv_file), "%s/bootenv", dir);
	snprintf(c->booted_slot_file, sizeof(c->booted_slot_file), "%s/booted", dir);
	snprintf(c->module_dir, sizeof(c->module_dir), "%s/modules", dir);
	snprintf(c->packages_db, sizeof(c->packages_db), "none");
	c->bootloader = AGENT_BL_FILE;
	snprintf(conf, sizeof(conf), "%s/agent.conf", dir);
	int rc = load_file(c, conf, 1, err);
	/* The simulated device's layout wins over a copied configuration. */
	c->bootloader = AGENT_BL_FILE;
	return rc;
}

int agent_config_check(const struct agent_config *c, struct fp_err *err)
{
	if (!c->server[0])
		return fp_err_set(err, FP_EINVAL,
		                  "config: 'server' (the fleetpatchd URL) is required");
	if (!c->identity[0])
		return fp_err_set(err, FP_EINVAL,
		                  "config: 'identity' (e.g. serial:1234) is required");
	if (!c->tuf_root[0])
		return fp_err_set(err, FP_EINVAL,
		                  "config: 'tuf_root' (the trusted root.json shipped with the "
		                  "device) is required");
	if (!c->slot[0][0] || !c->slot[1][0])
		return fp_err_set(err, FP_EINVAL, "config: 'slot_a' and 'slot_b' are required");
	if (c->bootloader == AGENT_BL_FILE && !c->bootenv_file[0])
		return fp_err_set(err, FP_EINVAL, "config: bootloader 'file' needs 'bootenv_file'");
	if (c->bootloader == AGENT_BL_HOOK && !c->bootloader_hook[0])
		return fp_err_set(err, FP_EINVAL,
		                  "config: bootloader 'hook' needs 'bootloader_hook'");
	/*
	 * The tools would read a relative path from the agent's working
	 * directory; a missing file is better refused at start than found at
	 * the first switch.
	 */
	if (c->uboot_env_config[0] && c->bootloader != AGENT_BL_UBOOT)
		return fp_err_set(
		    err, FP_EINVAL,
		    "config: 'uboot_env_config' is only used with bootloader 'uboot'");
	if (c->uboot_env_config[0] && c->uboot_env_config[0] != '/')
		return fp_err_set(
		    err, FP_EINVAL,
		    "config: 'uboot_env_config' must be an absolute path, not '%.200s'",
		    c->uboot_env_config);
	if (c->uboot_env_config[0] && access(c->uboot_env_config, R_OK) != 0)
		return fp_err_set(err, FP_EINVAL, "config: uboot_env_config '%.200s': %s",
		                  c->uboot_env_config, strerror(errno));
	return 0;
}
