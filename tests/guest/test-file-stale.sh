#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# (g) doc/kernel.md G2: a child maps a tmpfs file (4 pages of 'F') MAP_PRIVATE and
# read-faults it (page cache pages, mapped R/O).  process_vm_readv R/O-pins
# them (short-term, non-anon: no unshare) and is held by userfaultfd; during
# the pin the child writes 'W' to every page: the write faults copy the pages
# away from under the pin (PFNs change, no longer file pages), while the pin
# is still outstanding.  The data we then receive is the old 'F': stale.
# Same on 6.1 and 6.12.
. /gw/tests/lib.sh

gw_run file-stale --file /tmp/gw-file-stale.dat --pages 4 --hold-ms 200
gw_pins mapped 0 0
gw_expect phase mapped target_file 4	# page cache pages mapped in the child
gw_pins hold 4 0
gw_pins written 4 0	# pin still outstanding after the child's write
gw_expect phase written target_changed 4	# ... yet the child's PFNs changed
gw_expect phase written target_file 0	# to private anon copies
gw_pins after 4 4
gw_expect phase after stale 4	# we got the pinned, old content
gw_expect phase after target_new 4	# the child sees its write
gw_done
