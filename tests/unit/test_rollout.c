/*
 * test_rollout.c — unit tests of lib/rollout.c, the decision core of staged
 * rollouts: the specification (accepted forms, a refusal for every member
 * naming it, the round trip), phase sizes, every command in every state,
 * the scheduler's steps one by one with times to the second, every report
 * in every device state, the stored runtime, and a randomized model of a
 * fleet whose invariants must hold after every step.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fleetpatch/err.h"
#include "fleetpatch/rollout.h"

#define T0     1800000000 /* 2027-01-15 08:00:00 UTC, an arbitrary start */
#define DEVMAX 256

static struct fp_rollout R;
static struct fp_rollout_dev D[DEVMAX];
static size_t N;
static struct fp_rollout_actions A;

static int spec(const char *json, struct fp_rollout_spec *s, struct fp_err *err)
{
	json_error_t je;
	json_t *j = json_loads(json, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		fail_msg("bad test JSON %s: %s", json, je.text);
	int rc = fp_rollout_spec_from_json(j, s, err);
	json_decref(j);
	return rc;
}

/* A rollout in DRAFT with n devices spread over the phases by fp_rollout_phase_sizes. */
static void setup(const char *json, size_t n)
{
	struct fp_err err;
	memset(&R, 0, sizeof(R));
	memset(D, 0, sizeof(D));
	if (spec(json, &R.spec, &err))
		fail_msg("%s: %s", json, err.msg);
	size_t cum[FP_ROLLOUT_PHASES_MAX];
	fp_rollout_phase_sizes(&R.spec, n, cum);
	N = n;
	for (size_t i = 0, p = 0; i < n; i++) {
		while (i >= cum[p])
			p++;
		D[i].id = (int64_t)i + 1;
		D[i].phase = (int)p;
		D[i].in_window = 1;
		D[i].has_prev = 1;
	}
	fp_rollout_actions_free(&A);
}

static void cmd(enum fp_rollout_command c, int64_t now)
{
	struct fp_err err;
	A.n = 0;
	if (fp_rollout_command(&R, D, N, c, now, &A, &err))
		fail_msg("%s: %s", fp_rollout_command_name(c), err.msg);
}

/* Approves and starts at now. */
static void go(int64_t now)
{
	cmd(FP_CMD_APPROVE, now);
	cmd(FP_CMD_START, now);
}

static int tick(int64_t now)
{
	A.n = 0;
	int rc = fp_rollout_tick(&R, D, N, now, &A);
	assert_true(rc == 0 || rc == 1);
	return rc;
}

static size_t count_kind(enum fp_rollout_action_kind k)
{
	size_t c = 0;
	for (size_t i = 0; i < A.n; i++)
		c += A.v[i].kind == k;
	return c;
}

static const struct fp_rollout_action *find_event(const char *name)
{
	for (size_t i = 0; i < A.n; i++)
		if (A.v[i].kind == FP_ACT_EVENT && strcmp(A.v[i].event, name) == 0)
			return &A.v[i];
	return NULL;
}

static int has_action(enum fp_rollout_action_kind k, size_t dev)
{
	for (size_t i = 0; i < A.n; i++)
		if (A.v[i].kind == k && A.v[i].dev == dev)
			return 1;
	return 0;
}

static void report(size_t i, enum fp_rollout_report_status st, int target, int64_t now)
{
	struct fp_rollout_report rep = {.status = st, .runs_target = target};
	(void)fp_rollout_on_report(&R, &D[i], &rep, now);
}

/* ---- Specification ---------------------------------------------------------------------- */

static void test_spec_defaults(void **state)
{
	(void)state;
	struct fp_rollout_spec s;
	struct fp_err err;
	assert_int_equal(spec("{\"phases\":[{\"percent\":100}]}", &s, &err), 0);
	assert_int_equal(s.nphases, 1);
	assert_string_equal(s.phase[0].name, "phase-1");
	assert_int_equal(s.phase[0].size_kind, FP_SIZE_PERCENT);
	assert_int_equal(s.phase[0].size, 100);
	assert_int_equal(s.phase[0].soak_s, 0);
	assert_int_equal(s.phase[0].success_pct, 100);
	assert_int_equal(s.phase[0].fail_kind, FP_SIZE_COUNT);
	assert_int_equal(s.phase[0].fail_threshold, 1);
	assert_int_equal(s.phase[0].fail_action, FP_FAIL_PAUSE);
	assert_int_equal(s.timeout_assigned_s, 86400);
	assert_int_equal(s.timeout_installing_s, 7200);
	assert_int_equal(s.timeout_reverting_s, 7200);
	assert_int_equal(s.retries, 0);
	assert_int_equal(s.priority, 0);
	assert_int_equal(s.nwindows, 0);

	const char *full =
	    "{\"phases\": [{\"name\": \"canary\", \"count\": 50, \"soak\": \"10m\", \"success\": "
	    "90,"
	    "  \"failure\": {\"count\": 3, \"action\": \"pause\"}},"
	    " {\"name\": \"all\", \"percent\": 100, \"approval\": true, \"soak\": 45,"
	    "  \"failure\": {\"percent\": 10, \"action\": \"revert\"}}],"
	    " \"start_at\": \"2026-11-22T10:00:00Z\", \"defer\": \"7d\","
	    " \"windows\": [{\"days\": \"sat,sun\", \"start\": \"02:00\", \"end\": \"05:00\"}],"
	    " \"rate_per_minute\": 100, \"deadline\": \"2026-12-01T00:00:00Z\","
	    " \"priority\": 10, \"retries\": 1,"
	    " \"timeouts\": {\"assigned\": \"1d\", \"installing\": \"2h\", \"reverting\": "
	    "\"30s\"}}";
	assert_int_equal(spec(full, &s, &err), 0);
	assert_int_equal(s.nphases, 2);
	assert_string_equal(s.phase[0].name, "canary");
	assert_int_equal(s.phase[0].size_kind, FP_SIZE_COUNT);
	assert_int_equal(s.phase[0].size, 50);
	assert_int_equal(s.phase[0].soak_s, 600);
	assert_int_equal(s.phase[0].success_pct, 90);
	assert_int_equal(s.phase[0].fail_threshold, 3);
	assert_int_equal(s.phase[1].approval, 1);
	assert_int_equal(s.phase[1].soak_s, 45);
	assert_int_equal(s.phase[1].fail_kind, FP_SIZE_PERCENT);
	assert_int_equal(s.phase[1].fail_action, FP_FAIL_REVERT);
	/*
	 * 2026-01-01 is day 20454 after 1970-01-01 (56 years, 14 of them leap);
	 * November 22 is day 304 + 21 = 325 of 2026 and December 1 is day 334.
	 */
	assert_int_equal(s.start_at, (int64_t)(20454 + 325) * 86400 + 10 * 3600);
	assert_int_equal(s.deadline, (int64_t)(20454 + 334) * 86400);
	assert_int_equal(s.defer_s, 7 * 86400);
	assert_int_equal(s.nwindows, 2);
	assert_int_equal(s.window[0].start, 5 * 1440 + 120);
	assert_int_equal(s.rate_per_min, 100);
	assert_int_equal(s.priority, 10);
	assert_int_equal(s.retries, 1);
	assert_int_equal(s.timeout_assigned_s, 86400);
	assert_int_equal(s.timeout_installing_s, 7200);
	assert_int_equal(s.timeout_reverting_s, 30);

	/* Round trip: to_json reads back identically. */
	json_t *j = fp_rollout_spec_to_json(&s);
	assert_non_null(j);
	struct fp_rollout_spec again;
	memset(&again, 0x5a, sizeof(again));
	assert_int_equal(fp_rollout_spec_from_json(j, &again, &err), 0);
	assert_memory_equal(&s, &again, sizeof(s));
	json_t *j2 = fp_rollout_spec_to_json(&again);
	assert_true(json_equal(j, j2));
	json_decref(j);
	json_decref(j2);
	/* A midnight-to-midnight window and a crossing one survive too. */
	assert_int_equal(spec("{\"phases\":[{\"percent\":100}],\"windows\":["
	                      "{\"days\":\"mon\",\"start\":\"00:00\",\"end\":\"24:00\"},"
	                      "{\"days\":\"sun\",\"start\":\"23:00\",\"end\":\"01:00\"}]}",
	                      &s, &err),
	                 0);
	j = fp_rollout_spec_to_json(&s);
	assert_int_equal(fp_rollout_spec_from_json(j, &again, &err), 0);
	assert_memory_equal(&s, &again, sizeof(s));
	json_decref(j);
}

static void test_spec_reject(void **state)
{
	(void)state;
	static const struct {
		const char *json, *member;
	} bad[] = {
	    {"[]", "object"},
	    {"{}", "phases"},
	    {"{\"phases\":[]}", "phases"},
	    {"{\"phases\":[{\"percent\":100}],\"x\":1}", "unknown member \"x\""},
	    {"{\"phases\":[{\"percent\":100,\"x\":1}]}", "phases[0]: unknown member \"x\""},
	    {"{\"phases\":[1]}", "phases[0]"},
	    {"{\"phases\":[{}]}", "phases[0]: needs exactly one"},
	    {"{\"phases\":[{\"percent\":100,\"count\":5}]}", "phases[0]: needs exactly one"},
	    {"{\"phases\":[{\"percent\":0},{\"percent\":100}]}", "phases[0].percent"},
	    {"{\"phases\":[{\"percent\":101}]}", "phases[0].percent"},
	    {"{\"phases\":[{\"percent\":\"5\"},{\"percent\":100}]}", "phases[0].percent"},
	    {"{\"phases\":[{\"percent\":10.5},{\"percent\":100}]}", "phases[0].percent"},
	    {"{\"phases\":[{\"count\":0},{\"percent\":100}]}", "phases[0].count"},
	    {"{\"phases\":[{\"count\":1000001},{\"percent\":100}]}", "phases[0].count"},
	    {"{\"phases\":[{\"percent\":50},{\"percent\":50},{\"percent\":100}]}",
	     "phases[1].percent: sizes are cumulative"},
	    {"{\"phases\":[{\"count\":9},{\"count\":5},{\"percent\":100}]}",
	     "phases[1].count: sizes are cumulative"},
	    {"{\"phases\":[{\"percent\":50}]}", "phases[0].percent: the last phase must be 100"},
	    {"{\"phases\":[{\"percent\":5},{\"count\":100}]}",
	     "phases[1].count: the last phase must be 100 percent"},
	    {"{\"phases\":[{\"name\":\"\",\"percent\":100}]}", "phases[0].name"},
	    {"{\"phases\":[{\"name\":\"a b\",\"percent\":100}]}", "phases[0].name"},
	    {"{\"phases\":[{\"name\":"
	     "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
	     "\"percent\":100}]}",
	     "phases[0].name"},
	    {"{\"phases\":[{\"name\":\"a\",\"percent\":5},{\"name\":\"a\",\"percent\":100}]}",
	     "phases[1].name"},
	    {"{\"phases\":[{\"percent\":100,\"soak\":\"10x\"}]}", "phases[0].soak"},
	    {"{\"phases\":[{\"percent\":100,\"soak\":\"m\"}]}", "phases[0].soak"},
	    {"{\"phases\":[{\"percent\":100,\"soak\":-1}]}", "phases[0].soak"},
	    {"{\"phases\":[{\"percent\":100,\"soak\":\"366d\"}]}", "phases[0].soak"},
	    {"{\"phases\":[{\"percent\":100,\"soak\":31536001}]}", "phases[0].soak"},
	    {"{\"phases\":[{\"percent\":100,\"success\":101}]}", "phases[0].success"},
	    {"{\"phases\":[{\"percent\":100,\"success\":-1}]}", "phases[0].success"},
	    {"{\"phases\":[{\"percent\":100,\"failure\":3}]}", "phases[0].failure"},
	    {"{\"phases\":[{\"percent\":100,\"failure\":{\"count\":0}}]}",
	     "phases[0].failure.count"},
	    {"{\"phases\":[{\"percent\":100,\"failure\":{\"percent\":0}}]}",
	     "phases[0].failure.percent"},
	    {"{\"phases\":[{\"percent\":100,\"failure\":{\"action\":\"pause\"}}]}",
	     "phases[0].failure: needs exactly one"},
	    {"{\"phases\":[{\"percent\":100,\"failure\":{\"count\":1,\"action\":\"stop\"}}]}",
	     "phases[0].failure.action"},
	    {"{\"phases\":[{\"percent\":100,\"failure\":{\"count\":1,\"y\":1}}]}",
	     "phases[0].failure: unknown member \"y\""},
	    {"{\"phases\":[{\"percent\":100,\"approval\":1}]}", "phases[0].approval"},
	    {"{\"phases\":[{\"percent\":100}],\"start_at\":\"2026-11-22 10:00:00\"}", "start_at"},
	    {"{\"phases\":[{\"percent\":100}],\"deadline\":5}", "deadline"},
	    {"{\"phases\":[{\"percent\":100}],\"start_at\":\"0485-11-22T10:00:00Z\"}",
	     "start_at: must be after 1970"},
	    {"{\"phases\":[{\"percent\":100}],\"deadline\":\"1970-01-01T00:00:00Z\"}",
	     "deadline: must be after 1970"},
	    {"{\"phases\":[{\"percent\":100}],\"start_at\":\"2026-11-22T10:00:00Z\","
	     "\"deadline\":\"2026-11-22T10:00:00Z\"}",
	     "deadline: must be after start_at"},
	    {"{\"phases\":[{\"percent\":100}],\"defer\":\"1w\"}", "defer"},
	    {"{\"phases\":[{\"percent\":100}],\"windows\":[]}",
	     "windows: a rollout with an empty windows list would never run"},
	    {"{\"phases\":[{\"percent\":100}],\"windows\":{}}", "windows"},
	    {"{\"phases\":[{\"percent\":100}],\"windows\":[{\"days\":\"mon\",\"start\":\"02:00\"}]"
	     "}",
	     "windows[0]"},
	    {"{\"phases\":[{\"percent\":100}],\"windows\":[{\"days\":\"mon\",\"start\":\"02:00\","
	     "\"end\":\"02:00\"}]}",
	     "windows[0]: window: start and end are equal"},
	    {"{\"phases\":[{\"percent\":100}],\"windows\":[{\"days\":\"mon\",\"start\":\"02:00\","
	     "\"end\":\"03:00\",\"tz\":\"UTC\"}]}",
	     "windows[0]: unknown member \"tz\""},
	    {"{\"phases\":[{\"percent\":100}],\"rate_per_minute\":-1}", "rate_per_minute"},
	    {"{\"phases\":[{\"percent\":100}],\"rate_per_minute\":1000001}", "rate_per_minute"},
	    {"{\"phases\":[{\"percent\":100}],\"priority\":1001}", "priority"},
	    {"{\"phases\":[{\"percent\":100}],\"retries\":11}", "retries"},
	    {"{\"phases\":[{\"percent\":100}],\"retries\":true}", "retries"},
	    {"{\"phases\":[{\"percent\":100}],\"timeouts\":[]}", "timeouts"},
	    {"{\"phases\":[{\"percent\":100}],\"timeouts\":{\"assigned\":0}}", "timeouts.assigned"},
	    {"{\"phases\":[{\"percent\":100}],\"timeouts\":{\"installing\":\"2y\"}}",
	     "timeouts.installing"},
	    {"{\"phases\":[{\"percent\":100}],\"timeouts\":{\"reverting\":\"1h\",\"z\":1}}",
	     "timeouts: unknown member \"z\""},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fp_rollout_spec s;
		struct fp_err err = {0};
		int rc = spec(bad[i].json, &s, &err);
		if (rc != FP_EINVAL || !strstr(err.msg, bad[i].member))
			fail_msg("%s: rc %d, \"%s\" lacks \"%s\"", bad[i].json, rc, err.msg,
			         bad[i].member);
	}
	/* Seventeen phases are one too many. */
	char big[2048] = "{\"phases\":[";
	for (int i = 1; i <= FP_ROLLOUT_PHASES_MAX + 1; i++)
		snprintf(big + strlen(big), sizeof(big) - strlen(big), "{\"count\":%d},", i);
	snprintf(big + strlen(big), sizeof(big) - strlen(big), "{\"percent\":100}]}");
	struct fp_rollout_spec s;
	struct fp_err err;
	assert_int_equal(spec(big, &s, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "phases"));
}

static void test_phase_sizes(void **state)
{
	(void)state;
	struct fp_rollout_spec s;
	size_t c[FP_ROLLOUT_PHASES_MAX];
	assert_int_equal(
	    spec("{\"phases\":[{\"percent\":1},{\"percent\":10},{\"percent\":100}]}", &s, NULL), 0);
	/* ceil(1 * 10000 / 100) = 100, ceil(10 * 10000 / 100) = 1000. */
	fp_rollout_phase_sizes(&s, 10000, c);
	assert_int_equal(c[0], 100);
	assert_int_equal(c[1], 1000);
	assert_int_equal(c[2], 10000);
	/* Of 7: ceil(0.07) = 1; ceil(0.7) = 1, raised to 2 so the phase is not empty. */
	fp_rollout_phase_sizes(&s, 7, c);
	assert_int_equal(c[0], 1);
	assert_int_equal(c[1], 2);
	assert_int_equal(c[2], 7);
	/* Of 1: the first phase takes it; later phases are empty (cum never decreases). */
	fp_rollout_phase_sizes(&s, 1, c);
	assert_int_equal(c[0], 1);
	assert_int_equal(c[1], 1);
	assert_int_equal(c[2], 1);
	fp_rollout_phase_sizes(&s, 0, c);
	assert_int_equal(c[0], 0);
	assert_int_equal(c[2], 0);
	/* Of 101: ceil(1.01) = 2, ceil(10.1) = 11. */
	fp_rollout_phase_sizes(&s, 101, c);
	assert_int_equal(c[0], 2);
	assert_int_equal(c[1], 11);
	/* Counts are capped at n; a count below the previous percent still adds one. */
	assert_int_equal(
	    spec("{\"phases\":[{\"count\":50},{\"percent\":60},{\"count\":10},{\"percent\":100}]}",
	         &s, NULL),
	    0);
	fp_rollout_phase_sizes(&s, 20, c);
	assert_int_equal(c[0], 20);
	assert_int_equal(c[1], 20);
	assert_int_equal(c[2], 20);
	assert_int_equal(c[3], 20);
	fp_rollout_phase_sizes(&s, 1000, c);
	assert_int_equal(c[0], 50);
	assert_int_equal(c[1], 600);
	assert_int_equal(c[2], 601);
	assert_int_equal(c[3], 1000);
}

/* ---- Commands --------------------------------------------------------------------------- */

static void test_commands_total(void **state)
{
	(void)state;
	/* allowed[state][command], straight from the rules. */
	static const int allowed[FP_RS_COUNT][FP_CMD_COUNT] = {
	    /*                  approve start pause resume abort revert */
	    [FP_RS_DRAFT] = {1, 0, 0, 0, 1, 0},     [FP_RS_APPROVED] = {0, 1, 0, 0, 1, 0},
	    [FP_RS_RUNNING] = {0, 0, 1, 0, 1, 1},   [FP_RS_WAITING_APPROVAL] = {1, 0, 1, 0, 1, 1},
	    [FP_RS_PAUSED] = {0, 0, 0, 1, 1, 1},    [FP_RS_REVERTING] = {0, 0, 0, 0, 0, 0},
	    [FP_RS_COMPLETED] = {0, 0, 0, 0, 0, 1}, [FP_RS_ABORTED] = {0, 0, 0, 0, 0, 1},
	    [FP_RS_REVERTED] = {0, 0, 0, 0, 0, 0},
	};
	static const enum fp_rollout_state after[FP_CMD_COUNT] = {
	    FP_RS_COUNT, FP_RS_RUNNING, FP_RS_PAUSED, FP_RS_RUNNING, FP_RS_ABORTED, FP_RS_REVERTING,
	};
	for (int s = 0; s < FP_RS_COUNT; s++)
		for (int c = 0; c < FP_CMD_COUNT; c++) {
			setup("{\"phases\":[{\"count\":1},{\"percent\":100,\"approval\":true}]}",
			      3);
			R.state = (enum fp_rollout_state)s;
			/* One device still installing keeps a revert from finishing at once. */
			D[0].state = FP_RD_INSTALLING;
			struct fp_err err = {0};
			int rc =
			    fp_rollout_command(&R, D, N, (enum fp_rollout_command)c, T0, &A, &err);
			if (allowed[s][c]) {
				if (rc != 0)
					fail_msg("%s in %s: %s", fp_rollout_command_name(c),
					         fp_rollout_state_name(s), err.msg);
				if (c == FP_CMD_APPROVE)
					assert_int_equal(R.state, s == FP_RS_DRAFT ? FP_RS_APPROVED
					                                           : FP_RS_RUNNING);
				else
					assert_int_equal(R.state, after[c]);
				assert_int_equal(count_kind(FP_ACT_EVENT) >= 1, 1);
			} else {
				if (rc != FP_ECONFLICT)
					fail_msg("%s in %s: rc %d", fp_rollout_command_name(c),
					         fp_rollout_state_name(s), rc);
				assert_int_equal(R.state, s);
				const char *want = s == FP_RS_DRAFT ? "not approved yet"
				                   : s == FP_RS_REVERTING && c == FP_CMD_ABORT
				                       ? "let the revert finish"
				                       : fp_rollout_state_name(s);
				if (!strstr(err.msg, want))
					fail_msg("%s in %s: \"%s\" lacks \"%s\"",
					         fp_rollout_command_name(c),
					         fp_rollout_state_name(s), err.msg, want);
			}
			fp_rollout_actions_free(&A);
		}
	setup("{\"phases\":[{\"percent\":100}]}", 1);
	R.state = FP_RS_COMPLETED;
	struct fp_err err;
	assert_int_equal(fp_rollout_command(&R, D, N, FP_CMD_PAUSE, T0, &A, &err), FP_ECONFLICT);
	assert_string_equal(err.msg, "the rollout is completed; it cannot be paused");
	assert_int_equal(fp_rollout_command(&R, D, N, FP_CMD_COUNT, T0, &A, &err), FP_EINVAL);
}

/* ---- Ticks ------------------------------------------------------------------------------ */

static void test_progression(void **state)
{
	(void)state;
	setup("{\"phases\":[{\"name\":\"canary\",\"count\":1,\"soak\":\"10m\"},"
	      "{\"name\":\"rest\",\"percent\":100}]}",
	      10);
	/* Nothing happens in DRAFT or APPROVED. */
	assert_int_equal(tick(T0), 0);
	assert_int_equal(A.n, 0);
	cmd(FP_CMD_APPROVE, T0);
	assert_int_equal(R.approved_phase, 0);
	assert_non_null(find_event("approved"));
	assert_int_equal(tick(T0), 0);
	cmd(FP_CMD_START, T0);
	assert_non_null(find_event("started"));
	/* The first tick starts phase 0 and assigns its one device. */
	assert_int_equal(tick(T0 + 1), 1);
	assert_non_null(find_event("phase_started"));
	assert_int_equal(R.phase_started, T0 + 1);
	assert_true(has_action(FP_ACT_ASSIGN, 0));
	assert_int_equal(count_kind(FP_ACT_ASSIGN), 1);
	assert_int_equal(D[0].state, FP_RD_ASSIGNED);
	assert_int_equal(D[0].attempts, 1);
	assert_int_equal(D[0].since, T0 + 1);
	for (size_t i = 1; i < N; i++)
		assert_int_equal(D[i].state, FP_RD_PENDING);
	report(0, FP_REP_INSTALLING, 0, T0 + 50);
	assert_int_equal(D[0].state, FP_RD_INSTALLING);
	report(0, FP_REP_INSTALLED, 1, T0 + 100);
	assert_int_equal(D[0].state, FP_RD_SUCCEEDED);
	/* The gate (1 of 1) is met at T0 + 200; the soak of 600 s ends at T0 + 800. */
	assert_int_equal(tick(T0 + 200), 1);
	assert_non_null(find_event("gate_met"));
	assert_int_equal(R.gate_met_at, T0 + 200);
	assert_int_equal(tick(T0 + 799), 0);
	assert_int_equal(A.n, 0);
	assert_int_equal(R.phase, 0);
	assert_int_equal(tick(T0 + 800), 1);
	assert_non_null(find_event("phase_completed"));
	assert_non_null(find_event("phase_started"));
	assert_int_equal(R.phase, 1);
	assert_int_equal(R.phase_started, T0 + 800);
	assert_int_equal(R.gate_met_at, 0);
	assert_int_equal(count_kind(FP_ACT_ASSIGN), 9);
	for (size_t i = 1; i < N; i++)
		report(i, FP_REP_INSTALLED, 1, T0 + 900);
	/* The last phase has no soak: gate met, completed in the same tick. */
	assert_int_equal(tick(T0 + 1000), 1);
	assert_non_null(find_event("gate_met"));
	assert_non_null(find_event("completed"));
	assert_int_equal(R.state, FP_RS_COMPLETED);
	assert_int_equal(tick(T0 + 2000), 0);
	struct fp_rollout_counts c;
	fp_rollout_count(&R, D, N, &c);
	assert_int_equal(c.total[0], 1);
	assert_int_equal(c.total[1], 9);
	assert_int_equal(c.by_state[1][FP_RD_SUCCEEDED], 9);
}

static void test_not_before(void **state)
{
	(void)state;
	setup("{\"phases\":[{\"percent\":100}]}", 2);
	go(T0);
	R.not_before = T0 + 100;
	assert_int_equal(tick(T0 + 99), 0);
	assert_int_equal(A.n, 0);
	assert_int_equal(D[0].state, FP_RD_PENDING);
	assert_int_equal(tick(T0 + 100), 1);
	assert_int_equal(count_kind(FP_ACT_ASSIGN), 2);
}

static void test_approval(void **state)
{
	(void)state;
	setup("{\"phases\":[{\"count\":1},{\"percent\":100,\"approval\":true}]}", 4);
	go(T0);
	tick(T0);
	report(0, FP_REP_INSTALLED, 1, T0 + 10);
	assert_int_equal(tick(T0 + 20), 1);
	assert_int_equal(R.state, FP_RS_WAITING_APPROVAL);
	assert_non_null(find_event("phase_completed"));
	assert_non_null(find_event("waiting_approval"));
	assert_int_equal(count_kind(FP_ACT_ASSIGN), 0);
	assert_int_equal(tick(T0 + 30), 0);
	assert_int_equal(D[1].state, FP_RD_PENDING);
	cmd(FP_CMD_APPROVE, T0 + 40);
	assert_non_null(find_event("phase_approved"));
	assert_int_equal(R.state, FP_RS_RUNNING);
	assert_int_equal(R.approved_phase, 1);
	assert_int_equal(R.phase, 0);
	assert_int_equal(tick(T0 + 50), 1);
	assert_int_equal(R.phase, 1);
	assert_int_equal(R.phase_started, T0 + 50);
	assert_null(find_event("phase_completed")); /* announced before the approval */
	assert_non_null(find_event("phase_started"));
	assert_int_equal(count_kind(FP_ACT_ASSIGN), 3);
}

/* A phase of 2 where device 0 fails; returns after the failure report. */
static void threshold_setup(const char *action)
{
	char json[256];
	snprintf(json, sizeof(json),
	         "{\"phases\":[{\"count\":2,\"failure\":{\"count\":1,\"action\":\"%s\"}},"
	         "{\"percent\":100}]}",
	         action);
	setup(json, 6);
	go(T0);
	tick(T0);
	assert_int_equal(count_kind(FP_ACT_ASSIGN), 2);
	report(1, FP_REP_INSTALLED, 1, T0 + 5);
	struct fp_rollout_report rep = {.status = FP_REP_FAILED, .reason = "disk full"};
	assert_int_equal(fp_rollout_on_report(&R, &D[0], &rep, T0 + 10), 1);
	assert_int_equal(D[0].state, FP_RD_FAILED);
	assert_string_equal(D[0].reason, "disk full");
	assert_int_equal(D[0].failures, 1);
}

static void test_threshold_pause(void **state)
{
	(void)state;
	threshold_setup("pause");
	assert_int_equal(tick(T0 + 20), 1);
	const struct fp_rollout_action *e = find_event("threshold_tripped");
	assert_non_null(e);
	assert_non_null(strstr(e->detail, "phase phase-1: 1 of 2 devices failed"));
	assert_non_null(strstr(e->detail, "threshold of 1"));
	assert_non_null(find_event("paused"));
	assert_int_equal(R.state, FP_RS_PAUSED);
	assert_int_equal(R.tripped, 1);
	assert_string_equal(R.reason, e->detail);
	/* Resumed: the tripped bit holds; but the gate (2 of 2) can no longer be met. */
	cmd(FP_CMD_RESUME, T0 + 30);
	assert_int_equal(tick(T0 + 40), 1);
	assert_null(find_event("threshold_tripped"));
	assert_int_equal(R.state, FP_RS_PAUSED);
	assert_string_equal(R.reason,
	                    "phase phase-1: the success gate (2 of 2) can no longer be met");
}

static void test_threshold_abort(void **state)
{
	(void)state;
	threshold_setup("abort");
	D[1].state = FP_RD_ASSIGNED; /* pretend it has not reported */
	assert_int_equal(tick(T0 + 20), 1);
	assert_non_null(find_event("threshold_tripped"));
	assert_non_null(find_event("aborted"));
	assert_int_equal(R.state, FP_RS_ABORTED);
	assert_true(has_action(FP_ACT_WITHDRAW, 0)); /* failed: must not retry */
	assert_true(has_action(FP_ACT_WITHDRAW, 1));
	assert_int_equal(D[0].state, FP_RD_FAILED);
	assert_int_equal(D[1].state, FP_RD_CANCELLED);
	for (size_t i = 2; i < N; i++)
		assert_int_equal(D[i].state, FP_RD_CANCELLED);
}

static void test_threshold_revert(void **state)
{
	(void)state;
	threshold_setup("revert");
	D[5].has_prev = 0;
	assert_int_equal(tick(T0 + 20), 1);
	assert_non_null(find_event("threshold_tripped"));
	assert_non_null(find_event("reverting"));
	assert_int_equal(R.state, FP_RS_REVERTING);
	assert_true(has_action(FP_ACT_REVERT, 1));
	assert_int_equal(D[1].state, FP_RD_REVERTING);
	assert_int_equal(D[0].state, FP_RD_FAILED);
	for (size_t i = 2; i < N; i++)
		assert_int_equal(D[i].state, FP_RD_CANCELLED);
	/* Still reverting device 1. */
	assert_int_equal(tick(T0 + 30), 0);
	assert_int_equal(R.state, FP_RS_REVERTING);
	struct fp_rollout_report rep = {.status = FP_REP_INSTALLED, .runs_prev = 1};
	assert_int_equal(fp_rollout_on_report(&R, &D[1], &rep, T0 + 40), 1);
	assert_int_equal(D[1].state, FP_RD_REVERTED);
	assert_int_equal(tick(T0 + 50), 1);
	assert_non_null(find_event("reverted"));
	assert_int_equal(R.state, FP_RS_REVERTED);
}

static void test_threshold_percent(void **state)
{
	(void)state;
	/* 25 % of 10 devices: ceil(2.5) = 3 failures trip it, 2 do not. */
	setup("{\"phases\":[{\"percent\":100,\"success\":0,"
	      "\"failure\":{\"percent\":25,\"action\":\"pause\"}}]}",
	      10);
	go(T0);
	tick(T0);
	report(0, FP_REP_FAILED, 0, T0 + 1);
	report(1, FP_REP_FAILED, 0, T0 + 1);
	tick(T0 + 2);
	assert_int_equal(R.state, FP_RS_RUNNING);
	report(2, FP_REP_FAILED, 0, T0 + 3);
	tick(T0 + 4);
	assert_int_equal(R.state, FP_RS_PAUSED);
	assert_non_null(strstr(R.reason, "3 of 10 devices failed"));
}

static void test_gate_partial(void **state)
{
	(void)state;
	/* success 50 of 4: need ceil(2) = 2; with failures tolerated up to 3. */
	setup("{\"phases\":[{\"count\":4,\"success\":50,\"soak\":60,"
	      "\"failure\":{\"count\":3}},{\"percent\":100}]}",
	      8);
	go(T0);
	tick(T0);
	report(0, FP_REP_INSTALLED, 1, T0 + 1);
	report(1, FP_REP_FAILED, 0, T0 + 1);
	tick(T0 + 2);
	assert_int_equal(R.gate_met_at, 0);
	report(2, FP_REP_INSTALLED, 1, T0 + 3);
	tick(T0 + 4);
	assert_int_equal(R.gate_met_at, T0 + 4);
	/* A success that turns out a revert... a device that later fails resets the gate. */
	D[2].state = FP_RD_FAILED;
	tick(T0 + 5);
	assert_int_equal(R.gate_met_at, 0);
	assert_int_equal(R.state, FP_RS_RUNNING); /* device 3 may still succeed */
	report(3, FP_REP_FAILED, 0, T0 + 6);
	tick(T0 + 7);
	assert_int_equal(R.state, FP_RS_PAUSED);
	assert_non_null(strstr(R.reason, "success gate (2 of 4)"));
}

static void test_empty_phase(void **state)
{
	(void)state;
	/* One device, three phases: phases 1 and 2 are empty and meet their gates at once. */
	setup("{\"phases\":[{\"percent\":1},{\"percent\":10},{\"percent\":100}]}", 1);
	go(T0);
	tick(T0);
	report(0, FP_REP_INSTALLED, 1, T0 + 1);
	tick(T0 + 2);
	assert_int_equal(R.phase, 1);
	tick(T0 + 3);
	assert_int_equal(R.phase, 2);
	tick(T0 + 4);
	assert_int_equal(R.state, FP_RS_COMPLETED);
}

static void test_retries_timeouts(void **state)
{
	(void)state;
	setup("{\"phases\":[{\"percent\":100,\"failure\":{\"count\":5}}],\"retries\":1,"
	      "\"timeouts\":{\"assigned\":100,\"installing\":200,\"reverting\":300}}",
	      2);
	go(T0);
	tick(T0);
	assert_int_equal(D[0].attempts, 1);
	/* Assigned for exactly 100 s is not longer than 100 s. */
	assert_int_equal(tick(T0 + 100), 0);
	assert_int_equal(D[0].state, FP_RD_ASSIGNED);
	tick(T0 + 101);
	/* Timed out, an attempt left: back to WAITING and assigned again in the same tick. */
	assert_string_equal(D[0].reason, "timed out: assigned for 101 s without a report");
	assert_int_equal(D[0].failures, 1);
	assert_int_equal(D[0].state, FP_RD_ASSIGNED);
	assert_int_equal(D[0].attempts, 2);
	assert_true(has_action(FP_ACT_ASSIGN, 0));
	report(0, FP_REP_INSTALLING, 0, T0 + 150);
	report(1, FP_REP_INSTALLED, 1, T0 + 150);
	tick(T0 + 350);
	assert_int_equal(D[0].state, FP_RD_INSTALLING);
	tick(T0 + 351);
	assert_string_equal(D[0].reason, "timed out: installing for 201 s");
	assert_int_equal(D[0].state, FP_RD_FAILED); /* two attempts = 1 + retries */
	assert_int_equal(D[0].failures, 2);
	assert_int_equal(D[0].attempts, 2);
	/* With device 0 failed the gate (2 of 2) can no longer be met. */
	assert_int_equal(R.state, FP_RS_PAUSED);
	/* A late success still counts; failures stay. */
	report(0, FP_REP_INSTALLED, 1, T0 + 400);
	assert_int_equal(D[0].state, FP_RD_SUCCEEDED);
	assert_int_equal(D[0].failures, 2);
	cmd(FP_CMD_RESUME, T0 + 401);
	tick(T0 + 401);
	assert_int_equal(R.state, FP_RS_COMPLETED);
	/* Reverting: a device that does not report within 300 s fails. */
	cmd(FP_CMD_REVERT, T0 + 500);
	assert_int_equal(D[0].state, FP_RD_REVERTING);
	assert_int_equal(count_kind(FP_ACT_REVERT), 2);
	assert_int_equal(tick(T0 + 800), 0);
	tick(T0 + 801);
	assert_int_equal(D[0].state, FP_RD_FAILED);
	assert_string_equal(D[0].reason, "revert timed out after 301 s");
	assert_int_equal(R.state, FP_RS_REVERTED);
}

static void test_windows_deadline(void **state)
{
	(void)state;
	setup("{\"phases\":[{\"percent\":100}],\"windows\":[{\"days\":\"daily\",\"start\":"
	      "\"02:00\",\"end\":\"03:00\"}],\"deadline\":\"2027-01-16T00:00:00Z\","
	      "\"timeouts\":{\"installing\":\"1d\"}}",
	      3);
	go(T0);
	D[1].in_window = 0;
	tick(T0);
	assert_int_equal(count_kind(FP_ACT_ASSIGN), 2);
	assert_int_equal(D[1].state, FP_RD_WAITING);
	/* Device 0's window closes before it started: withdrawn, the attempt did not happen. */
	D[0].in_window = 0;
	report(2, FP_REP_INSTALLING, 0, T0 + 5);
	D[2].in_window = 0;
	tick(T0 + 10);
	assert_true(has_action(FP_ACT_WITHDRAW, 0));
	assert_false(has_action(FP_ACT_WITHDRAW, 2)); /* it started: left alone */
	assert_int_equal(D[0].state, FP_RD_WAITING);
	assert_int_equal(D[0].attempts, 0);
	assert_int_equal(D[2].state, FP_RD_INSTALLING);
	/* From the deadline on (2027-01-16 00:00 UTC = T0 + 16 h) windows no longer hold back. */
	int64_t dl = T0 + 16 * 3600;
	assert_int_equal(R.spec.deadline, dl);
	tick(dl - 1);
	assert_int_equal(count_kind(FP_ACT_ASSIGN), 0);
	tick(dl);
	assert_int_equal(count_kind(FP_ACT_ASSIGN), 2);
	tick(dl + 10);
	assert_int_equal(count_kind(FP_ACT_WITHDRAW), 0);
}

static void test_rate_limit(void **state)
{
	(void)state;
	setup("{\"phases\":[{\"percent\":100}],\"rate_per_minute\":6}", 200);
	go(T0);
	/* The bucket starts full: 6 devices at once, then one every 10 s. */
	tick(T0);
	assert_int_equal(count_kind(FP_ACT_ASSIGN), 6);
	tick(T0 + 5);
	assert_int_equal(count_kind(FP_ACT_ASSIGN), 0);
	assert_int_equal(R.rate_credit_milli, 500);
	tick(T0 + 10);
	assert_int_equal(count_kind(FP_ACT_ASSIGN), 1);
	/* Ten more minutes ticked every second: 600 s * 6 / 60 = 60 more. */
	size_t total = 0;
	for (int64_t t = T0 + 11; t <= T0 + 610; t++) {
		tick(t);
		total += count_kind(FP_ACT_ASSIGN);
	}
	assert_int_equal(total, 60);
	/* A long pause fills the bucket only to one minute's worth. */
	tick(T0 + 5000);
	assert_int_equal(count_kind(FP_ACT_ASSIGN), 6);
	/* Unlimited. */
	setup("{\"phases\":[{\"percent\":100}]}", 200);
	go(T0);
	tick(T0);
	assert_int_equal(count_kind(FP_ACT_ASSIGN), 200);
}

static void test_claimed_outranked(void **state)
{
	(void)state;
	/* Success 0: the superseded device would otherwise make the gate impossible. */
	setup("{\"phases\":[{\"percent\":100,\"success\":0}]}", 3);
	D[1].claimed = 1;
	D[2].outranked = 1;
	go(T0);
	tick(T0);
	assert_true(has_action(FP_ACT_ASSIGN, 0));
	assert_int_equal(count_kind(FP_ACT_ASSIGN), 1);
	assert_int_equal(D[1].state, FP_RD_WAITING);
	assert_int_equal(D[2].state, FP_RD_SUPERSEDED);
	D[1].claimed = 0;
	tick(T0 + 1);
	assert_true(has_action(FP_ACT_ASSIGN, 1));
	/* Outranked while waiting, even in DRAFT. */
	setup("{\"phases\":[{\"percent\":100}]}", 1);
	D[0].outranked = 1;
	assert_int_equal(tick(T0), 0);
	assert_int_equal(D[0].state, FP_RD_SUPERSEDED);
	assert_true(D[0].dirty);
}

static void test_revert_flow(void **state)
{
	(void)state;
	setup("{\"phases\":[{\"percent\":100,\"success\":0,\"failure\":{\"count\":9}}]}", 6);
	D[4].has_prev = 0;
	go(T0);
	D[5].in_window = 0;
	tick(T0);
	report(0, FP_REP_INSTALLED, 1, T0 + 1);
	report(1, FP_REP_INSTALLING, 0, T0 + 1);
	/* device 2 stays assigned; 3 fails; 4 succeeds without a known previous release. */
	report(3, FP_REP_FAILED, 0, T0 + 1);
	report(4, FP_REP_INSTALLED, 1, T0 + 1);
	cmd(FP_CMD_REVERT, T0 + 2);
	assert_non_null(find_event("reverting"));
	assert_int_equal(R.state, FP_RS_REVERTING);
	assert_int_equal(D[0].state, FP_RD_REVERTING);
	assert_true(has_action(FP_ACT_REVERT, 0));
	assert_int_equal(D[1].state, FP_RD_INSTALLING);
	assert_true(has_action(FP_ACT_WITHDRAW, 2));
	assert_int_equal(D[2].state, FP_RD_CANCELLED);
	assert_int_equal(D[3].state, FP_RD_FAILED);
	assert_int_equal(D[4].state, FP_RD_SUCCEEDED);
	assert_string_equal(D[4].reason, "not reverted: the previous release is unknown");
	assert_int_equal(D[5].state, FP_RD_CANCELLED);
	/* Device 1 finishes the new release: reverted on the next tick. */
	report(1, FP_REP_INSTALLED, 1, T0 + 3);
	assert_int_equal(D[1].state, FP_RD_SUCCEEDED);
	tick(T0 + 4);
	assert_true(has_action(FP_ACT_REVERT, 1));
	report(0, FP_REP_INSTALLED, 1, T0 + 5); /* still the new one: nothing */
	assert_int_equal(D[0].state, FP_RD_REVERTING);
	report(0, FP_REP_INSTALLED, 0, T0 + 5);
	assert_int_equal(D[0].state, FP_RD_REVERTING);
	struct fp_rollout_report prev = {.status = FP_REP_INSTALLED, .runs_prev = 1};
	assert_int_equal(fp_rollout_on_report(&R, &D[0], &prev, T0 + 6), 1);
	struct fp_rollout_report bad = {.status = FP_REP_FAILED, .reason = "no space"};
	assert_int_equal(fp_rollout_on_report(&R, &D[1], &bad, T0 + 6), 1);
	assert_string_equal(D[1].reason, "revert failed: no space");
	assert_int_equal(D[1].state, FP_RD_FAILED);
	/* Device 2 has not yet said it saw its withdrawal: the revert waits for it... */
	D[2].unsettled = 1;
	tick(T0 + 7);
	assert_int_equal(R.state, FP_RS_REVERTING);
	/* ...but not longer than an assigned device may stay silent. */
	tick(D[2].since + R.spec.timeout_assigned_s + 1);
	assert_int_equal(R.state, FP_RS_REVERTED);
	/* Or it settles; either way the revert is done. */
	R.state = FP_RS_REVERTING;
	D[2].unsettled = 0;
	tick(T0 + 7);
	assert_int_equal(R.state, FP_RS_REVERTED);
	assert_non_null(find_event("reverted"));
	/*
	 * Device 2's withdrawal came after it had fetched its assignment: it
	 * reports the new release late. It counts, and is reverted too.
	 */
	report(2, FP_REP_INSTALLED, 1, T0 + 8);
	assert_int_equal(D[2].state, FP_RD_SUCCEEDED);
	assert_int_equal(tick(T0 + 9), 1);
	assert_non_null(find_event("reverting"));
	assert_true(has_action(FP_ACT_REVERT, 2));
	assert_int_equal(R.state, FP_RS_REVERTING);
	report(2, FP_REP_INSTALLING, 0, T0 + 10); /* about the revert: not a state change */
	assert_int_equal(fp_rollout_on_report(&R, &D[2], &prev, T0 + 11), 1);
	tick(T0 + 12);
	assert_int_equal(R.state, FP_RS_REVERTED);
	/* Device 5 was never assigned: a report from it changes nothing. */
	report(5, FP_REP_INSTALLED, 1, T0 + 13);
	assert_int_equal(D[5].state, FP_RD_CANCELLED);
}

static void test_completion_waits(void **state)
{
	(void)state;
	setup("{\"phases\":[{\"percent\":100,\"success\":50,\"failure\":{\"count\":10}}]}", 4);
	go(T0);
	tick(T0);
	report(0, FP_REP_INSTALLED, 1, T0 + 1);
	report(1, FP_REP_INSTALLED, 1, T0 + 1);
	report(2, FP_REP_INSTALLING, 0, T0 + 1);
	tick(T0 + 2);
	assert_non_null(find_event("gate_met"));
	assert_int_equal(R.state, FP_RS_RUNNING); /* 2 installing/assigned stragglers */
	report(2, FP_REP_INSTALLED, 1, T0 + 3);
	tick(T0 + 4);
	assert_int_equal(R.state, FP_RS_RUNNING);
	report(3, FP_REP_FAILED, 0, T0 + 5);
	tick(T0 + 6);
	assert_int_equal(R.state, FP_RS_COMPLETED);
	assert_non_null(find_event("completed"));
}

static void test_abort_command(void **state)
{
	(void)state;
	setup("{\"phases\":[{\"percent\":100,\"failure\":{\"count\":9}}]}", 5);
	go(T0);
	D[4].in_window = 0;
	tick(T0);
	report(0, FP_REP_INSTALLING, 0, T0 + 1);
	report(1, FP_REP_INSTALLED, 1, T0 + 1);
	report(2, FP_REP_FAILED, 0, T0 + 1);
	cmd(FP_CMD_ABORT, T0 + 2);
	assert_non_null(find_event("aborted"));
	assert_int_equal(D[0].state, FP_RD_INSTALLING);
	assert_int_equal(D[1].state, FP_RD_SUCCEEDED);
	assert_int_equal(D[2].state, FP_RD_FAILED);
	assert_true(has_action(FP_ACT_WITHDRAW, 2));
	assert_int_equal(D[3].state, FP_RD_CANCELLED);
	assert_true(has_action(FP_ACT_WITHDRAW, 3));
	assert_int_equal(D[4].state, FP_RD_CANCELLED);
	assert_false(has_action(FP_ACT_WITHDRAW, 4));
	/* The installing device finishes: it succeeded; an aborted rollout does not retry. */
	report(0, FP_REP_FAILED, 0, T0 + 3);
	assert_int_equal(D[0].state, FP_RD_FAILED);
	assert_int_equal(tick(T0 + 4), 0);
}

/* Every report in every device state, in a running rollout with and without retries left. */
static void test_reports_total(void **state)
{
	(void)state;
	const int X = -1; /* unchanged */
	/* expected[device state][report status], retries left (attempts 1, retries 1). */
	static const int want[FP_RD_COUNT][4] = {
	    /* none installing installed(target) failed */
	    [FP_RD_PENDING] = {-1, -1, -1, -1},
	    [FP_RD_WAITING] = {-1, FP_RD_INSTALLING, FP_RD_SUCCEEDED, -1},
	    [FP_RD_ASSIGNED] = {-1, FP_RD_INSTALLING, FP_RD_SUCCEEDED, FP_RD_WAITING},
	    [FP_RD_INSTALLING] = {-1, -1, FP_RD_SUCCEEDED, FP_RD_WAITING},
	    [FP_RD_SUCCEEDED] = {-1, -1, -1, -1},
	    [FP_RD_FAILED] = {-1, -1, FP_RD_SUCCEEDED, -1},
	    [FP_RD_REVERTING] = {-1, -1, -1, FP_RD_FAILED},
	    [FP_RD_REVERTED] = {-1, -1, -1, -1},
	    /* Withdrawn after its assignment (attempts 1): what it did still counts. */
	    [FP_RD_CANCELLED] = {-1, FP_RD_INSTALLING, FP_RD_SUCCEEDED, FP_RD_FAILED},
	    [FP_RD_SUPERSEDED] = {-1, -1, -1, -1},
	};
	for (int retries = 0; retries <= 1; retries++)
		for (int s = 0; s < FP_RD_COUNT; s++)
			for (int st = 0; st < 4; st++) {
				setup(retries ? "{\"phases\":[{\"percent\":100}],\"retries\":1}"
				              : "{\"phases\":[{\"percent\":100}]}",
				      1);
				R.state = FP_RS_RUNNING;
				D[0].state = (enum fp_rollout_dev_state)s;
				D[0].attempts = 1;
				D[0].since = T0;
				struct fp_rollout_report rep = {.status = st, .runs_target = 1};
				int changed = fp_rollout_on_report(&R, &D[0], &rep, T0 + 9);
				int w = want[s][st];
				if (w == FP_RD_WAITING && !retries)
					w = FP_RD_FAILED;
				if (w == X) {
					assert_int_equal(changed, 0);
					assert_int_equal(D[0].state, s);
					assert_false(D[0].dirty);
					assert_int_equal(D[0].since, T0);
				} else {
					if (changed != 1 || (int)D[0].state != w)
						fail_msg("%s + report %d: %s, expected %s",
						         fp_rollout_dev_state_name(s), st,
						         fp_rollout_dev_state_name(D[0].state),
						         fp_rollout_dev_state_name(w));
					assert_true(D[0].dirty);
					assert_int_equal(D[0].since, T0 + 9);
				}
				if (st == FP_REP_FAILED &&
				    (s == FP_RD_ASSIGNED || s == FP_RD_INSTALLING ||
				     s == FP_RD_CANCELLED)) {
					assert_int_equal(D[0].failures, 1);
					assert_string_equal(D[0].reason,
					                    "the device reported a failure");
				}
			}
	/* A device cancelled before it was ever assigned has nothing to report. */
	for (int st = FP_REP_INSTALLING; st <= FP_REP_FAILED; st++) {
		setup("{\"phases\":[{\"percent\":100}]}", 1);
		R.state = FP_RS_ABORTED;
		D[0].state = FP_RD_CANCELLED;
		D[0].attempts = 0;
		struct fp_rollout_report rep = {.status = st, .runs_target = 1};
		assert_int_equal(fp_rollout_on_report(&R, &D[0], &rep, T0), 0);
		assert_int_equal(D[0].state, FP_RD_CANCELLED);
	}
	/* Installed but another version: a failure. */
	setup("{\"phases\":[{\"percent\":100}]}", 1);
	R.state = FP_RS_RUNNING;
	D[0].state = FP_RD_INSTALLING;
	D[0].attempts = 1;
	report(0, FP_REP_INSTALLED, 0, T0);
	assert_int_equal(D[0].state, FP_RD_FAILED);
	assert_string_equal(D[0].reason, "reports installed but runs another version");
	/* A stopping rollout never sends a failed device back to WAITING. */
	setup("{\"phases\":[{\"percent\":100}],\"retries\":3}", 1);
	R.state = FP_RS_ABORTED;
	D[0].state = FP_RD_INSTALLING;
	D[0].attempts = 1;
	report(0, FP_REP_FAILED, 0, T0);
	assert_int_equal(D[0].state, FP_RD_FAILED);
}

/* ---- Names and runtime ------------------------------------------------------------------ */

static void test_names_runtime(void **state)
{
	(void)state;
	static const char *const rs[] = {"draft",   "approved",  "running",   "waiting_approval",
	                                 "paused",  "reverting", "completed", "aborted",
	                                 "reverted"};
	static const char *const ds[] = {"pending",   "waiting",   "assigned",  "installing",
	                                 "succeeded", "failed",    "reverting", "reverted",
	                                 "cancelled", "superseded"};
	static const char *const cs[] = {"approve", "start", "pause", "resume", "abort", "revert"};
	for (int i = 0; i < FP_RS_COUNT; i++) {
		enum fp_rollout_state s;
		assert_string_equal(fp_rollout_state_name(i), rs[i]);
		assert_int_equal(fp_rollout_state_from_name(rs[i], &s), 0);
		assert_int_equal(s, i);
		assert_int_equal(fp_rollout_is_terminal(i), i >= FP_RS_COMPLETED);
	}
	for (int i = 0; i < FP_RD_COUNT; i++) {
		enum fp_rollout_dev_state s;
		assert_string_equal(fp_rollout_dev_state_name(i), ds[i]);
		assert_int_equal(fp_rollout_dev_state_from_name(ds[i], &s), 0);
		assert_int_equal(s, i);
	}
	for (int i = 0; i < FP_CMD_COUNT; i++)
		assert_string_equal(fp_rollout_command_name(i), cs[i]);
	enum fp_rollout_state s;
	assert_int_equal(fp_rollout_state_from_name("Running", &s), FP_EINVAL);
	assert_string_equal(fp_rollout_state_name(FP_RS_COUNT), "?");

	struct fp_rollout r, back;
	memset(&r, 0, sizeof(r));
	memset(&back, 0, sizeof(back));
	r.state = FP_RS_WAITING_APPROVAL;
	r.phase = 2;
	r.not_before = T0;
	r.phase_started = T0 + 1;
	r.gate_met_at = T0 + 2;
	r.approved_phase = 2;
	r.tripped = 0x8001;
	r.rate_credit_milli = 4500;
	r.rate_at = T0 + 3;
	snprintf(r.reason, sizeof(r.reason), "paused by an operator");
	json_t *j = fp_rollout_runtime_to_json(&r);
	struct fp_err err;
	assert_int_equal(fp_rollout_runtime_from_json(j, &back, &err), 0);
	assert_memory_equal(&r, &back, sizeof(r));
	json_object_set_new(j, "extra", json_true());
	assert_int_equal(fp_rollout_runtime_from_json(j, &back, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "extra"));
	json_object_del(j, "extra");
	json_object_del(j, "rate_at");
	assert_int_equal(fp_rollout_runtime_from_json(j, &back, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "rate_at"));
	json_object_set_new(j, "rate_at", json_integer(5));
	json_object_set_new(j, "state", json_string("flying"));
	assert_int_equal(fp_rollout_runtime_from_json(j, &back, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "state"));
	json_object_set_new(j, "state", json_string("paused"));
	json_object_set_new(j, "phase", json_integer(FP_ROLLOUT_PHASES_MAX));
	assert_int_equal(fp_rollout_runtime_from_json(j, &back, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "phase"));
	json_decref(j);
}

/* ---- The randomized model --------------------------------------------------------------- */

static uint32_t rnd_state;

static uint32_t rnd(uint32_t n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state % n;
}

static void test_model(void **state)
{
	(void)state;
	static const char *const actions[] = {"pause", "abort", "revert"};
	for (int run = 0; run < 1000; run++) {
		rnd_state = 0x9e3779b9u ^ (uint32_t)(run * 2654435761u);
		int retries = (int)rnd(3);
		int rate = rnd(2) ? 0 : (int)rnd(20) + 1;
		int good = run % 2 == 0;
		/* A bad canary: every canary device fails; otherwise a few others fail. */
		char json[512];
		snprintf(json, sizeof(json),
		         "{\"phases\":[{\"name\":\"canary\",\"count\":3,\"soak\":\"%ds\","
		         "\"failure\":{\"count\":1,\"action\":\"%s\"}},"
		         "{\"percent\":30,\"success\":80,\"failure\":{\"percent\":50}},"
		         "{\"percent\":100,\"success\":%d,\"approval\":%s,"
		         "\"failure\":{\"percent\":60}}],"
		         "\"retries\":%d,\"rate_per_minute\":%d,"
		         "\"timeouts\":{\"assigned\":\"20m\",\"installing\":\"30m\"}}",
		         (int)rnd(600), actions[rnd(3)], good ? 100 : 50, rnd(2) ? "true" : "false",
		         retries, rate);
		size_t n = 10 + rnd(60);
		setup(json, n);
		int bad[DEVMAX] = {0};
		if (!good)
			for (size_t i = 0; i < n; i++)
				bad[i] = D[i].phase == 0 || rnd(10) == 0;
		int64_t now = T0;
		R.not_before = T0 + rnd(300);
		go(now);
		int canary_tripped = 0;
		for (int step = 0; step < 3000 && !fp_rollout_is_terminal(R.state); step++) {
			now += 1 + rnd(90);
			for (size_t i = 0; i < n; i++) {
				D[i].in_window = rnd(10) < 8;
				D[i].dirty = 0;
				struct fp_rollout_report rep = {0};
				uint32_t p = rnd(10);
				if (D[i].state == FP_RD_ASSIGNED && p < 5)
					rep.status = FP_REP_INSTALLING;
				else if ((D[i].state == FP_RD_INSTALLING ||
				          D[i].state == FP_RD_ASSIGNED) &&
				         p < 3) {
					rep.status = bad[i] ? FP_REP_FAILED : FP_REP_INSTALLED;
					rep.runs_target = !bad[i];
				} else if (D[i].state == FP_RD_REVERTING && p < 4) {
					rep.status = FP_REP_INSTALLED;
					rep.runs_prev = 1;
				}
				(void)fp_rollout_on_report(&R, &D[i], &rep, now);
			}
			/* Operators: the bad runs get random resumes and approvals. */
			struct fp_err err;
			int refused = 0;
			if (R.state == FP_RS_WAITING_APPROVAL || (!good && rnd(20) == 0))
				refused = fp_rollout_command(
				    &R, D, N,
				    R.state == FP_RS_PAUSED ? FP_CMD_RESUME : FP_CMD_APPROVE, now,
				    &A, &err);
			(void)refused;
			enum fp_rollout_dev_state before[DEVMAX];
			int64_t since[DEVMAX];
			for (size_t i = 0; i < n; i++) {
				before[i] = D[i].state;
				since[i] = D[i].since;
			}
			A.n = 0;
			assert_true(fp_rollout_tick(&R, D, N, now, &A) >= 0);
			for (size_t k = 0; k < A.n; k++) {
				if (A.v[k].kind != FP_ACT_ASSIGN)
					continue;
				size_t i = A.v[k].dev;
				assert_int_equal(R.state, FP_RS_RUNNING);
				assert_true(now >= R.not_before);
				/* Never assigned while it holds a live assignment (unless it timed
				 * out). */
				if (before[i] == FP_RD_ASSIGNED)
					assert_true(now - since[i] > R.spec.timeout_assigned_s);
				else if (before[i] == FP_RD_INSTALLING)
					assert_true(now - since[i] > R.spec.timeout_installing_s);
				else
					assert_true(before[i] == FP_RD_WAITING ||
					            before[i] == FP_RD_PENDING);
				/* A bad canary never lets the next phases start. */
				if (!good)
					assert_int_equal(D[i].phase, 0);
			}
			for (size_t i = 0; i < n; i++)
				assert_true(D[i].attempts >= 0 && D[i].attempts <= 1 + retries);
			if (R.tripped & 1)
				canary_tripped = 1;
		}
		if (good)
			assert_int_equal(R.state, FP_RS_COMPLETED);
		else
			assert_true(canary_tripped);
		fp_rollout_actions_free(&A);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spec_defaults),
	    cmocka_unit_test(test_spec_reject),
	    cmocka_unit_test(test_phase_sizes),
	    cmocka_unit_test(test_commands_total),
	    cmocka_unit_test(test_progression),
	    cmocka_unit_test(test_not_before),
	    cmocka_unit_test(test_approval),
	    cmocka_unit_test(test_threshold_pause),
	    cmocka_unit_test(test_threshold_abort),
	    cmocka_unit_test(test_threshold_revert),
	    cmocka_unit_test(test_threshold_percent),
	    cmocka_unit_test(test_gate_partial),
	    cmocka_unit_test(test_empty_phase),
	    cmocka_unit_test(test_retries_timeouts),
	    cmocka_unit_test(test_windows_deadline),
	    cmocka_unit_test(test_rate_limit),
	    cmocka_unit_test(test_claimed_outranked),
	    cmocka_unit_test(test_revert_flow),
	    cmocka_unit_test(test_completion_waits),
	    cmocka_unit_test(test_abort_command),
	    cmocka_unit_test(test_reports_total),
	    cmocka_unit_test(test_names_runtime),
	    cmocka_unit_test(test_model),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	fp_rollout_actions_free(&A);
	return rc;
}
