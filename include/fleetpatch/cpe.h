/*
 * cpe.h — CPE names (NISTIR 7695) and CPE name matching (NISTIR 7696).
 *
 * A CPE name identifies a platform: a part (a = application, o = operating
 * system or firmware, h = hardware) and ten further attributes. NVD writes
 * its criteria as CPE 2.3 formatted strings
 * ("cpe:2.3:o:cisco:ios:12.2\(33\)sxi:*:*:*:*:*:*:*"); older sources use the
 * CPE 2.2 URI form ("cpe:/o:cisco:ios:12.2%2833%29sxi"). Both parse into one
 * struct fp_cpe, a well-formed name in the sense of NISTIR 7695 (a WFN).
 * The module is pure: no I/O. See docs/design/cpe-matching.md.
 */
#ifndef FLEETPATCH_CPE_H
#define FLEETPATCH_CPE_H

#include <stddef.h>

#include "fleetpatch/err.h"

enum fp_cpe_attr {
	FP_CPE_PART,
	FP_CPE_VENDOR,
	FP_CPE_PRODUCT,
	FP_CPE_VERSION,
	FP_CPE_UPDATE,
	FP_CPE_EDITION,
	FP_CPE_LANGUAGE,
	FP_CPE_SW_EDITION,
	FP_CPE_TARGET_SW,
	FP_CPE_TARGET_HW,
	FP_CPE_OTHER,
	FP_CPE_NATTR
};

enum fp_cpe_kind { FP_CPE_ANY, FP_CPE_NA, FP_CPE_VALUE };

/*
 * Bytes of a CPE name, as input to fp_cpe_parse() and as output of
 * fp_cpe_format(): every struct fp_cpe this module produces formats in at
 * most FP_CPE_MAX bytes, so a buffer of FP_CPE_MAX + 1 always suffices.
 */
#define FP_CPE_MAX 1024

/*
 * A parsed CPE name. A zeroed struct is the name with every attribute ANY.
 *
 * kind[a] says whether attribute a is ANY ('*'), NA ('-') or a value.
 * val[a] is NULL unless kind[a] == FP_CPE_VALUE; then it is the value with
 * all quoting and percent-encoding resolved, lower-cased, never empty, and
 * made of printable ASCII only (the part is "a", "o" or "h").
 * wild[a] is NULL unless the value contains wildcards that were UNQUOTED in
 * the source ('*' and '?' in a formatted string, %02 and %01 in a URI); then
 * it holds strlen(val[a]) bytes, nonzero exactly where val[a][i] is such a
 * wildcard. A '*' or '?' with wild == NULL (or a zero mask byte) is a literal
 * character. Wildcards only occur in a leading and a trailing run (one '*' or
 * any number of '?'), as the specification requires.
 * val and wild are owned: free with fp_cpe_free().
 */
struct fp_cpe {
	unsigned char kind[FP_CPE_NATTR];
	char *val[FP_CPE_NATTR];
	unsigned char *wild[FP_CPE_NATTR];
};

/*
 * Parses a CPE 2.3 formatted string ("cpe:2.3:" and exactly 11 attributes;
 * '*' is ANY, '-' is NA, characters other than letters, digits, '_', '-' and
 * '.' must be quoted with '\') or a CPE 2.2 URI ("cpe:/" and up to 7
 * components, percent-encoded; missing or empty components are ANY, '-' is
 * NA; an edition starting with '~' is the packed form
 * "~edition~sw_edition~target_sw~target_hw~other"). Input longer than
 * FP_CPE_MAX bytes is FP_ETOOBIG; any other malformation (wrong prefix or
 * component count, bad part, bad escape or percent-encoding, an unquoted
 * special character, a misplaced wildcard, control or non-ASCII bytes) is
 * FP_EINVAL with a message naming the attribute and byte offset.
 * On success the caller owns *out (fp_cpe_free); on error *out is all ANY
 * and owns nothing.
 */
int fp_cpe_parse(const char *s, struct fp_cpe *out, struct fp_err *err) FP_WUR;

/* Frees what c owns and resets it to all ANY. c may be NULL. */
void fp_cpe_free(struct fp_cpe *c);

/* Deep copy; the caller owns *dst (fp_cpe_free). FP_ENOMEM leaves dst all ANY. */
int fp_cpe_copy(struct fp_cpe *dst, const struct fp_cpe *src) FP_WUR;

/* 1 when a and b are the same name (kinds, values and wildcard positions). */
int fp_cpe_equal(const struct fp_cpe *a, const struct fp_cpe *b);

/*
 * Writes the CPE 2.3 formatted string of c into out (NUL-terminated): every
 * character other than a letter, digit, '_', '-' or '.' is quoted with '\',
 * wildcards are written unquoted, and a value that is a lone literal '-' is
 * written "\-" so it does not read back as NA. FP_ETOOBIG if n is too small
 * (out then holds an empty string when n > 0).
 */
int fp_cpe_format(const struct fp_cpe *c, char *out, size_t n) FP_WUR;

/*
 * Builds a CPE from plain (unquoted) values: part is 'a', 'o' or 'h'; for
 * vendor, product and version NULL is ANY, "-" is NA and any other string is
 * a literal value (a '*' or '?' in it is an ordinary character, not a
 * wildcard). Values are lower-cased and must be non-empty printable ASCII;
 * the other attributes are ANY. The caller owns *out (fp_cpe_free).
 */
int fp_cpe_make(struct fp_cpe *out, char part, const char *vendor, const char *product,
                const char *version, struct fp_err *err) FP_WUR;

/*
 * Sets attribute a of c to a plain value with the same conventions as
 * fp_cpe_make() (NULL ANY, "-" NA, otherwise literal), e.g. the update field
 * of "cpe:2.3:o:qnap:qts:4.2.6:build_20190322". Replaces what c held there.
 */
int fp_cpe_set(struct fp_cpe *c, enum fp_cpe_attr a, const char *value, struct fp_err *err) FP_WUR;

/*
 * Name matching, NISTIR 7696: 1 when every attribute of source (e.g. an NVD
 * criteria) is a superset of or equal to the same attribute of target (a
 * device's concrete CPE), else 0.
 *   - source ANY matches anything; source NA matches only NA;
 *   - a source value never matches target ANY or NA;
 *   - two values compare as lower-cased strings; unquoted '*' (any run of
 *     characters) and '?' (zero or one character per '?') at the ends of the
 *     source value are wildcards;
 *   - the VERSION attribute of two values without wildcards compares with
 *     fp_version_cmp() == 0, so equivalent spellings ("v1.2.0", "1.2.0") match;
 *   - a target value with wildcards matches only an identical source value
 *     (the specification leaves that case undefined; identity keeps
 *     fp_cpe_match(x, x) == 1 for every name).
 */
int fp_cpe_match(const struct fp_cpe *source, const struct fp_cpe *target);

/*
 * Writes "vendor:product" (lower-case, unquoted; ANY as "*", NA as "-") into
 * out, the key under which candidate CVEs are indexed. A vendor or product
 * containing ':' makes the key ambiguous; that only adds candidates, since
 * every candidate is matched in full. FP_ETOOBIG if n is too small.
 */
int fp_cpe_key(const struct fp_cpe *c, char *out, size_t n) FP_WUR;

#endif
