#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Bad command lines get a one-line error and a non-zero exit, never a crash.
set -uo pipefail
gw=${GUPWATCH:-./gupwatch}
fail() { echo "FAIL: $*"; exit 1; }
expect_error() { # description, args...
	local what=$1 out rc; shift
	out=$("$gw" "$@" 2>&1 >/dev/null); rc=$?
	[ $rc -ne 0 ] && [ $rc -lt 128 ] || fail "$what: exit $rc"
	[ -n "$out" ] || fail "$what: no error message"
	echo "ok: $what -> exit $rc: $(printf '%s' "$out" | head -n 1)"
}
expect_error "unknown command" frobnicate
expect_error "unknown option" check --frobnicate
expect_error "stray argument" check extra
expect_error "bad duration" trace -d abc
expect_error "negative pid" trace -p -5
expect_error "bad attach mode" trace --attach=uprobe
expect_error "comm too long" trace -c this-comm-is-way-too-long
expect_error "trace: bad sort key" trace --sort bogus
expect_error "report: bad sort key" report --sort pins,bogus
expect_error "report: bad --min-age" report --min-age soon
expect_error "record: stray option" record --sort pins
# values that would overflow or cannot be allocated: the option named, its limit
expect_exact() { # description, message, args...
	local what=$1 want=$2 out rc; shift 2
	out=$("$gw" "$@" 2>&1 >/dev/null); rc=$?
	[ $rc -eq 64 ] && [ "$(printf '%s\n' "$out" | head -n 1)" = "$want" ] || fail "$what: exit $rc: $out"
	echo "ok: $what -> exit $rc: $want"
}
expect_exact "report: --min-age of 584 years" \
	"gupwatch report: invalid --min-age '5124096h': at most 100 years" report --min-age 5124096h
expect_exact "report: --max-folios of 2^31" \
	"gupwatch report: invalid --max-folios '2147483647': at most 268435456 (a TiB of 4 KiB pages)" \
	report --max-folios 2147483647
expect_exact "top: --max-folios of 2^31" \
	"gupwatch top: invalid --max-folios '2147483647': at most 268435456 (a TiB of 4 KiB pages)" \
	top --max-folios 2147483647
expect_error "top: bad delay" top -d abc
for cmd in trace top daemon; do
	expect_exact "$cmd: --cgroup not a path" \
		"gupwatch $cmd: invalid --cgroup 'system.slice': a path from the cgroup root, e.g. /system.slice (see /proc/PID/cgroup)" \
		$cmd --cgroup system.slice
done
expect_exact "daemon: --listen without a port" \
	"gupwatch daemon: --listen 'localhost': want IPV4-ADDRESS:PORT, e.g. 127.0.0.1:9776 (0.0.0.0: every interface)" \
	daemon --listen localhost
expect_exact "daemon: --listen by name" \
	"gupwatch daemon: --listen 'example.org:9776': want IPV4-ADDRESS:PORT, e.g. 127.0.0.1:9776 (0.0.0.0: every interface)" \
	daemon --listen example.org:9776
# the port taken: exit 1, the cause and the fix, before anything is attached
python3 -c 'import socket, sys, time; s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True); time.sleep(30)' >/tmp/gw-usage-port.$$ &
holder=$!
for _ in $(seq 50); do [ -s /tmp/gw-usage-port.$$ ] && break; sleep 0.1; done
port=$(cat /tmp/gw-usage-port.$$)
out=$("$gw" daemon --listen 127.0.0.1:$port 2>&1 >/dev/null); rc=$?
kill $holder; rm -f /tmp/gw-usage-port.$$
[ $rc -eq 1 ] && [ "$out" = "gupwatch: cannot listen on 127.0.0.1:$port: Address already in use; fix: stop what uses the port or give --listen another" ] ||
	fail "daemon: port in use: exit $rc: $out"
echo "ok: daemon: port in use -> exit 1: $out"
expect_error "daemon: --log in a missing directory" daemon --log /nonexistent/dir/gupwatch.jsonl
expect_error "top: zero delay" top -d 0
expect_error "top: bad iterations" top -n 0
expect_error "top: bad sort key" top -s size
expect_error "top: bad sort key list" top -s pages,,pid
expect_error "top: stray argument" top extra
expect_error "top: bad attach mode" top --attach=uprobe
"$gw" --help | grep -q check || fail "--help does not list check"
"$gw" trace --help | grep -q "Examples" || fail "trace --help has no examples"
"$gw" check --help | grep -q 'Example' || fail "check --help has no example"
"$gw" --help | grep -q '^  top ' || fail "--help does not list top"
"$gw" top --help | grep -q "Examples" || fail "top --help has no examples"
"$gw" report --help | grep -q -- "--min-age" || fail "report --help lacks --min-age"
"$gw" record --help | grep -q -- "--no-stacks" || fail "record --help lacks --no-stacks"
echo "ok: help texts"
