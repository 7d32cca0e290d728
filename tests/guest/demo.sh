#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The demo (`make demo`): gupwatch check, then gupwatch tracing real pins:
# an io_uring buffer registration (long-term R/W pins) and a R/O pin on a
# MAP_PRIVATE file page that the process writes while it is pinned — the
# stale-pin case gupwatch exists for.
set -u
echo "### uname -r: $(uname -r)"
echo "### gupwatch check"
gupwatch check
echo
echo "### gupwatch -d 30 (in the background) while the workloads run"
rm -f /tmp/demo.trace /tmp/demo.err
gupwatch -d 30 >/tmp/demo.trace 2>/tmp/demo.err &
gw=$!
i=0
until grep -qs 'tracing' /tmp/demo.err || [ $i -ge 300 ]; do sleep 0.1; i=$((i + 1)); done
cat /tmp/demo.err
echo "### gwload iouring-reg --pages 4 --hold-ms 500"
gwload iouring-reg --pages 4 --hold-ms 500
echo "### gwload file-stale"
gwload file-stale
kill -INT $gw
wait $gw
echo "### gupwatch output"
cat /tmp/demo.trace
