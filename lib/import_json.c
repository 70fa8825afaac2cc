/*
 * import_json.c — device records as JSON: an array of device objects, or an
 * object {"devices": [...]} (other members of that object are ignored).
 *
 * Each object uses the API's device fields (fp_device_rec_from_json); a bad
 * object is a rejected row numbered by its 1-based position in the array.
 * Nesting is checked before jansson parses, so a deeply nested file costs
 * one linear scan and no recursion.
 */
#include <string.h>

#include "fleetpatch/json_depth.h"
#include "import_int.h"

/* Finds the first place where arrays and objects nest deeper than the cap. */
static int check_depth(const char *d, size_t len, struct fp_err *err)
{
	return fp_json_check_depth(d, len, FP_IMPORT_JSON_DEPTH_MAX, err);
}

int fp__import_json(struct fp__import_ctx *c, const char *data, size_t len, struct fp_err *err)
{
	json_error_t je;
	json_t *root = NULL;
	const json_t *arr;
	int rc;
	if ((rc = check_depth(data, len, err)) != 0)
		return rc;
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return fp_err_set(err, FP_EINVAL, "line %d, column %d: %s", je.line, je.column,
		                  je.text);
	arr = root;
	if (json_is_object(root))
		arr = json_object_get(root, "devices");
	if (!json_is_array(arr)) {
		rc = fp_err_set(err, FP_EINVAL,
		                "line 1: expected an array of device objects or an object "
		                "{\"devices\": [...]}");
		goto out;
	}
	if (json_array_size(arr) > FP_IMPORT_ROWS_MAX) {
		rc = fp_err_set(err, FP_ETOOBIG,
		                "line 1: more than %d devices in one file; split it",
		                FP_IMPORT_ROWS_MAX);
		goto out;
	}
	size_t i;
	const json_t *o;
	json_array_foreach(arr, i, o)
	{
		struct fp_device_rec rec;
		struct fp_err e;
		fp_device_rec_init(&rec);
		if (!json_is_object(o)) {
			rc = fp__import_reject(c, i + 1, err,
			                       "expected a JSON object with device fields");
		} else if ((rc = fp_device_rec_from_json(&rec, o, NULL, &e)) != 0) {
			fp_device_rec_free(&rec);
			rc = rc == FP_ENOMEM ? fp_err_set(err, rc, "out of memory")
			                     : fp__import_reject(c, i + 1, err, "%s", e.msg);
		} else {
			rc = fp__import_add(c, i + 1, &rec, err);
		}
		if (rc)
			goto out;
	}
out:
	json_decref(root);
	return rc;
}
