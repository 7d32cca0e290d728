#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# (c) O_DIRECT pwrite / pread of 4 pages between an anon buffer and a null_blk
# disk whose I/O completes after 1 s (irqmode=2, completion_nsec).  gwload
# samples the counters 300 ms into the I/O (in_io=1: the syscall had not
# returned yet).
# 6.12: bio_iov_iter_get_pages -> iov_iter_extract_pages -> pin_user_pages_fast:
#       4 FOLL_PIN refs (R/O for the write, FOLL_WRITE for the read), released
#       at completion.
# 6.1:  bio_iov_iter_get_pages -> iov_iter_get_pages2 -> get_user_pages_fast:
#       FOLL_GET references, so the pin counters do not move at all.
. /gw/tests/lib.sh

case $(gw_series) in
6.1) n=0 ;;
*) n=4 ;;
esac
nullb_create gwodirect 1000000000
for w in odirect-write odirect-read; do
	gw_run $w --dev "$GW_NULLB" --pages 4 --hold-ms 300
	gw_expect phase hold in_io 1	# sample taken while the I/O was in flight
	gw_pins hold $n 0
	gw_pins after $n $n
	gw_expect phase after bytes 16384
done
gw_done
