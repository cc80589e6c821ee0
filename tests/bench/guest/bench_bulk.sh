#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bulk TCP through a router whose rule has no SYN match: what the target
# costs the segments it does not touch.  Every variant interleaved, per
# repetition; figures only (the test fails only when a measurement is not
# sound: a transfer that did not complete intact, a rule that did not see
# the traffic, a clamp that did not act exactly on the SYN and SYN/ACK).
#
#   h1 10.9.1.1 ---- rb (10.9.1.254 | 10.9.2.254) ---- h2 10.9.2.1
#
# One transfer of BENCH_BULK bytes h1 -> h2 per run (socat, file to file
# in tmpfs, compared after), timed by the guest clock (instructions under
# -icount shift=0).  Nothing paces the links, so the one vCPU running
# sender, router and receiver is the bottleneck (the CPU's busy and idle
# ticks are reported) and the transfer time is their work.  Two modes:
#   gso  the default offloads: veth hands the router GSO super-packets, as
#        a NIC with GRO does; the rule runs once per super-packet;
#   seg  TSO, GSO and GRO off everywhere: the rule runs once per 1448-byte
#        segment and once per ACK, the per-packet worst case.
# Prints raw "BENCH bulk ..." lines.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "${IPSECMSS_LIB:-$HERE/lib.sh}"
[[ -f $HERE/bench.conf ]] && . "$HERE/bench.conf"

REPS=${BENCH_REPS:-5}
BYTES=${BENCH_BULK:-8000000}
TMPD=$(mktemp -d /tmp/bench_bulk.XXXXXX)
# Every clamp is at or above the 1460 the SYNs carry, so no variant
# changes the MSS and the flows are the same bytes in the same segments:
# what differs is only what the rule costs the packets it does not touch.
# (A clamp that lowers the MSS changes the flow itself, by more than the
# rule costs: that is the goodput benchmark's subject.)
VARIANTS=(
	"none"
	"rule-only -p tcp"
	"tcpmss-set -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1460"
	"ipsecmss-set -p tcp -j IPSECMSS --set-mss 1460"
	"ipsecmss-pmtu -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead 0"
)

# shellcheck disable=SC2317	# the EXIT trap calls it
cleanup() {
	cleanup_all_ns
	rm -rf "$TMPD"
}

require_cmd socat
require_module xt_IPSECMSS xt_TCPMSS xt_tcpudp iptable_mangle

setup() {
	setup_ns h1 rb h2 || return
	make_veth h1 eth0 rb eth0 && make_veth rb eth1 h2 eth0 || return
	ip -n h1 addr add 10.9.1.1/24 dev eth0
	ip -n rb addr add 10.9.1.254/24 dev eth0
	ip -n rb addr add 10.9.2.254/24 dev eth1
	ip -n h2 addr add 10.9.2.1/24 dev eth0
	ip -n h1 route add default via 10.9.1.254
	ip -n h2 route add default via 10.9.2.254
	ip netns exec rb sysctl -qw net.ipv4.ip_forward=1
	ipt_ns rb -t mangle -F
}

# offloads on|off: TSO, GSO and GRO of every interface of the path
offloads() {
	local ns dev
	for ns in h1 rb h2; do
		for dev in $(ip -n $ns -br link | awk '$1 != "lo" { sub(/@.*/, "", $1); print $1 }'); do
			ip netns exec $ns ethtool -K "$dev" tso "$1" gso "$1" gro "$1" \
				>/dev/null 2>&1 || return 1
		done
	done
}

rule_of() {
	local v
	for v in "${VARIANTS[@]}"; do
		[[ ${v%% *} == "$1" ]] && { REPLY=${v#"$1"}; REPLY=${REPLY# }; return 0; }
	done
	return 1
}

# col NAME: rb's IPv4 counter NAME (lib.sh's reader of the lnstat layout).
col() {
	local -A c=()
	if ! ip netns exec rb cat /proc/net/stat/ipsecmss > /tmp/bench-bulk-stats 2>/dev/null ||
	   ! ipsecmss_counters c /tmp/bench-bulk-stats; then
		echo 0
		return
	fi
	echo "${c[ipv4.$1]:-0}"
}

# cpu_ticks: "busy idle" in USER_HZ ticks from /proc/stat.
cpu_ticks() {
	awk '$1 == "cpu" { idle = $5 + $6; t = 0; for (i = 2; i <= NF; i++) t += $i;
		print t - idle, idle; exit }' /proc/stat
}

PORT=9000
# run MODE VARIANT REP: socat copies a file of BYTES from h1's tmpfs to
# h2's (no per-byte work in userspace, so the kernel's share of the time
# is as large as a transfer allows); timed from the client's start to the
# server's exit, when every byte is on h2.
run() {
	local mode=$1 var=$2 rep=$3 rules t0 t1 spid hits=0 lo0 lo1 syn0 syn1 al0 al1 got
	local b0 i0 b1 i1
	PORT=$((PORT + 1))
	rule_of "$var" || return 1
	rules=$REPLY
	ipt_ns rb -t mangle -F FORWARD
	if [[ -n $rules ]]; then
		# shellcheck disable=SC2086
		ipt_ns rb -t mangle -A FORWARD $rules || { fail "$var: rule"; return 1; }
	fi
	rm -f "$TMPD/recv.bin"
	ip netns exec h2 socat -u -b 65536 TCP-LISTEN:$PORT,bind=10.9.2.1,reuseaddr \
		OPEN:"$TMPD/recv.bin",creat,trunc 2>"$TMPD/srv.err" &
	spid=$!
	wait_local_port_listen h2 $PORT || { fail "bulk $var: no listener"; return 1; }
	lo0=$(col lowered) syn0=$(col syn) al0=$(col already_low)
	read -r b0 i0 < <(cpu_ticks)
	t0=$EPOCHREALTIME
	ip netns exec h1 socat -u -b 65536 OPEN:"$TMPD/send.bin" \
		TCP:10.9.2.1:$PORT 2>"$TMPD/cli.err"
	wait $spid
	t1=$EPOCHREALTIME
	read -r b1 i1 < <(cpu_ticks)
	lo1=$(col lowered) syn1=$(col syn) al1=$(col already_low)
	got=$(stat -c %s "$TMPD/recv.bin" 2>/dev/null || echo 0)
	[[ -n $rules ]] &&
		hits=$(ipt_ns rb -t mangle -vxnL FORWARD | awk 'NR == 3 { print $1; exit }')
	local us=$(( ${t1/[.,]/} - ${t0/[.,]/} ))
	echo "BENCH bulk mode=$mode rep=$rep var=$var bytes=$BYTES ns=$((us * 1000)) busy=$((b1 - b0)) idle=$((i1 - i0)) hits=$hits syn=$((syn1 - syn0)) already_low=$((al1 - al0)) lowered=$((lo1 - lo0))"
	((got == BYTES)) ||
		{ fail "bulk $mode $var rep $rep: $got of $BYTES bytes arrived ($(cat "$TMPD/cli.err" "$TMPD/srv.err"))"; return 1; }
	cmp -s "$TMPD/send.bin" "$TMPD/recv.bin" ||
		fail "bulk $mode $var rep $rep: the bytes differ"
	if [[ -n $rules ]] && ((hits < 2)); then
		fail "bulk $mode $var rep $rep: the rule saw $hits packets"
	fi
	if [[ $var == ipsecmss-* ]] &&
	   ((syn1 - syn0 != 2 || al1 - al0 != 2 || lo1 - lo0 != 0)); then
		fail "bulk $mode $var rep $rep: syn +$((syn1 - syn0)) already_low +$((al1 - al0)) lowered +$((lo1 - lo0)), want +2 +2 +0 (the SYN and SYN/ACK, left at 1460)"
	fi
	rm -f "$TMPD/recv.bin"
}

setup || { fail "topology"; finish; }
head -c "$BYTES" /dev/urandom > "$TMPD/send.bin" || { fail "no room for $BYTES bytes in $TMPD"; finish; }
echo "BENCH conf kind=bulk reps=$REPS bytes=$BYTES"
for v in "${VARIANTS[@]}"; do
	echo "BENCH bulkrule ${v%% *}: $(rule_of "${v%% *}"; echo "${REPLY:-(no rule)}")"
done
for mode in gso seg; do
	if [[ $mode == seg ]]; then
		offloads off || { echo "# ethtool cannot turn offloads off: no seg mode"; break; }
	fi
	for v in "${VARIANTS[@]}"; do
		run $mode "${v%% *}" 0 >/dev/null	# warm-up
	done
	for ((rep = 1; rep <= REPS; rep++)); do
		for v in "${VARIANTS[@]}"; do
			run $mode "${v%% *}" $rep
		done
	done
done
((KSFT_FAILED)) || pass "bulk: every transfer complete and intact, the SYN and SYN/ACK seen and left at 1460"
finish
