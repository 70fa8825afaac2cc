/*
 * test_agent_state.c — unit tests of lib/agent_state.c: every (state,
 * event, facts) has an answer, and a model of a device (two slots, a
 * bootloader with boot attempts, a journal) survives a power cut at every
 * step of an update — one cut, and two cuts in a row — always booting a
 * slot that holds a complete image and converging to a committed new
 * version (healthy) or to the old one (unhealthy, or a new image that
 * never boots).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fleetpatch/agent_state.h"
#include "fleetpatch/err.h"

#define ATTEMPTS  3
#define STEPS_MAX 200

static void test_total(void **state)
{
	(void)state;
	struct fp_agent_step o;
	for (int s = 0; s < FP_AS_COUNT; s++)
		for (int e = 0; e < FP_AE_COUNT; e++)
			for (int f = 0; f < 4; f++) {
				struct fp_agent_facts facts = {.running_new = f & 1,
				                               .new_pending = f >> 1};
				assert_int_equal(fp_agent_step(s, e, &facts, &o), 0);
				assert_true((unsigned)o.next < FP_AS_COUNT);
				assert_true((unsigned)o.action < FP_AA_COUNT);
				/* The only way out of idle is a verified assignment. */
				if (s == FP_AS_IDLE)
					assert_true(o.next == FP_AS_IDLE || e == FP_AE_ASSIGNED);
				/* Only a download that verified leads to a switch. */
				if (o.action == FP_AA_SWITCH)
					assert_true(s == FP_AS_DOWNLOAD || s == FP_AS_INSTALLED);
			}
	assert_int_equal(fp_agent_step(FP_AS_COUNT, FP_AE_OK, NULL, &o), FP_EINVAL);
	assert_int_equal(fp_agent_step(FP_AS_IDLE, FP_AE_COUNT, NULL, &o), FP_EINVAL);
	for (int s = 0; s < FP_AS_COUNT; s++)
		assert_int_equal(fp_agent_state_parse(fp_agent_state_name(s)), s);
	assert_int_equal(fp_agent_state_parse("nope"), -1);
}

/* A device: slot 0 holds the old image, slot 1 receives the new one. */
struct model {
	int new_complete; /* slot 1 holds the whole verified image */
	int primary;      /* the bootloader's first choice */
	int attempts;     /* boot attempts left for slot 1 */
	int new_good;     /* slot 1 was committed */
	int booted;
	int health_ok; /* the new image passes the health check */
	int new_boots; /* the new image boots far enough to start the agent */
	enum fp_agent_state journal;
	int done;
	int steps; /* atomic steps so far; a cut comes before step `cut` */
};

/* The bootloader: slot 1 while committed or attempts remain, else slot 0. */
static void boot(struct model *m)
{
	if (m->primary == 1 && (m->new_good || m->attempts > 0)) {
		if (!m->new_good)
			m->attempts--;
		m->booted = 1;
	} else {
		m->booted = 0;
	}
	/* Never boot a slot that is not whole. */
	if (m->booted == 1)
		assert_true(m->new_complete);
}

static int new_pending(const struct model *m)
{
	return m->primary == 1 && (m->new_good || m->attempts > 0);
}

/* One atomic step; returns 1 when the power was cut before it. */
static int tick(struct model *m, const int *cuts, int ncuts)
{
	for (int i = 0; i < ncuts; i++)
		if (m->steps == cuts[i]) {
			m->steps++;
			return 1;
		}
	m->steps++;
	return 0;
}

/* Runs the agent from boot until it is idle; power cuts reboot the model. */
static void run(struct model *m, const int *cuts, int ncuts)
{
	struct fp_agent_step o;
	int started = 0;
	for (int guard = 0; guard < STEPS_MAX; guard++) {
		if (!started) {
			boot(m);
			if (m->booted == 1 && !m->new_boots)
				continue; /* the watchdog reboots a new image that hangs */
			struct fp_agent_facts f = {.running_new = m->booted == 1,
			                           .new_pending = new_pending(m)};
			assert_int_equal(fp_agent_step(m->journal, FP_AE_START, &f, &o), 0);
			started = 1;
		}
		/* The journal write: the state is synced before its action. */
		if (tick(m, cuts, ncuts)) {
			started = 0;
			continue;
		}
		m->journal = o.next;
		enum fp_agent_event ev = FP_AE_OK;
		if (tick(m, cuts, ncuts)) {
			/* Cut mid-action: a download leaves a partial slot. */
			if (o.action == FP_AA_DOWNLOAD)
				m->new_complete = 0;
			started = 0;
			continue;
		}
		switch (o.action) {
		case FP_AA_NONE: return;
		case FP_AA_DOWNLOAD: m->new_complete = 1; break;
		case FP_AA_SWITCH:
			m->primary = 1;
			m->attempts = ATTEMPTS;
			m->new_good = 0;
			break;
		case FP_AA_REBOOT: started = 0; continue;
		case FP_AA_HEALTH: ev = m->health_ok ? FP_AE_OK : FP_AE_FAIL; break;
		case FP_AA_COMMIT: m->new_good = 1; break;
		case FP_AA_ROLLBACK:
			m->primary = 0;
			m->new_good = 0;
			m->attempts = 0;
			break;
		case FP_AA_REPORT: m->done = 1; return;
		default: fail();
		}
		struct fp_agent_facts f = {.running_new = m->booted == 1,
		                           .new_pending = new_pending(m)};
		assert_int_equal(fp_agent_step(m->journal, ev, &f, &o), 0);
	}
	fail_msg("the agent did not converge");
}

static void one_update(int health_ok, int new_boots, const int *cuts, int ncuts)
{
	struct model m = {.health_ok = health_ok, .new_boots = new_boots};
	struct fp_agent_step o;
	/* The first start finds nothing to do; then an assignment arrives. */
	run(&m, NULL, 0);
	assert_int_equal(fp_agent_step(FP_AS_IDLE, FP_AE_ASSIGNED, NULL, &o), 0);
	m.journal = FP_AS_IDLE;
	m.steps = 0;
	/* The assignment's transition is written like every other one. */
	for (int i = 0; i < ncuts; i++)
		if (cuts[i] == 0)
			return; /* cut before the download was even journaled */
	m.steps = 1;
	m.journal = o.next;
	/* The agent acts on the journaled download; every later step may be cut. */
	run(&m, cuts, ncuts);
	assert_int_equal(m.journal, FP_AS_IDLE);
	/* Converged: the healthy new image is committed, else the old one runs. */
	int want_new = health_ok && new_boots;
	boot(&m);
	assert_int_equal(m.booted, want_new ? 1 : 0);
	if (want_new)
		assert_true(m.new_good);
}

static void test_power_cuts(void **state)
{
	(void)state;
	int cases = 0;
	for (int h = 0; h < 2; h++)
		for (int nb = 0; nb < 2; nb++)
			for (int c1 = 0; c1 < 40; c1++) {
				int one[1] = {c1};
				one_update(h, nb, one, 1);
				cases++;
				for (int c2 = c1 + 1; c2 < 40; c2++) {
					int two[2] = {c1, c2};
					one_update(h, nb, two, 2);
					cases++;
				}
			}
	print_message("power cuts: %d runs, every one converged\n", cases);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_total),
	    cmocka_unit_test(test_power_cuts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
