/*
 * output.c — tables, key/value lines, raw JSON and the progress bar.
 *
 * Widths count UTF-8 code points, which is right for the Latin, Greek and
 * Cyrillic text that device inventories hold; wide CJK characters make a
 * column a little ragged but never break a character.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

void cli_print_body(const char *body, size_t len)
{
	fwrite(body, 1, len, stdout);
	if (len == 0 || body[len - 1] != '\n')
		fputc('\n', stdout);
}

void cli_clean_text(const char *s, char *out, size_t outsz)
{
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p && o + 1 < outsz; p++) {
		size_t clen = *p < 0x80 ? 1 : *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 1;
		if (o + clen >= outsz)
			break;
		if (*p < 0x20 || *p == 0x7f) {
			out[o++] = '?';
			continue;
		}
		/* Copy a multi-byte character whole, or stop at a malformed one. */
		for (size_t i = 0; i < clen; i++) {
			if (i > 0 && (p[i] & 0xc0) != 0x80)
				goto done;
			out[o++] = (char)p[i];
		}
		p += clen - 1;
	}
done:
	out[o] = '\0';
}

static int scalar_array(const json_t *v)
{
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e) if (json_is_object(e) || json_is_array(e)) return 0;
	return 1;
}

static void dump(const json_t *v, char *out, size_t outsz)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (s)
		cli_clean_text(s, out, outsz);
	free(s);
}

void cli_format_value(const json_t *v, char *out, size_t outsz)
{
	char tmp[CLI_CELL_MAX];
	out[0] = '\0';
	switch (json_typeof(v)) {
	case JSON_STRING: cli_clean_text(json_string_value(v), out, outsz); return;
	case JSON_INTEGER:
		snprintf(out, outsz, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return;
	case JSON_REAL: snprintf(out, outsz, "%g", json_real_value(v)); return;
	case JSON_TRUE: snprintf(out, outsz, "yes"); return;
	case JSON_FALSE: snprintf(out, outsz, "no"); return;
	case JSON_NULL: snprintf(out, outsz, "-"); return;
	case JSON_ARRAY:
		if (scalar_array(v)) {
			size_t i, o = 0;
			json_t *e;
			json_array_foreach(v, i, e)
			{
				cli_format_value(e, tmp, sizeof(tmp));
				int n = snprintf(out + o, outsz - o, "%s%s", i ? "," : "", tmp);
				if (n < 0 || (size_t)n >= outsz - o)
					break;
				o += (size_t)n;
			}
			return;
		}
		dump(v, out, outsz); /* arrays of objects print as JSON */
		return;
	case JSON_OBJECT: dump(v, out, outsz); return;
	}
}

const json_t *cli_json_path(const json_t *obj, const char *path)
{
	char key[128];
	const json_t *cur = obj;
	while (cur && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		cur = json_object_get(cur, key);
		path += n + (dot != NULL);
	}
	return cur;
}

/* Number of code points in s. */
static size_t width(const char *s)
{
	size_t w = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p & 0xc0) != 0x80)
			w++;
	return w;
}

/* Cuts s to at most max code points, the last being "…" when something was cut. */
static void truncate_cell(char *s, size_t max)
{
	if (max < 2 || width(s) <= max)
		return;
	size_t w = 0;
	for (char *p = s; *p; p++) {
		if ((*p & 0xc0) != 0x80 && ++w == max) {
			memcpy(p, "…", sizeof("…"));
			return;
		}
	}
}

void cli_print_table(const json_t *items, const struct cli_col *cols, int truncate)
{
	size_t ncols = 0, nrows = json_array_size(items);
	while (cols[ncols].title)
		ncols++;
	if (nrows > CLI_TABLE_ROWS)
		nrows = CLI_TABLE_ROWS;
	char **cells = calloc((nrows + 1) * ncols, sizeof(*cells));
	size_t *w = calloc(ncols, sizeof(*w));
	if (!cells || !w) {
		fprintf(stderr, "fleetpatch: out of memory\n");
		goto out;
	}
	char buf[CLI_CELL_MAX];
	for (size_t j = 0; j < ncols; j++)
		cells[j] = strdup(cols[j].title);
	for (size_t i = 0; i < nrows; i++) {
		const json_t *row = json_array_get(items, i);
		for (size_t j = 0; j < ncols; j++) {
			const json_t *v = cli_json_path(row, cols[j].key);
			if (v)
				cli_format_value(v, buf, sizeof(buf));
			else
				snprintf(buf, sizeof(buf), "-");
			if (truncate && cols[j].max > 0)
				truncate_cell(buf, (size_t)cols[j].max);
			cells[(i + 1) * ncols + j] = strdup(buf);
		}
	}
	for (size_t k = 0; k < (nrows + 1) * ncols; k++) {
		if (!cells[k]) {
			fprintf(stderr, "fleetpatch: out of memory\n");
			goto out;
		}
		size_t cw = width(cells[k]);
		if (cw > w[k % ncols])
			w[k % ncols] = cw;
	}
	for (size_t i = 0; i <= nrows; i++) {
		for (size_t j = 0; j < ncols; j++) {
			const char *s = cells[i * ncols + j];
			if (j + 1 == ncols)
				fputs(s, stdout);
			else
				printf("%s%*s", s, (int)(w[j] - width(s) + 2), "");
		}
		fputc('\n', stdout);
	}
out:
	for (size_t k = 0; cells && k < (nrows + 1) * ncols; k++)
		free(cells[k]);
	free(cells);
	free(w);
}

/* Nulls, empty arrays and empty objects say nothing, so they are not printed. */
static int empty(const json_t *v)
{
	return json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0) ||
	       (json_is_object(v) && json_object_size(v) == 0);
}

void cli_print_object(const json_t *obj)
{
	const char *k;
	json_t *v;
	size_t kw = 0;
	char buf[CLI_CELL_MAX], key[128];
	json_object_foreach((json_t *)obj, k, v) if (!empty(v) && strlen(k) > kw) kw = strlen(k);
	json_object_foreach((json_t *)obj, k, v)
	{
		if (empty(v))
			continue;
		cli_format_value(v, buf, sizeof(buf));
		cli_clean_text(k, key, sizeof(key));
		printf("%s:%*s %s\n", key, (int)(kw - strlen(key)), "", buf);
	}
}

/* ---- progress bar ---- */

#define BAR_WIDTH 30

static int bar_drawn;

void cli_progress(const char *label, double done, double total)
{
	double frac = total > 0 ? done / total : 0;
	if (frac > 1)
		frac = 1;
	char bar[BAR_WIDTH + 1];
	int fill = (int)(frac * BAR_WIDTH);
	for (int i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < fill ? '#' : '-';
	bar[BAR_WIDTH] = '\0';
	fprintf(stderr, "\r%-10s [%s] %3d%%  %.0f/%.0f", label, bar, (int)(frac * 100), done,
	        total);
	fflush(stderr);
	bar_drawn = 1;
}

void cli_progress_end(void)
{
	if (bar_drawn)
		fputc('\n', stderr);
	bar_drawn = 0;
}
