#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest environment tests/vm/init promises: mounts, PATH, memlock, BTF,
# null_blk devices made through configfs (with a controllable I/O latency), hugetlb.
# Standalone on purpose (no lib.sh): it checks the harness itself.
# shellcheck disable=SC2015,SC2086,SC3045 # ok() cannot fail; word splitting wanted; busybox has ulimit -l
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

echo "uname -r: $(uname -r)"

for m in "proc /proc" "sysfs /sys" "devtmpfs /dev" "tmpfs /tmp" "bpf /sys/fs/bpf" \
	"tracefs /sys/kernel/tracing" "debugfs /sys/kernel/debug" "configfs /sys/kernel/config"; do
	set -- $m
	if awk -v t="$1" -v d="$2" '$2 == d && $3 == t { f = 1 } END { exit !f }' /proc/mounts; then
		ok "$1 on $2"
	else
		fail "$1 not mounted on $2"
	fi
done

case ":$PATH:" in *:/gw/bin:*) ok "PATH has /gw/bin" ;; *) fail "PATH=$PATH" ;; esac
[ "$(ulimit -l)" = unlimited ] && ok "memlock unlimited" || fail "ulimit -l = $(ulimit -l)"
[ -s /sys/kernel/btf/vmlinux ] && ok "BTF present" || fail "no /sys/kernel/btf/vmlinux"
ls /dev/nullb* >/dev/null 2>&1 && fail "null_blk made devices of its own (nr_devices=0 not honoured)"

# null_blk through configfs: 200 ms per I/O, so one uncached read takes >= 0.2 s.
d=/sys/kernel/config/nullb/gwboot
if mkdir "$d"; then
	echo 16 >"$d/size"
	echo 2 >"$d/irqmode"
	echo 200000000 >"$d/completion_nsec"
	echo 1 >"$d/power"
	# 6.1 and 6.12 name the disk after the configfs directory (older ones: nullb<index>).
	dev=/dev/gwboot
	[ -e /sys/block/gwboot ] || dev=/dev/nullb$(cat "$d/index")
	i=0
	while [ ! -b "$dev" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	t0=$(cut -d' ' -f1 /proc/uptime)
	if dd if="$dev" of=/dev/null bs=4096 count=1; then
		t1=$(cut -d' ' -f1 /proc/uptime)
		ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 1000 }')
		if [ "$ms" -ge 190 ]; then ok "read $dev took $ms ms"; else fail "read $dev took $ms ms, expected >= 200"; fi
	else
		fail "dd from $dev"
	fi
	echo 0 >"$d/power"
	rmdir "$d" || fail "rmdir $d"
	[ ! -e "$dev" ] && ok "$dev removed" || fail "$dev still there"
else
	fail "cannot create $d (null_blk loaded?)"
fi

# hugetlb: reserve 8 huge pages, read back, release.
echo 8 >/proc/sys/vm/nr_hugepages
n=$(cat /proc/sys/vm/nr_hugepages)
[ "$n" = 8 ] && ok "8 huge pages" || fail "nr_hugepages = $n, wanted 8"
echo 0 >/proc/sys/vm/nr_hugepages

[ $fails = 0 ] || exit 1
echo "ok: guest environment as promised"
