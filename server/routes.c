/*
 * routes.c — every endpoint of fleetpatchd with who may call it. The API
 * reference (docs/api/openapi.yaml) must describe each of these; a test
 * compares the two.
 */
#include "api.h"
#include "fleetpatch/tuf.h"
#include "webhooks.h"

#define U(role)               FP_AUTH_USER, FP_ROLE_##role
#define PUBLIC                FP_AUTH_NONE, FP_ROLE_NONE
#define DEVICE                FP_AUTH_DEVICE, FP_ROLE_NONE
#define R(m, p, a, b, raw, f) R_(m, p, a, b, raw, f)
#define R_(m, p, auth_, role_, b, raw, f)                                                          \
	{                                                                                          \
		.method = m, .pattern = p, .auth = auth_, .min_role = role_, .body_max = b,        \
		.raw_body = raw, .fn = f, .hits = {0}, .usec_total = 0                             \
	}

/* A route whose body streams to the handler (struct fp_stream); no buffer cap. */
#define S(m, p, a, st, f) S_(m, p, a, st, f)
#define S_(m, p, auth_, role_, st, f)                                                              \
	{                                                                                          \
		.method = m, .pattern = p, .auth = auth_, .min_role = role_, .body_max = 0,        \
		.raw_body = 1, .fn = f, .stream = &st, .hits = {0}, .usec_total = 0                \
	}

static struct fp_route routes[] = {
    R("GET", "/api/v1/health", PUBLIC, 0, 0, fp_api_health),
    R("GET", "/metrics", PUBLIC, 0, 0, fp_api_metrics),
    R("POST", "/api/v1/auth/login", PUBLIC, 16384, 0, fp_api_login),
    R("POST", "/api/v1/auth/logout", U(VIEWER), 0, 0, fp_api_logout),
    R("GET", "/api/v1/auth/whoami", U(VIEWER), 0, 0, fp_api_whoami),
    R("GET", "/api/v1/users", U(ADMIN), 0, 0, fp_api_users_list),
    R("POST", "/api/v1/users", U(ADMIN), 16384, 0, fp_api_user_create),
    R("GET", "/api/v1/users/{name}", U(VIEWER), 0, 0, fp_api_user_get),
    R("PATCH", "/api/v1/users/{name}", U(VIEWER), 16384, 0, fp_api_user_patch),
    R("DELETE", "/api/v1/users/{name}", U(ADMIN), 0, 0, fp_api_user_delete),
    R("GET", "/api/v1/tokens", U(VIEWER), 0, 0, fp_api_tokens_list),
    R("POST", "/api/v1/tokens", U(VIEWER), 16384, 0, fp_api_token_create),
    R("DELETE", "/api/v1/tokens/{id}", U(VIEWER), 0, 0, fp_api_token_revoke),
    R("GET", "/api/v1/devices", U(VIEWER), 0, 0, fp_api_devices_list),
    R("POST", "/api/v1/devices", U(OPERATOR), 0, 0, fp_api_device_create),
    R("GET", "/api/v1/devices/{id}", U(VIEWER), 0, 0, fp_api_device_get),
    R("PATCH", "/api/v1/devices/{id}", U(OPERATOR), 0, 0, fp_api_device_patch),
    R("DELETE", "/api/v1/devices/{id}", U(OPERATOR), 0, 0, fp_api_device_delete),
    R("POST", "/api/v1/devices/{id}/accept", U(OPERATOR), 0, 0, fp_api_device_accept),
    R("POST", "/api/v1/devices/{id}/reject", U(OPERATOR), 0, 0, fp_api_device_reject),
    R("GET", "/api/v1/groups", U(VIEWER), 0, 0, fp_api_groups_list),
    R("POST", "/api/v1/groups", U(OPERATOR), 0, 0, fp_api_group_create),
    R("GET", "/api/v1/groups/{name}", U(VIEWER), 0, 0, fp_api_group_get),
    R("PATCH", "/api/v1/groups/{name}", U(OPERATOR), 0, 0, fp_api_group_patch),
    R("DELETE", "/api/v1/groups/{name}", U(OPERATOR), 0, 0, fp_api_group_delete),
    R("GET", "/api/v1/groups/{name}/devices", U(VIEWER), 0, 0, fp_api_group_devices),
    R("POST", "/api/v1/groups/{name}/members", U(OPERATOR), 0, 0, fp_api_group_members_add),
    R("DELETE", "/api/v1/groups/{name}/members/{id}", U(OPERATOR), 0, 0,
      fp_api_group_member_remove),
    R("POST", "/api/v1/imports", U(OPERATOR), FP_IMPORT_BODY_MAX, 1, fp_api_import_create),
    R("GET", "/api/v1/imports", U(VIEWER), 0, 0, fp_api_imports_list),
    R("GET", "/api/v1/imports/{id}", U(VIEWER), 0, 0, fp_api_import_get),
    R("GET", "/api/v1/audit", U(VIEWER), 0, 0, fp_api_audit_list),
    R("GET", "/api/v1/audit/export", U(VIEWER), 0, 0, fp_api_audit_export),
    R("GET", "/api/v1/audit/verify", U(VIEWER), 0, 0, fp_api_audit_verify),
    R("GET", "/api/v1/jobs/{id}", U(VIEWER), 0, 0, fp_api_job_get),
    R("GET", "/api/v1/feeds", U(VIEWER), 0, 0, fp_api_feeds_status),
    R("POST", "/api/v1/feeds/{kind}", U(OPERATOR), FP_FEED_BODY_MAX, 1, fp_api_feed_import),
    R("POST", "/api/v1/assessments", U(OPERATOR), 0, 0, fp_api_assessment_start),
    R("GET", "/api/v1/findings", U(VIEWER), 0, 0, fp_api_findings_list),
    R("GET", "/api/v1/devices/{id}/findings", U(VIEWER), 0, 0, fp_api_device_findings),
    R("GET", "/api/v1/devices/{id}/exposures", U(VIEWER), 0, 0, fp_api_device_exposures),
    R("GET", "/api/v1/groups/{name}/exposures", U(VIEWER), 0, 0, fp_api_group_exposures),
    R("GET", "/api/v1/remediation", U(VIEWER), 0, 0, fp_api_remediation_plan),
    R("POST", "/api/v1/remediation/rollouts", U(OPERATOR), 65536, 0, fp_api_remediation_rollout),
    R("POST", "/api/v1/devices/{id}/sbom", U(OPERATOR), FP_SBOM_BODY_MAX, 1, fp_api_device_sbom),
    R("GET", "/api/v1/cves/{id}", U(VIEWER), 0, 0, fp_api_cve_get),
    R("GET", "/api/v1/model-cpes", U(VIEWER), 0, 0, fp_api_model_cpes_list),
    R("PUT", "/api/v1/model-cpes", U(OPERATOR), 16384, 0, fp_api_model_cpe_put),
    R("DELETE", "/api/v1/model-cpes/{id}", U(OPERATOR), 0, 0, fp_api_model_cpe_delete),
    R("GET", "/api/v1/sboms", U(VIEWER), 0, 0, fp_api_sboms_list),
    R("PUT", "/api/v1/sboms", U(OPERATOR), FP_SBOM_BODY_MAX, 1, fp_api_sbom_put),
    R("POST", "/api/v1/vex", U(OPERATOR), FP_SBOM_BODY_MAX, 1, fp_api_vex_upload),
    R("POST", "/api/v1/device/auth", PUBLIC, 65536, 1, fp_api_device_auth),
    R("GET", "/api/v1/device/checkin", DEVICE, 0, 0, fp_api_device_checkin),
    R("PUT", "/api/v1/device/inventory", DEVICE, 1u << 20, 0, fp_api_device_inventory),
    S("POST", "/api/v1/artifacts", U(OPERATOR), fp_artifact_upload_stream, fp_api_artifact_upload),
    R("GET", "/api/v1/artifacts", U(VIEWER), 0, 0, fp_api_artifacts_list),
    R("GET", "/api/v1/artifacts/{sha256}", U(VIEWER), 0, 0, fp_api_artifact_get),
    R("GET", "/api/v1/artifacts/{sha256}/content", U(VIEWER), 0, 0, fp_api_artifact_content),
    R("GET", "/api/v1/device/artifacts/{sha256}", DEVICE, 0, 0, fp_api_device_artifact),
    R("POST", "/api/v1/repo/root", U(ADMIN), FP_TUF_ROOT_MAX, 1, fp_api_repo_root_put),
    R("POST", "/api/v1/repo/targets", U(APPROVER), FP_TUF_TARGETS_MAX, 1, fp_api_repo_targets_put),
    R("GET", "/api/v1/repo/keys", PUBLIC, 0, 0, fp_api_repo_keys),
    R("GET", "/api/v1/repo/status", U(VIEWER), 0, 0, fp_api_repo_status),
    R("GET", "/api/v1/repo/metadata/{file}", PUBLIC, 0, 0, fp_api_repo_metadata),
    R("GET", "/api/v1/repo/targets/{file}", PUBLIC, 0, 0, fp_api_repo_target_file),
    R("GET", "/api/v1/alerts", U(VIEWER), 0, 0, fp_api_alerts_list),
    R("GET", "/api/v1/devices/{id}/assignment", U(VIEWER), 0, 0, fp_api_assignment_get),
    R("POST", "/api/v1/devices/{id}/assignment", U(OPERATOR), 16384, 0, fp_api_assignment_put),
    R("DELETE", "/api/v1/devices/{id}/assignment", U(OPERATOR), 0, 0, fp_api_assignment_delete),
    R("GET", "/api/v1/device/assignment", DEVICE, 0, 0, fp_api_device_assignment),
    R("POST", "/api/v1/rollouts", U(OPERATOR), 65536, 0, fp_api_rollout_create),
    R("GET", "/api/v1/rollouts", U(VIEWER), 0, 0, fp_api_rollouts_list),
    R("GET", "/api/v1/rollouts/{id}", U(VIEWER), 0, 0, fp_api_rollout_get),
    R("GET", "/api/v1/rollouts/{id}/devices", U(VIEWER), 0, 0, fp_api_rollout_devices),
    R("POST", "/api/v1/rollouts/{id}/approve", U(APPROVER), 16384, 0, fp_api_rollout_approve),
    R("POST", "/api/v1/rollouts/{id}/start", U(OPERATOR), 16384, 0, fp_api_rollout_start),
    R("POST", "/api/v1/rollouts/{id}/pause", U(OPERATOR), 16384, 0, fp_api_rollout_pause),
    R("POST", "/api/v1/rollouts/{id}/resume", U(OPERATOR), 16384, 0, fp_api_rollout_resume),
    R("POST", "/api/v1/rollouts/{id}/abort", U(OPERATOR), 16384, 0, fp_api_rollout_abort),
    R("POST", "/api/v1/rollouts/{id}/revert", U(OPERATOR), 16384, 0, fp_api_rollout_revert),
    R("POST", "/api/v1/device/assignment/delta-failed", DEVICE, 4096, 0,
      fp_api_device_delta_failed),
    R("GET", "/api/v1/webhooks", U(ADMIN), 0, 0, fp_api_webhooks_list),
    R("POST", "/api/v1/webhooks", U(ADMIN), 16384, 0, fp_api_webhook_create),
    R("GET", "/api/v1/webhooks/{id}", U(ADMIN), 0, 0, fp_api_webhook_get),
    R("DELETE", "/api/v1/webhooks/{id}", U(ADMIN), 0, 0, fp_api_webhook_delete),
    R("GET", "/api/v1/webhooks/{id}/deliveries", U(ADMIN), 0, 0, fp_api_webhook_deliveries),
    R("POST", "/api/v1/webhooks/{id}/test", U(ADMIN), 0, 0, fp_api_webhook_test),
};

struct fp_route *fp_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}
