/*
 * sbom.c — CycloneDX and SPDX JSON bills of materials, and CycloneDX VEX.
 *
 * Both parsers share one way of reading JSON: the nesting depth is checked by
 * a linear scan before jansson sees the text (so a hostile document costs no
 * recursion), duplicate keys are rejected, every member that is read must
 * have its schema type, and every error message names the JSON path of the
 * offending member. Members that are not read are ignored, so newer
 * producers that add fields still parse. Results are built in zeroed
 * arrays whose counts grow before an entry is filled, so one free function
 * cleans up after a failure at any point.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "fleetpatch/json_depth.h"
#include "fleetpatch/sbom.h"

#define PATH_MAX_LEN      256  /* bytes of a JSON path in an error message */
#define SPDX_SUBJECTS_MAX 1000 /* described SPDX elements; keeps the lookup linear */

/* ---- JSON helpers shared by the SBOM and VEX parsers ---- */

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "an unknown value";
}

static int wrong_type(struct fp_err *err, const char *path, const char *key, const char *want,
                      const json_t *v)
{
	return fp_err_set(err, FP_EINVAL, "%s%s%s: expected %s, found %s", path, *path ? "." : "",
	                  key, want, type_name(v));
}

/* Finds the first place where arrays and objects nest deeper than the cap. */
static int check_depth(const char *d, size_t len, struct fp_err *err)
{
	return fp_json_check_depth(d, len, FP_SBOM_MAX_DEPTH, err);
}

/* Names the formats we do not read but can recognise, so the user knows what to export. */
static int sniff_other_format(const char *d, size_t len, struct fp_err *err)
{
	size_t i = 0;
	while (i < len && isspace((unsigned char)d[i]))
		i++;
	if (i < len && d[i] == '<')
		return fp_err_set(err, FP_EUNSUPP,
		                  "the document is XML; only CycloneDX and SPDX JSON are read, "
		                  "export the SBOM as JSON");
	if (len - i >= 12 && strncmp(d + i, "SPDXVersion:", 12) == 0)
		return fp_err_set(err, FP_EUNSUPP,
		                  "the document is SPDX tag-value; only SPDX JSON is read, "
		                  "convert it to JSON");
	return 0;
}

static int load(const char *data, size_t len, json_t **root, struct fp_err *err)
{
	json_error_t je;
	int rc;
	*root = NULL;
	if (!data && len)
		return fp_err_set(err, FP_EINVAL, "no document given");
	if (len > FP_SBOM_MAX_BYTES)
		return fp_err_set(err, FP_ETOOBIG,
		                  "the document has %zu bytes; at most %u are read, split it", len,
		                  FP_SBOM_MAX_BYTES);
	if ((rc = sniff_other_format(data, len, err)) != 0)
		return rc;
	if ((rc = check_depth(data, len, err)) != 0)
		return rc;
	*root = json_loadb(data ? data : "", len, JSON_REJECT_DUPLICATES, &je);
	if (!*root)
		return fp_err_set(err, FP_EINVAL, "line %d, column %d: %s", je.line, je.column,
		                  je.text);
	if (!json_is_object(*root)) {
		rc = fp_err_set(err, FP_EINVAL,
		                "expected a JSON object (a CycloneDX or SPDX document), found %s",
		                type_name(*root));
		json_decref(*root);
		*root = NULL;
		return rc;
	}
	return 0;
}

/*
 * Copies the string member key of o into *out (NULL when absent). A member
 * of another type is an error naming path.key; so is a missing or empty
 * member when required.
 */
static int get_str(const json_t *o, const char *path, const char *key, int required, char **out,
                   struct fp_err *err)
{
	const json_t *v = json_object_get(o, key);
	*out = NULL;
	if (!v) {
		if (required)
			return fp_err_set(err, FP_EINVAL, "%s%s%s: missing; it is required", path,
			                  *path ? "." : "", key);
		return 0;
	}
	if (!json_is_string(v))
		return wrong_type(err, path, key, "a string", v);
	if (required && json_string_length(v) == 0)
		return fp_err_set(err, FP_EINVAL, "%s%s%s: empty; it is required", path,
		                  *path ? "." : "", key);
	*out = strdup(json_string_value(v));
	if (!*out)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	return 0;
}

/* Returns member key of o if it is of type want (or absent: *out NULL); else an error. */
static int get_typed(const json_t *o, const char *path, const char *key, json_type want,
                     const json_t **out, struct fp_err *err)
{
	static const char *const names[] = {
	    [JSON_OBJECT] = "an object", [JSON_ARRAY] = "an array", [JSON_STRING] = "a string"};
	const json_t *v = json_object_get(o, key);
	*out = NULL;
	if (!v)
		return 0;
	if (json_typeof(v) != want)
		return wrong_type(err, path, key, names[want], v);
	*out = v;
	return 0;
}

/* Reads a specVersion of the form "1.N" with lo <= N <= hi. */
static int cdx_header(const json_t *root, int lo, int hi, char spec[16], long *bom_version,
                      char **serial, struct fp_err *err)
{
	const json_t *v = json_object_get(root, "specVersion");
	const char *s;
	if (!v)
		return fp_err_set(err, FP_EINVAL, "specVersion: missing; CycloneDX requires it");
	if (!json_is_string(v))
		return wrong_type(err, "", "specVersion", "a string", v);
	s = json_string_value(v);
	if (strlen(s) != 3 || s[0] != '1' || s[1] != '.' || s[2] < '0' + lo || s[2] > '0' + hi)
		return fp_err_set(err, FP_EUNSUPP,
		                  "specVersion \"%.32s\" is not supported; CycloneDX 1.%d to 1.%d "
		                  "are read",
		                  s, lo, hi);
	snprintf(spec, 16, "%s", s);
	v = json_object_get(root, "version");
	if (v && !json_is_integer(v))
		return wrong_type(err, "", "version", "an integer", v);
	*bom_version = v ? (long)json_integer_value(v) : 0;
	return get_str(root, "", "serialNumber", 0, serial, err);
}

/* Checks bomFormat; names whatever was found instead of CycloneDX. */
static int cdx_format(const json_t *root, struct fp_err *err)
{
	const json_t *v = json_object_get(root, "bomFormat");
	if (!json_is_string(v))
		return wrong_type(err, "", "bomFormat", "a string", v);
	if (strcmp(json_string_value(v), "CycloneDX") != 0)
		return fp_err_set(err, FP_EINVAL,
		                  "bomFormat is \"%.64s\"; only \"CycloneDX\" (or an SPDX document "
		                  "with spdxVersion) is read",
		                  json_string_value(v));
	return 0;
}

/* Explains a document that is neither CycloneDX nor SPDX by its first members. */
static int unknown_format(const json_t *root, struct fp_err *err)
{
	char found[160] = "";
	size_t off = 0, k = 0;
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)root, key, v)
	{
		if (k++ == 3) {
			snprintf(found + off, sizeof(found) - off, ", …");
			break;
		}
		int w =
		    snprintf(found + off, sizeof(found) - off, "%s\"%.32s\"", off ? ", " : "", key);
		if (w < 0 || (size_t)w >= sizeof(found) - off)
			break;
		off += (size_t)w;
	}
	if (!k)
		return fp_err_set(err, FP_EINVAL,
		                  "the document is an empty object; expected a CycloneDX "
		                  "(\"bomFormat\") or SPDX (\"spdxVersion\") document");
	return fp_err_set(err, FP_EINVAL,
	                  "found members %s but neither \"bomFormat\" nor \"spdxVersion\"; "
	                  "expected a CycloneDX or SPDX JSON document",
	                  found);
}

/* ---- SBOM ---- */

static void comp_free(struct fp_sbom_component *c)
{
	free(c->ref);
	free(c->name);
	free(c->version);
	free(c->cpe);
	free(c->purl);
	free(c->supplier);
	free(c->group);
	free(c->type);
	memset(c, 0, sizeof(*c));
}

void fp_sbom_free(struct fp_sbom *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		comp_free(&s->c[i]);
	for (size_t i = 0; i < s->n_subjects; i++)
		comp_free(&s->subjects[i]);
	free(s->c);
	free(s->subjects);
	free(s->subject_name);
	free(s->subject_version);
	free(s->serial_number);
	memset(s, 0, sizeof(*s));
}

/* A new zeroed entry at the end of *arr, counted in *n before it is filled. */
static struct fp_sbom_component *comp_push(struct fp_sbom_component **arr, size_t *n, size_t *cap,
                                           struct fp_err *err)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct fp_sbom_component *a = realloc(*arr, ncap * sizeof(*a));
		if (!a) {
			fp_err_set(err, FP_ENOMEM, "out of memory");
			return NULL;
		}
		*arr = a;
		*cap = ncap;
	}
	struct fp_sbom_component *c = &(*arr)[(*n)++];
	memset(c, 0, sizeof(*c));
	return c;
}

static int cdx_component(const json_t *o, const char *path, struct fp_sbom_component *c,
                         struct fp_err *err)
{
	const json_t *sup;
	int rc;
	if ((rc = get_str(o, path, "name", 1, &c->name, err)) ||
	    (rc = get_str(o, path, "bom-ref", 0, &c->ref, err)) ||
	    (rc = get_str(o, path, "version", 0, &c->version, err)) ||
	    (rc = get_str(o, path, "cpe", 0, &c->cpe, err)) ||
	    (rc = get_str(o, path, "purl", 0, &c->purl, err)) ||
	    (rc = get_str(o, path, "group", 0, &c->group, err)) ||
	    (rc = get_str(o, path, "type", 0, &c->type, err)) ||
	    (rc = get_typed(o, path, "supplier", JSON_OBJECT, &sup, err)))
		return rc;
	if (sup) {
		char p[PATH_MAX_LEN];
		snprintf(p, sizeof(p), "%s.supplier", path);
		rc = get_str(sup, p, "name", 0, &c->supplier, err);
	}
	if (!rc && !c->supplier)
		rc = get_str(o, path, "publisher", 0, &c->supplier, err);
	c->hardware = c->type && strcmp(c->type, "device") == 0;
	return rc;
}

struct builder {
	struct fp_sbom *s;
	size_t cap;
};

/* Flattens components[] (at path) and the components nested in each, depth first. */
static int cdx_components(struct builder *b, const json_t *arr, const char *path,
                          struct fp_err *err)
{
	size_t i;
	const json_t *o;
	if (!arr)
		return 0;
	json_array_foreach(arr, i, o)
	{
		char p[PATH_MAX_LEN];
		const json_t *sub;
		struct fp_sbom_component *c;
		int rc;
		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		if (!json_is_object(o))
			return fp_err_set(err, FP_EINVAL, "%s: expected an object, found %s", p,
			                  type_name(o));
		if (b->s->n >= FP_SBOM_MAX_COMPONENTS)
			return fp_err_set(err, FP_ETOOBIG,
			                  "%s: more than %d components in one document; split the "
			                  "SBOM",
			                  p, FP_SBOM_MAX_COMPONENTS);
		if (!(c = comp_push(&b->s->c, &b->s->n, &b->cap, err)))
			return FP_ENOMEM;
		if ((rc = cdx_component(o, p, c, err)) ||
		    (rc = get_typed(o, p, "components", JSON_ARRAY, &sub, err)))
			return rc;
		snprintf(p + strlen(p), sizeof(p) - strlen(p), ".components");
		if ((rc = cdx_components(b, sub, p, err)) != 0)
			return rc;
	}
	return 0;
}

static int cdx_parse(const json_t *root, struct fp_sbom *s, struct fp_err *err)
{
	struct builder b = {.s = s};
	const json_t *meta, *subj = NULL, *arr, *sub;
	int rc;
	snprintf(s->format, sizeof(s->format), "cyclonedx");
	if ((rc = cdx_format(root, err)) ||
	    (rc = cdx_header(root, 2, 6, s->spec_version, &s->bom_version, &s->serial_number,
	                     err)) ||
	    (rc = get_typed(root, "", "metadata", JSON_OBJECT, &meta, err)) ||
	    (meta && (rc = get_typed(meta, "metadata", "component", JSON_OBJECT, &subj, err))))
		return rc;
	if (subj) {
		size_t cap = 0;
		struct fp_sbom_component *c = comp_push(&s->subjects, &s->n_subjects, &cap, err);
		if (!c)
			return FP_ENOMEM;
		if ((rc = cdx_component(subj, "metadata.component", c, err)) ||
		    (rc = get_typed(subj, "metadata.component", "components", JSON_ARRAY, &sub,
		                    err)) ||
		    (rc = cdx_components(&b, sub, "metadata.component.components", err)))
			return rc;
	}
	if ((rc = get_typed(root, "", "components", JSON_ARRAY, &arr, err)) ||
	    (rc = cdx_components(&b, arr, "components", err)))
		return rc;
	return 0;
}

/* SPDX supplier: "Organization: ACME", "Person: Jane", or NOASSERTION (kept as NULL). */
static char *spdx_supplier(char *s)
{
	static const char *const prefixes[] = {"Organization:", "Person:", "Tool:"};
	if (!s || strcmp(s, "NOASSERTION") == 0) {
		free(s);
		return NULL;
	}
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t n = strlen(prefixes[i]);
		if (strncmp(s, prefixes[i], n) == 0) {
			const char *v = s + n;
			while (*v == ' ')
				v++;
			memmove(s, v, strlen(v) + 1);
			break;
		}
	}
	return s;
}

static int spdx_package(const json_t *o, const char *path, struct fp_sbom_component *c,
                        struct fp_err *err)
{
	const json_t *refs, *r;
	char *sup = NULL;
	size_t i;
	int rc;
	if ((rc = get_str(o, path, "name", 1, &c->name, err)) ||
	    (rc = get_str(o, path, "SPDXID", 0, &c->ref, err)) ||
	    (rc = get_str(o, path, "versionInfo", 0, &c->version, err)) ||
	    (rc = get_str(o, path, "supplier", 0, &sup, err)))
		return rc;
	/* The component owns the supplier from here on, so an error below frees it. */
	c->supplier = spdx_supplier(sup);
	if ((rc = get_typed(o, path, "externalRefs", JSON_ARRAY, &refs, err)) != 0)
		return rc;
	if (!refs)
		return 0;
	json_array_foreach(refs, i, r)
	{
		char p[PATH_MAX_LEN];
		char *type = NULL, **dst = NULL;
		snprintf(p, sizeof(p), "%s.externalRefs[%zu]", path, i);
		if (!json_is_object(r))
			return fp_err_set(err, FP_EINVAL, "%s: expected an object, found %s", p,
			                  type_name(r));
		if ((rc = get_str(r, p, "referenceType", 1, &type, err)) != 0)
			return rc;
		if (strcmp(type, "cpe23Type") == 0)
			dst = &c->cpe;
		else if (strcmp(type, "purl") == 0)
			dst = &c->purl;
		free(type);
		/* The first reference of each kind wins; later ones are alternatives. */
		if (dst && !*dst && (rc = get_str(r, p, "referenceLocator", 1, dst, err)) != 0)
			return rc;
	}
	return 0;
}

struct described {
	const char *id[SPDX_SUBJECTS_MAX];
	size_t n;
};

static int described_add(struct described *d, const char *id, struct fp_err *err)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->id[i], id) == 0)
			return 0;
	if (d->n == SPDX_SUBJECTS_MAX)
		return fp_err_set(err, FP_ETOOBIG, "the document describes more than %d elements",
		                  SPDX_SUBJECTS_MAX);
	d->id[d->n++] = id;
	return 0;
}

static int described_has(const struct described *d, const json_t *pkg)
{
	const char *id = json_string_value(json_object_get(pkg, "SPDXID"));
	for (size_t i = 0; id && i < d->n; i++)
		if (strcmp(d->id[i], id) == 0)
			return 1;
	return 0;
}

/* The SPDX IDs the document describes: documentDescribes, and DESCRIBES relationships. */
static int spdx_described(const json_t *root, struct described *d, struct fp_err *err)
{
	const json_t *arr, *v;
	size_t i;
	int rc;
	if ((rc = get_typed(root, "", "documentDescribes", JSON_ARRAY, &arr, err)) != 0)
		return rc;
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v))
			return fp_err_set(err, FP_EINVAL,
			                  "documentDescribes[%zu]: expected a string, found %s", i,
			                  type_name(v));
		if ((rc = described_add(d, json_string_value(v), err)) != 0)
			return rc;
	}
	if ((rc = get_typed(root, "", "relationships", JSON_ARRAY, &arr, err)) != 0)
		return rc;
	json_array_foreach(arr, i, v)
	{
		char p[PATH_MAX_LEN];
		const json_t *a, *t, *b;
		snprintf(p, sizeof(p), "relationships[%zu]", i);
		if (!json_is_object(v))
			return fp_err_set(err, FP_EINVAL, "%s: expected an object, found %s", p,
			                  type_name(v));
		if ((rc = get_typed(v, p, "spdxElementId", JSON_STRING, &a, err)) ||
		    (rc = get_typed(v, p, "relationshipType", JSON_STRING, &t, err)) ||
		    (rc = get_typed(v, p, "relatedSpdxElement", JSON_STRING, &b, err)))
			return rc;
		if (!a || !t || !b)
			continue;
		const char *sa = json_string_value(a), *sb = json_string_value(b);
		const char *st = json_string_value(t);
		if (strcmp(st, "DESCRIBES") == 0 && strcmp(sa, "SPDXRef-DOCUMENT") == 0)
			rc = described_add(d, sb, err);
		else if (strcmp(st, "DESCRIBED_BY") == 0 && strcmp(sb, "SPDXRef-DOCUMENT") == 0)
			rc = described_add(d, sa, err);
		if (rc)
			return rc;
	}
	return 0;
}

static int spdx_parse(const json_t *root, struct fp_sbom *s, struct fp_err *err)
{
	const json_t *ver = json_object_get(root, "spdxVersion"), *pkgs, *o;
	struct described *d = NULL;
	size_t i, cap = 0, scap = 0;
	const char *v;
	int rc;
	snprintf(s->format, sizeof(s->format), "spdx");
	if (!json_is_string(ver))
		return wrong_type(err, "", "spdxVersion", "a string", ver);
	v = json_string_value(ver);
	if (strcmp(v, "SPDX-2.3") != 0 && strcmp(v, "SPDX-2.2") != 0)
		return fp_err_set(err, FP_EUNSUPP,
		                  "spdxVersion \"%.32s\" is not supported; SPDX-2.2 and SPDX-2.3 "
		                  "JSON are read",
		                  v);
	snprintf(s->spec_version, sizeof(s->spec_version), "%s", v + 5);
	if ((rc = get_typed(root, "", "packages", JSON_ARRAY, &pkgs, err)) != 0)
		return rc;
	if (json_array_size(pkgs) > FP_SBOM_MAX_COMPONENTS)
		return fp_err_set(err, FP_ETOOBIG,
		                  "packages: %zu packages; at most %d are read, split the SBOM",
		                  json_array_size(pkgs), FP_SBOM_MAX_COMPONENTS);
	if (!(d = calloc(1, sizeof(*d))))
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	if ((rc = spdx_described(root, d, err)) != 0)
		goto out;
	json_array_foreach(pkgs, i, o)
	{
		char p[PATH_MAX_LEN];
		struct fp_sbom_component *c;
		snprintf(p, sizeof(p), "packages[%zu]", i);
		if (!json_is_object(o)) {
			rc = fp_err_set(err, FP_EINVAL, "%s: expected an object, found %s", p,
			                type_name(o));
			goto out;
		}
		if (described_has(d, o))
			c = comp_push(&s->subjects, &s->n_subjects, &scap, err);
		else
			c = comp_push(&s->c, &s->n, &cap, err);
		if (!c) {
			rc = FP_ENOMEM;
			goto out;
		}
		if ((rc = spdx_package(o, p, c, err)) != 0)
			goto out;
	}
out:
	free(d);
	return rc;
}

int fp_sbom_parse(const char *data, size_t len, struct fp_sbom *out, struct fp_err *err)
{
	json_t *root = NULL;
	int rc;
	memset(out, 0, sizeof(*out));
	if ((rc = load(data, len, &root, err)) != 0)
		return rc;
	if (json_object_get(root, "bomFormat"))
		rc = cdx_parse(root, out, err);
	else if (json_object_get(root, "spdxVersion"))
		rc = spdx_parse(root, out, err);
	else
		rc = unknown_format(root, err);
	if (!rc && out->n_subjects) {
		const struct fp_sbom_component *su = &out->subjects[0];
		out->subject_name = strdup(su->name);
		out->subject_version = su->version ? strdup(su->version) : NULL;
		if (!out->subject_name || (su->version && !out->subject_version))
			rc = fp_err_set(err, FP_ENOMEM, "out of memory");
	}
	if (rc)
		fp_sbom_free(out);
	json_decref(root);
	return rc;
}

/* ---- VEX ---- */

static const char *const state_names[] = {
    [FP_VEX_RESOLVED] = "resolved",
    [FP_VEX_RESOLVED_WITH_PEDIGREE] = "resolved_with_pedigree",
    [FP_VEX_EXPLOITABLE] = "exploitable",
    [FP_VEX_IN_TRIAGE] = "in_triage",
    [FP_VEX_FALSE_POSITIVE] = "false_positive",
    [FP_VEX_NOT_AFFECTED] = "not_affected",
    [FP_VEX_UNKNOWN_STATE] = "unknown",
};

const char *fp_vex_state_name(enum fp_vex_state s)
{
	if ((unsigned)s > FP_VEX_UNKNOWN_STATE)
		return "unknown";
	return state_names[s];
}

int fp_vex_suppresses(enum fp_vex_state s)
{
	/*
	 * resolved_with_pedigree is resolved with the fix's history attached;
	 * it cannot be weaker than resolved, so it suppresses too.
	 */
	return s == FP_VEX_NOT_AFFECTED || s == FP_VEX_FALSE_POSITIVE || s == FP_VEX_RESOLVED ||
	       s == FP_VEX_RESOLVED_WITH_PEDIGREE;
}

enum fp_vex_state fp_vex_state_from_cisa(const char *word)
{
	char w[64];
	size_t n = 0;
	const char *p;
	if (!word)
		return FP_VEX_UNKNOWN_STATE;
	for (; *word && n < sizeof(w) - 1; word++)
		w[n++] = (*word == ' ' || *word == '-') ? '_' : (char)tolower((unsigned char)*word);
	if (*word)
		return FP_VEX_UNKNOWN_STATE;
	w[n] = '\0';
	p = strncmp(w, "known_", 6) == 0 ? w + 6 : w;
	if (strcmp(p, "not_affected") == 0)
		return FP_VEX_NOT_AFFECTED;
	if (strcmp(p, "affected") == 0)
		return FP_VEX_EXPLOITABLE;
	if (p == w && strcmp(p, "fixed") == 0)
		return FP_VEX_RESOLVED;
	if (p == w && strcmp(p, "under_investigation") == 0)
		return FP_VEX_IN_TRIAGE;
	return FP_VEX_UNKNOWN_STATE;
}

const char *fp_vex_state_cisa_name(enum fp_vex_state s)
{
	switch (s) {
	case FP_VEX_NOT_AFFECTED: return "not_affected";
	case FP_VEX_EXPLOITABLE: return "affected";
	case FP_VEX_RESOLVED: return "fixed";
	case FP_VEX_IN_TRIAGE: return "under_investigation";
	default: return NULL;
	}
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static void statement_free(struct fp_vex_statement *st)
{
	free(st->justification);
	free(st->detail);
	strv_free(st->affects, st->n_affects);
	strv_free(st->responses, st->n_responses);
	for (size_t i = 0; st->affects_versions && i < st->n_affects; i++) {
		struct fp_vex_versions *vs = &st->affects_versions[i];
		for (size_t j = 0; j < vs->n; j++) {
			free(vs->v[j].version);
			free(vs->v[j].range);
		}
		free(vs->v);
	}
	free(st->affects_versions);
}

void fp_vex_free(struct fp_vex *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++)
		statement_free(&v->s[i]);
	free(v->s);
	free(v->subject_ref);
	free(v->subject_name);
	free(v->subject_version);
	free(v->serial_number);
	memset(v, 0, sizeof(*v));
}

/* Checks that arr (at path) has at most FP_VEX_MAX_LIST entries. */
static int list_check(const json_t *arr, const char *path, struct fp_err *err)
{
	if (json_array_size(arr) > FP_VEX_MAX_LIST)
		return fp_err_set(err, FP_ETOOBIG, "%s: %zu entries; at most %d are read", path,
		                  json_array_size(arr), FP_VEX_MAX_LIST);
	return 0;
}

/* Zeroed room for the entries of arr (at least one, so NULL means out of memory). */
static void *list_alloc(const json_t *arr, size_t elem)
{
	return calloc(json_array_size(arr) ? json_array_size(arr) : 1, elem);
}

static int vex_state(const json_t *an, const char *path, enum fp_vex_state *out, struct fp_err *err)
{
	const json_t *v;
	const char *s;
	int rc;
	*out = FP_VEX_UNKNOWN_STATE;
	if ((rc = get_typed(an, path, "state", JSON_STRING, &v, err)) != 0 || !v)
		return rc;
	s = json_string_value(v);
	for (int i = 0; i < FP_VEX_UNKNOWN_STATE; i++)
		if (strcmp(s, state_names[i]) == 0) {
			*out = (enum fp_vex_state)i;
			return 0;
		}
	enum fp_vex_state cisa = fp_vex_state_from_cisa(s);
	if (cisa != FP_VEX_UNKNOWN_STATE)
		return fp_err_set(err, FP_EINVAL,
		                  "%s.state: \"%.64s\" is a CISA VEX status; CycloneDX spells it "
		                  "\"%s\"",
		                  path, s, state_names[cisa]);
	return fp_err_set(err, FP_EINVAL,
	                  "%s.state: \"%.64s\" is not a CycloneDX analysis state (resolved, "
	                  "resolved_with_pedigree, exploitable, in_triage, false_positive, "
	                  "not_affected)",
	                  path, s);
}

static int vex_versions(const json_t *arr, const char *path, struct fp_vex_versions *vs,
                        struct fp_err *err)
{
	const json_t *o;
	size_t i;
	int rc;
	if (!arr)
		return 0;
	if ((rc = list_check(arr, path, err)) != 0)
		return rc;
	if (!(vs->v = list_alloc(arr, sizeof(*vs->v))))
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	vs->n = json_array_size(arr);
	json_array_foreach(arr, i, o)
	{
		char p[PATH_MAX_LEN];
		struct fp_vex_version *v = &vs->v[i];
		char *status = NULL;
		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		if (!json_is_object(o))
			return fp_err_set(err, FP_EINVAL, "%s: expected an object, found %s", p,
			                  type_name(o));
		if ((rc = get_str(o, p, "version", 0, &v->version, err)) ||
		    (rc = get_str(o, p, "range", 0, &v->range, err)) ||
		    (rc = get_str(o, p, "status", 0, &status, err)))
			return rc;
		if (!v->version == !v->range)
			rc = fp_err_set(err, FP_EINVAL,
			                "%s: give exactly one of \"version\" and \"range\"", p);
		else if (!status)
			v->status = FP_VEX_VERSION_UNSPECIFIED;
		else if (strcmp(status, "affected") == 0)
			v->status = FP_VEX_VERSION_AFFECTED;
		else if (strcmp(status, "unaffected") == 0)
			v->status = FP_VEX_VERSION_UNAFFECTED;
		else if (strcmp(status, "unknown") == 0)
			v->status = FP_VEX_VERSION_UNKNOWN;
		else
			rc = fp_err_set(err, FP_EINVAL,
			                "%s.status: \"%.64s\" is not one of affected, unaffected, "
			                "unknown",
			                p, status);
		free(status);
		if (rc)
			return rc;
	}
	return 0;
}

static int vex_affects(const json_t *arr, const char *path, struct fp_vex_statement *st,
                       struct fp_err *err)
{
	const json_t *o, *vers;
	size_t i;
	int rc;
	if (!arr)
		return 0;
	if ((rc = list_check(arr, path, err)) != 0)
		return rc;
	st->affects_versions = list_alloc(arr, sizeof(*st->affects_versions));
	st->affects = list_alloc(arr, sizeof(*st->affects));
	if (!st->affects_versions || !st->affects) {
		free(st->affects_versions);
		free(st->affects);
		st->affects_versions = NULL;
		st->affects = NULL;
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	}
	st->n_affects = json_array_size(arr);
	json_array_foreach(arr, i, o)
	{
		char p[PATH_MAX_LEN];
		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		if (!json_is_object(o))
			return fp_err_set(err, FP_EINVAL, "%s: expected an object, found %s", p,
			                  type_name(o));
		if ((rc = get_str(o, p, "ref", 1, &st->affects[i], err)) ||
		    (rc = get_typed(o, p, "versions", JSON_ARRAY, &vers, err)))
			return rc;
		snprintf(p + strlen(p), sizeof(p) - strlen(p), ".versions");
		if ((rc = vex_versions(vers, p, &st->affects_versions[i], err)) != 0)
			return rc;
	}
	return 0;
}

static int vex_statement(const json_t *o, const char *path, struct fp_vex_statement *st,
                         struct fp_err *err)
{
	const json_t *id, *an, *resp, *aff, *r;
	char p[PATH_MAX_LEN];
	size_t i;
	int rc;
	if ((rc = get_typed(o, path, "id", JSON_STRING, &id, err)) != 0)
		return rc;
	if (!id || json_string_length(id) == 0)
		return fp_err_set(err, FP_EINVAL, "%s.id: missing or empty; it is required", path);
	if (json_string_length(id) >= sizeof(st->id))
		return fp_err_set(err, FP_EINVAL, "%s.id: longer than %zu bytes", path,
		                  sizeof(st->id) - 1);
	memcpy(st->id, json_string_value(id), json_string_length(id) + 1);
	st->state = FP_VEX_UNKNOWN_STATE;
	if ((rc = get_typed(o, path, "analysis", JSON_OBJECT, &an, err)) != 0)
		return rc;
	snprintf(p, sizeof(p), "%s.analysis", path);
	if (an && ((rc = vex_state(an, p, &st->state, err)) ||
	           (rc = get_str(an, p, "justification", 0, &st->justification, err)) ||
	           (rc = get_str(an, p, "detail", 0, &st->detail, err)) ||
	           (rc = get_typed(an, p, "response", JSON_ARRAY, &resp, err))))
		return rc;
	if (an && resp) {
		snprintf(p, sizeof(p), "%s.analysis.response", path);
		if ((rc = list_check(resp, p, err)) != 0)
			return rc;
		if (!(st->responses = list_alloc(resp, sizeof(char *))))
			return fp_err_set(err, FP_ENOMEM, "out of memory");
		st->n_responses = json_array_size(resp);
		json_array_foreach(resp, i, r)
		{
			if (!json_is_string(r))
				return fp_err_set(err, FP_EINVAL,
				                  "%s[%zu]: expected a string, found %s", p, i,
				                  type_name(r));
			if (!(st->responses[i] = strdup(json_string_value(r))))
				return fp_err_set(err, FP_ENOMEM, "out of memory");
		}
	}
	if ((rc = get_typed(o, path, "affects", JSON_ARRAY, &aff, err)) != 0)
		return rc;
	snprintf(p, sizeof(p), "%s.affects", path);
	return vex_affects(aff, p, st, err);
}

static int vex_subject(const json_t *root, struct fp_vex *v, struct fp_err *err)
{
	const json_t *meta, *c;
	int rc;
	if ((rc = get_typed(root, "", "metadata", JSON_OBJECT, &meta, err)) != 0 || !meta)
		return rc;
	if ((rc = get_typed(meta, "metadata", "component", JSON_OBJECT, &c, err)) != 0 || !c)
		return rc;
	if ((rc = get_str(c, "metadata.component", "bom-ref", 0, &v->subject_ref, err)) ||
	    (rc = get_str(c, "metadata.component", "name", 1, &v->subject_name, err)) ||
	    (rc = get_str(c, "metadata.component", "version", 0, &v->subject_version, err)))
		return rc;
	return 0;
}

static int vex_parse(const json_t *root, struct fp_vex *v, struct fp_err *err)
{
	char spec[16];
	const json_t *arr, *o;
	size_t i;
	int rc;
	if (!json_object_get(root, "bomFormat")) {
		if (json_object_get(root, "spdxVersion"))
			return fp_err_set(err, FP_EUNSUPP,
			                  "the document is SPDX; VEX statements are read from "
			                  "CycloneDX documents only");
		return unknown_format(root, err);
	}
	if ((rc = cdx_format(root, err)))
		return rc;
	if ((rc = cdx_header(root, 4, 6, spec, &v->bom_version, &v->serial_number, err))) {
		if (rc == FP_EUNSUPP)
			fp_err_set(err, rc,
			           "specVersion \"%.32s\" cannot carry VEX; CycloneDX 1.4 "
			           "to 1.6 have vulnerabilities[]",
			           json_string_value(json_object_get(root, "specVersion")));
		return rc;
	}
	if ((rc = vex_subject(root, v, err)) ||
	    (rc = get_typed(root, "", "vulnerabilities", JSON_ARRAY, &arr, err)))
		return rc;
	if (!arr)
		return fp_err_set(
		    err, FP_EINVAL,
		    "vulnerabilities: missing; a CycloneDX VEX carries its statements "
		    "in vulnerabilities[]");
	if (json_array_size(arr) > FP_VEX_MAX_STATEMENTS)
		return fp_err_set(
		    err, FP_ETOOBIG,
		    "vulnerabilities: %zu entries; at most %d are read, split the VEX",
		    json_array_size(arr), FP_VEX_MAX_STATEMENTS);
	if (!(v->s = calloc(json_array_size(arr) ? json_array_size(arr) : 1, sizeof(*v->s))))
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	v->n = json_array_size(arr);
	json_array_foreach(arr, i, o)
	{
		char p[PATH_MAX_LEN];
		snprintf(p, sizeof(p), "vulnerabilities[%zu]", i);
		if (!json_is_object(o))
			return fp_err_set(err, FP_EINVAL, "%s: expected an object, found %s", p,
			                  type_name(o));
		if ((rc = vex_statement(o, p, &v->s[i], err)) != 0)
			return rc;
	}
	return 0;
}

int fp_vex_parse(const char *data, size_t len, struct fp_vex *out, struct fp_err *err)
{
	json_t *root = NULL;
	int rc;
	memset(out, 0, sizeof(*out));
	if ((rc = load(data, len, &root, err)) == 0)
		rc = vex_parse(root, out, err);
	if (rc)
		fp_vex_free(out);
	json_decref(root);
	return rc;
}

int fp_vex_ref_matches(const char *ref, const struct fp_sbom *bom, const char *bom_ref)
{
	const char *uuid, *slash, *hash;
	char *end;
	long ver;
	if (!ref || !bom_ref)
		return 0;
	if (strncmp(ref, "urn:cdx:", 8) != 0)
		return strcmp(ref, bom_ref) == 0;
	uuid = ref + 8;
	slash = strchr(uuid, '/');
	hash = strchr(uuid, '#');
	if (!bom || !bom->serial_number || !slash || !hash || hash < slash)
		return 0;
	if (strncmp(bom->serial_number, "urn:uuid:", 9) != 0 ||
	    strlen(bom->serial_number + 9) != (size_t)(slash - uuid) ||
	    strncasecmp(bom->serial_number + 9, uuid, (size_t)(slash - uuid)) != 0)
		return 0;
	if (!isdigit((unsigned char)slash[1]))
		return 0;
	ver = strtol(slash + 1, &end, 10);
	if (end != hash || ver != bom->bom_version)
		return 0;
	return strcmp(hash + 1, bom_ref) == 0;
}
