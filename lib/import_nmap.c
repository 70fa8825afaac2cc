/*
 * import_nmap.c — hosts from nmap's XML output (nmap -oX), read with expat.
 *
 * The parser streams: every <host> that nmap saw up becomes a device built as
 * its elements arrive — addresses, host names, open ports with their services
 * (as components) and the most accurate OS guess. Hosts that are down are
 * skipped. nmap writes "<!DOCTYPE nmaprun>", so a DOCTYPE is allowed, but one
 * with an internal subset, and any entity declaration, stops the parse: that
 * rules out entity expansion attacks. The whole buffer is parsed in one final
 * XML_Parse call, so expat's reparse deferral (2.6+) plays no part.
 */
#include <ctype.h>
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "import_int.h"

#define OS_CPES_MAX 16 /* CPEs kept from the best OS guess */
#define TEXT_MAX    FP_DEVICE_STR_MAX

enum tag {
	E_OTHER,
	E_NMAPRUN,
	E_HOST,
	E_HOSTNAMES,
	E_OS,
	E_OSMATCH,
	E_OSCLASS,
	E_PORTS,
	E_PORT,
	E_SERVICE,
	E_CPE,
};

struct host {
	size_t line;
	int up, reject;
	char reason[256];
	char ip[TEXT_MAX + 1], mac[TEXT_MAX + 1], vendor[TEXT_MAX + 1];
	char hostname[TEXT_MAX + 1];
	int hostname_user; /* the hostname came from the user, not from DNS */
	struct fp_device_rec rec;
	char open_ports[FP_DEVICE_ATTR_VAL_MAX + 1];
	/* The best OS guess so far, and the one being read. */
	int best_acc, cur_acc;
	char best_name[TEXT_MAX + 1], cur_name[TEXT_MAX + 1];
	char best_class[3][TEXT_MAX + 1], cur_class[3][TEXT_MAX + 1]; /* vendor, family, gen */
	char best_cpe[OS_CPES_MAX][TEXT_MAX + 1], cur_cpe[OS_CPES_MAX][TEXT_MAX + 1];
	int n_best_cpe, n_cur_cpe;
	/* The port being read. */
	int port_open;
	char port[32];
	char svc_name[TEXT_MAX + 1], svc_product[TEXT_MAX + 1], svc_version[TEXT_MAX + 1];
	char svc_cpe[OS_CPES_MAX][TEXT_MAX + 1];
	int n_svc_cpe;
	/* CPEs already made components: services and the OS guess share OS CPEs. */
	char seen[OS_CPES_MAX][TEXT_MAX + 1];
	int n_seen;
};

struct nmap_ctx {
	XML_Parser p;
	struct fp__import_ctx *c;
	struct fp_err *err;
	int rc;
	size_t depth;
	enum tag stack[FP_IMPORT_XML_DEPTH_MAX + 1];
	int in_host;
	struct host *h;
	char text[TEXT_MAX + 1];
	size_t text_len;
	int text_over;
};

static const char *attr(const XML_Char **atts, const char *name)
{
	for (size_t i = 0; atts[i]; i += 2)
		if (strcmp(atts[i], name) == 0)
			return atts[i + 1];
	return NULL;
}

static void copy(char *dst, const char *src)
{
	snprintf(dst, TEXT_MAX + 1, "%s", src ? src : "");
}

static void stop(struct nmap_ctx *x, int code, const char *what)
{
	if (x->rc)
		return;
	x->rc = fp_err_set(x->err, code, "line %lu, column %lu: %s",
	                   (unsigned long)XML_GetCurrentLineNumber(x->p),
	                   (unsigned long)XML_GetCurrentColumnNumber(x->p) + 1, what);
	XML_StopParser(x->p, XML_FALSE);
}

/* Marks the current host as rejected with the first reason given. */
static void host_reject(struct host *h, const char *reason)
{
	if (h->reject)
		return;
	h->reject = 1;
	/* Reasons quote input and may be longer than the slot; keep the start. */
	size_t n = strnlen(reason, sizeof(h->reason) - 1);
	memcpy(h->reason, reason, n);
	h->reason[n] = '\0';
}

/* Appends one CPE 2.3 formatted-string value (or * for empty) to out. */
static int fs_value(const char *v, size_t n, char *out, size_t size, size_t *o)
{
	if (n == 0) {
		if (*o + 1 >= size)
			return -1;
		out[(*o)++] = '*';
		return 0;
	}
	if (n == 1 && v[0] == '-') {
		if (*o + 1 >= size)
			return -1;
		out[(*o)++] = '-';
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned ch = (unsigned char)v[i];
		int special = 0;
		if (ch == '%') {
			unsigned b;
			if (i + 2 >= n)
				return -1;
			if (!isxdigit((unsigned char)v[i + 1]) ||
			    !isxdigit((unsigned char)v[i + 2]))
				return -1;
			sscanf(v + i + 1, "%2x", &b);
			i += 2;
			ch = b;
			/* %01 and %02 are the URI form's single and multiple wildcards. */
			if (ch == 1 || ch == 2) {
				ch = ch == 1 ? '?' : '*';
				special = 1;
			}
		}
		if (ch <= 0x20 || ch >= 0x7f)
			return -1;
		ch = (unsigned)tolower((int)ch);
		if (*o + 3 >= size)
			return -1;
		if (!special && !isalnum((int)ch) && ch != '_' && ch != '.' && ch != '-')
			out[(*o)++] = '\\';
		out[(*o)++] = (char)ch;
	}
	return 0;
}

/*
 * Converts a CPE 2.2 URI (cpe:/a:vendor:product:version…) into a CPE 2.3
 * formatted string; a packed edition (~ed~sw~tsw~thw~other) is unpacked.
 * Returns -1 for anything that is not a well-formed URI binding.
 */
static int cpe22_to_23(const char *uri, char *out, size_t size)
{
	const char *comp[7] = {0};
	size_t len[7] = {0}, n = 0;
	if (strncasecmp(uri, "cpe:/", 5) != 0)
		return -1;
	const char *p = uri + 5;
	for (;;) {
		if (n == 7)
			return -1;
		const char *e = strchr(p, ':');
		comp[n] = p;
		len[n++] = e ? (size_t)(e - p) : strlen(p);
		if (!e)
			break;
		p = e + 1;
	}
	if (len[0] != 1 || !strchr("aohAOH", comp[0][0]))
		return -1;
	/* vendor product version update edition language sw_edition target_sw target_hw other */
	const char *val[10] = {0};
	size_t vlen[10] = {0};
	for (size_t i = 1; i < n && i <= 6; i++) {
		val[i - 1] = comp[i];
		vlen[i - 1] = len[i];
	}
	if (n > 5 && len[5] && comp[5][0] == '~') {
		const char *q = comp[5] + 1, *end = comp[5] + len[5];
		size_t k = 0;
		static const int slot[5] = {4, 6, 7, 8, 9};
		while (k < 5) {
			const char *t = memchr(q, '~', (size_t)(end - q));
			val[slot[k]] = q;
			vlen[slot[k]] = t ? (size_t)(t - q) : (size_t)(end - q);
			k++;
			if (!t)
				break;
			q = t + 1;
		}
		if (k != 5 || memchr(q, '~', (size_t)(end - q)))
			return -1;
	}
	size_t o = 0;
	int w = snprintf(out, size, "cpe:2.3:%c", tolower((unsigned char)comp[0][0]));
	if (w < 0 || (size_t)w >= size)
		return -1;
	o = (size_t)w;
	for (size_t i = 0; i < 10; i++) {
		if (o + 1 >= size)
			return -1;
		out[o++] = ':';
		if (fs_value(val[i] ? val[i] : "", vlen[i], out, size, &o))
			return -1;
	}
	out[o] = '\0';
	return 0;
}

/* The n-th ':'-separated part of a CPE 2.2 URI, percent-decoded, or "" when absent. */
static void cpe_part(const char *uri, int n, char *out, size_t size)
{
	const char *p = uri + 5;
	size_t o = 0;
	for (int i = 0; i < n && p; i++) {
		p = strchr(p, ':');
		if (p)
			p++;
	}
	for (; p && *p && *p != ':' && o + 1 < size; p++) {
		unsigned b;
		if (*p == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2]) &&
		    sscanf(p + 1, "%2x", &b) == 1 && b >= 0x20 && b < 0x7f) {
			out[o++] = (char)b;
			p += 2;
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
}

static void add_component(struct nmap_ctx *x, const char *name, const char *version,
                          const char *cpe_uri)
{
	struct host *h = x->h;
	char cpe[TEXT_MAX + 1];
	struct fp_err e;
	const char *c23 = (cpe_uri && cpe22_to_23(cpe_uri, cpe, sizeof(cpe)) == 0) ? cpe : NULL;
	if (h->reject)
		return;
	int rc = fp_device_rec_add_component(&h->rec, name, version && *version ? version : NULL,
	                                     c23, NULL, &e);
	if (rc == FP_ENOMEM)
		stop(x, rc, "out of memory");
	else if (rc)
		host_reject(h, e.msg);
}

/* Adds a component named after a CPE's product, unless that CPE was added already. */
static void add_cpe_component(struct nmap_ctx *x, const char *uri)
{
	struct host *h = x->h;
	char name[TEXT_MAX + 1], version[TEXT_MAX + 1];
	for (int i = 0; i < h->n_seen; i++)
		if (strcasecmp(h->seen[i], uri) == 0)
			return;
	if (h->n_seen < OS_CPES_MAX)
		copy(h->seen[h->n_seen++], uri);
	cpe_part(uri, 2, name, sizeof(name));
	cpe_part(uri, 3, version, sizeof(version));
	if (*name)
		add_component(x, name, version, uri);
}

static void port_end(struct nmap_ctx *x)
{
	struct host *h = x->h;
	if (!h->port_open || !*h->port)
		return;
	size_t used = strlen(h->open_ports), add = strlen(h->port) + (used ? 1 : 0);
	/* The attribute has a cap; ports past it are left out of the list, not the device. */
	if (used + add <= FP_DEVICE_ATTR_VAL_MAX)
		snprintf(h->open_ports + used, sizeof(h->open_ports) - used, "%s%s",
		         used ? "," : "", h->port);
	const char *name = *h->svc_product ? h->svc_product : h->svc_name;
	const char *app_cpe = NULL;
	for (int i = 0; i < h->n_svc_cpe; i++) {
		if (strncasecmp(h->svc_cpe[i], "cpe:/a:", 7) == 0 && !app_cpe)
			app_cpe = h->svc_cpe[i];
		else
			add_cpe_component(x, h->svc_cpe[i]);
	}
	if (*name)
		add_component(x, name, h->svc_version, app_cpe);
}

static void text_value(struct nmap_ctx *x, char *dst)
{
	if (x->text_over)
		*dst = '\0';
	else
		copy(dst, x->text);
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct nmap_ctx *x = ud;
	size_t n_atts = 0;
	while (atts[n_atts * 2])
		n_atts++;
	if (n_atts > FP_IMPORT_XML_ATTRS_MAX) {
		stop(x, FP_ETOOBIG, "an element has more than 64 attributes");
		return;
	}
	if (x->depth >= FP_IMPORT_XML_DEPTH_MAX) {
		stop(x, FP_ETOOBIG, "elements nest deeper than 64 levels");
		return;
	}
	if (x->depth == 0 && strcmp(name, "nmaprun") != 0) {
		stop(x, FP_EINVAL, "not nmap XML: the root element is not <nmaprun>");
		return;
	}
	enum tag parent = x->depth ? x->stack[x->depth - 1] : E_OTHER, t = E_OTHER;
	struct host *h = x->h;
	if (x->depth == 0) {
		t = E_NMAPRUN;
	} else if (parent == E_NMAPRUN && strcmp(name, "host") == 0) {
		t = E_HOST;
		memset(h, 0, sizeof(*h));
		h->line = (size_t)XML_GetCurrentLineNumber(x->p);
		h->best_acc = -1;
		x->in_host = 1;
	} else if (parent == E_HOST && strcmp(name, "status") == 0) {
		const char *s = attr(atts, "state");
		h->up = s && strcmp(s, "up") == 0;
	} else if (parent == E_HOST && strcmp(name, "address") == 0) {
		const char *a = attr(atts, "addr"), *type = attr(atts, "addrtype");
		if (a && type && strcmp(type, "mac") == 0) {
			copy(h->mac, a);
			copy(h->vendor, attr(atts, "vendor"));
		} else if (a && type && (strcmp(type, "ipv4") == 0 || strcmp(type, "ipv6") == 0)) {
			/* Prefer the IPv4 address when nmap lists both. */
			if (!*h->ip || (strcmp(type, "ipv4") == 0 && strchr(h->ip, ':')))
				copy(h->ip, a);
		}
	} else if (parent == E_HOST && strcmp(name, "hostnames") == 0) {
		t = E_HOSTNAMES;
	} else if (parent == E_HOSTNAMES && strcmp(name, "hostname") == 0) {
		const char *n = attr(atts, "name"), *type = attr(atts, "type");
		int user = type && strcmp(type, "user") == 0;
		if (n && (!*h->hostname || (user && !h->hostname_user))) {
			copy(h->hostname, n);
			h->hostname_user = user;
		}
	} else if (parent == E_HOST && strcmp(name, "os") == 0) {
		t = E_OS;
	} else if (parent == E_OS && strcmp(name, "osmatch") == 0) {
		t = E_OSMATCH;
		const char *acc = attr(atts, "accuracy");
		char *end;
		long v = acc ? strtol(acc, &end, 10) : 0;
		h->cur_acc = (acc && *end == '\0' && v >= 0 && v <= 100) ? (int)v : 0;
		copy(h->cur_name, attr(atts, "name"));
		memset(h->cur_class, 0, sizeof(h->cur_class));
		h->n_cur_cpe = 0;
	} else if (parent == E_OSMATCH && strcmp(name, "osclass") == 0) {
		t = E_OSCLASS;
		/* The first class of a match describes it; later ones add CPEs. */
		if (!*h->cur_class[1]) {
			copy(h->cur_class[0], attr(atts, "vendor"));
			copy(h->cur_class[1], attr(atts, "osfamily"));
			copy(h->cur_class[2], attr(atts, "osgen"));
		}
	} else if (parent == E_HOST && strcmp(name, "ports") == 0) {
		t = E_PORTS;
	} else if (parent == E_PORTS && strcmp(name, "port") == 0) {
		t = E_PORT;
		const char *proto = attr(atts, "protocol"), *id = attr(atts, "portid");
		h->port_open = 0;
		h->port[0] = h->svc_name[0] = h->svc_product[0] = h->svc_version[0] = '\0';
		h->n_svc_cpe = 0;
		if (proto && id && strlen(proto) < 8 && strlen(id) < 8 &&
		    strspn(id, "0123456789") == strlen(id))
			snprintf(h->port, sizeof(h->port), "%s/%s", id, proto);
	} else if (parent == E_PORT && strcmp(name, "state") == 0) {
		const char *s = attr(atts, "state");
		h->port_open = s && strcmp(s, "open") == 0;
	} else if (parent == E_PORT && strcmp(name, "service") == 0) {
		t = E_SERVICE;
		copy(h->svc_name, attr(atts, "name"));
		copy(h->svc_product, attr(atts, "product"));
		copy(h->svc_version, attr(atts, "version"));
	} else if ((parent == E_OSCLASS || parent == E_SERVICE) && strcmp(name, "cpe") == 0) {
		t = E_CPE;
		x->text_len = 0;
		x->text_over = 0;
		x->text[0] = '\0';
	}
	x->stack[x->depth++] = t;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	struct nmap_ctx *x = ud;
	if (!x->depth || x->stack[x->depth - 1] != E_CPE || x->text_over)
		return;
	if (x->text_len + (size_t)len > TEXT_MAX) {
		x->text_over = 1;
		return;
	}
	memcpy(x->text + x->text_len, s, (size_t)len);
	x->text_len += (size_t)len;
	x->text[x->text_len] = '\0';
}

static void host_end(struct nmap_ctx *x)
{
	struct host *h = x->h;
	struct fp_err e;
	int rc = 0;
	if (!h->up)
		return;
	if (h->best_acc >= 0) {
		char fam[TEXT_MAX + 1];
		size_t i;
		for (i = 0; h->best_class[1][i]; i++)
			fam[i] = (char)tolower((unsigned char)h->best_class[1][i]);
		fam[i] = '\0';
		for (int k = 0; k < h->n_best_cpe; k++)
			add_cpe_component(x, h->best_cpe[k]);
		char acc[8];
		snprintf(acc, sizeof(acc), "%d", h->best_acc);
		const char *vendor = h->best_class[0];
		if (!rc && *fam)
			rc = fp_device_rec_set(&h->rec, "platform", fam, &e);
		if (!rc && *h->best_class[2])
			rc = fp_device_rec_set(&h->rec, "os_version", h->best_class[2], &e);
		/* "Linux" makes Linux; only a vendor that is not the OS names the maker. */
		if (!rc && *vendor && strcasecmp(vendor, h->best_class[1]) != 0)
			rc = fp_device_rec_set(&h->rec, "manufacturer", vendor, &e);
		if (!rc && *h->best_name)
			rc = fp_device_rec_set_attr(&h->rec, "os_match", h->best_name, &e);
		if (!rc)
			rc = fp_device_rec_set_attr(&h->rec, "os_accuracy", acc, &e);
	}
	if (!rc && *h->ip)
		rc = fp_device_rec_set(&h->rec, "ip", h->ip, &e);
	if (!rc && *h->mac)
		rc = fp_device_rec_set(&h->rec, "mac", h->mac, &e);
	if (!rc && *h->vendor)
		rc = fp_device_rec_set(&h->rec, "mac_vendor", h->vendor, &e);
	if (!rc && *h->hostname)
		rc = fp_device_rec_set(&h->rec, "hostname", h->hostname, &e);
	if (!rc && *h->hostname)
		rc = fp_device_rec_set(&h->rec, "name", h->hostname, &e);
	if (!rc && *h->open_ports)
		rc = fp_device_rec_set_attr(&h->rec, "open_ports", h->open_ports, &e);
	if (rc == FP_ENOMEM) {
		stop(x, rc, "out of memory");
		return;
	}
	if (rc)
		host_reject(h, e.msg);
	if (x->rc)
		return;
	if (h->reject) {
		fp_device_rec_free(&h->rec);
		rc = fp__import_reject(x->c, h->line, x->err, "%s", h->reason);
	} else {
		rc = fp__import_add(x->c, h->line, &h->rec, x->err);
	}
	if (rc) {
		/* A file-level failure: err is already set, keep its message. */
		x->rc = rc;
		XML_StopParser(x->p, XML_FALSE);
	}
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	struct nmap_ctx *x = ud;
	(void)name;
	/* After a stop expat may still close an empty element; nothing more is built. */
	if (!x->depth || x->rc)
		return;
	enum tag t = x->stack[--x->depth];
	enum tag parent = x->depth ? x->stack[x->depth - 1] : E_OTHER;
	struct host *h = x->h;
	switch (t) {
	case E_CPE:
		if (parent == E_OSCLASS && h->n_cur_cpe < OS_CPES_MAX)
			text_value(x, h->cur_cpe[h->n_cur_cpe++]);
		else if (parent == E_SERVICE && h->n_svc_cpe < OS_CPES_MAX)
			text_value(x, h->svc_cpe[h->n_svc_cpe++]);
		break;
	case E_OSMATCH:
		if (h->cur_acc > h->best_acc) {
			h->best_acc = h->cur_acc;
			memcpy(h->best_name, h->cur_name, sizeof(h->best_name));
			memcpy(h->best_class, h->cur_class, sizeof(h->best_class));
			memcpy(h->best_cpe, h->cur_cpe, sizeof(h->best_cpe));
			h->n_best_cpe = h->n_cur_cpe;
		}
		break;
	case E_PORT: port_end(x); break;
	case E_HOST:
		host_end(x);
		fp_device_rec_free(&h->rec);
		x->in_host = 0;
		break;
	default: break;
	}
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
	struct nmap_ctx *x = ud;
	(void)name;
	(void)sysid;
	(void)pubid;
	if (has_internal_subset)
		stop(x, FP_EINVAL, "a DOCTYPE with an internal subset is not allowed in nmap XML");
}

static void XMLCALL on_entity(void *ud, const XML_Char *name, int is_param, const XML_Char *value,
                              int value_length, const XML_Char *base, const XML_Char *sysid,
                              const XML_Char *pubid, const XML_Char *notation)
{
	struct nmap_ctx *x = ud;
	(void)name;
	(void)is_param;
	(void)value;
	(void)value_length;
	(void)base;
	(void)sysid;
	(void)pubid;
	(void)notation;
	stop(x, FP_EINVAL, "entity declarations are not allowed in nmap XML");
}

int fp__import_nmap(struct fp__import_ctx *c, const char *data, size_t len, struct fp_err *err)
{
	struct nmap_ctx x;
	struct host *h = calloc(1, sizeof(*h));
	XML_Parser p = XML_ParserCreate(NULL);
	int rc = 0;
	if (!h || !p) {
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	memset(&x, 0, sizeof(x));
	x.p = p;
	x.c = c;
	x.err = err;
	x.h = h;
	XML_SetUserData(p, &x);
	XML_SetElementHandler(p, on_start, on_end);
	XML_SetCharacterDataHandler(p, on_text);
	XML_SetStartDoctypeDeclHandler(p, on_doctype);
	XML_SetEntityDeclHandler(p, on_entity);
	XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
	if (XML_Parse(p, data, (int)len, XML_TRUE) == XML_STATUS_ERROR && !x.rc)
		x.rc =
		    fp_err_set(err, FP_EINVAL, "line %lu, column %lu: XML is not well-formed: %s",
		               (unsigned long)XML_GetCurrentLineNumber(p),
		               (unsigned long)XML_GetCurrentColumnNumber(p) + 1,
		               XML_ErrorString(XML_GetErrorCode(p)));
	rc = x.rc;
	if (x.in_host)
		fp_device_rec_free(&h->rec);
out:
	if (p)
		XML_ParserFree(p);
	free(h);
	return rc;
}
