/*
 * json_scan.c — the validating JSON pull scanner of json_scan_int.h.
 *
 * The checks follow jansson 2.14's decoder, so that text accepted here is
 * accepted there too: strings are valid UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF) without control characters; escapes
 * are the JSON ones, \u escapes pair their surrogates and never give
 * U+0000; numbers follow the JSON grammar, integers fit a long long and
 * reals do not overflow; object keys are unique.
 */
#include "json_scan_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fleetpatch/hex.h"

/* Bytes a string scan must stop at: the quote, a backslash, controls and non-ASCII. */
static const unsigned char STOP[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* Reads 4 hex digits at p (end bounds it); -1 when they are not there. */
static long hex4(const char *p, const char *end)
{
	long v = 0;
	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int h = fp_hex_value((unsigned char)p[i]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/* Length of the valid UTF-8 sequence at p, or 0 (jansson's utf8_check_first/full). */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	size_t n;
	unsigned long v;
	if (c < 0x80)
		return 1;
	if (c < 0xc2)
		return 0;
	if (c < 0xe0) {
		n = 2;
		v = c & 0x1f;
	} else if (c < 0xf0) {
		n = 3;
		v = c & 0x0f;
	} else if (c < 0xf5) {
		n = 4;
		v = c & 0x07;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3f);
	}
	if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff) || (n == 3 && v < 0x800) ||
	    (n == 4 && v < 0x10000))
		return 0;
	return n;
}

int fp__js_peek(struct fp__js *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
		s->p++;
	return s->p < s->end ? (unsigned char)*s->p : 0;
}

int fp__js_at_end(struct fp__js *s)
{
	fp__js_peek(s);
	return s->p == s->end;
}

int fp__js_string(struct fp__js *s, struct fp__js_str *out)
{
	if (fp__js_peek(s) != '"')
		return -1;
	const unsigned char *p = (const unsigned char *)s->p + 1;
	const unsigned char *end = (const unsigned char *)s->end;
	out->raw = (const char *)p;
	out->escaped = 0;
	for (;;) {
		while (p < end && !STOP[*p])
			p++;
		if (p >= end)
			return -1;
		if (*p == '"')
			break;
		if (*p < 0x20)
			return -1;
		if (*p >= 0x80) {
			size_t n = utf8_len(p, end);
			if (!n)
				return -1;
			p += n;
			continue;
		}
		/* A backslash. */
		out->escaped = 1;
		if (end - p < 2)
			return -1;
		switch (p[1]) {
		case '"':
		case '\\':
		case '/':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't': p += 2; continue;
		case 'u': break;
		default: return -1;
		}
		long v = hex4((const char *)p + 2, (const char *)end);
		if (v < 0 || v == 0 || (v >= 0xdc00 && v <= 0xdfff))
			return -1;
		p += 6;
		if (v >= 0xd800 && v <= 0xdbff) {
			long lo;
			if (end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
			    (lo = hex4((const char *)p + 2, (const char *)end)) < 0xdc00 ||
			    lo > 0xdfff)
				return -1;
			p += 6;
		}
	}
	out->len = (size_t)(p - (const unsigned char *)out->raw);
	s->p = (const char *)p + 1;
	return 0;
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

int fp__js_number(struct fp__js *s, double *v)
{
	char buf[64];
	int real = 0;
	fp__js_peek(s);
	const char *p = s->p, *start = s->p, *end = s->end;
	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0') {
		p++;
		if (p < end && is_digit(*p))
			return -1;
	} else if (p < end && is_digit(*p)) {
		while (p < end && is_digit(*p))
			p++;
	} else {
		return -1;
	}
	if (p < end && *p == '.') {
		real = 1;
		p++;
		if (p >= end || !is_digit(*p))
			return -1;
		while (p < end && is_digit(*p))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		real = 1;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || !is_digit(*p))
			return -1;
		while (p < end && is_digit(*p))
			p++;
	}
	size_t n = (size_t)(p - start);
	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, start, n);
	buf[n] = '\0';
	errno = 0;
	if (real) {
		double d = strtod(buf, NULL);
		if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL))
			return -1;
		*v = d;
	} else {
		long long i = strtoll(buf, NULL, 10);
		if (errno == ERANGE)
			return -1;
		*v = (double)i;
	}
	s->p = p;
	return 0;
}

int fp__js_literal(struct fp__js *s, int *v)
{
	static const char *const words[] = {"false", "true", "null"};
	fp__js_peek(s);
	for (int i = 0; i < 3; i++) {
		size_t n = strlen(words[i]);
		if ((size_t)(s->end - s->p) >= n && memcmp(s->p, words[i], n) == 0) {
			s->p += n;
			*v = i == 2 ? -1 : i;
			return 0;
		}
	}
	return -1;
}

int fp__js_obj_begin(struct fp__js *s, struct fp__js_obj *o)
{
	if (fp__js_peek(s) != '{' || ++s->depth > FP__JS_DEPTH_MAX)
		return -1;
	s->p++;
	o->n = 0;
	return 0;
}

int fp__js_obj_next(struct fp__js *s, struct fp__js_obj *o, struct fp__js_str *key)
{
	int c = fp__js_peek(s);
	if (c == '}' && o->n == 0) {
		s->p++;
		s->depth--;
		return 0;
	}
	if (o->n > 0) {
		if (c == '}') {
			s->p++;
			s->depth--;
			return 0;
		}
		if (c != ',')
			return -1;
		s->p++;
	}
	/* An escaped key would need decoding to compare; jansson can have it. */
	if (fp__js_string(s, key) || key->escaped || o->n == FP__JS_KEYS_MAX)
		return -1;
	for (size_t i = 0; i < o->n; i++)
		if (o->len[i] == key->len && memcmp(o->key[i], key->raw, key->len) == 0)
			return -1;
	o->key[o->n] = key->raw;
	o->len[o->n++] = (unsigned)key->len;
	if (fp__js_peek(s) != ':')
		return -1;
	s->p++;
	return 1;
}

int fp__js_arr_begin(struct fp__js *s)
{
	if (fp__js_peek(s) != '[' || ++s->depth > FP__JS_DEPTH_MAX)
		return -1;
	s->p++;
	return 0;
}

int fp__js_arr_next(struct fp__js *s, int *first)
{
	int c = fp__js_peek(s);
	if (c == ']' && *first) {
		s->p++;
		s->depth--;
		return 0;
	}
	if (!*first) {
		if (c == ']') {
			s->p++;
			s->depth--;
			return 0;
		}
		if (c != ',')
			return -1;
		s->p++;
	}
	*first = 0;
	return 1;
}

int fp__js_skip(struct fp__js *s)
{
	int c = fp__js_peek(s), first = 1, r;
	double d;
	struct fp__js_str str;
	if (c == '"')
		return fp__js_string(s, &str);
	if (c == '-' || is_digit(c))
		return fp__js_number(s, &d);
	if (c == 't' || c == 'f' || c == 'n')
		return fp__js_literal(s, &r);
	if (c == '[') {
		if (fp__js_arr_begin(s))
			return -1;
		while ((r = fp__js_arr_next(s, &first)) == 1)
			if (fp__js_skip(s))
				return -1;
		return r;
	}
	if (c == '{') {
		struct fp__js_obj o;
		if (fp__js_obj_begin(s, &o))
			return -1;
		while ((r = fp__js_obj_next(s, &o, &str)) == 1)
			if (fp__js_skip(s))
				return -1;
		return r;
	}
	return -1;
}

int fp__js_is(const struct fp__js_str *key, const char *name)
{
	size_t n = strlen(name);
	return key->len == n && memcmp(key->raw, name, n) == 0;
}

/* Appends code point v as UTF-8. */
static size_t put_utf8(char *o, unsigned long v)
{
	if (v < 0x80) {
		o[0] = (char)v;
		return 1;
	}
	if (v < 0x800) {
		o[0] = (char)(0xc0 | (v >> 6));
		o[1] = (char)(0x80 | (v & 0x3f));
		return 2;
	}
	if (v < 0x10000) {
		o[0] = (char)(0xe0 | (v >> 12));
		o[1] = (char)(0x80 | ((v >> 6) & 0x3f));
		o[2] = (char)(0x80 | (v & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (v >> 18));
	o[1] = (char)(0x80 | ((v >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((v >> 6) & 0x3f));
	o[3] = (char)(0x80 | (v & 0x3f));
	return 4;
}

long fp__js_decode(const struct fp__js_str *str, char *out, size_t cap)
{
	const char *p = str->raw, *end = str->raw + str->len;
	size_t o = 0;
	if (!str->escaped) {
		if (str->len >= cap)
			return -1;
		memcpy(out, p, str->len);
		out[str->len] = '\0';
		return (long)str->len;
	}
	while (p < end) {
		if (*p != '\\') {
			if (cap - o < 2)
				return -1;
			out[o++] = *p++;
			continue;
		}
		char c = p[1];
		p += 2;
		if (c != 'u') {
			static const char from[] = "bfnrt", to[] = "\b\f\n\r\t";
			const char *f = strchr(from, c);
			if (cap - o < 2)
				return -1;
			out[o++] = f ? to[f - from] : c; /* else '"', '\\' or '/' */
			continue;
		}
		/* Validated by fp__js_string(): a pair when it is a high surrogate. */
		unsigned long v = (unsigned long)hex4(p, end);
		p += 4;
		if (v >= 0xd800 && v <= 0xdbff) {
			unsigned long lo = (unsigned long)hex4(p + 2, end);
			v = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
			p += 6;
		}
		char u[4];
		size_t n = put_utf8(u, v);
		if (cap - o < n + 1)
			return -1;
		memcpy(out + o, u, n);
		o += n;
	}
	out[o] = '\0';
	return (long)o;
}
