#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# gupwatch and the COW cases, in both attach modes (doc/kernel.md):
#  d cow-fork:     a COW storm on unpinned pages: counted in the kernel, not one event;
#  e pin-fork:     fork copies the pinned pages for the child: FORK-COPY;
#  f fork-unshare: a R/O pin of fork-shared anon pages unshares them: UNSHARE,
#                  linked to the pin that followed;
#  g file-stale:   a write copies away a MAP_PRIVATE file page under a R/O pin:
#                  STALE-PIN naming pinner, writer, address and both PFNs;
#  and a pin taken before gupwatch started whose page is then copied away.
. /gw/tests/lib.sh
. /gw/tests/trace.sh

count_is() { # STALE UNSHARE FORK
	gw_check "STALE-PIN findings" "$(finding_count STALE-PIN)" "$1"
	gw_check "UNSHARE findings" "$(finding_count UNSHARE)" "$2"
	gw_check "FORK-COPY findings" "$(finding_count FORK-COPY)" "$3"
}

for mode in $(trace_modes); do
	trace_case "$mode" "" cow-fork --pages 256
	count_is 0 0 0
	# an unpinned COW is a write-protect fault and nothing more: no copy event or window
	gw_check "copies of pinned pages (events kernel)" "$(sum_row 'copies: pinned COW + unshare')" "0 0"
	set -- $(sum_row "write-protect faults") "$(gw_get phase written parent_changed)"
	[ "$2" -ge "$3" ] && echo "ok   kernel counted $2 write faults (>= $3 pages the COW changed)" ||
		gw_check "write-protect faults >= pages the COW changed" "$2" ">= $3"

	trace_case "$mode" "" pin-fork --pages 4
	count_is 0 0 4
	gw_check "FORK-COPY parent" "$(findings FORK-COPY | awk '{ print $4 }' | sort -u)" "$GW_PID/gwload"
	gw_check "fork copies (events kernel)" "$(sum_row 'fork copies')" "4 4"
	# one fork's copies of consecutive pages: one line (-v lists each: test-trace-pindrv.sh)
	gw_check "FORK-COPY: the fork's 4 pages folded into one line" \
		"$(findings FORK-COPY | wc -l) $(findings FORK-COPY | grep -c '\[4 pages, folded')" "1 1"

	trace_case "$mode" "" fork-unshare --pages 4
	count_is 0 4 0
	gw_check "UNSHARE by the pinner" "$(findings UNSHARE | awk '{ print $4 }' | sort -u)" "$GW_PID/gwload"
	# one GUP call's unshares of consecutive pages: one line (-v lists each: test-trace-pindrv.sh)
	gw_check "UNSHAREs linked to their pin, 4 pages folded into one line" \
		"$(findings UNSHARE | wc -l) $(findings UNSHARE | grep 'pinned it: R/O' | grep -c '\[4 pages, folded')" "1 1"

	trace_case "$mode" "" file-stale --pages 4 --file /tmp/gw-trace-stale.dat
	count_is 4 0 0
	pinner=$(gw_get phase mapped pinner_pid) writer=$(gw_get phase mapped target_pid)
	addr=$(gw_get phase mapped addr)
	gw_check "STALE-PIN writer" "$(findings STALE-PIN | awk '{ print $4 }' | sort -u)" "$writer/gwload"
	gw_check "STALE-PIN pinner" "$(findings STALE-PIN | awk '{ print $7 }' | sort -u)" "$pinner/gwload"
	gw_check "STALE-PIN severity (short-term R/O pin)" "$(findings STALE-PIN | awk '{ print $3 }' | sort -u)" medium
	want=$(for i in 0 1 2 3; do printf '0x%x\n' $((addr + i * 4096)); done)
	gw_check "STALE-PIN addresses" "$(findings STALE-PIN | awk '{ print $5 }' | sort)" "$want"
	gw_check "STALE-PIN PFNs old->new differ" \
		"$(findings STALE-PIN | awk '{ split($6, p, "->"); if (p[1] != p[2] && p[2] != "") n++ } END { print n + 0 }')" 4

	# The pin is taken before gupwatch starts; the write happens under it.
	echo "+ pin first, then gupwatch --attach=$mode, then the write"
	rm -f /tmp/gw-go
	gwload_bg file-stale --pages 4 --file /tmp/gw-trace-stale.dat --write-when /tmp/gw-go
	gwload_wait hold >/dev/null
	trace_start "$mode" ""
	touch /tmp/gw-go
	wait $GW_PID
	trace_stop
	writer=$(gw_get phase mapped target_pid)
	count_is 4 0 0
	gw_check "early STALE-PIN writer" "$(findings STALE-PIN | awk '{ print $4 }' | sort -u)" "$writer/gwload"
	gw_check "early STALE-PIN pinner unknown" \
		"$(findings STALE-PIN | grep -c 'unknown (pinned before tracing started)')" 4
	gw_check "unpins of pins taken before the start" \
		"$(awk '/unpin refs of unknown folios/ { print $NF }' $GW_TRACE.out)" 4
done
gw_done
