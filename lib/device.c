/*
 * device.c — validation, merging and JSON form of device inventory records.
 *
 * The server, the importers and (later) the agent all build device records
 * through fp_device_rec_set(), so a value that passes here is safe to store
 * and to show: valid UTF-8, no control characters, within its cap.
 */
#include "fleetpatch/device.h"

#include <openssl/evp.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const char *const field_names[FP_DEV_NFIELDS] = {
    [FP_DEV_IDENTITY] = "identity",
    [FP_DEV_NAME] = "name",
    [FP_DEV_SERIAL] = "serial",
    [FP_DEV_MANUFACTURER] = "manufacturer",
    [FP_DEV_MODEL] = "model",
    [FP_DEV_HW_REVISION] = "hw_revision",
    [FP_DEV_FIRMWARE] = "firmware_version",
    [FP_DEV_PLATFORM] = "platform",
    [FP_DEV_OS_VERSION] = "os_version",
    [FP_DEV_PATCH_LEVEL] = "patch_level",
    [FP_DEV_UPDATE_MECHANISM] = "update_mechanism",
    [FP_DEV_IP] = "ip",
    [FP_DEV_MAC] = "mac",
    [FP_DEV_MAC_VENDOR] = "mac_vendor",
    [FP_DEV_HOSTNAME] = "hostname",
    [FP_DEV_NETWORK] = "network",
    [FP_DEV_CRITICALITY] = "criticality",
    [FP_DEV_EXPOSURE] = "exposure",
    [FP_DEV_OWNER] = "owner",
    [FP_DEV_EOL_DATE] = "eol_date",
};

static const struct {
	const char *alias;
	enum fp_device_field field;
} aliases[] = {
    {"firmware", FP_DEV_FIRMWARE},   {"hardware_revision", FP_DEV_HW_REVISION},
    {"vendor", FP_DEV_MANUFACTURER}, {"security_patch_level", FP_DEV_PATCH_LEVEL},
    {"location", FP_DEV_NETWORK},    {"end_of_life", FP_DEV_EOL_DATE},
};

void fp_device_rec_init(struct fp_device_rec *r)
{
	memset(r, 0, sizeof(*r));
}

static void free_components(struct fp_component *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].name);
		free(c[i].version);
		free(c[i].cpe);
		free(c[i].purl);
	}
	free(c);
}

void fp_device_rec_free(struct fp_device_rec *r)
{
	if (!r)
		return;
	for (int i = 0; i < FP_DEV_NFIELDS; i++)
		free(r->f[i]);
	for (size_t i = 0; i < r->n_tags; i++)
		free(r->tags[i]);
	free(r->tags);
	free_components(r->components, r->n_components);
	for (size_t i = 0; i < r->n_attrs; i++) {
		free(r->attrs[i].key);
		free(r->attrs[i].val);
	}
	free(r->attrs);
	memset(r, 0, sizeof(*r));
}

const char *fp_device_field_name(enum fp_device_field f)
{
	return (f >= 0 && f < FP_DEV_NFIELDS) ? field_names[f] : NULL;
}

int fp_device_field_lookup(const char *name)
{
	for (int i = 0; i < FP_DEV_NFIELDS; i++)
		if (strcmp(name, field_names[i]) == 0)
			return i;
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcmp(name, aliases[i].alias) == 0)
			return (int)aliases[i].field;
	return -1;
}

int fp_text_valid(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = 0;
	while (*p) {
		unsigned char c = *p;
		size_t n;
		unsigned cp;
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return 0;
			n = 1;
			cp = c;
		} else if ((c & 0xe0) == 0xc0) {
			n = 2;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 3;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 4;
			cp = c & 0x07;
		} else {
			return 0;
		}
		for (size_t i = 1; i < n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		/* Reject overlong forms, surrogates and values past U+10FFFF. */
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		/* C1 control characters are as unwelcome in a table as C0 ones. */
		if (cp >= 0x80 && cp < 0xa0)
			return 0;
		p += n;
		len += n;
		if (len > max)
			return 0;
	}
	return 1;
}

static int valid_date(const char *v)
{
	/* YYYY-MM-DD with a real month and day. */
	if (strlen(v) != 10 || v[4] != '-' || v[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)v[i]))
			return 0;
	int y = (v[0] - '0') * 1000 + (v[1] - '0') * 100 + (v[2] - '0') * 10 + (v[3] - '0');
	int m = (v[5] - '0') * 10 + (v[6] - '0');
	int d = (v[8] - '0') * 10 + (v[9] - '0');
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return 0;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 0;
	return 1;
}

/* Normalises a MAC address given as aa:bb:.., aa-bb-.., or aabb.ccdd.eeff. */
static int normalise_mac(const char *v, char out[18])
{
	int nib = 0;
	char hex[12];
	for (const char *p = v; *p; p++) {
		if (isxdigit((unsigned char)*p)) {
			if (nib == 12)
				return -1;
			hex[nib++] = (char)tolower((unsigned char)*p);
		} else if (*p != ':' && *p != '-' && *p != '.') {
			return -1;
		}
	}
	if (nib != 12)
		return -1;
	for (int i = 0; i < 6; i++) {
		out[i * 3] = hex[i * 2];
		out[i * 3 + 1] = hex[i * 2 + 1];
		out[i * 3 + 2] = i == 5 ? '\0' : ':';
	}
	return 0;
}

static int one_of(const char *v, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(v, *set) == 0)
			return 1;
	return 0;
}

int fp_device_rec_set(struct fp_device_rec *r, const char *name, const char *value,
                      struct fp_err *err)
{
	int f = fp_device_field_lookup(name);
	if (f < 0)
		return fp_err_set(err, FP_EINVAL, "unknown device field '%.64s'", name);
	const char *fname = field_names[f];
	if (!value || !*value) {
		free(r->f[f]);
		r->f[f] = NULL;
		return 0;
	}
	if (!fp_text_valid(value, FP_DEVICE_STR_MAX))
		return fp_err_set(
		    err, FP_EINVAL,
		    "%s: value must be valid UTF-8 without control characters, at most "
		    "%d bytes",
		    fname, FP_DEVICE_STR_MAX);
	char mac[18];
	const char *store = value;
	static const char *const exposures[] = {"internet", "internal", "isolated", NULL};
	static const char *const crits[] = {"low", "medium", "high", "critical", NULL};
	switch (f) {
	case FP_DEV_EXPOSURE:
		if (!one_of(value, exposures))
			return fp_err_set(
			    err, FP_EINVAL,
			    "exposure: '%.64s' is not one of internet, internal, isolated", value);
		break;
	case FP_DEV_CRITICALITY:
		if (!one_of(value, crits))
			return fp_err_set(
			    err, FP_EINVAL,
			    "criticality: '%.64s' is not one of low, medium, high, critical",
			    value);
		break;
	case FP_DEV_EOL_DATE:
	case FP_DEV_PATCH_LEVEL:
		if (!valid_date(value))
			return fp_err_set(err, FP_EINVAL, "%s: '%.64s' is not a date YYYY-MM-DD",
			                  fname, value);
		break;
	case FP_DEV_MAC:
		if (normalise_mac(value, mac) != 0)
			return fp_err_set(err, FP_EINVAL, "mac: '%.64s' is not a MAC address",
			                  value);
		store = mac;
		break;
	case FP_DEV_IP: {
		unsigned char buf[16];
		if (inet_pton(AF_INET, value, buf) != 1 && inet_pton(AF_INET6, value, buf) != 1)
			return fp_err_set(err, FP_EINVAL,
			                  "ip: '%.64s' is not an IPv4 or IPv6 address", value);
		break;
	}
	default: break;
	}
	char *copy = strdup(store);
	if (!copy)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	free(r->f[f]);
	r->f[f] = copy;
	return 0;
}

static int tag_valid(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > FP_DEVICE_TAG_MAX)
		return 0;
	for (const char *p = t; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_.:/", *p))
			return 0;
	return 1;
}

int fp_device_rec_add_tag(struct fp_device_rec *r, const char *tag, struct fp_err *err)
{
	if (!tag_valid(tag))
		return fp_err_set(
		    err, FP_EINVAL,
		    "tags: '%.64s' is not a tag (1-%d characters of A-Z a-z 0-9 - _ . : /)", tag,
		    FP_DEVICE_TAG_MAX);
	r->tags_set = 1;
	for (size_t i = 0; i < r->n_tags; i++)
		if (strcmp(r->tags[i], tag) == 0)
			return 0;
	if (r->n_tags >= FP_DEVICE_TAGS_MAX)
		return fp_err_set(err, FP_ETOOBIG, "tags: at most %d tags per device",
		                  FP_DEVICE_TAGS_MAX);
	char **t = realloc(r->tags, (r->n_tags + 1) * sizeof(*t));
	if (!t)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	r->tags = t;
	if (!(t[r->n_tags] = strdup(tag)))
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	r->n_tags++;
	return 0;
}

static int dup_opt(const char *s, char **out)
{
	*out = NULL;
	if (s && *s && !(*out = strdup(s)))
		return -1;
	return 0;
}

int fp_device_rec_add_component(struct fp_device_rec *r, const char *name, const char *version,
                                const char *cpe, const char *purl, struct fp_err *err)
{
	if (!name || !*name || !fp_text_valid(name, FP_DEVICE_STR_MAX))
		return fp_err_set(
		    err, FP_EINVAL,
		    "components: a component needs a name of at most %d bytes of text",
		    FP_DEVICE_STR_MAX);
	const char *opt[3] = {version, cpe, purl};
	static const char *const optn[3] = {"version", "cpe", "purl"};
	for (int i = 0; i < 3; i++)
		if (opt[i] && !fp_text_valid(opt[i], FP_DEVICE_STR_MAX))
			return fp_err_set(
			    err, FP_EINVAL,
			    "components: %s of '%.64s' must be text of at most %d bytes", optn[i],
			    name, FP_DEVICE_STR_MAX);
	if (cpe && *cpe && strncmp(cpe, "cpe:", 4) != 0)
		return fp_err_set(err, FP_EINVAL,
		                  "components: cpe '%.64s' does not start with cpe:", cpe);
	r->components_set = 1;
	if (r->n_components >= FP_DEVICE_COMPONENTS_MAX)
		return fp_err_set(err, FP_ETOOBIG, "components: at most %d components per device",
		                  FP_DEVICE_COMPONENTS_MAX);
	struct fp_component *c = realloc(r->components, (r->n_components + 1) * sizeof(*c));
	if (!c)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	r->components = c;
	struct fp_component *n = &c[r->n_components];
	memset(n, 0, sizeof(*n));
	if (dup_opt(name, &n->name) || dup_opt(version, &n->version) || dup_opt(cpe, &n->cpe) ||
	    dup_opt(purl, &n->purl)) {
		free(n->name);
		free(n->version);
		free(n->cpe);
		free(n->purl);
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	}
	r->n_components++;
	return 0;
}

static int attr_key_valid(const char *k)
{
	size_t n = strlen(k);
	if (n == 0 || n > FP_DEVICE_ATTR_KEY_MAX)
		return 0;
	if (!isalpha((unsigned char)k[0]) && k[0] != '_')
		return 0;
	for (const char *p = k; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
			return 0;
	return 1;
}

int fp_device_rec_set_attr(struct fp_device_rec *r, const char *key, const char *val,
                           struct fp_err *err)
{
	if (!attr_key_valid(key))
		return fp_err_set(
		    err, FP_EINVAL,
		    "attributes: '%.64s' is not an attribute name (a letter or _, then "
		    "letters, digits, _ or -, at most %d)",
		    key, FP_DEVICE_ATTR_KEY_MAX);
	if (!val || !fp_text_valid(val, FP_DEVICE_ATTR_VAL_MAX))
		return fp_err_set(err, FP_EINVAL,
		                  "attributes.%s: value must be text of at most %d bytes", key,
		                  FP_DEVICE_ATTR_VAL_MAX);
	r->attrs_set = 1;
	size_t i = 0;
	while (i < r->n_attrs && strcmp(r->attrs[i].key, key) < 0)
		i++;
	if (i < r->n_attrs && strcmp(r->attrs[i].key, key) == 0) {
		char *v = strdup(val);
		if (!v)
			return fp_err_set(err, FP_ENOMEM, "out of memory");
		free(r->attrs[i].val);
		r->attrs[i].val = v;
		return 0;
	}
	if (r->n_attrs >= FP_DEVICE_ATTRS_MAX)
		return fp_err_set(err, FP_ETOOBIG, "attributes: at most %d per device",
		                  FP_DEVICE_ATTRS_MAX);
	struct fp_device_attr *a = realloc(r->attrs, (r->n_attrs + 1) * sizeof(*a));
	if (!a)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	r->attrs = a;
	char *k = strdup(key), *v = strdup(val);
	if (!k || !v) {
		free(k);
		free(v);
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	}
	memmove(&a[i + 1], &a[i], (r->n_attrs - i) * sizeof(*a));
	a[i].key = k;
	a[i].val = v;
	r->n_attrs++;
	return 0;
}

static int in_list(const char *k, const char *const *list)
{
	for (; list && *list; list++)
		if (strcmp(k, *list) == 0)
			return 1;
	return 0;
}

static void clear_tags(struct fp_device_rec *r)
{
	for (size_t i = 0; i < r->n_tags; i++)
		free(r->tags[i]);
	free(r->tags);
	r->tags = NULL;
	r->n_tags = 0;
}

static int components_from_json(struct fp_device_rec *r, const json_t *arr, struct fp_err *err)
{
	if (!json_is_array(arr))
		return fp_err_set(err, FP_EINVAL, "components: expected an array of objects");
	if (json_array_size(arr) > FP_DEVICE_COMPONENTS_MAX)
		return fp_err_set(err, FP_ETOOBIG, "components: at most %d components per device",
		                  FP_DEVICE_COMPONENTS_MAX);
	r->components_set = 1;
	size_t i;
	const json_t *c;
	json_array_foreach(arr, i, c)
	{
		if (!json_is_object(c))
			return fp_err_set(err, FP_EINVAL, "components[%zu]: expected an object", i);
		const char *k;
		const json_t *v;
		const char *vals[4] = {NULL, NULL, NULL, NULL};
		static const char *const keys[4] = {"name", "version", "cpe", "purl"};
		json_object_foreach((json_t *)c, k, v)
		{
			int idx = -1;
			for (int j = 0; j < 4; j++)
				if (strcmp(k, keys[j]) == 0)
					idx = j;
			if (idx < 0)
				return fp_err_set(
				    err, FP_EINVAL,
				    "components[%zu]: unknown field '%.64s' (known: name, "
				    "version, cpe, purl)",
				    i, k);
			if (json_is_null(v))
				continue;
			if (!json_is_string(v))
				return fp_err_set(err, FP_EINVAL,
				                  "components[%zu].%s: expected a string", i, k);
			vals[idx] = json_string_value(v);
		}
		int rc = fp_device_rec_add_component(r, vals[0], vals[1], vals[2], vals[3], err);
		if (rc)
			return rc;
	}
	return 0;
}

int fp_device_rec_from_json(struct fp_device_rec *r, const json_t *obj, const char *const *readonly,
                            struct fp_err *err)
{
	if (!json_is_object(obj))
		return fp_err_set(err, FP_EINVAL, "expected a JSON object with device fields");
	const char *k;
	const json_t *v;
	int rc;
	json_object_foreach((json_t *)obj, k, v)
	{
		if (in_list(k, readonly))
			continue;
		if (strcmp(k, "tags") == 0) {
			if (!json_is_array(v))
				return fp_err_set(err, FP_EINVAL,
				                  "tags: expected an array of strings");
			clear_tags(r);
			r->tags_set = 1;
			size_t i;
			const json_t *t;
			json_array_foreach(v, i, t)
			{
				if (!json_is_string(t))
					return fp_err_set(err, FP_EINVAL,
					                  "tags[%zu]: expected a string", i);
				if ((rc = fp_device_rec_add_tag(r, json_string_value(t), err)))
					return rc;
			}
		} else if (strcmp(k, "components") == 0) {
			if ((rc = components_from_json(r, v, err)))
				return rc;
		} else if (strcmp(k, "attributes") == 0) {
			if (!json_is_object(v))
				return fp_err_set(err, FP_EINVAL,
				                  "attributes: expected an object of strings");
			if (json_object_size(v) > FP_DEVICE_ATTRS_MAX)
				return fp_err_set(err, FP_ETOOBIG,
				                  "attributes: at most %d per device",
				                  FP_DEVICE_ATTRS_MAX);
			r->attrs_set = 1;
			const char *ak;
			const json_t *av;
			json_object_foreach((json_t *)v, ak, av)
			{
				if (!json_is_string(av))
					return fp_err_set(err, FP_EINVAL,
					                  "attributes.%.64s: expected a string",
					                  ak);
				if ((rc =
				         fp_device_rec_set_attr(r, ak, json_string_value(av), err)))
					return rc;
			}
		} else if (fp_device_field_lookup(k) >= 0) {
			if (json_is_null(v)) {
				if ((rc = fp_device_rec_set(r, k, "", err)))
					return rc;
				continue;
			}
			if (!json_is_string(v))
				return fp_err_set(err, FP_EINVAL, "%.64s: expected a string", k);
			if ((rc = fp_device_rec_set(r, k, json_string_value(v), err)))
				return rc;
		} else {
			return fp_err_set(err, FP_EINVAL, "unknown device field '%.64s'", k);
		}
	}
	return 0;
}

int fp_device_rec_to_json(const struct fp_device_rec *r, json_t *obj)
{
	int rc = 0;
	for (int i = 0; i < FP_DEV_NFIELDS; i++)
		rc |= json_object_set_new(obj, field_names[i],
		                          r->f[i] ? json_string(r->f[i]) : json_null());
	json_t *tags = json_array();
	for (size_t i = 0; tags && i < r->n_tags; i++)
		rc |= json_array_append_new(tags, json_string(r->tags[i]));
	rc |= json_object_set_new(obj, "tags", tags);
	json_t *comps = json_array();
	for (size_t i = 0; comps && i < r->n_components; i++) {
		const struct fp_component *c = &r->components[i];
		json_t *o = json_object();
		rc |= json_object_set_new(o, "name", json_string(c->name));
		if (c->version)
			rc |= json_object_set_new(o, "version", json_string(c->version));
		if (c->cpe)
			rc |= json_object_set_new(o, "cpe", json_string(c->cpe));
		if (c->purl)
			rc |= json_object_set_new(o, "purl", json_string(c->purl));
		rc |= json_array_append_new(comps, o);
	}
	rc |= json_object_set_new(obj, "components", comps);
	json_t *attrs = json_object();
	for (size_t i = 0; attrs && i < r->n_attrs; i++)
		rc |= json_object_set_new(attrs, r->attrs[i].key, json_string(r->attrs[i].val));
	rc |= json_object_set_new(obj, "attributes", attrs);
	return rc ? FP_ENOMEM : 0;
}

int fp_device_rec_merge(struct fp_device_rec *dst, const struct fp_device_rec *src)
{
	for (int i = 0; i < FP_DEV_NFIELDS; i++) {
		if (!src->f[i])
			continue;
		char *c = strdup(src->f[i]);
		if (!c)
			return FP_ENOMEM;
		free(dst->f[i]);
		dst->f[i] = c;
	}
	if (src->tags_set) {
		clear_tags(dst);
		dst->tags_set = 1;
		for (size_t i = 0; i < src->n_tags; i++)
			if (fp_device_rec_add_tag(dst, src->tags[i], NULL))
				return FP_ENOMEM;
	}
	if (src->components_set) {
		free_components(dst->components, dst->n_components);
		dst->components = NULL;
		dst->n_components = 0;
		dst->components_set = 1;
		for (size_t i = 0; i < src->n_components; i++) {
			const struct fp_component *c = &src->components[i];
			if (fp_device_rec_add_component(dst, c->name, c->version, c->cpe, c->purl,
			                                NULL))
				return FP_ENOMEM;
		}
	}
	/* Free-form attributes merge key by key, as a PATCH of a map would. */
	for (size_t i = 0; i < src->n_attrs; i++)
		if (fp_device_rec_set_attr(dst, src->attrs[i].key, src->attrs[i].val, NULL))
			return FP_ENOMEM;
	return 0;
}

size_t fp_device_rec_values(const struct fp_device_rec *r, const char *name, const char **out,
                            size_t max)
{
	size_t n = 0;
	if (max == 0)
		return 0;
	if (strcmp(name, "tags") == 0 || strcmp(name, "tag") == 0) {
		for (size_t i = 0; i < r->n_tags && n < max; i++)
			out[n++] = r->tags[i];
		return n;
	}
	if (strcmp(name, "component") == 0 || strcmp(name, "components") == 0) {
		for (size_t i = 0; i < r->n_components && n < max; i++)
			out[n++] = r->components[i].name;
		return n;
	}
	if (strncmp(name, "attr.", 5) == 0) {
		for (size_t i = 0; i < r->n_attrs; i++)
			if (strcmp(r->attrs[i].key, name + 5) == 0) {
				out[0] = r->attrs[i].val;
				return 1;
			}
		return 0;
	}
	int f = fp_device_field_lookup(name);
	if (f < 0 || !r->f[f])
		return 0;
	out[0] = r->f[f];
	return 1;
}

int fp_device_attr_known(const char *name)
{
	if (strcmp(name, "tags") == 0 || strcmp(name, "tag") == 0 ||
	    strcmp(name, "component") == 0 || strcmp(name, "components") == 0)
		return 1;
	if (strncmp(name, "attr.", 5) == 0)
		return attr_key_valid(name + 5);
	return fp_device_field_lookup(name) >= 0;
}

int fp_device_rec_derive_identity(struct fp_device_rec *r, struct fp_err *err)
{
	if (r->f[FP_DEV_IDENTITY])
		return 0;
	static const struct {
		enum fp_device_field f;
		const char *prefix;
	} order[] = {{FP_DEV_SERIAL, "serial:"}, {FP_DEV_MAC, "mac:"}, {FP_DEV_IP, "ip:"}};
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const char *v = r->f[order[i].f];
		if (!v)
			continue;
		char id[FP_DEVICE_STR_MAX + 1];
		int n = snprintf(id, sizeof(id), "%s%s", order[i].prefix, v);
		if (n < 0 || (size_t)n >= sizeof(id))
			return fp_err_set(err, FP_EINVAL, "identity: derived identity is too long");
		return fp_device_rec_set(r, "identity", id, err);
	}
	return fp_err_set(err, FP_EINVAL, "no identity: need one of identity, serial, mac, ip");
}

static int cmp_component(const void *a, const void *b)
{
	const struct fp_component *x = *(const struct fp_component *const *)a;
	const struct fp_component *y = *(const struct fp_component *const *)b;
	int r = strcmp(x->name, y->name);
	const char *const xv[3] = {x->version, x->cpe, x->purl};
	const char *const yv[3] = {y->version, y->cpe, y->purl};
	for (int i = 0; r == 0 && i < 3; i++)
		r = strcmp(xv[i] ? xv[i] : "", yv[i] ? yv[i] : "");
	return r;
}

static int hash_str(EVP_MD_CTX *ctx, const char *s, char sep)
{
	return EVP_DigestUpdate(ctx, s ? s : "", s ? strlen(s) : 0) == 1 &&
	       EVP_DigestUpdate(ctx, &sep, 1) == 1;
}

int fp_device_config_key(const struct fp_device_rec *r, char out[65])
{
	static const enum fp_device_field fields[] = {FP_DEV_MANUFACTURER, FP_DEV_MODEL,
	                                              FP_DEV_HW_REVISION,  FP_DEV_FIRMWARE,
	                                              FP_DEV_PLATFORM,     FP_DEV_OS_VERSION};
	const struct fp_component **sorted = NULL;
	int rc = FP_ENOMEM;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	/* Unit separators keep ("ab","c") and ("a","bc") apart. */
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (!hash_str(ctx, r->f[fields[i]], 0x1f))
			goto out;
	if (r->n_components) {
		sorted = malloc(r->n_components * sizeof(*sorted));
		if (!sorted)
			goto out;
		for (size_t i = 0; i < r->n_components; i++)
			sorted[i] = &r->components[i];
		qsort(sorted, r->n_components, sizeof(*sorted), cmp_component);
	}
	for (size_t i = 0; i < r->n_components; i++) {
		const struct fp_component *c = sorted[i];
		if (!hash_str(ctx, c->name, 0x1f) || !hash_str(ctx, c->version, 0x1f) ||
		    !hash_str(ctx, c->cpe, 0x1f) || !hash_str(ctx, c->purl, 0x1e))
			goto out;
	}
	unsigned char md[32];
	unsigned int len = 0;
	if (EVP_DigestFinal_ex(ctx, md, &len) != 1 || len != 32)
		goto out;
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	rc = 0;
out:
	free(sorted);
	EVP_MD_CTX_free(ctx);
	return rc;
}
