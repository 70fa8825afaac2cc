/*
 * config.h — the agent's configuration file (`key = value`, conf.h) and
 * what --simulate DIR sets up in its place.
 */
#ifndef FLEETPATCH_AGENT_CONFIG_H
#define FLEETPATCH_AGENT_CONFIG_H

#include "fleetpatch/err.h"

#define AGENT_PATH_MAX     4096
#define AGENT_TEXT_MAX     256
#define AGENT_HEALTH_MAX   8  /* health check commands */
#define AGENT_TZ_MAX       64 /* bytes of the timezone setting (free text) */
#define AGENT_ATTEMPTS_MAX 10 /* boot attempts of a new slot */

enum agent_bootloader { AGENT_BL_FILE, AGENT_BL_UBOOT, AGENT_BL_GRUB, AGENT_BL_HOOK };

struct agent_config {
	char server[AGENT_TEXT_MAX];           /* base URL, e.g. https://fleet.example.com */
	char ca_file[AGENT_PATH_MAX];          /* pinned CA bundle for https ("" = system CAs) */
	char state_dir[AGENT_PATH_MAX];        /* key, journal, TUF metadata */
	char identity[AGENT_TEXT_MAX];         /* e.g. serial:1234 */
	char model[AGENT_TEXT_MAX];            /* hardware type, matched with custom.hardware */
	char hw_revision[AGENT_TEXT_MAX];      /* reported */
	char firmware_version[AGENT_TEXT_MAX]; /* version of the factory image, until an update */
	char tuf_root[AGENT_PATH_MAX];         /* the root.json the device ships with */
	char director_key[AGENT_PATH_MAX];     /* pinned director public key (PEM) */
	char slot[2][AGENT_PATH_MAX];          /* slot A and B: block devices or files */
	char booted_slot_file[AGENT_PATH_MAX]; /* holds "A" or "B"; else /proc/cmdline */
	enum agent_bootloader bootloader;
	char bootenv_file[AGENT_PATH_MAX];     /* for the file bootloader, grubenv for grub */
	char uboot_env_config[AGENT_PATH_MAX]; /* fw_env.config for uboot ("": the tools' own) */
	char bootloader_hook[AGENT_PATH_MAX];
	char health[AGENT_HEALTH_MAX][AGENT_PATH_MAX];
	int n_health;
	long health_timeout_s;
	long boot_attempts;
	long poll_interval_s; /* 0: take the server's */
	long stall_timeout_s;
	long download_timeout_s;
	long backoff_max_s;
	long download_rate;     /* bytes per second, 0 = no limit */
	long download_sync_mib; /* MiB between slot syncs (progress records) */
	char sbom_file[AGENT_PATH_MAX];
	char packages_db[16];               /* auto, dpkg, opkg, rpm, none */
	char packages_root[AGENT_PATH_MAX]; /* prefix for the package database paths */
	char reboot_command[AGENT_PATH_MAX];
	char module_dir[AGENT_PATH_MAX]; /* install modules, one executable per backend */
	long module_timeout_s;
	char tz[AGENT_TZ_MAX + 1]; /* reported as the attribute "timezone" when set */
	long inventory_interval_s; /* resend an unchanged inventory after this long */
	int simulate;              /* --simulate DIR: slots are files, a reboot is a re-exec */
	char sim_dir[AGENT_PATH_MAX];
};

/* Defaults, then the file at path (may be NULL). */
int agent_config_load(struct agent_config *c, const char *path, struct fp_err *err) FP_WUR;

/*
 * --simulate DIR: state, slots (DIR/slot-a.img, DIR/slot-b.img), the
 * bootloader environment (DIR/bootenv) and the booted slot (DIR/booted)
 * all live in DIR; DIR/agent.conf, when present, is read on top.
 */
int agent_config_simulate(struct agent_config *c, const char *dir, struct fp_err *err) FP_WUR;

/* Checks that the settings needed to run are present. */
int agent_config_check(const struct agent_config *c, struct fp_err *err) FP_WUR;

#endif
