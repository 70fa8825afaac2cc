/*
 * cmd_rollout.c — `fleetpatch rollout …`: staged rollouts (/api/v1/rollouts)
 * and their change control. `status` prints per-phase counts and, on a
 * terminal with --watch, a live progress bar until the rollout finishes.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "http.h"
#include "output.h"

#define SPEC_FILE_MAX (64 * 1024)

static const char usage[] =
    "usage: fleetpatch rollout COMMAND ...\n"
    "\n"
    "  create --name N --release TARGET (--group G | --filter EXPR) [--spec FILE]\n"
    "         [--phase SIZE[:SOAK[:SUCCESS[:FAIL[:ACTION]]]]]... [--window DAYS,HH:MM-HH:MM]...\n"
    "         [--start-at T] [--defer D] [--rate N] [--deadline T] [--priority N] [--retries N]\n"
    "  from-plan --model M --firmware F [--manufacturer X] [--release TARGET] [--spec FILE]\n"
    "  list [--state S] [--page N] [--per-page N] [--all]\n"
    "  status ID [--watch] [--interval S]\n"
    "  devices ID [--state S] [--phase N] [--page N] [--per-page N] [--all]\n"
    "  approve ID --ticket T --reason R\n"
    "  start|pause|resume|abort|revert ID [--reason R]\n"
    "\n"
    "Each command has --help.\n";

static const struct cli_col rollout_cols[] = {
    {"ID", "id", 0},
    {"NAME", "name", 24},
    {"RELEASE", "release", 28},
    {"STATE", "state", 0},
    {"PHASE", "phase_name", 16},
    {"DONE", "progress.succeeded", 0},
    {"OF", "progress.total", 0},
    {"REASON", "reason", 40},
    {NULL, NULL, 0},
};

static const struct cli_col device_cols[] = {
    {"ID", "device_id", 0},
    {"IDENTITY", "identity", 28},
    {"PHASE", "phase", 0},
    {"STATE", "state", 0},
    {"SINCE", "since", 20},
    {"TRIES", "attempts", 0},
    {"FIRMWARE", "firmware_version", 14},
    {"REASON", "reason", 48},
    {NULL, NULL, 0},
};

static void rollout_path(struct cli_url *u, const char *id, const char *suffix)
{
	cli_url_init(u, "/api/v1/rollouts/");
	cli_url_seg(u, id);
	cli_url_add(u, suffix);
}

/*
 * Adds the members of the JSON object in spec_file that body does not have
 * yet: options given on the command line win over the file. Returns an exit code.
 */
static int merge_spec(json_t *body, const char *spec_file)
{
	char *text = NULL;
	size_t len = 0;
	int ex = cli_read_file(spec_file, SPEC_FILE_MAX, &text, &len);
	if (ex)
		return ex;
	json_error_t je;
	json_t *spec = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	free(text);
	if (!json_is_object(spec)) {
		cli_error("%s: not a JSON object: %s (line %d)", spec_file, je.text, je.line);
		json_decref(spec);
		return CLI_EXIT_USAGE;
	}
	json_object_update_missing(body, spec);
	json_decref(spec);
	return CLI_EXIT_OK;
}

/* "10%" → {"percent": 10}, "50" → {"count": 50}; NULL when malformed. */
static json_t *size_json(const char *s, const char *what)
{
	long v;
	size_t n = strlen(s);
	char buf[32];
	if (n == 0 || n >= sizeof(buf))
		return NULL;
	memcpy(buf, s, n + 1);
	int pct = buf[n - 1] == '%';
	if (pct)
		buf[n - 1] = '\0';
	if (cli_parse_long(buf, 1, pct ? 100 : LONG_MAX, &v))
		return NULL;
	(void)what;
	return json_pack("{s:I}", pct ? "percent" : "count", (json_int_t)v);
}

/*
 * --phase SIZE[:SOAK[:SUCCESS[:FAIL[:ACTION]]]], e.g. "1%:10m:100:1:revert":
 * the rollout reaches SIZE (percent or count) and holds the gate SUCCESS
 * percent for SOAK; FAIL failed devices (a count, or percent with %) trip
 * ACTION (pause, abort, revert).
 */
static json_t *phase_json(const char *arg)
{
	char buf[128], *parts[5] = {0}, *save = NULL;
	int n = 0;
	if (strlen(arg) >= sizeof(buf))
		return NULL;
	memcpy(buf, arg, strlen(arg) + 1);
	for (char *p = strtok_r(buf, ":", &save); p && n < 5; p = strtok_r(NULL, ":", &save))
		parts[n++] = p;
	if (n == 0)
		return NULL;
	json_t *ph = size_json(parts[0], "size");
	if (!ph)
		return NULL;
	if (n > 1)
		json_object_set_new(ph, "soak", json_string(parts[1]));
	long v;
	if (n > 2) {
		if (cli_parse_long(parts[2], 0, 100, &v)) {
			json_decref(ph);
			return NULL;
		}
		json_object_set_new(ph, "success", json_integer(v));
	}
	if (n > 3) {
		json_t *f = size_json(parts[3], "failure");
		if (!f) {
			json_decref(ph);
			return NULL;
		}
		if (n > 4)
			json_object_set_new(f, "action", json_string(parts[4]));
		json_object_set_new(ph, "failure", f);
	}
	return ph;
}

/* --window "sat,sun,02:00-05:00" */
static json_t *window_json(const char *arg)
{
	const char *comma = strrchr(arg, ',');
	const char *dash = comma ? strchr(comma, '-') : NULL;
	if (!comma || !dash || comma == arg)
		return NULL;
	char days[96], start[8], end[8];
	size_t dl = (size_t)(comma - arg), sl = (size_t)(dash - comma - 1);
	if (dl >= sizeof(days) || sl >= sizeof(start) || strlen(dash + 1) >= sizeof(end))
		return NULL;
	memcpy(days, arg, dl);
	days[dl] = '\0';
	memcpy(start, comma + 1, sl);
	start[sl] = '\0';
	snprintf(end, sizeof(end), "%s", dash + 1);
	return json_pack("{s:s,s:s,s:s}", "days", days, "start", start, "end", end);
}

static int rollout_create(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch rollout create --name N --release TARGET (--group G | --filter "
	    "EXPR)\n"
	    "           [--spec FILE] [--phase SIZE[:SOAK[:SUCCESS[:FAIL[:ACTION]]]]]...\n"
	    "           [--window DAYS,HH:MM-HH:MM]... [--start-at T] [--defer D] [--rate N]\n"
	    "           [--deadline T] [--priority N] [--retries N] [--json]\n"
	    "\n"
	    "Creates a rollout of a published release to a group or the devices a filter\n"
	    "selects, as a draft that another user with the approver role must approve.\n"
	    "--spec FILE reads the specification as JSON (docs/design/rollout.md); the\n"
	    "options override its members. Each --phase adds a phase, e.g.\n"
	    "  --phase 1%:30m:100:1:revert --phase 10%:1h --phase 100%\n"
	    "(size: percent or count, cumulative; soak; success gate percent; failed devices\n"
	    "that trip the action pause, abort or revert). --window 'sat,sun,02:00-05:00'\n"
	    "adds a weekly maintenance window in each device's own time zone. Times are\n"
	    "YYYY-MM-DDTHH:MM:SSZ, durations 30s, 10m, 2h or 7d.\n";
	enum {
		O_NAME = CLI_OPT_FIRST_OWN,
		O_RELEASE,
		O_GROUP,
		O_FILTER,
		O_SPEC,
		O_PHASE,
		O_WINDOW,
		O_START,
		O_DEFER,
		O_RATE,
		O_DEADLINE,
		O_PRIORITY,
		O_RETRIES
	};
	static const struct option opts[] = {
	    CLI_COMMON_OPTS,
	    {"name", required_argument, NULL, O_NAME},
	    {"release", required_argument, NULL, O_RELEASE},
	    {"group", required_argument, NULL, O_GROUP},
	    {"filter", required_argument, NULL, O_FILTER},
	    {"spec", required_argument, NULL, O_SPEC},
	    {"phase", required_argument, NULL, O_PHASE},
	    {"window", required_argument, NULL, O_WINDOW},
	    {"start-at", required_argument, NULL, O_START},
	    {"defer", required_argument, NULL, O_DEFER},
	    {"rate", required_argument, NULL, O_RATE},
	    {"deadline", required_argument, NULL, O_DEADLINE},
	    {"priority", required_argument, NULL, O_PRIORITY},
	    {"retries", required_argument, NULL, O_RETRIES},
	    CLI_OPTS_END,
	};
	json_t *body = json_object(), *phases = json_array(), *windows = json_array();
	const char *spec_file = NULL;
	int o, ex = CLI_EXIT_OK, stop = 0;
	long v;
	while (!stop && ex == CLI_EXIT_OK && (o = cli_opt(c, argc, argv, opts, use)) != -1) {
		json_t *x;
		switch (o) {
		case CLI_STOP: stop = 1; break;
		case O_NAME: json_object_set_new(body, "name", json_string(optarg)); break;
		case O_RELEASE: json_object_set_new(body, "release", json_string(optarg)); break;
		case O_GROUP: json_object_set_new(body, "group", json_string(optarg)); break;
		case O_FILTER: json_object_set_new(body, "filter", json_string(optarg)); break;
		case O_SPEC: spec_file = optarg; break;
		case O_PHASE:
			if (!(x = phase_json(optarg)))
				ex = cli_usage_error(
				    use,
				    "--phase '%s': expected SIZE[:SOAK[:SUCCESS[:FAIL[:"
				    "ACTION]]]], e.g. 10%%:1h:95:2:pause",
				    optarg);
			else
				json_array_append_new(phases, x);
			break;
		case O_WINDOW:
			if (!(x = window_json(optarg)))
				ex = cli_usage_error(use,
				                     "--window '%s': expected DAYS,HH:MM-HH:MM, "
				                     "e.g. sat,sun,02:00-05:00",
				                     optarg);
			else
				json_array_append_new(windows, x);
			break;
		case O_START: json_object_set_new(body, "start_at", json_string(optarg)); break;
		case O_DEFER: json_object_set_new(body, "defer", json_string(optarg)); break;
		case O_DEADLINE: json_object_set_new(body, "deadline", json_string(optarg)); break;
		case O_RATE:
		case O_PRIORITY:
		case O_RETRIES:
			if (cli_parse_long(optarg, 0, 1000000, &v)) {
				ex = cli_usage_error(use, "'%s' is not a number from 0", optarg);
				break;
			}
			json_object_set_new(body,
			                    o == O_RATE       ? "rate_per_minute"
			                    : o == O_PRIORITY ? "priority"
			                                      : "retries",
			                    json_integer(v));
			break;
		}
	}
	if (stop || ex) {
		ex = ex ? ex : c->rc;
		goto out;
	}
	if (cli_operands(c, argc, argv, 0, use)) {
		ex = c->rc;
		goto out;
	}
	if (spec_file && (ex = merge_spec(body, spec_file)))
		goto out;
	if (json_array_size(phases))
		json_object_set(body, "phases", phases);
	if (json_array_size(windows))
		json_object_set(body, "windows", windows);
	if (!json_object_get(body, "phases"))
		json_object_set_new(body, "phases", json_pack("[{s:i}]", "percent", 100));
	if (!json_object_get(body, "name") || !json_object_get(body, "release")) {
		ex = cli_usage_error(use, "--name and --release are required");
		goto out;
	}
	ex = cli_show(c, "POST", "/api/v1/rollouts", body);
out:
	json_decref(body);
	json_decref(phases);
	json_decref(windows);
	return ex;
}

static int rollout_from_plan(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch rollout from-plan --model M --firmware F [--manufacturer X]\n"
	    "           [--release TARGET] [--name N] [--spec FILE] [--json]\n"
	    "\n"
	    "Turns a row of the remediation plan ('fleetpatch vuln plan') into a draft\n"
	    "rollout of its release (the recommended one unless --release names another) to\n"
	    "the devices that run firmware F on model M. --spec FILE gives the phases and\n"
	    "the rest of the specification as JSON; by default a 10% canary that soaks an\n"
	    "hour, then everyone.\n";
	enum { O_MODEL = CLI_OPT_FIRST_OWN, O_FW, O_MAN, O_REL, O_NAME, O_SPEC };
	static const struct option opts[] = {
	    CLI_COMMON_OPTS,
	    {"model", required_argument, NULL, O_MODEL},
	    {"firmware", required_argument, NULL, O_FW},
	    {"manufacturer", required_argument, NULL, O_MAN},
	    {"release", required_argument, NULL, O_REL},
	    {"name", required_argument, NULL, O_NAME},
	    {"spec", required_argument, NULL, O_SPEC},
	    CLI_OPTS_END,
	};
	static const char *const keys[] = {"",        "model", "firmware_version", "manufacturer",
	                                   "release", "name"};
	json_t *body = json_object();
	const char *spec_file = NULL;
	int o, ex = CLI_EXIT_OK;
	while ((o = cli_opt(c, argc, argv, opts, use)) != -1) {
		if (o == CLI_STOP) {
			ex = c->rc;
			goto out;
		}
		if (o == O_SPEC)
			spec_file = optarg;
		else if (o >= O_MODEL && o <= O_NAME)
			json_object_set_new(body, keys[o - O_MODEL + 1], json_string(optarg));
	}
	if (cli_operands(c, argc, argv, 0, use)) {
		ex = c->rc;
		goto out;
	}
	if (!json_object_get(body, "model") || !json_object_get(body, "firmware_version")) {
		ex = cli_usage_error(use, "--model and --firmware are required");
		goto out;
	}
	if (spec_file && (ex = merge_spec(body, spec_file)))
		goto out;
	ex = cli_show(c, "POST", "/api/v1/remediation/rollouts", body);
out:
	json_decref(body);
	return ex;
}

static int rollout_list(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch rollout list [--state S] [--page N] [--per-page N] [--all] "
	    "[--json]\n"
	    "\n"
	    "Lists rollouts, newest first; --state draft, approved, running, waiting_approval,\n"
	    "paused, reverting, completed, aborted or reverted.\n";
	enum { O_STATE = CLI_OPT_FIRST_OWN };
	static const struct option opts[] = {CLI_COMMON_OPTS,
	                                     CLI_PAGING_OPTS,
	                                     {"state", required_argument, NULL, O_STATE},
	                                     CLI_OPTS_END};
	const char *state = NULL;
	int o;
	while ((o = cli_opt(c, argc, argv, opts, use)) != -1) {
		if (o == CLI_STOP)
			return c->rc;
		if (o == O_STATE)
			state = optarg;
	}
	if (cli_operands(c, argc, argv, 0, use))
		return c->rc;
	struct cli_url u;
	cli_url_init(&u, "/api/v1/rollouts");
	if (state) {
		cli_url_add(&u, "?state=");
		cli_url_seg(&u, state);
	}
	return cli_list(c, u.s, rollout_cols);
}

static int finished(const char *state)
{
	return state && (strcmp(state, "completed") == 0 || strcmp(state, "aborted") == 0 ||
	                 strcmp(state, "reverted") == 0);
}

/* The human view: the rollout, then one line per phase with its counts. */
static void print_status(const json_t *ro)
{
	const json_t *phases = json_object_get(ro, "phases");
	char reason[256];
	cli_clean_text(json_string_value(json_object_get(ro, "reason")), reason, sizeof(reason));
	printf("rollout %lld '%s': %s of %s (%s), state %s%s%s\n",
	       (long long)json_integer_value(json_object_get(ro, "id")),
	       json_string_value(json_object_get(ro, "name")),
	       json_string_value(json_object_get(ro, "release")),
	       json_string_value(json_object_get(ro, "release_version")),
	       json_string_value(json_object_get(ro, "approved_by")) ? "approved" : "not approved",
	       json_string_value(json_object_get(ro, "state")), reason[0] ? ": " : "", reason);
	const json_t *pg = json_object_get(ro, "progress");
	printf("progress: %lld of %lld devices updated (%.1f%%)\n",
	       (long long)json_integer_value(json_object_get(pg, "succeeded")),
	       (long long)json_integer_value(json_object_get(pg, "total")),
	       json_real_value(json_object_get(pg, "percent")));
	printf("%-3s %-16s %-9s %7s %9s %9s %10s %9s %7s %9s  %s\n", "#", "PHASE", "STATUS",
	       "DEVICES", "SUCCEEDED", "FAILED", "INSTALLING", "ASSIGNED", "WAITING", "GATE",
	       "SOAK");
	size_t i;
	const json_t *p;
	json_array_foreach(phases, i, p)
	{
		const json_t *cnt = json_object_get(p, "counts"),
		             *gate = json_object_get(p, "gate");
#define N(k) (long long)json_integer_value(json_object_get(cnt, k))
		char g[32];
		snprintf(g, sizeof(g), "%lld/%lld%s",
		         (long long)json_integer_value(json_object_get(gate, "succeeded")),
		         (long long)json_integer_value(json_object_get(gate, "needed")),
		         json_is_true(json_object_get(gate, "met")) ? "+" : "");
		printf("%-3zu %-16.16s %-9s %7lld %9lld %9lld %10lld %9lld %7lld %9s  %llds%s\n", i,
		       json_string_value(json_object_get(p, "name")),
		       json_string_value(json_object_get(p, "status")),
		       (long long)json_integer_value(json_object_get(p, "devices")), N("succeeded"),
		       N("failed"), N("installing"), N("assigned"), N("waiting") + N("pending"), g,
		       (long long)json_integer_value(json_object_get(p, "soak_s")),
		       json_is_true(json_object_get(p, "tripped")) ? " (threshold tripped)" : "");
#undef N
	}
}

static int rollout_status(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch rollout status ID [--watch] [--interval S] [--json]\n"
	    "\n"
	    "Shows a rollout's state and per-phase counts. --watch polls every --interval\n"
	    "seconds (default 2) with a live progress bar on a terminal until the rollout\n"
	    "completes, aborts or is reverted; the exit code is then 0 for completed, 1 else.\n";
	enum { O_WATCH = CLI_OPT_FIRST_OWN, O_INTERVAL };
	static const struct option opts[] = {CLI_COMMON_OPTS,
	                                     {"watch", no_argument, NULL, O_WATCH},
	                                     {"interval", required_argument, NULL, O_INTERVAL},
	                                     CLI_OPTS_END};
	int o, watch = 0;
	long interval = 2;
	while ((o = cli_opt(c, argc, argv, opts, use)) != -1) {
		if (o == CLI_STOP)
			return c->rc;
		if (o == O_WATCH)
			watch = 1;
		else if (o == O_INTERVAL && cli_parse_long(optarg, 1, 3600, &interval))
			return cli_usage_error(use, "--interval: seconds from 1 to 3600");
	}
	if (cli_operands(c, argc, argv, 1, use))
		return c->rc;
	struct cli_url u;
	rollout_path(&u, argv[optind], "");
	if (!watch && c->json)
		return cli_call(c, "GET", u.s, NULL, NULL);
	if (!watch) {
		json_t *ro = NULL;
		int ex = cli_api(c, "GET", u.s, NULL, NULL, &ro);
		if (ex == CLI_EXIT_OK)
			print_status(ro);
		json_decref(ro);
		return ex;
	}
	for (;;) {
		json_t *ro = NULL;
		int ex = cli_api(c, "GET", u.s, NULL, NULL, &ro);
		if (ex != CLI_EXIT_OK)
			return ex;
		const char *state = json_string_value(json_object_get(ro, "state"));
		const json_t *pg = json_object_get(ro, "progress");
		if (c->tty_err) {
			char label[64];
			snprintf(label, sizeof(label), "%s %s", state ? state : "?",
			         json_string_value(json_object_get(ro, "phase_name")));
			cli_progress(label,
			             (double)json_integer_value(json_object_get(pg, "succeeded")),
			             (double)json_integer_value(json_object_get(pg, "total")));
		}
		if (finished(state)) {
			if (c->tty_err)
				cli_progress_end();
			if (c->json) {
				char *s = json_dumps(ro, JSON_INDENT(2));
				if (s)
					printf("%s\n", s);
				free(s);
			} else {
				print_status(ro);
			}
			ex = strcmp(state, "completed") == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
			json_decref(ro);
			return ex;
		}
		json_decref(ro);
		struct timespec ts = {interval, 0};
		nanosleep(&ts, NULL);
	}
}

static int rollout_devices(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch rollout devices ID [--state S] [--phase N] [--page N] [--per-page "
	    "N]\n"
	    "           [--all] [--json]\n"
	    "\n"
	    "Lists a rollout's devices in rollout order with their state and last failure.\n";
	enum { O_STATE = CLI_OPT_FIRST_OWN, O_PHASE };
	static const struct option opts[] = {CLI_COMMON_OPTS,
	                                     CLI_PAGING_OPTS,
	                                     {"state", required_argument, NULL, O_STATE},
	                                     {"phase", required_argument, NULL, O_PHASE},
	                                     CLI_OPTS_END};
	const char *state = NULL, *phase = NULL;
	int o;
	while ((o = cli_opt(c, argc, argv, opts, use)) != -1) {
		if (o == CLI_STOP)
			return c->rc;
		if (o == O_STATE)
			state = optarg;
		else if (o == O_PHASE)
			phase = optarg;
	}
	if (cli_operands(c, argc, argv, 1, use))
		return c->rc;
	struct cli_url u;
	rollout_path(&u, argv[optind], "/devices");
	const char *sep = "?";
	if (state) {
		cli_url_add(&u, "?state=");
		cli_url_seg(&u, state);
		sep = "&";
	}
	if (phase) {
		cli_url_add(&u, sep);
		cli_url_add(&u, "phase=");
		cli_url_seg(&u, phase);
	}
	return cli_list(c, u.s, device_cols);
}

static int rollout_approve(struct cli *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: fleetpatch rollout approve ID --ticket T --reason R [--json]\n"
	    "\n"
	    "Approves a draft rollout, or the next phase of one waiting for its approval.\n"
	    "Needs the approver role, and another user than the rollout's creator.\n";
	enum { O_TICKET = CLI_OPT_FIRST_OWN, O_REASON };
	static const struct option opts[] = {CLI_COMMON_OPTS,
	                                     {"ticket", required_argument, NULL, O_TICKET},
	                                     {"reason", required_argument, NULL, O_REASON},
	                                     CLI_OPTS_END};
	const char *ticket = NULL, *reason = NULL;
	int o;
	while ((o = cli_opt(c, argc, argv, opts, use)) != -1) {
		if (o == CLI_STOP)
			return c->rc;
		if (o == O_TICKET)
			ticket = optarg;
		else if (o == O_REASON)
			reason = optarg;
	}
	if (cli_operands(c, argc, argv, 1, use))
		return c->rc;
	if (!ticket || !reason)
		return cli_usage_error(use, "--ticket and --reason are required");
	struct cli_url u;
	rollout_path(&u, argv[optind], "/approve");
	json_t *body = json_pack("{s:s,s:s}", "ticket", ticket, "reason", reason);
	int ex = cli_show(c, "POST", u.s, body);
	json_decref(body);
	return ex;
}

/* start, pause, resume, abort, revert: an id and an optional reason. */
static int rollout_step(struct cli *c, int argc, char **argv, const char *verb, const char *use)
{
	enum { O_REASON = CLI_OPT_FIRST_OWN };
	static const struct option opts[] = {
	    CLI_COMMON_OPTS, {"reason", required_argument, NULL, O_REASON}, CLI_OPTS_END};
	const char *reason = NULL;
	int o;
	while ((o = cli_opt(c, argc, argv, opts, use)) != -1) {
		if (o == CLI_STOP)
			return c->rc;
		if (o == O_REASON)
			reason = optarg;
	}
	if (cli_operands(c, argc, argv, 1, use))
		return c->rc;
	struct cli_url u;
	rollout_path(&u, argv[optind], "/");
	cli_url_add(&u, verb);
	json_t *body = reason ? json_pack("{s:s}", "reason", reason) : json_object();
	int ex = cli_show(c, "POST", u.s, body);
	json_decref(body);
	return ex;
}

#define STEP(fn, verb, text)                                                                       \
	static int fn(struct cli *c, int argc, char **argv)                                        \
	{                                                                                          \
		return rollout_step(c, argc, argv, verb,                                           \
		                    "usage: fleetpatch rollout " verb                              \
		                    " ID [--reason R] [--json]\n\n" text);                         \
	}
STEP(rollout_start, "start", "Starts an approved rollout (at its start time, if it has one).\n")
STEP(rollout_pause, "pause", "Pauses a rollout: no new device is assigned until it resumes.\n")
STEP(rollout_resume, "resume", "Resumes a paused rollout.\n")
STEP(rollout_abort, "abort",
     "Aborts a rollout for good; assignments not yet started are withdrawn.\n")
STEP(rollout_revert, "revert",
     "Reinstalls the previous release on the devices this rollout updated.\n")
#undef STEP

int cli_cmd_rollout(struct cli *c, int argc, char **argv)
{
	static const struct cli_cmd cmds[] = {
	    {"create", rollout_create},   {"from-plan", rollout_from_plan},
	    {"list", rollout_list},       {"status", rollout_status},
	    {"devices", rollout_devices}, {"approve", rollout_approve},
	    {"start", rollout_start},     {"pause", rollout_pause},
	    {"resume", rollout_resume},   {"abort", rollout_abort},
	    {"revert", rollout_revert},
	};
	return cli_dispatch(c, argc, argv, cmds, sizeof(cmds) / sizeof(cmds[0]), usage);
}
