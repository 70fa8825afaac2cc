/*
 * artifact_patch.c — a streamed delta artifact applied (artifact_patch.h).
 */
#include "fleetpatch/artifact_patch.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fleetpatch/artifact.h"

struct fp_artifact_patcher {
	struct fp_artifact_patch_opts o;
	struct fp_artifact_reader *r;
	struct fp_delta_applier *a;
	int applied;
};

static int on_begin(void *ctx, size_t i, const struct fp_artifact_payload *pl, struct fp_err *err)
{
	struct fp_artifact_patcher *p = ctx;
	(void)i;
	if (!pl->is_delta)
		return fp_err_set(err, FP_EINVAL, "delta: payload '%s' is not a delta", pl->name);
	if (p->a || p->applied)
		return fp_err_set(err, FP_EUNSUPP, "delta: the artifact holds more than one delta");
	if (p->o.base_prefix ? pl->delta.base_size > p->o.base_size
	                     : pl->delta.base_size != p->o.base_size)
		return fp_err_set(err, FP_ECONFLICT,
		                  "wrong base: the delta applies to an image of %" PRIu64
		                  " bytes, the base has %" PRIu64 "; a full image is needed",
		                  pl->delta.base_size, p->o.base_size);
	if (p->o.target_size && pl->delta.target_size != p->o.target_size)
		return fp_err_set(err, FP_EAUTH,
		                  "delta: it makes %" PRIu64 " bytes, the full target is signed "
		                  "for %" PRIu64,
		                  pl->delta.target_size, p->o.target_size);
	struct fp_delta_apply_opts o = {
	    .base_size = pl->delta.base_size, /* the image is the base's first bytes */
	    .target_max = pl->delta.target_size,
	    .mem_max = p->o.mem_max,
	    .read_base = p->o.read_base,
	    .write = p->o.write,
	    .ctx = p->o.ctx,
	};
	return fp_delta_applier_new(&o, &p->a, err);
}

static int on_data(void *ctx, size_t i, const void *buf, size_t n, struct fp_err *err)
{
	struct fp_artifact_patcher *p = ctx;
	(void)i;
	return p->a ? fp_delta_applier_feed(p->a, buf, n, err) : 0;
}

static int on_end(void *ctx, size_t i, const struct fp_artifact_payload *pl, struct fp_err *err)
{
	struct fp_artifact_patcher *p = ctx;
	(void)i;
	if (!p->a)
		return 0;
	int rc = fp_delta_applier_finish(p->a, err);
	const struct fp_delta_header *h = fp_delta_applier_header(p->a);
	if (!rc && (!h || memcmp(h->target_sha256, pl->delta.target_sha256, 32) != 0 ||
	            h->target_size != pl->delta.target_size ||
	            memcmp(h->base_sha256, pl->delta.base_sha256, 32) != 0))
		rc = fp_err_set(err, FP_EINVAL,
		                "delta: its header and the manifest name different images");
	fp_delta_applier_free(p->a);
	p->a = NULL;
	p->applied = rc == 0;
	return rc;
}

int fp_artifact_patcher_new(const struct fp_artifact_patch_opts *opts,
                            struct fp_artifact_patcher **out, struct fp_err *err)
{
	*out = NULL;
	if (!opts || !opts->read_base || !opts->write)
		return fp_err_set(err, FP_EINVAL, "delta: no base reader or image writer");
	struct fp_artifact_patcher *p = calloc(1, sizeof(*p));
	if (!p)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	p->o = *opts;
	struct fp_artifact_callbacks cb = {
	    .payload_begin = on_begin, .payload_data = on_data, .payload_end = on_end, .ctx = p};
	int rc = fp_artifact_reader_new(&cb, NULL, &p->r, err);
	if (rc) {
		free(p);
		return rc;
	}
	*out = p;
	return 0;
}

int fp_artifact_patcher_feed(struct fp_artifact_patcher *p, const void *buf, size_t n,
                             struct fp_err *err)
{
	return fp_artifact_reader_feed(p->r, buf, n, err);
}

int fp_artifact_patcher_finish(struct fp_artifact_patcher *p, struct fp_err *err)
{
	int rc = fp_artifact_reader_finish(p->r, err);
	if (rc == 0 && !p->applied)
		rc = fp_err_set(err, FP_EINVAL, "delta: the artifact holds no delta payload");
	return rc;
}

void fp_artifact_patcher_free(struct fp_artifact_patcher *p)
{
	if (!p)
		return;
	fp_delta_applier_free(p->a);
	fp_artifact_reader_free(p->r);
	free(p);
}
