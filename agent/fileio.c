/*
 * fileio.c — file and process helpers of the agent (fileio.h).
 */
#include "fileio.h"

#include "fleetpatch/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

long long agent_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int agent_read_file(const char *path, size_t cap, char **buf, size_t *len, struct fp_err *err)
{
	*buf = NULL;
	*len = 0;
	FILE *f = fopen(path, "rb");
	if (!f) {
		if (errno == ENOENT)
			return fp_err_set(err, FP_ENOTFOUND, "%s does not exist", path);
		return fp_err_set(err, FP_EIO, "%s: %s", path, strerror(errno));
	}
	char *p = malloc(cap + 2);
	size_t n = p ? fread(p, 1, cap + 1, f) : 0;
	int bad = ferror(f);
	fclose(f);
	if (!p)
		return fp_err_set(err, FP_ENOMEM, "out of memory");
	if (bad || n > cap) {
		free(p);
		return bad ? fp_err_set(err, FP_EIO, "%s: read error", path)
		           : fp_err_set(err, FP_ETOOBIG, "%s is larger than %zu bytes", path, cap);
	}
	p[n] = '\0';
	*buf = p;
	*len = n;
	return 0;
}

int agent_write_all(int fd, const void *data, size_t n)
{
	const char *p = data;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

void agent_sync_parent(const char *path)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s", path);
	int fd = open(dirname(tmp), O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int agent_write_atomic(const char *path, const void *data, size_t n, int mode, struct fp_err *err)
{
	char tmp[4200];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return fp_err_set(err, FP_ETOOBIG, "path too long: %.100s", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return fp_err_set(err, FP_EIO, "%s: %s", tmp, strerror(errno));
	int bad = agent_write_all(fd, data, n) != 0;
	bad |= fsync(fd) != 0;
	int e = errno;
	bad |= close(fd) != 0;
	if (bad || rename(tmp, path) != 0) {
		if (!bad)
			e = errno;
		unlink(tmp);
		return fp_err_set(err, FP_EIO, "cannot write %s: %s", path, strerror(e));
	}
	agent_sync_parent(path);
	return 0;
}

int agent_run(char *const argv[], long timeout_s, int *status, char **out, struct fp_err *err)
{
	int pfd[2] = {-1, -1};
	char *buf = NULL;
	size_t len = 0;
	if (out) {
		*out = NULL;
		buf = malloc(AGENT_CMD_OUTPUT_MAX + 1);
		if (!buf || pipe2(pfd, O_CLOEXEC) != 0) {
			free(buf);
			return fp_err_set(err, FP_ENOMEM, "cannot run %s", argv[0]);
		}
	}
	pid_t pid = fork();
	if (pid < 0) {
		free(buf);
		if (out) {
			close(pfd[0]);
			close(pfd[1]);
		}
		return fp_err_set(err, FP_EIO, "cannot run %s: %s", argv[0], strerror(errno));
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0)
			dup2(nul, 0);
		if (out)
			dup2(pfd[1], 1);
		else
			dup2(2, 1);
		setpgid(0, 0);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (out)
		close(pfd[1]);
	long long deadline = agent_now_ms() + timeout_s * 1000;
	int st = 0, done = 0, timed_out = 0;
	while (!done) {
		long long left = deadline - agent_now_ms();
		if (left <= 0) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			timed_out = 1;
			waitpid(pid, &st, 0);
			break;
		}
		if (out && pfd[0] >= 0) {
			struct pollfd p = {.fd = pfd[0], .events = POLLIN};
			if (poll(&p, 1, (int)(left < 100 ? left : 100)) > 0) {
				char tmp[4096];
				ssize_t r = read(pfd[0], tmp, sizeof(tmp));
				if (r <= 0) {
					close(pfd[0]);
					pfd[0] = -1;
				} else if (len < AGENT_CMD_OUTPUT_MAX) {
					size_t k = (size_t)r;
					if (k > AGENT_CMD_OUTPUT_MAX - len)
						k = AGENT_CMD_OUTPUT_MAX - len;
					memcpy(buf + len, tmp, k);
					len += k;
				}
			}
		} else {
			struct timespec ts = {0, 20 * 1000000};
			nanosleep(&ts, NULL);
		}
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid && (!out || pfd[0] < 0))
			done = 1;
		else if (w == pid) {
			/* Drain what the program wrote before it exited. */
			ssize_t r;
			char tmp[4096];
			while ((r = read(pfd[0], tmp, sizeof(tmp))) > 0 &&
			       len < AGENT_CMD_OUTPUT_MAX) {
				size_t k = (size_t)r;
				if (k > AGENT_CMD_OUTPUT_MAX - len)
					k = AGENT_CMD_OUTPUT_MAX - len;
				memcpy(buf + len, tmp, k);
				len += k;
			}
			done = 1;
		}
	}
	if (out && pfd[0] >= 0)
		close(pfd[0]);
	*status = timed_out         ? 124
	          : WIFEXITED(st)   ? WEXITSTATUS(st)
	          : WIFSIGNALED(st) ? 128 + WTERMSIG(st)
	                            : 1;
	if (out) {
		buf[len] = '\0';
		*out = buf;
	}
	return 0;
}

int agent_run_shell(const char *cmd, long timeout_s, int *status, struct fp_err *err)
{
	char *argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};
	return agent_run(argv, timeout_s, status, NULL, err);
}

int agent_write_if_changed(const char *path, const void *data, size_t n, int mode,
                           struct fp_err *err)
{
	char *old = NULL;
	size_t old_len = 0;
	int same = agent_read_file(path, n, &old, &old_len, NULL) == 0 && old_len == n &&
	           memcmp(old, data, n) == 0;
	if (old)
		fp_wipe(old, old_len); /* the file may hold a secret (the session's token) */
	free(old);
	return same ? 1 : agent_write_atomic(path, data, n, mode, err);
}
