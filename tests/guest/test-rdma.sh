#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# RDMA memory registration over soft-RoCE (rdma_rxe), with rdma-core's own
# ibv_rc_pingpong (server and client in this guest, RoCE v2 over a dummy netdev
# with its own address; lo works too once crc32_generic is loaded) while gupwatch
# is attached, in both attach modes.
# Each ibv_rc_pingpong registers its buffer (ibv_reg_mr, IBV_ACCESS_LOCAL_WRITE):
# ib_umem_get takes long-term R/W pins (gup_flags seen with -v: FOLL_WRITE, no FORCE),
# released at ibv_dereg_mr. gupwatch must name both processes as the pinners,
# every pin long-term and R/W, each one's unpins = pins, and its pin/unpin refs
# must equal the /proc/vmstat deltas. Then mrprobe's R/W and R/O MRs (see below).
# Needs the generic flavour (cloud kernels have no rdma_rxe: skip) and the
# rdma-core userland in the initramfs: GW_EXTRA_ROOT=$(tests/vm/rdmaroot.sh).
#   tests/vm/run.sh --kernels "6.1:generic 6.12:generic" --tests rdma
. /gw/tests/lib.sh
. /gw/tests/trace.sh

[ -d /sys/module/rdma_rxe ] || [ -f /lib/modules/rdma_rxe.ko ] ||
	gw_skip "no rdma_rxe module in $(uname -r) (cloud flavour?): boot SERIES:generic"
[ -d /sys/module/rdma_rxe ] || insmod /lib/modules/rdma_rxe.ko ||
	{ echo "FAIL: insmod rdma_rxe"; exit 1; }
for b in ibv_rc_pingpong ibv_devinfo rdma mrprobe; do
	command -v $b >/dev/null ||
		{ echo "FAIL: no $b in the guest: build the initramfs with GW_EXTRA_ROOT=\$(tests/vm/rdmaroot.sh)"; exit 1; }
done

ip link set lo up
ip link add gwrxe type dummy || { echo "FAIL: no dummy netdev (dummy module?)"; exit 1; }
ip addr add 10.9.9.1/24 dev gwrxe
ip link set gwrxe up
# rdma_rxe finds crc32 by name (crypto_alloc_shash): crc32_generic must be loaded first.
rdma link add rxe0 type rxe netdev gwrxe || { echo "FAIL: rdma link add rxe0 (crc32_generic loaded?)"; exit 1; }
rdma link
ibv_devinfo -d rxe0 | grep -E 'hca_id|state|link_layer'

port=18515
for mode in $(trace_modes); do
	echo "+ gupwatch --attach=$mode  //  ibv_rc_pingpong server + client"
	set -- $(vm_pins)
	before_acq=$1 before_rel=$2
	trace_start "$mode" ""
	ibv_rc_pingpong -d rxe0 -g 0 -p $port -n 200 >/tmp/rdma-srv.out 2>&1 &
	srv=$!
	# The server listens once it has registered its MR; the client retries until then.
	i=0
	until netstat -ltn 2>/dev/null | grep -q ":$port "; do
		[ $i -lt 100 ] || break
		sleep 0.1
		i=$((i + 1))
	done
	ibv_rc_pingpong -d rxe0 -g 0 -p $port -n 200 10.9.9.1 >/tmp/rdma-cli.out 2>&1 &
	cli=$!
	wait $cli
	crc=$?
	wait $srv
	src=$?
	trace_stop
	set -- $(vm_pins)
	sed 's/^/  server| /' /tmp/rdma-srv.out
	sed 's/^/  client| /' /tmp/rdma-cli.out
	gw_check "ibv_rc_pingpong server exit" $src 0
	gw_check "ibv_rc_pingpong client exit" $crc 0
	gw_check "client completed its iterations" "$(grep -c '^200 iters in' /tmp/rdma-cli.out)" 1
	acq=$(($1 - before_acq)) rel=$(($2 - before_rel))
	gw_check "pin refs (events kernel) vs vmstat" "$(sum_row 'pin refs')" "$acq $acq"
	gw_check "unpin refs (events kernel) vs vmstat" "$(sum_row 'unpin refs')" "$rel $rel"
	gw_check "vmstat counted MR pins" "$([ "$acq" -gt 0 ] && echo yes)" yes
	# Every pin in this window is one of the two processes' MR pins.
	sp=$(proc_pins $srv PINS) cp=$(proc_pins $cli PINS)
	gw_check "pins by server + client = vmstat acquired" "$((${sp:-0} + ${cp:-0}))" "$acq"
	for p in $srv $cli; do
		n=$(proc_pins $p PINS)
		gw_check "pinner $p is listed with pins" "$([ "${n:-0}" -gt 0 ] && echo yes)" yes
		gw_check "pinner $p COMM" "$(awk -v p=$p '/^Pins by process/ { s = 1; next }
			s && $1 == p { print $2; exit }' $GW_TRACE.out)" ibv_rc_pingpong
		gw_check "unpins by $p (UNPINS)" "$(proc_pins $p UNPINS)" "$n"
		gw_check "LONGTERM pins by $p" "$(proc_pins $p LONGTERM)" "$n"
		gw_check "R/W pins by $p" "$(proc_pins $p R/W)" "$n"
		gw_check "R/O pins by $p" "$(proc_pins $p R/O)" 0
	done
	gw_check "outstanding refs after dereg" "$(sum_row 'outstanding refs' | cut -d' ' -f1)" 0
	gw_check "HELD-AT-EXIT findings" "$(finding_count HELD-AT-EXIT)" 0
	port=$((port + 1))
done

# mrprobe (tests/vm/rdma/mrprobe.c): R/W and R/O MRs on anon pages, a R/O MR on read-faulted
# MAP_PRIVATE file pages then a write, a R/W MR then fork + child write; 4 pages each.
#   6.1:  every MR pin is R/W long-term (R/O MRs: FOLL_WRITE|FOLL_FORCE); the forced write
#         fault copies the file pages at registration (PFN changes before the pin): no UNSHARE,
#         no STALE-PIN.  6.12: R/O MRs take R/O pins (8), the file pages are unshared first:
#         4 UNSHARE, page 0 old->new PFN as pagemap saw them.  Both: 4 FORK-COPY, the child's
#         PFN among them.
for mode in $(trace_modes); do
	echo "+ gupwatch --attach=$mode  //  mrprobe"
	set -- $(vm_pins)
	before_acq=$1 before_rel=$2
	trace_start "$mode" "-v" # -v: a FORK-COPY line per page, not one per fork
	mrprobe >"$GW_OUT" 2>&1
	rc=$?
	trace_stop
	set -- $(vm_pins)
	sed 's/^/  | /' "$GW_OUT"
	gw_check "mrprobe exit" $rc 0
	acq=$(($1 - before_acq)) rel=$(($2 - before_rel))
	gw_check "pin refs (events kernel) vs vmstat" "$(sum_row 'pin refs')" "$acq $acq"
	gw_check "unpin refs (events kernel) vs vmstat" "$(sum_row 'unpin refs')" "$rel $rel"
	pid=$(gw_get phase A-anon-rw-reg pid)
	n=$(proc_pins "$pid" PINS) u=$(proc_pins "$pid" FAST-UNDO)
	gw_check "pins by mrprobe = vmstat acquired" "$n" "$acq"
	gw_check "unpins by mrprobe (UNPINS)" "$(proc_pins "$pid" UNPINS)" "$n"
	gw_check "MR pins kept (PINS - FAST-UNDO)" "$((n - ${u:-0}))" 16
	gw_check "LONGTERM pins by mrprobe" "$(proc_pins "$pid" LONGTERM)" 16
	if [ "$(gw_series)" = 6.1 ]; then
		gw_check "R/O pins by mrprobe" "$(proc_pins "$pid" R/O)" 0
		gw_check "R/W pins by mrprobe" "$(proc_pins "$pid" R/W)" 16
		gw_check "UNSHARE findings" "$(finding_count UNSHARE)" 0
		gw_check "file page copied at registration (pagemap)" \
			"$([ "$(gw_get case C pfn0)" != "$(gw_get case C pfn1)" ] && echo yes)" yes
	else
		gw_check "R/O pins by mrprobe" "$(proc_pins "$pid" R/O)" 8
		gw_check "R/W pins by mrprobe" "$(proc_pins "$pid" R/W)" 8
		gw_check "UNSHARE findings" "$(finding_count UNSHARE)" 4
		a=$(gw_get case C addr)
		gw_check "UNSHARE of page 0 (pagemap PFNs)" \
			"$(findings UNSHARE | awk -v a="$a" '$5 == a { print $6 }')" \
			"$(gw_get case C pfn0)->$(gw_get case C pfn1)"
	fi
	gw_check "STALE-PIN findings" "$(finding_count STALE-PIN)" 0
	gw_check "FORK-COPY findings" "$(finding_count FORK-COPY)" 4
	cpfn=$(gw_get case D pfn)
	gw_check "FORK-COPY to the child's page (pagemap)" \
		"$(findings FORK-COPY | awk -v p="->$cpfn" '$6 == p { n++ } END { print n + 0 }')" 1
	gw_check "HELD-AT-EXIT findings" "$(finding_count HELD-AT-EXIT)" 0
done

# The call site inside the modules: with -v every pin mrprobe's MRs take has
# ib_umem_get (ib_core) in its kernel stack, every unpin an ib_umem_* frame
# (__ib_umem_release at dereg; on 6.12 one GUP-fast undo inside ib_umem_get).
# sites EVENT FRAME -> "events-of-mrprobe events-with-FRAME-in-their-stack"
sites() {
	awk -v ev="$1" -v fr="$2" '
		function close_ev() { if (inev) { n++; if (hit) h++ } }
		/^event / { close_ev(); inev = ($2 == ev && $5 == "mrprobe"); hit = 0; next }
		inev && $1 == "k" && index($2, fr) { hit = 1 }
		END { close_ev(); print n + 0, h + 0 }' $GW_TRACE.out
}
echo "+ gupwatch -v  //  mrprobe (call sites)"
trace_start auto "-v"
mrprobe >"$GW_OUT" 2>&1
trace_stop >/dev/null
set -- $(sites PIN ib_umem_get+)
gw_check "mrprobe pin events with ib_umem_get in the kernel stack (of $1)" "$2" "$1"
gw_check "mrprobe pin events seen with -v" "$([ "$1" -ge 16 ] && echo yes)" yes
set -- $(sites UNPIN ib_umem_)
gw_check "mrprobe unpin events with an ib_umem_* frame (of $1)" "$2" "$1"
gw_check "mrprobe unpin events seen with -v" "$([ "$1" -ge 16 ] && echo yes)" yes

rdma link delete rxe0
ip link delete gwrxe
gw_done
