// SPDX-License-Identifier: GPL-2.0
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "gupwatch.h"
#include "columns.h"
#include "engine.h"
#include "procinfo.h"

long cli_positive(const char *arg, const char *what, struct argp_state *state)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || v <= 0 || v > INT_MAX)
		argp_error(state, "invalid %s '%s': expected a positive integer", what, arg);
	return v;
}

static uint32_t cli_max_folios(const char *arg, struct argp_state *state)
{
	long v = cli_positive(arg, "--max-folios", state);

	if (v > ENGINE_MAX_FOLIOS)
		argp_error(state, "invalid --max-folios '%s': at most %u (a TiB of 4 KiB pages)", arg,
			   ENGINE_MAX_FOLIOS);
	return v;
}

void cli_engine_failed(const struct engine_opts *o)
{
	fprintf(stderr, "gupwatch: cannot set up the correlation engine for --max-folios %u: %s; "
		"fix: a smaller --max-folios (each costs %zu bytes of address space)\n", o->max_folios,
		strerror(errno), engine_bytes_per_folio());
}

const char *cli_comm(const char *arg, struct argp_state *state)
{
	if (strlen(arg) >= GW_COMM_LEN)
		argp_error(state, "COMM '%s' is longer than the kernel's %d-character comm",
			   arg, GW_COMM_LEN - 1);
	return arg;
}

error_t cli_parse_common(int key, char *arg, struct argp_state *state, struct engine_opts *eng,
			 struct tracer_opts *tr)
{
	if (eng && key == 'p')
		eng->filter_pid = cli_positive(arg, "PID", state);
	else if (eng && key == 'c')
		eng->filter_comm = cli_comm(arg, state);
	else if (eng && key == CLI_OPT_CGROUP) {
		if (arg[0] != '/')
			argp_error(state, "invalid --cgroup '%s': a path from the cgroup root, e.g. "
				   "/system.slice (see /proc/PID/cgroup)", arg);
		eng->filter_cgroup = arg;
		eng->cgroup_of = procinfo_cgroup_now; /* read once per new process (the consumer
							 * answers from its PROCINFO items instead) */
	}
	else if (eng && key == CLI_OPT_MAX_FOLIOS)
		eng->max_folios = cli_max_folios(arg, state);
	else if (tr && key == CLI_OPT_ATTACH)
		tr->mode = cli_attach_mode(arg, state);
	else if (tr && key == CLI_OPT_PROG_STATS)
		tr->prog_stats = true;
	else if (tr && key == CLI_OPT_DEBUG)
		tr->debug = true;
	else if (key == ARGP_KEY_ARG)
		argp_error(state, "unexpected argument '%s'", arg);
	else
		return ARGP_ERR_UNKNOWN;
	return 0;
}

enum attach_mode cli_attach_mode(const char *arg, struct argp_state *state)
{
	enum attach_mode mode = ATTACH_AUTO;

	if (parse_attach_mode(arg, &mode))
		argp_error(state, "invalid --attach '%s': use auto, fentry or kprobe", arg);
	return mode;
}

uint64_t cli_duration_ns(const char *arg, const char *what, struct argp_state *state)
{
	static const struct { const char *unit; double ns; } units[] = {
		{ "", 1e9 }, { "s", 1e9 }, { "ms", 1e6 }, { "us", 1e3 }, { "m", 60e9 }, { "h", 3600e9 },
	};
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (!errno && end != arg && v >= 0 && v < 1e9)
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			if (strcmp(end, units[i].unit))
				continue;
			/* a uint64_t of ns holds 584 years: 100 is plenty, and no overflow */
			if (v * units[i].ns > 100 * 365.25 * 86400e9)
				argp_error(state, "invalid %s '%s': at most 100 years", what, arg);
			return (uint64_t)(v * units[i].ns);
		}
	argp_error(state, "invalid %s '%s': expected a duration such as 30s, 500ms, 5m (plain number: seconds)",
		   what, arg);
	return 0;
}

void cli_sort(const char *arg, struct sort_spec *spec, struct argp_state *state)
{
	char err[256];

	if (sort_parse(arg, spec, err, sizeof(err)))
		argp_error(state, "invalid --sort: %s", err);
}
