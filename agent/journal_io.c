/*
 * journal_io.c — the agent's journal file (journal_io.h).
 */
#include "journal_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"

#define JOURNAL_READ_MAX (AGENT_JOURNAL_COMPACT + 2 * FP_JOURNAL_RECORD_MAX)

int agent_journal_open(struct agent_journal *j, const char *dir, struct fp_err *err)
{
	char *buf = NULL;
	size_t len = 0, valid = 0, count = 0;
	memset(j, 0, sizeof(*j));
	j->fd = -1;
	if (snprintf(j->path, sizeof(j->path), "%s/journal", dir) >= (int)sizeof(j->path))
		return fp_err_set(err, FP_ETOOBIG, "state directory path is too long");
	int rc = agent_read_file(j->path, JOURNAL_READ_MAX, &buf, &len, err);
	if (rc == FP_ENOTFOUND || rc == FP_ETOOBIG) {
		if (rc == FP_ETOOBIG)
			agent_log(AGENT_LOG_ERROR, "journal is larger than its cap; starting over",
			          "path=%s", j->path);
		fp_err_clear(err);
		rc = 0;
		len = 0;
	}
	if (rc)
		return rc;
	if (fp_journal_scan(buf, len, &j->cur, &valid, &count) != 0) {
		j->fresh = 1;
		j->corrupt = len > 0;
		if (len)
			agent_log(AGENT_LOG_ERROR, "journal has no valid record (corrupt)",
			          "path=%s bytes=%zu", j->path, len);
	} else if (valid < len) {
		agent_log(AGENT_LOG_WARN, "journal had a torn or corrupt tail; it was cut off",
		          "path=%s valid_bytes=%zu dropped_bytes=%zu records=%zu", j->path, valid,
		          len - valid, count);
	}
	free(buf);
	j->fd = open(j->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (j->fd < 0)
		return fp_err_set(err, FP_EIO, "%s: %s", j->path, strerror(errno));
	if (ftruncate(j->fd, (off_t)valid) != 0 || fsync(j->fd) != 0 ||
	    lseek(j->fd, (off_t)valid, SEEK_SET) < 0) {
		int e = errno;
		close(j->fd);
		j->fd = -1;
		return fp_err_set(err, FP_EIO, "%s: %s", j->path, strerror(e));
	}
	j->size = valid;
	return 0;
}

int agent_journal_write(struct agent_journal *j, struct fp_journal_rec *rec, struct fp_err *err)
{
	uint8_t buf[FP_JOURNAL_RECORD_MAX];
	size_t n = 0;
	rec->seq = j->cur.seq + 1;
	int rc = fp_journal_encode(rec, buf, sizeof(buf), &n, err);
	if (rc)
		return rc;
	if (j->size + n > AGENT_JOURNAL_COMPACT) {
		/* Start a new file that holds this one record, then switch to it. */
		rc = agent_write_atomic(j->path, buf, n, 0600, err);
		if (rc)
			return rc;
		close(j->fd);
		j->fd = open(j->path, O_RDWR | O_APPEND | O_CLOEXEC);
		if (j->fd < 0)
			return fp_err_set(err, FP_EIO, "%s: %s", j->path, strerror(errno));
		j->size = n;
	} else {
		if (agent_write_all(j->fd, buf, n) != 0 || fdatasync(j->fd) != 0) {
			int e = errno;
			/* Cut the partial record so that the file stays a valid journal. */
			if (ftruncate(j->fd, (off_t)j->size) == 0)
				lseek(j->fd, (off_t)j->size, SEEK_SET);
			return fp_err_set(err, FP_EIO, "cannot write the journal %s: %s", j->path,
			                  strerror(e));
		}
		j->size += n;
	}
	j->cur = *rec;
	j->fresh = 0;
	return 0;
}

void agent_journal_close(struct agent_journal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
}

static void mirror_path(const char *dir, char *out, size_t cap)
{
	snprintf(out, cap, "%s/journal.idle", dir);
}

void agent_journal_mirror_write(const char *dir, const struct fp_journal_rec *rec, int booted)
{
	char path[4200];
	size_t n = 0;
	uint8_t buf[FP_JOURNAL_RECORD_MAX];
	struct fp_journal_rec m = *rec;
	struct fp_err err = {0};
	m.seq = 0;
	m.new_slot = 1 - booted;
	mirror_path(dir, path, sizeof(path));
	if (fp_journal_encode(&m, buf, sizeof(buf), &n, &err) != 0) {
		agent_log(AGENT_LOG_WARN, "cannot copy the idle record", "error=\"%s\"", err.msg);
		return;
	}
	if (agent_write_if_changed(path, buf, n, 0600, &err) < 0)
		agent_log(AGENT_LOG_WARN, "cannot copy the idle record", "error=\"%s\"", err.msg);
}

int agent_journal_mirror_read(const char *dir, struct fp_journal_rec *rec)
{
	char path[4200], *buf = NULL;
	size_t len = 0, valid = 0, count = 0;
	mirror_path(dir, path, sizeof(path));
	int rc = agent_read_file(path, FP_JOURNAL_RECORD_MAX, &buf, &len, NULL);
	if (rc == FP_ENOTFOUND)
		return rc;
	if (rc == 0 &&
	    (fp_journal_scan(buf, len, rec, &valid, &count) != 0 || count != 1 || valid != len ||
	     rec->state != FP_AS_IDLE || rec->new_slot < 0 || rec->new_slot > 1))
		rc = FP_EINVAL;
	free(buf);
	return rc ? FP_EINVAL : 0;
}
