/*
 * agent_state.c — the device agent's update state machine (agent_state.h).
 *
 * The table below is the whole boot protocol. The one rule that keeps a
 * device bootable is that the old slot stays untouched and is what the
 * bootloader falls back to until FP_AA_COMMIT marks the new slot good, and
 * that FP_AA_SWITCH happens only after the inactive slot holds an image
 * whose length and hashes were verified.
 */
#include "fleetpatch/agent_state.h"

#include <string.h>

#include "fleetpatch/err.h"

static const char *const state_names[FP_AS_COUNT] = {
    "idle", "download", "installed", "reboot", "health", "commit", "rollback",
};

static const char *const action_names[FP_AA_COUNT] = {
    "none", "download", "switch", "reboot", "health", "commit", "rollback", "report",
};

const char *fp_agent_state_name(enum fp_agent_state s)
{
	return (unsigned)s < FP_AS_COUNT ? state_names[s] : "?";
}

int fp_agent_state_parse(const char *name)
{
	for (int i = 0; i < FP_AS_COUNT; i++)
		if (name && strcmp(name, state_names[i]) == 0)
			return i;
	return -1;
}

const char *fp_agent_action_name(enum fp_agent_action a)
{
	return (unsigned)a < FP_AA_COUNT ? action_names[a] : "?";
}

static void set(struct fp_agent_step *o, enum fp_agent_state s, enum fp_agent_action a,
                const char *reason)
{
	o->next = s;
	o->action = a;
	o->reason = reason;
}

static const char fell_back[] =
    "the new slot did not boot to a healthy state: the bootloader fell back to the old slot";

/* Where a (re)started agent continues: the journal state and what it booted. */
static void on_start(enum fp_agent_state s, const struct fp_agent_facts *f, struct fp_agent_step *o)
{
	switch (s) {
	case FP_AS_IDLE: set(o, FP_AS_IDLE, FP_AA_NONE, NULL); break;
	/* The slot being written is never the booted one: resume the download. */
	case FP_AS_DOWNLOAD: set(o, FP_AS_DOWNLOAD, FP_AA_DOWNLOAD, NULL); break;
	case FP_AS_INSTALLED:
		/* A cut right after the switch acted as the reboot. */
		if (f->running_new)
			set(o, FP_AS_HEALTH, FP_AA_HEALTH, NULL);
		else
			set(o, FP_AS_INSTALLED, FP_AA_SWITCH, NULL);
		break;
	case FP_AS_REBOOT:
		if (f->running_new)
			set(o, FP_AS_HEALTH, FP_AA_HEALTH, NULL);
		else if (f->new_pending) /* the agent restarted without a reboot */
			set(o, FP_AS_REBOOT, FP_AA_REBOOT, NULL);
		else
			set(o, FP_AS_ROLLBACK, FP_AA_ROLLBACK, fell_back);
		break;
	case FP_AS_HEALTH:
		if (f->running_new)
			set(o, FP_AS_HEALTH, FP_AA_HEALTH, NULL);
		else if (f->new_pending)
			set(o, FP_AS_REBOOT, FP_AA_REBOOT, NULL);
		else
			set(o, FP_AS_ROLLBACK, FP_AA_ROLLBACK, fell_back);
		break;
	case FP_AS_COMMIT:
		/*
		 * Committing is idempotent. Booted on the old slot with the new one
		 * no longer pending, the commit never took effect: roll back.
		 */
		if (f->running_new)
			set(o, FP_AS_COMMIT, FP_AA_COMMIT, NULL);
		else if (f->new_pending)
			set(o, FP_AS_REBOOT, FP_AA_REBOOT, NULL);
		else
			set(o, FP_AS_ROLLBACK, FP_AA_ROLLBACK, fell_back);
		break;
	case FP_AS_ROLLBACK: set(o, FP_AS_ROLLBACK, FP_AA_ROLLBACK, NULL); break;
	default: set(o, s, FP_AA_NONE, NULL); break;
	}
}

int fp_agent_step(enum fp_agent_state s, enum fp_agent_event e, const struct fp_agent_facts *f,
                  struct fp_agent_step *o)
{
	static const struct fp_agent_facts none = {0};
	if ((unsigned)s >= FP_AS_COUNT || (unsigned)e >= FP_AE_COUNT || !o)
		return FP_EINVAL;
	if (!f)
		f = &none;
	set(o, s, FP_AA_NONE, NULL);
	if (e == FP_AE_START) {
		on_start(s, f, o);
		return 0;
	}
	switch (s) {
	case FP_AS_IDLE:
		if (e == FP_AE_ASSIGNED)
			set(o, FP_AS_DOWNLOAD, FP_AA_DOWNLOAD, NULL);
		break;
	case FP_AS_DOWNLOAD:
		if (e == FP_AE_OK)
			set(o, FP_AS_INSTALLED, FP_AA_SWITCH, NULL);
		else if (e == FP_AE_FAIL) /* nothing was switched: the old slot boots */
			set(o, FP_AS_IDLE, FP_AA_REPORT,
			    "the download failed or did not verify; nothing was installed");
		break;
	case FP_AS_INSTALLED:
		if (e == FP_AE_OK)
			set(o, FP_AS_REBOOT, FP_AA_REBOOT, NULL);
		else if (e == FP_AE_FAIL)
			set(o, FP_AS_ROLLBACK, FP_AA_ROLLBACK,
			    "the bootloader could not be switched to the new slot");
		break;
	case FP_AS_REBOOT:
		if (e == FP_AE_FAIL)
			set(o, FP_AS_ROLLBACK, FP_AA_ROLLBACK, "the reboot failed");
		break;
	case FP_AS_HEALTH:
		if (e == FP_AE_OK)
			set(o, FP_AS_COMMIT, FP_AA_COMMIT, NULL);
		else if (e == FP_AE_FAIL)
			set(o, FP_AS_ROLLBACK, FP_AA_ROLLBACK, "the health check failed");
		break;
	case FP_AS_COMMIT:
		if (e == FP_AE_OK)
			set(o, FP_AS_IDLE, FP_AA_REPORT, NULL);
		else if (e == FP_AE_FAIL) /* retried: the bootloader still counts attempts */
			set(o, FP_AS_COMMIT, FP_AA_COMMIT, NULL);
		break;
	case FP_AS_ROLLBACK:
		/* Restored the old slot as primary; boot it if the new one is running. */
		if (e == FP_AE_OK && f->running_new)
			set(o, FP_AS_ROLLBACK, FP_AA_REBOOT, NULL);
		else if (e == FP_AE_OK)
			set(o, FP_AS_IDLE, FP_AA_REPORT, NULL);
		else if (e == FP_AE_FAIL)
			set(o, FP_AS_ROLLBACK, FP_AA_ROLLBACK, NULL);
		break;
	default: break;
	}
	return 0;
}
