#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A real Prometheus (Debian's) on this host scrapes the guests' gupwatch daemons
# through QEMU's user network (tests/vm/run.sh GW_HOSTFWD), and its query API
# must return the ground truth the guest measured (test-daemon.sh's GWPROMQ
# lines: /proc/vmstat, VmPin, the workloads' own results).
#
#   tests/prometheus-guest.sh start DIR N   start Prometheus scraping N guests (1 s interval),
#                                           state in DIR; prints the GW_HOSTFWD base port
#   tests/prometheus-guest.sh check DIR LOG...
#                                           one "PASS|FAIL prometheus KVER NAME" per GWPROMQ
#                                           line of each LOG (none in a LOG: FAIL)
#   tests/prometheus-guest.sh stop DIR      stop it, remove DIR
set -uo pipefail

# free_port FROM COUNT: the first of COUNT consecutive ports from FROM nobody listens on
free_port() {
	local p=$1 i
	while [ "$p" -lt 65000 ]; do
		for ((i = 0; i < $2; i++)); do
			(exec 3<>"/dev/tcp/127.0.0.1/$((p + i))") 2>/dev/null && break
		done
		[ "$i" = "$2" ] && { echo "$p"; return 0; }
		p=$((p + i + 1))
	done
	return 1
}

cmd=${1:?usage: prometheus-guest.sh start|check|stop DIR ...}
dir=${2:?usage: prometheus-guest.sh start|check|stop DIR ...}
case $cmd in
start)
	n=${3:?usage: prometheus-guest.sh start DIR N}
	command -v prometheus >/dev/null || { echo "prometheus-guest.sh: no prometheus (make deps installs it)" >&2; exit 1; }
	mkdir -p "$dir"
	if ! web=$(free_port 19090 1) || ! fwd=$(free_port 19761 "$n"); then
		echo "prometheus-guest.sh: no free port" >&2
		exit 1
	fi
	{
		printf 'global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n'
		printf '  - job_name: gupwatch\n    static_configs:\n      - targets:\n'
		for ((i = 0; i < n; i++)); do printf "          - '127.0.0.1:%d'\n" $((fwd + i)); done
	} >"$dir/prometheus.yml"
	prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
		--web.listen-address="127.0.0.1:$web" >"$dir/prometheus.log" 2>&1 &
	echo "$!" >"$dir/pid"
	echo "$web" >"$dir/web"
	for ((i = 0; i < 300; i++)); do
		curl -sf "http://127.0.0.1:$web/-/ready" >/dev/null && { echo "$fwd"; exit 0; }
		kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
		sleep 0.1
	done
	echo "prometheus-guest.sh: Prometheus did not start:" >&2
	tail -n 5 "$dir/prometheus.log" >&2
	exit 1
	;;
check)
	shift 2
	web=$(cat "$dir/web" 2>/dev/null) || { echo "FAIL prometheus: not started"; exit 1; }
	status=0
	for log in "$@"; do
		kver=$(basename "$log" .log)
		mapfile -t qs < <(tr -d '\r' <"$log" | sed -n 's/^GWPROMQ //p')
		if [ ${#qs[@]} = 0 ]; then
			echo "FAIL prometheus $kver: test-daemon left no queries (no gw.hostport?)"
			status=1
			continue
		fi
		for q in "${qs[@]}"; do
			read -r _ name want query <<<"$q"
			got=$(curl -sf -G --data-urlencode "query=$query" "http://127.0.0.1:$web/api/v1/query" |
				jq -r '.data.result | if length == 0 then "no series" else .[0].value[1] end')
			if [ "$got" = "$want" ]; then
				echo "PASS prometheus $kver $name = $got"
			else
				echo "FAIL prometheus $kver $name = ${got:-<no answer>} (expected $want): $query"
				status=1
			fi
		done
	done
	exit $status
	;;
stop)
	[ -f "$dir/pid" ] && kill "$(cat "$dir/pid")" 2>/dev/null && sleep 0.5
	rm -rf "$dir"
	;;
*)
	echo "prometheus-guest.sh: unknown command $cmd" >&2
	exit 2
	;;
esac
