/*
 * fuzz_filter.c — libFuzzer target for the filter-expression parser.
 *
 * Any input that parses must print to a canonical text no longer than the
 * input, that canonical text must parse again and print identically, and both
 * filters must agree on a fixed device and on an empty one. Violations abort.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fleetpatch/device.h"
#include "fleetpatch/filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t device_values(const void *subject, const char *name, const char **out, size_t max)
{
	return fp_device_rec_values(subject, name, out, max);
}

/* The subjects, built once and kept for the life of the process. */
static struct fp_device_rec dev, empty;

static void make_devices(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	fp_device_rec_init(&empty);
	fp_device_rec_init(&dev);
	if (fp_device_rec_set(&dev, "model", "archer-c7", NULL) ||
	    fp_device_rec_set(&dev, "firmware", "1.1.9", NULL) ||
	    fp_device_rec_set(&dev, "exposure", "internet", NULL) ||
	    fp_device_rec_set(&dev, "eol_date", "2024-05-01", NULL) ||
	    fp_device_rec_add_tag(&dev, "lab", NULL) || fp_device_rec_add_tag(&dev, "prod", NULL) ||
	    fp_device_rec_add_component(&dev, "busybox", "1.36", NULL, NULL, NULL) ||
	    fp_device_rec_set_attr(&dev, "rack", "r12", NULL))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	make_devices();
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	struct fp_filter *f = NULL, *g = NULL, *k = NULL;
	char *s1 = NULL, *s2 = NULL;
	struct fp_err err;
	int rc = fp_filter_parse(text, NULL, &f, &err);
	int rck = fp_filter_parse(text, fp_device_attr_known, &k, &err);
	/* A validator can only turn success into failure, never the reverse. */
	if (rc != 0 && rck == 0)
		abort();
	if (rc != 0) {
		if (f || rc > 0)
			abort();
		goto out;
	}
	if (fp_filter_to_string(f, &s1) != 0)
		abort();
	if (strlen(s1) > strlen(text))
		abort();
	if (fp_filter_parse(s1, NULL, &g, &err) != 0)
		abort();
	if (fp_filter_to_string(g, &s2) != 0 || strcmp(s1, s2) != 0)
		abort();
	if (fp_filter_eval(f, device_values, &dev) != fp_filter_eval(g, device_values, &dev) ||
	    fp_filter_eval(f, device_values, &empty) != fp_filter_eval(g, device_values, &empty))
		abort();
	if (k && fp_filter_eval(k, device_values, &dev) != fp_filter_eval(f, device_values, &dev))
		abort();
out:
	free(s1);
	free(s2);
	fp_filter_free(f);
	fp_filter_free(g);
	fp_filter_free(k);
	free(text);
	return 0;
}
