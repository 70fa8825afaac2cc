/*
 * feeds.c — CISA KEV and FIRST EPSS parsers (see feeds.h).
 *
 * The KEV catalogue is small (about a megabyte) and is parsed whole with
 * jansson. The EPSS file has a row per CVE ever published, so it is read
 * line by line, inflating gzip input through a fixed window.
 */
#include "fleetpatch/feeds.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <zlib.h>

#include "fleetpatch/nvd.h"

#define EPSS_WINDOW (64u << 10)

/* ---- KEV ---- */

void fp_kev_free(struct fp_kev *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->n; i++)
		free(k->e[i].name);
	free(k->e);
	memset(k, 0, sizeof(*k));
}

static int kev_str(const json_t *o, const char *key, char *dst, size_t cap, struct fp_err *err)
{
	const json_t *v = json_object_get(o, key);
	if (!json_is_string(v))
		return fp_err_set(err, FP_EINVAL, "\"%s\" is %s", key,
		                  v ? "not a string" : "missing");
	size_t n = json_string_length(v);
	if (n >= cap)
		return fp_err_set(err, FP_ETOOBIG, "\"%s\" is longer than %zu bytes", key, cap - 1);
	memcpy(dst, json_string_value(v), n + 1);
	if (strlen(dst) != n)
		return fp_err_set(err, FP_EINVAL, "\"%s\" contains a NUL character", key);
	return 0;
}

static int kev_entry(const json_t *v, struct fp_kev_entry *e, struct fp_err *err)
{
	int rc;
	if (!json_is_object(v))
		return fp_err_set(err, FP_EINVAL, "not an object");
	if ((rc = kev_str(v, "cveID", e->cve, sizeof(e->cve), err)))
		return rc;
	if (!fp_cve_id_valid(e->cve))
		return fp_err_set(err, FP_EINVAL, "\"%s\" is not a CVE id (CVE-YYYY-NNNN)", e->cve);
	char ransom[16];
	if ((rc = kev_str(v, "dateAdded", e->date_added, sizeof(e->date_added), err)) ||
	    (rc = kev_str(v, "dueDate", e->due, sizeof(e->due), err)) ||
	    (rc = kev_str(v, "knownRansomwareCampaignUse", ransom, sizeof(ransom), err)))
		return rc;
	if (strcmp(ransom, "Known") == 0)
		e->ransomware = 1;
	else if (strcmp(ransom, "Unknown") == 0)
		e->ransomware = 0;
	else
		return fp_err_set(err, FP_EINVAL,
		                  "\"knownRansomwareCampaignUse\" is \"%s\", not \"Known\" or "
		                  "\"Unknown\"",
		                  ransom);
	char *name = malloc(FP_KEV_NAME_MAX);
	if (!name)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	rc = kev_str(v, "vulnerabilityName", name, FP_KEV_NAME_MAX, err);
	if (rc) {
		free(name);
		return rc;
	}
	char *shrunk = realloc(name, strlen(name) + 1);
	e->name = shrunk ? shrunk : name;
	return 0;
}

int fp_kev_parse(const char *data, size_t len, struct fp_kev *out, struct fp_err *err)
{
	json_t *root = NULL;
	json_error_t je;
	struct fp_err inner;
	int rc = 0;
	memset(out, 0, sizeof(*out));
	if (len > FP_KEV_BYTES_MAX)
		return fp_err_set(err, FP_ETOOBIG, "the KEV catalogue is larger than %u bytes",
		                  FP_KEV_BYTES_MAX);
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		rc = fp_err_set(err, FP_EINVAL, "the KEV catalogue is not valid JSON: %s (line %d)",
		                je.text, je.line);
		goto out;
	}
	if (!json_is_object(root)) {
		rc = fp_err_set(err, FP_EINVAL, "the KEV catalogue is not a JSON object");
		goto out;
	}
	if ((rc = kev_str(root, "catalogVersion", out->version, sizeof(out->version), &inner))) {
		fp_err_set(err, rc, "the KEV catalogue's %s", inner.msg);
		goto out;
	}
	const json_t *arr = json_object_get(root, "vulnerabilities");
	if (!json_is_array(arr)) {
		rc = fp_err_set(err, FP_EINVAL,
		                "the KEV catalogue has no \"vulnerabilities\" array; is this the "
		                "CISA known_exploited_vulnerabilities.json?");
		goto out;
	}
	size_t n = json_array_size(arr);
	if (n > FP_KEV_ENTRIES_MAX) {
		rc = fp_err_set(err, FP_ETOOBIG, "the KEV catalogue has more than %d entries",
		                FP_KEV_ENTRIES_MAX);
		goto out;
	}
	out->e = calloc(n ? n : 1, sizeof(*out->e));
	if (!out->e) {
		rc = fp_err_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		rc = kev_entry(json_array_get(arr, i), &out->e[i], &inner);
		if (rc) {
			fp_err_set(err, rc, "KEV entry %zu (%s): %s", i + 1,
			           out->e[i].cve[0] ? out->e[i].cve : "no cveID", inner.msg);
			goto out;
		}
		out->n = i + 1;
	}
out:
	json_decref(root);
	if (rc)
		fp_kev_free(out);
	return rc;
}

/* ---- EPSS ---- */

struct epss {
	fp_epss_fn fn;
	void *ctx;
	char *model_version, *score_date;
	char line[FP_EPSS_LINE_MAX + 1];
	size_t len;
	size_t lineno, rows;
	int seen_header;
};

/* Parses a probability: digits, optionally '.' and digits, optionally an exponent; in [0, 1]. */
static int parse_prob(const char *s, double *out)
{
	const char *p = s;
	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p != '\0')
		return -1;
	/* The syntax above is locale-independent and has no hex, inf or nan for strtod. */
	double v = strtod(s, NULL);
	if (!(v >= 0 && v <= 1))
		return -1;
	*out = v;
	return 0;
}

/* Copies the value of "key:value" in the comment's comma-separated list. */
static int comment_field(struct epss *p, const char *item, struct fp_err *err)
{
	static const struct {
		const char *key;
		size_t cap;
	} keys[] = {{"model_version", 64}, {"score_date", 32}};
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		size_t kl = strlen(keys[k].key);
		if (strncmp(item, keys[k].key, kl) != 0 || item[kl] != ':')
			continue;
		const char *v = item + kl + 1;
		if (strlen(v) >= keys[k].cap)
			return fp_err_set(err, FP_ETOOBIG, "line %zu: %s is longer than %zu bytes",
			                  p->lineno, keys[k].key, keys[k].cap - 1);
		memcpy(k == 0 ? p->model_version : p->score_date, v, strlen(v) + 1);
	}
	return 0;
}

static int epss_line(struct epss *p, char *s, size_t n, struct fp_err *err)
{
	if (n > 0 && s[n - 1] == '\r')
		s[--n] = '\0';
	if (n == 0)
		return 0;
	if (memchr(s, '\0', n))
		return fp_err_set(err, FP_EINVAL, "line %zu: contains a NUL byte", p->lineno);
	if (!p->seen_header) {
		if (s[0] == '#' && p->lineno == 1) {
			for (char *item = s + 1, *next; item; item = next) {
				next = strchr(item, ',');
				if (next)
					*next++ = '\0';
				int rc = comment_field(p, item, err);
				if (rc)
					return rc;
			}
			return 0;
		}
		if (strcmp(s, "cve,epss,percentile") != 0)
			return fp_err_set(
			    err, FP_EINVAL,
			    "line %zu: expected the header \"cve,epss,percentile\" of a "
			    "FIRST EPSS file, found \"%.60s\"",
			    p->lineno, s);
		p->seen_header = 1;
		return 0;
	}
	char *c1 = strchr(s, ',');
	char *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
	if (!c2 || strchr(c2 + 1, ','))
		return fp_err_set(err, FP_EINVAL,
		                  "line %zu: expected 3 fields (cve,epss,percentile)", p->lineno);
	*c1 = *c2 = '\0';
	double epss, pct;
	if (!fp_cve_id_valid(s))
		return fp_err_set(err, FP_EINVAL, "line %zu: \"%s\" is not a CVE id", p->lineno, s);
	if (parse_prob(c1 + 1, &epss) || parse_prob(c2 + 1, &pct))
		return fp_err_set(err, FP_EINVAL,
		                  "line %zu: epss and percentile must be numbers from 0 to 1",
		                  p->lineno);
	if (++p->rows > FP_EPSS_ROWS_MAX)
		return fp_err_set(err, FP_ETOOBIG, "line %zu: the EPSS file has more than %u rows",
		                  p->lineno, FP_EPSS_ROWS_MAX);
	int rc = p->fn(p->ctx, s, epss, pct);
	if (rc)
		fp_err_set(err, rc, "line %zu: the row callback stopped the EPSS parser",
		           p->lineno);
	return rc;
}

/* Splits text into lines, carrying a partial line over to the next call. */
static int epss_text(struct epss *p, const char *s, size_t n, struct fp_err *err)
{
	while (n > 0) {
		const char *nl = memchr(s, '\n', n);
		size_t take = nl ? (size_t)(nl - s) : n;
		if (take > FP_EPSS_LINE_MAX - p->len)
			return fp_err_set(err, FP_ETOOBIG, "line %zu: longer than %d bytes",
			                  p->lineno + 1, FP_EPSS_LINE_MAX);
		memcpy(p->line + p->len, s, take);
		p->len += take;
		if (!nl)
			return 0;
		p->lineno++;
		p->line[p->len] = '\0';
		int rc = epss_line(p, p->line, p->len, err);
		if (rc)
			return rc;
		p->len = 0;
		s += take + 1;
		n -= take + 1;
	}
	return 0;
}

static int epss_gunzip(struct epss *p, const unsigned char *data, size_t len, struct fp_err *err)
{
	z_stream zs;
	int rc = 0, ended = 0;
	memset(&zs, 0, sizeof(zs));
	unsigned char *win = malloc(EPSS_WINDOW);
	if (!win || inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
		free(win);
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	}
	while (len > 0) {
		uInt take = len > UINT_MAX ? UINT_MAX : (uInt)len;
		zs.next_in = (unsigned char *)data;
		zs.avail_in = take;
		data += take;
		len -= take;
		for (;;) {
			if (ended) {
				if (zs.avail_in == 0)
					break;
				inflateReset(&zs); /* a concatenated gzip member */
				ended = 0;
			}
			zs.next_out = win;
			zs.avail_out = EPSS_WINDOW;
			int zr = inflate(&zs, Z_NO_FLUSH);
			if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
				rc = fp_err_set(err, zr == Z_MEM_ERROR ? FP_ENOMEM : FP_EINVAL,
				                "the EPSS file's gzip data is corrupt: %s",
				                zs.msg ? zs.msg : "inflate failed");
				goto out;
			}
			rc = epss_text(p, (const char *)win, EPSS_WINDOW - zs.avail_out, err);
			if (rc)
				goto out;
			if (zr == Z_STREAM_END)
				ended = 1;
			else if (zs.avail_out != 0)
				break; /* the input is used up and the output flushed */
		}
	}
	if (!ended)
		rc = fp_err_set(
		    err, FP_EINVAL,
		    "the EPSS file's gzip stream is truncated (after line %zu); download "
		    "it again",
		    p->lineno);
out:
	inflateEnd(&zs);
	free(win);
	return rc;
}

int fp_epss_parse(const void *data, size_t len, fp_epss_fn fn, void *ctx, char model_version[64],
                  char score_date[32], struct fp_err *err)
{
	struct epss *p = calloc(1, sizeof(*p));
	int rc;
	model_version[0] = score_date[0] = '\0';
	if (!p)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	p->fn = fn;
	p->ctx = ctx;
	p->model_version = model_version;
	p->score_date = score_date;
	const unsigned char *b = data;
	if (len >= 2 && b[0] == 0x1f && b[1] == 0x8b)
		rc = epss_gunzip(p, b, len, err);
	else
		rc = epss_text(p, data, len, err);
	if (!rc && p->len > 0) {
		/* The last line has no line break. */
		p->lineno++;
		p->line[p->len] = '\0';
		rc = epss_line(p, p->line, p->len, err);
	}
	if (!rc && !p->seen_header)
		rc =
		    fp_err_set(err, FP_EINVAL,
		               "the EPSS file has no \"cve,epss,percentile\" header; is it a FIRST "
		               "EPSS CSV?");
	free(p);
	return rc;
}
