// SPDX-License-Identifier: GPL-2.0
/* gupwatch: make Linux page pinning (FOLL_PIN) and its COW hazards visible. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "commands.h"

#define GW_VERSION "0.1.0"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "trace", cmd_trace, "trace pins and the COW faults that copy pinned pages (the default)" },
	{ "top", cmd_top, "who holds pins now, refreshed like top(1)" },
	{ "record", cmd_record, "trace into a file for report (-- COMMAND: while it runs)" },
	{ "report", cmd_report, "findings and summary of a recorded file, as text or JSON" },
	{ "daemon", cmd_daemon, "trace until stopped: findings to a JSON Lines log, Prometheus metrics" },
	{ "blockers", cmd_blockers, "who holds pins on this physical memory now (the kernel's counts)" },
	{ "check", cmd_check, "can gupwatch trace this kernel? (hook by hook, verified by attaching)" },
};
#define NR_COMMANDS (int)(sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: gupwatch COMMAND [OPTIONS]\n\ncommands:\n");
	for (int i = 0; i < NR_COMMANDS; i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(out, "\n'gupwatch COMMAND --help' describes each command; 'gupwatch --version' "
		     "prints the version.\n");
}

/* argp gives every command --version (-V) from this. */
const char *argp_program_version = "gupwatch " GW_VERSION;

/* libbpf's messages repeat, less clearly, the one-line errors gupwatch prints (--debug shows them). */
static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list args)
{
	(void)level;
	(void)fmt;
	(void)args;
	return 0;
}

int main(int argc, char **argv)
{
	libbpf_set_print(libbpf_quiet);
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
		printf("%s\n", argp_program_version);
		return 0;
	}
	/* Like perf top: no command, or options only, means trace. */
	if (argc < 2 || argv[1][0] == '-')
		return cmd_trace(argc, argv);
	for (int i = 0; i < NR_COMMANDS; i++) {
		if (!strcmp(argv[1], commands[i].name)) {
			char prog[64];

			/* argp prints argv[0] in usage and errors: make it the full command. */
			snprintf(prog, sizeof(prog), "gupwatch %s", commands[i].name);
			argv[1] = prog;
			return commands[i].run(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "gupwatch: unknown command '%s'; run 'gupwatch --help' for the list\n", argv[1]);
	return 2;
}
