/*
 * rollout.h — the pure decision core of staged rollouts: a rollout's
 * specification (phases, gates, windows, limits), its state, the state of
 * each of its devices, and the functions that turn (state + time + device
 * reports) into the next actions. No I/O and no clock: the server's
 * scheduler (server/rollouts.c) loads the state, calls these functions,
 * persists every changed row and performs the actions in one transaction,
 * so a restart at any instant continues from the last decision.
 * The rules are in docs/design/rollout.md.
 */
#ifndef FLEETPATCH_ROLLOUT_H
#define FLEETPATCH_ROLLOUT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "fleetpatch/err.h"
#include "fleetpatch/tz.h"

#define FP_ROLLOUT_PHASES_MAX    16
#define FP_ROLLOUT_NAME_MAX      64         /* bytes of a phase name, with the NUL */
#define FP_ROLLOUT_REASON_MAX    192        /* bytes of a reason, with the NUL */
#define FP_ROLLOUT_DEVICES_MAX   1000000    /* devices in one rollout */
#define FP_ROLLOUT_DURATION_MAX  31536000LL /* one year, the cap of every duration */
#define FP_ROLLOUT_RETRIES_MAX   10
#define FP_ROLLOUT_RATE_MAX      1000000 /* devices per minute */
#define FP_ROLLOUT_PRIORITY_MAX  1000
#define FP_ROLLOUT_SPEC_JSON_MAX 65536 /* bytes of a specification */

enum fp_rollout_size { FP_SIZE_PERCENT = 0, FP_SIZE_COUNT };

/* What a tripped failure threshold does. */
enum fp_rollout_fail_action {
	FP_FAIL_PAUSE = 0, /* stop assigning; an operator resumes, aborts or reverts */
	FP_FAIL_ABORT,     /* stop for good; devices already updated keep the release */
	FP_FAIL_REVERT,    /* stop for good and reinstall the previous release */
};

struct fp_rollout_phase {
	char name[FP_ROLLOUT_NAME_MAX];
	/*
	 * Cumulative size: the phase brings the rollout to `size` percent (1-100)
	 * or `size` devices of the target set. Sizes increase strictly from
	 * phase to phase and the last phase is 100 percent.
	 */
	enum fp_rollout_size size_kind;
	int64_t size;
	int64_t soak_s;  /* seconds the gate must hold before the next phase */
	int success_pct; /* 0-100: share of the phase's devices that must be healthy */
	enum fp_rollout_size fail_kind;
	int64_t fail_threshold; /* trips when failed devices of the phase reach it (>= 1) */
	enum fp_rollout_fail_action fail_action;
	int approval; /* the phase waits for an approval of its own before it starts */
};

struct fp_rollout_spec {
	struct fp_rollout_phase phase[FP_ROLLOUT_PHASES_MAX];
	size_t nphases;                          /* 1 .. FP_ROLLOUT_PHASES_MAX */
	int64_t start_at;                        /* UTC seconds; 0: when started */
	int64_t defer_s;                         /* not before the release's publication + this */
	struct fp_window window[FP_WINDOWS_MAX]; /* device-local weekly windows */
	size_t nwindows;                         /* 0: devices may update at any time */
	int64_t rate_per_min;                    /* new assignments per minute; 0: unlimited */
	int64_t deadline;                        /* UTC; from then on windows no longer hold back */
	int priority;                            /* 0 .. FP_ROLLOUT_PRIORITY_MAX; higher wins */
	int retries;                             /* extra attempts per device after a failure */
	int64_t timeout_assigned_s;              /* an assigned device must start within this */
	int64_t timeout_installing_s; /* an installing device must report healthy within this */
	int64_t
	    timeout_reverting_s; /* a reverting device must report the old release within this */
};

/*
 * Reads a specification from JSON (docs/api/openapi.yaml, RolloutSpec):
 *   {"phases": [{"name": "canary", "percent": 1 | "count": 50,
 *                "soak": "10m", "success": 90,
 *                "failure": {"percent": 10 | "count": 3, "action": "pause"},
 *                "approval": false}, ...],
 *    "start_at": "2026-11-22T10:00:00Z", "defer": "7d",
 *    "windows": [{"days": "sat,sun", "start": "02:00", "end": "05:00"}],
 *    "rate_per_minute": 100, "deadline": "2026-12-01T00:00:00Z",
 *    "priority": 10, "retries": 1,
 *    "timeouts": {"assigned": "1d", "installing": "2h", "reverting": "2h"}}
 * Durations are an integer with s, m, h or d. Unknown members, wrong types,
 * values out of range, phases that do not add up (sizes not increasing, a
 * last phase under 100 percent), a deadline before the start: FP_EINVAL with
 * a sentence that names the member, e.g. "phases[1].percent: ...".
 * Defaults: soak 0, success 100, failure {"count": 1, "action": "pause"},
 * timeouts 1d / 2h / 2h, retries 0, priority 0.
 */
int fp_rollout_spec_from_json(const json_t *j, struct fp_rollout_spec *s,
                              struct fp_err *err) FP_WUR;

/* The specification as JSON in the form fp_rollout_spec_from_json reads back. Caller decrefs. */
json_t *fp_rollout_spec_to_json(const struct fp_rollout_spec *s);

/*
 * Devices in each phase for a target set of n devices: cum[i] is the
 * cumulative count after phase i (percentages round up, every phase gets
 * at least one device while devices remain, cum[nphases-1] == n).
 */
void fp_rollout_phase_sizes(const struct fp_rollout_spec *s, size_t n,
                            size_t cum[FP_ROLLOUT_PHASES_MAX]);

enum fp_rollout_state {
	FP_RS_DRAFT = 0,        /* created; needs an approval */
	FP_RS_APPROVED,         /* approved; needs a start */
	FP_RS_RUNNING,          /* assigning (from not_before on) */
	FP_RS_WAITING_APPROVAL, /* the next phase waits for its own approval */
	FP_RS_PAUSED,           /* by an operator or a tripped threshold */
	FP_RS_REVERTING,        /* reinstalling the previous release */
	FP_RS_COMPLETED,        /* every phase passed its gate and soak; terminal */
	FP_RS_ABORTED,          /* terminal */
	FP_RS_REVERTED,         /* terminal */
	FP_RS_COUNT
};

enum fp_rollout_dev_state {
	FP_RD_PENDING = 0, /* its phase has not started */
	FP_RD_WAITING,     /* its phase runs; held by a window, the rate limit or another rollout */
	FP_RD_ASSIGNED,    /* the director assigned the release; the device has not started */
	FP_RD_INSTALLING,  /* the device reported that it works on this assignment */
	FP_RD_SUCCEEDED,   /* healthy boot on the new release reported */
	FP_RD_FAILED,      /* failed (reason), no attempt left or the rollout stopped */
	FP_RD_REVERTING,   /* assigned the previous release */
	FP_RD_REVERTED,    /* reports the previous release again */
	FP_RD_CANCELLED,   /* never assigned: the rollout stopped first */
	FP_RD_SUPERSEDED,  /* taken over by a rollout of higher priority */
	FP_RD_COUNT
};

/* The rollout's state besides its specification (persisted by the server). */
struct fp_rollout {
	struct fp_rollout_spec spec;
	enum fp_rollout_state state;
	int phase;                 /* the current phase, 0 .. nphases - 1 */
	int64_t not_before;        /* no assignment before: max(start_at, published + defer) */
	int64_t phase_started;     /* when the current phase started (0: not yet) */
	int64_t gate_met_at;       /* when the current phase's success gate was met (0: not) */
	int approved_phase;        /* the highest phase index approved to start */
	uint32_t tripped;          /* bit i: phase i's failure threshold already tripped */
	int64_t rate_credit_milli; /* token bucket of the rate limit, in 1/1000 devices */
	int64_t rate_at;           /* when the credit was last updated */
	char reason[FP_ROLLOUT_REASON_MAX]; /* why it paused, aborted or reverted */
};

/* One device of a rollout; the caller fills the inputs before each call. */
struct fp_rollout_dev {
	int64_t id; /* the caller's device id (not interpreted) */
	int phase;  /* the phase it belongs to */
	enum fp_rollout_dev_state state;
	int64_t since;                      /* when it entered its state */
	int attempts;                       /* assignments of the new release so far */
	int failures;                       /* failed attempts so far */
	char reason[FP_ROLLOUT_REASON_MAX]; /* the last failure's reason */
	/* Inputs from the caller: */
	int in_window; /* its local window is open now (or the rollout has none) */
	int claimed;   /* another active rollout holds an assignment for it */
	int outranked; /* a running rollout of higher priority includes it */
	int has_prev;  /* the release it ran before is known, so it can be reverted */
	/*
	 * Its assignment was withdrawn and it has not yet reported that it saw
	 * the withdrawal: it may still install the release, so a revert waits for
	 * it (at most timeout_assigned_s).
	 */
	int unsettled;
	/* Output: */
	int dirty; /* set when a function changed this device */
};

/* What a device's inventory report says about its current assignment. */
enum fp_rollout_report_status {
	FP_REP_NONE = 0,   /* nothing about this assignment yet */
	FP_REP_INSTALLING, /* downloading, installing, rebooting or checking health */
	FP_REP_INSTALLED,  /* committed; idle with no error */
	FP_REP_FAILED,     /* the update failed or rolled back; reason says why */
};

struct fp_rollout_report {
	enum fp_rollout_report_status status;
	int runs_target;    /* the firmware version it runs is the assigned release's */
	int runs_prev;      /* the firmware version it runs is the previous release's */
	const char *reason; /* for FP_REP_FAILED; borrowed */
};

enum fp_rollout_action_kind {
	FP_ACT_ASSIGN = 0, /* assign the release to devs[dev] (a new director version) */
	FP_ACT_WITHDRAW,   /* clear devs[dev]'s assignment (it has not started) */
	FP_ACT_REVERT,     /* assign the previous release to devs[dev] */
	FP_ACT_EVENT,      /* a rollout event: name and detail (webhooks, audit) */
};

struct fp_rollout_action {
	enum fp_rollout_action_kind kind;
	size_t dev;                         /* index into the devs array (device actions) */
	char event[32];                     /* for FP_ACT_EVENT, e.g. "phase_started" */
	char detail[FP_ROLLOUT_REASON_MAX]; /* a sentence for people */
};

/* A growing list of actions; the caller zero-initialises and frees it. */
struct fp_rollout_actions {
	struct fp_rollout_action *v;
	size_t n, cap;
};
void fp_rollout_actions_free(struct fp_rollout_actions *a);

/*
 * A device's report about the assignment it was given (the caller only
 * passes reports made after the current assignment, matched by the
 * director version the device says it works on). Updates d and sets
 * d->dirty when it changed; returns 1 then, else 0. A failure of a
 * device with attempts left goes back to WAITING, to be assigned again.
 */
int fp_rollout_on_report(const struct fp_rollout *r, struct fp_rollout_dev *d,
                         const struct fp_rollout_report *rep, int64_t now);

/*
 * One step of the scheduler at time now: device timeouts, threshold trips,
 * gates and soak, phase changes, completion, revert progress, and new
 * assignments (its phase started, window open, not claimed, rate limit).
 * Updates r and the devices (setting dirty) and appends the actions.
 * Returns 1 when r changed, 0 when not, FP_ENOMEM when the actions could
 * not grow (r and devs are then unchanged).
 */
int fp_rollout_tick(struct fp_rollout *r, struct fp_rollout_dev *devs, size_t n, int64_t now,
                    struct fp_rollout_actions *out) FP_WUR;

enum fp_rollout_command {
	FP_CMD_APPROVE = 0, /* DRAFT → APPROVED, or WAITING_APPROVAL → RUNNING */
	FP_CMD_START,       /* APPROVED → RUNNING */
	FP_CMD_PAUSE,       /* RUNNING or WAITING_APPROVAL → PAUSED */
	FP_CMD_RESUME,      /* PAUSED → RUNNING */
	FP_CMD_ABORT, /* any non-terminal state → ABORTED (assignments not started are withdrawn) */
	FP_CMD_REVERT, /* RUNNING, PAUSED, WAITING_APPROVAL, COMPLETED or ABORTED → REVERTING */
	FP_CMD_COUNT
};

/*
 * An operator's command at time now. FP_ECONFLICT with a sentence when the
 * state does not allow it ("rollout is completed; nothing to pause").
 * On success updates r and devs and appends actions and an event, as tick.
 */
int fp_rollout_command(struct fp_rollout *r, struct fp_rollout_dev *devs, size_t n,
                       enum fp_rollout_command cmd, int64_t now, struct fp_rollout_actions *out,
                       struct fp_err *err) FP_WUR;

/* Per-phase counts of each device state, for progress and gates. */
struct fp_rollout_counts {
	size_t total[FP_ROLLOUT_PHASES_MAX];
	size_t by_state[FP_ROLLOUT_PHASES_MAX][FP_RD_COUNT];
};
void fp_rollout_count(const struct fp_rollout *r, const struct fp_rollout_dev *devs, size_t n,
                      struct fp_rollout_counts *c);

/* Names for the API ("running", "waiting_approval", "succeeded", …) and back. */
const char *fp_rollout_state_name(enum fp_rollout_state s);
int fp_rollout_state_from_name(const char *s, enum fp_rollout_state *out) FP_WUR;
const char *fp_rollout_dev_state_name(enum fp_rollout_dev_state s);
int fp_rollout_dev_state_from_name(const char *s, enum fp_rollout_dev_state *out) FP_WUR;
const char *fp_rollout_command_name(enum fp_rollout_command c);
int fp_rollout_is_terminal(enum fp_rollout_state s);

/* The runtime part of r (everything but spec) as JSON, and back, for storage. */
json_t *fp_rollout_runtime_to_json(const struct fp_rollout *r);
int fp_rollout_runtime_from_json(const json_t *j, struct fp_rollout *r, struct fp_err *err) FP_WUR;

#endif
