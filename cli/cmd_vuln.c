/*
 * cmd_vuln.c — `fleetpatch vuln …`: what the imported feeds say about the
 * fleet. Findings (device × CVE, with the risk score and its reasons), CVE
 * details, assessments (re-matching every device), VEX statements, the
 * manufacturer/model → CPE mapping, and the jobs behind feed imports and
 * assessments.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "http.h"
#include "output.h"

#define VEX_FILE_MAX ((size_t)32 << 20) /* bytes of a VEX document; the server's cap too */

static const char usage[] =
    "usage: fleetpatch vuln COMMAND ...\n"
    "\n"
    "  findings [--device ID] [--cve CVE] [--kev] [--min-risk N] [--include-suppressed]\n"
    "           [--page N] [--per-page N] [--all]\n"
    "  cve CVE\n"
    "  assess [--no-wait]\n"
    "  job ID\n"
    "  vex FILE\n"
    "  model-cpe list|set|delete ...\n"
    "  plan [--model X] [--recommended] [--page N] [--per-page N] [--all]\n"
    "\n"
    "Vulnerabilities of the fleet, from the feeds imported with 'fleetpatch feeds\n"
    "import'. Each command has --help.\n";

static const struct cli_col finding_cols[] = {
    {"RISK", "risk.score", 0},
    {"DEVICE", "device_identity", 28},
    {"CVE", "cve_id", 0},
    {"KEV", "kev", 0},
    {"CVSS", "risk.inputs.cvss", 0},
    {"EPSS", "risk.inputs.epss", 0},
    {"MATCHED CPE", "matched_cpe", 60},
    {NULL, NULL, 0},
};

static const struct cli_col model_cpe_cols[] = {
    {"ID", "id", 0},
    {"MANUFACTURER", "manufacturer", 20},
    {"MODEL", "model", 20},
    {"FIRMWARE CPE", "firmware_cpe", 60},
    {"HARDWARE CPE", "hardware_cpe", 60},
    {"CREATED", "created_at", 0},
    {NULL, NULL, 0},
};

/* Checks that s is a positive id; else a usage error naming what. */
static int parse_id(const char *s, const char *what, const char *use)
{
	long v;
	if (cli_parse_long(s, 1, LONG_MAX, &v))
		return cli_usage_error(use, "'%s' is not %s (a positive number)", s, what);
	return 0;
}

static int vuln_findings(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch vuln findings [--device ID] [--cve CVE] [--kev] [--min-risk N]\n"
	    "                                [--include-suppressed] [--page N] [--per-page N]\n"
	    "                                [--all] [--json]\n"
	    "\n"
	    "Lists findings (a device affected by a CVE), highest risk first, with the\n"
	    "matched CPE name. 'fleetpatch vuln findings --json' shows each risk score's\n"
	    "inputs and weights.\n"
	    "\n"
	    "  --device ID           only this device's findings\n"
	    "  --cve CVE             only findings of this CVE (CVE-YYYY-NNNN)\n"
	    "  --kev                 only CVEs in the CISA KEV catalogue\n"
	    "  --min-risk N          only findings with a risk score of at least N (0-100)\n"
	    "  --include-suppressed  also findings a VEX statement marks not_affected,\n"
	    "                        false_positive or resolved\n"
	    "  --page N, --per-page N (1-1000), --all (every page)\n";
	enum { OPT_CVE = CLI_OPT_FIRST_OWN, OPT_KEV, OPT_MIN_RISK, OPT_SUPPRESSED };
	static const struct option opts[] = {
	    CLI_COMMON_OPTS,
	    CLI_PAGING_OPTS,
	    {"device", required_argument, NULL, 'd'},
	    {"cve", required_argument, NULL, OPT_CVE},
	    {"kev", no_argument, NULL, OPT_KEV},
	    {"min-risk", required_argument, NULL, OPT_MIN_RISK},
	    {"include-suppressed", no_argument, NULL, OPT_SUPPRESSED},
	    CLI_OPTS_END,
	};
	const char *device = NULL, *cve = NULL, *min_risk = NULL;
	int kev = 0, suppressed = 0, o;
	while ((o = cli_opt(c, argc, argv, opts, use)) != -1) {
		if (o == CLI_STOP)
			return c->rc;
		if (o == 'd')
			device = optarg;
		else if (o == OPT_CVE)
			cve = optarg;
		else if (o == OPT_KEV)
			kev = 1;
		else if (o == OPT_MIN_RISK)
			min_risk = optarg;
		else if (o == OPT_SUPPRESSED)
			suppressed = 1;
	}
	if (cli_operands(c, argc, argv, 0, use))
		return c->rc;
	if (device && parse_id(device, "a device id", use))
		return CLI_EXIT_USAGE;
	if (min_risk) {
		char *end;
		errno = 0;
		double v = strtod(min_risk, &end);
		if (!*min_risk || *end || errno || !isfinite(v) || v < 0 || v > 100)
			return cli_usage_error(use, "--min-risk: expected a number from 0 to 100");
	}
	struct cli_url u;
	cli_url_init(&u, "/api/v1/");
	if (device) {
		cli_url_add(&u, "devices/");
		cli_url_seg(&u, device);
		cli_url_add(&u, "/findings");
	} else {
		cli_url_add(&u, "findings");
	}
	cli_url_query(&u, "cve", cve);
	cli_url_query(&u, "kev", kev ? "true" : NULL);
	cli_url_query(&u, "min_risk", min_risk);
	cli_url_query(&u, "include_suppressed", suppressed ? "true" : NULL);
	return cli_list(c, u.s, finding_cols);
}

static const struct cli_col plan_cols[] = {
    {"REMOVED RISK", "removes.risk", 0},
    {"DEVICES", "devices", 0},
    {"MODEL", "model", 20},
    {"FIRMWARE", "firmware_version", 20},
    {"RELEASE", "release.target", 30},
    {"VERSION", "release.version", 20},
    {"CVES", "removes.cves", 0},
    {"KEV", "removes.kev", 0},
    {"NEW CVES", "introduces.cves", 0},
    {"NET RISK", "net_risk", 0},
    {"RECOMMENDED", "recommended", 0},
    {NULL, NULL, 0},
};

static int vuln_plan(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch vuln plan [--model X] [--recommended] [--page N] [--per-page N]\n"
	    "                            [--all] [--json]\n"
	    "\n"
	    "The remediation plan: for each model and firmware that devices run, which\n"
	    "published release removes which CVEs and how much risk, ranked by the risk it\n"
	    "removes ('update these N devices to release R: removes X CVEs, Y in KEV').\n"
	    "'--json' lists the CVE ids removed and introduced by each release.\n"
	    "\n"
	    "  --model X       only devices of this model\n"
	    "  --recommended   only the best release per model and firmware\n"
	    "  --page N, --per-page N (1-1000), --all (every page)\n";
	enum { OPT_MODEL = CLI_OPT_FIRST_OWN, OPT_RECOMMENDED };
	static const struct option opts[] = {
	    CLI_COMMON_OPTS,
	    CLI_PAGING_OPTS,
	    {"model", required_argument, NULL, OPT_MODEL},
	    {"recommended", no_argument, NULL, OPT_RECOMMENDED},
	    CLI_OPTS_END,
	};
	const char *model = NULL;
	int recommended = 0, o;
	while ((o = cli_opt(c, argc, argv, opts, use)) != -1) {
		if (o == CLI_STOP)
			return c->rc;
		if (o == OPT_MODEL)
			model = optarg;
		else if (o == OPT_RECOMMENDED)
			recommended = 1;
	}
	if (cli_operands(c, argc, argv, 0, use))
		return c->rc;
	struct cli_url u;
	cli_url_init(&u, "/api/v1/remediation");
	cli_url_query(&u, "model", model);
	cli_url_query(&u, "recommended", recommended ? "true" : NULL);
	return cli_list(c, u.s, plan_cols);
}

static int vuln_cve(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch vuln cve CVE [--json]\n"
	    "\n"
	    "Shows a CVE as the imported feeds describe it: NVD's description, CVSS and\n"
	    "weakness, its KEV entry (date added, remediation due date, known ransomware\n"
	    "use), its EPSS score, and how many devices it affects.\n";
	static const struct option opts[] = {CLI_COMMON_OPTS, CLI_OPTS_END};
	if (cli_args(c, argc, argv, opts, use, 1))
		return c->rc;
	struct cli_url u;
	cli_url_init(&u, "/api/v1/cves/");
	cli_url_seg(&u, argv[optind]);
	return cli_show(c, "GET", u.s, NULL);
}

/* Prints a finished job: its report, or its error (then returns 1). */
static int print_job(const json_t *job)
{
	json_int_t id = json_integer_value(json_object_get(job, "id"));
	const char *status = json_string_value(json_object_get(job, "status"));
	const char *kind = json_string_value(json_object_get(job, "format"));
	if (status && strcmp(status, "failed") == 0) {
		const char *e = json_string_value(json_object_get(job, "error"));
		cli_error("%s job %" JSON_INTEGER_FORMAT " failed: %s; nothing was changed",
		          kind ? kind : "the", id, e ? e : "no reason given");
		return 1;
	}
	json_t *head = json_deep_copy(job);
	json_object_del(head, "report");
	cli_print_object(head);
	json_decref(head);
	const json_t *rep = json_object_get(job, "report");
	if (json_is_object(rep)) {
		printf("report:\n");
		const char *k;
		json_t *v;
		char buf[CLI_CELL_MAX], key[128];
		json_object_foreach((json_t *)rep, k, v)
		{
			cli_format_value(v, buf, sizeof(buf));
			cli_clean_text(k, key, sizeof(key));
			printf("  %s: %s\n", key, buf);
		}
	}
	return 0;
}

static int vuln_assess(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch vuln assess [--no-wait] [--json]\n"
	    "\n"
	    "Matches every device against the imported CVE records again (a server job).\n"
	    "Feed imports and inventory changes already re-match what they concern; run\n"
	    "this after changing many devices or the model CPE mapping.\n"
	    "\n"
	    "  --no-wait  print the queued job and return; follow it with\n"
	    "             'fleetpatch vuln job ID'\n"
	    "\n"
	    "Exits 1 when the assessment failed.\n";
	static const struct option opts[] = {
	    CLI_COMMON_OPTS,
	    {"no-wait", no_argument, NULL, CLI_OPT_FIRST_OWN},
	    CLI_OPTS_END,
	};
	int no_wait = 0, o;
	while ((o = cli_opt(c, argc, argv, opts, use)) != -1) {
		if (o == CLI_STOP)
			return c->rc;
		if (o == CLI_OPT_FIRST_OWN)
			no_wait = 1;
	}
	if (cli_operands(c, argc, argv, 0, use))
		return c->rc;
	struct cli_response rs = {0};
	json_t *job = NULL;
	int ex = cli_api(c, "POST", "/api/v1/assessments", NULL, &rs, &job);
	if (ex)
		return ex;
	json_int_t id = json_integer_value(json_object_get(job, "id"));
	if (id <= 0) {
		cli_error("the server's answer names no job");
		ex = CLI_EXIT_UNREACHABLE;
		goto out;
	}
	if (!no_wait) {
		cli_response_free(&rs);
		json_decref(job);
		job = NULL;
		if ((ex = cli_wait_job(c, id, "assessing", &rs, &job)))
			goto out;
	}
	const char *status = json_string_value(json_object_get(job, "status"));
	int failed = !no_wait && (!status || strcmp(status, "succeeded") != 0);
	if (c->json) {
		cli_print_body(rs.body, rs.len);
	} else if (no_wait) {
		printf("assessment %" JSON_INTEGER_FORMAT
		       " queued; follow it with 'fleetpatch vuln "
		       "job %" JSON_INTEGER_FORMAT "'\n",
		       id, id);
	} else if (!failed) {
		const json_t *rep = json_object_get(job, "report");
		printf("assessment %" JSON_INTEGER_FORMAT " succeeded: %" JSON_INTEGER_FORMAT
		       " configurations (%" JSON_INTEGER_FORMAT " matched a device), "
		       "%" JSON_INTEGER_FORMAT " devices updated, %" JSON_INTEGER_FORMAT
		       " findings\n",
		       id, json_integer_value(json_object_get(rep, "configurations")),
		       json_integer_value(json_object_get(rep, "configurations_matched")),
		       json_integer_value(json_object_get(rep, "devices_updated")),
		       json_integer_value(json_object_get(rep, "findings")));
	}
	if (failed) {
		const char *e = json_string_value(json_object_get(job, "error"));
		cli_error("assessment %" JSON_INTEGER_FORMAT " failed: %s", id,
		          e ? e : "no reason given");
		ex = CLI_EXIT_FAIL;
	}
out:
	cli_response_free(&rs);
	json_decref(job);
	return ex;
}

static int vuln_job(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch vuln job ID [--json]\n"
	    "\n"
	    "Shows a feed import or assessment job: its status and progress, then its\n"
	    "report or error. Exits 1 when the job failed.\n";
	static const struct option opts[] = {CLI_COMMON_OPTS, CLI_OPTS_END};
	if (cli_args(c, argc, argv, opts, use, 1))
		return c->rc;
	if (parse_id(argv[optind], "a job id", use))
		return CLI_EXIT_USAGE;
	struct cli_url u;
	cli_url_init(&u, "/api/v1/jobs/");
	cli_url_seg(&u, argv[optind]);
	json_t *job = NULL;
	int ex = cli_call(c, "GET", u.s, NULL, &job);
	if (ex == CLI_EXIT_OK) {
		const char *st = json_string_value(json_object_get(job, "status"));
		if (c->json ? st && strcmp(st, "failed") == 0 : print_job(job))
			ex = CLI_EXIT_FAIL;
	}
	json_decref(job);
	return ex;
}

static int vuln_vex(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch vuln vex FILE [--json]\n"
	    "\n"
	    "Uploads a CycloneDX VEX document (at most 32 MiB). Each statement replaces the\n"
	    "previous one for its CVE; not_affected, false_positive and resolved hide the\n"
	    "CVE's findings (see them with 'vuln findings --include-suppressed').\n";
	static const struct option opts[] = {CLI_COMMON_OPTS, CLI_OPTS_END};
	if (cli_args(c, argc, argv, opts, use, 1))
		return c->rc;
	struct cli_response rs = {0};
	json_t *o = NULL;
	int ex = cli_upload(c, "/api/v1/vex", argv[optind], VEX_FILE_MAX, &rs, &o);
	if (ex == CLI_EXIT_OK) {
		if (c->json)
			cli_print_body(rs.body, rs.len);
		else
			cli_print_object(o);
		cli_response_free(&rs);
	}
	json_decref(o);
	return ex;
}

/* ---- model-cpe ---- */

static const char model_cpe_usage[] =
    "usage: fleetpatch vuln model-cpe COMMAND ...\n"
    "\n"
    "  list [--page N] [--per-page N] [--all]\n"
    "  set --manufacturer M --model X [--firmware-cpe CPE] [--hardware-cpe CPE]\n"
    "  delete ID\n"
    "\n"
    "Which CPE names the devices of a manufacturer and model have. Without a mapping\n"
    "the server derives them from the device's attributes (e.g. manufacturer dlink,\n"
    "model DIR-868L: cpe:2.3:o:dlink:dir-868l_firmware:FIRMWARE and\n"
    "cpe:2.3:h:dlink:dir-868l:-); map a model when NVD names its vendor or product\n"
    "differently (D-Link is 'dlink', FortiGates run 'fortios'). Each command has --help.\n";

static int model_cpe_list(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch vuln model-cpe list [--page N] [--per-page N] [--all] [--json]\n"
	    "\n"
	    "Lists the manufacturer/model to CPE mappings.\n";
	static const struct option opts[] = {CLI_COMMON_OPTS, CLI_PAGING_OPTS, CLI_OPTS_END};
	if (cli_args(c, argc, argv, opts, use, 0))
		return c->rc;
	return cli_list(c, "/api/v1/model-cpes", model_cpe_cols);
}

static int model_cpe_set(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch vuln model-cpe set --manufacturer M --model X\n"
	    "                                     [--firmware-cpe CPE] [--hardware-cpe CPE]\n"
	    "                                     [--json]\n"
	    "\n"
	    "Sets the CPE names of a manufacturer and model (as the devices' attributes\n"
	    "spell them), replacing its previous mapping; then run 'fleetpatch vuln assess'\n"
	    "to match its devices with the new names. Give one CPE or both.\n"
	    "\n"
	    "  --manufacturer M    the devices' manufacturer, e.g. D-Link\n"
	    "  --model X           the devices' model, e.g. DIR-860L\n"
	    "  --firmware-cpe CPE  an operating system CPE, cpe:2.3:o:VENDOR:PRODUCT:*:...;\n"
	    "                      the device's firmware version fills in the version\n"
	    "  --hardware-cpe CPE  a hardware CPE, cpe:2.3:h:VENDOR:PRODUCT:...\n";
	enum { OPT_MAN = CLI_OPT_FIRST_OWN, OPT_MODEL, OPT_FW, OPT_HW };
	static const struct option opts[] = {
	    CLI_COMMON_OPTS,
	    {"manufacturer", required_argument, NULL, OPT_MAN},
	    {"model", required_argument, NULL, OPT_MODEL},
	    {"firmware-cpe", required_argument, NULL, OPT_FW},
	    {"hardware-cpe", required_argument, NULL, OPT_HW},
	    CLI_OPTS_END,
	};
	const char *man = NULL, *model = NULL, *fw = NULL, *hw = NULL;
	int o;
	while ((o = cli_opt(c, argc, argv, opts, use)) != -1) {
		if (o == CLI_STOP)
			return c->rc;
		if (o == OPT_MAN)
			man = optarg;
		else if (o == OPT_MODEL)
			model = optarg;
		else if (o == OPT_FW)
			fw = optarg;
		else if (o == OPT_HW)
			hw = optarg;
	}
	if (cli_operands(c, argc, argv, 0, use))
		return c->rc;
	if (!man || !*man || !model || !*model)
		return cli_usage_error(use, "--manufacturer and --model are required");
	if (!fw && !hw)
		return cli_usage_error(use, "give --firmware-cpe, --hardware-cpe or both");
	if ((fw && strncmp(fw, "cpe:2.3:o:", 10) != 0) ||
	    (hw && strncmp(hw, "cpe:2.3:h:", 10) != 0))
		return cli_usage_error(use, "expected --firmware-cpe cpe:2.3:o:… and "
		                            "--hardware-cpe cpe:2.3:h:…");
	json_t *body = json_pack("{s:s,s:s}", "manufacturer", man, "model", model);
	if (body && fw)
		json_object_set_new(body, "firmware_cpe", json_string(fw));
	if (body && hw)
		json_object_set_new(body, "hardware_cpe", json_string(hw));
	if (!body) {
		cli_error("--manufacturer and --model must be UTF-8 text");
		return CLI_EXIT_USAGE;
	}
	int ex = cli_show(c, "PUT", "/api/v1/model-cpes", body);
	json_decref(body);
	return ex;
}

static int model_cpe_delete(struct cli *c, int argc, char **argv)
{
	static const char use[] = "usage: fleetpatch vuln model-cpe delete ID [--json]\n"
	                          "\n"
	                          "Deletes a mapping (ID from 'vuln model-cpe list'); the\n"
	                          "model's devices go back to derived CPE names.\n";
	static const struct option opts[] = {CLI_COMMON_OPTS, CLI_OPTS_END};
	if (cli_args(c, argc, argv, opts, use, 1))
		return c->rc;
	if (parse_id(argv[optind], "a mapping id", use))
		return CLI_EXIT_USAGE;
	struct cli_url u;
	cli_url_init(&u, "/api/v1/model-cpes/");
	cli_url_seg(&u, argv[optind]);
	return cli_show(c, "DELETE", u.s, NULL);
}

static int vuln_model_cpe(struct cli *c, int argc, char **argv)
{
	static const struct cli_cmd cmds[] = {
	    {"list", model_cpe_list},
	    {"set", model_cpe_set},
	    {"delete", model_cpe_delete},
	};
	return cli_dispatch(c, argc, argv, cmds, sizeof(cmds) / sizeof(cmds[0]), model_cpe_usage);
}

int cli_cmd_vuln(struct cli *c, int argc, char **argv)
{
	static const struct cli_cmd cmds[] = {
	    {"findings", vuln_findings}, {"cve", vuln_cve}, {"assess", vuln_assess},
	    {"job", vuln_job},           {"vex", vuln_vex}, {"model-cpe", vuln_model_cpe},
	    {"plan", vuln_plan},
	};
	return cli_dispatch(c, argc, argv, cmds, sizeof(cmds) / sizeof(cmds[0]), usage);
}
