/*
 * See sup.h. Children are reaped with waitpid(WNOHANG) from sup_poll, so
 * no SIGCHLD handler is needed: the caller's loop polls a few times a
 * second, and a restart is due at most that late.
 */
#include "base/common.h"
#include "base/timeutil.h"
#include "sup/sup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A child that ran this long is healthy again: its back-off starts over. */
#define HEALTHY_US (60 * TIME_US_PER_SEC)

struct child {
	char *name;
	char *argv[SUP_MAX_ARGS];
	bool oneshot;
	pid_t pid;
	int restarts;
	int64_t started_us;
	int64_t restart_at_us; /* 0: no restart pending */
	bool done;
};

struct sup {
	char *log_dir;
	struct child c[SUP_MAX_CHILDREN];
	int n;
	bool stopping;
	sup_report_fn report;
	void *arg;
};

int64_t sup_backoff_ms(int n)
{
	int64_t ms = 500;

	for (int i = 1; i < n && ms < 30000; i++)
		ms *= 2;
	return ms < 30000 ? ms : 30000;
}

int sup_new(const char *log_dir, sup_report_fn report, void *arg, struct sup **out,
            struct ts_err *err)
{
	struct sup *s = calloc(1, sizeof(*s));

	if (!s || !(s->log_dir = strdup(log_dir))) {
		free(s);
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	}
	s->report = report;
	s->arg = arg;
	*out = s;
	return 0;
}

static void child_release(struct child *c)
{
	free(c->name);
	for (int a = 0; a < SUP_MAX_ARGS; a++)
		free(c->argv[a]);
	memset(c, 0, sizeof(*c));
}

void sup_free(struct sup *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->n; i++)
		child_release(&s->c[i]);
	free(s->log_dir);
	free(s);
}

static void report(struct sup *s, enum sup_event ev, const struct child *c, int status)
{
	if (s->report)
		s->report(ev, c->name, c->pid, status, s->arg);
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void exec_child(const struct child *c, int log_fd, pid_t parent)
{
	sigset_t none;
	static const char msg[] = "topsongs up: cannot exec the child\n";

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent) /* the supervisor died before prctl */
		_exit(1);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	if (dup2(log_fd, STDOUT_FILENO) < 0 || dup2(log_fd, STDERR_FILENO) < 0)
		_exit(127);
	execv(c->argv[0], c->argv);
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(127);
	_exit(127);
}

static int spawn(struct sup *s, struct child *c, struct ts_err *err)
{
	char path[4096];
	pid_t parent = getpid(), pid;
	int fd;

	snprintf(path, sizeof(path), "%s/%s.log", s->log_dir, c->name);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return ts_err_set(err, TS_EIO, "%s: %s", path, strerror(errno));
	pid = fork();
	if (pid == 0)
		exec_child(c, fd, parent);
	close(fd);
	if (pid < 0)
		return ts_err_set(err, TS_EIO, "fork: %s", strerror(errno));
	setpgid(pid, pid); /* also here, so it holds before either side runs on */
	c->pid = pid;
	c->started_us = time_mono_us();
	c->restart_at_us = 0;
	report(s, SUP_STARTED, c, 0);
	return 0;
}

int sup_start(struct sup *s, const struct sup_spec *spec, struct ts_err *err)
{
	struct child *c;
	int n = 0, ok;

	if (s->n == SUP_MAX_CHILDREN)
		return ts_err_set(err, TS_ETOOBIG, "more than %d children", SUP_MAX_CHILDREN);
	while (n < SUP_MAX_ARGS && spec->argv[n])
		n++;
	if (n == 0 || n == SUP_MAX_ARGS) /* argv must end in a NULL */
		return ts_err_set(err, TS_EINVAL, "%s: bad argument list", spec->name);
	c = &s->c[s->n];
	memset(c, 0, sizeof(*c));
	c->oneshot = spec->oneshot;
	ok = (c->name = strdup(spec->name)) != NULL;
	for (int a = 0; ok && a < n; a++)
		ok = (c->argv[a] = strdup(spec->argv[a])) != NULL;
	if (!ok) {
		child_release(c);
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	}
	s->n++;
	return spawn(s, c, err);
}

static struct child *by_pid(struct sup *s, pid_t pid)
{
	for (int i = 0; i < s->n; i++)
		if (s->c[i].pid == pid)
			return &s->c[i];
	return NULL;
}

static void exited(struct sup *s, struct child *c, int status)
{
	int64_t now = time_mono_us();

	report(s, SUP_EXITED, c, status);
	c->pid = 0;
	if (s->stopping)
		return;
	if (c->oneshot && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		c->done = true;
		report(s, SUP_DONE, c, status);
		return;
	}
	if (now - c->started_us >= HEALTHY_US)
		c->restarts = 0;
	c->restarts++;
	c->restart_at_us = now + sup_backoff_ms(c->restarts) * 1000;
	report(s, SUP_RESTARTING, c, (int)sup_backoff_ms(c->restarts));
}

static void reap(struct sup *s)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct child *c = by_pid(s, pid);

		if (c)
			exited(s, c, status);
	}
}

int sup_poll(struct sup *s, int wait_ms, int *running, struct ts_err *err)
{
	int64_t now, until = time_mono_us() + (int64_t)wait_ms * 1000;
	int rc = 0;

	reap(s);
	now = time_mono_us();
	for (int i = 0; !rc && i < s->n; i++) {
		struct child *c = &s->c[i];

		if (!c->pid && c->restart_at_us && c->restart_at_us <= now && !s->stopping)
			rc = spawn(s, c, err);
		if (c->restart_at_us && c->restart_at_us < until)
			until = c->restart_at_us;
	}
	if (!rc && until > now) {
		struct timespec ts = {(time_t)((until - now) / 1000000),
		                      (long)((until - now) % 1000000) * 1000};

		nanosleep(&ts, NULL); /* a signal cuts it short, as it should */
	}
	reap(s);
	*running = 0;
	for (int i = 0; i < s->n; i++)
		*running += s->c[i].pid != 0;
	return rc;
}

bool sup_done(const struct sup *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->c[i].name, name))
			return s->c[i].done;
	return false;
}

pid_t sup_pid(const struct sup *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->c[i].name, name))
			return s->c[i].pid;
	return 0;
}

static void stop_one(struct sup *s, struct child *c, int timeout_ms)
{
	int64_t deadline = time_mono_us() + (int64_t)timeout_ms * 1000;
	int status = 0;

	kill(c->pid, SIGTERM);
	while (waitpid(c->pid, &status, WNOHANG) == 0) {
		if (time_mono_us() >= deadline) {
			kill(c->pid, SIGKILL);
			waitpid(c->pid, &status, 0);
			break;
		}
		struct timespec ts = {0, 20 * 1000 * 1000};

		nanosleep(&ts, NULL);
	}
	report(s, SUP_STOPPED, c, status);
	c->pid = 0;
}

void sup_stop_all(struct sup *s, int timeout_ms)
{
	s->stopping = true;
	reap(s);
	for (int i = s->n - 1; i >= 0; i--)
		if (s->c[i].pid)
			stop_one(s, &s->c[i], timeout_ms);
}
