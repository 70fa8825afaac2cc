/*
 * director_verify.c — `fleetpatch-agent director-verify`: checks one signed
 * director assignment (docs/design/director.md) the way the device agent
 * does before it acts on it, so that operators and tests can run the real
 * verifier on a document:
 *
 *   fleetpatch-agent director-verify --key DIRECTOR.pub --device ID
 *                                    [--min-version N] [--hardware MODEL] FILE
 *
 * The decisions are lib/director's fp_director_verify() (signature by the
 * pinned key, device, expiry, replay of a lower version); --hardware adds
 * the check that MODEL is among the assigned target's custom.hardware. On
 * success the verified "signed" object is printed as one line of JSON.
 */
#include "agent.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fleetpatch/director.h"
#include "fleetpatch/tuf.h"

#define DV_KEY_PEM_MAX 8192 /* bytes of the director's public key file */

static const char dv_usage[] =
    "usage: fleetpatch-agent director-verify --key DIRECTOR.pub --device ID\n"
    "                                        [--min-version N] [--hardware MODEL] FILE\n"
    "\n"
    "Verifies the signed director assignment in FILE: a valid signature by the pinned\n"
    "director key (a PEM public key, as GET /api/v1/repo/keys gives it), made for\n"
    "device ID, not expired, and a version not lower than N (the highest version the\n"
    "device accepted before; default 0). With --hardware, the assigned target's\n"
    "custom.hardware must list MODEL. Prints the verified \"signed\" object as JSON.\n"
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

/* MODEL must be one of the target's compatible hardware types. */
static int check_hardware(const struct fp_director_assignment *a, const char *model,
                          struct fp_err *err)
{
	if (!a->target)
		return 0; /* nothing to install, nothing to check */
	const json_t *hw = json_object_get(json_object_get(a->target, "custom"), "hardware");
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
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *key_path = NULL, *device = NULL, *hardware = NULL;
	long long min_version = 0;
	char *pem = NULL, *doc = NULL, *end, *out = NULL;
	size_t pem_len = 0, doc_len = 0;
	json_t *key = NULL, *md = NULL;
	char keyid[FP_TUF_KEYID_LEN + 1];
	struct fp_director_assignment a;
	struct fp_err err = {0};
	int o, rc;
	optind = 1;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'k': key_path = optarg; break;
		case 'd': device = optarg; break;
		case 'w': hardware = optarg; break;
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
	if (rc == 0 && hardware)
		rc = check_hardware(&a, hardware, &err);
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
	json_decref(key);
	free(doc);
	free(pem);
	return rc ? 1 : 0;
}
