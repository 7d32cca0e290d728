#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot Debian stock kernels under QEMU (TCG) and run the guest tests in them.
#
#   tests/vm/run.sh [--kernels "6.1 6.12"] [--tests "a b"] [--run SCRIPT]
#                   [--timeout SECS] [--test-timeout SECS]
#
#   --kernels     series to boot, each SERIES[:FLAVOUR] (flavour default cloud)   env KERNELS
#   --tests       test names (tests/guest/test-<name>.sh); default all            env TESTS
#   --run SCRIPT  boot each kernel running only tests/guest/SCRIPT, output live; exit with its status
#   --timeout     hard limit for one whole boot, default 1800 s                  env GW_BOOT_TIMEOUT
#   --test-timeout  per-test limit inside the guest, default 300 s               env GW_TEST_TIMEOUT
#   env GW_GUEST_DIR: guest scripts directory (default tests/guest)
#   env GW_QEMU_ACCEL: QEMU -accel value (default tcg,thread=single); GW_QEMU_SMP
#   (default 2); GW_QEMU_OPTS: more QEMU options (make bench: -icount ...)
#   env GW_DISK: a raw disk image attached as an NVMe disk (/dev/nvme0n1 in the guest),
#   writes discarded (snapshot=on); make bench: tests/vm/bpftraceroot.sh's bpftrace image
#   env GW_GUEST_ARGS: more kernel command line words, for guest scripts to read from
#   /proc/cmdline (make soak: gw.soak=SECONDS)
#   env GW_HOSTFWD=PORT: a user-mode NIC (virtio-net, no way out) whose guest port 9776
#   is 127.0.0.1:PORT+i on the host for the i-th kernel booted (0, 1, ...); the guest
#   reads gw.hostport=127.0.0.1:PORT+i (test-daemon: a host Prometheus scrapes it)
#   env GW_PARALLEL=1: boot the kernels at once, not one after the other (make check:
#   each TCG guest runs on one host thread, so two use the two cores; their markers
#   are prefixed with the kernel series); not with --run or under -icount (make bench)
#
# Serial logs: .cache/vm/logs/<kver>.log. Results: .cache/vm/results.txt, one line per
# test "<PASS|FAIL|SKIP> <kver> <test>" (pseudo-test "_kernel" fails when the kernel
# itself went wrong: no GWTEST DONE, or a WARN/BUG/oops outside any test).
# Exit: 0 all passed/skipped, 1 any failure, 2 usage error; --run: the script's status.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
vm=$root/tests/vm
kernels=${KERNELS:-6.1 6.12}
tests=${TESTS:-}
run=
guest=${GW_GUEST_DIR:-$root/tests/guest}
export GW_GUEST_DIR=$guest # mkinitramfs.sh ships the same directory
boot_tmo=${GW_BOOT_TIMEOUT:-1800}
test_tmo=${GW_TEST_TIMEOUT:-300}

usage() { sed -n '2,20s/^# \{0,1\}//p' "$0" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case $1 in
    --kernels) kernels=${2:?}; shift 2 ;;
    --tests) tests=${2:?}; shift 2 ;;
    --run) run=${2:?}; shift 2 ;;
    --timeout) boot_tmo=${2:?}; shift 2 ;;
    --test-timeout) test_tmo=${2:?}; shift 2 ;;
    -h | --help) usage ;;
    *) echo "run.sh: unknown argument $1" >&2; usage ;;
    esac
done
tests=${tests//,/ }
disk=()
if [ -n "${GW_DISK:-}" ]; then
    [ -f "$GW_DISK" ] || { echo "run.sh: GW_DISK: no $GW_DISK" >&2; exit 2; }
    # shellcheck disable=SC2054 # commas: QEMU option syntax
    disk=(-drive "file=$GW_DISK,if=none,id=gwdisk,format=raw,snapshot=on"
        -device nvme,drive=gwdisk,serial=gwdisk)
fi
if [ -n "$run" ] && [ ! -f "$guest/$run" ]; then
    echo "run.sh: no $guest/$run" >&2
    exit 2
fi
# The tests we expect to see: the guest runs all test-*.sh in the same (C) order.
if [ -z "$tests" ]; then
    for f in "$guest"/test-*.sh; do
        [ -e "$f" ] || continue
        f=${f##*/test-}
        tests="$tests ${f%.sh}"
    done
fi

logs=$root/.cache/vm/logs
mkdir -p "$logs"
[ -e "$root/.cache/.gitignore" ] || printf '*\n' >"$root/.cache/.gitignore"

# One run at a time per tree: runs share logs, initramfs and results.txt, and two TCG
# guests on 2 cores would also skew each other's timing.
exec 9>"$root/.cache/vm/run.lock"
if ! flock -n 9; then
    echo "run.sh: another run.sh is using $root/.cache/vm, waiting for it" >&2
    flock 9
fi

# Kernel-side trouble on the serial console (printk lines carry a [ time] stamp).
oops_re='\[ *[0-9]+\.[0-9]+\] .*(Oops|BUG:|WARNING:|Kernel panic|kernel BUG at|general protection fault|blocked for more than|detected stalls)'

qpid=
booting=() # boot_logged jobs (GW_PARALLEL)
trap '[ -z "$qpid" ] || kill "$qpid" 2>/dev/null; [ ${#booting[@]} = 0 ] || kill "${booting[@]}" 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM

# Serial log without CRs and the firmware's terminal escapes.
clean() { sed -e 's/\r//g' -e 's/\x1b\[[0-9;?]*[a-zA-Z]//g' -e 's/\x1bc//g' -e '/^SeaBIOS (version/d' \
    -e '/^Booting from ROM/{s/^Booting from ROM\.*//;/^$/d}' "$@"; }

# boot KDIR INITRD LOG APPEND LIVE [PREFIX]: run QEMU under a hard timeout; sets qrc.
boot() {
    local live=$5
    : >"$3"
    # Two vCPUs on one host thread (thread=single): multi-threaded TCG crashed
    # 6.12 guests now and then while BPF trampolines and kprobes were being
    # patched into hot functions (unhandled int3 inside do_wp_page, calls to
    # address 0), never in round-robin mode; see the note on issue 3.
    # shellcheck disable=SC2086 # GW_QEMU_ACCEL: a comma list, no spaces
    # shellcheck disable=SC2086 # GW_QEMU_OPTS: extra options, split on spaces
    timeout -k 10 "$boot_tmo" qemu-system-x86_64 -machine q35 -cpu max -m 2048 \
        -smp "${GW_QEMU_SMP:-2}" -accel ${GW_QEMU_ACCEL:-tcg,thread=single} ${GW_QEMU_OPTS:-} \
        -nographic -nodefaults -no-reboot "${disk[@]}" "${nic[@]}" \
        -chardev "file,id=ser0,path=$3,append=on" -serial chardev:ser0 \
        -kernel "$1/vmlinuz" -initrd "$2" -append "$4" </dev/null &
    qpid=$!
    # Follow the log while QEMU runs: everything for --run, just the markers for tests.
    if [ "$live" = all ]; then
        tail -n +1 -f --pid="$qpid" "$3" | clean -u
    else
        tail -n +1 -f --pid="$qpid" "$3" | clean -u | grep -a --line-buffered -o 'GWTEST [A-Z]\+ .*' |
            sed -u "s/^/    ${6:-}/"
    fi
    qrc=0
    wait "$qpid" || qrc=$?
    qpid=
}

# boot_logged KDIR INITRD LOG APPEND LIVE [PREFIX]: boot, then say how long it took (and the
# hard timeout, if it came). In the background (GW_PARALLEL) its QEMU dies with it.
boot_logged() {
    local t0 t1 up note=
    trap '[ -z "$qpid" ] || kill "$qpid" 2>/dev/null || true' EXIT
    t0=$(date +%s.%N)
    boot "$@"
    t1=$(date +%s.%N)
    up=$(clean "$3" | sed -n 's/.*GWTEST KERNEL [^ ]* uptime=\([0-9.]*\).*/\1/p' | head -n1)
    [ "$qrc" != 124 ] || note=", HARD TIMEOUT after ${boot_tmo}s"
    awk -v a="$t0" -v b="$t1" -v up="${up:-?}" -v n="$note" -v p="${6:-}" \
        'BEGIN { printf "    %sboot+run %.1f s wall (guest reached /init at %s s uptime)%s\n", p, b - a, up, n }'
}

declare -A res=()   # res[kver|test] = PASS|FAIL|SKIP
logs_of=()          # "kver|log" of each kernel booted, in order
kvers=()
all_tests=()
failed=0
run_rc=0

for spec in $kernels; do
    series=${spec%%:*}
    flavour=cloud
    [ "$spec" = "$series" ] || flavour=${spec#*:}
    echo "=== kernel $series ($flavour)"
    if ! kdir=$("$vm/kernel.sh" "$series" "$flavour"); then
        echo "run.sh: no kernel for $spec" >&2
        failed=1 run_rc=1
        kvers+=("$spec") res[$spec|_kernel]=FAIL
        [[ " ${all_tests[*]} " == *" _kernel "* ]] || all_tests+=(_kernel)
        continue
    fi
    kver=${kdir##*/}
    kvers+=("$kver")
    initrd=$root/.cache/vm/initramfs-$kver.cpio.gz
    # Test modules (tests/pindrv) for this exact kernel; tests needing them fail without.
    "$vm/modules.sh" "$kdir" >/dev/null || echo "run.sh: test modules not built for $kver" >&2
    "$vm/mkinitramfs.sh" "$kdir" "$initrd" >/dev/null
    log=$logs/$kver.log
    append="console=ttyS0 quiet loglevel=5 panic=-1 printk.time=1 gw.timeout=$test_tmo ${GW_GUEST_ARGS:-}"
    nic=()
    if [ -n "${GW_HOSTFWD:-}" ]; then
        port=$((GW_HOSTFWD + ${#kvers[@]} - 1))
        nic=(-nic "user,model=virtio-net-pci,restrict=on,hostfwd=tcp:127.0.0.1:$port-:9776")
        append="$append gw.hostport=127.0.0.1:$port"
    fi
    if [ -n "$run" ]; then
        append="$append gw.run=$run"
    elif [ -n "$tests" ]; then
        t=$(echo "$tests" | xargs | tr ' ' ',')
        append="$append gw.tests=$t"
    fi

    echo "    $(cat "$kdir/version"); log $log"
    if [ -n "${GW_PARALLEL:-}" ] && [ -z "$run" ]; then
        boot_logged "$kdir" "$initrd" "$log" "$append" markers "[$series] " &
        booting+=($!)
    else
        boot_logged "$kdir" "$initrd" "$log" "$append" "$([ -n "$run" ] && echo all || echo markers)"
    fi
    logs_of+=("$kver|$log")
done
[ ${#booting[@]} = 0 ] || wait "${booting[@]}"
booting=()

for entry in "${logs_of[@]}"; do
    kver=${entry%%|*} log=${entry#*|}
    # Digest the markers: "BEGIN t", "END t rc", "DONE", "OOPS t|-".
    declare -A rc=() began=() oops=()
    done_seen=
    while read -r kind a b; do
        case $kind in
        BEGIN) began[$a]=1 ;;
        END) rc[$a]=$b ;;
        DONE) done_seen=1 ;;
        OOPS) oops[$a]=1 ;;
        esac
    done < <(clean "$log" | awk -v re="$oops_re" '
        match($0, /GWTEST BEGIN [^ ]+/) { cur = substr($0, RSTART + 13, RLENGTH - 13); print "BEGIN", cur; next }
        match($0, /GWTEST END [^ ]+ -?[0-9]+/) { split(substr($0, RSTART, RLENGTH), w, " "); print "END", w[3], w[4]; cur = ""; next }
        /GWTEST DONE/ { print "DONE"; next }
        $0 ~ re { print "OOPS", (cur == "" ? "_none" : cur) }')

    if [ -n "$run" ]; then
        r=${rc[$run]:-}
        if [ -z "$r" ] || [ -z "$done_seen" ]; then
            echo "run.sh: $run on $kver did not finish (no END/DONE marker); log $log" >&2
            r=${r:-1}
            [ "$r" != 0 ] || r=1
        fi
        [ "${#oops[@]}" = 0 ] || echo "run.sh: kernel WARN/BUG/oops on $kver, see $log" >&2
        [ "$run_rc" != 0 ] || run_rc=$r
        continue
    fi

    notrun=()
    for t in $tests "${!rc[@]}"; do
        [ -z "${res[$kver|$t]:-}" ] || continue
        why=
        case ${rc[$t]:-none} in
        0) s=PASS ;;
        77) s=SKIP ;;
        none) s=FAIL why="no END marker (hang, panic or hard timeout)" ;;
        137) s=FAIL why="killed (per-test timeout ${test_tmo}s?)" ;;
        *) s=FAIL why="exit ${rc[$t]}" ;;
        esac
        if [ -n "${oops[$t]:-}" ]; then s=FAIL why="${why:+$why, }kernel WARN/BUG/oops"; fi
        res[$kver|$t]=$s
        [[ " ${all_tests[*]} " == *" $t "* ]] || all_tests+=("$t")
        [ "$s" = FAIL ] || continue
        failed=1
        if [ -z "${began[$t]:-}" ]; then
            notrun+=("$t")
            continue
        fi
        echo "--- FAIL $t on $kver: $why"
        clean "$log" | awk -v b="GWTEST BEGIN $t" -v e="GWTEST END $t " '
            index($0, b) { on = 1; next } index($0, e) { on = 0 } on' | tail -n 300 | sed 's/^/    | /'
        echo "--- log: $log"
    done
    [ ${#notrun[@]} = 0 ] || echo "--- FAIL on $kver, never started (an earlier test hung or the kernel died): ${notrun[*]}"
    if [ -z "$done_seen" ] || [ -n "${oops[_none]:-}" ]; then
        res[$kver|_kernel]=FAIL
        failed=1
        [[ " ${all_tests[*]} " == *" _kernel "* ]] || all_tests+=(_kernel)
        if [ -n "${oops[_none]:-}" ]; then
            echo "--- FAIL kernel $kver: WARN/BUG/oops outside any test"
            clean "$log" | grep -aE "$oops_re" | head -n 20 | sed 's/^/    | /' || true
        fi
        if [ -z "$done_seen" ]; then
            echo "--- FAIL kernel $kver: no GWTEST DONE (boot failed, panic or hard timeout); log ends:"
            clean "$log" | tail -n 15 | sed 's/^/    | /'
        fi
        echo "--- log: $log"
    fi
    unset rc began oops
done

[ -z "$run" ] || exit "$run_rc"

# Table: tests x kernels, and the machine-readable results.
out=$root/.cache/vm/results.txt
: >"$out.tmp"
w=8
for t in "${all_tests[@]}"; do [ ${#t} -le "$w" ] || w=${#t}; done
printf "\n%-${w}s" test
for k in "${kvers[@]}"; do printf '  %s' "$k"; done
echo
for t in "${all_tests[@]}"; do
    printf "%-${w}s" "$t"
    for k in "${kvers[@]}"; do
        s=${res[$k|$t]:-}
        printf "  %-${#k}s" "${s:--}"
        [ -z "$s" ] || echo "$s $k $t" >>"$out.tmp"
    done
    echo
done
mv "$out.tmp" "$out"
echo "results: $out"
exit "$failed"
