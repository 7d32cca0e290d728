/* SPDX-License-Identifier: GPL-2.0 */
/* Argument checks shared by the subcommands (argp parsers). */
#ifndef GUPWATCH_CLI_H
#define GUPWATCH_CLI_H

#include <argp.h>
#include <stdint.h>

#include "attach.h"
#include "engine.h"

/* Keys of the options several subcommands take (each lists them with its own help text). */
enum { CLI_OPT_ATTACH = 900, CLI_OPT_MAX_FOLIOS, CLI_OPT_PROG_STATS, CLI_OPT_DEBUG, CLI_OPT_CGROUP };

/* The argp entries of the options that choose how the BPF side runs (trace, record, top). */
#define CLI_TRACER_OPTIONS                                                                       \
	{ "attach", CLI_OPT_ATTACH, "MODE", 0,                                                   \
	  "auto (default: fentry, kprobe where fentry fails), fentry, kprobe", 0 },              \
	{ "prog-stats", CLI_OPT_PROG_STATS, NULL, 0,                                             \
	  "At the end, print each BPF program's runs and time per run (kernel BPF stats)", 0 },  \
	{ "debug", CLI_OPT_DEBUG, NULL, 0,                                                       \
	  "Print libbpf's own messages, debug level included, on standard error", 0 }

/*
 * -p PID, -c COMM, --cgroup PATH, --attach MODE, --max-folios N, --prog-stats, --debug into eng /
 * tr (NULL: the command has no such options); an argument is a usage error; ARGP_ERR_UNKNOWN for
 * any other key.
 */
error_t cli_parse_common(int key, char *arg, struct argp_state *state, struct engine_opts *eng,
			 struct tracer_opts *tr);

/* A positive int, else an argp usage error naming WHAT. */
long cli_positive(const char *arg, const char *what, struct argp_state *state);
struct engine_opts;
/* "cannot set up the correlation engine for --max-folios N: ERRNO; fix: ..." on stderr. */
void cli_engine_failed(const struct engine_opts *o);
/* A comm the kernel can have (shorter than TASK_COMM_LEN), else a usage error. */
const char *cli_comm(const char *arg, struct argp_state *state);
enum attach_mode cli_attach_mode(const char *arg, struct argp_state *state);
/* "30s", "500ms", "5m", "2h", "10" (seconds) in ns, else a usage error naming WHAT. */
uint64_t cli_duration_ns(const char *arg, const char *what, struct argp_state *state);
struct sort_spec;
/* --sort KEYS, else a usage error listing the keys. */
void cli_sort(const char *arg, struct sort_spec *spec, struct argp_state *state);

#endif
