/*
 * fuzz_director.c — libFuzzer target for fp_director_verify, the parser an
 * agent runs over the assignment document it fetched. A fixed ed25519 key
 * stands for the pinned director key; any input must be refused or
 * accepted without a crash, and an accepted one must name the device.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fleetpatch/director.h"

static const char PUB[] = "-----BEGIN PUBLIC KEY-----\n"
                          "MCowBQYDK2VwAyEA9QyLJqWVKFFxbgCCbY3Z0bu3sVqMs6IHeISTOdIuGmk=\n"
                          "-----END PUBLIC KEY-----\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static json_t *key;
	char keyid[FP_TUF_KEYID_LEN + 1];
	if (!key && fp_tuf_key_from_pem(PUB, &key, keyid, NULL))
		abort();
	json_t *doc = NULL;
	struct fp_director_assignment a;
	if (fp_director_verify(data, size, key, "serial:D1", 1, 1800000000, &doc, &a, NULL) == 0) {
		if (strcmp(a.device_id, "serial:D1") != 0)
			abort();
		json_decref(doc);
	}
	return 0;
}
