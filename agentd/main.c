/*
 * fleetpatch-agentd — the idle half of the device agent.
 *
 * A device spends nearly all of its life between two polls. The agent
 * proper (fleetpatch-agent) links libcurl, OpenSSL, jansson and the rest
 * of libfleetpatch; kept resident between polls, their pages are most of
 * its memory. So `fleetpatch-agent run` execs this small program, which
 * holds nothing but a timer: at each poll it starts one worker,
 *
 *     AGENT ARG... --worker GEN --report-fd 3
 *
 * which continues any journaled update, polls once and writes
 * "next_ms=N\n" (when to poll again: the server's interval, jitter and
 * backoff, all decided by the worker) on fd 3 before it exits. What the
 * worker must remember between polls is in its state directory (the
 * journal, the session file). See docs/design/agent.md, "Idle memory".
 *
 * Signals: SIGTERM/SIGINT stop (forwarded to a running worker, which
 * finishes its journaled step); SIGUSR1 polls now. The worker gets
 * SIGKILL if this process dies (PR_SET_PDEATHSIG), as on a power cut.
 *
 * Only libc: this process is what stays in memory.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ARGS_MAX      64                   /* arguments passed through to the worker */
#define REPORT_MAX    64                   /* bytes of a worker's report */
#define RETRY_FIRST_S 30                   /* after a worker that reported nothing */
#define RETRY_MAX_S   3600                 /* the longest such wait */
#define NEXT_MAX_MS   (8LL * 86400 * 1000) /* a reported wait longer than this is refused */

static volatile sig_atomic_t stop_sig, poll_now;

static void on_stop(int sig)
{
	stop_sig = sig;
}

static void on_usr1(int sig)
{
	(void)sig;
	poll_now = 1;
}

static void say(const char *level, const char *msg, const char *detail)
{
	fprintf(stderr, "fleetpatch-agentd: level=%s msg=\"%s\"%s%s\n", level, msg,
	        detail ? " " : "", detail ? detail : "");
	fflush(stderr);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "next_ms=N\n", N from 0 to NEXT_MAX_MS; -1 for anything else. */
static long long parse_report(const char *s, size_t n)
{
	static const char key[] = "next_ms=";
	size_t k = sizeof(key) - 1;
	if (n < k + 2 || memcmp(s, key, k) != 0 || s[n - 1] != '\n')
		return -1;
	long long v = 0;
	for (size_t i = k; i < n - 1; i++) {
		if (s[i] < '0' || s[i] > '9' || (v = v * 10 + (s[i] - '0')) > NEXT_MAX_MS)
			return -1;
	}
	return v;
}

/*
 * Runs one worker and waits for it. Returns the wait it reported (ms) or
 * -1; *status is its wait status.
 */
static long long run_worker(char **argv, const sigset_t *unblocked, int *status)
{
	int fds[2];
	if (pipe(fds) != 0) {
		say("error", "cannot make a pipe", strerror(errno));
		*status = 0;
		return -1;
	}
	pid_t parent = getpid(), pid = fork();
	if (pid < 0) {
		say("error", "cannot start the worker", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		*status = 0;
		return -1;
	}
	if (pid == 0) {
		/* Dies with this process, as the whole device would on a power cut. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		close(fds[0]);
		if (fds[1] != 3) {
			dup2(fds[1], 3);
			close(fds[1]);
		}
		sigprocmask(SIG_SETMASK, unblocked, NULL);
		signal(SIGUSR1, SIG_IGN);
		execv(argv[0], argv);
		fprintf(stderr,
		        "fleetpatch-agentd: level=error msg=\"cannot run %s\" error=\"%s\"\n",
		        argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	char rep[REPORT_MAX];
	size_t n = 0;
	int forwarded = 0, open_fd = 1;
	while (open_fd) {
		if (stop_sig && !forwarded) {
			kill(pid, SIGTERM);
			forwarded = 1;
		}
		struct pollfd p = {.fd = fds[0], .events = POLLIN};
		int r = ppoll(&p, 1, NULL, unblocked);
		if (r < 0)
			continue; /* EINTR: a signal; see to it above */
		char tmp[REPORT_MAX];
		ssize_t got = read(fds[0], tmp, sizeof(tmp));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			open_fd = 0;
			break;
		}
		size_t take = (size_t)got < sizeof(rep) - n ? (size_t)got : sizeof(rep) - n;
		memcpy(rep + n, tmp, take);
		n += take;
	}
	close(fds[0]);
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR) {
			*status = 0;
			break;
		}
		if (stop_sig && !forwarded) {
			kill(pid, SIGTERM);
			forwarded = 1;
		}
	}
	return n < sizeof(rep) ? parse_report(rep, n) : -1;
}

/* Sleeps ms, or less when a signal asks to stop or to poll now. */
static void sleep_until(long long ms, const sigset_t *unblocked)
{
	long long end = now_ms() + ms;
	while (!stop_sig && !poll_now) {
		long long left = end - now_ms();
		if (left <= 0)
			return;
		struct timespec ts = {(time_t)(left / 1000), (long)(left % 1000) * 1000000};
		ppoll(NULL, 0, &ts, unblocked);
	}
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc - 1 > ARGS_MAX || argv[1][0] != '/') {
		fputs("usage: fleetpatch-agentd /PATH/TO/fleetpatch-agent ARG...\n"
		      "\n"
		      "Started by 'fleetpatch-agent run'; runs the agent once per poll\n"
		      "(docs/design/agent.md, \"Idle memory\").\n",
		      stderr);
		return 2;
	}
	sigset_t block, unblocked;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &unblocked);
	sigdelset(&unblocked, SIGTERM);
	sigdelset(&unblocked, SIGINT);
	sigdelset(&unblocked, SIGUSR1);
	struct sigaction sa = {.sa_handler = on_stop};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* AGENT ARG... --worker GEN --report-fd 3 */
	char *wargv[ARGS_MAX + 6], gen[24];
	int k = 0;
	for (int i = 1; i < argc; i++)
		wargv[k++] = argv[i];
	wargv[k++] = "--worker";
	wargv[k++] = gen;
	wargv[k++] = "--report-fd";
	wargv[k++] = "3";
	wargv[k] = NULL;

	long long retry_s = RETRY_FIRST_S;
	for (unsigned long long g = 0; !stop_sig; g++) {
		snprintf(gen, sizeof(gen), "%llu", g);
		poll_now = 0;
		int st = 0;
		long long next = run_worker(wargv, &unblocked, &st);
		if (stop_sig)
			break;
		if (next >= 0) {
			retry_s = RETRY_FIRST_S;
			sleep_until(next, &unblocked);
			continue;
		}
		char detail[96];
		if (WIFEXITED(st))
			snprintf(detail, sizeof(detail), "exit=%d retry_s=%lld", WEXITSTATUS(st),
			         retry_s);
		else
			snprintf(detail, sizeof(detail), "signal=%d retry_s=%lld",
			         WIFSIGNALED(st) ? WTERMSIG(st) : 0, retry_s);
		/* The first worker could not start the device (configuration, state directory). */
		if (g == 0 && WIFEXITED(st) && WEXITSTATUS(st) != 0) {
			say("error", "the agent could not start", detail);
			return WEXITSTATUS(st);
		}
		say("error", "the poll ended without a report", detail);
		sleep_until(retry_s * 1000, &unblocked);
		retry_s = retry_s * 2 > RETRY_MAX_S ? RETRY_MAX_S : retry_s * 2;
	}
	say("info", "stopped", NULL);
	return 0;
}
