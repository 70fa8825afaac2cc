/*
 * version.c — the total order on version strings (see version.h).
 *
 * Each string is read as a sequence of parts ending in an END marker, and the
 * two sequences are compared part by part. Every part has a class, and classes
 * are ordered TILDE < PRE-RELEASE WORD < END < POST-RELEASE WORD < NUMBER;
 * within a class parts compare by value. Because END is just another part in
 * that single order, the comparison is plain lexicographic order over a
 * totally ordered alphabet, which is what makes it transitive.
 */
#include "fleetpatch/version.h"

#include <stddef.h>
#include <string.h>

/* Part classes, in the order they sort in. */
enum part_class {
	P_TILDE = 0,
	P_PRE = 1, /* a letter run that marks a pre-release (the default for words) */
	P_END = 2,
	P_POST = 3, /* a letter run that marks a build or patch after a release */
	P_NUM = 4,
};

struct part {
	enum part_class cls;
	const char *s; /* digits without leading zeros, or letters */
	size_t len;
	int rank; /* order of known pre-release words; 0 for the rest */
};

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* 1 when the letter run s[0..len) equals word (lower-case) ignoring case. */
static int word_is(const char *s, size_t len, const char *word)
{
	size_t i;
	for (i = 0; i < len && word[i]; i++)
		if (lower(s[i]) != word[i])
			return 0;
	return i == len && word[i] == '\0';
}

/* Known pre-release words, lowest first; unknown words rank below them all. */
static const struct {
	const char *word;
	int rank;
} pre_words[] = {
    {"dev", 1}, {"a", 2},       {"alpha", 2}, {"b", 3},  {"beta", 3},
    {"pre", 4}, {"preview", 4}, {"rc", 5},    {"cr", 5},
};

/* Words that mark something built on top of a release rather than before it. */
static const char *const post_words[] = {
    "build",  "bld", "patch", "p", "pl",  "post", "sp",     "spc",
    "hotfix", "hf",  "fix",   "r", "rev", "u",    "update",
};

static void classify_word(struct part *pt)
{
	pt->cls = P_PRE;
	pt->rank = 0;
	for (size_t i = 0; i < sizeof(pre_words) / sizeof(pre_words[0]); i++)
		if (word_is(pt->s, pt->len, pre_words[i].word)) {
			pt->rank = pre_words[i].rank;
			return;
		}
	for (size_t i = 0; i < sizeof(post_words) / sizeof(post_words[0]); i++)
		if (word_is(pt->s, pt->len, post_words[i])) {
			pt->cls = P_POST;
			return;
		}
}

/* Reads the next part at *pp and advances *pp past it. */
static void next_part(const char **pp, struct part *pt)
{
	const char *p = *pp;
	while (*p && !is_digit(*p) && !is_alpha(*p) && *p != '~')
		p++;
	pt->s = p;
	pt->len = 0;
	pt->rank = 0;
	if (*p == '\0') {
		pt->cls = P_END;
	} else if (*p == '~') {
		pt->cls = P_TILDE;
		p++;
	} else if (is_digit(*p)) {
		while (*p == '0')
			p++;
		pt->s = p;
		while (is_digit(*p))
			p++;
		pt->len = (size_t)(p - pt->s);
		pt->cls = P_NUM;
	} else {
		while (is_alpha(*p))
			p++;
		pt->len = (size_t)(p - pt->s);
		classify_word(pt);
	}
	*pp = p;
}

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

static int part_cmp(const struct part *a, const struct part *b)
{
	if (a->cls != b->cls)
		return a->cls < b->cls ? -1 : 1;
	switch (a->cls) {
	case P_NUM:
		/* Without leading zeros, a longer digit run is a larger number. */
		if (a->len != b->len)
			return a->len < b->len ? -1 : 1;
		return a->len ? sign(memcmp(a->s, b->s, a->len)) : 0;
	case P_PRE:
	case P_POST:
		if (a->rank != b->rank)
			return a->rank < b->rank ? -1 : 1;
		for (size_t i = 0; i < a->len && i < b->len; i++) {
			char x = lower(a->s[i]), y = lower(b->s[i]);
			if (x != y)
				return x < y ? -1 : 1;
		}
		return a->len == b->len ? 0 : (a->len < b->len ? -1 : 1);
	default: return 0;
	}
}

/* Skips a leading 'v' that only prefixes a number ("v1.2" is "1.2"). */
static const char *skip_v(const char *s)
{
	if ((s[0] == 'v' || s[0] == 'V') && is_digit(s[1]))
		return s + 1;
	return s;
}

int fp_version_cmp(const char *a, const char *b)
{
	const char *pa = skip_v(a), *pb = skip_v(b);
	for (;;) {
		struct part x, y;
		next_part(&pa, &x);
		next_part(&pb, &y);
		int c = part_cmp(&x, &y);
		if (c != 0)
			return c;
		if (x.cls == P_END)
			return 0;
	}
}
