/*
 * cpe.c — CPE 2.3 formatted strings, CPE 2.2 URIs and NISTIR 7696 name
 * matching (see cpe.h and docs/design/cpe-matching.md).
 *
 * Both bindings are read into the same form: per attribute ANY, NA or a
 * lower-cased value with quoting resolved, plus a mask of the characters that
 * were unquoted wildcards. Parsing never allocates more than one value and
 * one mask per attribute, and every name it accepts fits in FP_CPE_MAX bytes
 * when written back as a formatted string.
 */
#include "fleetpatch/hex.h"
#include "fleetpatch/cpe.h"

#include <stdlib.h>
#include <string.h>

#include "fleetpatch/version.h"

static const char *const attr_name[FP_CPE_NATTR] = {
    "part",     "vendor",     "product",   "version",   "update", "edition",
    "language", "sw_edition", "target_sw", "target_hw", "other",
};

static int is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Characters a formatted string may carry unquoted inside a value. */
static int is_plain(unsigned char c)
{
	return is_alnum(c) || c == '_' || c == '-' || c == '.';
}

static int is_printable(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e;
}

static int is_wild(const struct fp_cpe *c, int a, size_t i)
{
	return c->wild[a] && c->wild[a][i];
}

void fp_cpe_free(struct fp_cpe *c)
{
	if (!c)
		return;
	for (int a = 0; a < FP_CPE_NATTR; a++) {
		free(c->val[a]);
		free(c->wild[a]);
	}
	memset(c, 0, sizeof(*c));
}

/* Frees attribute a of c and makes it ANY. */
static void clear_attr(struct fp_cpe *c, int a)
{
	free(c->val[a]);
	free(c->wild[a]);
	c->val[a] = NULL;
	c->wild[a] = NULL;
	c->kind[a] = FP_CPE_ANY;
}

/* ---------------------------------------------------------------- format */

/* A bounded writer that keeps counting past the end of its buffer. */
struct out {
	char *buf;
	size_t cap, len;
};

static void put(struct out *o, char ch)
{
	if (o->len + 1 < o->cap)
		o->buf[o->len] = ch;
	o->len++;
}

static void put_attr(struct out *o, const struct fp_cpe *c, int a)
{
	if (c->kind[a] == FP_CPE_NA) {
		put(o, '-');
		return;
	}
	if (c->kind[a] != FP_CPE_VALUE || !c->val[a]) {
		put(o, '*');
		return;
	}
	const char *v = c->val[a];
	/* A lone literal hyphen would read back as NA. */
	if (v[0] == '-' && v[1] == '\0') {
		put(o, '\\');
		put(o, '-');
		return;
	}
	for (size_t i = 0; v[i]; i++) {
		unsigned char ch = (unsigned char)v[i];
		if (!is_wild(c, a, i) && !is_plain(ch))
			put(o, '\\');
		put(o, (char)ch);
	}
}

/* Formats c into o and returns the length the full string needs. */
static size_t format_into(const struct fp_cpe *c, struct out *o)
{
	static const char prefix[] = "cpe:2.3";
	for (size_t i = 0; prefix[i]; i++)
		put(o, prefix[i]);
	for (int a = 0; a < FP_CPE_NATTR; a++) {
		put(o, ':');
		put_attr(o, c, a);
	}
	return o->len;
}

static size_t format_len(const struct fp_cpe *c)
{
	struct out o = {NULL, 0, 0};
	return format_into(c, &o);
}

int fp_cpe_format(const struct fp_cpe *c, char *out, size_t n)
{
	struct out o = {out, n, 0};
	size_t need = format_into(c, &o);
	if (need + 1 > n) {
		if (n > 0)
			out[0] = '\0';
		return FP_ETOOBIG;
	}
	out[need] = '\0';
	return 0;
}

/* ----------------------------------------------------------------- parse */

/* One attribute value being collected: bytes and their wildcard flags. */
struct valbuf {
	char s[FP_CPE_MAX + 1];
	unsigned char w[FP_CPE_MAX + 1];
	size_t len;
	int any_wild;
};

/*
 * Checks that wildcards sit only in a leading and a trailing run, each one
 * '*' or any number of '?', as NISTIR 7695 allows. Returns the index of the
 * first misplaced wildcard, or len when all are well placed.
 */
static size_t misplaced_wildcard(const struct valbuf *v)
{
	size_t i = 0, j = v->len;
	if (!v->any_wild)
		return v->len;
	if (i < j && v->w[i] && v->s[i] == '*')
		i++;
	else
		while (i < j && v->w[i] && v->s[i] == '?')
			i++;
	if (j > i && v->w[j - 1] && v->s[j - 1] == '*')
		j--;
	else
		while (j > i && v->w[j - 1] && v->s[j - 1] == '?')
			j--;
	for (size_t k = i; k < j; k++)
		if (v->w[k])
			return k;
	return v->len;
}

/* Stores the collected value as attribute a of c (ANY when it is a lone wildcard '*'). */
static int store_value(struct fp_cpe *c, int a, const struct valbuf *v)
{
	clear_attr(c, a);
	if (v->len == 1 && v->w[0] && v->s[0] == '*')
		return 0;
	char *s = malloc(v->len + 1);
	if (!s)
		return FP_ENOMEM;
	memcpy(s, v->s, v->len);
	s[v->len] = '\0';
	if (v->any_wild) {
		c->wild[a] = malloc(v->len);
		if (!c->wild[a]) {
			free(s);
			return FP_ENOMEM;
		}
		memcpy(c->wild[a], v->w, v->len);
	}
	c->val[a] = s;
	c->kind[a] = FP_CPE_VALUE;
	return 0;
}

static void push(struct valbuf *v, unsigned char ch, int wild)
{
	/* Callers bound the input by FP_CPE_MAX, so this never overflows. */
	if (v->len < FP_CPE_MAX) {
		v->s[v->len] = (char)lower(ch);
		v->w[v->len] = (unsigned char)(wild != 0);
		v->len++;
		v->any_wild |= wild;
	}
}

/* The message for a byte that may not appear at all. */
static int bad_byte(struct fp_err *err, int a, size_t off, unsigned char ch)
{
	if (ch >= 0x80)
		return fp_err_set(err, FP_EINVAL,
		                  "CPE %s at byte %zu: non-ASCII byte 0x%02x; CPE names are ASCII",
		                  attr_name[a], off, ch);
	return fp_err_set(err, FP_EINVAL, "CPE %s at byte %zu: control character 0x%02x",
	                  attr_name[a], off, ch);
}

/* Checks the part attribute once it is stored. */
static int check_part(const struct fp_cpe *c, size_t off, struct fp_err *err)
{
	if (c->kind[FP_CPE_PART] != FP_CPE_VALUE)
		return 0;
	const char *p = c->val[FP_CPE_PART];
	if (c->wild[FP_CPE_PART] || p[1] != '\0' || (p[0] != 'a' && p[0] != 'o' && p[0] != 'h'))
		return fp_err_set(err, FP_EINVAL,
		                  "CPE part at byte %zu: \"%s\" is not a part; use a, o or h", off,
		                  p);
	return 0;
}

/*
 * Reads one attribute of a formatted string starting at s[*pos], up to an
 * unquoted ':' or the end, and stores it in c.
 */
static int parse_fs_attr(const char *s, size_t *pos, struct fp_cpe *c, int a, struct valbuf *v,
                         struct fp_err *err)
{
	size_t start = *pos, i = *pos;
	v->len = 0;
	v->any_wild = 0;
	while (s[i] != '\0' && s[i] != ':') {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '\\') {
			unsigned char q = (unsigned char)s[i + 1];
			if (q == '\0')
				return fp_err_set(
				    err, FP_EINVAL,
				    "CPE %s at byte %zu: the name ends in a lone '\\'",
				    attr_name[a], i);
			if (!is_printable(q) || is_alnum(q))
				return fp_err_set(
				    err, FP_EINVAL,
				    "CPE %s at byte %zu: bad escape; only punctuation "
				    "may follow '\\'",
				    attr_name[a], i);
			push(v, q, 0);
			i += 2;
			continue;
		}
		if (ch == '*' || ch == '?')
			push(v, ch, 1);
		else if (is_plain(ch))
			push(v, ch, 0);
		else if (!is_printable(ch))
			return bad_byte(err, a, i, ch);
		else
			return fp_err_set(err, FP_EINVAL,
			                  "CPE %s at byte %zu: unquoted special character '%c'; "
			                  "write it as '\\%c'",
			                  attr_name[a], i, ch, ch);
		i++;
	}
	*pos = i;
	size_t raw = i - start;
	if (raw == 0)
		return fp_err_set(err, FP_EINVAL,
		                  "CPE %s at byte %zu: empty attribute; use '*' for any value",
		                  attr_name[a], start);
	if (raw == 1 && s[start] == '-') {
		clear_attr(c, a);
		c->kind[a] = FP_CPE_NA;
		return 0;
	}
	size_t bad = misplaced_wildcard(v);
	if (bad < v->len)
		return fp_err_set(err, FP_EINVAL,
		                  "CPE %s at byte %zu: wildcard '%c' inside a value; quote it "
		                  "or move it to the start or end",
		                  attr_name[a], start, v->s[bad]);
	int rc = store_value(c, a, v);
	if (rc == 0 && a == FP_CPE_PART)
		rc = check_part(c, start, err);
	return rc == FP_ENOMEM ? fp_err_set(err, rc, "out of memory parsing a CPE name") : rc;
}

static int parse_fs(const char *s, struct fp_cpe *c, struct valbuf *v, struct fp_err *err)
{
	size_t pos = 8; /* after "cpe:2.3:" */
	for (int a = 0; a < FP_CPE_NATTR; a++) {
		int rc = parse_fs_attr(s, &pos, c, a, v, err);
		if (rc)
			return rc;
		if (a + 1 < FP_CPE_NATTR) {
			if (s[pos] != ':')
				return fp_err_set(
				    err, FP_EINVAL,
				    "CPE name at byte %zu: ends after %d of 11 attributes "
				    "(missing %s)",
				    pos, a + 1, attr_name[a + 1]);
			pos++;
		}
	}
	if (s[pos] != '\0')
		return fp_err_set(
		    err, FP_EINVAL,
		    "CPE name at byte %zu: more than 11 attributes after \"cpe:2.3:\"", pos);
	return 0;
}

/* Decodes one URI component s[from, to) into attribute a of c. */
static int parse_uri_attr(const char *s, size_t from, size_t to, struct fp_cpe *c, int a,
                          struct valbuf *v, struct fp_err *err)
{
	v->len = 0;
	v->any_wild = 0;
	if (from == to)
		return 0; /* an empty component is ANY */
	if (to - from == 1 && s[from] == '-') {
		clear_attr(c, a);
		c->kind[a] = FP_CPE_NA;
		return 0;
	}
	for (size_t i = from; i < to; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '%') {
			int hi = i + 1 < to ? fp_hex_value((unsigned char)s[i + 1]) : -1;
			int lo = i + 2 < to ? fp_hex_value((unsigned char)s[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return fp_err_set(err, FP_EINVAL,
				                  "CPE %s at byte %zu: bad percent-encoding; '%%' "
				                  "needs two hex digits",
				                  attr_name[a], i);
			unsigned char d = (unsigned char)(hi * 16 + lo);
			if (d == 0x01)
				push(v, '?', 1);
			else if (d == 0x02)
				push(v, '*', 1);
			else if (!is_printable(d))
				return fp_err_set(err, FP_EINVAL,
				                  "CPE %s at byte %zu: %%%02x does not encode a "
				                  "printable ASCII character",
				                  attr_name[a], i, d);
			else
				push(v, d, 0);
			i += 2;
		} else if (is_plain(ch) || ch == '~') {
			push(v, ch, 0);
		} else if (!is_printable(ch)) {
			return bad_byte(err, a, i, ch);
		} else {
			return fp_err_set(err, FP_EINVAL,
			                  "CPE %s at byte %zu: '%c' must be percent-encoded in a "
			                  "CPE 2.2 URI (%%%02x)",
			                  attr_name[a], i, ch, ch);
		}
	}
	size_t bad = misplaced_wildcard(v);
	if (bad < v->len)
		return fp_err_set(err, FP_EINVAL,
		                  "CPE %s at byte %zu: wildcard inside a value; wildcards may only "
		                  "start or end a value",
		                  attr_name[a], from);
	int rc = store_value(c, a, v);
	if (rc == 0 && a == FP_CPE_PART)
		rc = check_part(c, from, err);
	return rc == FP_ENOMEM ? fp_err_set(err, rc, "out of memory parsing a CPE name") : rc;
}

/* The packed edition "~edition~sw_edition~target_sw~target_hw~other" of s[from, to). */
static int parse_uri_packed(const char *s, size_t from, size_t to, struct fp_cpe *c,
                            struct valbuf *v, struct fp_err *err)
{
	static const int attrs[5] = {FP_CPE_EDITION, FP_CPE_SW_EDITION, FP_CPE_TARGET_SW,
	                             FP_CPE_TARGET_HW, FP_CPE_OTHER};
	size_t p = from + 1; /* after the leading '~' */
	for (int k = 0; k < 5; k++) {
		size_t e = p;
		while (e < to && s[e] != '~')
			e++;
		if (k < 4 && e == to)
			return fp_err_set(
			    err, FP_EINVAL,
			    "CPE edition at byte %zu: a packed edition needs 5 fields "
			    "separated by '~', found %d",
			    from, k + 1);
		if (k == 4 && e != to)
			return fp_err_set(err, FP_EINVAL,
			                  "CPE edition at byte %zu: a packed edition has more than "
			                  "5 fields",
			                  from);
		int rc = parse_uri_attr(s, p, e, c, attrs[k], v, err);
		if (rc)
			return rc;
		p = e + 1;
	}
	return 0;
}

static int parse_uri(const char *s, struct fp_cpe *c, struct valbuf *v, struct fp_err *err)
{
	size_t pos = 5; /* after "cpe:/" */
	for (int a = 0; a <= FP_CPE_LANGUAGE; a++) {
		size_t e = pos;
		while (s[e] != '\0' && s[e] != ':')
			e++;
		int rc;
		if (a == FP_CPE_EDITION && e > pos && s[pos] == '~')
			rc = parse_uri_packed(s, pos, e, c, v, err);
		else
			rc = parse_uri_attr(s, pos, e, c, a, v, err);
		if (rc)
			return rc;
		if (s[e] == '\0')
			return 0; /* fewer components: the rest stay ANY */
		pos = e + 1;
	}
	return fp_err_set(err, FP_EINVAL,
	                  "CPE name at byte %zu: a CPE 2.2 URI has at most 7 components", pos - 1);
}

static int prefix_is(const char *s, const char *p)
{
	for (size_t i = 0; p[i]; i++)
		if (lower((unsigned char)s[i]) != (unsigned char)p[i])
			return 0;
	return 1;
}

int fp_cpe_parse(const char *s, struct fp_cpe *out, struct fp_err *err)
{
	int rc;
	struct valbuf *v = NULL;
	memset(out, 0, sizeof(*out));
	if (!s)
		return fp_err_set(err, FP_EINVAL, "no CPE name given");
	size_t len = strnlen(s, FP_CPE_MAX + 1);
	if (len > FP_CPE_MAX)
		return fp_err_set(err, FP_ETOOBIG, "CPE name longer than %d bytes", FP_CPE_MAX);
	v = malloc(sizeof(*v));
	if (!v)
		return fp_err_set(err, FP_ENOMEM, "out of memory parsing a CPE name");
	if (prefix_is(s, "cpe:2.3:")) {
		rc = parse_fs(s, out, v, err);
	} else if (prefix_is(s, "cpe:/")) {
		rc = parse_uri(s, out, v, err);
	} else {
		rc = fp_err_set(err, FP_EINVAL,
		                "not a CPE name: expected \"cpe:2.3:\" (CPE 2.3) or \"cpe:/\" "
		                "(CPE 2.2 URI) at byte 0");
		goto out;
	}
	if (rc == 0 && format_len(out) > FP_CPE_MAX)
		rc =
		    fp_err_set(err, FP_ETOOBIG,
		               "CPE name longer than %d bytes when written as CPE 2.3", FP_CPE_MAX);
out:
	free(v);
	if (rc)
		fp_cpe_free(out);
	return rc;
}

/* ------------------------------------------------------- copy, make, set */

int fp_cpe_copy(struct fp_cpe *dst, const struct fp_cpe *src)
{
	struct fp_cpe c;
	memset(&c, 0, sizeof(c));
	for (int a = 0; a < FP_CPE_NATTR; a++) {
		c.kind[a] = src->kind[a];
		if (src->kind[a] != FP_CPE_VALUE || !src->val[a]) {
			c.kind[a] = src->kind[a] == FP_CPE_NA ? FP_CPE_NA : FP_CPE_ANY;
			continue;
		}
		size_t n = strlen(src->val[a]);
		c.val[a] = malloc(n + 1);
		if (!c.val[a])
			goto nomem;
		memcpy(c.val[a], src->val[a], n + 1);
		if (src->wild[a]) {
			c.wild[a] = malloc(n ? n : 1);
			if (!c.wild[a])
				goto nomem;
			memcpy(c.wild[a], src->wild[a], n);
		}
	}
	*dst = c;
	return 0;
nomem:
	fp_cpe_free(&c);
	memset(dst, 0, sizeof(*dst));
	return FP_ENOMEM;
}

int fp_cpe_equal(const struct fp_cpe *a, const struct fp_cpe *b)
{
	for (int i = 0; i < FP_CPE_NATTR; i++) {
		if (a->kind[i] != b->kind[i])
			return 0;
		if (a->kind[i] != FP_CPE_VALUE)
			continue;
		if (strcmp(a->val[i], b->val[i]) != 0)
			return 0;
		size_t n = strlen(a->val[i]);
		for (size_t k = 0; k < n; k++)
			if (is_wild(a, i, k) != is_wild(b, i, k))
				return 0;
	}
	return 1;
}

int fp_cpe_set(struct fp_cpe *c, enum fp_cpe_attr a, const char *value, struct fp_err *err)
{
	if ((int)a < 0 || a >= FP_CPE_NATTR)
		return fp_err_set(err, FP_EINVAL, "no such CPE attribute");
	struct fp_cpe old;
	memset(&old, 0, sizeof(old));
	old.kind[a] = c->kind[a];
	old.val[a] = c->val[a];
	old.wild[a] = c->wild[a];
	c->val[a] = NULL;
	c->wild[a] = NULL;
	c->kind[a] = FP_CPE_ANY;

	int rc = 0;
	if (!value)
		goto check;
	if (value[0] == '-' && value[1] == '\0') {
		c->kind[a] = FP_CPE_NA;
		goto check;
	}
	size_t n = strnlen(value, FP_CPE_MAX + 1);
	if (n == 0) {
		rc = fp_err_set(err, FP_EINVAL, "CPE %s is empty; pass NULL for any value",
		                attr_name[a]);
		goto out;
	}
	if (n > FP_CPE_MAX) {
		rc = fp_err_set(err, FP_ETOOBIG, "CPE %s longer than %d bytes", attr_name[a],
		                FP_CPE_MAX);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)value[i];
		if (!is_printable(ch)) {
			rc = bad_byte(err, a, i, ch);
			goto out;
		}
	}
	c->val[a] = malloc(n + 1);
	if (!c->val[a]) {
		rc = fp_err_set(err, FP_ENOMEM, "out of memory building a CPE name");
		goto out;
	}
	for (size_t i = 0; i <= n; i++)
		c->val[a][i] = (char)lower((unsigned char)value[i]);
	c->kind[a] = FP_CPE_VALUE;
	if (a == FP_CPE_PART && (rc = check_part(c, 0, err)) != 0)
		goto out;
check:
	if (format_len(c) > FP_CPE_MAX)
		rc =
		    fp_err_set(err, FP_ETOOBIG,
		               "CPE name longer than %d bytes when written as CPE 2.3", FP_CPE_MAX);
out:
	if (rc) {
		clear_attr(c, a);
		c->kind[a] = old.kind[a];
		c->val[a] = old.val[a];
		c->wild[a] = old.wild[a];
	} else {
		fp_cpe_free(&old);
	}
	return rc;
}

int fp_cpe_make(struct fp_cpe *out, char part, const char *vendor, const char *product,
                const char *version, struct fp_err *err)
{
	char p[2] = {part, '\0'};
	memset(out, 0, sizeof(*out));
	int rc = fp_cpe_set(out, FP_CPE_PART, p, err);
	if (rc == 0)
		rc = fp_cpe_set(out, FP_CPE_VENDOR, vendor, err);
	if (rc == 0)
		rc = fp_cpe_set(out, FP_CPE_PRODUCT, product, err);
	if (rc == 0)
		rc = fp_cpe_set(out, FP_CPE_VERSION, version, err);
	if (rc)
		fp_cpe_free(out);
	return rc;
}

/* ----------------------------------------------------------------- match */

static int same_ci(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return 0;
	return 1;
}

/*
 * NISTIR 7696 compare_strings(): does source value s, whose wildcards are
 * flagged in w, match the literal target t? A leading '*' or trailing '*'
 * matches any run; a run of k '?' at either end matches 0 to k characters.
 */
static int wildcard_match(const char *s, const unsigned char *w, const char *t)
{
	size_t sl = strlen(s), tl = strlen(t);
	size_t i = 0, j = sl, begins = 0, ends = 0;
	int star_begin = 0, star_end = 0;
	if (sl > 0 && w[0] && s[0] == '*') {
		i = 1;
		star_begin = 1;
	} else {
		while (i < sl && w[i] && s[i] == '?')
			i++;
		begins = i;
	}
	if (j > i && w[j - 1] && s[j - 1] == '*') {
		j--;
		star_end = 1;
	} else {
		while (j > i && w[j - 1] && s[j - 1] == '?') {
			j--;
			ends++;
		}
	}
	size_t ml = j - i;
	if (ml == 0)
		return star_begin || star_end || tl <= begins + ends;
	for (size_t k = 0; k + ml <= tl; k++) {
		if (!star_begin && k > begins)
			break;
		if (!same_ci(t + k, s + i, ml))
			continue;
		size_t left = tl - k - ml;
		if (!star_end && left > ends)
			continue;
		return 1;
	}
	return 0;
}

/* 1 when attribute a of source is a superset of or equal to that of target. */
static int attr_match(const struct fp_cpe *src, const struct fp_cpe *tgt, int a)
{
	int sk = src->kind[a], tk = tgt->kind[a];
	if (sk != FP_CPE_VALUE || !src->val[a])
		return sk == FP_CPE_NA ? tk == FP_CPE_NA : 1;
	if (tk != FP_CPE_VALUE || !tgt->val[a])
		return 0;
	const char *s = src->val[a], *t = tgt->val[a];
	if (tgt->wild[a]) {
		/* Undefined in NISTIR 7696; only the identical pattern is a superset. */
		if (strcmp(s, t) != 0)
			return 0;
		size_t n = strlen(s);
		for (size_t k = 0; k < n; k++)
			if (is_wild(src, a, k) != is_wild(tgt, a, k))
				return 0;
		return 1;
	}
	if (src->wild[a])
		return wildcard_match(s, src->wild[a], t);
	if (a == FP_CPE_VERSION)
		return fp_version_cmp(s, t) == 0;
	/* One pass that stops at the first difference: most candidates differ in
	 * the product's first bytes, and measuring both strings first cost more
	 * than the comparison. */
	while (*s && lower((unsigned char)*s) == lower((unsigned char)*t)) {
		s++;
		t++;
	}
	return *s == '\0' && *t == '\0';
}

int fp_cpe_match(const struct fp_cpe *source, const struct fp_cpe *target)
{
	/* Vendor and product first: they reject almost every candidate. */
	static const int order[FP_CPE_NATTR] = {
	    FP_CPE_PRODUCT,   FP_CPE_VENDOR,    FP_CPE_PART,     FP_CPE_VERSION,
	    FP_CPE_UPDATE,    FP_CPE_EDITION,   FP_CPE_LANGUAGE, FP_CPE_SW_EDITION,
	    FP_CPE_TARGET_SW, FP_CPE_TARGET_HW, FP_CPE_OTHER,
	};
	for (int k = 0; k < FP_CPE_NATTR; k++)
		if (!attr_match(source, target, order[k]))
			return 0;
	return 1;
}

/* ------------------------------------------------------------------- key */

static void put_key_attr(struct out *o, const struct fp_cpe *c, int a)
{
	if (c->kind[a] == FP_CPE_NA)
		put(o, '-');
	else if (c->kind[a] != FP_CPE_VALUE || !c->val[a])
		put(o, '*');
	else
		for (const char *p = c->val[a]; *p; p++)
			put(o, (char)lower((unsigned char)*p));
}

int fp_cpe_key(const struct fp_cpe *c, char *out, size_t n)
{
	struct out o = {out, n, 0};
	put_key_attr(&o, c, FP_CPE_VENDOR);
	put(&o, ':');
	put_key_attr(&o, c, FP_CPE_PRODUCT);
	if (o.len + 1 > n) {
		if (n > 0)
			out[0] = '\0';
		return FP_ETOOBIG;
	}
	out[o.len] = '\0';
	return 0;
}
