#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "gupwatch.h"

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

enum attach_mode cli_attach_mode(const char *arg, struct argp_state *state)
{
	enum attach_mode mode = ATTACH_AUTO;

	if (parse_attach_mode(arg, &mode))
		argp_error(state, "invalid --attach '%s': use auto, fentry or kprobe", arg);
	return mode;
}
