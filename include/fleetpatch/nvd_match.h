/*
 * nvd_match.h — NVD applicability statements ("configurations") and the
 * decision whether a CVE applies to a device's platform.
 *
 * A CVE record of the NVD CVE API 2.0 carries a list of configurations; each
 * is a boolean formula of nodes, each node a formula of cpeMatch entries
 * (a CPE criteria plus an optional version range). Entries marked
 * vulnerable=false are platform conditions (typically the hardware a
 * firmware runs on). The module is pure: the caller reads the JSON.
 * See docs/design/cpe-matching.md.
 */
#ifndef FLEETPATCH_NVD_MATCH_H
#define FLEETPATCH_NVD_MATCH_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "fleetpatch/cpe.h"
#include "fleetpatch/err.h"

/* Caps on one record. The largest real record (CVE-2016-1409) has 4,891 entries. */
#define FP_NVD_CONFIGS_MAX       1000   /* configurations in one CVE record */
#define FP_NVD_NODES_MAX         1000   /* nodes in one configuration */
#define FP_NVD_MATCHES_MAX       10000  /* cpeMatch entries in one node */
#define FP_NVD_MATCHES_TOTAL_MAX 100000 /* cpeMatch entries in one record */

/*
 * One cpeMatch entry. The version bounds are NULL when absent; otherwise the
 * string from NVD with CPE quoting resolved ("5.21\(aazf.14\)c0" is stored as
 * "5.21(aazf.14)c0"). All members are owned by the enclosing configs.
 */
struct fp_nvd_cpe_match {
	struct fp_cpe criteria;
	int vulnerable;
	char *start_incl, *start_excl, *end_incl, *end_excl;
	/* A hash of the criteria's product when it is a plain value (no
	 * wildcards), set by the parsers; 0 means unknown and is always safe.
	 * Matching rejects an entry of another product without reading it. */
	uint32_t product_hash;
};

struct fp_nvd_node {
	int op_and; /* 1: AND of the entries; 0: OR */
	int negate;
	struct fp_nvd_cpe_match *m;
	size_t n;
};

struct fp_nvd_config {
	int op_and; /* 1: AND of the nodes; 0: OR (also when NVD gives no operator) */
	int negate;
	struct fp_nvd_node *nodes;
	size_t n;
};

struct fp_nvd_configs {
	struct fp_nvd_config *c;
	size_t n;
};

/*
 * Parses a CVE record's "configurations" array (NVD CVE API 2.0 JSON:
 * [{"operator":"AND","negate":false,"nodes":[{"operator":"OR","negate":false,
 * "cpeMatch":[{"vulnerable":true,"criteria":"cpe:2.3:…",
 * "versionEndIncluding":"…",…}]}]}]). NULL or JSON null gives n = 0 (a record
 * NVD has not analysed yet: report it as unassessed, it never applies).
 * Caps: FP_NVD_CONFIGS_MAX, FP_NVD_NODES_MAX, FP_NVD_MATCHES_MAX and
 * FP_NVD_MATCHES_TOTAL_MAX (FP_ETOOBIG). Unknown keys are ignored; wrong
 * types, unknown operators, a missing "vulnerable" or "criteria", an invalid
 * criteria or an empty version bound are FP_EINVAL naming the place
 * (configurations[i].nodes[j].cpeMatch[k]). A missing operator reads as OR
 * and a missing negate as false. On success the caller owns *out
 * (fp_nvd_configs_free); on error *out is empty.
 */
int fp_nvd_configs_from_json(const json_t *configurations, struct fp_nvd_configs *out,
                             struct fp_err *err) FP_WUR;

/*
 * The same for the JSON text of a "configurations" array (len bytes, no NUL
 * needed), without building a JSON tree for the common case; text that
 * json_loadb() (with JSON_REJECT_DUPLICATES) would refuse is FP_EINVAL.
 * Same result and errors as parsing the text with jansson and calling
 * fp_nvd_configs_from_json().
 */
int fp_nvd_configs_parse(const char *text, size_t len, struct fp_nvd_configs *out,
                         struct fp_err *err) FP_WUR;

/* Frees what c owns and empties it. c may be NULL. */
void fp_nvd_configs_free(struct fp_nvd_configs *c);

/*
 * Does the CVE apply to a device whose platform is the set of concrete CPEs
 * have[0..n_have) (its firmware/OS "o:" CPE, its hardware "h:" CPE, and its
 * "a:" components)?
 *   - An entry matches when some have[i] satisfies fp_cpe_match(criteria,
 *     have[i]) and, if the entry has any version bound, have[i]'s version is
 *     a value without wildcards inside the bounds by fp_version_cmp().
 *   - A node is the OR (or AND) of its entries, inverted by negate.
 *   - A configuration is the AND (or OR) of its nodes, inverted by negate.
 *   - The CVE applies when some configuration is true and, in it, at least
 *     one vulnerable=true entry matched "positively": in a node where the
 *     node's and the configuration's negate flags are not exactly one true
 *     (an entry under one negation is an exclusion, not a vulnerable
 *     component). vulnerable=false entries are platform conditions only.
 * Returns 1 or 0. When it returns 1 and matched is not NULL, *matched is the
 * lowest index in have of a CPE that such a vulnerable entry matched.
 */
int fp_nvd_applies(const struct fp_nvd_configs *c, const struct fp_cpe *have, size_t n_have,
                   size_t *matched);

/*
 * Calls fn(ctx, key) once for each distinct "vendor:product" key (see
 * fp_cpe_key()) of the vulnerable=true criteria, in strcmp() order, to index
 * candidate CVEs. A key containing '*' or '?' comes from a criteria whose
 * vendor or product is ANY or a wildcard pattern and cannot be found by an
 * exact lookup. Stops and returns fn's value when fn returns nonzero;
 * otherwise returns 0, or FP_ENOMEM.
 */
int fp_nvd_configs_keys(const struct fp_nvd_configs *c, int (*fn)(void *ctx, const char *key),
                        void *ctx);

#endif
