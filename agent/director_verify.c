/*
 * director_verify.c — `fleetpatch-agent director-verify`: checks one signed
 * director assignment (docs/design/director.md) the way the device agent
 * does before it acts on it, so that operators and tests can run the real
 * verifier on a document:
 *
 *   fleetpatch-agent director-verify --key DIRECTOR.pub --device ID
 *                                    [--min-version N] [--targets TARGETS.json]
 *                                    [--hardware MODEL] FILE
 *
 * The decisions are lib/director's fp_director_verify() (signature by the
 * pinned key, device, expiry, replay of a lower version). --targets adds
 * the Uptane rule that the director and the offline-signed targets agree:
 * the assigned target must be listed there with the same length and hashes.
 * --hardware adds the check that MODEL is among the target's
 * custom.hardware, taken from TARGETS.json when given (the director signs
 * online, so its own copy of the list is only trusted without --targets).
 * On success the verified "signed" object is printed as one line of JSON.
 */
#include "agent.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fleetpatch/cjson.h"
#include "fleetpatch/director.h"
#include "fleetpatch/tuf.h"

#define DV_KEY_PEM_MAX 8192 /* bytes of the director's public key file */

static const char dv_usage[] =
    "usage: fleetpatch-agent director-verify --key DIRECTOR.pub --device ID\n"
    "                                        [--min-version N] [--targets TARGETS.json]\n"
    "                                        [--hardware MODEL] FILE\n"
    "\n"
    "Verifies the signed director assignment in FILE: a valid signature by the pinned\n"
    "director key (a PEM public key, as GET /api/v1/repo/keys gives it), made for\n"
    "device ID, not expired, and a version not lower than N (the highest version the\n"
    "device accepted before; default 0). With --targets (the targets.json that\n"
    "'fleetpatch-agent tuf' verified and stored), the assigned target must be listed\n"
    "there with the same length and hashes. With --hardware, the target's\n"
    "custom.hardware (from TARGETS.json when given) must list MODEL.\n"
    "Prints the verified \"signed\" object as JSON.\n"
    "Exit status: 0 valid, 1 refused (the reason on stderr), 2 usage error.\n";

/* Reads at most cap bytes of path; one byte more means "too big" to the caller. */
static int read_file(const char *path, size_t cap, char **buf, size_t *len, struct fp_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return fp_err_set(err, FP_EIO, "%s: %s", path, strerror(errno));
	char *p = malloc(cap + 2);
	size_t n = p ? fread(p, 1, cap + 1, f) : 0;
	int bad = ferror(f);
	fclose(f);
	if (!p)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	if (bad) {
		free(p);
		return fp_err_set(err, FP_EIO, "%s: read error", path);
	}
	p[n] = '\0';
	*buf = p;
	*len = n;
	return 0;
}

/*
 * The assigned target must be in the trusted targets metadata with the same
 * length and hashes; *entry borrows that entry from targets.
 */
static int check_targets(const struct fp_director_assignment *a, const json_t *targets,
                         const json_t **entry, struct fp_err *err)
{
	const json_t *t = json_object_get(
	    json_object_get(json_object_get(targets, "signed"), "targets"), a->target_name);
	if (!t)
		return fp_err_set(err, FP_EAUTH,
		                  "director: target %.200s is not in the trusted targets metadata",
		                  a->target_name);
	if (!json_equal(json_object_get(t, "length"), json_object_get(a->target, "length")) ||
	    !json_equal(json_object_get(t, "hashes"), json_object_get(a->target, "hashes")))
		return fp_err_set(
		    err, FP_EAUTH,
		    "director: target %.200s differs from the trusted targets metadata "
		    "(length or hashes)",
		    a->target_name);
	*entry = t;
	return 0;
}

/* MODEL must be one of the target's compatible hardware types (target: a TUF targets entry). */
static int check_hardware(const struct fp_director_assignment *a, const json_t *target,
                          const char *model, struct fp_err *err)
{
	const json_t *hw = json_object_get(json_object_get(target, "custom"), "hardware");
	size_t i;
	const json_t *v;
	json_array_foreach(hw, i, v)
	{
		if (json_is_string(v) && strcmp(json_string_value(v), model) == 0)
			return 0;
	}
	return fp_err_set(err, FP_EPERM,
	                  "director: target %.200s is not for hardware '%.128s' (its "
	                  "custom.hardware does not list it)",
	                  a->target_name ? a->target_name : "?", model);
}

int agent_director_verify_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"key", required_argument, NULL, 'k'},
	    {"device", required_argument, NULL, 'd'},
	    {"min-version", required_argument, NULL, 'm'},
	    {"hardware", required_argument, NULL, 'w'},
	    {"targets", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *key_path = NULL, *device = NULL, *hardware = NULL, *targets_path = NULL;
	long long min_version = 0;
	char *pem = NULL, *doc = NULL, *end, *out = NULL;
	size_t pem_len = 0, doc_len = 0;
	json_t *key = NULL, *md = NULL, *targets = NULL;
	const json_t *entry;
	char keyid[FP_TUF_KEYID_LEN + 1];
	struct fp_director_assignment a = {0};
	struct fp_err err = {0};
	int o, rc;
	optind = 1;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'k': key_path = optarg; break;
		case 'd': device = optarg; break;
		case 'w': hardware = optarg; break;
		case 't': targets_path = optarg; break;
		case 'm':
			errno = 0;
			min_version = strtoll(optarg, &end, 10);
			if (errno || end == optarg || *end || min_version < 0) {
				fputs(dv_usage, stderr);
				return 2;
			}
			break;
		case 'h': fputs(dv_usage, stdout); return 0;
		default: fputs(dv_usage, stderr); return 2;
		}
	}
	if (!key_path || !device || optind != argc - 1) {
		fputs(dv_usage, stderr);
		return 2;
	}
	rc = read_file(key_path, DV_KEY_PEM_MAX, &pem, &pem_len, &err);
	if (rc == 0 && pem_len > DV_KEY_PEM_MAX)
		rc = fp_err_set(&err, FP_ETOOBIG, "%s is larger than %d bytes", key_path,
		                DV_KEY_PEM_MAX);
	if (rc == 0)
		rc = fp_tuf_key_from_pem(pem, &key, keyid, &err);
	/* One byte over the cap is read so that the verifier reports the cap. */
	if (rc == 0)
		rc = read_file(argv[optind], FP_DIRECTOR_DOC_MAX, &doc, &doc_len, &err);
	if (rc == 0)
		rc = fp_director_verify(doc, doc_len, key, device, (int64_t)min_version,
		                        (int64_t)time(NULL), &md, &a, &err);
	entry = a.target;
	if (rc == 0 && a.target && targets_path) {
		char *tbuf = NULL;
		size_t tlen = 0;
		rc = read_file(targets_path, FP_TUF_TARGETS_MAX, &tbuf, &tlen, &err);
		if (rc == 0)
			rc = fp_cjson_load(tbuf, tlen, FP_TUF_TARGETS_MAX, &targets, &err);
		free(tbuf);
		if (rc == 0)
			rc = check_targets(&a, targets, &entry, &err);
	}
	/* An assignment of nothing has no hardware to check. */
	if (rc == 0 && a.target && hardware)
		rc = check_hardware(&a, entry, hardware, &err);
	if (rc == 0) {
		out = json_dumps(json_object_get(md, "signed"), JSON_COMPACT | JSON_SORT_KEYS);
		if (!out)
			rc = fp_err_set(&err, FP_ENOMEM, "out of memory");
	}
	if (rc)
		fprintf(stderr, "fleetpatch-agent director-verify: %s\n", err.msg);
	else
		printf("%s\n", out);
	free(out);
	json_decref(md);
	json_decref(targets);
	json_decref(key);
	free(doc);
	free(pem);
	return rc ? 1 : 0;
}
