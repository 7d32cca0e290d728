#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The test pin device /dev/gwpin (tests/pindrv, gwpin.ko built by tests/vm/modules.sh
# for this kernel): long-term pins taken like a driver would, with pin_user_pages()
# and with pin_user_pages_fast(); ground truth from pagemap and from what the device
# reads through the pinned pages (doc/kernel.md: unsharing, fork's eager copy, G1).
#  1 pindrv-stale:    R/O long-term pin of read-faulted MAP_PRIVATE file pages, then
#                     we write them.  6.1: no unshare for non-anon pages, the write
#                     copies them away, the device keeps the file pages (stale, 'F').
#                     6.12 (and later): the pin unshares first (private anon copies,
#                     FAULT_FLAG_UNSHARE), the write reuses them, the device sees 'W'.
#  2 pindrv-unshare:  R/O long-term pin of anon pages shared with a forked child:
#                     unshared at pin time on both; the write reuses the pinned pages.
#  3 pindrv-forkcopy: R/W long-term pin, then fork: fork copies the pinned pages for
#                     the child on both; our write needs no COW.
# GUP-fast cannot unshare: it pins the first page, sees it must unshare, undoes that
# pin and falls back to the slow path (one extra acquired+released ref).
. /gw/tests/lib.sh

gwpin_load

old=0
[ "$(gw_series)" = 6.1 ] && old=1
for gup in slow fast; do
	fast=
	[ $gup = fast ] && fast=--fast
	echo "### $gup GUP (pin_user_pages$([ $gup = fast ] && echo _fast))"

	# 1. R/O long-term pin of private file pages, then a write.
	gw_run pindrv-stale --pages 4 --hold-ms 50 --file /tmp/gw-pindrv.dat $fast
	gw_pins mapped 0 0
	gw_expect phase mapped file 4	# page cache pages, mapped R/O
	if [ $old = 1 ]; then
		# 6.1: gup_must_unshare() is false for non-anon pages: the file pages are pinned.
		gw_pins pinned 4 0
		gw_expect phase pinned moved 0
		gw_expect phase pinned file 4
		gw_expect phase pinned dev_same 4
		gw_pins written 4 0
		gw_expect phase written changed 4	# the write copied every page away ...
		gw_expect phase written file 0
		gw_expect phase written dev_same 0	# ... from under the pin
		gw_expect phase written dev_old 4	# the device reads the old file content
		gw_expect phase written dev_new 0
		gw_check "device keeps the pre-write pages" "$(gw_get phase written dev_pfns)" \
			"$(gw_get phase mapped pfns)"
	else
		# 6.12: a R/O long-term pin in a COW mapping unshares non-anon pages too.
		if [ $gup = fast ]; then gw_pins pinned 5 1; else gw_pins pinned 4 0; fi
		gw_expect phase pinned moved 4	# private anon copies, made at pin time
		gw_expect phase pinned file 0
		gw_expect phase pinned dev_same 4
		gw_pins written "$(gw_get phase pinned acquired)" "$(gw_get phase pinned released)"
		gw_expect phase written changed 0	# the write reused the pinned copies
		gw_expect phase written dev_same 4
		gw_expect phase written dev_old 0
		gw_expect phase written dev_new 4	# the device sees the write
		gw_check "device holds the pages we map" "$(gw_get phase written dev_pfns)" \
			"$(gw_get phase written pfns)"
	fi
	a=$(gw_get phase pinned acquired)
	gw_pins after "$a" "$a"

	# 2. R/O long-term pin of fork-shared anon pages: unshared on both kernels.
	gw_run pindrv-unshare --pages 4 --hold-ms 50 $fast
	gw_pins forked 0 0
	gw_expect phase forked child_same 4
	if [ $gup = fast ]; then gw_pins pinned 5 1; else gw_pins pinned 4 0; fi
	gw_expect phase pinned moved 4	# we got copies ...
	gw_expect phase pinned child_same 4	# ... the child kept the shared pages
	gw_expect phase pinned dev_same 4
	gw_expect phase written changed 0
	gw_expect phase written dev_same 4
	gw_expect phase written dev_new 4
	a=$(gw_get phase pinned acquired)
	gw_pins after "$a" "$a"
	gw_expect phase after child_old 4

	# 3. R/W long-term pin, then fork: copied for the child on both kernels.
	gw_run pindrv-forkcopy --pages 4 --hold-ms 50 $fast
	gw_pins pinned 4 0
	gw_expect phase pinned moved 0	# exclusive anon pages: pinned in place
	gw_expect phase pinned dev_same 4
	gw_pins forked 4 0
	gw_expect phase forked child_same 0	# the child got copies
	gw_expect phase written changed 0	# no COW for us: still the pinned pages
	gw_expect phase written dev_same 4
	gw_expect phase written dev_new 4
	gw_pins after 4 4
	gw_expect phase after child_old 4
done
gw_done
