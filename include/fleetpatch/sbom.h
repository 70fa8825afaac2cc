/*
 * sbom.h — software (and hardware) bills of materials and CycloneDX VEX.
 *
 * fp_sbom_parse reads the component list of a CycloneDX JSON document
 * (specVersion 1.2 to 1.6) or an SPDX JSON document (SPDX-2.2, SPDX-2.3) into
 * plain structs, so that vulnerability matching can look at names, versions,
 * CPEs and package URLs without caring which format a supplier ships.
 * fp_vex_parse reads the vulnerabilities[].analysis statements of a CycloneDX
 * document (1.4 to 1.6): which vulnerability, which state, which components
 * and versions it is about. Both are pure: the caller reads the file.
 * docs/design/sbom.md describes the field mapping and the caps.
 */
#ifndef FLEETPATCH_SBOM_H
#define FLEETPATCH_SBOM_H

#include <stddef.h>

#include "fleetpatch/err.h"

#define FP_SBOM_MAX_BYTES      (32u << 20) /* bytes of one SBOM or VEX document */
#define FP_SBOM_MAX_COMPONENTS 100000      /* components (and SPDX packages), flattened */
#define FP_SBOM_MAX_DEPTH      64          /* JSON arrays and objects nested in each other */
#define FP_VEX_MAX_STATEMENTS  100000      /* vulnerabilities[] entries in one document */
#define FP_VEX_MAX_LIST        10000       /* affects, versions or responses of one statement */

/*
 * One component. All strings are owned by the enclosing struct fp_sbom; only
 * name is never NULL. For CycloneDX, type is the component type as written
 * ("library", "firmware", "device", …); for SPDX it is NULL. Hardware
 * (CycloneDX type "device", as in an HBOM) is kept as an ordinary component
 * with hardware set, because NVD configurations name hardware as platform
 * conditions (h: CPEs) that a match must see.
 */
struct fp_sbom_component {
	char *ref;      /* CycloneDX bom-ref or SPDX SPDXID, may be NULL */
	char *name;     /* never NULL */
	char *version;  /* CycloneDX version, SPDX versionInfo */
	char *cpe;      /* CPE 2.3 string if given (SPDX: the first cpe23Type reference) */
	char *purl;     /* package URL (SPDX: the first purl reference) */
	char *supplier; /* supplier name; CycloneDX falls back to publisher */
	char *group;    /* CycloneDX group (e.g. a Maven groupId), may be NULL */
	char *type;     /* CycloneDX component type, may be NULL */
	int hardware;   /* 1 when the component is a physical device */
};

struct fp_sbom {
	char format[16];                      /* "cyclonedx" | "spdx" */
	char spec_version[16];                /* "1.4", "2.3", … (without the "SPDX-" prefix) */
	char *subject_name, *subject_version; /* the described product, may be NULL */
	struct fp_sbom_component *c;          /* the components, flattened, in document order */
	size_t n;
	/*
	 * Additions. The described product(s) in full: CycloneDX
	 * metadata.component (at most one), SPDX documentDescribes (or
	 * DESCRIBES relationships of SPDXRef-DOCUMENT). subject_name and
	 * subject_version repeat subjects[0]. Subjects are not in c.
	 */
	struct fp_sbom_component *subjects;
	size_t n_subjects;
	char *serial_number; /* CycloneDX serialNumber ("urn:uuid:…"), may be NULL */
	long bom_version;    /* CycloneDX version, 0 when absent */
};

/*
 * Detects the format: CycloneDX JSON ("bomFormat":"CycloneDX", specVersion
 * 1.2–1.6; components nested under components[] recursively, flattened in
 * document order; metadata.component is the subject, not a component, but
 * its own nested components are) or SPDX JSON ("spdxVersion" "SPDX-2.3" or
 * "SPDX-2.2"; packages[] with name, versionInfo, externalRefs referenceType
 * "cpe23Type"/"purl"; the package(s) in documentDescribes are the subject).
 * Anything else is FP_EINVAL naming what was found; an unsupported version
 * is FP_EUNSUPP. Fields read must have their schema type (the message names
 * the JSON path); unknown fields are ignored; duplicate keys are rejected.
 * Over a cap: FP_ETOOBIG. On success the caller frees *out with
 * fp_sbom_free; on failure *out is empty and need not be freed.
 */
int fp_sbom_parse(const char *data, size_t len, struct fp_sbom *out, struct fp_err *err) FP_WUR;

/* Frees what fp_sbom_parse allocated and empties s. NULL is allowed. */
void fp_sbom_free(struct fp_sbom *s);

/* CycloneDX VEX (a CycloneDX document whose "vulnerabilities"[] carry "analysis"): */
enum fp_vex_state {
	FP_VEX_RESOLVED,
	FP_VEX_RESOLVED_WITH_PEDIGREE,
	FP_VEX_EXPLOITABLE,
	FP_VEX_IN_TRIAGE,
	FP_VEX_FALSE_POSITIVE,
	FP_VEX_NOT_AFFECTED,
	FP_VEX_UNKNOWN_STATE /* the entry has no analysis.state */
};

/* affects[].versions[].status; absent is kept apart from "affected". */
enum fp_vex_version_status {
	FP_VEX_VERSION_UNSPECIFIED,
	FP_VEX_VERSION_AFFECTED,
	FP_VEX_VERSION_UNAFFECTED,
	FP_VEX_VERSION_UNKNOWN
};

/* One affects[].versions[] entry: exactly one of version and range is set. */
struct fp_vex_version {
	char *version; /* one exact version */
	char *range;   /* a "vers:" range, e.g. "vers:generic/>=2.9|<=4.1" */
	enum fp_vex_version_status status;
};

/* The versions of one affects[] entry; n == 0 means the statement names no versions. */
struct fp_vex_versions {
	struct fp_vex_version *v;
	size_t n;
};

struct fp_vex_statement {
	char id[64];             /* "CVE-…" (or other id as given) */
	enum fp_vex_state state; /* analysis.state */
	char *justification;     /* e.g. "code_not_reachable", may be NULL */
	char *detail;            /* analysis.detail, may be NULL */
	char **affects;          /* affects[].ref, owned */
	size_t n_affects;
	char **responses; /* analysis.response[], e.g. "update", owned */
	size_t n_responses;
	/* Addition: affects_versions[i] are the versions of affects[i] (n_affects entries). */
	struct fp_vex_versions *affects_versions;
};

struct fp_vex {
	struct fp_vex_statement *s;
	size_t n;
	/* Additions: the document's metadata.component and identity, each may be NULL/0. */
	char *subject_ref, *subject_name, *subject_version;
	char *serial_number;
	long bom_version;
};

/*
 * Parses the vulnerabilities[] of a CycloneDX document (specVersion 1.4–1.6)
 * in document order; an entry without analysis gets FP_VEX_UNKNOWN_STATE.
 * analysis.state must be one of the CycloneDX values; a CISA status word
 * there ("fixed", "known_affected", …) is rejected with the CycloneDX
 * spelling to use. Same strictness and caps as fp_sbom_parse. On success the
 * caller frees *out with fp_vex_free; on failure *out is empty.
 */
int fp_vex_parse(const char *data, size_t len, struct fp_vex *out, struct fp_err *err) FP_WUR;

/* Frees what fp_vex_parse allocated and empties v. NULL is allowed. */
void fp_vex_free(struct fp_vex *v);

/* CycloneDX spelling: "resolved", "not_affected", …; "unknown" for FP_VEX_UNKNOWN_STATE. */
const char *fp_vex_state_name(enum fp_vex_state s);

/*
 * Whether a statement suppresses a finding (not_affected, false_positive,
 * resolved, resolved_with_pedigree: 1) or only annotates it (0). It applies
 * to the components in affects[] only, and to their listed versions.
 */
int fp_vex_suppresses(enum fp_vex_state s);

/*
 * CISA's VEX status words, as the CISA use cases spell them: "not_affected",
 * "affected", "fixed", "under_investigation" (case and '_'/' '/'-' are not
 * significant; the "known_" prefix of "KNOWN_AFFECTED" and
 * "KNOWN_NOT_AFFECTED" is accepted). Maps to not_affected, exploitable,
 * resolved and in_triage; FP_VEX_UNKNOWN_STATE for any other word.
 */
enum fp_vex_state fp_vex_state_from_cisa(const char *word);

/* The CISA word for s: "not_affected", "affected", "fixed", "under_investigation"; NULL if none. */
const char *fp_vex_state_cisa_name(enum fp_vex_state s);

/*
 * Whether the affects[].ref ref names the component whose bom-ref is
 * bom_ref in bom. A plain ref compares with bom_ref; a BOM-Link
 * "urn:cdx:<uuid>/<version>#<bom-ref>" must also name bom's serialNumber
 * ("urn:uuid:<uuid>") and version. Borrows everything.
 */
int fp_vex_ref_matches(const char *ref, const struct fp_sbom *bom, const char *bom_ref);

#endif
