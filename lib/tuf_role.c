/*
 * tuf_role.c — one document against one role of a root (tuf_role.h).
 */
#include "fleetpatch/tuf_role.h"

#include <stdlib.h>
#include <string.h>

#include "fleetpatch/cjson.h"
#include "fleetpatch/tuf.h"

int fp_tuf_role_has_key(const json_t *root_signed, const char *role, const char *keyid)
{
	const json_t *ids =
	    json_object_get(json_object_get(json_object_get(root_signed, "roles"), role), "keyids");
	size_t i;
	const json_t *id;
	json_array_foreach(ids, i, id)
	{
		if (json_is_string(id) && strcmp(json_string_value(id), keyid) == 0)
			return 1;
	}
	return 0;
}

int fp_tuf_role_check(const json_t *root_signed, const char *role, const json_t *md, int *valid,
                      int *threshold, struct fp_err *err)
{
	const json_t *r = json_object_get(json_object_get(root_signed, "roles"), role);
	const json_t *keys = json_object_get(root_signed, "keys");
	const json_t *thr = json_object_get(r, "threshold");
	const json_t *s = json_object_get(md, "signed"), *sigs = json_object_get(md, "signatures");
	char *canon = NULL;
	size_t clen = 0;
	int n = 0, foreign = 0, rc;
	if (valid)
		*valid = 0;
	if (!json_is_object(r) || !json_is_integer(thr) || json_integer_value(thr) < 1 ||
	    !json_is_object(keys))
		return fp_err_set(err, FP_EINVAL, "root: no usable \"%s\" role", role);
	if (threshold)
		*threshold = (int)json_integer_value(thr);
	if (!json_is_object(s) || !json_is_array(sigs))
		return fp_err_set(err, FP_EINVAL,
		                  "%s: expected {\"signed\": {...}, \"signatures\": [...]}", role);
	if ((rc = fp_cjson_encode(s, &canon, &clen, err)))
		return rc;
	size_t nsig = json_array_size(sigs);
	char **seen = calloc(nsig + 1, sizeof(*seen));
	if (!seen) {
		free(canon);
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	}
	size_t nseen = 0, i;
	const json_t *sig;
	json_array_foreach(sigs, i, sig)
	{
		const char *kid = json_string_value(json_object_get(sig, "keyid"));
		const char *hex = json_string_value(json_object_get(sig, "sig"));
		if (!kid || !hex)
			continue;
		if (!fp_tuf_role_has_key(root_signed, role, kid)) {
			foreign++;
			continue;
		}
		int dup = 0;
		for (size_t j = 0; j < nseen; j++)
			if (strcmp(seen[j], kid) == 0)
				dup = 1;
		const json_t *key = json_object_get(keys, kid);
		if (dup || !key || fp_tuf_verify_sig(key, canon, clen, hex, NULL) != 0)
			continue;
		seen[nseen++] = (char *)kid;
		n++;
	}
	free(seen);
	free(canon);
	if (valid)
		*valid = n;
	if (n < json_integer_value(thr))
		return fp_err_set(
		    err, FP_EAUTH, "%s: %d valid signature(s) by %s keys, the threshold is %lld%s",
		    role, n, role, (long long)json_integer_value(thr),
		    foreign ? " (signatures by keys that are not the role's do not count)" : "");
	return 0;
}
