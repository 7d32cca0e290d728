#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# gupwatch check in a Debian guest: exit 0, and every hook this kernel has
# out of line (doc/kernel.md) attaches by kprobe and, but for the exceptions
# below, by fentry; without CAP_SYS_ADMIN it says why kprobes fail.
out=$(gupwatch check -v 2>&1); rc=$?
echo "$out"
fail() { echo "FAIL: $*"; exit 1; }
[ $rc -eq 0 ] || fail "exit $rc"

case $(uname -r) in
# 6.1's hugetlb_wp, __get_user_pages and migrate_pages take 7 arguments: the x86 BPF
# trampoline refuses them at attach with ENOTSUPP (more than 6 arguments is
# supported from 6.6 on), so they need the kprobe fallback there.
6.1.*) no_fentry="hugetlb_wp __get_user_pages migrate_pages"
	expect="try_grab_folio try_grab_page gup_put_folio internal_get_user_pages_fast
	__get_user_pages do_wp_page page_add_new_anon_rmap do_huge_pmd_wp_page hugetlb_wp
	hugepage_add_new_anon_rmap copy_page_range finish_fault
	unpin_user_pages unpin_user_pages_dirty_lock unpin_user_page_range_dirty_lock
	__gup_longterm_locked migrate_pages" ;;
6.12.*) no_fentry=""
	expect="try_grab_folio try_grab_folio_fast folio_add_pin gup_put_folio gup_fast_fallback
	__get_user_pages do_wp_page folio_add_new_anon_rmap do_huge_pmd_wp_page hugetlb_wp
	hugetlb_add_new_anon_rmap copy_page_range finish_fault
	unpin_user_pages unpin_user_pages_dirty_lock unpin_user_page_range_dirty_lock unpin_folios
	__gup_longterm_locked migrate_pages" ;;
*) fail "no expectation for kernel $(uname -r)" ;;
esac

present=$(echo "$out" | awk '$3 == "yes" { print $1 }' | sort | tr '\n' ' ')
want=$(echo $expect | tr ' ' '\n' | sort | tr '\n' ' ')
[ "$present" = "$want" ] || fail "hooks present: '$present', expected '$want'"
for h in $expect; do
	case " $no_fentry " in
	*" $h "*) echo "$out" | grep -Eq "^$h +[a-z-]+ +yes +ENOTSUPP\(attach\) +ok\$" ||
		fail "$h: expected fentry ENOTSUPP at attach, kprobe ok" ;;
	*) echo "$out" | grep -Eq "^$h +[a-z-]+ +yes +ok +ok\$" || fail "$h does not attach both ways" ;;
	esac
done
n=$(echo $expect | wc -w)
k=$(echo $no_fentry | wc -w)
if [ "$k" -eq 0 ]; then
	want_verdict="verdict: live tracing works: all $n hooks attach with fentry/fexit"
else
	want_verdict="verdict: live tracing works: $k of $n hooks use the kprobe fallback"
fi
[ "$(echo "$out" | tail -n 1)" = "$want_verdict" ] || fail "verdict: want '$want_verdict'"

# --hooks (make bench derives its bpftrace probes from it): the same hooks, one
# line each, the sides gupwatch's programs take, the table's results.
hk=$(gupwatch check --hooks 2>&1); rc=$?
echo "$hk"
[ $rc -eq 0 ] || fail "check --hooks: exit $rc"
[ "$(echo "$hk" | awk '{ print $1 }' | sort | tr '\n' ' ')" = "$want" ] || fail "check --hooks lists other hooks"
echo "$hk" | awk 'NF != 6 || $3 !~ /^(entry|exit|entry\+exit)$/ || $5 !~ /^(entry|exit|entry\+exit)$/ { bad = 1 }
	END { exit bad }' || fail "check --hooks: malformed line"
for h in $expect; do
	t=$(echo "$out" | awk -v h="$h" '$1 == h { print $4, $5 }')
	l=$(echo "$hk" | awk -v h="$h" '$1 == h { print $4, $6 }')
	[ "$t" = "$l" ] || fail "$h: --hooks says '$l', the table '$t'"
done
echo "ok: $n hooks attach; kprobe fallback needed for: ${no_fentry:-none}"

# Where long-term pins may not stay, against the kernel's own files: /proc/meminfo
# has CmaTotal only with CONFIG_CMA; /proc/zoneinfo lists a Movable zone's span.
if grep -q '^CmaTotal:' /proc/meminfo; then want_cma="built in (CONFIG_CMA)"
else want_cma="none (CONFIG_CMA unset: no CMA area for long-term pins to avoid)"; fi
[ "$(echo "$out" | sed -n 's/^cma  *//p')" = "$want_cma" ] || fail "cma line: want '$want_cma'"
movable=$(awk '/^Node/ { z = $4 } z == "Movable" && $1 == "spanned" { s += $2 } END { print s + 0 }' /proc/zoneinfo)
if [ "$movable" -gt 0 ]; then want_movable="ZONE_MOVABLE, $movable pages"
else want_movable="none (kernelcore=, movablecore= or memory onlined movable make one)"; fi
[ "$(echo "$out" | sed -n 's/^movable  *//p')" = "$want_movable" ] || fail "movable line: want '$want_movable'"
echo "ok: cma: $want_cma; movable: $want_movable"

# Without CAP_SYS_ADMIN (the kernel's perf_event_paranoid is Debian's 3): every kprobe
# is refused with EACCES, and check names that cause. A kernel that needs kprobes
# (6.1) cannot be traced then, and the fix says what to add; 6.12 traces by fentry.
paranoid=$(cat /proc/sys/kernel/perf_event_paranoid)
nocap=$(gwcaps "CAP_BPF CAP_PERFMON CAP_SYSLOG CAP_SYS_RESOURCE" gupwatch check 2>&1); rc=$?
echo "$nocap" | grep -E '^(privileges|kprobe|verdict)'
if [ "$paranoid" -gt 2 ]; then
	echo "$nocap" | grep -q "^kprobe .*: kprobe perf events need CAP_SYS_ADMIN where kernel.perf_event_paranoid is above 2" ||
		fail "without CAP_SYS_ADMIN (perf_event_paranoid $paranoid): kprobes not explained"
	if [ -n "$no_fentry" ]; then
		[ $rc -eq 1 ] && echo "$nocap" | tail -n 1 | grep -q "fix: add CAP_SYS_ADMIN for the kprobe fallback$" ||
			fail "without CAP_SYS_ADMIN: exit $rc, the verdict does not say to add it"
	else
		[ $rc -eq 0 ] || fail "without CAP_SYS_ADMIN: exit $rc, although fentry needs no kprobe here"
	fi
	echo "ok: without CAP_SYS_ADMIN (perf_event_paranoid $paranoid) check says why kprobes fail (exit $rc)"
fi
