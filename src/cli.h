/* Argument checks shared by the subcommands (argp parsers). */
#ifndef GUPWATCH_CLI_H
#define GUPWATCH_CLI_H

#include <argp.h>
#include <stdint.h>

#include "attach.h"

/* A positive int, else an argp usage error naming WHAT. */
long cli_positive(const char *arg, const char *what, struct argp_state *state);
/* A comm the kernel can have (shorter than TASK_COMM_LEN), else a usage error. */
const char *cli_comm(const char *arg, struct argp_state *state);
enum attach_mode cli_attach_mode(const char *arg, struct argp_state *state);
/* "30s", "500ms", "5m", "2h", "10" (seconds) in ns, else a usage error naming WHAT. */
uint64_t cli_duration_ns(const char *arg, const char *what, struct argp_state *state);
struct sort_spec;
/* --sort KEYS, else a usage error listing the keys. */
void cli_sort(const char *arg, struct sort_spec *spec, struct argp_state *state);

#endif
