/*
 * import_csv.c — the generic device CSV import.
 *
 * The header names the columns with the API's device field names (and their
 * aliases), "tags", or "attr.KEY" for a free-form attribute. Names are
 * case-insensitive and trimmed. A header we cannot map is a file error, so a
 * typo never silently drops a column; a row we cannot use is rejected alone.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "fleetpatch/csv.h"
#include "import_int.h"

enum col_kind { COL_FIELD, COL_TAGS, COL_ATTR };

struct col {
	enum col_kind kind;
	int field;                            /* for COL_FIELD */
	char key[FP_DEVICE_ATTR_KEY_MAX + 1]; /* for COL_ATTR */
};

#define KNOWN_COLUMNS                                                                              \
	"identity, name, serial, manufacturer, model, hw_revision, firmware_version, platform, "   \
	"os_version, patch_level, update_mechanism, ip, mac, mac_vendor, hostname, network, "      \
	"criticality, exposure, owner, eol_date, tags, attr.KEY"

static int header_col(const char *raw, size_t line, size_t idx, struct col *col, struct fp_err *err)
{
	char name[FP_DEVICE_ATTR_KEY_MAX + 8];
	size_t n = strlen(raw);
	if (n == 0)
		return fp_err_set(err, FP_EINVAL,
		                  "line %zu: column %zu has an empty name in the header", line,
		                  idx + 1);
	if (n >= sizeof(name))
		return fp_err_set(err, FP_EINVAL,
		                  "line %zu: unknown column '%.64s…' in header; known: %s", line,
		                  raw, KNOWN_COLUMNS);
	for (size_t i = 0; i <= n; i++)
		name[i] = (char)tolower((unsigned char)raw[i]);
	if (strcmp(name, "tags") == 0) {
		col->kind = COL_TAGS;
		return 0;
	}
	if (strncmp(name, "attr.", 5) == 0) {
		/* The record validates attribute names; ask it with a scratch record. */
		struct fp_device_rec tmp;
		struct fp_err e;
		fp_device_rec_init(&tmp);
		int rc = fp_device_rec_set_attr(&tmp, name + 5, "x", &e);
		fp_device_rec_free(&tmp);
		if (rc)
			return fp_err_set(err, rc, "line %zu: column '%.80s': %s", line, raw,
			                  e.msg);
		col->kind = COL_ATTR;
		memcpy(col->key, name + 5, strlen(name + 5) + 1);
		return 0;
	}
	int f = fp_device_field_lookup(name);
	if (f < 0)
		return fp_err_set(err, FP_EINVAL,
		                  "line %zu: unknown column '%.64s' in header; known: %s", line,
		                  raw, KNOWN_COLUMNS);
	col->kind = COL_FIELD;
	col->field = f;
	return 0;
}

static int same_col(const struct col *a, const struct col *b)
{
	if (a->kind != b->kind)
		return 0;
	if (a->kind == COL_FIELD)
		return a->field == b->field;
	if (a->kind == COL_ATTR)
		return strcmp(a->key, b->key) == 0;
	return 1;
}

/* Adds each tag of a field separated by ';' or ','. */
static int add_tags(struct fp_device_rec *rec, char *v, struct fp_err *e)
{
	char *save = v;
	for (char *p = v;; p++) {
		if (*p == ';' || *p == ',' || *p == '\0') {
			int end = *p == '\0';
			*p = '\0';
			char *t = fp__import_trim(save);
			int rc = *t ? fp_device_rec_add_tag(rec, t, e) : 0;
			if (rc || end)
				return rc;
			save = p + 1;
		}
	}
}

static int import_row(struct fp__import_ctx *c, const struct fp_csv *r, const struct col *cols,
                      size_t ncols, struct fp_err *err)
{
	struct fp_device_rec rec;
	struct fp_err e;
	int rc = 0;
	if (r->n_fields != ncols)
		return fp__import_reject(c, r->rec_line, err,
		                         "row has %zu fields, the header has %zu", r->n_fields,
		                         ncols);
	fp_device_rec_init(&rec);
	for (size_t i = 0; i < ncols; i++) {
		char *v = fp__import_trim(r->field[i]);
		if (!*v)
			continue;
		switch (cols[i].kind) {
		case COL_FIELD:
			rc = fp_device_rec_set(&rec, fp_device_field_name(cols[i].field), v, &e);
			break;
		case COL_TAGS: rc = add_tags(&rec, v, &e); break;
		case COL_ATTR: rc = fp_device_rec_set_attr(&rec, cols[i].key, v, &e); break;
		}
		if (rc) {
			fp_device_rec_free(&rec);
			if (rc == FP_ENOMEM)
				return fp_err_set(err, rc, "out of memory");
			return fp__import_reject(c, r->rec_line, err, "%s", e.msg);
		}
	}
	return fp__import_add(c, r->rec_line, &rec, err);
}

int fp__import_csv(struct fp__import_ctx *c, const char *data, size_t len, struct fp_err *err)
{
	struct fp_csv r;
	struct col cols[FP_CSV_COLUMNS_MAX];
	size_t ncols = 0;
	int has_id = 0;
	int rc;
	fp_csv_init(&r, data, len);
	if ((rc = fp_csv_next(&r, err)) <= 0) {
		if (rc == 0)
			rc = fp_err_set(err, FP_EINVAL,
			                "line 1: empty file; expected a header line");
		goto out;
	}
	for (size_t i = 0; i < r.n_fields; i++) {
		char *name = fp__import_trim(r.field[i]);
		if ((rc = header_col(name, r.rec_line, i, &cols[i], err)) != 0)
			goto out;
		for (size_t j = 0; j < i; j++)
			if (same_col(&cols[i], &cols[j])) {
				rc = fp_err_set(
				    err, FP_EINVAL,
				    "line %zu: column '%.64s' appears twice in the header",
				    r.rec_line, name);
				goto out;
			}
		if (cols[i].kind == COL_FIELD &&
		    (cols[i].field == FP_DEV_IDENTITY || cols[i].field == FP_DEV_SERIAL ||
		     cols[i].field == FP_DEV_MAC || cols[i].field == FP_DEV_IP))
			has_id = 1;
		ncols++;
	}
	if (!has_id) {
		rc = fp_err_set(
		    err, FP_EINVAL,
		    "line %zu: the header needs one of the columns identity, serial, mac, "
		    "ip to tell devices apart",
		    r.rec_line);
		goto out;
	}
	while ((rc = fp_csv_next(&r, err)) == 1)
		if ((rc = import_row(c, &r, cols, ncols, err)) != 0)
			goto out;
out:
	fp_csv_free(&r);
	return rc;
}
