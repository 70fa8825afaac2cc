/*
 * oui.c — IEEE registry CSV parser and longest-prefix MAC vendor lookup.
 *
 * Each assignment is kept as a 48-bit value with its prefix length, in an
 * array sorted by (prefix, length); a lookup binary-searches once per prefix
 * length (36, 28, 24 bits), longest first.
 */
#include "fleetpatch/hex.h"
#include "fleetpatch/oui.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fleetpatch/csv.h"
#include "fleetpatch/device.h"

struct oui_entry {
	uint64_t prefix; /* left-aligned in 48 bits */
	unsigned bits;   /* 24, 28 or 36 */
	char *org;       /* owned */
};

struct fp_oui {
	struct oui_entry *e;
	size_t n;
};

void fp_oui_free(struct fp_oui *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->e[i].org);
	free(t->e);
	free(t);
}

size_t fp_oui_count(const struct fp_oui *t)
{
	return t ? t->n : 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct oui_entry *x = a, *y = b;
	if (x->prefix != y->prefix)
		return x->prefix < y->prefix ? -1 : 1;
	return (x->bits > y->bits) - (x->bits < y->bits);
}

/* Registry name to the number of hex digits of its assignments; 0 to skip the row. */
static unsigned registry_digits(const char *reg)
{
	if (strcasecmp(reg, "MA-L") == 0)
		return 6;
	if (strcasecmp(reg, "MA-M") == 0)
		return 7;
	if (strcasecmp(reg, "MA-S") == 0 || strcasecmp(reg, "IAB") == 0)
		return 9;
	return 0;
}

static char *trimmed_dup(const char *s)
{
	while (*s == ' ')
		s++;
	size_t n = strlen(s);
	while (n && s[n - 1] == ' ')
		n--;
	return strndup(s, n);
}

static int is_header(const struct fp_csv *c)
{
	return c->n_fields >= 3 && strcasecmp(c->field[0], "Registry") == 0 &&
	       strcasecmp(c->field[1], "Assignment") == 0 &&
	       strcasecmp(c->field[2], "Organization Name") == 0;
}

int fp_oui_parse(const char *data, size_t len, struct fp_oui **out, struct fp_err *err)
{
	int rc = 0;
	size_t cap = 0;
	struct fp_csv c;
	struct fp_oui *t = calloc(1, sizeof(*t));
	*out = NULL;
	fp_csv_init(&c, data, len);
	if (!t)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	if (len > FP_OUI_FILE_MAX) {
		rc = fp_err_set(err, FP_ETOOBIG, "OUI file is larger than %u bytes",
		                FP_OUI_FILE_MAX);
		goto out;
	}
	rc = fp_csv_next(&c, err);
	if (rc < 0)
		goto out;
	if (rc == 0 || !is_header(&c)) {
		rc = fp_err_set(err, FP_EINVAL,
		                "line 1: not an IEEE registry CSV (expected the header "
		                "'Registry,Assignment,Organization Name,Organization Address')");
		goto out;
	}
	while ((rc = fp_csv_next(&c, err)) == 1) {
		if (is_header(&c))
			continue;
		unsigned digits = registry_digits(c.field[0]);
		if (!digits)
			continue;
		if (c.n_fields < 3) {
			rc = fp_err_set(err, FP_EINVAL, "line %zu: expected at least 3 fields",
			                c.rec_line);
			goto out;
		}
		const char *a = c.field[1];
		uint64_t v = 0;
		size_t i;
		for (i = 0; a[i] && i < digits; i++) {
			int h = fp_hex_value(a[i]);
			if (h < 0)
				break;
			v = (v << 4) | (uint64_t)h;
		}
		if (i != digits || a[i]) {
			rc = fp_err_set(err, FP_EINVAL,
			                "line %zu: assignment '%.32s' of %s is not %u hex digits",
			                c.rec_line, a, c.field[0], digits);
			goto out;
		}
		char *org = trimmed_dup(c.field[2]);
		if (!org) {
			rc = fp_err_set(err, FP_ENOMEM, "out of memory");
			goto out;
		}
		/* An organisation name we could not show safely is no name at all. */
		if (!*org || !fp_text_valid(org, FP_DEVICE_STR_MAX)) {
			free(org);
			continue;
		}
		if (t->n == FP_OUI_ENTRIES_MAX) {
			free(org);
			rc = fp_err_set(err, FP_ETOOBIG, "line %zu: more than %d assignments",
			                c.rec_line, FP_OUI_ENTRIES_MAX);
			goto out;
		}
		if (t->n == cap) {
			size_t ncap = cap ? cap * 2 : 1024;
			struct oui_entry *e = realloc(t->e, ncap * sizeof(*e));
			if (!e) {
				free(org);
				rc = fp_err_set(err, FP_ENOMEM, "out of memory");
				goto out;
			}
			t->e = e;
			cap = ncap;
		}
		t->e[t->n].bits = digits * 4;
		t->e[t->n].prefix = v << (48 - digits * 4);
		t->e[t->n].org = org;
		t->n++;
	}
	if (rc < 0)
		goto out;
	rc = 0;
	if (t->n)
		qsort(t->e, t->n, sizeof(*t->e), cmp_entry);
	/* Keep the first of duplicate assignments (the files list each once). */
	size_t w = 0;
	for (size_t r = 0; r < t->n; r++) {
		if (w && t->e[w - 1].prefix == t->e[r].prefix && t->e[w - 1].bits == t->e[r].bits) {
			free(t->e[r].org);
			continue;
		}
		t->e[w++] = t->e[r];
	}
	t->n = w;
out:
	fp_csv_free(&c);
	if (rc) {
		fp_oui_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

static int mac_value(const char *m, uint64_t *out)
{
	uint64_t v = 0;
	for (int i = 0; i < 17; i++) {
		if (i % 3 == 2) {
			if (m[i] != ':')
				return -1;
			continue;
		}
		int h = fp_hex_value(m[i]);
		if (h < 0)
			return -1;
		v = (v << 4) | (uint64_t)h;
	}
	if (m[17])
		return -1;
	*out = v;
	return 0;
}

const char *fp_oui_lookup(const struct fp_oui *t, const char *mac_normalised)
{
	static const unsigned lens[] = {36, 28, 24};
	uint64_t mac;
	if (!t || !t->n || !mac_normalised || mac_value(mac_normalised, &mac))
		return NULL;
	for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
		struct oui_entry key = {
		    .prefix = mac & (((UINT64_C(1) << lens[l]) - 1) << (48 - lens[l])),
		    .bits = lens[l]};
		const struct oui_entry *hit = bsearch(&key, t->e, t->n, sizeof(*t->e), cmp_entry);
		if (hit)
			return hit->org;
	}
	return NULL;
}
