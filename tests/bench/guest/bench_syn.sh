#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Forwarded SYN rate and non-SYN (pure ACK) rate through router namespaces,
# every rule variant interleaved in one run.  Prints raw "BENCH ..." lines;
# tests/bench/run.sh turns them into tables.  Figures, never a pass/fail on
# time: the test fails only when the measurement itself is not sound
# (drops, a rule that did not act on every SYN).
#
#                r0 +----+ r1  MTU 1400
#   +-----+ g0 -----| rt |-------- s0 +-----+
#   |     |         +----+             |     |     every packet is sent to
#   |     | g2 -----| rtt|======== s2  |     |     02:00:00:00:00:99 (98 on the
#   |     |      r2 +----+ r3  MTU 1454|     |     direct path): snk drops it
#   | gen |                            | snk |     in ip_rcv / ipv6_rcv
#   |     | g4 -----+----+-r5===== s5  |     |     (PACKET_OTHERHOST), the
#   |     |      r4 | rtm| WAN 1454    |     |     cheapest discard there is
#   |     | g6 -----+----+-r7----- s7  |     |
#   |     |      r6  ESP in   LAN2     |     |
#   |     | g1 ----------------------- s1    |
#   +-----+        direct path         +-----+
#
#   gen 10.1.0.2 (trafgen, crafted frames) -> 10.2.0.2
#   rt:  plain IPv4 router, rule in mangle FORWARD.
#   rtt: the same, but 10.1.0.0/24 -> 10.2.0.0/24 goes into an ESP tunnel
#        (SA 198.51.100.1 -> .2, suite BENCH_SUITE): the SYN's route in
#        FORWARD is the xfrm bundle, so "auto" sizes a real SA.  Its only
#        outbound policy is that tunnel's.
#   rtm: a dual-stack gateway with 4 tunnels on one WAN (r5, MTU 1454):
#          pol4  policy-based, 10.1.0.0/16 <-> 10.2.0.0/16 over IPv4
#          pol6  policy-based, fd01::/32 <-> fd02::/32 over IPv6
#          xfrmi XFRM interface ipsec3 (if_id 3, MTU 1500), 10.3.0.0/16 and
#                fd03::/32 routed into it, policies 0/0 and ::/0 if_id 3
#          vti   VTI vti4 (key 4), 10.4.0.0/16 routed into it, policy 0/0
#                mark 4
#        so it holds 10 policies (4 outbound, 3 of them with a selector
#        the reverse flow of every SYN falls in).  LAN1 (r4, 10.1.0.0/24,
#        fd01::/64) faces gen, LAN2 (r7, 10.1.1.0/24, fd01:0:1::/64) faces
#        snk.  Paths (BENCH_MT_PATHS): <tunnel><i|o>, i = a SYN entering
#        the tunnel (gen on LAN1 -> the far site, ESP out of r5), o = a SYN
#        leaving it (gen plays the peer: ESP into r6, decapsulated and
#        forwarded to LAN2):  m4 pol4 (IPv4), m6 pol6 (IPv6), mx xfrmi
#        (IPv4), mv vti (IPv4).
#
# One vCPU, QEMU -icount shift=0: the guest clock counts instructions
# (1 ns each).  trafgen (sendto mode, -t 0: linear skbs like a NIC's) runs
# its send loop synchronously through the router and the sink, so the time
# of N packets on the router path less the time of N on the direct path
# (of the same family), in the same repetition, is the router's cost per
# packet.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "${IPSECMSS_LIB:-$HERE/lib.sh}"
[[ -f $HERE/bench.conf ]] && . "$HERE/bench.conf"

REPS=${BENCH_REPS:-5}
NSYN=${BENCH_SYNS:-10000}
NACK=${BENCH_ACKS:-10000}
SUITE=${BENCH_SUITE:-null}
MT_PATHS=${BENCH_MT_PATHS-m4i m4o m6i m6o mxi mxo mvi mvo}
SINK_MAC=02:00:00:00:00:99
DIRECT_MAC=02:00:00:00:00:98
CFG=/tmp/bench-syn
STATS_IPSECMSS=/proc/net/stat/ipsecmss

require_cmd trafgen ipsecmss-probe
require_module xt_IPSECMSS xt_TCPMSS xt_tcpudp iptable_mangle ip6table_mangle \
	xfrm_interface ip_vti
mkdir -p "$CFG"

# ------------------------------------------------------------ topology --

ns_base() {
	local ns=$1
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 net.ipv4.ip_forward=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
}

# The dual-stack gateway: IPv6 forwarding before any link is up (so it
# sends no router solicitation), no DAD.
ns_base6() {
	local ns=$1
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 \
		net.ipv6.conf.default.disable_ipv6=0 net.ipv6.conf.all.forwarding=1 \
		net.ipv6.conf.default.forwarding=1 net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 net.ipv4.ip_forward=1 \
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

setup_single() {
	local algo
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
}

# mt_tunnel OUT_SRC OUT_DST SPI_OUT SPI_IN REQID SELECTOR_ARGS "LOCAL REMOTE"...:
# ip -batch lines: the two SAs (SPI_OUT local -> peer, reqid REQID;
# SPI_IN back, REQID+1) and, per "LOCAL REMOTE" pair of selectors, the
# out, fwd and in policies.  SELECTOR_ARGS: "if_id N", "mark N" or "-".
mt_tunnel() {
	local me=$1 peer=$2 so=$3 si=$4 req=$5 sel=$6 pair l r algo
	shift 6
	[[ $sel == - ]] && sel=
	algo=$(suite_algo "$SUITE") || return
	echo "xfrm state add src $me dst $peer proto esp spi $so reqid $req mode tunnel $sel $algo"
	echo "xfrm state add src $peer dst $me proto esp spi $si reqid $((req + 1)) mode tunnel $sel $algo"
	for pair in "$@"; do
		read -r l r <<<"$pair"
		echo "xfrm policy add src $l dst $r dir out $sel tmpl src $me dst $peer proto esp mode tunnel reqid $req"
		echo "xfrm policy add src $r dst $l dir fwd $sel tmpl src $peer dst $me proto esp mode tunnel reqid $((req + 1))"
		echo "xfrm policy add src $r dst $l dir in $sel tmpl src $peer dst $me proto esp mode tunnel reqid $((req + 1))"
	done
}

setup_multi() {
	local w=198.51.100 w6=2001:db8:100: l p
	ns_base6 rtm || return
	make_veth gen g4 rtm r4 && make_veth rtm r5 snk s5 &&
		make_veth gen g6 rtm r6 && make_veth rtm r7 snk s7 || return
	# A veth end made from gen's side keeps gen's IPv6 settings (off).
	for l in r4 r5 r6 r7; do
		ip netns exec rtm sysctl -qw net.ipv6.conf.$l.disable_ipv6=0 \
			net.ipv6.conf.$l.forwarding=1 net.ipv6.conf.$l.accept_dad=0 || return
	done
	{
		echo "addr add 10.1.0.1/24 dev r4"
		echo "addr add fd01::1/64 dev r4 nodad"
		echo "addr add $w.1/24 dev r5"
		echo "addr add $w6:1/64 dev r5 nodad"
		echo "link set r5 mtu 1454"
		echo "addr add 192.0.2.1/24 dev r6"
		echo "addr add 2001:db8:200::1/64 dev r6 nodad"
		echo "addr add 10.1.1.1/24 dev r7"
		echo "addr add fd01:0:1::1/64 dev r7 nodad"
		for p in 2 3 4; do
			echo "neigh add $w.$p lladdr $SINK_MAC dev r5 nud permanent"
		done
		echo "neigh add $w6:2 lladdr $SINK_MAC dev r5 nud permanent"
		echo "neigh add 10.1.1.2 lladdr $SINK_MAC dev r7 nud permanent"
		echo "neigh add fd01:0:1::2 lladdr $SINK_MAC dev r7 nud permanent"
		echo "route add 10.2.0.0/16 via $w.2 dev r5"
		echo "route add fd02::/32 via $w6:2 dev r5"
		echo "link add ipsec3 type xfrm dev r5 if_id 3"
		echo "link set ipsec3 up"
		echo "route add 10.3.0.0/16 dev ipsec3"
		echo "route add fd03::/32 dev ipsec3"
		echo "link add vti4 type vti local $w.1 remote $w.4 key 4"
		echo "link set vti4 up"
		echo "route add 10.4.0.0/16 dev vti4"
		mt_tunnel $w.1 $w.2 0x1001 0x2001 1 - "10.1.0.0/16 10.2.0.0/16"
		mt_tunnel $w6:1 $w6:2 0x1002 0x2002 3 - "fd01::/32 fd02::/32"
		mt_tunnel $w.1 $w.3 0x1003 0x2003 5 "if_id 3" "0.0.0.0/0 0.0.0.0/0" "::/0 ::/0"
		mt_tunnel $w.1 $w.4 0x1004 0x2004 7 "mark 4" "0.0.0.0/0 0.0.0.0/0"
	} > "$CFG/rtm.batch" || return
	eval "ip -n rtm -batch $CFG/rtm.batch" || return
	ipt_ns rtm -t mangle -F && ip6t_ns rtm -t mangle -F
}

setup() {
	setup_ns gen rt rtt rtm snk || return
	for ns in gen rt rtt snk; do
		ns_base $ns
	done
	setup_single || return
	setup_multi || return
	# The same (empty) mangle table in every router for every variant.
	ipt_ns rt -t mangle -F && ipt_ns rtt -t mangle -F || return
	# rtm's IPv6 links may still announce themselves (MLD reports for a
	# second or two); the sink counts every frame, so let that pass.
	sleep 3
}

# ------------------------------------------------------------- frames --

# Bytes as trafgen's comma-separated hex list, from a plain hex string.
hexlist() {
	local h=$1 out='' i
	for ((i = 0; i < ${#h}; i += 2)); do
		out+="0x${h:i:2}, "
	done
	echo "${out%, }"
}

ip4hex() {
	local a b c d
	IFS=. read -r a b c d <<<"$1"
	printf '%02x%02x%02x%02x' "$a" "$b" "$c" "$d"
}

# ip6hex ADDR: the 32 hex digits of an IPv6 address ("::" expanded).
ip6hex() {
	local a=$1 head tail g n out='' i
	local -a hg=() tg=()
	if [[ $a == *::* ]]; then
		head=${a%%::*} tail=${a#*::}
		[[ -n $head ]] && IFS=: read -ra hg <<<"$head"
		[[ -n $tail ]] && IFS=: read -ra tg <<<"$tail"
		n=$((8 - ${#hg[@]} - ${#tg[@]}))
		for g in "${hg[@]}"; do out+=$(printf '%04x' "0x$g"); done
		for ((i = 0; i < n; i++)); do out+=0000; done
		for g in "${tg[@]}"; do out+=$(printf '%04x' "0x$g"); done
	else
		IFS=: read -ra hg <<<"$a"
		for g in "${hg[@]}"; do out+=$(printf '%04x' "0x$g"); done
	fi
	echo "$out"
}

# csum16 HEX: the Internet checksum of the bytes (even length), as 4 hex
# digits.
csum16() {
	local h=$1 s=0 i
	for ((i = 0; i < ${#h}; i += 4)); do
		s=$((s + 16#${h:i:4}))
	done
	while ((s >> 16)); do s=$(((s & 0xffff) + (s >> 16))); done
	printf '%04x' $((~s & 0xffff))
}

# The TCP options of a Linux SYN after the MSS: SACK permitted, timestamps,
# NOP, window scale 7 (40-byte TCP header).
SYN_OPTS=0402080a0001000100000000010303 SYN_OPTS+=07

# inner_syn FAMILY SRC DST: a Linux SYN (sport 40000, dport 443, MSS
# 1460 / 1440) as hex, its checksums right.
inner_syn() {
	local fam=$1 s d tcp ip mss ph
	if ((fam == 4)); then
		s=$(ip4hex "$2") d=$(ip4hex "$3") mss=05b4
	else
		s=$(ip6hex "$2") d=$(ip6hex "$3") mss=05a0
	fi
	tcp=9c4001bb1234567800000000a002faf0XXXX00000204$mss$SYN_OPTS
	if ((fam == 4)); then
		ph=$s${d}00060028
	else
		ph=$s${d}0000002800000006
	fi
	tcp=${tcp/XXXX/$(csum16 "$ph${tcp/XXXX/0000}")}
	if ((fam == 4)); then
		ip=4500003c000140004006XXXX$s$d
		ip=${ip/XXXX/$(csum16 "${ip/XXXX/0000}")}
	else
		ip=6000000000280640$s$d
	fi
	echo "$ip$tcp"
}

# syn_cfg DA FAMILY SRC DST: a Linux SYN (MSS 1460 / 1440, SACK permitted,
# timestamps, NOP, window scale 7: a 40-byte TCP header), the source port
# counting up; a pure ACK with timestamps (32 bytes) for ack_cfg.
syn_cfg() {
	local l3 et=0x0800
	if (($2 == 4)); then
		l3="ipv4(sa=$3, da=$4, ttl=64, df, id=1)"
	else
		l3="ipv6(sa=$3, da=$4, hl=64)" et=0x86dd
	fi
	cat <<-EOF
	{
	  eth(da=$1, sa=02:00:00:00:00:01, type=$et),
	  $l3,
	  tcp(sp=dinc(1024, 60000), dp=443, seq=0x12345678, syn, win=64240, doff=10),
	  0x02, 0x04, $( (($2 == 4)) && echo "0x05, 0xb4" || echo "0x05, 0xa0"), 0x04, 0x02, 0x08, 0x0a,
	  0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	  0x01, 0x03, 0x03, 0x07
	}
	EOF
}

ack_cfg() {
	cat <<-EOF
	{
	  eth(da=$1, sa=02:00:00:00:00:01),
	  ipv4(sa=$3, da=$4, ttl=64, df, id=1),
	  tcp(sp=dinc(1024, 60000), dp=443, seq=0x12345678, aseq=0x1000, ack, win=502, doff=8),
	  0x01, 0x01, 0x08, 0x0a, 0x00, 0x01, 0x00, 0x02, 0x00, 0x01, 0x00, 0x01
	}
	EOF
}

# esp_cfg DA FAMILY OUTER_SRC OUTER_DST SPI INNER_SRC INNER_DST: the
# peer's ESP (the suite must be "null": no cipher, no ICV) carrying a
# Linux SYN in tunnel mode, sequence number 1 every time (the SAs have
# no replay window), no padding.
esp_cfg() {
	local l3 nh et=0x0800
	if (($2 == 4)); then
		l3="ipv4(sa=$3, da=$4, ttl=64, proto=50)" nh=04
	else
		l3="ipv6(sa=$3, da=$4, hl=64, nh=50)" nh=29 et=0x86dd
	fi
	cat <<-EOF
	{
	  eth(da=$1, sa=02:00:00:00:00:01, type=$et),
	  $l3,
	  $(hexlist "$(printf '%08x' "$5")00000001$(inner_syn "$2" "$6" "$7")00$nh")
	}
	EOF
}

# ------------------------------------------------------------- paths --
# A path: the router namespace, the family, the generator's interface, the
# router interface it sends to, the sink's interface and the frame (the
# *_cfg function and its arguments after the destination MAC).
declare -A P_NS P_FAM P_DEV P_RIF P_SINK P_SYN P_ACK
path() {
	P_NS[$1]=$2 P_FAM[$1]=$3 P_DEV[$1]=$4 P_RIF[$1]=$5 P_SINK[$1]=$6 P_SYN[$1]=$7
	P_ACK[$1]=${8:-}
}
path direct - 4 g1 - s1 "syn_cfg 4 10.1.0.2 10.2.0.2" "ack_cfg 4 10.1.0.2 10.2.0.2"
path direct6 - 6 g1 - s1 "syn_cfg 6 fd01::2 fd02::2"
path rt rt 4 g0 r0 s0 "syn_cfg 4 10.1.0.2 10.2.0.2" "ack_cfg 4 10.1.0.2 10.2.0.2"
path rtt rtt 4 g2 r2 s2 "syn_cfg 4 10.1.0.2 10.2.0.2" "ack_cfg 4 10.1.0.2 10.2.0.2"
path m4i rtm 4 g4 r4 s5 "syn_cfg 4 10.1.0.2 10.2.0.2"
path m6i rtm 6 g4 r4 s5 "syn_cfg 6 fd01::2 fd02::2"
path mxi rtm 4 g4 r4 s5 "syn_cfg 4 10.1.0.2 10.3.0.2"
path mvi rtm 4 g4 r4 s5 "syn_cfg 4 10.1.0.2 10.4.0.2"
path m4o rtm 4 g6 r6 s7 "esp_cfg 4 198.51.100.2 198.51.100.1 0x2001 10.2.0.2 10.1.1.2"
path m6o rtm 6 g6 r6 s7 "esp_cfg 6 2001:db8:100::2 2001:db8:100::1 0x2002 fd02::2 fd01:0:1::2"
path mxo rtm 4 g6 r6 s7 "esp_cfg 4 198.51.100.3 198.51.100.1 0x2003 10.3.0.2 10.1.1.2"
path mvo rtm 4 g6 r6 s7 "esp_cfg 4 198.51.100.4 198.51.100.1 0x2004 10.4.0.2 10.1.1.2"

# frame_cfg KIND PATH: the path's frame file (written once).
frame_cfg() {
	local kind=$1 p=$2 f=$CFG/$1-$2.cfg spec mac fn
	if [[ ! -f $f ]]; then
		if [[ $kind == syn ]]; then spec=${P_SYN[$p]}; else spec=${P_ACK[$p]}; fi
		[[ -n $spec ]] || return 1
		if [[ ${P_NS[$p]} == - ]]; then
			mac=$DIRECT_MAC
		else
			mac=$(ip -n "${P_NS[$p]}" -br link show "${P_RIF[$p]}" | awk '{print $3}')
		fi
		read -r fn spec <<<"$spec"
		# shellcheck disable=SC2086
		"$fn" "$mac" $spec > "$f" || return 1
	fi
	echo "$f"
}

# ------------------------------------------------------------- variants --
# name path rule-args (empty: no rule)
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
# The 4-tunnel gateway: per path, the rules of the goals (IPSECMSS as the
# README writes it, without a SYN match; TCPMSS needs one).
for p in $MT_PATHS; do
	[[ -n ${P_NS[$p]:-} ]] || { fail "BENCH_MT_PATHS: no path $p"; finish; }
	VARIANTS+=(
		"$p-none $p"
		"$p-tcpmss-set $p -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1344"
		"$p-ipsecmss-set $p -p tcp -j IPSECMSS --set-mss 1344"
		"$p-tcpmss-pmtu $p -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu"
		"$p-auto $p -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead auto"
		"$p-auto-nocache $p -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead auto"
	)
done
# "rule-only" is a rule with no target (-p tcp, counting): what any rule
# costs a packet in ipt_do_table, target apart.  "PATH-auto-nocache" is
# auto while an outbound policy of the family selects a port (one more
# policy, matching nothing here): auto's lookup cache is not used, every
# SYN makes its lookups as the first SYN between two hosts does.
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

# xt_ns NS FAMILY ARGS...: iptables or ip6tables in NS.
xt_ns() {
	local ns=$1 fam=$2
	shift 2
	if ((fam == 6)); then ip6t_ns "$ns" "$@"; else ipt_ns "$ns" "$@"; fi
}

# NOCACHE_POL4 / 6: the port-selecting policies of the -nocache variants.
NOCACHE_POL4="src 192.0.2.0/24 dst 198.18.0.0/15 proto tcp dport 9 dir out"
NOCACHE_POL6="src 2001:db8:99::/48 dst 2001:db8:98::/48 proto tcp dport 9 dir out"

# set_rule NAME: the variant's rule (only) in its router's mangle FORWARD;
# sets PATH_ (the variant's path), ROUTER, FAM and RULE.  A -nocache
# variant also adds its family's port-selecting policy to rtm (removed for
# every other variant).
set_rule() {
	local line rules
	line=$(variant_line "$1") || return
	read -r _ PATH_ rules <<<"$line"
	# shellcheck disable=SC2086
	{
		ip -n rtm xfrm policy delete $NOCACHE_POL4
		ip -n rtm xfrm policy delete $NOCACHE_POL6
	} 2>/dev/null
	if [[ $1 == *-nocache ]]; then
		local pol=$NOCACHE_POL4
		((${P_FAM[$PATH_]} == 6)) && pol=$NOCACHE_POL6
		# shellcheck disable=SC2086
		ip -n rtm xfrm policy add $pol || return
	fi
	ipt_ns rt -t mangle -F FORWARD
	ipt_ns rtt -t mangle -F FORWARD
	ipt_ns rtm -t mangle -F FORWARD
	ip6t_ns rtm -t mangle -F FORWARD
	ROUTER=${P_NS[$PATH_]} FAM=${P_FAM[$PATH_]}
	if [[ -n $rules ]]; then
		# shellcheck disable=SC2086
		xt_ns "$ROUTER" "$FAM" -t mangle -A FORWARD $rules || return
	fi
	xt_ns "$ROUTER" "$FAM" -t mangle -Z FORWARD
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

# ipsecmss_col NS FAMILY NAME: a counter of NS (lib.sh's reader).
ipsecmss_col() {
	local -A c=()
	if ! ip netns exec "$1" cat $STATS_IPSECMSS > "$CFG/stats" 2>/dev/null ||
	   ! ipsecmss_counters c "$CFG/stats"; then
		echo 0
		return
	fi
	echo "${c[ipv$2.$3]:-0}"
}

ip_fwd() {
	if (($2 == 6)); then
		ip netns exec "$1" awk '$1 == "Ip6OutForwDatagrams" { print $2 }' /proc/net/snmp6
		return
	fi
	ip netns exec "$1" awk '$1 == "Ip:" { if (!n) { for (i = 2; i <= NF; i++) c[$i] = i; n = 1; next }
		print $c["ForwDatagrams"] }' /proc/net/snmp
}

rx_of() {
	ip netns exec snk cat "/sys/class/net/$1/statistics/rx_packets"
}

rule_pkts() {
	xt_ns "$1" "$2" -t mangle -vxnL FORWARD | awk 'NR == 3 { print $1; exit } END { if (NR < 3) print 0 }'
}

# measure KIND VARIANT REP: one trafgen run of KIND (syn|ack) packets on
# the variant's path (VARIANT "direct" / "direct6": the generator-to-sink
# path).  Prints one BENCH line.
measure() {
	local kind=$1 var=$2 rep=$3 n p cfg out ns t0 t1 i0 i1 rx0 rx1 dir
	local fw0=0 fw1=0 lo0=0 lo1=0 sd0 sd1 hits=0 router=- fam
	if [[ $kind == syn ]]; then n=$NSYN; else n=$NACK; fi
	if [[ $var == direct* ]]; then
		p=$var RULE=
	else
		set_rule "$var" || { fail "$var: cannot install its rule"; return 1; }
		p=$PATH_ router=$ROUTER
	fi
	fam=${P_FAM[$p]}
	dir=direct
	((fam == 6)) && dir=direct6
	cfg=$(frame_cfg "$kind" "$p") || { fail "$kind $var: no frame"; return 1; }
	rx0=$(rx_of "${P_SINK[$p]}")
	sd0=$(softnet_drops)
	if [[ $router != - ]]; then
		fw0=$(ip_fwd "$router" "$fam")
		lo0=$(ipsecmss_col "$router" "$fam" lowered)
	fi
	read -r t0 i0 < <(cpu_ticks)
	out=$(ip netns exec gen trafgen -o "${P_DEV[$p]}" -i "$cfg" -n "$n" -t 0 -P 1 2>&1)
	read -r t1 i1 < <(cpu_ticks)
	ns=$(awk '/usec on CPU/ { printf "%d", $1 * 1e9 + $3 * 1e3 }' <<<"$out")
	rx1=$(rx_of "${P_SINK[$p]}")
	sd1=$(softnet_drops)
	if [[ $router != - ]]; then
		fw1=$(ip_fwd "$router" "$fam")
		lo1=$(ipsecmss_col "$router" "$fam" lowered)
		[[ -n $RULE ]] && hits=$(rule_pkts "$router" "$fam")
	fi
	if [[ -z $ns ]]; then
		fail "$kind $var: trafgen did not report its time"
		printf '%s\n' "$out" | tail -n 5 | sed 's/^/#   /'
		return 1
	fi
	echo "BENCH $kind rep=$rep var=$var n=$n ns=$ns busy=$((t1 - t0)) idle=$((i1 - i0)) rx=$((rx1 - rx0)) fwd=$((fw1 - fw0)) drops=$((sd1 - sd0)) hits=$hits lowered=$((lo1 - lo0)) dir=$dir"
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
		if [[ $kind == syn && $RULE == *IPSECMSS* ]]; then
			((lo1 - lo0 == n)) || fail "$kind $var rep $rep: IPSECMSS lowered $((lo1 - lo0)) of $n"
		fi
		if [[ $kind == ack ]]; then
			((lo1 - lo0 == 0)) || fail "$kind $var rep $rep: IPSECMSS touched an ACK"
		fi
	fi
}

# sink_syn VARIANT: one SYN through the variant, captured at the sink
# (the paths whose sink sees the TCP segment, not ESP); prints the probe's
# line.
sink_syn() {
	local var=$1 cfg pid
	set_rule "$var" || return 1
	cfg=$(frame_cfg syn "$PATH_") || return 1
	rm -f "$CFG/cap.ready"
	ip netns exec snk ipsecmss-probe recv-syn --iface "${P_SINK[$PATH_]}" --syn-only --count 1 \
		--timeout 10000 --ready "$CFG/cap.ready" > "$CFG/cap.out" 2>&1 &
	pid=$!
	busywait 5000 test -e "$CFG/cap.ready" >/dev/null
	ip netns exec gen trafgen -o "${P_DEV[$PATH_]}" -i "$cfg" -n 1 -t 0 -P 1 >/dev/null 2>&1
	wait $pid
	grep -m1 '^family=' "$CFG/cap.out"
}

# check_mss VARIANT EXPECTED: the SYN leaves the router with MSS EXPECTED
# and a good checksum.
check_mss() {
	local var=$1 want=$2 out p
	out=$(sink_syn "$var")
	echo "# $var: SYN at the sink: $out"
	if [[ $(ts_kv_ mss "$out") == "$want" && $(ts_kv_ csum "$out") == ok ]]; then
		pass "$var: the SYN leaves the router with MSS $want and a good checksum"
	else
		read -r _ p _ <<<"$(variant_line "$var")"
		router_diag "${P_NS[$p]}"
		fail "$var: the SYN leaves the router with MSS $want and a good checksum"
	fi
}

# router_diag NS: the router's non-zero drop and xfrm counters.
router_diag() {
	ip netns exec "$1" nstat -asz 2>/dev/null |
		awk '$2 != 0 && $1 ~ /Xfrm|Discard|NoRoute|InHdrErr|InAddrErr|Drop|Forw/' |
		sed 's/^/#   /'
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
# BENCH_PROF_N packets.  A function the kernel also calls outside the rule
# (xfrm_lookup, nf_route) is traced only below the rule's target function
# (set_graph_function; the target is traced too, its line ignored).  Under
# -icount shift=0 a nanosecond is an instruction; every duration carries
# the tracer's own entry/exit cost, which ipsecmss_mss_for_mtu (about 10
# instructions) calibrates.
TRACE=/sys/kernel/tracing
PROF_N=${BENCH_PROF_N:-1000}
# The 4-tunnel paths whose auto is broken down below its target.
PROF_MT=${BENCH_PROF_MT-m4i m4o mxi}

trace_init() {
	[[ -e $TRACE/current_tracer ]] || mount -t tracefs nodev $TRACE 2>/dev/null
	[[ -e $TRACE/current_tracer ]] || TRACE=/sys/kernel/debug/tracing
	[[ -e $TRACE/current_tracer ]] || return 1
	echo 0 > $TRACE/tracing_on
	echo nop > $TRACE/current_tracer
	echo 4096 > $TRACE/buffer_size_kb
	echo nofuncgraph-irqs > $TRACE/trace_options 2>/dev/null
	return 0
}

# prof KIND VARIANT FUNCTION [WITHIN]
prof() {
	local kind=$1 var=$2 fn=$3 within=${4:-} res cfg n med mean
	set_rule "$var" || return
	cfg=$(frame_cfg "$kind" "$PATH_") || return
	echo > $TRACE/trace
	echo > $TRACE/set_graph_function
	if ! echo "$fn" > $TRACE/set_ftrace_filter 2>/dev/null ||
	   { [[ -n $within ]] && ! { echo "$within" >> $TRACE/set_ftrace_filter &&
				     echo "$within" > $TRACE/set_graph_function; } 2>/dev/null; }; then
		echo > $TRACE/set_ftrace_filter
		echo > $TRACE/set_graph_function
		echo "BENCH prof kind=$kind var=$var fn=$fn calls=0 median=0 mean=0"
		return
	fi
	echo function_graph > $TRACE/current_tracer
	echo 1 > $TRACE/tracing_on
	ip netns exec gen trafgen -o "${P_DEV[$PATH_]}" -i "$cfg" -n "$PROF_N" -t 0 -P 1 >/dev/null 2>&1
	echo 0 > $TRACE/tracing_on
	res=$(awk -v fn="$fn" 'index($0, " " fn "(") || index($0, "|" fn "(") || index($0, fn " [") {
			for (i = 1; i <= NF; i++) if ($(i + 1) == "us") { d[++n] = $i * 1000; t += $i * 1000; break } }
		END { if (!n) { print 0, 0, 0; exit }
		      # median by insertion sort (n is small)
		      for (i = 2; i <= n; i++) { v = d[i]; for (j = i - 1; j >= 1 && d[j] > v; j--) d[j + 1] = d[j]; d[j + 1] = v }
		      printf "%d %d %.0f\n", n, d[int((n + 1) / 2)], t / n }' $TRACE/trace)
	echo nop > $TRACE/current_tracer
	echo > $TRACE/set_ftrace_filter
	echo > $TRACE/set_graph_function
	read -r n med mean <<<"$res"
	echo "BENCH prof kind=$kind var=$var fn=$fn calls=$n median=$med mean=$mean"
}

profile() {
	trace_init || { echo "# no tracefs: no profile"; return 0; }
	local f v tg
	for f in ipsecmss_tg4 ipsecmss_syn skb_ensure_writable inet_proto_csum_replace4; do
		prof syn ipsecmss-set $f
	done
	for f in tcpmss_tg4 tcp_mt skb_ensure_writable inet_proto_csum_replace4; do
		prof syn tcpmss-set $f
	done
	prof syn tcpmss-pmtu tcpmss_tg4
	prof syn ipsecmss-73 ipsecmss_tg4
	prof syn ipsecmss-73 ipsecmss_mss_for_mtu
	prof syn ipsecmss-73 nf_route ipsecmss_tg4
	prof syn tun-tcpmss-pmtu tcpmss_tg4
	prof syn tun-tcpmss-pmtu nf_route tcpmss_tg4
	prof syn tun-auto ipsecmss_tg4
	prof syn tun-auto ipsecmss_syn
	for f in nf_route xfrm_lookup; do
		prof syn tun-auto $f ipsecmss_tg4
	done
	# The 4-tunnel gateway: the targets, and below IPSECMSS the route and
	# xfrm lookups auto makes (xfrm_lookup_with_ifid: a route-based
	# tunnel's device lookup; xfrm_lookup calls it too, so it shows both).
	# Inside xfrm_lookup: the policy lookup (finding nothing, or the
	# reverse flow's policy) and the bundle built for a policy found.
	for p in $MT_PATHS; do
		tg=tcpmss_tg4
		((${P_FAM[$p]} == 6)) && tg=tcpmss_tg6
		prof syn "$p-tcpmss-pmtu" $tg
		prof syn "$p-tcpmss-pmtu" nf_route $tg
		tg=ipsecmss_tg4
		((${P_FAM[$p]} == 6)) && tg=ipsecmss_tg6
		prof syn "$p-auto" $tg
		[[ " $PROF_MT " == *" $p "* ]] || continue
		for f in nf_route xfrm_lookup xfrm_lookup_with_ifid xfrm_policy_lookup_bytype \
			 xfrm_resolve_and_create_bundle xfrm_bundle_create xfrm_state_find \
			 dst_release; do
			prof syn "$p-auto" $f $tg
		done
	done
	prof ack ipsecmss-set ipsecmss_tg4
	prof ack tcpmss-set tcp_mt
}

# ----------------------------------------------------------------- main --

setup || { fail "topology"; finish; }
echo "BENCH conf kind=syn reps=$REPS syns=$NSYN acks=$NACK suite=$SUITE kernel=$(uname -r)"
echo "BENCH conf cpus=$(nproc) cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo | tr ' ' '_')"
echo "BENCH conf clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
echo "BENCH conf mt_policies=$(ip -n rtm xfrm policy count 2>/dev/null | tr -s ' \n' '_')"
for v in "${VARIANTS[@]}"; do
	read -r name p rules <<<"$v"
	echo "BENCH rule $name $p: ${rules:-(no rule)}"
done

# The SYN layout is parsed and rewritten as intended.
check_mss none 1460
check_mss tcpmss-set 1344
check_mss tcpmss-pmtu 1360
check_mss ipsecmss-set 1344
check_mss ipsecmss-73 1287
# The crafted ESP of the paths leaving a tunnel is decapsulated and its SYN
# forwarded intact (checksum right) and clamped; what auto makes of it.
for p in $MT_PATHS; do
	[[ $p == *o ]] || continue
	if ((${P_FAM[$p]} == 6)); then mss=1440; else mss=1460; fi
	check_mss "$p-none" $mss
	check_mss "$p-ipsecmss-set" 1344
	echo "# $p-auto: SYN at the sink: $(sink_syn "$p-auto")"
done
((KSFT_FAILED)) && finish

# A warm-up of every path (caches, neighbour entries, slab).
measure syn direct 0 >/dev/null
measure syn direct6 0 >/dev/null
measure syn none 0 >/dev/null
measure syn tun-none 0 >/dev/null
for p in $MT_PATHS; do
	measure syn "$p-none" 0 >/dev/null
done

for ((rep = 1; rep <= REPS; rep++)); do
	measure syn direct $rep
	measure syn direct6 $rep
	for v in "${VARIANTS[@]}"; do
		measure syn "${v%% *}" $rep
	done
	measure ack direct $rep
	for v in $ACK_VARIANTS; do
		measure ack "$v" $rep
	done
done
((${BENCH_PROFILE:-1})) && profile
finish
