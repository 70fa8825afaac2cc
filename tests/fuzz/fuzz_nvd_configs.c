/*
 * fuzz_nvd_configs.c — libFuzzer target for NVD configurations
 * (lib/nvd_match.c).
 *
 * The input is parsed as JSON and then as a CVE record's "configurations"
 * array; what parses is evaluated against a small fixed device (firmware,
 * hardware and an application CPE) and its index keys are listed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fleetpatch/nvd_match.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const have_names[] = {
    "cpe:2.3:o:dlink:dir-860l_firmware:a1_fw110b04:*:*:*:*:*:*:*",
    "cpe:2.3:h:dlink:dir-860l:-:*:*:*:*:*:*:*",
    "cpe:2.3:a:openbsd:openssh:7.4:p1:*:*:*:*:*:*",
    "cpe:2.3:o:zyxel:nas326_firmware:5.21\\(aazf.13\\)c0:*:*:*:*:*:*:*",
    "cpe:2.3:h:zyxel:nas326:-:*:*:*:*:*:*:*",
};
#define N_HAVE (sizeof(have_names) / sizeof(have_names[0]))

static struct fp_cpe have[N_HAVE];
static int have_ready;

static int on_key(void *ctx, const char *key)
{
	size_t *n = ctx;
	if (!key || !strchr(key, ':'))
		__builtin_trap();
	(*n)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!have_ready) {
		for (size_t i = 0; i < N_HAVE; i++)
			if (fp_cpe_parse(have_names[i], &have[i], NULL) != 0)
				__builtin_trap();
		have_ready = 1;
	}
	json_error_t je;
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, &je);
	if (!j)
		return 0;
	struct fp_nvd_configs c;
	struct fp_err err;
	if (fp_nvd_configs_from_json(j, &c, &err) == 0) {
		size_t idx = N_HAVE;
		for (size_t n = 0; n <= N_HAVE; n++)
			if (fp_nvd_applies(&c, have, n, &idx) == 1 && idx >= n)
				__builtin_trap();
		size_t keys = 0;
		if (fp_nvd_configs_keys(&c, on_key, &keys) != 0)
			__builtin_trap();
		fp_nvd_configs_free(&c);
	} else if (c.n != 0 || c.c != NULL || err.msg[0] == '\0') {
		__builtin_trap();
	}
	json_decref(j);
	return 0;
}
