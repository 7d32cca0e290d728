/* Argument checks shared by the subcommands (argp parsers). */
#ifndef GUPWATCH_CLI_H
#define GUPWATCH_CLI_H

#include <argp.h>

#include "attach.h"

/* A positive int, else an argp usage error naming WHAT. */
long cli_positive(const char *arg, const char *what, struct argp_state *state);
/* A comm the kernel can have (shorter than TASK_COMM_LEN), else a usage error. */
const char *cli_comm(const char *arg, struct argp_state *state);
enum attach_mode cli_attach_mode(const char *arg, struct argp_state *state);

#endif
