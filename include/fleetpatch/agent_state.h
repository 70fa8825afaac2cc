/*
 * agent_state.h — the device agent's update state machine: (state, event,
 * facts) → next state and the one action to take. Pure: no I/O.
 *
 * The agent writes the next state to its journal (journal.h) and syncs it
 * before it performs the action, so that a power cut at any instant leaves
 * a journal state from which fp_agent_step() with the START event (and the
 * facts observed at boot) continues or rolls back. The boot protocol is
 * RAUC's "boot attempts" model (docs/design/agent.md): the new slot becomes
 * primary with a few attempts, the bootloader spends one per boot and
 * falls back to the old slot when none are left; only a healthy boot of
 * the new slot commits it.
 */
#ifndef FLEETPATCH_AGENT_STATE_H
#define FLEETPATCH_AGENT_STATE_H

enum fp_agent_state {
	FP_AS_IDLE = 0,  /* running a committed slot, nothing in progress */
	FP_AS_DOWNLOAD,  /* streaming the verified target into the inactive slot */
	FP_AS_INSTALLED, /* inactive slot holds the verified image; switch next */
	FP_AS_REBOOT,    /* bootloader tries the new slot next; reboot next */
	FP_AS_HEALTH,    /* running the new slot; health check next */
	FP_AS_COMMIT,    /* healthy; mark the new slot good next */
	FP_AS_ROLLBACK,  /* make the old slot primary again (and boot it) next */
	FP_AS_COUNT
};

enum fp_agent_event {
	FP_AE_START = 0, /* the agent started (after a boot, a crash or a power cut) */
	FP_AE_ASSIGNED,  /* a verified assignment names a target to install */
	FP_AE_OK,        /* the current action succeeded */
	FP_AE_FAIL,      /* the current action failed */
	FP_AE_COUNT
};

enum fp_agent_action {
	FP_AA_NONE = 0,
	FP_AA_DOWNLOAD, /* download (or resume) into the inactive slot, verifying */
	FP_AA_SWITCH,   /* make the new slot primary with N boot attempts */
	FP_AA_REBOOT,   /* reboot (in --simulate: re-exec) */
	FP_AA_HEALTH,   /* run the health check */
	FP_AA_COMMIT,   /* mark the new slot good */
	FP_AA_ROLLBACK, /* make the old slot primary, mark the new one bad */
	FP_AA_REPORT,   /* report the outcome (success or the reason) */
	FP_AA_COUNT
};

/* What the agent knows about the boot it runs in. */
struct fp_agent_facts {
	int running_new; /* the booted slot is the one the journal's update wrote */
	int new_pending; /* the bootloader would still try the new slot at the next boot */
};

struct fp_agent_step {
	enum fp_agent_state next;
	enum fp_agent_action action;
	const char *reason; /* a static sentence when the step records a failure, else NULL */
};

/*
 * The transition for (state, event) with the boot facts. Every pair has a
 * defined answer: a pair that cannot happen keeps the state and does
 * nothing (action NONE). Returns 0, or FP_EINVAL (err.h) for values out of
 * range.
 */
int fp_agent_step(enum fp_agent_state state, enum fp_agent_event event,
                  const struct fp_agent_facts *facts, struct fp_agent_step *out);

/* Stable lowercase names ("idle", "download"…), and their parsers (-1 when unknown). */
const char *fp_agent_state_name(enum fp_agent_state s);
int fp_agent_state_parse(const char *name);
const char *fp_agent_action_name(enum fp_agent_action a);

#endif
