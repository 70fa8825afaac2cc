/*
 * pkgdb.c — dpkg and opkg status files (pkgdb.h).
 */
#include "fleetpatch/pkgdb.h"

#include <string.h>

struct para {
	char name[FP_PKGDB_NAME_MAX];
	char version[FP_PKGDB_NAME_MAX];
	int installed;
	int too_long;
};

static void field(char *dst, const char *v, size_t n, int *too_long)
{
	if (n >= FP_PKGDB_NAME_MAX) {
		*too_long = 1;
		return;
	}
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static int flush(struct para *p, fp_pkgdb_fn fn, void *ctx)
{
	int rc = 0;
	if (p->name[0] && p->installed && !p->too_long)
		rc = fn(ctx, p->name, p->version);
	memset(p, 0, sizeof(*p));
	return rc;
}

int fp_pkgdb_parse_status(const char *data, size_t len, fp_pkgdb_fn fn, void *ctx,
                          struct fp_err *err)
{
	struct para p;
	size_t i = 0;
	memset(&p, 0, sizeof(p));
	(void)err;
	while (i < len) {
		size_t e = i;
		while (e < len && data[e] != '\n')
			e++;
		size_t n = e - i;
		const char *l = data + i;
		if (n && l[n - 1] == '\r')
			n--;
		int rc = 0;
		if (n == 0)
			rc = flush(&p, fn, ctx);
		else if (n > 9 && memcmp(l, "Package: ", 9) == 0)
			field(p.name, l + 9, n - 9, &p.too_long);
		else if (n > 9 && memcmp(l, "Version: ", 9) == 0)
			field(p.version, l + 9, n - 9, &p.too_long);
		else if (n > 8 && memcmp(l, "Status: ", 8) == 0)
			p.installed = n >= 18 && memcmp(l + n - 10, " installed", 10) == 0;
		if (rc)
			return rc;
		i = e + 1;
	}
	return flush(&p, fn, ctx);
}
