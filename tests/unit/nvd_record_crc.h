/*
 * nvd_record_crc.h — a CRC of everything an NVD reader hands its callback for
 * one record, so a reader with fp_nvd_reader_parse_configs() (records read
 * without a JSON tree) can be compared with one without (jansson). Shared by
 * tests/unit/test_nvd.c and tests/fuzz/fuzz_nvd.c.
 */
#ifndef FP_TEST_NVD_RECORD_CRC_H
#define FP_TEST_NVD_RECORD_CRC_H

#include <stdio.h>
#include <string.h>

#include <zlib.h>

#include "fleetpatch/nvd.h"
#include "fleetpatch/nvd_match.h"

/* Adds configs to a CRC: every flag, criteria and bound, in order. */
static uLong configs_crc(uLong crc, const struct fp_nvd_configs *c)
{
	char buf[FP_CPE_MAX + 64];
	int n = snprintf(buf, sizeof(buf), "[%zu", c->n);
	crc = crc32(crc, (const Bytef *)buf, (uInt)n);
	for (size_t i = 0; i < c->n; i++) {
		const struct fp_nvd_config *cf = &c->c[i];
		n = snprintf(buf, sizeof(buf), "{%d%d%zu", cf->op_and, cf->negate, cf->n);
		crc = crc32(crc, (const Bytef *)buf, (uInt)n);
		for (size_t j = 0; j < cf->n; j++) {
			const struct fp_nvd_node *nd = &cf->nodes[j];
			n = snprintf(buf, sizeof(buf), "(%d%d%zu", nd->op_and, nd->negate, nd->n);
			crc = crc32(crc, (const Bytef *)buf, (uInt)n);
			for (size_t k = 0; k < nd->n; k++) {
				const struct fp_nvd_cpe_match *m = &nd->m[k];
				char name[FP_CPE_MAX + 1];
				if (fp_cpe_format(&m->criteria, name, sizeof(name)))
					name[0] = '\0';
				n = snprintf(buf, sizeof(buf), "<%d|%s|%s|%s|%s|%s>", m->vulnerable,
				             name, m->start_incl ? m->start_incl : "~",
				             m->start_excl ? m->start_excl : "~",
				             m->end_incl ? m->end_incl : "~",
				             m->end_excl ? m->end_excl : "~");
				crc =
				    crc32(crc, (const Bytef *)buf,
				          (uInt)(n < (int)sizeof(buf) ? n : (int)sizeof(buf) - 1));
			}
		}
	}
	return crc;
}

/*
 * Adds everything a record gives to a CRC, its configurations parsed
 * whichever way the reader handed them over; a configurations array that
 * does not parse adds its error. Returns -1 when the parsed configurations
 * and their text (fast path) disagree.
 */
static int record_crc(uLong *crc, const struct fp_cve *c)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "%s|%s|%s|%s|%g|%g|%g|%g|%s|%s|%s|%s|%s|", c->id,
	                 c->published, c->last_modified, c->status, c->cvss4, c->cvss31, c->cvss30,
	                 c->cvss2, c->vector, c->severity, c->cwe, c->kev_added, c->kev_due);
	*crc = crc32(*crc, (const Bytef *)line, (uInt)n);
	if (c->description)
		*crc = crc32(*crc, (const Bytef *)c->description, (uInt)strlen(c->description));
	if (c->configs) {
		struct fp_nvd_configs again;
		if (fp_nvd_configs_parse(c->configs_text, c->configs_len, &again, NULL) != 0)
			return -1;
		int same = configs_crc(0, &again) == configs_crc(0, c->configs);
		fp_nvd_configs_free(&again);
		if (!same)
			return -1;
		*crc = configs_crc(*crc, c->configs);
	} else if (c->configurations) {
		struct fp_nvd_configs cfg;
		struct fp_err e;
		fp_err_clear(&e);
		if (fp_nvd_configs_from_json(c->configurations, &cfg, &e) == 0) {
			*crc = configs_crc(*crc, &cfg);
			fp_nvd_configs_free(&cfg);
		} else {
			*crc = crc32(*crc, (const Bytef *)e.msg, (uInt)strlen(e.msg));
		}
	} else {
		*crc = crc32(*crc, (const Bytef *)"none", 4);
	}
	return 0;
}

#endif
