/*
 * filter.c — parser, evaluator and canonical printer of filter expressions
 * (see filter.h and docs/design/filter.md).
 *
 * The parser is recursive descent over the text itself: the lexing is done by
 * the grammar rule that expects a token, because the same bytes mean different
 * things in different places ("1.2.0" is a value, "attr.rack" an attribute).
 * Recursion happens only on '(' and 'not', each of which counts against
 * FP_FILTER_DEPTH_MAX before recursing, so input cannot exhaust the stack.
 * 'and' and 'or' build flat n-ary nodes rather than chains.
 */
#include "fleetpatch/filter.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleetpatch/version.h"

enum node_kind { N_OR, N_AND, N_NOT, N_CMP };

enum cmp_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_GLOB, OP_IN, OP_EXISTS };

static const char *const op_text[] = {
    [OP_EQ] = "==", [OP_NE] = "!=",  [OP_LT] = "<",  [OP_LE] = "<=",         [OP_GT] = ">",
    [OP_GE] = ">=", [OP_GLOB] = "~", [OP_IN] = "in", [OP_EXISTS] = "exists",
};

struct node {
	enum node_kind kind;
	struct node **kids; /* N_OR, N_AND: two or more; N_NOT: one */
	size_t n_kids;
	char *attr; /* N_CMP: owned attribute name */
	enum cmp_op op;
	char **vals; /* N_CMP: owned values (none for exists, one or more otherwise) */
	size_t n_vals;
};

struct fp_filter {
	struct node *root;
};

static void node_free(struct node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n_kids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	for (size_t i = 0; i < n->n_vals; i++)
		free(n->vals[i]);
	free(n->vals);
	free(n->attr);
	free(n);
}

void fp_filter_free(struct fp_filter *f)
{
	if (!f)
		return;
	node_free(f->root);
	free(f);
}

/* ---- Character classes. Plain ASCII tests, independent of the locale. ---- */

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_ident(char c)
{
	return is_alpha(c) || is_digit(c) || c == '_';
}

static int is_key(char c)
{
	return is_ident(c) || c == '-';
}

/* A character of a bare value; keywords and attributes are made of these too. */
static int is_bare(char c)
{
	return c != '\0' && (is_ident(c) || strchr(".:/+-", c) != NULL);
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static const char *const keywords[] = {"and", "or", "not", "in", "exists"};

/* 1 when s[0..len) is a keyword, in any letter case. */
static int is_keyword(const char *s, size_t len)
{
	for (size_t k = 0; k < sizeof(keywords) / sizeof(keywords[0]); k++) {
		const char *kw = keywords[k];
		size_t i = 0;
		while (i < len && kw[i] && lower(s[i]) == kw[i])
			i++;
		if (i == len && kw[i] == '\0')
			return 1;
	}
	return 0;
}

/* ---- Parser. ---- */

struct parser {
	const char *s;
	size_t pos;
	int depth;
	size_t n_cmp;
	fp_filter_known_fn known;
	struct fp_err *err;
};

/* Records "filter: at column N: <message>" and returns code. */
__attribute__((format(printf, 4, 5))) static int perr(struct parser *p, size_t at, int code,
                                                      const char *fmt, ...)
{
	char msg[FP_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fp_err_set(p->err, code, "filter: at column %zu: %s", at + 1, msg);
}

/* Describes the token at s for an error message: "end of input", "'and'", "byte 0x01". */
static const char *describe(const char *s, char *buf, size_t size)
{
	if (*s == '\0')
		return "end of input";
	unsigned char c = (unsigned char)*s;
	if (c < 0x20 || c >= 0x7f) {
		snprintf(buf, size, "byte 0x%02x", c);
		return buf;
	}
	size_t len = 0;
	while (len < 24 && is_bare(s[len]))
		len++;
	if (len == 0)
		while (len < 2 && s[len] && strchr("=!<>~", s[len]) && strchr("=!<>~", s[0]))
			len++;
	if (len == 0)
		len = 1;
	snprintf(buf, size, "'%.*s'", (int)len, s);
	return buf;
}

#define FOUND(p) describe((p)->s + (p)->pos, found_buf, sizeof(found_buf))

static void skip_ws(struct parser *p)
{
	while (is_space(p->s[p->pos]))
		p->pos++;
}

/* 1 when keyword kw (lower case) starts at the current position as a whole word. */
static int at_keyword(const struct parser *p, const char *kw)
{
	const char *s = p->s + p->pos;
	size_t i = 0;
	while (kw[i] && lower(s[i]) == kw[i])
		i++;
	return kw[i] == '\0' && !is_bare(s[i]);
}

static struct node *node_new(enum node_kind kind)
{
	struct node *n = calloc(1, sizeof(*n));
	if (n)
		n->kind = kind;
	return n;
}

/*
 * Parses one value (double-quoted, single-quoted or bare) into *out.
 * after names what came before it, for messages ("'<'").
 */
static int parse_value(struct parser *p, const char *after, char **out)
{
	char found_buf[48];
	char v[FP_FILTER_VALUE_MAX + 1];
	size_t n = 0;
	skip_ws(p);
	size_t at = p->pos;
	const char *s = p->s;
	char q = s[at];
	if (q == '"' || q == '\'') {
		size_t i = at + 1;
		for (;;) {
			char c = s[i];
			if (c == '\0')
				return perr(p, at, FP_EINVAL,
				            "unterminated string: no closing %c for the %c here", q,
				            q);
			if (c == q) {
				i++;
				break;
			}
			if ((unsigned char)c < 0x20 || c == 0x7f)
				return perr(p, i, FP_EINVAL,
				            "control character (byte 0x%02x) in a string; write "
				            "\\n or \\t inside double quotes",
				            (unsigned char)c);
			if (c == '\\' && q == '"') {
				char e = s[i + 1];
				if (e == '"' || e == '\\')
					c = e;
				else if (e == 'n')
					c = '\n';
				else if (e == 't')
					c = '\t';
				else if (e == '\0')
					return perr(p, at, FP_EINVAL,
					            "unterminated string: no closing \" for the \" "
					            "here");
				else if ((unsigned char)e < 0x20 || (unsigned char)e >= 0x7f)
					return perr(
					    p, i, FP_EINVAL,
					    "unknown escape of byte 0x%02x in a string; the "
					    "escapes are \\\" \\\\ \\n \\t",
					    (unsigned char)e);
				else
					return perr(
					    p, i, FP_EINVAL,
					    "unknown escape '\\%c' in a string; the escapes "
					    "are \\\" \\\\ \\n \\t",
					    e);
				i++;
			}
			if (n == FP_FILTER_VALUE_MAX)
				return perr(p, at, FP_ETOOBIG,
				            "value longer than the cap of %d bytes per value",
				            FP_FILTER_VALUE_MAX);
			v[n++] = c;
			i++;
		}
		p->pos = i;
	} else if (is_bare(q)) {
		size_t i = at;
		while (is_bare(s[i])) {
			if (n == FP_FILTER_VALUE_MAX)
				return perr(p, at, FP_ETOOBIG,
				            "value longer than the cap of %d bytes per value",
				            FP_FILTER_VALUE_MAX);
			v[n++] = s[i++];
		}
		if (is_keyword(v, n))
			return perr(p, at, FP_EINVAL,
			            "expected a value after %s, found the keyword '%.*s'; quote it "
			            "to use it as a value",
			            after, (int)n, v);
		p->pos = i;
	} else {
		return perr(p, at, FP_EINVAL, "expected a value after %s, found %s", after,
		            FOUND(p));
	}
	v[n] = '\0';
	if (!(*out = strdup(v)))
		return fp_err_set(p->err, FP_ENOMEM, "out of memory");
	return 0;
}

static int add_value(struct parser *p, struct node *n, const char *after)
{
	char *v = NULL;
	int rc = parse_value(p, after, &v);
	if (rc)
		return rc;
	char **vals = realloc(n->vals, (n->n_vals + 1) * sizeof(*vals));
	if (!vals) {
		free(v);
		return fp_err_set(p->err, FP_ENOMEM, "out of memory");
	}
	n->vals = vals;
	vals[n->n_vals++] = v;
	return 0;
}

/* Parses the list of 'attr in (v, …)' after the keyword. */
static int parse_in_list(struct parser *p, struct node *n)
{
	char found_buf[48];
	skip_ws(p);
	if (p->s[p->pos] != '(')
		return perr(p, p->pos, FP_EINVAL, "expected '(' after 'in', found %s", FOUND(p));
	size_t open = p->pos++;
	const char *after = "'('";
	for (;;) {
		skip_ws(p);
		if (n->n_vals == FP_FILTER_IN_MAX)
			return perr(
			    p, p->pos, FP_ETOOBIG,
			    "more than %d values in the 'in' list opened at column %zu (the "
			    "cap per list)",
			    FP_FILTER_IN_MAX, open + 1);
		int rc = add_value(p, n, after);
		if (rc)
			return rc;
		skip_ws(p);
		char c = p->s[p->pos];
		if (c == ')') {
			p->pos++;
			return 0;
		}
		if (c != ',')
			return perr(p, p->pos, FP_EINVAL,
			            "expected ',' or ')' in the 'in' list opened at column %zu, "
			            "found %s",
			            open + 1, FOUND(p));
		p->pos++;
		after = "','";
	}
}

static int parse_comparison(struct parser *p, const char *ctx, struct node **out)
{
	char found_buf[48];
	const char *s = p->s;
	int rc = 0;
	skip_ws(p);
	size_t at = p->pos;
	if (!is_alpha(s[at]) && s[at] != '_')
		return perr(p, at, FP_EINVAL, "expected an attribute name%s, found %s", ctx,
		            FOUND(p));
	size_t e = at + 1;
	while (is_ident(s[e]))
		e++;
	if (s[e] == '.') {
		size_t k = e + 1;
		while (is_key(s[k]))
			k++;
		if (k == e + 1)
			return perr(p, k, FP_EINVAL, "expected a key after '%.*s.', found %s",
			            (int)(e - at), s + at,
			            describe(s + k, found_buf, sizeof(found_buf)));
		e = k;
	} else if (is_keyword(s + at, e - at)) {
		return perr(p, at, FP_EINVAL,
		            "expected an attribute name%s, found the keyword '%.*s'", ctx,
		            (int)(e - at), s + at);
	}
	if (p->n_cmp == FP_FILTER_CMP_MAX)
		return perr(p, at, FP_ETOOBIG, "more than %d comparisons (the cap per filter)",
		            FP_FILTER_CMP_MAX);
	struct node *n = node_new(N_CMP);
	if (!n || !(n->attr = strndup(s + at, e - at))) {
		rc = fp_err_set(p->err, FP_ENOMEM, "out of memory");
		goto out;
	}
	p->n_cmp++;
	if (p->known && !p->known(n->attr)) {
		rc = perr(p, at, FP_EINVAL, "unknown attribute '%.64s'", n->attr);
		goto out;
	}
	p->pos = e;
	skip_ws(p);
	const char *o = s + p->pos;
	if (o[0] == '=' && o[1] == '=')
		n->op = OP_EQ;
	else if (o[0] == '!' && o[1] == '=')
		n->op = OP_NE;
	else if (o[0] == '<' && o[1] == '=')
		n->op = OP_LE;
	else if (o[0] == '>' && o[1] == '=')
		n->op = OP_GE;
	else if (o[0] == '<')
		n->op = OP_LT;
	else if (o[0] == '>')
		n->op = OP_GT;
	else if (o[0] == '~')
		n->op = OP_GLOB;
	else if (at_keyword(p, "in"))
		n->op = OP_IN;
	else if (at_keyword(p, "exists"))
		n->op = OP_EXISTS;
	else if (o[0] == '=') {
		rc = perr(p, p->pos, FP_EINVAL,
		          "expected an operator after '%.64s', found '='; write '==' to compare",
		          n->attr);
		goto out;
	} else {
		rc = perr(p, p->pos, FP_EINVAL,
		          "expected an operator (== != < <= > >= ~ in exists) after '%.64s', found "
		          "%s",
		          n->attr, FOUND(p));
		goto out;
	}
	p->pos += strlen(op_text[n->op]);
	if (n->op == OP_IN) {
		rc = parse_in_list(p, n);
	} else if (n->op != OP_EXISTS) {
		char after[8];
		snprintf(after, sizeof(after), "'%s'", op_text[n->op]);
		rc = add_value(p, n, after);
	}
out:
	if (rc)
		node_free(n);
	else
		*out = n;
	return rc;
}

static int parse_or(struct parser *p, const char *ctx, struct node **out);

/* Checks the nesting cap before recursing into '(' or 'not' at column at. */
static int enter(struct parser *p, size_t at)
{
	if (p->depth == FP_FILTER_DEPTH_MAX)
		return perr(p, at, FP_ETOOBIG,
		            "nesting deeper than %d levels of '(' and 'not' (the cap per filter)",
		            FP_FILTER_DEPTH_MAX);
	p->depth++;
	return 0;
}

static int parse_unary(struct parser *p, const char *ctx, struct node **out)
{
	char found_buf[48];
	int rc;
	skip_ws(p);
	size_t at = p->pos;
	if (at_keyword(p, "not")) {
		if ((rc = enter(p, at)))
			return rc;
		p->pos += 3;
		struct node *kid = NULL;
		rc = parse_unary(p, " after 'not'", &kid);
		p->depth--;
		if (rc)
			return rc;
		struct node *n = node_new(N_NOT);
		struct node **kids = n ? malloc(sizeof(*kids)) : NULL;
		if (!kids) {
			free(n);
			node_free(kid);
			return fp_err_set(p->err, FP_ENOMEM, "out of memory");
		}
		kids[0] = kid;
		n->kids = kids;
		n->n_kids = 1;
		*out = n;
		return 0;
	}
	if (p->s[at] == '(') {
		if ((rc = enter(p, at)))
			return rc;
		p->pos++;
		struct node *inner = NULL;
		rc = parse_or(p, " after '('", &inner);
		p->depth--;
		if (rc)
			return rc;
		skip_ws(p);
		if (p->s[p->pos] != ')') {
			rc = perr(p, p->pos, FP_EINVAL,
			          "expected ')' to close the '(' at column %zu, found %s", at + 1,
			          FOUND(p));
			node_free(inner);
			return rc;
		}
		p->pos++;
		*out = inner;
		return 0;
	}
	return parse_comparison(p, ctx, out);
}

/*
 * Joins next onto *acc with 'and' or 'or' (kind), flattening nodes of the same
 * kind. Takes ownership of next, also on error.
 */
static int join(struct parser *p, enum node_kind kind, struct node **acc, struct node *next)
{
	struct node *n = *acc;
	if (n->kind != kind) {
		if (!(n = node_new(kind))) {
			node_free(next);
			return fp_err_set(p->err, FP_ENOMEM, "out of memory");
		}
	}
	size_t add = next->kind == kind ? next->n_kids : 1;
	size_t have = n == *acc ? n->n_kids : 1;
	struct node **kids = realloc(n->kids, (have + add) * sizeof(*kids));
	if (!kids) {
		if (n != *acc)
			free(n);
		node_free(next);
		return fp_err_set(p->err, FP_ENOMEM, "out of memory");
	}
	n->kids = kids;
	if (n != *acc)
		kids[0] = *acc;
	if (next->kind == kind) {
		memcpy(kids + have, next->kids, add * sizeof(*kids));
		next->n_kids = 0;
		node_free(next);
	} else {
		kids[have] = next;
	}
	n->n_kids = have + add;
	*acc = n;
	return 0;
}

static int parse_and(struct parser *p, const char *ctx, struct node **out)
{
	struct node *acc = NULL;
	int rc = parse_unary(p, ctx, &acc);
	if (rc)
		return rc;
	for (;;) {
		skip_ws(p);
		if (!at_keyword(p, "and"))
			break;
		p->pos += 3;
		struct node *next = NULL;
		if ((rc = parse_unary(p, " after 'and'", &next)) ||
		    (rc = join(p, N_AND, &acc, next))) {
			node_free(acc);
			return rc;
		}
	}
	*out = acc;
	return 0;
}

static int parse_or(struct parser *p, const char *ctx, struct node **out)
{
	struct node *acc = NULL;
	int rc = parse_and(p, ctx, &acc);
	if (rc)
		return rc;
	for (;;) {
		skip_ws(p);
		if (!at_keyword(p, "or"))
			break;
		p->pos += 2;
		struct node *next = NULL;
		if ((rc = parse_and(p, " after 'or'", &next)) || (rc = join(p, N_OR, &acc, next))) {
			node_free(acc);
			return rc;
		}
	}
	*out = acc;
	return 0;
}

int fp_filter_parse(const char *text, fp_filter_known_fn known, struct fp_filter **out,
                    struct fp_err *err)
{
	char found_buf[48];
	struct node *root = NULL;
	int rc;
	*out = NULL;
	if (!text)
		return fp_err_set(err, FP_EINVAL, "filter: no expression given");
	if (strnlen(text, FP_FILTER_TEXT_MAX + 1) > FP_FILTER_TEXT_MAX)
		return fp_err_set(err, FP_ETOOBIG,
		                  "filter: the expression is longer than the cap of %d bytes",
		                  FP_FILTER_TEXT_MAX);
	struct parser p = {.s = text, .known = known, .err = err};
	skip_ws(&p);
	if (text[p.pos] == '\0')
		return fp_err_set(err, FP_EINVAL,
		                  "filter: the expression is empty; write a comparison such as "
		                  "model == \"archer-c7\"");
	if ((rc = parse_or(&p, "", &root)))
		return rc;
	skip_ws(&p);
	if (text[p.pos] != '\0') {
		rc = perr(&p, p.pos, FP_EINVAL, "expected 'and', 'or' or the end, found %s",
		          FOUND(&p));
		node_free(root);
		return rc;
	}
	struct fp_filter *f = malloc(sizeof(*f));
	if (!f) {
		node_free(root);
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	}
	f->root = root;
	*out = f;
	return 0;
}

/* ---- Evaluation. ---- */

/* Advances past one UTF-8 character (a lead byte and its continuation bytes). */
static const char *next_char(const char *s)
{
	s++;
	while (((unsigned char)*s & 0xc0) == 0x80)
		s++;
	return s;
}

/*
 * Glob match, '*' any run and '?' one character, ASCII case-insensitive.
 * Iterative with one backtrack point, so it runs in O(len(pat) * len(str))
 * even for patterns like "*a*a*a*b" that make naive matchers exponential.
 */
static int glob_match(const char *pat, const char *str)
{
	const char *star_p = NULL, *star_s = NULL;
	while (*str) {
		if (*pat == '*') {
			star_p = ++pat;
			star_s = str;
		} else if (*pat == '?') {
			pat++;
			str = next_char(str);
		} else if (*pat && lower(*pat) == lower(*str)) {
			pat++;
			str++;
		} else if (star_p) {
			pat = star_p;
			str = ++star_s;
		} else {
			return 0;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

static int value_matches(const struct node *n, const char *v)
{
	switch (n->op) {
	case OP_EQ: return strcmp(v, n->vals[0]) == 0;
	case OP_LT: return fp_version_cmp(v, n->vals[0]) < 0;
	case OP_LE: return fp_version_cmp(v, n->vals[0]) <= 0;
	case OP_GT: return fp_version_cmp(v, n->vals[0]) > 0;
	case OP_GE: return fp_version_cmp(v, n->vals[0]) >= 0;
	case OP_GLOB: return glob_match(n->vals[0], v);
	case OP_IN:
		for (size_t i = 0; i < n->n_vals; i++)
			if (strcmp(v, n->vals[i]) == 0)
				return 1;
		return 0;
	default: return 0;
	}
}

struct eval_ctx {
	fp_filter_values_fn values;
	const void *subject;
	const char **buf; /* FP_FILTER_SUBJECT_MAX slots */
};

static int eval_cmp(const struct node *n, struct eval_ctx *c)
{
	size_t k = c->values(c->subject, n->attr, c->buf, FP_FILTER_SUBJECT_MAX);
	if (k > FP_FILTER_SUBJECT_MAX)
		k = FP_FILTER_SUBJECT_MAX;
	if (n->op == OP_EXISTS)
		return k > 0;
	if (n->op == OP_NE) {
		/* True when no value equals, so also when there is none. */
		for (size_t i = 0; i < k; i++)
			if (c->buf[i] && strcmp(c->buf[i], n->vals[0]) == 0)
				return 0;
		return 1;
	}
	for (size_t i = 0; i < k; i++)
		if (c->buf[i] && value_matches(n, c->buf[i]))
			return 1;
	return 0;
}

static int eval_node(const struct node *n, struct eval_ctx *c)
{
	switch (n->kind) {
	case N_OR:
		for (size_t i = 0; i < n->n_kids; i++)
			if (eval_node(n->kids[i], c))
				return 1;
		return 0;
	case N_AND:
		for (size_t i = 0; i < n->n_kids; i++)
			if (!eval_node(n->kids[i], c))
				return 0;
		return 1;
	case N_NOT: return !eval_node(n->kids[0], c);
	case N_CMP: return eval_cmp(n, c);
	}
	return 0;
}

int fp_filter_eval(const struct fp_filter *f, fp_filter_values_fn values, const void *subject)
{
	const char *buf[FP_FILTER_SUBJECT_MAX];
	struct eval_ctx c = {.values = values, .subject = subject, .buf = buf};
	if (!f || !values)
		return 0;
	return eval_node(f->root, &c);
}

/* ---- Canonical text. ---- */

struct out_buf {
	char *s;
	size_t len, cap;
	int oom;
};

static void raw(struct out_buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *t = realloc(b->s, cap);
		if (!t) {
			b->oom = 1;
			return;
		}
		b->s = t;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/*
 * Appends a token, with a space before it only when both neighbours are word
 * characters and would otherwise run together. That rule is what keeps the
 * canonical form no longer than any text that parses to the same filter.
 */
static void token(struct out_buf *b, const char *s, size_t n)
{
	if (b->len && n && is_bare(b->s[b->len - 1]) && is_bare(s[0]))
		raw(b, " ", 1);
	raw(b, s, n);
}

static void put(struct out_buf *b, const char *s)
{
	token(b, s, strlen(s));
}

/* Writes v in its shortest form: bare, then "…" or '…' without escapes, then "…" with. */
static void put_value(struct out_buf *b, const char *v)
{
	size_t n = strlen(v);
	size_t bare = 0;
	while (bare < n && is_bare(v[bare]))
		bare++;
	if (n && bare == n && !is_keyword(v, n)) {
		token(b, v, n);
		return;
	}
	int needs_escape = strpbrk(v, "\"\\\n\t") != NULL;
	if (!needs_escape || (!strchr(v, '\'') && !strpbrk(v, "\n\t"))) {
		const char *q = needs_escape ? "'" : "\"";
		token(b, q, 1);
		raw(b, v, n);
		raw(b, q, 1);
		return;
	}
	token(b, "\"", 1);
	for (const char *c = v; *c; c++) {
		const char *e = *c == '"'    ? "\\\""
		                : *c == '\\' ? "\\\\"
		                : *c == '\n' ? "\\n"
		                : *c == '\t' ? "\\t"
		                             : NULL;
		if (e)
			raw(b, e, 2);
		else
			raw(b, c, 1);
	}
	raw(b, "\"", 1);
}

static void print_node(struct out_buf *b, const struct node *n);

/* Prints kid, in parentheses when it is an 'or' (or, under 'not', an 'and'). */
static void print_kid(struct out_buf *b, const struct node *kid, int paren_and)
{
	int paren = kid->kind == N_OR || (paren_and && kid->kind == N_AND);
	if (paren)
		put(b, "(");
	print_node(b, kid);
	if (paren)
		put(b, ")");
}

static void print_node(struct out_buf *b, const struct node *n)
{
	switch (n->kind) {
	case N_OR:
		for (size_t i = 0; i < n->n_kids; i++) {
			if (i)
				put(b, "or");
			print_node(b, n->kids[i]);
		}
		break;
	case N_AND:
		for (size_t i = 0; i < n->n_kids; i++) {
			if (i)
				put(b, "and");
			print_kid(b, n->kids[i], 0);
		}
		break;
	case N_NOT:
		put(b, "not");
		print_kid(b, n->kids[0], 1);
		break;
	case N_CMP:
		put(b, n->attr);
		put(b, op_text[n->op]);
		if (n->op == OP_IN) {
			put(b, "(");
			for (size_t i = 0; i < n->n_vals; i++) {
				if (i)
					put(b, ",");
				put_value(b, n->vals[i]);
			}
			put(b, ")");
		} else if (n->op != OP_EXISTS) {
			put_value(b, n->vals[0]);
		}
		break;
	}
}

int fp_filter_to_string(const struct fp_filter *f, char **out)
{
	struct out_buf b = {0};
	*out = NULL;
	if (!f)
		return FP_EINVAL;
	print_node(&b, f->root);
	if (b.oom) {
		free(b.s);
		return FP_ENOMEM;
	}
	*out = b.s;
	return 0;
}
