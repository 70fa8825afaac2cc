/*
 * journal.c — the agent's journal record format (journal.h): framing with
 * a CRC-32 per record, and the JSON payload of one state snapshot.
 */
#include "fleetpatch/journal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <zlib.h>

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int fp_journal_encode(const struct fp_journal_rec *r, uint8_t *out, size_t cap, size_t *n,
                      struct fp_err *err)
{
	int rc = 0;
	char *s = NULL;
	if ((unsigned)r->state >= FP_AS_COUNT || r->new_slot < 0 || r->new_slot > 1)
		return fp_err_set(err, FP_EINVAL, "journal: state or slot out of range");
	json_t *o = json_pack(
	    "{s:I,s:s,s:s,s:s,s:s,s:I,s:I,s:i,s:I,s:I,s:I,s:[s,s],s:[s,s],s:s,s:I,s:I,s:I,s:I}",
	    "seq", (json_int_t)r->seq, "state", fp_agent_state_name(r->state), "target", r->target,
	    "version", r->version, "sha256", r->sha256, "length", (json_int_t)r->length,
	    "security_counter", (json_int_t)r->security_counter, "new_slot", r->new_slot,
	    "bytes_done", (json_int_t)r->bytes_done, "assignment_version",
	    (json_int_t)r->assignment_version, "running_counter", (json_int_t)r->running_counter,
	    "slot_version", r->slot_version[0], r->slot_version[1], "slot_sha256",
	    r->slot_sha256[0], r->slot_sha256[1], "reason", r->reason, "reboots",
	    (json_int_t)r->reboots, "bytes_downloaded", (json_int_t)r->bytes_downloaded,
	    "download_ms", (json_int_t)r->download_ms, "install_ms", (json_int_t)r->install_ms);
	/* Written only when set, so that records of A/B updates read as before. */
	if (o && r->backend[0])
		json_object_set_new(o, "backend", json_string(r->backend));
	if (o && r->delta_sha256[0]) {
		json_object_set_new(o, "delta_sha256", json_string(r->delta_sha256));
		json_object_set_new(o, "delta_length", json_integer((json_int_t)r->delta_length));
	}
	if (o)
		s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	if (!s) {
		rc = fp_err_set(err, FP_ENOMEM, "journal: cannot encode a record (invalid UTF-8?)");
		goto out;
	}
	size_t len = strlen(s);
	if (len > FP_JOURNAL_PAYLOAD_MAX || len + FP_JOURNAL_HEADER > cap) {
		rc = fp_err_set(err, FP_ETOOBIG, "journal: a record of %zu bytes is over the cap",
		                len);
		goto out;
	}
	memcpy(out, FP_JOURNAL_MAGIC, 4);
	put32(out + 4, (uint32_t)len);
	put32(out + 8, (uint32_t)crc32(0L, (const Bytef *)s, (uInt)len));
	memcpy(out + FP_JOURNAL_HEADER, s, len);
	*n = FP_JOURNAL_HEADER + len;
out:
	free(s);
	json_decref(o);
	return rc;
}

static int get_text(const json_t *o, const char *k, char *dst, size_t cap)
{
	const json_t *v = json_object_get(o, k);
	const char *s = json_string_value(v);
	if (!s || strlen(s) >= cap)
		return -1;
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

static int get_int(const json_t *o, const char *k, int64_t *dst)
{
	const json_t *v = json_object_get(o, k);
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*dst = (int64_t)json_integer_value(v);
	return 0;
}

static int get_pair(const json_t *o, const char *k, char dst[2][FP_JOURNAL_TEXT_MAX], size_t cap)
{
	const json_t *a = json_object_get(o, k);
	if (!json_is_array(a) || json_array_size(a) != 2)
		return -1;
	for (size_t i = 0; i < 2; i++) {
		const char *s = json_string_value(json_array_get(a, i));
		if (!s || strlen(s) >= cap)
			return -1;
		memcpy(dst[i], s, strlen(s) + 1);
	}
	return 0;
}

static int from_json(const json_t *o, struct fp_journal_rec *r)
{
	char state[32], sha[2][FP_JOURNAL_TEXT_MAX];
	int64_t seq, slot;
	memset(r, 0, sizeof(*r));
	if (get_int(o, "seq", &seq) || get_text(o, "state", state, sizeof(state)) ||
	    get_text(o, "target", r->target, sizeof(r->target)) ||
	    get_text(o, "version", r->version, sizeof(r->version)) ||
	    get_text(o, "sha256", r->sha256, sizeof(r->sha256)) ||
	    get_int(o, "length", &r->length) ||
	    get_int(o, "security_counter", &r->security_counter) || get_int(o, "new_slot", &slot) ||
	    get_int(o, "bytes_done", &r->bytes_done) ||
	    get_int(o, "assignment_version", &r->assignment_version) ||
	    get_int(o, "running_counter", &r->running_counter) ||
	    get_pair(o, "slot_version", r->slot_version, FP_JOURNAL_TEXT_MAX) ||
	    get_pair(o, "slot_sha256", sha, 65) ||
	    get_text(o, "reason", r->reason, sizeof(r->reason)) ||
	    get_int(o, "reboots", &r->reboots) ||
	    get_int(o, "bytes_downloaded", &r->bytes_downloaded) ||
	    get_int(o, "download_ms", &r->download_ms) || get_int(o, "install_ms", &r->install_ms))
		return -1;
	if (json_object_get(o, "backend") &&
	    get_text(o, "backend", r->backend, sizeof(r->backend)) != 0)
		return -1;
	if (json_object_get(o, "delta_sha256") &&
	    (get_text(o, "delta_sha256", r->delta_sha256, sizeof(r->delta_sha256)) != 0 ||
	     get_int(o, "delta_length", &r->delta_length) != 0))
		return -1;
	int st = fp_agent_state_parse(state);
	if (st < 0 || slot > 1 || r->bytes_done > r->length)
		return -1;
	r->seq = (uint64_t)seq;
	r->state = (enum fp_agent_state)st;
	r->new_slot = (int)slot;
	snprintf(r->slot_sha256[0], sizeof(r->slot_sha256[0]), "%s", sha[0]);
	snprintf(r->slot_sha256[1], sizeof(r->slot_sha256[1]), "%s", sha[1]);
	return 0;
}

int fp_journal_decode(const void *data, size_t len, struct fp_journal_rec *rec, size_t *used,
                      struct fp_err *err)
{
	const uint8_t *p = data;
	if (len < FP_JOURNAL_HEADER)
		return fp_err_set(err, FP_EINVAL, "journal: torn record header");
	if (memcmp(p, FP_JOURNAL_MAGIC, 4) != 0)
		return fp_err_set(err, FP_EINVAL, "journal: bad record magic");
	uint32_t n = get32(p + 4);
	if (n == 0 || n > FP_JOURNAL_PAYLOAD_MAX)
		return fp_err_set(err, FP_EINVAL, "journal: record length %" PRIu32 " out of range",
		                  n);
	if (len - FP_JOURNAL_HEADER < n)
		return fp_err_set(err, FP_EINVAL, "journal: torn record payload");
	const uint8_t *pl = p + FP_JOURNAL_HEADER;
	if ((uint32_t)crc32(0L, pl, n) != get32(p + 8))
		return fp_err_set(err, FP_EINVAL, "journal: record checksum mismatch");
	json_t *o = json_loadb((const char *)pl, n, JSON_REJECT_DUPLICATES, NULL);
	int bad = !json_is_object(o) || from_json(o, rec) != 0;
	json_decref(o);
	if (bad)
		return fp_err_set(err, FP_EINVAL, "journal: record payload is not a valid state");
	*used = FP_JOURNAL_HEADER + n;
	return 0;
}

int fp_journal_scan(const void *data, size_t len, struct fp_journal_rec *last, size_t *valid,
                    size_t *count)
{
	const uint8_t *p = data;
	size_t off = 0, used = 0;
	struct fp_journal_rec r;
	memset(last, 0, sizeof(*last));
	*valid = 0;
	*count = 0;
	while (off < len && fp_journal_decode(p + off, len - off, &r, &used, NULL) == 0) {
		/* Sequence numbers only grow; a record that goes back is not ours. */
		if (*count > 0 && r.seq <= last->seq)
			break;
		*last = r;
		off += used;
		*valid = off;
		(*count)++;
	}
	return *count ? 0 : FP_ENOTFOUND;
}
