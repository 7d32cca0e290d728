#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# gupwatch blockers, a one-shot read of the kernel's own pin state, against
# independent truth: gwload registers 8 anon pages with io_uring (long-term
# pins) *before* gupwatch runs and prints their PFNs (pagemap). Over all
# memory, the pins blockers counts equal /proc/vmstat acquired - released and
# its pinned folios are exactly those PFNs, each with 1 pin, the only row
# naming gwload's pid; --memory-block of the first page names it with the
# buffer's pages in that block; once the buffer is unregistered (the twin:
# the same memory, mapped, not pinned) the block shows no pinned folio.
. /gw/tests/lib.sh
. /gw/tests/trace.sh

PAGES=8
B=/tmp/gw-blockers

set -- $(vm_pins)
base=$(($1 - $2))
gwload_bg iouring-reg --pages $PAGES --hold-ms 60000 --verbose
registered=$(gwload_wait registered)
sed 's/^/  | /' "$GW_OUT"
gw_check "gwload registered its buffer" "$registered" 1
gwload_pfns registered >$B.truth
gw_check "PFNs from pagemap" "$(wc -l <$B.truth)" $PAGES

set -- $(vm_pins)
outstanding=$(($1 - $2))
echo "+ gupwatch blockers  (outstanding pins by vmstat: $outstanding, $base before gwload)"
gupwatch blockers >$B.all 2>$B.err
gw_check "blockers exit status" $? 0
sed 's/^/  > /' $B.all
sed 's/^/  2> /' $B.err
gw_check "pins counted over all memory = vmstat acquired - released" \
	"$(sed -n 's/.* with \([0-9]*\) pins, by the kernel.*/\1/p' $B.all)" $outstanding
blockers_folios $B.all | awk '{ print $1 }' | sort >$B.found
gw_check "pinned folios found that are gwload's buffer (pagemap)" \
	"$(grep -cxFf $B.truth $B.found)" $PAGES
gw_check "pins of each buffer page" "$(blockers_folios $B.all | grep -Ff $B.truth | awk '$3 != 1' | wc -l)" 0
gw_check "gwload's row: PINNED FOLIOS KPINS" "$(blockers_row $B.all $GW_PID)" "$PAGES $PAGES $PAGES"
gw_check "rows of processes other than gwload (nothing else pins here)" \
	"$(awk -v p=$GW_PID '$1 == "PID" { t = 1; next } t && /^$/ { t = 0 } t && $1 != p' $B.all | wc -l)" 0

# the memory block of the buffer's first page, and how many of its pages lie in it
pfn0=$(head -1 $B.truth)
block=$(memory_block $pfn0)
in_block=$(while read -r p; do [ $(memory_block $p) = $block ] && echo $p; done <$B.truth | wc -l)
echo "+ gupwatch blockers --memory-block $block  ($in_block of the buffer's pages in it)"
gupwatch blockers --memory-block $block >$B.block 2>$B.err
gw_check "blockers --memory-block exit status" $? 0
sed 's/^/  > /' $B.block
gw_check "memory block $block: gwload's row: PINNED FOLIOS KPINS" "$(blockers_row $B.block $GW_PID)" \
	"$in_block $in_block $in_block"

kill $GW_PID
wait $GW_PID 2>/dev/null
i=0
while set -- $(vm_pins) && [ $(($1 - $2)) -ne $base ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
gw_check "vmstat outstanding back to the baseline once gwload exited" $(($1 - $2)) $base
echo "+ gupwatch blockers --memory-block $block  (after: nothing pinned by gwload)"
gupwatch blockers --memory-block $block >$B.after 2>$B.err
gw_check "blockers --memory-block exit status (after)" $? 0
sed 's/^/  > /' $B.after
gw_check "memory block $block: buffer pages still reported pinned" \
	"$(blockers_folios $B.after | awk '{ print $1 }' | grep -cxFf $B.truth)" 0
gw_check "memory block $block: gwload's row (after)" "$(blockers_row $B.after $GW_PID)" ""

echo "+ gupwatch blockers --zone movable  (no ZONE_MOVABLE in this guest)"
gupwatch blockers --zone movable >$B.out 2>$B.err
gw_check "blockers --zone movable exit status" $? 64
sed 's/^/  2> /' $B.err
gw_check "blockers --zone movable names the cause" "$(grep -c 'no zone .movable. with memory' $B.err)" 1
rm -f $B.*
gw_done
