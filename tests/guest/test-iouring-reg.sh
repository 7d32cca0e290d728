#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# (a) io_uring IORING_REGISTER_BUFFERS of 4 anon pages: long-term R/W pins
# (FOLL_WRITE|FOLL_LONGTERM), 1 ref per page, held until UNREGISTER.
# Same on 6.1 and 6.12 (doc/kernel.md, "Which interfaces pin").
. /gw/tests/lib.sh

gw_run iouring-reg --pages 4 --hold-ms 300
gw_expect workload iouring-reg huge 0
gw_pins registered 4 0	# pinned by REGISTER
gw_pins hold 4 0	# still pinned after 300 ms
gw_pins after 4 4	# UNREGISTER unpinned every ref
gw_done
