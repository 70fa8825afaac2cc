/*
 * dropshim.c — an LD_PRELOAD library for the power-cut test: it makes
 * "writes that were not synced yet" undoable, so that the test can drop
 * them after it killed the agent, as a power cut would.
 *
 * For every write()/pwrite() to a regular file under $FP_SHIM_DIR, the
 * bytes about to be overwritten (and the file's size before its first
 * unsynced write) are appended to an undo log, $FP_SHIM_DIR/.undo/<inode>,
 * before the write happens. fsync() and fdatasync() of the file make its
 * writes durable: the undo log is removed. After a kill -9 the test may
 * replay the undo logs backwards (tests/powercut/powercut.py), which leaves
 * every file exactly as it was at its last sync. Renames are treated as
 * durable (the agent syncs the directory after each one).
 *
 * Undo record: u64 offset, u64 length, u64 size_before, then length bytes.
 *
 * With $FP_SHIM_ENOSPC set, writes to files whose path contains that string
 * fail with ENOSPC, as on a full disk (tests/integration/test_agent.py).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);

static void init(void)
{
	if (real_write)
		return;
	real_write = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	real_pwrite = (ssize_t(*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
	real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
}

/* The undo log path of fd's file when it is tracked, else 0. */
static int undo_path(int fd, char *out, size_t cap, struct stat *st)
{
	const char *dir = getenv("FP_SHIM_DIR");
	char link[64], target[PATH_MAX];
	if (!dir || fstat(fd, st) != 0 || !S_ISREG(st->st_mode))
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return 0;
	target[n] = '\0';
	size_t dl = strlen(dir);
	if (strncmp(target, dir, dl) != 0 || target[dl] != '/' || strstr(target, "/.undo/"))
		return 0;
	snprintf(out, cap, "%s/.undo/%llu", dir, (unsigned long long)st->st_ino);
	return 1;
}

static void save_old(int fd, off_t off, size_t n)
{
	char path[PATH_MAX];
	struct stat st;
	if (!undo_path(fd, path, sizeof(path), &st))
		return;
	int saved = errno;
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/.undo", getenv("FP_SHIM_DIR"));
	mkdir(dir, 0755);
	int u = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (u < 0) {
		errno = saved;
		return;
	}
	uint64_t hdr[3] = {(uint64_t)off, 0, (uint64_t)st.st_size};
	size_t have = off < st.st_size ? (size_t)(st.st_size - off) : 0;
	if (have > n)
		have = n;
	char *old = have ? malloc(have) : NULL;
	if (have && (!old || pread(fd, old, have, off) != (ssize_t)have))
		have = 0;
	hdr[1] = have;
	real_write(u, hdr, sizeof(hdr));
	if (have)
		real_write(u, old, have);
	free(old);
	close(u);
	errno = saved;
}

static void forget(int fd)
{
	char path[PATH_MAX];
	struct stat st;
	if (undo_path(fd, path, sizeof(path), &st))
		unlink(path);
}

/* 1 when fd's path contains $FP_SHIM_ENOSPC: the write fails as on a full disk. */
static int disk_full(int fd)
{
	const char *pat = getenv("FP_SHIM_ENOSPC");
	char link[64], target[PATH_MAX];
	if (!pat || !*pat)
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return 0;
	target[n] = '\0';
	if (!strstr(target, pat))
		return 0;
	errno = ENOSPC;
	return 1;
}

ssize_t write(int fd, const void *buf, size_t n)
{
	init();
	if (disk_full(fd))
		return -1;
	int fl = fcntl(fd, F_GETFL);
	off_t off;
	struct stat st;
	if (fl >= 0 && (fl & O_APPEND) && fstat(fd, &st) == 0)
		off = st.st_size;
	else
		off = lseek(fd, 0, SEEK_CUR);
	if (off >= 0)
		save_old(fd, off, n);
	return real_write(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	init();
	if (disk_full(fd))
		return -1;
	save_old(fd, off, n);
	return real_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	return pwrite(fd, buf, n, off);
}

int fsync(int fd)
{
	init();
	int r = real_fsync(fd);
	if (r == 0)
		forget(fd);
	return r;
}

int fdatasync(int fd)
{
	init();
	int r = real_fdatasync(fd);
	if (r == 0)
		forget(fd);
	return r;
}
