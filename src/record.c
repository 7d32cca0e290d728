// SPDX-License-Identifier: GPL-2.0
/*
 * gupwatch record: run a tracing session and write every event to a record
 * file (recfile.h) for gupwatch report. With "-- COMMAND" the command is
 * forked first, held on a pipe until the tracer is attached, then exec'd;
 * the session ends when it exits and record exits with its status.
 *
 * The file keeps the live source's items as they come (session.h): with
 * stacks (unless --no-stacks), each stack once, before the first event that
 * carries it, with what names it later on any machine (capture.h). Its path
 * is checked before anything is attached and created once the tracer is:
 * a failed start leaves no file and an existing one untouched. From then on
 * it is written as it goes, a checkpoint after each batch, so that a record
 * killed by -9 or stopped by a full disk leaves a readable recording.
 */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attach.h"
#include "cli.h"
#include "commands.h"
#include "recfile.h"
#include "session.h"

static struct record_env {
	struct tracer_opts tracer;
	const char *output;
	long duration_s;
	struct engine_opts filter; /* -p, -c: stored in the file for report */
	char **command;
} env = {
	.tracer = { .mode = ATTACH_AUTO, .stacks = true },
	.output = "gupwatch.data",
};

enum { OPT_GET = 1000, OPT_NO_STACKS };

static const struct argp_option record_options[] = {
	{ "output", 'o', "FILE", 0, "Write to FILE (default gupwatch.data)", 0 },
	{ "pid", 'p', "PID", 0, "Report only what involves PID (kept in the file; all events are recorded)", 0 },
	{ "comm", 'c', "COMM", 0, "Report only what involves COMM (kept in the file)", 0 },
	{ "duration", 'd', "SECONDS", 0, "Record for SECONDS (with a COMMAND: at most)", 0 },
	CLI_TRACER_OPTIONS,
	{ "get", OPT_GET, NULL, 0, "Also record FOLL_GET references (a separate class, not pins)", 0 },
	{ "no-stacks", OPT_NO_STACKS, NULL, 0, "Do not capture kernel and user stacks (less overhead; no call-site tables)", 0 },
	{ 0 },
};

static error_t record_parse(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'o':
		if (!*arg)
			argp_error(state, "empty output file name");
		env.output = arg;
		break;
	case 'd':
		env.duration_s = cli_positive(arg, "duration", state);
		break;
	case OPT_GET:
		env.tracer.trace_get = true;
		break;
	case OPT_NO_STACKS:
		env.tracer.stacks = false;
		break;
	case ARGP_KEY_ARG:
		/* The command and all its arguments, options included. */
		env.command = &state->argv[state->next - 1];
		state->next = state->argc;
		break;
	default:
		return cli_parse_common(key, arg, state, &env.filter, &env.tracer);
	}
	return 0;
}

static const struct argp record_argp = {
	.options = record_options,
	.parser = record_parse,
	.args_doc = "[-- COMMAND [ARGS...]]",
	.doc = "Record FOLL_PIN pins, unpins, COW and fork copies into a file for\n"
	       "'gupwatch report': until Ctrl-C, SIGTERM, the duration, or the end of\n"
	       "COMMAND (run once the tracer is attached; record then exits with its\n"
	       "status). Filters are stored in the file and applied by report.\n\n"
	       "Examples:\n"
	       "  gupwatch record -d 10                     10 s into gupwatch.data\n"
	       "  gupwatch record -o io.gw -- fio job.fio   as long as fio runs\n"
	       "  gupwatch report -i io.gw --json | jq 'select(.type == \"finding\")'\n",
};

struct record_ctx {
	struct rec_writer w;
	bool opened;     /* the file exists: from on_start on */
	struct rec_header hdr;
	int go_fd;       /* write end of the child's start pipe; -1: none */
	pid_t child;     /* COMMAND, 0 when none or reaped */
	int child_status;
};

static void on_start(const struct tracer *t, void *ctx)
{
	struct record_ctx *c = ctx;
	char err[512];

	if (rec_writer_open(&c->w, env.output, err, sizeof(err))) {
		fprintf(stderr, "gupwatch: %s\n", err);
		session_stop();
		return; /* the command never runs */
	}
	c->opened = true;
	rec_header_set_tracer(&c->hdr, t, &env.tracer);
	rec_writer_header(&c->w, &c->hdr);
	rec_writer_sync(&c->w);
	if (c->go_fd >= 0) {
		/* Attached: let the command run. */
		if (write(c->go_fd, "g", 1) != 1)
			fprintf(stderr, "gupwatch: cannot start the command: %s\n", strerror(errno));
		close(c->go_fd);
		c->go_fd = -1;
	}
}

static int on_item(const struct rec_item *it, void *ctx)
{
	struct record_ctx *c = ctx;

	return rec_writer_item(&c->w, it) ? -EIO : 0;
}

static void on_idle(uint64_t now_ns, void *ctx)
{
	struct record_ctx *c = ctx;

	(void)now_ns;
	if (rec_writer_sync(&c->w))
		session_stop();
	if (c->child && waitpid(c->child, &c->child_status, WNOHANG) == c->child) {
		c->child = 0;
		session_stop();
	}
}

/* Fork COMMAND; it waits for one byte on a pipe, then execs. */
static pid_t spawn(char **argv, int *go_fd)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		char go;

		close(fds[1]);
		/* EOF: the tracer did not start; leave quietly. */
		if (read(fds[0], &go, 1) != 1)
			_exit(127);
		execvp(argv[0], argv);
		fprintf(stderr, "gupwatch: cannot run '%s': %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[0]);
	*go_fd = fds[1];
	return pid;
}

static int exit_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

int cmd_record(int argc, char **argv)
{
	static const struct session_ops ops = { .on_start = on_start, .on_item = on_item,
						 .on_idle = on_idle, .procinfo = true };
	struct record_ctx c = { .go_fd = -1 };
	uint64_t counters[GW_CNT__MAX], end_ns;
	char err[512];
	int ret;

	if (argp_parse(&record_argp, argc, argv, ARGP_IN_ORDER, NULL, NULL))
		return 2;
	if (rec_writer_check(env.output, err, sizeof(err))) {
		fprintf(stderr, "gupwatch: %s\n", err);
		return 1;
	}
	c.w.fd = -1;
	rec_header_init(&c.hdr);
	c.hdr.filter_pid = env.filter.filter_pid;
	if (env.filter.filter_comm)
		snprintf(c.hdr.filter_comm, sizeof(c.hdr.filter_comm), "%s", env.filter.filter_comm);
	if (env.command) {
		size_t len = 0;

		for (char **a = env.command; *a && len < sizeof(c.hdr.command) - 1; a++)
			len += snprintf(c.hdr.command + len, sizeof(c.hdr.command) - len, "%s%s",
					a == env.command ? "" : " ", *a);
		c.child = spawn(env.command, &c.go_fd);
		if (c.child < 0) {
			fprintf(stderr, "gupwatch: cannot fork for '%s': %s\n", env.command[0],
				strerror(errno));
			return 1;
		}
		c.hdr.command_pid = c.child;
	}

	ret = session_run(&env.tracer, env.duration_s, &ops, &c, counters);
	end_ns = session_now_ns();
	if (c.go_fd >= 0) {
		/* Never attached: the command exits without running. */
		close(c.go_fd);
		c.go_fd = -1;
	}
	if (c.child) {
		/* Stopped by the duration or a signal while the command still runs. */
		if (waitpid(c.child, &c.child_status, WNOHANG) == 0) {
			if (!ret)
				fprintf(stderr, "gupwatch: stopping '%s' (pid %d)\n", env.command[0], c.child);
			kill(c.child, SIGTERM);
			waitpid(c.child, &c.child_status, 0);
		}
		c.child = 0;
	}
	if (!c.opened)
		return 1;
	if (c.w.err) {
		/* a full disk: what reached it stays readable */
		fprintf(stderr, "gupwatch: %s\n", rec_writer_error(&c.w, err, sizeof(err)));
		rec_writer_close(&c.w);
		return 1;
	}
	if (ret) {
		rec_writer_close(&c.w);
		fprintf(stderr, "gupwatch: %s: the recording ends without a trailer; gupwatch report "
			"reads its %llu events\n", env.output, (unsigned long long)c.w.checkpoint_events);
		return ret;
	}
	if (rec_writer_finish(&c.w, counters, end_ns, err, sizeof(err))) {
		fprintf(stderr, "gupwatch: %s\n", err);
		return 1;
	}
	fprintf(stderr, "gupwatch: recorded %llu events into %s; 'gupwatch report -i %s' shows them\n",
		(unsigned long long)c.w.events, env.output, env.output);
	return env.command ? exit_status(c.child_status) : 0;
}
