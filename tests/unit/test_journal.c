/*
 * test_journal.c — unit tests of lib/journal.c: round trip, torn and
 * corrupt tails at every byte, caps, and records that go back in sequence.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>

#include "fleetpatch/journal.h"

static void sample(struct fp_journal_rec *r, uint64_t seq, enum fp_agent_state st)
{
	memset(r, 0, sizeof(*r));
	r->seq = seq;
	r->state = st;
	snprintf(r->target, sizeof(r->target), "fw-%llu.bin", (unsigned long long)seq);
	snprintf(r->version, sizeof(r->version), "1.%llu", (unsigned long long)seq);
	memset(r->sha256, 'a', 64);
	r->length = 1000;
	r->bytes_done = 500;
	r->new_slot = 1;
	r->security_counter = 7;
	r->assignment_version = 3;
	snprintf(r->slot_version[0], sizeof(r->slot_version[0]), "1.0");
	snprintf(r->reason, sizeof(r->reason), "the health check failed: \"x\"\n");
	r->reboots = 2;
	if (seq % 2)
		snprintf(r->backend, sizeof(r->backend), "pkg");
	if (seq % 3 == 0) { /* an image made from a delta */
		memset(r->delta_sha256, 'd', 64);
		r->delta_length = 300;
	}
}

static void test_round_trip(void **state)
{
	(void)state;
	struct fp_journal_rec a, b;
	uint8_t buf[FP_JOURNAL_RECORD_MAX];
	size_t n = 0, used = 0;
	for (int s = 0; s < FP_AS_COUNT; s++) {
		sample(&a, (uint64_t)s + 1, (enum fp_agent_state)s);
		assert_int_equal(fp_journal_encode(&a, buf, sizeof(buf), &n, NULL), 0);
		assert_int_equal(fp_journal_decode(buf, n, &b, &used, NULL), 0);
		assert_int_equal(used, n);
		assert_memory_equal(&a, &b, sizeof(a));
	}
	a.state = FP_AS_COUNT;
	assert_int_equal(fp_journal_encode(&a, buf, sizeof(buf), &n, NULL), FP_EINVAL);
	sample(&a, 1, FP_AS_IDLE);
	assert_int_equal(fp_journal_encode(&a, buf, 20, &n, NULL), FP_ETOOBIG);
}

static void test_torn_and_corrupt_tail(void **state)
{
	(void)state;
	uint8_t buf[3 * FP_JOURNAL_RECORD_MAX];
	size_t off = 0, n, ends[3];
	struct fp_journal_rec r, last;
	for (int i = 0; i < 3; i++) {
		sample(&r, (uint64_t)i + 1, (enum fp_agent_state)(i + 1));
		assert_int_equal(fp_journal_encode(&r, buf + off, sizeof(buf) - off, &n, NULL), 0);
		off += n;
		ends[i] = off;
	}
	size_t valid, count;
	/* A cut at every byte keeps exactly the records that are whole. */
	for (size_t cut = 0; cut <= off; cut++) {
		int rc = fp_journal_scan(buf, cut, &last, &valid, &count);
		size_t want = cut >= ends[2] ? 3 : cut >= ends[1] ? 2 : cut >= ends[0] ? 1 : 0;
		assert_int_equal(count, want);
		assert_int_equal(rc, want ? 0 : FP_ENOTFOUND);
		assert_int_equal(valid, want ? ends[want - 1] : 0);
		if (want)
			assert_int_equal(last.seq, want);
		else
			assert_int_equal(last.state, FP_AS_IDLE);
	}
	/* A flipped bit anywhere in the last record drops that record only. */
	for (size_t i = ends[1]; i < ends[2]; i++) {
		buf[i] ^= 0x10;
		assert_int_equal(fp_journal_scan(buf, off, &last, &valid, &count), 0);
		assert_int_equal(count, 2);
		assert_int_equal(valid, ends[1]);
		buf[i] ^= 0x10;
	}
	/* A record that goes back in sequence (an old copy) ends the journal. */
	memcpy(buf + off, buf, ends[0]);
	assert_int_equal(fp_journal_scan(buf, off + ends[0], &last, &valid, &count), 0);
	assert_int_equal(count, 3);
}

static void test_bad_payloads(void **state)
{
	(void)state;
	struct fp_journal_rec r;
	size_t used;
	struct fp_err err = {0};
	uint8_t buf[64];
	/* A length over the cap is refused before anything is read. */
	memcpy(buf, FP_JOURNAL_MAGIC, 4);
	buf[4] = 0xff;
	buf[5] = 0xff;
	buf[6] = 0;
	buf[7] = 0;
	assert_int_equal(fp_journal_decode(buf, sizeof(buf), &r, &used, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "out of range"));
	/* A valid frame around a payload that is not a state. */
	const char *pl = "{\"seq\":1}";
	size_t n = strlen(pl);
	memset(buf, 0, sizeof(buf));
	memcpy(buf, FP_JOURNAL_MAGIC, 4);
	buf[4] = (uint8_t)n;

	unsigned long c = crc32(0, (const unsigned char *)pl, (unsigned)n);
	for (int i = 0; i < 4; i++)
		buf[8 + i] = (uint8_t)(c >> (8 * i));
	memcpy(buf + 12, pl, n);
	assert_int_equal(fp_journal_decode(buf, 12 + n, &r, &used, &err), FP_EINVAL);
	assert_non_null(strstr(err.msg, "not a valid state"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_torn_and_corrupt_tail),
	    cmocka_unit_test(test_bad_payloads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
