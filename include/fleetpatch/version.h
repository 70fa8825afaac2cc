/*
 * version.h — ordering of free-form firmware and package version strings.
 *
 * Devices report versions in every shape vendors invent ("1.2.0",
 * "V200R007C00SPC600", "1.1.4 Build 20230219", "2024-05-01", "1.0~beta").
 * fp_version_cmp() puts any two such strings in one total, deterministic
 * order, so the vulnerability engine, the filter language and every sorted
 * listing agree on what "older" means. See docs/design/version.md.
 */
#ifndef FLEETPATCH_VERSION_H
#define FLEETPATCH_VERSION_H

/*
 * Compares version strings a and b; returns <0, 0 or >0.
 *
 * Both strings are split into numeric runs (compared by value, any length),
 * letter runs (compared case-insensitively) and '~'; every other byte only
 * separates parts. A leading 'v' or 'V' before a digit is ignored. When one
 * side runs out of parts, the other is greater if its next part is a number
 * or a post-release word (build, patch, p, sp, spc, r, u, ...), and smaller if
 * it is any other word (rc, alpha, beta, pre, dev, a, b, ...) or '~'.
 *
 * Ties: strings that differ only in separators, letter case, leading zeros or
 * a leading 'v' are EQUIVALENT and compare 0 ("1.0" == "1-00" == "V1.0"). The
 * order is a total preorder: antisymmetric and transitive, so it is safe for
 * qsort(); callers wanting a byte-stable listing break ties with strcmp().
 * Neither string may be NULL. Runs in linear time, no allocation.
 */
int fp_version_cmp(const char *a, const char *b);

#endif
