/*
 * device.h — one device's inventory record, validated attribute by attribute.
 *
 * Every path that creates or changes a device (API bodies, CSV, JSON, nmap,
 * DHCP and MDM imports, agent inventory reports) goes through
 * fp_device_rec_set(), so the caps and value rules live in one place.
 * Attribute names are the API's JSON field names; see fp_device_attr_names.
 */
#ifndef FLEETPATCH_DEVICE_H
#define FLEETPATCH_DEVICE_H

#include <stddef.h>
#include <jansson.h>

#include "fleetpatch/err.h"

#define FP_DEVICE_STR_MAX        256  /* bytes in one scalar attribute value */
#define FP_DEVICE_TAGS_MAX       32   /* tags on one device */
#define FP_DEVICE_TAG_MAX        64   /* bytes in one tag */
#define FP_DEVICE_COMPONENTS_MAX 4096 /* installed components on one device */
#define FP_DEVICE_ATTRS_MAX      64   /* free-form attributes on one device */
#define FP_DEVICE_ATTR_KEY_MAX   64   /* bytes in a free-form attribute name */
#define FP_DEVICE_ATTR_VAL_MAX   1024 /* bytes in a free-form attribute value */

/* The scalar attributes, in the order of the API reference. */
enum fp_device_field {
	FP_DEV_IDENTITY,
	FP_DEV_NAME,
	FP_DEV_SERIAL,
	FP_DEV_MANUFACTURER,
	FP_DEV_MODEL,
	FP_DEV_HW_REVISION,
	FP_DEV_FIRMWARE,
	FP_DEV_PLATFORM,
	FP_DEV_OS_VERSION,
	FP_DEV_PATCH_LEVEL,
	FP_DEV_UPDATE_MECHANISM,
	FP_DEV_IP,
	FP_DEV_MAC,
	FP_DEV_MAC_VENDOR,
	FP_DEV_HOSTNAME,
	FP_DEV_NETWORK,
	FP_DEV_CRITICALITY,
	FP_DEV_EXPOSURE,
	FP_DEV_OWNER,
	FP_DEV_EOL_DATE,
	FP_DEV_NFIELDS
};

/* One installed component (package, library, service) of a device. */
struct fp_component {
	char *name;    /* owned; required */
	char *version; /* owned; may be NULL */
	char *cpe;     /* owned; CPE 2.3 formatted string, may be NULL */
	char *purl;    /* owned; package URL, may be NULL */
};

struct fp_device_attr {
	char *key; /* owned */
	char *val; /* owned */
};

/*
 * A device record. Zero-initialise it (or call fp_device_rec_init), fill it
 * with fp_device_rec_set / fp_device_rec_add_* and release it with
 * fp_device_rec_free. A NULL scalar means "not known"; a record used as a
 * change (PATCH, re-import) only overwrites the fields it has.
 */
struct fp_device_rec {
	char *f[FP_DEV_NFIELDS]; /* owned scalar values, indexed by enum fp_device_field */
	char **tags;             /* owned */
	size_t n_tags;
	int tags_set;                    /* 1 when the record carries a tag list (possibly empty) */
	struct fp_component *components; /* owned */
	size_t n_components;
	int components_set;
	struct fp_device_attr *attrs; /* owned free-form attributes, sorted by key */
	size_t n_attrs;
	int attrs_set;
};

void fp_device_rec_init(struct fp_device_rec *r);
void fp_device_rec_free(struct fp_device_rec *r);

/* The JSON field name of a scalar field ("firmware_version" for FP_DEV_FIRMWARE). */
const char *fp_device_field_name(enum fp_device_field f);

/* Looks a field up by JSON name or alias ("firmware"); returns -1 when unknown. */
int fp_device_field_lookup(const char *name);

/*
 * Sets scalar attribute `name` (a JSON field name or alias) to value after
 * validating it: UTF-8, no control characters, length caps, and per-field rules
 * (exposure is internet|internal|isolated, criticality low|medium|high|critical,
 * eol_date and patch_level are YYYY-MM-DD, mac is normalised to lower-case
 * aa:bb:cc:dd:ee:ff, ip must parse as IPv4/IPv6). An empty value clears the
 * field. On error the record is unchanged.
 */
int fp_device_rec_set(struct fp_device_rec *r, const char *name, const char *value,
                      struct fp_err *err) FP_WUR;

/* Adds a tag (deduplicated); validates charset and caps. */
int fp_device_rec_add_tag(struct fp_device_rec *r, const char *tag, struct fp_err *err) FP_WUR;

/* Adds an installed component; name required, others may be NULL. */
int fp_device_rec_add_component(struct fp_device_rec *r, const char *name, const char *version,
                                const char *cpe, const char *purl, struct fp_err *err) FP_WUR;

/* Sets free-form attribute key to val (replacing an existing one). */
int fp_device_rec_set_attr(struct fp_device_rec *r, const char *key, const char *val,
                           struct fp_err *err) FP_WUR;

/*
 * Fills r from a JSON object with the API's device fields. Unknown fields,
 * wrong types and invalid values are errors that name the field. Fields in
 * `readonly` (NULL-terminated list, may be NULL) are ignored when present
 * (the server's own fields such as id, status, first_seen).
 */
int fp_device_rec_from_json(struct fp_device_rec *r, const json_t *obj, const char *const *readonly,
                            struct fp_err *err) FP_WUR;

/* Adds r's known fields to obj (NULL fields are written as null). */
int fp_device_rec_to_json(const struct fp_device_rec *r, json_t *obj) FP_WUR;

/* Copies every field that src has into dst (the merge of a change into a record). */
int fp_device_rec_merge(struct fp_device_rec *dst, const struct fp_device_rec *src) FP_WUR;

/*
 * Gives the values of attribute `name` for filter expressions: a scalar field
 * (by name or alias) yields one value, "tags" each tag, "component" each
 * component name, "attr.KEY" a free-form attribute. Returns how many values
 * were written to out (at most max); 0 when the device has none.
 * The strings are borrowed from r.
 */
size_t fp_device_rec_values(const struct fp_device_rec *r, const char *name, const char **out,
                            size_t max);

/* 1 if `name` is an attribute that fp_device_rec_values knows, else 0. */
int fp_device_attr_known(const char *name);

/*
 * Gives r an identity when it has none, from the first of serial, mac and ip
 * ("serial:…", "mac:…", "ip:…"), so re-imports of the same device match.
 * FP_EINVAL when none is known.
 */
int fp_device_rec_derive_identity(struct fp_device_rec *r, struct fp_err *err) FP_WUR;

/*
 * The device's inventory configuration: SHA-256 (hex) over manufacturer,
 * model, hardware revision, firmware, platform, OS version and the sorted
 * component list. Devices with the same key are assessed once.
 */
int fp_device_config_key(const struct fp_device_rec *r, char out[65]) FP_WUR;

/* Validates a UTF-8 string of at most max bytes with no control characters. */
int fp_text_valid(const char *s, size_t max);

#endif
