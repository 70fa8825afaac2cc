/*
 * platform.c — a device's CPE set from its inventory (see platform.h).
 */
#include "fleetpatch/platform.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void fp_platform_free(struct fp_cpe *cpes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fp_cpe_free(&cpes[i]);
	free(cpes);
}

/* NVD's spelling of a vendor or product: lower case, spaces as underscores. */
static void cpe_word(const char *in, char *out, size_t n)
{
	size_t o = 0;
	for (; *in && o + 1 < n; in++)
		out[o++] = *in == ' ' ? '_' : (char)tolower((unsigned char)*in);
	out[o] = '\0';
}

/* A name may appear twice (two components with one CPE); matching does not mind,
 * and checking every pair would cost more than it saves. */
static void add(struct fp_cpe *set, size_t *n, struct fp_cpe *c)
{
	set[(*n)++] = *c;
}

static int derived_os(const struct fp_device_rec *r, struct fp_cpe *c, struct fp_err *err,
                      int *made)
{
	const char *platform = r->f[FP_DEV_PLATFORM], *osv = r->f[FP_DEV_OS_VERSION];
	*made = 0;
	if (!platform || !osv)
		return 0;
	const char *vendor = NULL, *product = NULL;
	if (strcasecmp(platform, "android") == 0) {
		vendor = "google";
		product = "android";
	} else if (strcasecmp(platform, "ios") == 0) {
		vendor = "apple";
		product = "iphone_os";
	} else if (strcasecmp(platform, "ipados") == 0) {
		vendor = "apple";
		product = "ipados";
	}
	if (!vendor)
		return 0;
	*made = 1;
	return fp_cpe_make(c, 'o', vendor, product, osv, err);
}

int fp_platform_cpes(const struct fp_device_rec *r, const struct fp_platform_map *map,
                     struct fp_cpe **out, size_t *n, struct fp_err *err)
{
	size_t n_extra = map ? map->n_extra : 0;
	struct fp_cpe *set = calloc(r->n_components + n_extra + 3, sizeof(*set));
	size_t k = 0;
	int rc = 0;
	if (!set)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	const char *fw = r->f[FP_DEV_FIRMWARE];
	const char *vendor_in = r->f[FP_DEV_MANUFACTURER], *model_in = r->f[FP_DEV_MODEL];
	struct fp_cpe c;
	int made = 0;
	if (map && map->firmware_cpe && fw) {
		if ((rc = fp_cpe_parse(map->firmware_cpe, &c, err)))
			goto fail;
		if ((rc = fp_cpe_set(&c, FP_CPE_VERSION, fw, err))) {
			fp_cpe_free(&c);
			goto fail;
		}
		add(set, &k, &c);
	} else if ((rc = derived_os(r, &c, err, &made))) {
		goto fail;
	} else if (made) {
		add(set, &k, &c);
	} else if (vendor_in && model_in && fw) {
		char vendor[FP_DEVICE_STR_MAX + 1], product[FP_DEVICE_STR_MAX + 16];
		cpe_word(vendor_in, vendor, sizeof(vendor));
		cpe_word(model_in, product, sizeof(product) - 9);
		size_t pl = strlen(product);
		memcpy(product + pl, "_firmware", 10);
		if ((rc = fp_cpe_make(&c, 'o', vendor, product, fw, err)))
			goto fail;
		add(set, &k, &c);
	}
	if (map && map->hardware_cpe) {
		if ((rc = fp_cpe_parse(map->hardware_cpe, &c, err)))
			goto fail;
		add(set, &k, &c);
	} else if (vendor_in && model_in) {
		char vendor[FP_DEVICE_STR_MAX + 1], product[FP_DEVICE_STR_MAX + 1];
		cpe_word(vendor_in, vendor, sizeof(vendor));
		cpe_word(model_in, product, sizeof(product));
		if ((rc = fp_cpe_make(&c, 'h', vendor, product, "-", err)))
			goto fail;
		add(set, &k, &c);
	}
	for (size_t i = 0; i < r->n_components + n_extra; i++) {
		const struct fp_component *comp =
		    i < r->n_components ? &r->components[i] : &map->extra[i - r->n_components];
		if (!comp->cpe)
			continue;
		if ((rc = fp_cpe_parse(comp->cpe, &c, err)))
			goto fail;
		if (c.kind[FP_CPE_VERSION] == FP_CPE_ANY && comp->version &&
		    (rc = fp_cpe_set(&c, FP_CPE_VERSION, comp->version, err))) {
			fp_cpe_free(&c);
			goto fail;
		}
		add(set, &k, &c);
	}
	*out = set;
	*n = k;
	return 0;
fail:
	fp_platform_free(set, k);
	return rc;
}
