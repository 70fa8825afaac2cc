/*
 * api.h — the request handlers of fleetpatchd, one api_*.c file per resource,
 * and the helpers they share. routes.c maps paths and roles onto them.
 */
#ifndef FP_SERVER_API_H
#define FP_SERVER_API_H

#include "server.h"

struct fp_filter;
struct fp_device_row;

/* Shared by handlers. */
extern const char *const fp_device_readonly[];
int fp_filter_attr_known(const char *name);
int fp_device_matches(const struct fp_filter *f, const struct fp_device_row *d);
void fp_api_list_devices(struct fp_req *r, const char *extra_filter, int64_t static_group);
int fp_api_finish(struct fp_req *r, int rc, struct fp_err *err, const char *action,
                  const char *object, const json_t *before, const json_t *after);

/*
 * Answers a paged listing (query parameters page and per_page only): the
 * total from count_sql and one page from list_sql, which ends in
 * "LIMIT ? OFFSET ?". When owner >= 0 it is bound to the first ? of both
 * (write the condition as "? IN (0, owner_column)" so 0 means everyone).
 */
typedef json_t *(*fp_row_json_fn)(struct fp_req *r, fp_stmt *st);
void fp_api_list_page(struct fp_req *r, const char *count_sql, const char *list_sql, int64_t owner,
                      fp_row_json_fn row);

/* api_system.c */
void fp_api_health(struct fp_req *r);
void fp_api_metrics(struct fp_req *r);

/* api_auth.c: sessions, users, API tokens */
void fp_api_login(struct fp_req *r);
void fp_api_logout(struct fp_req *r);
void fp_api_whoami(struct fp_req *r);
void fp_api_users_list(struct fp_req *r);
void fp_api_user_create(struct fp_req *r);
void fp_api_user_get(struct fp_req *r);
void fp_api_user_patch(struct fp_req *r);
void fp_api_user_delete(struct fp_req *r);
void fp_api_tokens_list(struct fp_req *r);
void fp_api_token_create(struct fp_req *r);
void fp_api_token_revoke(struct fp_req *r);

/* api_devices.c */
void fp_api_devices_list(struct fp_req *r);
void fp_api_device_get(struct fp_req *r);
void fp_api_device_create(struct fp_req *r);
void fp_api_device_patch(struct fp_req *r);
void fp_api_device_delete(struct fp_req *r);
void fp_api_device_accept(struct fp_req *r);
void fp_api_device_reject(struct fp_req *r);

/* api_groups.c */
void fp_api_groups_list(struct fp_req *r);
void fp_api_group_create(struct fp_req *r);
void fp_api_group_get(struct fp_req *r);
void fp_api_group_patch(struct fp_req *r);
void fp_api_group_delete(struct fp_req *r);
void fp_api_group_devices(struct fp_req *r);
void fp_api_group_members_add(struct fp_req *r);
void fp_api_group_member_remove(struct fp_req *r);
void fp_api_group_exposures(struct fp_req *r);

/* api_imports.c */
void fp_api_import_create(struct fp_req *r);
void fp_api_imports_list(struct fp_req *r);
void fp_api_import_get(struct fp_req *r);

/* api_audit.c */
void fp_api_audit_list(struct fp_req *r);
void fp_api_audit_export(struct fp_req *r);
void fp_api_audit_verify(struct fp_req *r);

/* api_vulns.c */
void fp_api_feed_import(struct fp_req *r);
void fp_api_feeds_status(struct fp_req *r);
void fp_api_job_get(struct fp_req *r);
void fp_api_assessment_start(struct fp_req *r);
void fp_api_findings_list(struct fp_req *r);
void fp_api_device_findings(struct fp_req *r);
void fp_api_device_sbom(struct fp_req *r);
void fp_api_cve_get(struct fp_req *r);
void fp_api_model_cpes_list(struct fp_req *r);
void fp_api_model_cpe_put(struct fp_req *r);
void fp_api_model_cpe_delete(struct fp_req *r);
void fp_api_vex_upload(struct fp_req *r);
void fp_api_sbom_put(struct fp_req *r);
void fp_api_sboms_list(struct fp_req *r);
void fp_api_device_exposures(struct fp_req *r);
void fp_api_remediation_plan(struct fp_req *r);

/* api_artifacts.c: content-addressed artifacts */
extern const struct fp_stream fp_artifact_upload_stream;
void fp_api_artifact_upload(struct fp_req *r);
void fp_api_artifacts_list(struct fp_req *r);
void fp_api_artifact_get(struct fp_req *r);
void fp_api_artifact_content(struct fp_req *r);
void fp_api_device_artifact(struct fp_req *r);
/* 1 when s is 64 lowercase hex digits. */
int fp_sha256_hex_valid(const char *s);
/* <data_dir>/artifacts/<sha256>; FP_ETOOBIG when it does not fit. */
int fp_artifact_path(const struct fp_server *s, const char *sha256, char *out, size_t outsz);
/* The stored sha512 (129 bytes, may be NULL) and length of an artifact; FP_ENOTFOUND. */
int fp_artifact_get(fp_db *db, const char *sha256, char *sha512, int64_t *length,
                    struct fp_err *err) FP_WUR;
/* Removes temporary files of uploads that a stop or crash interrupted (at start). */
int fp_artifacts_recover(const struct fp_server *s);
/* Answers the artifact's bytes with ETag, If-None-Match (304) and Range (206, 416). */
void fp_artifact_serve(struct fp_req *r, const char *sha256);

/* api_repo.c: the TUF repository */
void fp_api_repo_root_put(struct fp_req *r);
void fp_api_repo_targets_put(struct fp_req *r);
void fp_api_repo_keys(struct fp_req *r);
void fp_api_repo_status(struct fp_req *r);
void fp_api_repo_metadata(struct fp_req *r);
void fp_api_repo_target_file(struct fp_req *r);
void fp_api_alerts_list(struct fp_req *r);

/* api_director.c: signed per-device assignments */
void fp_api_assignment_put(struct fp_req *r);
void fp_api_assignment_get(struct fp_req *r);
void fp_api_assignment_delete(struct fp_req *r);
void fp_api_device_assignment(struct fp_req *r);
void fp_api_device_delta_failed(struct fp_req *r);
/*
 * Sets (target) or clears (NULL) a device's assignment inside the caller's
 * transaction, as the director's operators do but without an audit entry
 * (the caller writes its own): version + 1, a new nonce, deltas offered
 * again. *version (may be NULL) receives the new version.
 */
int fp_director_set(fp_db *db, int64_t device_id, const char *target, const char *deadline,
                    const char *actor, int64_t *version, struct fp_err *err) FP_WUR;

/* api_rollouts.c: staged rollouts and their change control */
void fp_api_rollout_create(struct fp_req *r);
void fp_api_rollouts_list(struct fp_req *r);
void fp_api_rollout_get(struct fp_req *r);
void fp_api_rollout_devices(struct fp_req *r);
void fp_api_rollout_approve(struct fp_req *r);
void fp_api_rollout_start(struct fp_req *r);
void fp_api_rollout_pause(struct fp_req *r);
void fp_api_rollout_resume(struct fp_req *r);
void fp_api_rollout_abort(struct fp_req *r);
void fp_api_rollout_revert(struct fp_req *r);
/* Creates a draft rollout from body (as POST /api/v1/rollouts) and replies. */
void fp_rollout_create_draft(struct fp_req *r, const json_t *body);
void fp_api_remediation_rollout(struct fp_req *r);

/* api_device.c: what devices themselves call */
void fp_api_device_auth(struct fp_req *r);
void fp_api_device_checkin(struct fp_req *r);
void fp_api_device_inventory(struct fp_req *r);

#endif
