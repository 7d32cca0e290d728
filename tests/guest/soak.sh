#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make soak: gupwatch trace, record, top and daemon, each SOAK_SECONDS (gw.soak=
# on the kernel command line; default 600; gw.soakwhat=daemon,top: only those)
# under a mixed storm that never stops: process_vm_readv pin storms, COW
# storms after fork, forks copying pinned pages, O_DIRECT reads from null_blk
# (6.12 pins each buffer). Per command: its RSS every 10 s (max, at the end,
# and one sample a tenth of the way each), the events it lost (ring buffer full: the kernel's count, from its
# summary or stderr), and how long it took to exit after SIGTERM. Figures,
# not pass/fail (issue 12): one "SOAK ..." line per command.
. /gw/tests/lib.sh

SECS=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^gw\.soak=//p')
SECS=${SECS:-600}
WHAT=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^gw\.soakwhat=//p' | tr ',' ' ')
WHAT=${WHAT:-trace record top daemon}
step=$((SECS / 100 * 10)) # RSS samples printed: about ten
[ $step -ge 10 ] || step=10
S=/tmp/soak
mkdir -p $S

uptime_cs() { awk '{ sub(/\./, "", $1); print $1 + 0 }' /proc/uptime; }

nb=/sys/kernel/config/nullb/gwsoak
mkdir $nb && echo 64 >$nb/size && echo 4096 >$nb/blocksize && echo 0 >$nb/irqmode &&
	echo 0 >$nb/memory_backed && echo 1 >$nb/power || echo "soak: cannot create null_blk gwsoak" >&2
i=0
while [ ! -b /dev/gwsoak ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done

# storm_loop NAME GWLOAD-ARGS...: the workload over and over until $S/stop exists
storm_loop() {
	name=$1
	shift
	while [ ! -e $S/stop ]; do
		gwload "$@" >$S/$name.out 2>&1 || { echo "soak: gwload $* failed:"; cat $S/$name.out; sleep 1; }
	done
}

storm_start() {
	rm -f $S/stop
	storm_loop pins pvm-read --pages 256 --no-hold --repeat 2000 &
	storm_loop cow cow-fork --pages 1024 &
	storm_loop fork pin-fork --pages 16 &
	[ -b /dev/gwsoak ] && storm_loop odirect odirect-read --dev /dev/gwsoak --pages 1 --no-hold --repeat 2000 &
}

storm_stop() {
	touch $S/stop
	wait
}

# soak NAME GUPWATCH-ARGS...: one command under the storm for SECS
soak() {
	name=$1
	shift
	storm_start
	gupwatch "$@" >$S/gw.out 2>$S/gw.err &
	gw=$!
	max=0 rss=0 t=0 series=
	while [ $t -lt "$SECS" ] && kill -0 $gw 2>/dev/null; do
		sleep 10
		t=$((t + 10))
		rss=$(awk '/^VmRSS:/ { print $2 }' /proc/$gw/status 2>/dev/null)
		[ -n "$rss" ] && [ "$rss" -gt "$max" ] && max=$rss
		[ $((t % step)) != 0 ] || series="$series $((rss / 1024))"
	done
	t0=$(uptime_cs)
	kill -TERM $gw
	wait $gw
	rc=$? t1=$(uptime_cs)
	storm_stop
	# lost: the summary's "events lost: ring buffer full" row, else the sum of the live warnings
	lost=$(awk '/events lost: ring buffer full/ { v = $NF } END { print v }' $S/gw.out)
	[ -n "$lost" ] || lost=$(awk '/events lost \(ring buffer full\)/ { n += $2 } END { print n + 0 }' $S/gw.err)
	echo "SOAK $(gw_series) $name: ${SECS} s, exit $rc, RSS max $((max / 1024)) MiB, at the end" \
		"$((rss / 1024)) MiB, events lost $lost, exit $(((t1 - t0) * 10)) ms after SIGTERM"
	echo "  RSS (MiB) every $step s:$series"
	grep -E 'left unread|lost' $S/gw.err | tail -n 3 | sed 's/^/  2> /'
}

# wanted NAME: gw.soakwhat names it (or names nothing)
wanted() { case " $WHAT " in *" $1 "*) return 0 ;; esac; return 1; }

if wanted trace; then soak trace; fi
if wanted record; then
	soak record record -o $S/soak.gw
	ls -l $S/soak.gw | awk '{ print "  recording:", $5, "bytes" }'
	gupwatch report -i $S/soak.gw >/dev/null 2>$S/rep.err
	echo "  report of it: exit $? $(head -n 1 $S/rep.err)"
	rm -f $S/soak.gw
fi
if wanted top; then soak top top -d 5; fi
if wanted daemon; then
	ip link set lo up
	acq0=$(awk '$1 == "nr_foll_pin_acquired" { print $2 }' /proc/vmstat)
	# --call-sites: the heavier setting, which also keeps kernel stacks and symbols
	soak daemon daemon --log $S/daemon.jsonl --call-sites
	echo "  daemon: $(wc -l <$S/daemon.jsonl) findings logged, vmstat nr_foll_pin_acquired +$(($(awk '$1 == "nr_foll_pin_acquired" { print $2 }' /proc/vmstat) - acq0))"
fi
gw_done
