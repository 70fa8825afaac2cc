/*
 * fuzz_audit.c — libFuzzer target for fp_audit_verify_export(), the parser of
 * audit log exports (JSON Lines), with and without an anchor hash.
 *
 * Besides memory errors it checks the verifier's own promises: success means
 * no bad entry is recorded, failure names a bad position and a reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fleetpatch/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fp_audit_verifier v;
	struct fp_err err;
	int rc = fp_audit_verify_export((const char *)data, size, NULL, &v, &err);
	if (rc == 0 && (v.first_bad_seq != -1 || v.count != v.next_seq - 1))
		abort();
	if (rc != 0 && (v.first_bad_seq < 1 || v.reason[0] == '\0' || err.code != rc))
		abort();
	long long count = v.count;
	char last[FP_SHA256_HEX_LEN + 1];
	memcpy(last, v.prev_hash, sizeof(last));
	/* The last hash of an intact log is a valid anchor for the same log. */
	if (rc == 0 && count > 0) {
		if (fp_audit_verify_export((const char *)data, size, last, &v, &err) != 0)
			abort();
	} else if (fp_audit_verify_export((const char *)data, size, FP_AUDIT_GENESIS, &v, &err) ==
	           0) {
		abort(); /* no entry can have the all-zero hash */
	}
	return 0;
}
