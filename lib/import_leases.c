/*
 * import_leases.c — devices from DHCP server lease files.
 *
 * dnsmasq (/var/lib/misc/dnsmasq.leases) writes one lease per line:
 * "EXPIRY MAC IP HOSTNAME CLIENT-ID", with "*" for an unknown host name or
 * client id. After a "duid SERVER-DUID" line come DHCPv6 leases, which carry
 * an IAID where IPv4 leases have the MAC; those devices are known by IP.
 *
 * ISC dhcpd (dhcpd.leases) appends a "lease IP { … }" block each time a lease
 * changes, so one address appears many times and the last block is the
 * truth. Other top-level statements (server-duid, authoring-byte-order,
 * failover peer blocks) are skipped. Blocks whose final binding state is
 * free, backup or abandoned describe the address pool, not a device, and are
 * skipped too.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import_int.h"

#define VAL_MAX FP_DEVICE_ATTR_VAL_MAX

/* Copies n bytes into a value buffer; -1 when they do not fit. */
static int span_copy(char *dst, const char *s, size_t n)
{
	if (n > VAL_MAX)
		return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* Sets scalar fields in order, stopping at the first error (reported in e). */
static int set_fields(struct fp_device_rec *r, const char *const *kv, size_t n, struct fp_err *e)
{
	for (size_t i = 0; i + 1 < n; i += 2) {
		if (!kv[i + 1] || !*kv[i + 1])
			continue;
		int rc = fp_device_rec_set(r, kv[i], kv[i + 1], e);
		if (rc)
			return rc;
	}
	return 0;
}

/* Keeps rec as a row, or rejects it with e's message when rc says so. */
static int finish(struct fp__import_ctx *c, size_t line, struct fp_device_rec *rec, int rc,
                  struct fp_err *e, struct fp_err *err)
{
	if (rc == 0)
		return fp__import_add(c, line, rec, err);
	fp_device_rec_free(rec);
	if (rc == FP_ENOMEM)
		return fp_err_set(err, rc, "out of memory");
	return fp__import_reject(c, line, err, "%s", e->msg);
}

/* ---- dnsmasq ---------------------------------------------------------------------------- */

static int dnsmasq_line(struct fp__import_ctx *c, const char *s, size_t n, size_t line,
                        struct fp_err *err)
{
	char tok[5][VAL_MAX + 1];
	size_t nt = 0, i = 0;
	struct fp_device_rec rec;
	struct fp_err e;
	int rc = 0;
	while (i < n) {
		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
			i++;
		if (i == n)
			break;
		size_t start = i;
		while (i < n && s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			i++;
		if (nt == 0 && i - start == 4 && memcmp(s + start, "duid", 4) == 0)
			return 0; /* the server's DHCPv6 DUID, not a lease */
		if (nt == 5)
			return fp__import_reject(
			    c, line, err,
			    "expected EXPIRY MAC IP HOSTNAME CLIENT-ID, found more "
			    "than 5 fields");
		if (span_copy(tok[nt], s + start, i - start))
			return fp__import_reject(c, line, err, "field %zu is longer than %d bytes",
			                         nt + 1, VAL_MAX);
		nt++;
	}
	if (nt == 0)
		return 0;
	if (nt < 4)
		return fp__import_reject(
		    c, line, err, "expected EXPIRY MAC IP HOSTNAME CLIENT-ID, found %zu fields",
		    nt);
	if (!all_digits(tok[0]) || strlen(tok[0]) > 20)
		return fp__import_reject(
		    c, line, err, "expiry '%.64s' is not a time in seconds since 1970", tok[0]);
	int v6 = strchr(tok[2], ':') != NULL;
	const char *kv[] = {
	    "ip",       tok[2],
	    "mac",      v6 ? NULL : tok[1],
	    "hostname", strcmp(tok[3], "*") ? tok[3] : NULL,
	    "name",     strcmp(tok[3], "*") ? tok[3] : NULL,
	};
	fp_device_rec_init(&rec);
	rc = set_fields(&rec, kv, sizeof(kv) / sizeof(kv[0]), &e);
	if (!rc)
		rc = fp_device_rec_set_attr(&rec, "lease_expires", tok[0], &e);
	/* A DHCPv6 lease has the IAID (maybe "T"-prefixed for temporary addresses) here. */
	if (!rc && v6)
		rc = fp_device_rec_set_attr(&rec, "iaid", tok[1], &e);
	if (!rc && nt == 5 && strcmp(tok[4], "*") != 0)
		rc = fp_device_rec_set_attr(&rec, "client_id", tok[4], &e);
	return finish(c, line, &rec, rc, &e, err);
}

int fp__import_dnsmasq(struct fp__import_ctx *c, const char *data, size_t len, struct fp_err *err)
{
	size_t line = 1;
	for (size_t pos = 0; pos < len; line++) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (data + pos)) : len - pos;
		int rc = dnsmasq_line(c, data + pos, n, line, err);
		if (rc)
			return rc;
		pos += n + 1;
	}
	return 0;
}

/* ---- ISC dhcpd -------------------------------------------------------------------------- */

enum ttype { T_EOF, T_WORD, T_STRING, T_LBRACE, T_RBRACE, T_SEMI };

struct tok {
	enum ttype type;
	const char *s; /* for T_STRING: inside the quotes, escapes not yet decoded */
	size_t n;
	size_t line;
};

struct lexer {
	const char *d;
	size_t len, pos, line;
};

static int lex(struct lexer *l, struct tok *t, struct fp_err *err)
{
	for (;;) {
		while (l->pos < l->len && isspace((unsigned char)l->d[l->pos]))
			if (l->d[l->pos++] == '\n')
				l->line++;
		if (l->pos < l->len && l->d[l->pos] == '#') {
			while (l->pos < l->len && l->d[l->pos] != '\n')
				l->pos++;
			continue;
		}
		break;
	}
	t->line = l->line;
	t->s = l->d + l->pos;
	t->n = 0;
	if (l->pos >= l->len) {
		t->type = T_EOF;
		return 0;
	}
	char ch = l->d[l->pos];
	if (ch == '{' || ch == '}' || ch == ';') {
		t->type = ch == '{' ? T_LBRACE : ch == '}' ? T_RBRACE : T_SEMI;
		t->n = 1;
		l->pos++;
		return 0;
	}
	if (ch == '"') {
		size_t start = ++l->pos;
		while (l->pos < l->len && l->d[l->pos] != '"') {
			if (l->d[l->pos] == '\\' && l->pos + 1 < l->len)
				l->pos++;
			if (l->d[l->pos] == '\n')
				l->line++;
			l->pos++;
		}
		if (l->pos >= l->len)
			return fp_err_set(err, FP_EINVAL, "line %zu: quoted string is never closed",
			                  t->line);
		t->type = T_STRING;
		t->s = l->d + start;
		t->n = l->pos - start;
		l->pos++;
		return 0;
	}
	size_t start = l->pos;
	while (l->pos < l->len && !isspace((unsigned char)l->d[l->pos]) &&
	       !strchr("{};\"#", l->d[l->pos]))
		l->pos++;
	t->type = T_WORD;
	t->s = l->d + start;
	t->n = l->pos - start;
	return 0;
}

static int tok_is(const struct tok *t, const char *w)
{
	return t->type == T_WORD && t->n == strlen(w) && memcmp(t->s, w, t->n) == 0;
}

/* Skips the rest of a block whose '{' was just read, nested blocks included. */
static int skip_block(struct lexer *l, size_t open_line, struct fp_err *err)
{
	size_t depth = 1;
	struct tok t;
	while (depth) {
		int rc = lex(l, &t, err);
		if (rc)
			return rc;
		if (t.type == T_EOF)
			return fp_err_set(err, FP_EINVAL, "line %zu: '{' is never closed by '}'",
			                  open_line);
		if (t.type == T_LBRACE) {
			/* Depth is bounded by the file size; no recursion, so no stack risk. */
			depth++;
		} else if (t.type == T_RBRACE) {
			depth--;
		}
	}
	return 0;
}

#define STMT_TOKS 8

/* The last values of one IP's lease blocks, as spans into the file. */
struct lease {
	size_t line, seq;
	struct tok ip, hw, uid, host, state, ends[3];
	int has_hw, has_uid, has_host, has_state;
	size_t n_ends;
};

struct lease_set {
	struct lease *v;
	size_t n, cap;
	size_t *slot; /* open addressing on the IP text: index + 1, 0 = empty */
	size_t n_slots;
};

static size_t hash_ip(const struct tok *t)
{
	size_t h = 1469598103934665603u;
	for (size_t i = 0; i < t->n; i++)
		h = (h ^ (unsigned char)t->s[i]) * 1099511628211u;
	return h;
}

static int set_grow(struct lease_set *s)
{
	size_t n = s->n_slots ? s->n_slots * 2 : 1024;
	size_t *slot = calloc(n, sizeof(*slot));
	if (!slot)
		return FP_ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		size_t h = hash_ip(&s->v[i].ip) & (n - 1);
		while (slot[h])
			h = (h + 1) & (n - 1);
		slot[h] = i + 1;
	}
	free(s->slot);
	s->slot = slot;
	s->n_slots = n;
	return 0;
}

/* Stores lease l, replacing an earlier block for the same IP. */
static int set_put(struct lease_set *s, const struct lease *l, struct fp_err *err)
{
	if ((s->n + 1) * 2 > s->n_slots && set_grow(s))
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	size_t h = hash_ip(&l->ip) & (s->n_slots - 1);
	while (s->slot[h]) {
		struct lease *o = &s->v[s->slot[h] - 1];
		if (o->ip.n == l->ip.n && memcmp(o->ip.s, l->ip.s, l->ip.n) == 0) {
			*o = *l;
			return 0;
		}
		h = (h + 1) & (s->n_slots - 1);
	}
	if (s->n == FP_IMPORT_ROWS_MAX)
		return fp_err_set(err, FP_ETOOBIG, "line %zu: leases for more than %d addresses",
		                  l->line, FP_IMPORT_ROWS_MAX);
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct lease *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return fp_err_set(err, FP_ENOMEM, "out of memory");
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n] = *l;
	s->slot[h] = ++s->n;
	return 0;
}

/* Reads the statements of a lease block up to its '}'. */
static int lease_block(struct lexer *lx, struct lease *l, size_t open_line, struct fp_err *err)
{
	for (;;) {
		struct tok st[STMT_TOKS];
		size_t n = 0;
		struct tok t;
		int rc;
		for (;;) {
			if ((rc = lex(lx, &t, err)) != 0)
				return rc;
			if (t.type == T_EOF)
				return fp_err_set(err, FP_EINVAL,
				                  "line %zu: '{' is never closed by '}'",
				                  open_line);
			if (t.type == T_SEMI || t.type == T_RBRACE)
				break;
			if (t.type == T_LBRACE) {
				/* A nested block ("on commit { … }"): not lease data. */
				if ((rc = skip_block(lx, t.line, err)) != 0)
					return rc;
				n = 0;
				continue;
			}
			if (n < STMT_TOKS)
				st[n++] = t;
		}
		if (n >= 3 && tok_is(&st[0], "hardware") && tok_is(&st[1], "ethernet")) {
			l->hw = st[2];
			l->has_hw = 1;
		} else if (n >= 2 && tok_is(&st[0], "uid")) {
			l->uid = st[1];
			l->has_uid = 1;
		} else if (n >= 2 && tok_is(&st[0], "client-hostname")) {
			l->host = st[1];
			l->has_host = 1;
		} else if (n >= 3 && tok_is(&st[0], "binding") && tok_is(&st[1], "state")) {
			l->state = st[2];
			l->has_state = 1;
		} else if (n >= 2 && tok_is(&st[0], "ends")) {
			l->n_ends = n - 1 > 3 ? 3 : n - 1;
			memcpy(l->ends, &st[1], l->n_ends * sizeof(struct tok));
		}
		if (t.type == T_RBRACE)
			return 0;
	}
}

/* Decodes a dhcpd string's escapes (\" \\ \NNN) into bytes; returns the length or -1. */
static long decode_string(const struct tok *t, unsigned char *out, size_t size)
{
	size_t o = 0;
	for (size_t i = 0; i < t->n; i++) {
		unsigned ch = (unsigned char)t->s[i];
		if (ch == '\\' && i + 1 < t->n) {
			if (i + 3 < t->n && t->s[i + 1] >= '0' && t->s[i + 1] <= '3' &&
			    t->s[i + 2] >= '0' && t->s[i + 2] <= '7' && t->s[i + 3] >= '0' &&
			    t->s[i + 3] <= '7') {
				ch = (unsigned)((t->s[i + 1] - '0') * 64 + (t->s[i + 2] - '0') * 8 +
				                (t->s[i + 3] - '0'));
				i += 3;
			} else {
				ch = (unsigned char)t->s[++i];
			}
		}
		if (o + 1 >= size)
			return -1;
		out[o++] = (unsigned char)ch;
	}
	out[o] = '\0';
	return (long)o;
}

static long days_from_civil(long y, unsigned m, unsigned d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long)doe - 719468;
}

/* "ends 4 2024/05/02 10:00:00" (UTC), "ends never" or "ends epoch N" to seconds ("0" = never). */
static int lease_end(const struct lease *l, char *out, size_t size)
{
	char a[32], b[32];
	unsigned y, mo, d, h, mi, s;
	int used = 0;
	if (l->n_ends == 1 && tok_is(&l->ends[0], "never")) {
		snprintf(out, size, "0");
		return 0;
	}
	if (l->n_ends >= 2 && tok_is(&l->ends[0], "epoch") && l->ends[1].n < 20) {
		snprintf(out, size, "%.*s", (int)l->ends[1].n, l->ends[1].s);
		return all_digits(out) ? 0 : -1;
	}
	if (l->n_ends != 3 || l->ends[1].n >= sizeof(a) || l->ends[2].n >= sizeof(b))
		return -1;
	snprintf(a, sizeof(a), "%.*s", (int)l->ends[1].n, l->ends[1].s);
	snprintf(b, sizeof(b), "%.*s", (int)l->ends[2].n, l->ends[2].s);
	if (strlen(a) != 10 || sscanf(a, "%4u/%2u/%2u%n", &y, &mo, &d, &used) != 3 || used != 10)
		return -1;
	if (strlen(b) != 8 || sscanf(b, "%2u:%2u:%2u%n", &h, &mi, &s, &used) != 3 || used != 8)
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		return -1;
	long long t = (long long)days_from_civil((long)y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
	snprintf(out, size, "%lld", t);
	return 0;
}

static int lease_row(struct fp__import_ctx *c, const struct lease *l, struct fp_err *err)
{
	struct fp_device_rec rec;
	struct fp_err e;
	char ip[VAL_MAX + 1], hw[VAL_MAX + 1], state[64], ends[32];
	unsigned char host[VAL_MAX + 1], uid[VAL_MAX + 1];
	int rc = 0;
	if (l->has_state && l->state.n < sizeof(state))
		snprintf(state, sizeof(state), "%.*s", (int)l->state.n, l->state.s);
	else
		state[0] = '\0';
	if (!strcmp(state, "free") || !strcmp(state, "backup") || !strcmp(state, "abandoned"))
		return 0;
	if (span_copy(ip, l->ip.s, l->ip.n) ||
	    (l->has_hw ? span_copy(hw, l->hw.s, l->hw.n) : span_copy(hw, "", 0)))
		return fp__import_reject(c, l->line, err, "address is longer than %d bytes",
		                         VAL_MAX);
	host[0] = '\0';
	if (l->has_host && decode_string(&l->host, host, sizeof(host)) < 0)
		return fp__import_reject(c, l->line, err, "client-hostname is too long");
	const char *kv[] = {"ip", ip, "mac", hw, "hostname", (char *)host, "name", (char *)host};
	fp_device_rec_init(&rec);
	rc = set_fields(&rec, kv, sizeof(kv) / sizeof(kv[0]), &e);
	if (!rc && *state)
		rc = fp_device_rec_set_attr(&rec, "binding_state", state, &e);
	if (!rc && l->n_ends) {
		if (lease_end(l, ends, sizeof(ends)) == 0)
			rc = fp_device_rec_set_attr(&rec, "lease_expires", ends, &e);
		else
			rc = fp_err_set(
			    &e, FP_EINVAL,
			    "ends: not a lease time (W YYYY/MM/DD HH:MM:SS, never or epoch "
			    "N)");
	}
	if (!rc && l->has_uid) {
		/* A client id is bytes; show it as hex like the octets of a MAC. */
		long n = l->uid.type == T_STRING ? decode_string(&l->uid, uid, sizeof(uid)) : -1;
		char hex[VAL_MAX + 1];
		if (n > 0 && (size_t)n * 3 <= VAL_MAX) {
			static const char digits[] = "0123456789abcdef";
			for (long i = 0; i < n; i++) {
				hex[i * 3] = digits[uid[i] >> 4];
				hex[i * 3 + 1] = digits[uid[i] & 15];
				hex[i * 3 + 2] = ':';
			}
			hex[n * 3 - 1] = '\0';
			rc = fp_device_rec_set_attr(&rec, "client_id", hex, &e);
		} else if (l->uid.type == T_WORD && l->uid.n <= VAL_MAX) {
			span_copy(hex, l->uid.s, l->uid.n);
			rc = fp_device_rec_set_attr(&rec, "client_id", hex, &e);
		}
	}
	return finish(c, l->line, &rec, rc, &e, err);
}

static int by_seq(const void *a, const void *b)
{
	const struct lease *x = a, *y = b;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

int fp__import_dhcpd(struct fp__import_ctx *c, const char *data, size_t len, struct fp_err *err)
{
	struct lexer lx = {.d = data, .len = len, .line = 1};
	struct lease_set set = {0};
	size_t seq = 0;
	int rc = 0;
	for (;;) {
		struct tok t, ip, br;
		if ((rc = lex(&lx, &t, err)) != 0)
			goto out;
		if (t.type == T_EOF)
			break;
		if (t.type == T_RBRACE) {
			rc = fp_err_set(err, FP_EINVAL, "line %zu: '}' without a matching '{'",
			                t.line);
			goto out;
		}
		if (t.type == T_SEMI)
			continue;
		if (tok_is(&t, "lease")) {
			size_t save = lx.pos, save_line = lx.line;
			if ((rc = lex(&lx, &ip, err)) != 0 || (rc = lex(&lx, &br, err)) != 0)
				goto out;
			if (ip.type == T_WORD && br.type == T_LBRACE) {
				struct lease l = {.line = t.line, .seq = seq++, .ip = ip};
				if ((rc = lease_block(&lx, &l, br.line, err)) != 0 ||
				    (rc = set_put(&set, &l, err)) != 0)
					goto out;
				continue;
			}
			lx.pos = save;
			lx.line = save_line;
		}
		/* Any other statement: up to ';' or through its block. */
		for (;;) {
			if (t.type == T_SEMI)
				break;
			if (t.type == T_LBRACE) {
				rc = skip_block(&lx, t.line, err);
				if (rc)
					goto out;
				break;
			}
			if (t.type == T_RBRACE) {
				rc = fp_err_set(err, FP_EINVAL,
				                "line %zu: '}' without a matching '{'", t.line);
				goto out;
			}
			if (t.type == T_EOF) {
				rc = fp_err_set(err, FP_EINVAL,
				                "line %zu: statement is not ended by ';'", t.line);
				goto out;
			}
			if ((rc = lex(&lx, &t, err)) != 0)
				goto out;
		}
	}
	if (set.n)
		qsort(set.v, set.n, sizeof(*set.v), by_seq);
	for (size_t i = 0; i < set.n && !rc; i++)
		rc = lease_row(c, &set.v[i], err);
out:
	free(set.v);
	free(set.slot);
	return rc;
}
