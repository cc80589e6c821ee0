#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Goodput through the seed's ESP tunnel (AES-CBC + HMAC-SHA1-96 over a
# 1454-byte WAN), three clamps interleaved in one run:
#
#   h1 ---- ra ====== WAN wan0, MTU 1454, ESP tunnel ====== rb ---- h2
#   192.168.10.2                                            192.168.20.2
#
#   auto  ra# iptables -t mangle -A FORWARD -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead auto
#   1344  ra# iptables -t mangle -A FORWARD -p tcp -j IPSECMSS --set-mss 1344   (the seed's value)
#   none  no rule, and fragmentation allowed: no PMTU black hole, and h1 and
#         h2 send without DF (net.ipv4.ip_no_pmtu_disc=1), so ra fragments
#         the ESP packets of full-size segments instead of the flow stalling.
#
# The WAN is the bottleneck, as a WAN is: netem paces each router's wan0
# egress at BENCH_WAN_RATE (default 10mbit), so the transfer time follows
# the bytes on the wire, fragments included.
# One rule on ra clamps both directions: the SYN (its route is the tunnel)
# and the SYN/ACK (its reverse route is).  For each transfer of BENCH_XFER
# bytes h1 -> h2: the time in the guest (instructions under -icount
# shift=0), the MSS h1's socket used, and what crossed ra's WAN interface
# (IP bytes = frame bytes - 14 per frame; both directions) and how many
# fragments ra made.  Prints raw "BENCH goodput ..." lines.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "${IPSECMSS_LIB:-$HERE/lib.sh}"
. "$HERE/lib_twosite.sh"
[[ -f $HERE/bench.conf ]] && . "$HERE/bench.conf"

REPS=${BENCH_REPS:-5}
BYTES=${BENCH_XFER:-1000000}
RATE=${BENCH_WAN_RATE:-10mbit}
VARIANTS="auto 1344 none"

cleanup() { ts_teardown; }

require_cmd ipsecmss-probe
require_module xt_IPSECMSS iptable_mangle

set_rule() {
	ipt_ns "$TS_RA" -t mangle -F FORWARD
	case $1 in
	auto) ipt_ns "$TS_RA" -t mangle -A FORWARD -p tcp -j IPSECMSS \
		--clamp-to-pmtu-minus-overhead auto ;;
	1344) ipt_ns "$TS_RA" -t mangle -A FORWARD -p tcp -j IPSECMSS --set-mss 1344 ;;
	none) ;;
	esac
}

# wan_counters: "tx_bytes tx_packets rx_bytes rx_packets frag_creates" at ra.
wan_counters() {
	ip netns exec "$TS_RA" sh -c '
		d=/sys/class/net/wan0/statistics
		echo $(cat $d/tx_bytes $d/tx_packets $d/rx_bytes $d/rx_packets) \
			$(awk "\$1 == \"Ip:\" { if (!n) { for (i = 2; i <= NF; i++) c[\$i] = i; n = 1; next }
				print \$c[\"FragCreates\"] }" /proc/net/snmp)'
}

PORT=7000
xfer() {
	local var=$1 rep=$2 c0 c1 t0 t1 out rc spid
	PORT=$((PORT + 1))
	set_rule "$var" || { fail "$var: rule"; return 1; }
	rm -f "$TS_TMP/srv.ready"
	ip netns exec "$TS_H2" ipsecmss-probe xfer-server --port $PORT --count 1 \
		--timeout 120000 --ready "$TS_TMP/srv.ready" >"$TS_TMP/srv.out" 2>&1 &
	spid=$!
	busywait 5000 test -e "$TS_TMP/srv.ready" >/dev/null
	read -r -a c0 < <(wan_counters)
	t0=$EPOCHREALTIME
	out=$(ip netns exec "$TS_H1" ipsecmss-probe xfer-client --connect "$TS_H2_4" \
		--port $PORT --bytes "$BYTES" --direction send --timeout 120000 2>&1)
	rc=$?
	t1=$EPOCHREALTIME
	read -r -a c1 < <(wan_counters)
	wait $spid 2>/dev/null
	local us=$(( ${t1/[.,]/} - ${t0/[.,]/} ))
	echo "BENCH goodput rep=$rep var=$var bytes=$BYTES ns=$((us * 1000)) mss=$(ts_kv mss "$out") match=$(ts_kv match "$out") txb=$((c1[0] - c0[0])) txp=$((c1[1] - c0[1])) rxb=$((c1[2] - c0[2])) rxp=$((c1[3] - c0[3])) frags=$((c1[4] - c0[4]))"
	((rc == 0)) && [[ $(ts_kv match "$out") == yes ]] ||
		{ fail "$var rep $rep: transfer ($out)"; return 1; }
}

ts_setup --suite aes-cbc-sha1 --wan-mtu 1454 --no-blackhole || { fail "topology"; finish; }
ip netns exec "$TS_H1" sysctl -qw net.ipv4.ip_no_pmtu_disc=1
ip netns exec "$TS_H2" sysctl -qw net.ipv4.ip_no_pmtu_disc=1
ipt_ns "$TS_RA" -t mangle -F
for ns in "$TS_RA" "$TS_RB"; do
	ip netns exec "$ns" tc qdisc add dev wan0 root netem rate "$RATE" ||
		{ fail "netem rate $RATE on $ns"; finish; }
done
echo "BENCH conf kind=goodput reps=$REPS bytes=$BYTES suite=$TS_SUITE wan_mtu=$TS_WAN_MTU wan_rate=$RATE"

for v in $VARIANTS; do
	xfer "$v" 0 >/dev/null	# warm-up: neighbours, SA, caches
done
for ((rep = 1; rep <= REPS; rep++)); do
	for v in $VARIANTS; do
		xfer "$v" $rep
	done
done
finish
