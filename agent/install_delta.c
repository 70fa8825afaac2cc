/*
 * install_delta.c — a delta artifact applied against the running slot into
 * the inactive one (install_delta.h). Nothing is resumed: a delta is small,
 * and after a power cut the agent applies it again from its first byte
 * (the running slot, the base, is never written).
 */
#include "install_delta.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fetch.h"
#include "fleetpatch/artifact_patch.h"
#include "fleetpatch/delta.h"
#include "fleetpatch/hex.h"
#include "fleetpatch/tuf.h"

struct apply {
	struct agent_delta *d;
	int base_fd, fd;
	uint64_t base_size;
	int64_t pos;
	struct fp_tuf_hasher *dh; /* the delta's bytes, against its target */
	struct fp_tuf_hasher *th; /* the image written, against the full target */
	struct fp_artifact_patcher *p;
};

static int hasher(const char *hex, int64_t length, struct fp_tuf_hasher **h, struct fp_err *err)
{
	struct fp_tuf_target tg = {.name = "target", .length = length};
	tg.hashes.has_sha256 = 1;
	int ok = strlen(hex) == 2 * sizeof(tg.hashes.sha256);
	for (size_t i = 0; ok && i < sizeof(tg.hashes.sha256); i++) {
		int hi = fp_hex_value(hex[2 * i]), lo = fp_hex_value(hex[2 * i + 1]);
		ok = hi >= 0 && lo >= 0;
		tg.hashes.sha256[i] = (uint8_t)(hi << 4 | lo);
	}
	if (!ok)
		return fp_err_set(err, FP_EINVAL, "delta: malformed sha256 '%.70s'", hex);
	return fp_tuf_hasher_new(&tg, h, err);
}

static int base_read(void *ctx, uint64_t off, void *buf, size_t n, struct fp_err *err)
{
	struct apply *ap = ctx;
	unsigned char *p = buf;
	while (n > 0) {
		ssize_t r = pread(ap->base_fd, p, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return fp_err_set(err, FP_EIO, "cannot read the running slot %s: %s",
			                  ap->d->base_path,
			                  r < 0 ? strerror(errno) : "end of file");
		p += r;
		off += (uint64_t)r;
		n -= (size_t)r;
	}
	return 0;
}

static int slot_write(void *ctx, const void *buf, size_t n, struct fp_err *err)
{
	struct apply *ap = ctx;
	int rc = fp_tuf_hasher_update(ap->th, buf, n, err);
	if (rc == FP_ETOOBIG)
		return fp_err_set(err, FP_EAUTH,
		                  "the delta makes more than the full target's signed %lld bytes",
		                  (long long)ap->d->length);
	if (rc)
		return rc;
	const char *p = buf;
	while (n > 0) {
		ssize_t w = pwrite(ap->fd, p, n, (off_t)ap->pos);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return fp_err_set(err, FP_EIO, "cannot write the slot %s: %s",
			                  ap->d->slot_path,
			                  w < 0 ? strerror(errno) : "short write");
		p += w;
		n -= (size_t)w;
		ap->pos += w;
	}
	return 0;
}

/* The delta's bytes as they arrive: hashed against its target, then applied. */
static int sink(void *ctx, const void *data, size_t n, struct fp_err *err)
{
	struct apply *ap = ctx;
	int rc = fp_tuf_hasher_update(ap->dh, data, n, err);
	if (rc == FP_ETOOBIG)
		return fp_err_set(err, FP_EAUTH,
		                  "the server sent more than the delta's signed %lld "
		                  "bytes",
		                  (long long)ap->d->delta_length);
	if (rc)
		return rc;
	ap->d->fetched += (int64_t)n;
	return fp_artifact_patcher_feed(ap->p, data, n, err);
}

int agent_install_delta(struct agent_delta *d, struct fp_err *err)
{
	struct apply ap = {.d = d, .base_fd = -1, .fd = -1};
	struct stat st;
	long status = 0;
	int rc;
	d->fetched = 0;
	ap.base_fd = open(d->base_path, O_RDONLY | O_CLOEXEC);
	if (ap.base_fd < 0 || fstat(ap.base_fd, &st) != 0) {
		rc = fp_err_set(err, FP_EIO, "cannot open the running slot %s: %s", d->base_path,
		                strerror(errno));
		goto out;
	}
	ap.base_size = (uint64_t)st.st_size;
	if (!S_ISREG(st.st_mode)) { /* a block device: its size, not the inode's */
		off_t end = lseek(ap.base_fd, 0, SEEK_END);
		ap.base_size = end > 0 ? (uint64_t)end : 0;
	}
	ap.fd = open(d->slot_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (ap.fd < 0) {
		rc = fp_err_set(err, FP_EIO, "cannot open the slot %s: %s", d->slot_path,
		                strerror(errno));
		goto out;
	}
	if ((rc = hasher(d->delta_sha256, d->delta_length, &ap.dh, err)) ||
	    (rc = hasher(d->sha256, d->length, &ap.th, err)) ||
	    (rc = fp_artifact_patcher_new(
	         &(struct fp_artifact_patch_opts){.base_size = ap.base_size,
	                                          .base_prefix =
	                                              1, /* the image fills the slot's start */
	                                          .target_size = (uint64_t)d->length,
	                                          .mem_max = AGENT_DELTA_MEM_MAX,
	                                          .read_base = base_read,
	                                          .write = slot_write,
	                                          .ctx = &ap},
	         &ap.p, err)))
		goto out;
	struct agent_http_req rq = {.method = "GET",
	                            .url = d->url,
	                            .bearer = d->bearer,
	                            .max_bytes = (size_t)d->delta_length,
	                            .timeout_s = d->timeout_s,
	                            .max_rate = d->max_rate,
	                            .sink = sink,
	                            .ctx = &ap};
	rc = agent_http(&rq, &status, err);
	if (rc == FP_ETOOBIG)
		rc = fp_err_set(err, FP_EAUTH,
		                "the server sent more than the delta's signed %lld "
		                "bytes",
		                (long long)d->delta_length);
	if (rc == 0 && (status < 200 || status > 299))
		rc = FP_EIO; /* err says "HTTP N" */
	if (rc)
		goto out;
	if ((rc = fp_tuf_hasher_final(ap.dh, err))) {
		char why[FP_ERR_MSG_MAX];
		snprintf(why, sizeof(why), "%s", err->msg);
		rc = fp_err_set(err, FP_EAUTH, "the delta does not match its signed target: %s",
		                why);
		goto out;
	}
	if ((rc = fp_artifact_patcher_finish(ap.p, err)))
		goto out;
	if ((rc = fp_tuf_hasher_final(ap.th, err))) {
		char why[FP_ERR_MSG_MAX];
		snprintf(why, sizeof(why), "%s", err->msg);
		rc = fp_err_set(err, FP_EAUTH,
		                "the image the delta made is not the signed target: %s", why);
		goto out;
	}
	if (fstat(ap.fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > d->length &&
	    ftruncate(ap.fd, (off_t)d->length) != 0) {
		rc = fp_err_set(err, FP_EIO, "cannot truncate the slot %s: %s", d->slot_path,
		                strerror(errno));
		goto out;
	}
	if (fsync(ap.fd) != 0)
		rc = fp_err_set(err, FP_EIO, "cannot sync the slot %s: %s", d->slot_path,
		                strerror(errno));
out:
	fp_artifact_patcher_free(ap.p);
	fp_tuf_hasher_free(ap.dh);
	fp_tuf_hasher_free(ap.th);
	if (ap.base_fd >= 0)
		close(ap.base_fd);
	if (ap.fd >= 0)
		close(ap.fd);
	return rc;
}
