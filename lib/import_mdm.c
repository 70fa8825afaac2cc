/*
 * import_mdm.c — device exports of mobile device management systems.
 *
 * Microsoft Intune, Jamf Pro and VMware Workspace ONE export CSV with their
 * own column names and many columns we have no field for. Header names are
 * matched after lower-casing and dropping everything but letters and digits
 * ("Wi-Fi MAC" and "WiFi MAC Address" → "wifimac", "wifimacaddress"), known
 * aliases map to device fields, and every other column is kept as a
 * free-form attribute with a sanitised name instead of failing the file.
 * Each row gets update_mechanism "mdm".
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "fleetpatch/csv.h"
#include "import_int.h"

enum target {
	T_FIELD,    /* a device field, value as is */
	T_ATTR,     /* a free-form attribute with a fixed name */
	T_EXTRA,    /* an unknown column kept as an attribute */
	T_PLATFORM, /* platform, normalised */
	T_PATCH,    /* patch_level, date formats converted */
	T_IOSVER,   /* os_version that also says the platform is iOS or iPadOS */
	T_IGNORE,   /* a column past the attribute cap */
};

struct mdm_col {
	enum target t;
	int field;
	char key[FP_DEVICE_ATTR_KEY_MAX + 1];
};

static const struct {
	const char *norm; /* the header lower-cased, letters and digits only */
	enum target t;
	int field;
	const char *key;
} aliases[] = {
    {"identity", T_FIELD, FP_DEV_IDENTITY, NULL},
    {"devicename", T_FIELD, FP_DEV_NAME, NULL},
    {"displayname", T_FIELD, FP_DEV_NAME, NULL},
    {"name", T_FIELD, FP_DEV_NAME, NULL},
    {"mobiledevicename", T_FIELD, FP_DEV_NAME, NULL},
    {"computername", T_FIELD, FP_DEV_NAME, NULL},
    {"friendlyname", T_FIELD, FP_DEV_NAME, NULL},
    {"serialnumber", T_FIELD, FP_DEV_SERIAL, NULL},
    {"serial", T_FIELD, FP_DEV_SERIAL, NULL},
    {"manufacturer", T_FIELD, FP_DEV_MANUFACTURER, NULL},
    {"make", T_FIELD, FP_DEV_MANUFACTURER, NULL},
    {"model", T_FIELD, FP_DEV_MODEL, NULL},
    {"firmwareversion", T_FIELD, FP_DEV_FIRMWARE, NULL},
    {"os", T_PLATFORM, FP_DEV_PLATFORM, NULL},
    {"operatingsystem", T_PLATFORM, FP_DEV_PLATFORM, NULL},
    {"platform", T_PLATFORM, FP_DEV_PLATFORM, NULL},
    {"ostype", T_PLATFORM, FP_DEV_PLATFORM, NULL},
    {"osversion", T_FIELD, FP_DEV_OS_VERSION, NULL},
    {"operatingsystemversion", T_FIELD, FP_DEV_OS_VERSION, NULL},
    {"iosversion", T_IOSVER, FP_DEV_OS_VERSION, NULL},
    {"ipadosversion", T_IOSVER, FP_DEV_OS_VERSION, NULL},
    {"securitypatchlevel", T_PATCH, FP_DEV_PATCH_LEVEL, NULL},
    {"androidsecuritypatchlevel", T_PATCH, FP_DEV_PATCH_LEVEL, NULL},
    {"patchlevel", T_PATCH, FP_DEV_PATCH_LEVEL, NULL},
    {"wifimac", T_FIELD, FP_DEV_MAC, NULL},
    {"wifimacaddress", T_FIELD, FP_DEV_MAC, NULL},
    {"macaddress", T_FIELD, FP_DEV_MAC, NULL},
    {"ipaddress", T_FIELD, FP_DEV_IP, NULL},
    {"wifiipv4address", T_FIELD, FP_DEV_IP, NULL},
    {"hostname", T_FIELD, FP_DEV_HOSTNAME, NULL},
    {"primaryuserupn", T_FIELD, FP_DEV_OWNER, NULL},
    {"primaryuser", T_FIELD, FP_DEV_OWNER, NULL},
    {"userprincipalname", T_FIELD, FP_DEV_OWNER, NULL},
    {"user", T_FIELD, FP_DEV_OWNER, NULL},
    {"username", T_FIELD, FP_DEV_OWNER, NULL},
    {"owner", T_FIELD, FP_DEV_OWNER, NULL},
    {"imei", T_ATTR, 0, "imei"},
    {"meid", T_ATTR, 0, "meid"},
    {"lastcheckin", T_ATTR, 0, "last_checkin"},
    {"lastsync", T_ATTR, 0, "last_checkin"},
    {"lastsyncdatetime", T_ATTR, 0, "last_checkin"},
    {"lastinventoryupdate", T_ATTR, 0, "last_checkin"},
    {"lastseen", T_ATTR, 0, "last_checkin"},
};

/* Writes the header lower-cased with letters and digits only. */
static void normalise_header(const char *h, char *out, size_t size)
{
	size_t n = 0;
	for (; *h && n + 1 < size; h++)
		if (isalnum((unsigned char)*h))
			out[n++] = (char)tolower((unsigned char)*h);
	out[n] = '\0';
}

/* Turns a header into an attribute name: lower-case, '_' for runs of other characters. */
static void sanitise_key(const char *h, size_t idx, char out[FP_DEVICE_ATTR_KEY_MAX + 1])
{
	size_t n = 0;
	for (; *h && n < FP_DEVICE_ATTR_KEY_MAX; h++) {
		unsigned char ch = (unsigned char)*h;
		if (isalnum(ch))
			out[n++] = (char)tolower(ch);
		else if (n && out[n - 1] != '_')
			out[n++] = '_';
	}
	while (n && out[n - 1] == '_')
		n--;
	out[n] = '\0';
	if (n == 0)
		snprintf(out, FP_DEVICE_ATTR_KEY_MAX + 1, "col_%zu", idx + 1);
	else if (isdigit((unsigned char)out[0])) {
		/* Attribute names start with a letter or '_'. */
		size_t keep = n < FP_DEVICE_ATTR_KEY_MAX - 2 ? n : FP_DEVICE_ATTR_KEY_MAX - 2;
		memmove(out + 2, out, keep);
		out[0] = 'c';
		out[1] = '_';
		out[keep + 2] = '\0';
	}
}

static int key_used(const struct mdm_col *cols, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if ((cols[i].t == T_ATTR || cols[i].t == T_EXTRA) && strcmp(cols[i].key, key) == 0)
			return 1;
	return 0;
}

/* Values that exports write for "nothing here". */
static int is_blank(const char *v)
{
	static const char *const blanks[] = {"n/a", "na", "unknown", "-", "--", "none", "null"};
	if (!*v)
		return 1;
	for (size_t i = 0; i < sizeof(blanks) / sizeof(blanks[0]); i++)
		if (strcasecmp(v, blanks[i]) == 0)
			return 1;
	return 0;
}

static const char *normalise_platform(const char *v, char *buf, size_t size)
{
	size_t n = 0;
	for (; *v && n + 1 < size; v++)
		buf[n++] = (char)tolower((unsigned char)*v);
	buf[n] = '\0';
	/* Intune writes "iOS/iPadOS" for both; the model tells them apart later. */
	if (strncmp(buf, "ios", 3) == 0 || strstr(buf, "iphone"))
		return "ios";
	if (strstr(buf, "ipad"))
		return "ipados";
	if (strstr(buf, "android"))
		return "android";
	if (strstr(buf, "windows"))
		return "windows";
	if (strstr(buf, "macos") || strstr(buf, "mac os") || strstr(buf, "os x") ||
	    strstr(buf, "osx"))
		return "macos";
	return buf;
}

/* Accepts YYYY-MM-DD, YYYY-MM (the first of the month) and M/D/YYYY. */
static const char *normalise_patch(const char *v, char *buf, size_t size)
{
	unsigned y, m, d;
	int used = 0;
	size_t n = strlen(v);
	if (n == 7 && v[4] == '-' && sscanf(v, "%4u-%2u%n", &y, &m, &used) == 2 && used == 7 &&
	    isdigit((unsigned char)v[5]) && isdigit((unsigned char)v[6])) {
		snprintf(buf, size, "%04u-%02u-01", y, m);
		return buf;
	}
	if (strchr(v, '/') && sscanf(v, "%2u/%2u/%4u%n", &m, &d, &y, &used) == 3 &&
	    (size_t)used == n && isdigit((unsigned char)v[0]) && v[n - 5] == '/' && y >= 1000) {
		snprintf(buf, size, "%04u-%02u-%02u", y, m, d);
		return buf;
	}
	return v;
}

static int header(const struct fp_csv *r, struct mdm_col *cols, struct fp_err *err)
{
	size_t n_attr = 0;
	int has_id = 0;
	for (size_t i = 0; i < r->n_fields; i++) {
		char norm[96];
		struct mdm_col *c = &cols[i];
		const char *raw = fp__import_trim(r->field[i]);
		normalise_header(raw, norm, sizeof(norm));
		c->t = T_EXTRA;
		for (size_t a = 0; a < sizeof(aliases) / sizeof(aliases[0]); a++)
			if (strcmp(norm, aliases[a].norm) == 0) {
				c->t = aliases[a].t;
				c->field = aliases[a].field;
				if (aliases[a].key)
					snprintf(c->key, sizeof(c->key), "%s", aliases[a].key);
				break;
			}
		if (c->t == T_EXTRA) {
			sanitise_key(raw, i, c->key);
			if (key_used(cols, i, c->key)) {
				/* i < FP_CSV_COLUMNS_MAX, so the result fits in 56 + 4 bytes. */
				char k[96];
				int n = snprintf(k, sizeof(k), "%.56s_%zu", c->key, i + 1);
				size_t keep =
				    n > FP_DEVICE_ATTR_KEY_MAX ? FP_DEVICE_ATTR_KEY_MAX : (size_t)n;
				memcpy(c->key, k, keep);
				c->key[keep] = '\0';
			}
		}
		/* Exports carry more columns than a device keeps attributes: the first win. */
		if ((c->t == T_ATTR || c->t == T_EXTRA) && !key_used(cols, i, c->key) &&
		    n_attr++ >= FP_DEVICE_ATTRS_MAX)
			c->t = T_IGNORE;
		if ((c->t == T_FIELD || c->t == T_IOSVER) &&
		    (c->field == FP_DEV_IDENTITY || c->field == FP_DEV_SERIAL ||
		     c->field == FP_DEV_MAC || c->field == FP_DEV_IP))
			has_id = 1;
	}
	if (!has_id)
		return fp_err_set(
		    err, FP_EINVAL,
		    "line %zu: the header has no serial number, MAC address, IP address "
		    "or identity column to tell devices apart",
		    r->rec_line);
	return 0;
}

static int set_value(struct fp_device_rec *rec, const struct mdm_col *c, const char *v,
                     int *ios_hint, struct fp_err *e)
{
	char buf[FP_DEVICE_STR_MAX + 1];
	switch (c->t) {
	case T_ATTR:
	case T_EXTRA: return fp_device_rec_set_attr(rec, c->key, v, e);
	case T_IGNORE: return 0;
	case T_PLATFORM: v = normalise_platform(v, buf, sizeof(buf)); break;
	case T_PATCH: v = normalise_patch(v, buf, sizeof(buf)); break;
	case T_IOSVER: *ios_hint = 1; break;
	case T_FIELD: break;
	}
	/* Of two columns for one field (Wi-Fi MAC and MAC Address) the first wins. */
	if (rec->f[c->field])
		return 0;
	int rc = fp_device_rec_set(rec, fp_device_field_name(c->field), v, e);
	if (rc == FP_EINVAL && c->t == T_PATCH)
		return fp_err_set(e, rc,
		                  "patch_level: '%.64s' is not a date (YYYY-MM-DD, YYYY-MM or "
		                  "M/D/YYYY)",
		                  v);
	return rc;
}

static int row(struct fp__import_ctx *c, struct fp_csv *r, const struct mdm_col *cols, size_t ncols,
               struct fp_err *err)
{
	struct fp_device_rec rec;
	struct fp_err e;
	int rc = 0, ios_hint = 0;
	if (r->n_fields != ncols)
		return fp__import_reject(c, r->rec_line, err,
		                         "row has %zu fields, the header has %zu", r->n_fields,
		                         ncols);
	fp_device_rec_init(&rec);
	for (size_t i = 0; i < ncols && !rc; i++) {
		const char *v = fp__import_trim(r->field[i]);
		if (!is_blank(v))
			rc = set_value(&rec, &cols[i], v, &ios_hint, &e);
	}
	if (!rc && ios_hint && !rec.f[FP_DEV_PLATFORM])
		rc = fp_device_rec_set(&rec, "platform", "ios", &e);
	/* An iPad runs iPadOS even where the export says iOS. */
	if (!rc && rec.f[FP_DEV_PLATFORM] && strcmp(rec.f[FP_DEV_PLATFORM], "ios") == 0 &&
	    rec.f[FP_DEV_MODEL] && strcasestr(rec.f[FP_DEV_MODEL], "ipad"))
		rc = fp_device_rec_set(&rec, "platform", "ipados", &e);
	if (!rc)
		rc = fp_device_rec_set(&rec, "update_mechanism", "mdm", &e);
	if (rc) {
		fp_device_rec_free(&rec);
		if (rc == FP_ENOMEM)
			return fp_err_set(err, rc, "out of memory");
		return fp__import_reject(c, r->rec_line, err, "%s", e.msg);
	}
	return fp__import_add(c, r->rec_line, &rec, err);
}

int fp__import_mdm(struct fp__import_ctx *c, const char *data, size_t len, struct fp_err *err)
{
	struct fp_csv r;
	struct mdm_col cols[FP_CSV_COLUMNS_MAX];
	size_t ncols;
	int rc;
	fp_csv_init(&r, data, len);
	if ((rc = fp_csv_next(&r, err)) <= 0) {
		if (rc == 0)
			rc = fp_err_set(err, FP_EINVAL,
			                "line 1: empty file; expected a header line");
		goto out;
	}
	memset(cols, 0, sizeof(cols));
	ncols = r.n_fields;
	if ((rc = header(&r, cols, err)) != 0)
		goto out;
	while ((rc = fp_csv_next(&r, err)) == 1)
		if ((rc = row(c, &r, cols, ncols, err)) != 0)
			goto out;
out:
	fp_csv_free(&r);
	return rc;
}
