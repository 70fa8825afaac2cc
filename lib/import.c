/*
 * import.c — the import entry point and what every format shares: the
 * identity rule, MAC vendor lookup, the row and reject caps, and the text
 * checks of line-based formats. The formats live in lib/import_<format>.c.
 */
#include "fleetpatch/import.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fleetpatch/oui.h"
#include "import_int.h"

static const char *const format_names[] = {
    [FP_IMPORT_CSV] = "csv",         [FP_IMPORT_JSON] = "json",   [FP_IMPORT_NMAP] = "nmap",
    [FP_IMPORT_DNSMASQ] = "dnsmasq", [FP_IMPORT_DHCPD] = "dhcpd", [FP_IMPORT_MDM] = "mdm",
};
#define N_FORMATS (sizeof(format_names) / sizeof(format_names[0]))

int fp_import_format_parse(const char *name, enum fp_import_format *out)
{
	for (size_t i = 0; name && i < N_FORMATS; i++)
		if (strcasecmp(name, format_names[i]) == 0) {
			*out = (enum fp_import_format)i;
			return 0;
		}
	return FP_EINVAL;
}

const char *fp_import_format_name(enum fp_import_format f)
{
	return ((size_t)f < N_FORMATS) ? format_names[f] : NULL;
}

void fp_import_result_free(struct fp_import_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_rows; i++)
		fp_device_rec_free(&r->rows[i].rec);
	free(r->rows);
	free(r->rejects);
	memset(r, 0, sizeof(*r));
}

static int count_record(struct fp__import_ctx *c, size_t line, struct fp_err *err)
{
	if (c->n_records >= FP_IMPORT_ROWS_MAX)
		return fp_err_set(err, FP_ETOOBIG,
		                  "line %zu: more than %d rows in one file; split the file", line,
		                  FP_IMPORT_ROWS_MAX);
	c->n_records++;
	return 0;
}

int fp__import_reject(struct fp__import_ctx *c, size_t line, struct fp_err *err, const char *fmt,
                      ...)
{
	struct fp_import_result *o = c->out;
	int rc = count_record(c, line, err);
	if (rc)
		return rc;
	o->n_rejects_total++;
	if (o->n_rejects >= FP_IMPORT_REJECTS_MAX)
		return 0;
	if (o->n_rejects == c->rejects_cap) {
		size_t cap = c->rejects_cap ? c->rejects_cap * 2 : 16;
		if (cap > FP_IMPORT_REJECTS_MAX)
			cap = FP_IMPORT_REJECTS_MAX;
		struct fp_import_reject *r = realloc(o->rejects, cap * sizeof(*r));
		if (!r)
			return fp_err_set(err, FP_ENOMEM, "out of memory");
		o->rejects = r;
		c->rejects_cap = cap;
	}
	struct fp_import_reject *r = &o->rejects[o->n_rejects++];
	r->line = line;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
	return 0;
}

/* Writes the identity that the rule derives from rec's fields; 0 when it has none. */
static int derive_identity(const struct fp_device_rec *rec, char *buf, size_t size)
{
	if (rec->f[FP_DEV_SERIAL]) {
		snprintf(buf, size, "serial:%s", rec->f[FP_DEV_SERIAL]);
		return 1;
	}
	if (rec->f[FP_DEV_MAC]) {
		snprintf(buf, size, "mac:%s", rec->f[FP_DEV_MAC]);
		return 1;
	}
	if (rec->f[FP_DEV_IP]) {
		/* The canonical text form, so fe80:0::1 and FE80::1 are one device. */
		unsigned char a[16];
		char txt[INET6_ADDRSTRLEN];
		const char *ip = rec->f[FP_DEV_IP];
		if (inet_pton(AF_INET, ip, a) == 1)
			ip = inet_ntop(AF_INET, a, txt, sizeof(txt));
		else if (inet_pton(AF_INET6, ip, a) == 1)
			ip = inet_ntop(AF_INET6, a, txt, sizeof(txt));
		snprintf(buf, size, "ip:%s", ip ? ip : rec->f[FP_DEV_IP]);
		return 1;
	}
	return 0;
}

int fp__import_add(struct fp__import_ctx *c, size_t line, struct fp_device_rec *rec,
                   struct fp_err *err)
{
	int rc = 0;
	struct fp_err e;
	struct fp_import_result *o = c->out;
	if (!rec->f[FP_DEV_IDENTITY]) {
		char id[FP_DEVICE_STR_MAX + 32];
		if (!derive_identity(rec, id, sizeof(id))) {
			rc = fp__import_reject(
			    c, line, err, "no identity: need one of identity, serial, mac, ip");
			goto out;
		}
		if ((rc = fp_device_rec_set(rec, "identity", id, &e)) != 0) {
			rc = rc == FP_ENOMEM ? fp_err_set(err, rc, "out of memory")
			                     : fp__import_reject(c, line, err, "%s", e.msg);
			goto out;
		}
	}
	if (c->oui && rec->f[FP_DEV_MAC] && !rec->f[FP_DEV_MAC_VENDOR]) {
		const char *v = fp_oui_lookup(c->oui, rec->f[FP_DEV_MAC]);
		/* The table only holds valid names; a failure here leaves the vendor unknown. */
		if (v && fp_device_rec_set(rec, "mac_vendor", v, NULL) == FP_ENOMEM) {
			rc = fp_err_set(err, FP_ENOMEM, "out of memory");
			goto out;
		}
	}
	if ((rc = count_record(c, line, err)) != 0)
		goto out;
	if (o->n_rows == c->rows_cap) {
		size_t ncap = c->rows_cap ? c->rows_cap * 2 : 64;
		struct fp_import_row *r = realloc(o->rows, ncap * sizeof(*r));
		if (!r) {
			rc = fp_err_set(err, FP_ENOMEM, "out of memory");
			goto out;
		}
		o->rows = r;
		c->rows_cap = ncap;
	}
	o->rows[o->n_rows].line = line;
	o->rows[o->n_rows].rec = *rec;
	o->n_rows++;
	fp_device_rec_init(rec); /* ownership moved to the result */
	return 0;
out:
	fp_device_rec_free(rec);
	return rc;
}

int fp__import_text_check(const char *data, size_t len, struct fp_err *err)
{
	const unsigned char *p = (const unsigned char *)data;
	size_t line = 1, line_start = 0;
	for (size_t i = 0; i < len;) {
		unsigned char ch = p[i];
		if (ch == '\n') {
			line++;
			line_start = ++i;
			continue;
		}
		if (i - line_start >= FP_IMPORT_LINE_MAX)
			return fp_err_set(err, FP_ETOOBIG, "line %zu: longer than %d bytes", line,
			                  FP_IMPORT_LINE_MAX);
		if (ch == 0)
			return fp_err_set(err, FP_EINVAL,
			                  "line %zu, column %zu: NUL byte; this is not a text file",
			                  line, i - line_start + 1);
		if (ch < 0x80) {
			i++;
			continue;
		}
		size_t n = (ch & 0xe0) == 0xc0   ? 2
		           : (ch & 0xf0) == 0xe0 ? 3
		           : (ch & 0xf8) == 0xf0 ? 4
		                                 : 0;
		unsigned cp = n == 2 ? ch & 0x1fu : n == 3 ? ch & 0x0fu : ch & 0x07u;
		int ok = n != 0 && i + n <= len;
		for (size_t k = 1; ok && k < n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				ok = 0;
			cp = (cp << 6) | (p[i + k] & 0x3fu);
		}
		if (ok &&
		    ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		     cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)))
			ok = 0;
		if (!ok)
			return fp_err_set(err, FP_EINVAL,
			                  "line %zu, column %zu: invalid UTF-8; save the file as "
			                  "UTF-8",
			                  line, i - line_start + 1);
		i += n;
	}
	return 0;
}

char *fp__import_trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

int fp_import_parse(enum fp_import_format fmt, const char *data, size_t len,
                    const struct fp_oui *oui, struct fp_import_result *out, struct fp_err *err)
{
	int rc;
	struct fp__import_ctx c = {.out = out, .oui = oui};
	memset(out, 0, sizeof(*out));
	if (len > FP_IMPORT_FILE_MAX)
		return fp_err_set(err, FP_ETOOBIG, "file is larger than %u bytes; split it",
		                  FP_IMPORT_FILE_MAX);
	if (!data && len)
		return fp_err_set(err, FP_EINVAL, "no data");
	if (!data)
		data = "";
	switch (fmt) {
	case FP_IMPORT_CSV:
	case FP_IMPORT_MDM:
	case FP_IMPORT_DNSMASQ:
	case FP_IMPORT_DHCPD:
		if ((rc = fp__import_text_check(data, len, err)) != 0)
			return rc;
		break;
	default: break;
	}
	switch (fmt) {
	case FP_IMPORT_CSV: rc = fp__import_csv(&c, data, len, err); break;
	case FP_IMPORT_JSON: rc = fp__import_json(&c, data, len, err); break;
	case FP_IMPORT_NMAP: rc = fp__import_nmap(&c, data, len, err); break;
	case FP_IMPORT_DNSMASQ: rc = fp__import_dnsmasq(&c, data, len, err); break;
	case FP_IMPORT_DHCPD: rc = fp__import_dhcpd(&c, data, len, err); break;
	case FP_IMPORT_MDM: rc = fp__import_mdm(&c, data, len, err); break;
	default: rc = fp_err_set(err, FP_EINVAL, "unknown import format %d", (int)fmt); break;
	}
	if (rc) {
		fp_import_result_free(out);
		/* Name the format, so "line 3: …" says which parser refused the file. */
		if (err && fmt <= FP_IMPORT_MDM) {
			char why[FP_ERR_MSG_MAX];
			snprintf(why, sizeof(why), "%s", err->msg);
			fp_err_set(err, rc, "%s file: %s", fp_import_format_name(fmt), why);
		}
	}
	return rc;
}
