/*
 * install_ab.c — streamed, verified write of a target into the inactive
 * slot (install_ab.h). The bytes written before the verification ends are
 * in the inactive slot only, which the bootloader is not told about until
 * the whole image verified; a resumed download first re-reads and hashes
 * the part already in the slot, so a torn write cannot slip in.
 */
#include "install_ab.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fetch.h"
#include "fileio.h"
#include "fleetpatch/tuf.h"
#include "log.h"

#define READBACK_CHUNK        (1 << 20)
#define AGENT_WRITEBACK_CHUNK (8 << 20) /* bytes after which write-back is started */

struct slot_sink {
	struct agent_download *d;
	int fd;
	int64_t pos;
	int64_t synced;
	int64_t kicked; /* write-back started up to here */
	struct fp_tuf_hasher *h;
};

static int hex_bytes(const char *hex, uint8_t *out, size_t n)
{
	if (strlen(hex) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static int new_hasher(const struct agent_download *d, struct fp_tuf_hasher **h, struct fp_err *err)
{
	struct fp_tuf_target tg = {.name = "target", .length = d->length};
	tg.hashes.has_sha256 = 1;
	if (hex_bytes(d->sha256, tg.hashes.sha256, sizeof(tg.hashes.sha256)) != 0)
		return fp_err_set(err, FP_EINVAL, "install: malformed sha256 '%.70s'", d->sha256);
	return fp_tuf_hasher_new(&tg, h, err);
}

static int to_slot(void *ctx, const void *data, size_t n, struct fp_err *err)
{
	struct slot_sink *s = ctx;
	int rc = fp_tuf_hasher_update(s->h, data, n, err);
	if (rc == FP_ETOOBIG)
		return fp_err_set(err, FP_EAUTH, "the server sent more than the signed %lld bytes",
		                  (long long)s->d->length);
	if (rc)
		return rc;
	const char *p = data;
	size_t left = n;
	while (left) {
		ssize_t w = pwrite(s->fd, p, left, (off_t)s->pos);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return fp_err_set(err, FP_EIO, "cannot write the slot %s: %s",
			                  s->d->slot_path, w < 0 ? strerror(errno) : "short write");
		p += w;
		left -= (size_t)w;
		s->pos += w;
	}
	s->d->fetched += (int64_t)n;
	/*
	 * Start the write-back of each full chunk at once, without waiting for
	 * it, so that the syncs below find little left to write and the
	 * download does not stall behind the disk.
	 */
	if (s->pos - s->kicked >= AGENT_WRITEBACK_CHUNK) {
		(void)sync_file_range(s->fd, (off_t)s->kicked, (off_t)(s->pos - s->kicked),
		                      SYNC_FILE_RANGE_WRITE);
		s->kicked = s->pos;
	}
	if (s->pos - s->synced >= (s->d->sync_every > 0 ? s->d->sync_every : AGENT_SYNC_EVERY)) {
		if (fdatasync(s->fd) != 0)
			return fp_err_set(err, FP_EIO, "cannot sync the slot %s: %s",
			                  s->d->slot_path, strerror(errno));
		s->synced = s->pos;
		if (s->d->progress && (rc = s->d->progress(s->d->ctx, s->synced, err)) != 0)
			return rc;
	}
	return 0;
}

/* Hashes the first `upto` bytes already in the slot. */
static int read_back(struct slot_sink *s, int64_t upto, struct fp_err *err)
{
	char *buf = malloc(READBACK_CHUNK);
	int rc = 0;
	if (!buf)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	while (rc == 0 && s->pos < upto) {
		size_t want =
		    (size_t)(upto - s->pos < READBACK_CHUNK ? upto - s->pos : READBACK_CHUNK);
		ssize_t r = pread(s->fd, buf, want, (off_t)s->pos);
		if (r <= 0) {
			rc = FP_ENOTFOUND; /* shorter than the journal says: start over */
			break;
		}
		rc = fp_tuf_hasher_update(s->h, buf, (size_t)r, err);
		s->pos += r;
	}
	free(buf);
	return rc;
}

int agent_install_ab(struct agent_download *d, struct fp_err *err)
{
	struct slot_sink s = {.d = d, .fd = -1};
	int rc = 0;
	long status = 0;
	d->fetched = 0;
	d->resumed = 0;
	s.fd = open(d->slot_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (s.fd < 0)
		return fp_err_set(err, FP_EIO, "cannot open the slot %s: %s", d->slot_path,
		                  strerror(errno));
	for (int attempt = 0; attempt < 2; attempt++) {
		fp_tuf_hasher_free(s.h);
		s.h = NULL;
		s.pos = s.synced = 0;
		rc = new_hasher(d, &s.h, err);
		if (rc)
			goto out;
		int64_t from =
		    attempt == 0 && d->offset > 0 && d->offset < d->length ? d->offset : 0;
		if (from > 0 && read_back(&s, from, err) != 0) {
			s.pos = 0;
			from = 0;
			fp_tuf_hasher_free(s.h);
			s.h = NULL;
			if ((rc = new_hasher(d, &s.h, err)) != 0)
				goto out;
		}
		s.synced = s.kicked = s.pos;
		d->resumed = from > 0;
		if (from > 0)
			agent_log(AGENT_LOG_INFO, "resuming the download with a Range request",
			          "offset=%lld length=%lld", (long long)from, (long long)d->length);
		struct agent_http_req rq = {.method = "GET",
		                            .url = d->url,
		                            .bearer = d->bearer,
		                            .range_from = from,
		                            .max_bytes = (size_t)(d->length - from),
		                            .timeout_s = d->timeout_s,
		                            .max_rate = d->max_rate,
		                            .sink = to_slot,
		                            .ctx = &s};
		rc = agent_http(&rq, &status, err);
		if (rc == FP_ECONFLICT && from > 0) {
			agent_log(AGENT_LOG_WARN,
			          "the server ignored Range; downloading from the start", "url=%s",
			          d->url);
			continue;
		}
		if (rc == FP_ETOOBIG)
			rc = fp_err_set(err, FP_EAUTH,
			                "the server sent more than the signed %lld bytes",
			                (long long)d->length);
		break;
	}
	/* Gone from the server: retrying cannot help. Other statuses may pass. */
	if (rc == 0 && (status == 404 || status == 410))
		rc = FP_ENOTFOUND; /* err already says "HTTP N" */
	else if (rc == 0 && (status < 200 || status > 299))
		rc = FP_EIO;
	/* What arrived is kept for a later resume, as far as it is on disk. */
	if (rc == FP_EIO && s.pos > s.synced && fdatasync(s.fd) == 0 && d->progress)
		(void)d->progress(d->ctx, s.pos, NULL);
	if (rc)
		goto out;
	rc = fp_tuf_hasher_final(s.h, err);
	if (rc) {
		/* The slot holds bytes that do not verify: never resume from them. */
		if (d->progress)
			(void)d->progress(d->ctx, 0, NULL);
		rc = FP_EAUTH;
		goto out;
	}
	struct stat st;
	if (fstat(s.fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > d->length &&
	    ftruncate(s.fd, (off_t)d->length) != 0) {
		rc = fp_err_set(err, FP_EIO, "cannot truncate the slot %s: %s", d->slot_path,
		                strerror(errno));
		goto out;
	}
	if (fsync(s.fd) != 0)
		rc = fp_err_set(err, FP_EIO, "cannot sync the slot %s: %s", d->slot_path,
		                strerror(errno));
out:
	fp_tuf_hasher_free(s.h);
	if (s.fd >= 0)
		close(s.fd);
	return rc;
}
