/*
 * fuzz_journal.c — libFuzzer target for the agent's journal reader
 * (fp_journal_scan), which runs over whatever a power cut or a bad disk
 * left in the journal file. Any input must scan without a crash; the valid
 * prefix must be within the input and re-encode to the same bytes' record.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fleetpatch/journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fp_journal_rec last, again;
	size_t valid = 0, count = 0, n = 0, used = 0;
	static uint8_t buf[FP_JOURNAL_RECORD_MAX];
	if (fp_journal_scan(data, size, &last, &valid, &count) == 0) {
		if (valid > size || count == 0)
			abort();
		if (fp_journal_encode(&last, buf, sizeof(buf), &n, NULL) != 0)
			abort();
		if (fp_journal_decode(buf, n, &again, &used, NULL) != 0 || used != n ||
		    again.seq != last.seq || again.state != last.state)
			abort();
	}
	return 0;
}
