# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the guest tests (busybox sh). Source with: . /gw/tests/lib.sh
#
#   gw_series            "6.1" | "6.12" | "other" (from uname -r)
#   gw_run ARGS...       run `gwload ARGS...`, show its output, keep it in $GW_OUT;
#                        a gwload error (exit != 0) fails the test at once.
#                        With GW_BREAK=1 in the environment, --no-hold is added:
#                        the workload releases early, and the test must then FAIL
#                        (test-broken.sh checks that every test does).
#   gwload_bg ARGS...    `gwload ARGS...` in the background, output in $GW_OUT, pid in $GW_PID
#   gw_get TYPE VAL KEY  value of KEY on the record whose first pair is TYPE=VAL
#   gw_check WHAT GOT WANT        compare, print "ok ..." or "FAIL ...", count failures
#   gw_expect TYPE VAL KEY WANT   gw_check of a gwload record's value
#   gw_pins PHASE ACQ REL         gw_expect of acquired/released/outstanding of phase=PHASE
#   gw_done              exit 0 if nothing failed, else 1
#   gw_skip REASON       exit 77
#   nullb_create NAME NSEC        null_blk device (irqmode=2, completion_nsec=NSEC) -> sets $GW_NULLB
#   nullb_remove                  tear it down again (also done by gw_done)
#   hugetlb_reserve N             set vm.nr_hugepages=N (restored by gw_done)
#   gw_wait_detached              wait until the hooks of stopped gupwatch sessions are
#                                 detached (their gupwatch-detach children gone)
#
# Helpers keep their loop counters local: a test's own loop over i survives them.
#
# gwload prints key=value records (tests/workloads/gwload.h); the pin counters
# in them are deltas of /proc/vmstat nr_foll_pin_acquired/_released.

GW_FAILS=0
GW_OUT=/tmp/gwload.$$.out
GW_NULLB=
GW_NULLB_DIR=
GW_HUGE_OLD=

gw_series() {
	case $(uname -r) in
	6.1.*) echo 6.1 ;;
	6.12.*) echo 6.12 ;;
	*) echo other ;;
	esac
}

gw_run() {
	[ "${GW_BREAK:-0}" = 1 ] && set -- "$@" --no-hold
	echo "+ gwload $*"
	gwload "$@" >"$GW_OUT" 2>&1
	rc=$?
	sed 's/^/  | /' "$GW_OUT"
	if [ $rc -ne 0 ]; then
		echo "FAIL: gwload $1 exited $rc"
		gw_cleanup
		exit 1
	fi
}

gwload_bg() {
	# The old output must go first: the background shell truncates it only when
	# it gets to run, and a wait for a phase would see the last run's line.
	rm -f "$GW_OUT"
	gwload "$@" >"$GW_OUT" 2>&1 &
	GW_PID=$!
}

gw_get() {
	awk -v t="$1=$2" -v k="$3" '$1 == t {
		for (i = 2; i <= NF; i++) {
			e = index($i, "=")
			if (substr($i, 1, e - 1) == k) { print substr($i, e + 1); exit }
		}
	}' "$GW_OUT"
}

gw_check() { # WHAT GOT WANT
	if [ "$2" = "$3" ]; then
		echo "ok   $1 = $2"
	else
		echo "FAIL $1 = ${2:-<missing>} (expected $3)"
		GW_FAILS=$((GW_FAILS + 1))
	fi
}

gw_expect() {
	gw_check "$1=$2 $3" "$(gw_get "$1" "$2" "$3")" "$4"
}

gw_pins() {
	gw_expect phase "$1" acquired "$2"
	gw_expect phase "$1" released "$3"
	gw_expect phase "$1" outstanding $(($2 - $3))
}

gw_cleanup() {
	nullb_remove
	if [ -n "$GW_HUGE_OLD" ]; then
		echo "$GW_HUGE_OLD" >/proc/sys/vm/nr_hugepages
		GW_HUGE_OLD=
	fi
	rm -f "$GW_OUT"
}

gw_done() {
	gw_cleanup
	if [ $GW_FAILS -eq 0 ]; then
		echo "PASS"
		exit 0
	fi
	echo "FAILED: $GW_FAILS check(s)"
	exit 1
}

# A detach waits for RCU-tasks grace periods, which a task busy in the kernel
# (a pin storm) can hold up for minutes, and the next attach waits for the
# detach (the kernel's direct_mutex): start storms only once it is over.
gw_wait_detached() {
	local i=0
	while grep -qsx gupwatch-detach /proc/[0-9]*/comm; do
		[ $i -ge 1200 ] && { echo "FAIL: a gupwatch-detach still runs after 120 s"; return 1; }
		sleep 0.1
		i=$((i + 1))
	done
}

gw_skip() {
	echo "SKIP: $*"
	gw_cleanup
	exit 77
}

# nullb_create NAME NSEC: a memory-less null_blk disk whose every I/O completes
# NSEC ns after submission (timer completion), via configfs.
nullb_create() {
	GW_NULLB_DIR=/sys/kernel/config/nullb/$1
	if ! mkdir "$GW_NULLB_DIR"; then
		echo "FAIL: cannot create $GW_NULLB_DIR (null_blk/configfs loaded?)"
		GW_NULLB_DIR=
		exit 1
	fi
	echo 64 >"$GW_NULLB_DIR/size"	# MiB
	echo 4096 >"$GW_NULLB_DIR/blocksize"
	echo 2 >"$GW_NULLB_DIR/irqmode"	# timer
	echo "$2" >"$GW_NULLB_DIR/completion_nsec"
	echo 1 >"$GW_NULLB_DIR/power"
	# 6.1 and 6.12 name the disk after the configfs directory (older: nullb<index>)
	GW_NULLB=/dev/$1
	[ -e "/sys/block/$1" ] || GW_NULLB=/dev/nullb$(cat "$GW_NULLB_DIR/index")
	local i=0
	while [ ! -b "$GW_NULLB" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -b "$GW_NULLB" ] || { echo "FAIL: no block device $GW_NULLB"; exit 1; }
	echo "null_blk $GW_NULLB: completion_nsec=$2"
}

nullb_remove() {
	[ -n "$GW_NULLB_DIR" ] || return 0
	echo 0 >"$GW_NULLB_DIR/power"
	rmdir "$GW_NULLB_DIR"
	GW_NULLB_DIR=
	GW_NULLB=
}

hugetlb_reserve() {
	[ -n "$GW_HUGE_OLD" ] || GW_HUGE_OLD=$(cat /proc/sys/vm/nr_hugepages)
	echo "$1" >/proc/sys/vm/nr_hugepages
	n=$(cat /proc/sys/vm/nr_hugepages)
	[ "$n" -ge "$1" ] || gw_skip "only $n of $1 huge pages could be reserved"
}

# gwpin_load: the test pin device /dev/gwpin (tests/pindrv, built per kernel by tests/vm/modules.sh)
gwpin_load() {
	ko=/gw/modules/gwpin.ko
	[ -e /dev/gwpin ] && return 0
	[ -f $ko ] || { echo "FAIL: no $ko: tests/vm/modules.sh did not build it for $(uname -r)"; exit 1; }
	insmod $ko || { echo "FAIL: insmod $ko"; exit 1; }
	local i=0
	while [ ! -e /dev/gwpin ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
}
