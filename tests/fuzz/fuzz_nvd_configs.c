/*
 * fuzz_nvd_configs.c — libFuzzer target for NVD configurations
 * (lib/nvd_match.c).
 *
 * The input is parsed as JSON and then as a CVE record's "configurations"
 * array; what parses is evaluated against a small fixed device (firmware,
 * hardware and an application CPE) and its index keys are listed. The same
 * bytes also go through fp_nvd_configs_parse() (the text parser without a
 * JSON tree), which must agree with jansson + fp_nvd_configs_from_json():
 * same code, same message, same structs.
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

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int same_configs(const struct fp_nvd_configs *a, const struct fp_nvd_configs *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		const struct fp_nvd_config *x = &a->c[i], *y = &b->c[i];
		if (x->op_and != y->op_and || x->negate != y->negate || x->n != y->n)
			return 0;
		for (size_t j = 0; j < x->n; j++) {
			const struct fp_nvd_node *p = &x->nodes[j], *q = &y->nodes[j];
			if (p->op_and != q->op_and || p->negate != q->negate || p->n != q->n)
				return 0;
			for (size_t k = 0; k < p->n; k++) {
				const struct fp_nvd_cpe_match *m = &p->m[k], *o = &q->m[k];
				if (m->vulnerable != o->vulnerable ||
				    m->product_hash != o->product_hash ||
				    !fp_cpe_equal(&m->criteria, &o->criteria) ||
				    !same_str(m->start_incl, o->start_incl) ||
				    !same_str(m->start_excl, o->start_excl) ||
				    !same_str(m->end_incl, o->end_incl) ||
				    !same_str(m->end_excl, o->end_excl))
					return 0;
			}
		}
	}
	return 1;
}

/* fp_nvd_configs_parse() against jansson (JSON_REJECT_DUPLICATES) + from_json. */
static void differential(const uint8_t *data, size_t size)
{
	struct fp_nvd_configs a, b;
	struct fp_err ea, eb;
	fp_err_clear(&ea);
	fp_err_clear(&eb);
	int ra = fp_nvd_configs_parse((const char *)data, size, &a, &ea);
	json_error_t je;
	json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
	int rb = j ? fp_nvd_configs_from_json(j, &b, &eb) : FP_EINVAL;
	if (ra != rb)
		__builtin_trap();
	if (ra == 0) {
		if (!same_configs(&a, &b))
			__builtin_trap();
		fp_nvd_configs_free(&a);
		fp_nvd_configs_free(&b);
	} else if (a.n != 0 || !ea.msg[0] || (j && strcmp(ea.msg, eb.msg) != 0)) {
		__builtin_trap();
	}
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!have_ready) {
		for (size_t i = 0; i < N_HAVE; i++)
			if (fp_cpe_parse(have_names[i], &have[i], NULL) != 0)
				__builtin_trap();
		have_ready = 1;
	}
	differential(data, size);
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
