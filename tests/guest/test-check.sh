#!/bin/sh
# gupwatch check in a Debian guest: exit 0, and every hook this kernel has
# out of line (FACTS.md §8) attaches both by fentry and by kprobe.
out=$(gupwatch check -v 2>&1); rc=$?
echo "$out"
fail() { echo "FAIL: $*"; exit 1; }
[ $rc -eq 0 ] || fail "exit $rc"

case $(uname -r) in
6.1.*) expect="try_grab_folio try_grab_page gup_put_folio unpin_user_page do_wp_page wp_page_copy
	page_add_new_anon_rmap do_huge_pmd_wp_page hugetlb_wp hugepage_add_new_anon_rmap
	copy_page_range copy_hugetlb_page_range" ;;
6.12.*) expect="try_grab_folio try_grab_folio_fast folio_add_pin memfd_pin_folios gup_put_folio
	unpin_user_page unpin_folio unpin_user_folio do_wp_page folio_add_new_anon_rmap
	do_huge_pmd_wp_page hugetlb_wp hugetlb_add_new_anon_rmap copy_page_range
	copy_hugetlb_page_range" ;;
*) fail "no expectation for kernel $(uname -r)" ;;
esac

present=$(echo "$out" | awk '$3 == "yes" { print $1 }' | sort | tr '\n' ' ')
want=$(echo $expect | tr ' ' '\n' | sort | tr '\n' ' ')
[ "$present" = "$want" ] || fail "hooks present: '$present', expected '$want'"
for h in $expect; do
	echo "$out" | grep -Eq "^$h +[a-z-]+ +yes +ok +ok\$" || fail "$h does not attach both ways"
done
n=$(echo $expect | wc -w)
echo "$out" | tail -n 1 | grep -q "^verdict: live tracing works: all $n hooks attach with fentry/fexit" ||
	fail "verdict line"
echo "ok: $n hooks, all attach by fentry and kprobe"
