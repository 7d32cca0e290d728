// SPDX-License-Identifier: GPL-2.0
/*
 * gwcaps - run a program as root with only the capabilities a systemd unit's
 * CapabilityBoundingSet= leaves it, the way systemd does it: every other
 * capability is dropped from the bounding set, so the exec'd program's
 * permitted and effective sets are the listed ones.
 *
 *   gwcaps 'CAP_BPF CAP_PERFMON ...' PROG [ARGS...]
 *
 * Exit: PROG's, or 2 for bad usage, 1 when the drop fails.
 */
#define _GNU_SOURCE
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>

#define CAP(name) { #name, name }
static const struct {
	const char *name;
	int cap;
} caps[] = {
	CAP(CAP_CHOWN), CAP(CAP_DAC_OVERRIDE), CAP(CAP_DAC_READ_SEARCH), CAP(CAP_FOWNER),
	CAP(CAP_FSETID), CAP(CAP_KILL), CAP(CAP_SETGID), CAP(CAP_SETUID), CAP(CAP_SETPCAP),
	CAP(CAP_LINUX_IMMUTABLE), CAP(CAP_NET_BIND_SERVICE), CAP(CAP_NET_BROADCAST),
	CAP(CAP_NET_ADMIN), CAP(CAP_NET_RAW), CAP(CAP_IPC_LOCK), CAP(CAP_IPC_OWNER),
	CAP(CAP_SYS_MODULE), CAP(CAP_SYS_RAWIO), CAP(CAP_SYS_CHROOT), CAP(CAP_SYS_PTRACE),
	CAP(CAP_SYS_PACCT), CAP(CAP_SYS_ADMIN), CAP(CAP_SYS_BOOT), CAP(CAP_SYS_NICE),
	CAP(CAP_SYS_RESOURCE), CAP(CAP_SYS_TIME), CAP(CAP_SYS_TTY_CONFIG), CAP(CAP_MKNOD),
	CAP(CAP_LEASE), CAP(CAP_AUDIT_WRITE), CAP(CAP_AUDIT_CONTROL), CAP(CAP_SETFCAP),
	CAP(CAP_MAC_OVERRIDE), CAP(CAP_MAC_ADMIN), CAP(CAP_SYSLOG), CAP(CAP_WAKE_ALARM),
	CAP(CAP_BLOCK_SUSPEND), CAP(CAP_AUDIT_READ), CAP(CAP_PERFMON), CAP(CAP_BPF),
	CAP(CAP_CHECKPOINT_RESTORE),
};
#define NCAPS (sizeof(caps) / sizeof(caps[0]))

int main(int argc, char **argv)
{
	int keep[CAP_LAST_CAP + 1] = { 0 };
	char *list, *name;
	size_t i;
	int c;

	if (argc < 3) {
		fprintf(stderr, "usage: gwcaps 'CAP_X CAP_Y ...' PROG [ARGS...]\n");
		return 2;
	}
	list = strdup(argv[1]);
	for (name = strtok(list, " ,"); name; name = strtok(NULL, " ,")) {
		for (i = 0; i < NCAPS && strcasecmp(name, caps[i].name); i++)
			;
		if (i == NCAPS) {
			fprintf(stderr, "gwcaps: unknown capability '%s'\n", name);
			return 2;
		}
		keep[caps[i].cap] = 1;
	}
	/* the running kernel may know more than these headers: drop those too */
	for (c = 0; prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0; c++) {
		if (c <= CAP_LAST_CAP && keep[c])
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0)) {
			perror("gwcaps: PR_CAPBSET_DROP");
			return 1;
		}
	}
	execvp(argv[2], argv + 2);
	fprintf(stderr, "gwcaps: %s: %m\n", argv[2]);
	return 127;
}
