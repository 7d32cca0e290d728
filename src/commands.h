/* SPDX-License-Identifier: GPL-2.0 */
/* Subcommands: each parses its own arguments (argv[0] is the subcommand). */
#ifndef GUPWATCH_COMMANDS_H
#define GUPWATCH_COMMANDS_H

int cmd_check(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_blockers(int argc, char **argv);
int cmd_daemon(int argc, char **argv);

#endif
