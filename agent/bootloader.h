/*
 * bootloader.h — the boot-slot switch, through one adapter per bootloader.
 *
 * Every adapter stores the same three variables, as RAUC's U-Boot and GRUB
 * integrations do: BOOT_ORDER (slots to try, first first: "A B" or "B A")
 * and BOOT_A_LEFT / BOOT_B_LEFT (boot attempts left). The bootloader tries
 * the first slot in BOOT_ORDER that has attempts left, spending one; the
 * agent resets a slot's attempts when it marks the running slot good.
 * Adapters: a plain file (--simulate and tests), U-Boot through
 * fw_printenv/fw_setenv (libubootenv), GRUB through grub-editenv, and a
 * hook program (`HOOK get` prints the variables, `HOOK set K=V…` sets them).
 * Each write is one atomic update of all variables.
 */
#ifndef FLEETPATCH_AGENT_BOOTLOADER_H
#define FLEETPATCH_AGENT_BOOTLOADER_H

#include "config.h"

struct agent_bootenv {
	int order[2]; /* slot indexes, first to try first */
	long left[2]; /* attempts left for A and B */
};

/* Reads the variables; a missing environment reads as "A B" with full attempts. */
int agent_boot_read(const struct agent_config *c, struct agent_bootenv *e,
                    struct fp_err *err) FP_WUR;

/* Writes all the variables in one atomic update. */
int agent_boot_write(const struct agent_config *c, const struct agent_bootenv *e,
                     struct fp_err *err) FP_WUR;

/* The new slot first with `attempts` tries; the old one stays as the fallback. */
int agent_boot_switch(const struct agent_config *c, int slot, struct fp_err *err) FP_WUR;

/* Marks the running slot good: first in order, attempts reset. */
int agent_boot_mark_good(const struct agent_config *c, int slot, struct fp_err *err) FP_WUR;

/* Makes `good` first again and takes all attempts from `bad`. */
int agent_boot_rollback(const struct agent_config *c, int good, struct fp_err *err) FP_WUR;

/* 1 when the bootloader would try `slot` at the next boot (first with attempts left). */
int agent_boot_pending(const struct agent_bootenv *e, int slot);

/*
 * The bootloader's own step, for --simulate: picks the slot to boot
 * (the first in order with attempts left; when none has any, all are reset
 * and the first is taken, as RAUC's U-Boot script does), spends an
 * attempt, and stores the choice in *booted.
 */
int agent_boot_simulate(const struct agent_config *c, int *booted, struct fp_err *err) FP_WUR;

#endif
