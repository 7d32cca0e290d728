#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Memory offline of a hot-plugged DIMM's block that a short-term pin holds, in
# the guest make check boots with a pc-dimm on node 2, which the kernel onlines
# movable (memhp_default_state=online_movable; tests/check.sh; elsewhere it
# skips). gwload's process_vm_readv pins a child's pages (R/O, held while its
# copy waits on userfaultfd), all of them bound to node 2 (--node 2); the
# block of the first one is taken offline meanwhile. The kernel's answer is
# the truth: the offline write fails (the kernel retries the migration until
# a signal: EINTR from timeout's SIGTERM) and the block stays online;
# gupwatch blockers lists the pinned pages in the block; gupwatch reports
# MIGRATE-BLOCKED (memory_hotplug) only at those PFNs, each naming gwload's
# pin. The twin, once the pin is gone: blockers shows none of them, the
# offline succeeds, nothing is reported, and blockers calls the block offline.
# The block goes back online.
. /gw/tests/lib.sh
. /gw/tests/trace.sh

dimm=/sys/devices/system/node/node2
[ -d $dimm ] && [ -z "$(cat $dimm/cpulist)" ] ||
	gw_skip "no memory-only node 2 (the DIMM): this test runs in make check's pc-dimm boot"

PAGES=4
B=/tmp/gw-offline
mode=${GW_MODE:-$(trace_modes | cut -d' ' -f1)}
trace_start "$mode" ""
gwload_bg pvm-read --pages $PAGES --hold-ms 8000 --verbose --node 2
held=$(gwload_wait hold)
gwload_pfns target >$B.pinned
gw_check "gwload holds its pins on its child's pages" "$held $(wc -l <$B.pinned)" "1 $PAGES"
block=$(memory_block "$(head -1 $B.pinned)")
state=/sys/devices/system/memory/memory$block/state
while read -r p; do [ "$(memory_block $p)" = $block ] && echo $p; done <$B.pinned >$B.inblock
echo "memory block $block ($(cat /sys/devices/system/memory/memory$block/valid_zones)): $(wc -l <$B.inblock) pinned pages in it"
gw_check "block $block is the DIMM's (node 2)" "$(ls -d /sys/devices/system/memory/memory$block/node2)" \
	/sys/devices/system/memory/memory$block/node2

gupwatch blockers --memory-block $block >$B.before 2>$B.err
gw_check "blockers --memory-block exit status" $? 0
sed 's/^/  > /' $B.before
gw_check "blockers: the pinned pages in block $block" \
	"$(blockers_folios $B.before | awk '{ print $1 }' | grep -cxFf $B.inblock)" "$(wc -l <$B.inblock)"

echo "+ echo offline > $state  (pin held, 3 s)"
timeout 3 sh -c "echo offline >$state" 2>$B.err
rc=$?
cat $B.err
gw_check "offline with the pin held fails" "$([ $rc -ne 0 ] && echo failed)" failed
gw_check "block $block state" "$(cat $state)" online
wait $GW_PID
gw_check "gwload exit status" $? 0
sed 's/^/  | /' "$GW_OUT"
trace_stop
gw_check "MIGRATE-BLOCKED at pinned pages, all" \
	"$(findings MIGRATE-BLOCKED | awk '{ print $6 }' | sort -u | tr '\n' ' ')" \
	"$(tr '\n' ' ' <$B.inblock)"
gw_check "MIGRATE-BLOCKED not naming gwload's R/O pin, memory_hotplug" \
	"$(findings MIGRATE-BLOCKED | grep -vc " memory_hotplug, node 2 Movable: 1024 extra references (refcount 1026, migration expects 2): $GW_PID/gwload R/O,remote 1 ref held ")" 0

# the twin: the same block once the pin is gone
gupwatch blockers --memory-block $block >$B.after 2>$B.err
gw_check "twin: blockers exit status" $? 0
gw_check "twin: blockers: pinned pages left in block $block" \
	"$(blockers_folios $B.after | awk '{ print $1 }' | grep -cxFf $B.inblock)" 0
trace_start "$mode" ""
echo "+ echo offline > $state  (no pin)"
timeout 60 sh -c "echo offline >$state"
gw_check "twin: offline exit status" $? 0
gw_check "twin: block $block state" "$(cat $state)" offline
gupwatch blockers --memory-block $block >$B.offline 2>$B.err
gw_check "blockers on the offline block: exit status" $? 0
sed 's/^/  > /' $B.offline
gw_check "blockers says the block is offline, nothing pinned" \
	"$(grep -c "^gupwatch blockers: memory block $block (PFN .*, offline): .* 0 folios pinned" $B.offline)" 1
trace_stop
gw_check "twin: MIGRATE-BLOCKED findings" "$(finding_count MIGRATE-BLOCKED)" 0
echo online_movable >$state
gw_check "block $block back online" "$(cat $state)" online
gw_done
