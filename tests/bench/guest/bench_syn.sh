#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Forwarded SYN rate and non-SYN (pure ACK) rate through a router namespace,
# every rule variant interleaved in one run.  Prints raw "BENCH ..." lines;
# tests/bench/run.sh turns them into tables.  Figures, never a pass/fail on
# time: the test fails only when the measurement itself is not sound
# (drops, an idle CPU, a rule that did not act on every SYN).
#
#                r0 +----+ r1  MTU 1400
#   +-----+ g0 -----| rt |-------- s0 +-----+
#   |     |         +----+             |     |     every packet is sent to
#   |     | g2 -----| rtt|======== s2  |     |     02:00:00:00:00:99 (98 on the
#   | gen |      r2 +----+ r3  MTU 1454|  snk|     direct path): snk drops it
#   |     |            ESP tunnel mode |     |     in ip_rcv (PACKET_OTHERHOST),
#   |     | g1 ----------------------- s1    |     the cheapest discard there is
#   +-----+        direct path         +-----+
#
#   gen 10.1.0.2 (trafgen, crafted frames) -> 10.2.0.2
#   rt:  plain IPv4 router, rule in mangle FORWARD.
#   rtt: the same, but 10.1.0.0/24 -> 10.2.0.0/24 goes into an ESP tunnel
#        (SA 198.51.100.1 -> .2, suite BENCH_SUITE): the SYN's route in
#        FORWARD is the xfrm bundle, so "auto" sizes a real SA.
#
# One vCPU, QEMU -icount shift=0: the guest clock counts instructions
# (1 ns each).  trafgen (sendto mode, -t 0: linear skbs like a NIC's) runs
# its send loop synchronously through the router and the sink, so the time
# of N packets on the router path less the time of N on the direct path, in
# the same repetition, is the router's cost per packet.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "${IPSECMSS_LIB:-$HERE/lib.sh}"
[[ -f $HERE/bench.conf ]] && . "$HERE/bench.conf"

REPS=${BENCH_REPS:-5}
NSYN=${BENCH_SYNS:-10000}
NACK=${BENCH_ACKS:-10000}
SUITE=${BENCH_SUITE:-null}
SINK_MAC=02:00:00:00:00:99
DIRECT_MAC=02:00:00:00:00:98
CFG=/tmp/bench-syn
STATS_IPSECMSS=/proc/net/stat/ipsecmss

require_cmd trafgen ipsecmss-probe
require_module xt_IPSECMSS xt_TCPMSS xt_tcpudp iptable_mangle
mkdir -p "$CFG"

# ------------------------------------------------------------ topology --

ns_base() {
	local ns=$1
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 net.ipv4.ip_forward=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
}

suite_algo() {
	case $1 in
	null) echo 'enc cipher_null "" auth digest_null ""' ;;
	aes-cbc-sha1)
		echo "enc cbc(aes) 0x$(printf '%02x' {1..16}) auth-trunc hmac(sha1) 0x$(printf '%02x' {1..20}) 96" ;;
	aes-gcm-16)
		echo "aead rfc4106(gcm(aes)) 0x$(printf '%02x' {1..20}) 128" ;;
	*) return 1 ;;
	esac
}

setup() {
	local algo
	setup_ns gen rt rtt snk || return
	for ns in gen rt rtt snk; do
		ns_base $ns
	done
	make_veth gen g0 rt r0 && make_veth rt r1 snk s0 &&
		make_veth gen g2 rtt r2 && make_veth rtt r3 snk s2 &&
		make_veth gen g1 snk s1 || return
	ip -n rt addr add 10.1.0.1/24 dev r0
	ip -n rt addr add 10.2.0.1/24 dev r1
	ip -n rt link set r1 mtu 1400
	ip -n rt neigh add 10.2.0.2 lladdr $SINK_MAC dev r1 nud permanent

	ip -n rtt addr add 10.1.0.1/24 dev r2
	ip -n rtt addr add 198.51.100.1/24 dev r3
	ip -n rtt link set r3 mtu 1454
	ip -n rtt neigh add 198.51.100.2 lladdr $SINK_MAC dev r3 nud permanent
	ip -n rtt route add 10.2.0.0/24 via 198.51.100.2 dev r3
	algo=$(suite_algo "$SUITE") || { echo "unknown suite $SUITE"; return 1; }
	eval "ip -n rtt xfrm state add src 198.51.100.1 dst 198.51.100.2 proto esp \
		spi 0x1000 reqid 1 mode tunnel $algo" || return
	eval "ip -n rtt xfrm state add src 198.51.100.2 dst 198.51.100.1 proto esp \
		spi 0x2000 reqid 2 mode tunnel $algo" || return
	ip -n rtt xfrm policy add src 10.1.0.0/24 dst 10.2.0.0/24 dir out \
		tmpl src 198.51.100.1 dst 198.51.100.2 proto esp mode tunnel reqid 1 || return
	ip -n rtt xfrm policy add src 10.2.0.0/24 dst 10.1.0.0/24 dir fwd \
		tmpl src 198.51.100.2 dst 198.51.100.1 proto esp mode tunnel reqid 2 || return
	ip -n rtt xfrm policy add src 10.2.0.0/24 dst 10.1.0.0/24 dir in \
		tmpl src 198.51.100.2 dst 198.51.100.1 proto esp mode tunnel reqid 2 || return

	# The same (empty) mangle table in both routers for every variant.
	ipt_ns rt -t mangle -F && ipt_ns rtt -t mangle -F || return
	MAC_R0=$(ip -n rt -br link show r0 | awk '{print $3}')
	MAC_R2=$(ip -n rtt -br link show r2 | awk '{print $3}')
}

# A Linux SYN: MSS 1460, SACK permitted, timestamps, NOP, window scale 7
# (40-byte TCP header); a pure ACK with timestamps (32 bytes).
syn_cfg() {
	cat <<-EOF
	{
	  eth(da=$1, sa=02:00:00:00:00:01),
	  ipv4(sa=10.1.0.2, da=10.2.0.2, ttl=64, df, id=1),
	  tcp(sp=dinc(1024, 60000), dp=443, seq=0x12345678, syn, win=64240, doff=10),
	  0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
	  0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	  0x01, 0x03, 0x03, 0x07
	}
	EOF
}

ack_cfg() {
	cat <<-EOF
	{
	  eth(da=$1, sa=02:00:00:00:00:01),
	  ipv4(sa=10.1.0.2, da=10.2.0.2, ttl=64, df, id=1),
	  tcp(sp=dinc(1024, 60000), dp=443, seq=0x12345678, aseq=0x1000, ack, win=502, doff=8),
	  0x01, 0x01, 0x08, 0x0a, 0x00, 0x01, 0x00, 0x02, 0x00, 0x01, 0x00, 0x01
	}
	EOF
}

# ------------------------------------------------------------- variants --
# name router rule-args (empty: no rule)
VARIANTS=(
	"none rt"
	"rule-only rt -p tcp"
	"tcpmss-set rt -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1344"
	"tcpmss-pmtu rt -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu"
	"ipsecmss-set rt -p tcp -j IPSECMSS --set-mss 1344"
	"ipsecmss-set+syn rt -p tcp --tcp-flags SYN,RST SYN -j IPSECMSS --set-mss 1344"
	"ipsecmss-73 rt -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead 73"
	"ipsecmss-73+syn rt -p tcp --tcp-flags SYN,RST SYN -j IPSECMSS --clamp-to-pmtu-minus-overhead 73"
	"tun-none rtt"
	"tun-tcpmss-pmtu rtt -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu"
	"tun-auto rtt -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead auto"
	"tun-auto+syn rtt -p tcp --tcp-flags SYN,RST SYN -j IPSECMSS --clamp-to-pmtu-minus-overhead auto"
)
# "rule-only" is a rule with no target (-p tcp, counting): what any rule
# costs a packet in ipt_do_table, target apart.
# Non-SYN traffic goes through the rules without a SYN match (TCPMSS cannot
# do without one).
ACK_VARIANTS="none rule-only tcpmss-set ipsecmss-set ipsecmss-73 tun-none tun-auto"

variant_line() {
	local v
	for v in "${VARIANTS[@]}"; do
		[[ ${v%% *} == "$1" ]] && { echo "$v"; return 0; }
	done
	return 1
}

# set_rule NAME: the variant's rule (only) in its router's mangle FORWARD;
# sets ROUTER, EGRESS (the router's interface toward snk), SINKIF, DEV
# (the generator's interface), MAC.
set_rule() {
	local line rules
	line=$(variant_line "$1") || return
	read -r _ ROUTER rules <<<"$line"
	ipt_ns rt -t mangle -F FORWARD
	ipt_ns rtt -t mangle -F FORWARD
	if [[ -n $rules ]]; then
		# shellcheck disable=SC2086
		ipt_ns "$ROUTER" -t mangle -A FORWARD $rules || return
	fi
	ipt_ns "$ROUTER" -t mangle -Z FORWARD
	if [[ $ROUTER == rt ]]; then
		DEV=g0 MAC=$MAC_R0 SINKIF=s0
	else
		DEV=g2 MAC=$MAC_R2 SINKIF=s2
	fi
	RULE=$rules
}

# ----------------------------------------------------------- measuring --

# cpu_ticks: "busy idle" in USER_HZ ticks from /proc/stat.
cpu_ticks() {
	awk '$1 == "cpu" { idle = $5 + $6; t = 0; for (i = 2; i <= NF; i++) t += $i;
		print t - idle, idle; exit }' /proc/stat
}

# softnet drops (hex column 2, all CPUs).
softnet_drops() {
	local d=0 l
	while read -r _ l _; do
		d=$((d + 0x$l))
	done < /proc/net/softnet_stat
	echo $d
}

# ipsecmss_col NS NAME: a column of the ipv4 line of NS's counters.
ipsecmss_col() {
	ip netns exec "$1" awk -v c="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i }
		$1 == "ipv4" { print $k + 0 }' $STATS_IPSECMSS 2>/dev/null || echo 0
}

ip_fwd() {
	ip netns exec "$1" awk '$1 == "Ip:" { if (!n) { for (i = 2; i <= NF; i++) c[$i] = i; n = 1; next }
		print $c["ForwDatagrams"] }' /proc/net/snmp
}

rx_of() {
	ip netns exec snk cat "/sys/class/net/$1/statistics/rx_packets"
}

rule_pkts() {
	ipt_ns "$1" -t mangle -vxnL FORWARD | awk 'NR == 3 { print $1; exit } END { if (NR < 3) print 0 }'
}

# measure KIND VARIANT: one trafgen run of KIND (syn|ack) packets on the
# variant's path (VARIANT "direct": the generator-to-sink path).  Prints one
# BENCH line.
measure() {
	local kind=$1 var=$2 rep=$3 n dev mac sinkif cfg out ns t0 t1 rx0 rx1
	local fw0=0 fw1=0 lo0=0 lo1=0 sd0 sd1 hits=0 router=-
	if [[ $kind == syn ]]; then n=$NSYN; else n=$NACK; fi
	if [[ $var == direct ]]; then
		dev=g1 mac=$DIRECT_MAC sinkif=s1
	else
		set_rule "$var" || { fail "$var: cannot install its rule"; return 1; }
		dev=$DEV mac=$MAC sinkif=$SINKIF router=$ROUTER
	fi
	cfg=$CFG/$kind-$dev.cfg
	[[ -f $cfg ]] || "${kind}_cfg" "$mac" > "$cfg"
	rx0=$(rx_of "$sinkif")
	sd0=$(softnet_drops)
	if [[ $router != - ]]; then
		fw0=$(ip_fwd "$router")
		lo0=$(ipsecmss_col "$router" lowered)
	fi
	read -r t0 i0 < <(cpu_ticks)
	out=$(ip netns exec gen trafgen -o "$dev" -i "$cfg" -n "$n" -t 0 -P 1 2>&1)
	read -r t1 i1 < <(cpu_ticks)
	ns=$(awk '/usec on CPU/ { printf "%d", $1 * 1e9 + $3 * 1e3 }' <<<"$out")
	rx1=$(rx_of "$sinkif")
	sd1=$(softnet_drops)
	if [[ $router != - ]]; then
		fw1=$(ip_fwd "$router")
		lo1=$(ipsecmss_col "$router" lowered)
		[[ -n $RULE ]] && hits=$(rule_pkts "$router")
	fi
	if [[ -z $ns ]]; then
		fail "$kind $var: trafgen did not report its time"
		printf '%s\n' "$out" | tail -n 5 | sed 's/^/#   /'
		return 1
	fi
	echo "BENCH $kind rep=$rep var=$var n=$n ns=$ns busy=$((t1 - t0)) idle=$((i1 - i0)) rx=$((rx1 - rx0)) fwd=$((fw1 - fw0)) drops=$((sd1 - sd0)) hits=$hits lowered=$((lo1 - lo0))"
	# Soundness: every packet reached the sink, nothing dropped on the way.
	((rx1 - rx0 == n)) || fail "$kind $var rep $rep: sink got $((rx1 - rx0)) of $n"
	((sd1 - sd0 == 0)) || fail "$kind $var rep $rep: $((sd1 - sd0)) backlog drops"
	if [[ $router != - ]]; then
		((fw1 - fw0 == n)) || fail "$kind $var rep $rep: router forwarded $((fw1 - fw0)) of $n"
		local want=$n
		[[ $kind == ack && $RULE == *--tcp-flags* ]] && want=0
		if [[ -n $RULE ]]; then
			((hits == want)) || fail "$kind $var rep $rep: the rule saw $hits of $n (expected $want)"
		fi
		if [[ $kind == syn && ($var == ipsecmss* || $var == tun-auto*) ]]; then
			((lo1 - lo0 == n)) || fail "$kind $var rep $rep: IPSECMSS lowered $((lo1 - lo0)) of $n"
		fi
		if [[ $kind == ack ]]; then
			((lo1 - lo0 == 0)) || fail "$kind $var rep $rep: IPSECMSS touched an ACK"
		fi
	fi
}

# check_mss VARIANT EXPECTED: one SYN through the variant, captured at the
# sink: its MSS and checksum (the plain router only: the tunnel's are ESP).
check_mss() {
	local var=$1 want=$2 out
	set_rule "$var" || return
	[[ -f $CFG/syn-$DEV.cfg ]] || syn_cfg "$MAC" > "$CFG/syn-$DEV.cfg"
	rm -f "$CFG/cap.ready"
	ip netns exec snk ipsecmss-probe recv-syn --iface "$SINKIF" --syn-only --count 1 \
		--timeout 10000 --ready "$CFG/cap.ready" > "$CFG/cap.out" 2>&1 &
	local pid=$!
	busywait 5000 test -e "$CFG/cap.ready" >/dev/null
	ip netns exec gen trafgen -o "$DEV" -i "$CFG/syn-$DEV.cfg" -n 1 -t 0 -P 1 >/dev/null 2>&1
	wait $pid
	out=$(grep -m1 '^family=' "$CFG/cap.out")
	echo "# $var: SYN at the sink: $out"
	[[ $(ts_kv_ mss "$out") == "$want" && $(ts_kv_ csum "$out") == ok ]] &&
		pass "$var: the SYN leaves the router with MSS $want and a good checksum" ||
		fail "$var: the SYN leaves the router with MSS $want and a good checksum"
}

ts_kv_() {
	local kv
	for kv in $2; do
		[[ $kv == "$1="* ]] && { echo "${kv#*=}"; return 0; }
	done
	return 1
}


# ------------------------------------------------------------- profile --
# Where a rule's instructions go: the function_graph tracer on ONE function
# at a time (so no traced callee inflates it), its median duration over
# BENCH_PROF_N packets.  Under -icount shift=0 a nanosecond is an
# instruction; every duration carries the tracer's own entry/exit cost,
# which ipsecmss_mss_for_mtu (about 10 instructions) calibrates.
TRACE=/sys/kernel/tracing
PROF_N=${BENCH_PROF_N:-1000}

trace_init() {
	[[ -e $TRACE/current_tracer ]] || mount -t tracefs nodev $TRACE 2>/dev/null
	[[ -e $TRACE/current_tracer ]] || TRACE=/sys/kernel/debug/tracing
	[[ -e $TRACE/current_tracer ]] || return 1
	echo 0 > $TRACE/tracing_on
	echo nop > $TRACE/current_tracer
	echo 2048 > $TRACE/buffer_size_kb
	echo nofuncgraph-irqs > $TRACE/trace_options 2>/dev/null
	return 0
}

# prof KIND VARIANT FUNCTION
prof() {
	local kind=$1 var=$2 fn=$3 res
	set_rule "$var" || return
	[[ -f $CFG/$kind-$DEV.cfg ]] || "${kind}_cfg" "$MAC" > "$CFG/$kind-$DEV.cfg"
	echo > $TRACE/trace
	if ! echo "$fn" > $TRACE/set_ftrace_filter 2>/dev/null; then
		echo "BENCH prof kind=$kind var=$var fn=$fn calls=0 median=0"
		return
	fi
	echo function_graph > $TRACE/current_tracer
	echo 1 > $TRACE/tracing_on
	ip netns exec gen trafgen -o "$DEV" -i "$CFG/$kind-$DEV.cfg" -n "$PROF_N" -t 0 -P 1 >/dev/null 2>&1
	echo 0 > $TRACE/tracing_on
	res=$(awk -v fn="$fn" 'index($0, fn "(") || index($0, fn " [") {
			for (i = 1; i <= NF; i++) if ($(i + 1) == "us") { d[++n] = $i * 1000; break } }
		END { if (!n) { print 0, 0; exit }
		      # median by insertion sort (n is small)
		      for (i = 2; i <= n; i++) { v = d[i]; for (j = i - 1; j >= 1 && d[j] > v; j--) d[j + 1] = d[j]; d[j + 1] = v }
		      print n, d[int((n + 1) / 2)] }' $TRACE/trace)
	echo nop > $TRACE/current_tracer
	echo > $TRACE/set_ftrace_filter
	echo "BENCH prof kind=$kind var=$var fn=$fn calls=${res% *} median=${res#* }"
}

profile() {
	trace_init || { echo "# no tracefs: no profile"; return 0; }
	local f
	for f in ipsecmss_tg4 ipsecmss_syn ipsecmss_clamp skb_ensure_writable \
		 inet_proto_csum_replace4; do
		prof syn ipsecmss-set $f
	done
	for f in tcpmss_tg4 tcp_mt skb_ensure_writable inet_proto_csum_replace4; do
		prof syn tcpmss-set $f
	done
	prof syn tcpmss-pmtu tcpmss_tg4
	prof syn ipsecmss-73 ipsecmss_tg4
	prof syn ipsecmss-73 ipsecmss_mss_for_mtu
	prof syn ipsecmss-73 nf_route
	prof syn tun-tcpmss-pmtu tcpmss_tg4
	prof syn tun-tcpmss-pmtu nf_route
	for f in ipsecmss_tg4 ipsecmss_syn ipsecmss_clamp_value ipsecmss_route_inner_mtu \
		 ipsecmss_reverse_inner_mtu nf_route xfrm_lookup ipsecmss_esp_inner_max; do
		prof syn tun-auto $f
	done
	prof ack ipsecmss-set ipsecmss_tg4
	prof ack tcpmss-set tcp_mt
}

# ----------------------------------------------------------------- main --

setup || { fail "topology"; finish; }
echo "BENCH conf kind=syn reps=$REPS syns=$NSYN acks=$NACK suite=$SUITE kernel=$(uname -r)"
echo "BENCH conf cpus=$(nproc) cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo | tr ' ' '_')"
echo "BENCH conf clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
for v in "${VARIANTS[@]}"; do
	read -r name router rules <<<"$v"
	echo "BENCH rule $name $router: ${rules:-(no rule)}"
done

# The SYN layout is parsed and rewritten as intended.
check_mss none 1460
check_mss tcpmss-set 1344
check_mss tcpmss-pmtu 1360
check_mss ipsecmss-set 1344
check_mss ipsecmss-73 1287
((KSFT_FAILED)) && finish

# A warm-up of every path (caches, neighbour entries, slab).
measure syn direct 0 >/dev/null
measure syn none 0 >/dev/null
measure syn tun-none 0 >/dev/null

for ((rep = 1; rep <= REPS; rep++)); do
	measure syn direct $rep
	for v in "${VARIANTS[@]}"; do
		measure syn "${v%% *}" $rep
	done
	measure ack direct $rep
	for v in $ACK_VARIANTS; do
		measure ack "$v" $rep
	done
done
echo "BENCH auto last_mss=$(ipsecmss_col rtt last_mss)"
((${BENCH_PROFILE:-1})) && profile
finish
