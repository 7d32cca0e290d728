// SPDX-License-Identifier: GPL-2.0
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "gupwatch.h"
#include "columns.h"

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
	else if (eng && key == CLI_OPT_MAX_FOLIOS)
		eng->max_folios = cli_positive(arg, "--max-folios", state);
	else if (tr && key == CLI_OPT_ATTACH)
		tr->mode = cli_attach_mode(arg, state);
	else if (tr && key == CLI_OPT_PROG_STATS)
		tr->prog_stats = true;
	else if (tr && key == CLI_OPT_DEBUG)
		tr->debug = true;
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
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (!strcmp(end, units[i].unit))
				return (uint64_t)(v * units[i].ns);
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
