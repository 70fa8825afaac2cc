/*
 * rollout.c — the pure decision core of staged rollouts (rollout.h).
 *
 * The rules are written down in docs/design/rollout.md under "The decision
 * core (lib/rollout.c)"; the comments here point at the step letters used
 * there. Nothing in this file reads a clock or does I/O: the caller passes
 * the time and persists whatever this file marks dirty.
 */
#include "fleetpatch/rollout.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleetpatch/tuf.h"

#define DURATION_DIGITS_MAX 12
#define EVENTS_PER_TICK_MAX 16 /* events one tick or command can emit, with room to spare */

/* ---- Names ------------------------------------------------------------------------------ */

static const char *const state_names[FP_RS_COUNT] = {
    "draft",     "approved",  "running", "waiting_approval", "paused",
    "reverting", "completed", "aborted", "reverted",
};

static const char *const dev_state_names[FP_RD_COUNT] = {
    "pending", "waiting",   "assigned", "installing", "succeeded",
    "failed",  "reverting", "reverted", "cancelled",  "superseded",
};

static const char *const command_names[FP_CMD_COUNT] = {
    "approve", "start", "pause", "resume", "abort", "revert",
};

/* The past participle of each command, for refusals ("it cannot be paused"). */
static const char *const command_done[FP_CMD_COUNT] = {
    "approved", "started", "paused", "resumed", "aborted", "reverted",
};

const char *fp_rollout_state_name(enum fp_rollout_state s)
{
	return (unsigned)s < FP_RS_COUNT ? state_names[s] : "?";
}

int fp_rollout_state_from_name(const char *s, enum fp_rollout_state *out)
{
	for (int i = 0; s && i < FP_RS_COUNT; i++)
		if (strcmp(s, state_names[i]) == 0) {
			*out = (enum fp_rollout_state)i;
			return 0;
		}
	return FP_EINVAL;
}

const char *fp_rollout_dev_state_name(enum fp_rollout_dev_state s)
{
	return (unsigned)s < FP_RD_COUNT ? dev_state_names[s] : "?";
}

int fp_rollout_dev_state_from_name(const char *s, enum fp_rollout_dev_state *out)
{
	for (int i = 0; s && i < FP_RD_COUNT; i++)
		if (strcmp(s, dev_state_names[i]) == 0) {
			*out = (enum fp_rollout_dev_state)i;
			return 0;
		}
	return FP_EINVAL;
}

const char *fp_rollout_command_name(enum fp_rollout_command c)
{
	return (unsigned)c < FP_CMD_COUNT ? command_names[c] : "?";
}

int fp_rollout_is_terminal(enum fp_rollout_state s)
{
	return s == FP_RS_COMPLETED || s == FP_RS_ABORTED || s == FP_RS_REVERTED;
}

/* ---- Specification ---------------------------------------------------------------------- */

static const char *const action_names[] = {"pause", "abort", "revert"};

/* Refuses members of o that are not in the NULL-terminated list. */
static int only_members(const json_t *o, const char *where, const char *const *allowed,
                        struct fp_err *err)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)o, k, v)
	{
		int ok = 0;
		for (size_t i = 0; allowed[i]; i++)
			if (strcmp(k, allowed[i]) == 0)
				ok = 1;
		if (!ok)
			return fp_err_set(err, FP_EINVAL, "%s%sunknown member \"%.64s\"", where,
			                  *where ? ": " : "", k);
	}
	return 0;
}

static int get_int(const json_t *v, const char *where, int64_t lo, int64_t hi, int64_t *out,
                   struct fp_err *err)
{
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return fp_err_set(err, FP_EINVAL, "%s: must be an integer %lld-%lld", where,
		                  (long long)lo, (long long)hi);
	*out = json_integer_value(v);
	return 0;
}

/* A duration: an integer of seconds, or a string "<n>" or "<n>s|m|h|d". */
static int get_duration(const json_t *v, const char *where, int64_t *out, struct fp_err *err)
{
	if (json_is_integer(v))
		return get_int(v, where, 0, FP_ROLLOUT_DURATION_MAX, out, err);
	const char *s = json_string_value(v);
	const char *msg = "must be a duration such as \"30s\", \"10m\", \"2h\" or \"7d\"";
	if (!s)
		return fp_err_set(err, FP_EINVAL, "%s: %s", where, msg);
	int64_t n = 0;
	size_t i = 0;
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		if (i >= DURATION_DIGITS_MAX)
			return fp_err_set(err, FP_EINVAL, "%s: %s", where, msg);
		n = n * 10 + (s[i] - '0');
	}
	if (i == 0)
		return fp_err_set(err, FP_EINVAL, "%s: %s", where, msg);
	int64_t unit = 1;
	if (s[i]) {
		switch (s[i]) {
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		default: return fp_err_set(err, FP_EINVAL, "%s: %s", where, msg);
		}
		if (s[i + 1])
			return fp_err_set(err, FP_EINVAL, "%s: %s", where, msg);
	}
	if (n > FP_ROLLOUT_DURATION_MAX / unit)
		return fp_err_set(err, FP_EINVAL, "%s: must be at most %lld seconds (one year)",
		                  where, FP_ROLLOUT_DURATION_MAX);
	*out = n * unit;
	return 0;
}

static int get_time(const json_t *v, const char *where, int64_t *out, struct fp_err *err)
{
	struct fp_err e2;
	if (!json_is_string(v) || fp_tuf_time_parse(json_string_value(v), out, &e2))
		return fp_err_set(err, FP_EINVAL, "%s: must be a time \"YYYY-MM-DDTHH:MM:SSZ\"",
		                  where);
	/* 0 means "not given", and the stored form has no years before 1970. */
	if (*out <= 0)
		return fp_err_set(err, FP_EINVAL, "%s: must be after 1970-01-01T00:00:00Z", where);
	return 0;
}

static int valid_phase_name(const char *s)
{
	size_t len = strlen(s);
	if (len < 1 || len >= FP_ROLLOUT_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

/* Exactly one of "percent" and "count" in o, as a size. */
static int get_size(const json_t *o, const char *where, int64_t count_max,
                    enum fp_rollout_size *kind, int64_t *size, struct fp_err *err)
{
	char w[96];
	const json_t *p = json_object_get(o, "percent"), *c = json_object_get(o, "count");
	if ((p != NULL) == (c != NULL))
		return fp_err_set(err, FP_EINVAL,
		                  "%s: needs exactly one of \"percent\" and \"count\"", where);
	if (p) {
		*kind = FP_SIZE_PERCENT;
		snprintf(w, sizeof(w), "%s.percent", where);
		return get_int(p, w, 1, 100, size, err);
	}
	*kind = FP_SIZE_COUNT;
	snprintf(w, sizeof(w), "%s.count", where);
	return get_int(c, w, 1, count_max, size, err);
}

static int phase_from_json(const json_t *o, size_t i, struct fp_rollout_phase *ph,
                           struct fp_err *err)
{
	static const char *const members[] = {"name",    "percent", "count",    "soak",
	                                      "success", "failure", "approval", NULL};
	static const char *const fmembers[] = {"percent", "count", "action", NULL};
	char where[48], w[96];
	int64_t v = 0;
	int rc;
	snprintf(where, sizeof(where), "phases[%zu]", i);
	if (!json_is_object(o))
		return fp_err_set(err, FP_EINVAL, "%s: must be an object", where);
	if ((rc = only_members(o, where, members, err)))
		return rc;
	const json_t *name = json_object_get(o, "name");
	if (name) {
		if (!json_is_string(name) || !valid_phase_name(json_string_value(name)))
			return fp_err_set(err, FP_EINVAL,
			                  "%s.name: must be 1-63 characters of A-Z, a-z, 0-9, '.', "
			                  "'_' and '-'",
			                  where);
		snprintf(ph->name, sizeof(ph->name), "%s", json_string_value(name));
	} else {
		snprintf(ph->name, sizeof(ph->name), "phase-%zu", i + 1);
	}
	if ((rc = get_size(o, where, FP_ROLLOUT_DEVICES_MAX, &ph->size_kind, &ph->size, err)))
		return rc;
	const json_t *x;
	if ((x = json_object_get(o, "soak"))) {
		snprintf(w, sizeof(w), "%s.soak", where);
		if ((rc = get_duration(x, w, &ph->soak_s, err)))
			return rc;
	}
	ph->success_pct = 100;
	if ((x = json_object_get(o, "success"))) {
		snprintf(w, sizeof(w), "%s.success", where);
		if ((rc = get_int(x, w, 0, 100, &v, err)))
			return rc;
		ph->success_pct = (int)v;
	}
	ph->fail_kind = FP_SIZE_COUNT;
	ph->fail_threshold = 1;
	ph->fail_action = FP_FAIL_PAUSE;
	if ((x = json_object_get(o, "failure"))) {
		snprintf(w, sizeof(w), "%s.failure", where);
		if (!json_is_object(x))
			return fp_err_set(err, FP_EINVAL, "%s: must be an object", w);
		if ((rc = only_members(x, w, fmembers, err)))
			return rc;
		if ((rc = get_size(x, w, FP_ROLLOUT_DEVICES_MAX, &ph->fail_kind,
		                   &ph->fail_threshold, err)))
			return rc;
		const json_t *a = json_object_get(x, "action");
		if (a) {
			const char *s = json_string_value(a);
			int found = -1;
			for (int k = 0; s && k < 3; k++)
				if (strcmp(s, action_names[k]) == 0)
					found = k;
			if (found < 0)
				return fp_err_set(
				    err, FP_EINVAL,
				    "%s.action: must be \"pause\", \"abort\" or \"revert\"", w);
			ph->fail_action = (enum fp_rollout_fail_action)found;
		}
	}
	if ((x = json_object_get(o, "approval"))) {
		if (!json_is_boolean(x))
			return fp_err_set(err, FP_EINVAL, "%s.approval: must be true or false",
			                  where);
		ph->approval = json_is_true(x);
	}
	return 0;
}

static int timeouts_from_json(const json_t *o, struct fp_rollout_spec *s, struct fp_err *err)
{
	static const char *const members[] = {"assigned", "installing", "reverting", NULL};
	int64_t *dst[3] = {&s->timeout_assigned_s, &s->timeout_installing_s,
	                   &s->timeout_reverting_s};
	char w[48];
	int rc;
	if (!json_is_object(o))
		return fp_err_set(err, FP_EINVAL, "timeouts: must be an object");
	if ((rc = only_members(o, "timeouts", members, err)))
		return rc;
	for (int i = 0; i < 3; i++) {
		const json_t *x = json_object_get(o, members[i]);
		if (!x)
			continue;
		snprintf(w, sizeof(w), "timeouts.%s", members[i]);
		if ((rc = get_duration(x, w, dst[i], err)))
			return rc;
		/* A timeout of 0 would fail every device on the tick after its assignment. */
		if (*dst[i] < 1)
			return fp_err_set(err, FP_EINVAL, "%s: must be at least 1 s", w);
	}
	return 0;
}

static int windows_from_json(const json_t *a, struct fp_rollout_spec *s, struct fp_err *err)
{
	static const char *const members[] = {"days", "start", "end", NULL};
	char where[48];
	int rc;
	if (!json_is_array(a))
		return fp_err_set(err, FP_EINVAL, "windows: must be an array");
	if (json_array_size(a) == 0)
		return fp_err_set(err, FP_EINVAL,
		                  "windows: a rollout with an empty windows list would never run; "
		                  "omit windows instead");
	for (size_t i = 0; i < json_array_size(a); i++) {
		const json_t *o = json_array_get(a, i);
		struct fp_err e2;
		snprintf(where, sizeof(where), "windows[%zu]", i);
		if (!json_is_object(o))
			return fp_err_set(err, FP_EINVAL, "%s: must be an object", where);
		if ((rc = only_members(o, where, members, err)))
			return rc;
		const char *d = json_string_value(json_object_get(o, "days")),
		           *st = json_string_value(json_object_get(o, "start")),
		           *en = json_string_value(json_object_get(o, "end"));
		if (!d || !st || !en)
			return fp_err_set(err, FP_EINVAL,
			                  "%s: needs the strings \"days\", \"start\" and \"end\"",
			                  where);
		rc = fp_window_parse(d, st, en, s->window, &s->nwindows, &e2);
		if (rc)
			return fp_err_set(err, rc, "%s: %s", where, e2.msg);
	}
	return 0;
}

int fp_rollout_spec_from_json(const json_t *j, struct fp_rollout_spec *out, struct fp_err *err)
{
	static const char *const members[] = {"phases",          "start_at", "defer",    "windows",
	                                      "rate_per_minute", "deadline", "priority", "retries",
	                                      "timeouts",        NULL};
	struct fp_rollout_spec *s = calloc(1, sizeof(*s));
	const json_t *x;
	int64_t v = 0;
	int rc = 0;
	if (!s)
		return fp_err_set(err, FP_ENOMEM, "rollout: out of memory");
	s->timeout_assigned_s = 86400;
	s->timeout_installing_s = 7200;
	s->timeout_reverting_s = 7200;
	if (!json_is_object(j)) {
		rc = fp_err_set(err, FP_EINVAL, "rollout: the specification must be an object");
		goto out;
	}
	if ((rc = only_members(j, "", members, err)))
		goto out;
	const json_t *ph = json_object_get(j, "phases");
	if (!json_is_array(ph) || json_array_size(ph) < 1 ||
	    json_array_size(ph) > FP_ROLLOUT_PHASES_MAX) {
		rc = fp_err_set(err, FP_EINVAL, "phases: must be an array of 1-%d phases",
		                FP_ROLLOUT_PHASES_MAX);
		goto out;
	}
	s->nphases = json_array_size(ph);
	for (size_t i = 0; i < s->nphases; i++) {
		struct fp_rollout_phase *p = &s->phase[i];
		if ((rc = phase_from_json(json_array_get(ph, i), i, p, err)))
			goto out;
		for (size_t k = 0; k < i; k++)
			if (strcmp(s->phase[k].name, p->name) == 0) {
				rc = fp_err_set(err, FP_EINVAL,
				                "phases[%zu].name: \"%s\" is already the name of "
				                "phases[%zu]",
				                i, p->name, k);
				goto out;
			}
		/* Sizes are cumulative: a phase must reach further than the one before. */
		if (i > 0 && p->size_kind == s->phase[i - 1].size_kind &&
		    p->size <= s->phase[i - 1].size) {
			rc = fp_err_set(err, FP_EINVAL,
			                "phases[%zu].%s: sizes are cumulative and must increase "
			                "from phase to phase (%lld after %lld)",
			                i, p->size_kind == FP_SIZE_PERCENT ? "percent" : "count",
			                (long long)p->size, (long long)s->phase[i - 1].size);
			goto out;
		}
	}
	const struct fp_rollout_phase *last = &s->phase[s->nphases - 1];
	if (last->size_kind != FP_SIZE_PERCENT || last->size != 100) {
		rc = fp_err_set(
		    err, FP_EINVAL, "phases[%zu].%s: the last phase must be 100 percent",
		    s->nphases - 1, last->size_kind == FP_SIZE_PERCENT ? "percent" : "count");
		goto out;
	}
	if ((x = json_object_get(j, "start_at")) &&
	    (rc = get_time(x, "start_at", &s->start_at, err)))
		goto out;
	if ((x = json_object_get(j, "defer")) && (rc = get_duration(x, "defer", &s->defer_s, err)))
		goto out;
	if ((x = json_object_get(j, "windows")) && (rc = windows_from_json(x, s, err)))
		goto out;
	if ((x = json_object_get(j, "rate_per_minute")) &&
	    (rc = get_int(x, "rate_per_minute", 0, FP_ROLLOUT_RATE_MAX, &s->rate_per_min, err)))
		goto out;
	if ((x = json_object_get(j, "deadline")) &&
	    (rc = get_time(x, "deadline", &s->deadline, err)))
		goto out;
	if (s->deadline && s->start_at && s->deadline <= s->start_at) {
		rc = fp_err_set(err, FP_EINVAL, "deadline: must be after start_at");
		goto out;
	}
	if ((x = json_object_get(j, "priority"))) {
		if ((rc = get_int(x, "priority", 0, FP_ROLLOUT_PRIORITY_MAX, &v, err)))
			goto out;
		s->priority = (int)v;
	}
	if ((x = json_object_get(j, "retries"))) {
		if ((rc = get_int(x, "retries", 0, FP_ROLLOUT_RETRIES_MAX, &v, err)))
			goto out;
		s->retries = (int)v;
	}
	if ((x = json_object_get(j, "timeouts")) && (rc = timeouts_from_json(x, s, err)))
		goto out;
	*out = *s;
out:
	free(s);
	return rc;
}

/* A duration in the largest unit that divides it. */
static json_t *duration_json(int64_t d)
{
	char b[32];
	if (d > 0 && d % 86400 == 0)
		snprintf(b, sizeof(b), "%lldd", (long long)(d / 86400));
	else if (d > 0 && d % 3600 == 0)
		snprintf(b, sizeof(b), "%lldh", (long long)(d / 3600));
	else if (d > 0 && d % 60 == 0)
		snprintf(b, sizeof(b), "%lldm", (long long)(d / 60));
	else
		snprintf(b, sizeof(b), "%llds", (long long)d);
	return json_string(b);
}

static json_t *time_json(int64_t t)
{
	char b[21];
	if (fp_tuf_time_format(t, b, NULL))
		return NULL;
	return json_string(b);
}

static json_t *size_json(enum fp_rollout_size kind, int64_t size)
{
	return json_pack("{s:I}", kind == FP_SIZE_PERCENT ? "percent" : "count", (json_int_t)size);
}

static json_t *window_json(const struct fp_window *w)
{
	static const char *const days[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
	char st[8], en[8];
	int a = w->start % 1440, e = a + w->length;
	snprintf(st, sizeof(st), "%02d:%02d", a / 60, a % 60);
	/* 24:00 is how a window that ends at midnight is written when it starts at 00:00. */
	if (e == 1440)
		snprintf(en, sizeof(en), "24:00");
	else
		snprintf(en, sizeof(en), "%02d:%02d", (e % 1440) / 60, e % 60);
	return json_pack("{s:s,s:s,s:s}", "days", days[(w->start / 1440) % 7], "start", st, "end",
	                 en);
}

json_t *fp_rollout_spec_to_json(const struct fp_rollout_spec *s)
{
	/*
	 * jansson's *_set_new and *_append_new take the value even when they
	 * fail (or when the container is NULL), so every call is made and the
	 * failures are collected with |=: nothing leaks on a failed allocation.
	 */
	json_t *j = json_object(), *phases = json_array();
	int bad = 0;
	for (size_t i = 0; i < s->nphases; i++) {
		const struct fp_rollout_phase *p = &s->phase[i];
		json_t *o = size_json(p->size_kind, p->size);
		json_t *f = size_json(p->fail_kind, p->fail_threshold);
		bad |=
		    json_object_set_new(f, "action", json_string(action_names[p->fail_action % 3]));
		bad |= json_object_set_new(o, "name", json_string(p->name));
		bad |= json_object_set_new(o, "soak", duration_json(p->soak_s));
		bad |= json_object_set_new(o, "success", json_integer(p->success_pct));
		bad |= json_object_set_new(o, "failure", f);
		bad |= json_object_set_new(o, "approval", json_boolean(p->approval));
		bad |= json_array_append_new(phases, o);
	}
	bad |= json_object_set_new(j, "phases", phases);
	if (s->start_at)
		bad |= json_object_set_new(j, "start_at", time_json(s->start_at));
	if (s->deadline)
		bad |= json_object_set_new(j, "deadline", time_json(s->deadline));
	if (s->nwindows) {
		json_t *windows = json_array();
		for (size_t i = 0; i < s->nwindows; i++)
			bad |= json_array_append_new(windows, window_json(&s->window[i]));
		bad |= json_object_set_new(j, "windows", windows);
	}
	json_t *t = json_object();
	bad |= json_object_set_new(t, "assigned", duration_json(s->timeout_assigned_s));
	bad |= json_object_set_new(t, "installing", duration_json(s->timeout_installing_s));
	bad |= json_object_set_new(t, "reverting", duration_json(s->timeout_reverting_s));
	bad |= json_object_set_new(j, "timeouts", t);
	bad |= json_object_set_new(j, "defer", duration_json(s->defer_s));
	bad |= json_object_set_new(j, "rate_per_minute", json_integer(s->rate_per_min));
	bad |= json_object_set_new(j, "priority", json_integer(s->priority));
	bad |= json_object_set_new(j, "retries", json_integer(s->retries));
	if (bad) {
		json_decref(j);
		return NULL;
	}
	return j;
}

void fp_rollout_phase_sizes(const struct fp_rollout_spec *s, size_t n,
                            size_t cum[FP_ROLLOUT_PHASES_MAX])
{
	size_t prev = 0;
	for (size_t i = 0; i < FP_ROLLOUT_PHASES_MAX; i++) {
		if (i >= s->nphases) {
			cum[i] = n;
			continue;
		}
		const struct fp_rollout_phase *p = &s->phase[i];
		uint64_t want;
		if (p->size_kind == FP_SIZE_PERCENT)
			want = ((uint64_t)p->size * n + 99) / 100;
		else
			want = p->size > 0 ? (uint64_t)p->size : 0;
		if (i == s->nphases - 1)
			want = n;
		/* Every phase gets at least one device while devices remain. */
		if (want <= prev)
			want = prev + 1;
		if (want > n)
			want = n;
		cum[i] = prev = (size_t)want;
	}
}

/* ---- Runtime helpers -------------------------------------------------------------------- */

void fp_rollout_actions_free(struct fp_rollout_actions *a)
{
	free(a->v);
	a->v = NULL;
	a->n = a->cap = 0;
}

/* Makes room for extra more actions, so the steps that follow cannot fail. */
static int reserve(struct fp_rollout_actions *a, size_t extra)
{
	if (a->cap - a->n >= extra)
		return 0;
	size_t cap = a->cap ? a->cap : 16;
	while (cap - a->n < extra)
		cap *= 2;
	struct fp_rollout_action *v = realloc(a->v, cap * sizeof(*v));
	if (!v)
		return FP_ENOMEM;
	a->v = v;
	a->cap = cap;
	return 0;
}

/* Appends a device action; room was reserved. */
static void act_dev(struct fp_rollout_actions *a, enum fp_rollout_action_kind k, size_t dev)
{
	struct fp_rollout_action *x = &a->v[a->n++];
	memset(x, 0, sizeof(*x));
	x->kind = k;
	x->dev = dev;
}

static void event(struct fp_rollout_actions *a, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends an event; room was reserved. */
static void event(struct fp_rollout_actions *a, const char *name, const char *fmt, ...)
{
	struct fp_rollout_action *x = &a->v[a->n++];
	va_list ap;
	memset(x, 0, sizeof(*x));
	x->kind = FP_ACT_EVENT;
	snprintf(x->event, sizeof(x->event), "%s", name);
	va_start(ap, fmt);
	vsnprintf(x->detail, sizeof(x->detail), fmt, ap);
	va_end(ap);
}

static void dev_set(struct fp_rollout_dev *d, enum fp_rollout_dev_state s, int64_t now)
{
	d->state = s;
	d->since = now;
	d->dirty = 1;
}

/* The one failure path of a device attempt (reports and timeouts). */
static void dev_fail(const struct fp_rollout *r, struct fp_rollout_dev *d, const char *reason,
                     int64_t now)
{
	int going = r->state == FP_RS_RUNNING || r->state == FP_RS_WAITING_APPROVAL ||
	            r->state == FP_RS_PAUSED;
	d->failures++;
	snprintf(d->reason, sizeof(d->reason), "%s", reason);
	dev_set(d, going && d->attempts < 1 + r->spec.retries ? FP_RD_WAITING : FP_RD_FAILED, now);
}

static int64_t ceil_pct(int64_t pct, size_t total)
{
	return (int64_t)(((uint64_t)pct * total + 99) / 100);
}

/*
 * Room for the actions one tick or command can append: at most one device
 * action per device that is not settled, and a bounded number of events.
 */
static int reserve_for(struct fp_rollout_actions *out, const struct fp_rollout_dev *devs, size_t n)
{
	size_t busy = 0;
	for (size_t i = 0; i < n; i++)
		if (devs[i].state != FP_RD_REVERTED && devs[i].state != FP_RD_CANCELLED &&
		    devs[i].state != FP_RD_SUPERSEDED && devs[i].state != FP_RD_REVERTING)
			busy++;
	return reserve(out, busy + EVENTS_PER_TICK_MAX);
}

/*
 * A device cancelled after it was assigned the release: the withdrawal may
 * have come after it fetched the assignment, so what it reports about that
 * assignment is still the truth (a success there is reverted too).
 */
static int withdrawn(const struct fp_rollout_dev *d)
{
	return d->state == FP_RD_CANCELLED && d->attempts >= 1;
}

int fp_rollout_on_report(const struct fp_rollout *r, struct fp_rollout_dev *d,
                         const struct fp_rollout_report *rep, int64_t now)
{
	enum fp_rollout_dev_state s = d->state;
	char why[FP_ROLLOUT_REASON_MAX];
	const char *reason =
	    rep->reason && *rep->reason ? rep->reason : "the device reported a failure";
	switch (rep->status) {
	case FP_REP_NONE: return 0;
	case FP_REP_INSTALLING:
		if (s != FP_RD_ASSIGNED && s != FP_RD_WAITING && !withdrawn(d))
			return 0;
		dev_set(d, FP_RD_INSTALLING, now);
		return 1;
	case FP_REP_INSTALLED:
		if (s == FP_RD_REVERTING) {
			if (!rep->runs_prev)
				return 0;
			dev_set(d, FP_RD_REVERTED, now);
			return 1;
		}
		if (rep->runs_target) {
			/* The device is the truth: a success after a timeout still counts. */
			if (s != FP_RD_ASSIGNED && s != FP_RD_INSTALLING && s != FP_RD_WAITING &&
			    s != FP_RD_FAILED && !withdrawn(d))
				return 0;
			dev_set(d, FP_RD_SUCCEEDED, now);
			return 1;
		}
		if (s != FP_RD_ASSIGNED && s != FP_RD_INSTALLING)
			return 0;
		dev_fail(r, d, "reports installed but runs another version", now);
		return 1;
	case FP_REP_FAILED:
		if (s == FP_RD_REVERTING) {
			snprintf(why, sizeof(why), "revert failed: %s", reason);
			snprintf(d->reason, sizeof(d->reason), "%s", why);
			dev_set(d, FP_RD_FAILED, now);
			return 1;
		}
		if (withdrawn(d)) {
			/* Its rollout stopped: no retry. */
			d->failures++;
			snprintf(d->reason, sizeof(d->reason), "%s", reason);
			dev_set(d, FP_RD_FAILED, now);
			return 1;
		}
		if (s != FP_RD_ASSIGNED && s != FP_RD_INSTALLING)
			return 0;
		dev_fail(r, d, reason, now);
		return 1;
	}
	return 0;
}

/* Step (k): reinstalls the previous release; REVERTED when nothing is left to do. */
static int revert_pass(struct fp_rollout *r, struct fp_rollout_dev *devs, size_t n, int64_t now,
                       struct fp_rollout_actions *out)
{
	static const char no_prev[] = "not reverted: the previous release is unknown";
	int busy = 0;
	for (size_t i = 0; i < n; i++) {
		struct fp_rollout_dev *d = &devs[i];
		switch (d->state) {
		case FP_RD_SUCCEEDED:
			if (d->has_prev) {
				dev_set(d, FP_RD_REVERTING, now);
				act_dev(out, FP_ACT_REVERT, i);
				busy = 1;
			} else if (strcmp(d->reason, no_prev) != 0) {
				snprintf(d->reason, sizeof(d->reason), "%s", no_prev);
				d->dirty = 1;
			}
			break;
		case FP_RD_ASSIGNED:
			/* It may have fetched the assignment already: wait until it settles. */
			act_dev(out, FP_ACT_WITHDRAW, i);
			dev_set(d, FP_RD_CANCELLED, now);
			busy = 1;
			break;
		case FP_RD_CANCELLED:
			if (d->unsettled && now - d->since <= r->spec.timeout_assigned_s)
				busy = 1;
			break;
		case FP_RD_PENDING:
		case FP_RD_WAITING: dev_set(d, FP_RD_CANCELLED, now); break;
		case FP_RD_INSTALLING:
		case FP_RD_REVERTING: busy = 1; break;
		default: break;
		}
	}
	if (busy)
		return 0;
	r->state = FP_RS_REVERTED;
	event(out, "reverted", "the rollout is reverted");
	return 1;
}

static void do_revert(struct fp_rollout *r, struct fp_rollout_dev *devs, size_t n, int64_t now,
                      struct fp_rollout_actions *out)
{
	r->state = FP_RS_REVERTING;
	event(out, "reverting", "%s", r->reason);
	revert_pass(r, devs, n, now, out);
}

static void do_abort(struct fp_rollout *r, struct fp_rollout_dev *devs, size_t n, int64_t now,
                     struct fp_rollout_actions *out)
{
	r->state = FP_RS_ABORTED;
	for (size_t i = 0; i < n; i++) {
		struct fp_rollout_dev *d = &devs[i];
		if (d->state == FP_RD_PENDING || d->state == FP_RD_WAITING) {
			dev_set(d, FP_RD_CANCELLED, now);
		} else if (d->state == FP_RD_ASSIGNED) {
			act_dev(out, FP_ACT_WITHDRAW, i);
			dev_set(d, FP_RD_CANCELLED, now);
		} else if (d->state == FP_RD_FAILED) {
			/* A failed device must not pick its assignment up again. */
			act_dev(out, FP_ACT_WITHDRAW, i);
		}
	}
	event(out, "aborted", "%s", r->reason);
}

/* Counts of phase p's devices. */
struct phase_tally {
	size_t total, failed, succeeded, possible, in_flight;
};

static void tally(const struct fp_rollout_dev *devs, size_t n, int p, struct phase_tally *t)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < n; i++) {
		const struct fp_rollout_dev *d = &devs[i];
		if (d->phase != p)
			continue;
		t->total++;
		if (d->failures >= 1)
			t->failed++;
		if (d->state == FP_RD_SUCCEEDED)
			t->succeeded++;
		else if (d->state == FP_RD_PENDING || d->state == FP_RD_WAITING ||
		         d->state == FP_RD_ASSIGNED || d->state == FP_RD_INSTALLING)
			t->possible++;
		if (d->state == FP_RD_ASSIGNED || d->state == FP_RD_INSTALLING)
			t->in_flight++;
	}
}

/* Step (e): failure thresholds of every started phase. */
static void check_thresholds(struct fp_rollout *r, struct fp_rollout_dev *devs, size_t n,
                             int64_t now, struct fp_rollout_actions *out)
{
	for (int i = 0; i <= r->phase && i < (int)r->spec.nphases; i++) {
		/*
		 * A paused rollout still trips: it may have paused for its gate while
		 * devices were in flight, and their failures may call for abort or revert.
		 */
		if (r->state != FP_RS_RUNNING && r->state != FP_RS_WAITING_APPROVAL &&
		    r->state != FP_RS_PAUSED)
			return;
		if ((r->tripped >> i) & 1u || (i == r->phase && r->phase_started == 0))
			continue;
		const struct fp_rollout_phase *ph = &r->spec.phase[i];
		struct phase_tally t;
		tally(devs, n, i, &t);
		int64_t limit = ph->fail_kind == FP_SIZE_COUNT
		                    ? ph->fail_threshold
		                    : ceil_pct(ph->fail_threshold, t.total);
		if (limit < 1)
			limit = 1;
		if ((int64_t)t.failed < limit)
			continue;
		r->tripped |= 1u << i;
		snprintf(
		    r->reason, sizeof(r->reason),
		    "phase %s: %zu of %zu devices failed, reaching the failure threshold of %lld",
		    ph->name, t.failed, t.total, (long long)limit);
		event(out, "threshold_tripped", "%s", r->reason);
		if (ph->fail_action == FP_FAIL_PAUSE) {
			if (r->state != FP_RS_PAUSED)
				event(out, "paused", "%s", r->reason);
			r->state = FP_RS_PAUSED;
		} else if (ph->fail_action == FP_FAIL_ABORT) {
			do_abort(r, devs, n, now, out);
		} else {
			do_revert(r, devs, n, now, out);
		}
	}
}

/* Steps (f) and (g): the current phase's gate, soak, and what comes after it. */
static void check_gate(struct fp_rollout *r, struct fp_rollout_dev *devs, size_t n, int64_t now,
                       struct fp_rollout_actions *out)
{
	const struct fp_rollout_phase *ph = &r->spec.phase[r->phase];
	struct phase_tally t;
	tally(devs, n, r->phase, &t);
	int64_t need = ceil_pct(ph->success_pct, t.total);
	if ((int64_t)t.succeeded >= need) {
		if (r->gate_met_at == 0) {
			r->gate_met_at = now;
			event(out, "gate_met",
			      "phase %s: %zu of %zu devices succeeded (%lld needed)", ph->name,
			      t.succeeded, t.total, (long long)need);
		}
	} else {
		r->gate_met_at = 0;
		/*
		 * The gate can no longer be met; once the devices in flight have
		 * reported, so that a failure threshold sees them all first.
		 */
		if ((int64_t)(t.succeeded + t.possible) < need && t.in_flight == 0) {
			r->state = FP_RS_PAUSED;
			snprintf(r->reason, sizeof(r->reason),
			         "phase %s: the success gate (%lld of %zu) can no longer be met",
			         ph->name, (long long)need, t.total);
			event(out, "paused", "%s", r->reason);
		}
		return;
	}
	if (now < r->gate_met_at + ph->soak_s)
		return;
	if ((size_t)r->phase + 1 >= r->spec.nphases) {
		for (size_t i = 0; i < n; i++)
			if (devs[i].state == FP_RD_PENDING || devs[i].state == FP_RD_WAITING ||
			    devs[i].state == FP_RD_ASSIGNED || devs[i].state == FP_RD_INSTALLING)
				return;
		event(out, "phase_completed", "phase %s completed", ph->name);
		r->state = FP_RS_COMPLETED;
		event(out, "completed", "every phase passed its gate and soak");
		return;
	}
	const struct fp_rollout_phase *next = &r->spec.phase[r->phase + 1];
	if (next->approval && r->approved_phase < r->phase + 1) {
		event(out, "phase_completed", "phase %s completed", ph->name);
		r->state = FP_RS_WAITING_APPROVAL;
		event(out, "waiting_approval", "phase %s waits for an approval", next->name);
		return;
	}
	/* An approved phase already announced its predecessor's completion. */
	if (!next->approval)
		event(out, "phase_completed", "phase %s completed", ph->name);
	r->phase++;
	r->phase_started = now;
	r->gate_met_at = 0;
	event(out, "phase_started", "phase %s started", next->name);
}

/* Step (i): new assignments, in (phase, array) order, under the rate limit. */
static void assign(struct fp_rollout *r, struct fp_rollout_dev *devs, size_t n, int64_t now,
                   struct fp_rollout_actions *out)
{
	int past_deadline = r->spec.deadline && now >= r->spec.deadline;
	int64_t rate = r->spec.rate_per_min;
	int refilled = 0;
	for (int p = 0; p <= r->phase; p++)
		for (size_t i = 0; i < n; i++) {
			struct fp_rollout_dev *d = &devs[i];
			if (d->phase != p || d->state != FP_RD_WAITING || d->claimed ||
			    d->outranked || !(d->in_window || past_deadline))
				continue;
			if (rate > 0) {
				if (!refilled) {
					/* The bucket fills in a minute at most, so older time adds
					 * nothing. */
					int64_t el = now - r->rate_at;
					int64_t cap = rate * 1000 > 1000 ? rate * 1000 : 1000;
					el = el < 0 ? 0 : el > 60 ? 60 : el;
					r->rate_credit_milli += el * rate * 1000 / 60;
					if (r->rate_credit_milli > cap)
						r->rate_credit_milli = cap;
					r->rate_at = now;
					refilled = 1;
				}
				if (r->rate_credit_milli < 1000)
					return;
				r->rate_credit_milli -= 1000;
			}
			d->attempts++;
			dev_set(d, FP_RD_ASSIGNED, now);
			act_dev(out, FP_ACT_ASSIGN, i);
		}
}

int fp_rollout_tick(struct fp_rollout *r, struct fp_rollout_dev *devs, size_t n, int64_t now,
                    struct fp_rollout_actions *out)
{
	if (reserve_for(out, devs, n))
		return FP_ENOMEM;
	struct fp_rollout before = *r;
	char why[FP_ROLLOUT_REASON_MAX];
	/* (a) Device timeouts, in every rollout state. */
	for (size_t i = 0; i < n; i++) {
		struct fp_rollout_dev *d = &devs[i];
		int64_t age = now - d->since;
		if (d->state == FP_RD_ASSIGNED && age > r->spec.timeout_assigned_s) {
			snprintf(why, sizeof(why),
			         "timed out: assigned for %lld s without a report", (long long)age);
			dev_fail(r, d, why, now);
		} else if (d->state == FP_RD_INSTALLING && age > r->spec.timeout_installing_s) {
			snprintf(why, sizeof(why), "timed out: installing for %lld s",
			         (long long)age);
			dev_fail(r, d, why, now);
		} else if (d->state == FP_RD_REVERTING && age > r->spec.timeout_reverting_s) {
			snprintf(d->reason, sizeof(d->reason), "revert timed out after %lld s",
			         (long long)age);
			dev_set(d, FP_RD_FAILED, now);
		}
	}
	/* (b) Devices a rollout of higher priority took over. */
	if (!fp_rollout_is_terminal(r->state))
		for (size_t i = 0; i < n; i++)
			if (devs[i].outranked &&
			    (devs[i].state == FP_RD_PENDING || devs[i].state == FP_RD_WAITING))
				dev_set(&devs[i], FP_RD_SUPERSEDED, now);
	/* (c) Only a running rollout decides more; reverting is step (k). */
	/* A device that reported the release after the revert finished is reverted too. */
	if (r->state == FP_RS_REVERTED)
		for (size_t i = 0; i < n; i++)
			if (devs[i].state == FP_RD_SUCCEEDED && devs[i].has_prev) {
				r->state = FP_RS_REVERTING;
				event(out, "reverting",
				      "a device reported the release after the revert");
				break;
			}
	if (r->state == FP_RS_REVERTING) {
		revert_pass(r, devs, n, now, out);
		goto out;
	}
	if (r->state != FP_RS_RUNNING && r->state != FP_RS_WAITING_APPROVAL &&
	    r->state != FP_RS_PAUSED)
		goto out;
	if (r->state == FP_RS_RUNNING && now < r->not_before)
		goto out;
	/* A runtime that does not fit its specification decides nothing. */
	if (r->phase < 0 || (size_t)r->phase >= r->spec.nphases)
		goto out;
	/* (d) The first phase starts with the first tick after the start. */
	if (r->state == FP_RS_RUNNING && r->phase_started == 0) {
		r->phase_started = now;
		r->gate_met_at = 0;
		event(out, "phase_started", "phase %s started", r->spec.phase[r->phase].name);
	}
	check_thresholds(r, devs, n, now, out); /* (e) */
	if (r->state == FP_RS_REVERTING)
		goto out;
	if (r->state == FP_RS_RUNNING)
		check_gate(r, devs, n, now, out); /* (f), (g) */
	if (r->state == FP_RS_RUNNING) {
		/* (h) The devices of started phases become eligible. */
		for (size_t i = 0; i < n; i++)
			if (devs[i].phase <= r->phase && devs[i].state == FP_RD_PENDING)
				dev_set(&devs[i], FP_RD_WAITING, now);
		assign(r, devs, n, now, out); /* (i) */
	}
	/* (j) An assignment not yet started is withdrawn when its window closes. */
	if (r->state == FP_RS_RUNNING || r->state == FP_RS_WAITING_APPROVAL ||
	    r->state == FP_RS_PAUSED) {
		int past_deadline = r->spec.deadline && now >= r->spec.deadline;
		for (size_t i = 0; i < n; i++) {
			struct fp_rollout_dev *d = &devs[i];
			if (d->state == FP_RD_ASSIGNED && !d->in_window && !past_deadline) {
				act_dev(out, FP_ACT_WITHDRAW, i);
				d->attempts--;
				dev_set(d, FP_RD_WAITING, now);
			}
		}
	}
out:
	return memcmp(&before, r, sizeof(before)) != 0;
}

static int refuse(struct fp_rollout *r, enum fp_rollout_command cmd, struct fp_err *err)
{
	if (r->state == FP_RS_DRAFT)
		return fp_err_set(err, FP_ECONFLICT,
		                  "the rollout is not approved yet; it cannot be %s",
		                  command_done[cmd]);
	if (r->state == FP_RS_REVERTING && cmd == FP_CMD_ABORT)
		return fp_err_set(err, FP_ECONFLICT,
		                  "the rollout is reverting; let the revert finish");
	return fp_err_set(err, FP_ECONFLICT, "the rollout is %s; it cannot be %s",
	                  fp_rollout_state_name(r->state), command_done[cmd]);
}

int fp_rollout_command(struct fp_rollout *r, struct fp_rollout_dev *devs, size_t n,
                       enum fp_rollout_command cmd, int64_t now, struct fp_rollout_actions *out,
                       struct fp_err *err)
{
	enum fp_rollout_state s = r->state;
	if ((unsigned)cmd >= FP_CMD_COUNT)
		return fp_err_set(err, FP_EINVAL, "rollout: unknown command");
	if (reserve_for(out, devs, n))
		return fp_err_set(err, FP_ENOMEM, "rollout: out of memory");
	switch (cmd) {
	case FP_CMD_APPROVE:
		if (s == FP_RS_DRAFT) {
			r->state = FP_RS_APPROVED;
			r->approved_phase = 0;
			event(out, "approved", "the rollout is approved");
		} else if (s == FP_RS_WAITING_APPROVAL && (size_t)r->phase + 1 < r->spec.nphases) {
			r->approved_phase = r->phase + 1;
			r->state = FP_RS_RUNNING;
			event(out, "phase_approved", "phase %s is approved",
			      r->spec.phase[r->phase + 1].name);
		} else {
			return refuse(r, cmd, err);
		}
		return 0;
	case FP_CMD_START:
		if (s != FP_RS_APPROVED)
			return refuse(r, cmd, err);
		r->state = FP_RS_RUNNING;
		event(out, "started", "the rollout is started");
		return 0;
	case FP_CMD_PAUSE:
		if (s != FP_RS_RUNNING && s != FP_RS_WAITING_APPROVAL)
			return refuse(r, cmd, err);
		r->state = FP_RS_PAUSED;
		snprintf(r->reason, sizeof(r->reason), "paused by an operator");
		event(out, "paused", "%s", r->reason);
		return 0;
	case FP_CMD_RESUME:
		if (s != FP_RS_PAUSED)
			return refuse(r, cmd, err);
		r->state = FP_RS_RUNNING;
		r->reason[0] = '\0';
		event(out, "resumed", "the rollout is resumed");
		return 0;
	case FP_CMD_ABORT:
		if (fp_rollout_is_terminal(s) || s == FP_RS_REVERTING)
			return refuse(r, cmd, err);
		snprintf(r->reason, sizeof(r->reason), "aborted by an operator");
		do_abort(r, devs, n, now, out);
		return 0;
	case FP_CMD_REVERT:
		if (s != FP_RS_RUNNING && s != FP_RS_PAUSED && s != FP_RS_WAITING_APPROVAL &&
		    s != FP_RS_COMPLETED && s != FP_RS_ABORTED)
			return refuse(r, cmd, err);
		snprintf(r->reason, sizeof(r->reason), "reverted by an operator");
		do_revert(r, devs, n, now, out);
		return 0;
	default: break;
	}
	return fp_err_set(err, FP_EINVAL, "rollout: unknown command");
}

void fp_rollout_count(const struct fp_rollout *r, const struct fp_rollout_dev *devs, size_t n,
                      struct fp_rollout_counts *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < n; i++) {
		int p = devs[i].phase;
		if (p < 0 || (size_t)p >= r->spec.nphases || (unsigned)devs[i].state >= FP_RD_COUNT)
			continue;
		c->total[p]++;
		c->by_state[p][devs[i].state]++;
	}
}

/* ---- Runtime JSON ----------------------------------------------------------------------- */

json_t *fp_rollout_runtime_to_json(const struct fp_rollout *r)
{
	return json_pack("{s:s,s:i,s:I,s:I,s:I,s:i,s:I,s:I,s:I,s:s}", "state",
	                 fp_rollout_state_name(r->state), "phase", r->phase, "not_before",
	                 (json_int_t)r->not_before, "phase_started", (json_int_t)r->phase_started,
	                 "gate_met_at", (json_int_t)r->gate_met_at, "approved_phase",
	                 r->approved_phase, "tripped", (json_int_t)r->tripped, "rate_credit_milli",
	                 (json_int_t)r->rate_credit_milli, "rate_at", (json_int_t)r->rate_at,
	                 "reason", r->reason);
}

int fp_rollout_runtime_from_json(const json_t *j, struct fp_rollout *r, struct fp_err *err)
{
	static const char *const members[] = {
	    "state",       "phase",          "not_before", "phase_started",
	    "gate_met_at", "approved_phase", "tripped",    "rate_credit_milli",
	    "rate_at",     "reason",         NULL};
	/* Generous bounds that keep every later computation free of overflow. */
	const int64_t tmax = INT64_C(1) << 40;
	int64_t v[8];
	const int64_t lo[8] = {0, -tmax, 0, 0, 0, 0, 0, 0};
	const int64_t hi[8] = {FP_ROLLOUT_PHASES_MAX - 1,
	                       tmax,
	                       tmax,
	                       tmax,
	                       FP_ROLLOUT_PHASES_MAX,
	                       UINT32_MAX,
	                       (int64_t)FP_ROLLOUT_RATE_MAX * 1000,
	                       tmax};
	int rc;
	if (!json_is_object(j))
		return fp_err_set(err, FP_EINVAL, "rollout runtime: must be an object");
	if ((rc = only_members(j, "rollout runtime", members, err)))
		return rc;
	for (size_t i = 0; members[i]; i++)
		if (!json_object_get(j, members[i]))
			return fp_err_set(err, FP_EINVAL, "rollout runtime: \"%s\" is missing",
			                  members[i]);
	enum fp_rollout_state st;
	if (fp_rollout_state_from_name(json_string_value(json_object_get(j, "state")), &st))
		return fp_err_set(err, FP_EINVAL, "state: not a rollout state");
	for (int i = 0; i < 8; i++)
		if ((rc = get_int(json_object_get(j, members[i + 1]), members[i + 1], lo[i], hi[i],
		                  &v[i], err)))
			return rc;
	const char *reason = json_string_value(json_object_get(j, "reason"));
	if (!reason || strlen(reason) >= FP_ROLLOUT_REASON_MAX)
		return fp_err_set(err, FP_EINVAL, "reason: must be a string under %d bytes",
		                  FP_ROLLOUT_REASON_MAX);
	r->state = st;
	r->phase = (int)v[0];
	r->not_before = v[1];
	r->phase_started = v[2];
	r->gate_met_at = v[3];
	r->approved_phase = (int)v[4];
	r->tripped = (uint32_t)v[5];
	r->rate_credit_milli = v[6];
	r->rate_at = v[7];
	memset(r->reason, 0, sizeof(r->reason));
	memcpy(r->reason, reason, strlen(reason));
	return 0;
}
