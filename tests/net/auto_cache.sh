#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# auto's per-CPU cache of routes and xfrm bundles (kernel/ipsecmss_cache.c):
# a SYN between hosts seen before takes its legs from the cache, and every
# change that the kernel's own lookups would see reaches the very next SYN.
#
#   h1 ---- ra ====== WAN, ESP tunnel (lib_twosite.sh) ====== rb ---- h2
#
# rb's FORWARD holds the auto rule pair.  SYNs are crafted in h1 and h2
# (MSS 1460 / 1440 offered, a new source port each) and captured where
# they arrive.  "in": h1 -> h2, leaving the tunnel at rb (its way back is
# the tunnel: a cached bundle); "out": h2 -> h1, entering it (its way back
# is the LAN: a cached route).  Every expected MSS is measured in the run
# (auto_exact.sh's measure: pings through ra, WAN watched).  Steps:
#  1. warm: every SYN carries the measured M, and rb's cache_hit counter
#     moves (the first SYN of a way looks up, the next ones hit);
#  2. the WAN MTU lowered on both routers: measured again, and the next
#     SYNs carry the new M (the bundle's MTU follows its outer route);
#  3. the SAs replaced by another suite, the WAN MTU kept (no route
#     changes): the cached bundles' SAs are dead, the next SYNs carry the
#     new suite's measured M;
#  4. rb's outbound IPv4 policy replaced by one with "action block": the
#     next SYN h1 -> h2 (IPv4) is left alone (no_sa, MSS as sent) although
#     its way back was cached; IPv6 keeps M from the cache.  Restored: M;
#  5. an outbound IPv4 policy that selects a port (matching no flow here):
#     IPv4 SYNs no longer use the cache (neither cache_hit nor cache_miss
#     moves) and still carry M; IPv6 does.  Deleted: the cache is used
#     again within a second or two.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=auto_exact.sh
. "$HERE/auto_exact.sh"

SPORT=30000

# syn_batch N FAM WAY WANT: N SYNs of family FAM (4|6), WAY in|out; each
# must arrive carrying WANT.  Sets BAD (what differed), HIT and MISS (the
# movement of rb's cache counters for FAM), NOSA.
syn_batch() {
	local n=$1 fam=$2 way=$3 want=$4 i from to src dst offer got
	if [[ $way == in ]]; then
		from=$TS_H1 to=$TS_H2
	else
		from=$TS_H2 to=$TS_H1
	fi
	src=$TS_H1_4 dst=$TS_H2_4 offer=05b4
	((fam == 6)) && src=$TS_H1_6 dst=$TS_H2_6 offer=05a0
	[[ $way == out ]] && { local t=$src; src=$dst dst=$t; }
	BAD=()
	read_stats before
	for ((i = 0; i < n; i++)); do
		PORT=$((PORT + 1)) SPORT=$((SPORT + 1))
		ts_syn_capture_start "$to" eth0 c $PORT 3000
		ts_nsx "$from" "$TS_PROBE" syn --src "$src" --dst "$dst" \
			--sport $SPORT --dport $PORT --opts "0204$offer" >/dev/null
		got=$(ts_syn_capture_mss c)
		[[ $got == "$want" ]] || BAD+=("SYN $((i + 1)): ${got:-none}")
	done
	read_stats after
	HIT=$(delta "ipv$fam" cache_hit) MISS=$(delta "ipv$fam" cache_miss)
	NOSA=$(delta "ipv$fam" no_sa)
}

# ways NAME FAM WANT [N]: syn_batch both ways; pass when every SYN carries
# WANT.  Sets HITS, MISSES (both ways together).
ways() {
	local name=$1 fam=$2 want=$3 n=${4:-4} way bad=()
	HITS=0 MISSES=0
	for way in in out; do
		syn_batch "$n" "$fam" $way "$want"
		((${#BAD[@]})) && bad+=("$way: ${BAD[*]}")
		HITS=$((HITS + HIT)) MISSES=$((MISSES + MISS))
	done
	if ((${#bad[@]} == 0)); then
		pass "$name: IPv$fam: $n SYNs each way carry $want (cache: $HITS hits, $MISSES misses)"
	else
		fail "$name: IPv$fam: want $want: ${bad[*]}"
	fi
}

# used NAME FAM: the cache answered during the last ways().
used() {
	local name=$1 fam=$2
	if ((HITS > 0)); then
		pass "$name: IPv$fam: the cache answered ($HITS hits)"
	else
		fail "$name: IPv$fam: the cache never answered ($HITS hits, $MISSES misses)"
	fi
}

# measured NAME MTU: measure P through the tunnel over a WAN of MTU; sets
# M4 M6.
measured() {
	local name=$1 mtu=$2
	measure "$name" $((mtu - 100)) $((mtu - 40)) "$mtu" || return 1
	M4=$((P - 40)) M6=$((P - 60))
	echo "# $name: measured P=$P -> M4=$M4 M6=$M6"
}

rules() {
	local ipt
	for ipt in "$IPTABLES" "$IP6TABLES"; do
		ts_nsx "$TS_RB" "$ipt" -A FORWARD -p tcp \
			-j IPSECMSS --clamp-to-pmtu-minus-overhead auto || return
	done
}

# both NAME: both families, both ways, the cache answering.
both() {
	local name=$1
	ways "$name" 4 "$M4"; used "$name" 4
	ways "$name" 6 "$M6"; used "$name" 6
}

step_mtu() {
	local name="WAN MTU 1454 -> 1400"
	ip -n "$TS_RA" link set "$TS_WAN_IF" mtu 1400 &&
		ip -n "$TS_RB" link set "$TS_WAN_IF" mtu 1400 ||
		{ fail "$name: set the MTU"; return; }
	TS_WAN_MTU=1400
	measured "$name" 1400 || return
	both "$name"
}

step_suite() {
	local name="SAs replaced by aes-gcm-16"
	ts_retune --suite aes-gcm-16 --wan-mtu 1400 || { fail "$name: SAs"; return; }
	measured "$name" 1400 || return
	both "$name"
}

step_block() {
	local name="rb's outbound IPv4 policy blocks" pol
	pol="src $TS_LAN2_4 dst $TS_LAN1_4 dir out"
	ip -n "$TS_RB" xfrm policy update $pol action block ||
		{ fail "$name: replace the policy"; return; }
	syn_batch 2 4 in 1460
	if ((${#BAD[@]} == 0 && NOSA == 2)); then
		pass "$name: SYNs h1 -> h2 left alone (MSS 1460 as sent, no_sa +$NOSA): the cached way back was not used"
	else
		fail "$name: SYNs h1 -> h2: ${BAD[*]:-MSS 1460 as sent}, no_sa +$NOSA (want +2)"
	fi
	ways "$name" 6 "$M6"; used "$name" 6
	ip -n "$TS_RB" xfrm policy update $pol \
		tmpl src "$TS_WAN_B4" dst "$TS_WAN_A4" proto esp mode tunnel reqid 2 ||
		{ fail "$name: restore the policy"; return; }
	ways "$name, restored" 4 "$M4"; used "$name, restored" 4
}

step_ports() {
	local name="an outbound IPv4 policy selecting a port" pol
	pol="src 10.99.0.0/24 dst 10.98.0.0/24 proto tcp dport 5555 dir out"
	ip -n "$TS_RB" xfrm policy add $pol || { fail "$name: add it"; return; }
	ways "$name" 4 "$M4"
	if ((HITS + MISSES == 0)); then
		pass "$name: IPv4 SYNs did not use the cache (no hit, no miss)"
	else
		fail "$name: IPv4 SYNs used the cache: $HITS hits, $MISSES misses"
	fi
	ways "$name" 6 "$M6"; used "$name" 6
	ip -n "$TS_RB" xfrm policy delete $pol || { fail "$name: delete it"; return; }
	sleep 1.2
	ways "$name, deleted" 4 "$M4"; used "$name, deleted" 4
}

main() {
	require_cmd ipsecmss-probe ping
	[[ -e /proc/net/stat/ipsecmss ]] || modprobe xt_IPSECMSS 2>/dev/null
	ts_setup --suite aes-cbc-sha1 --wan-mtu 1454 || { fail "two-site topology"; finish; }
	ts_ns_pid "$TS_RA"; RA_PID=$TS_NS_PID
	rules || { fail "rb's rules"; finish; }
	ts_stats "$TS_RB" ST_before && [[ -n ${ST_before[ipv4.cache_hit]+x} ]] ||
		{ fail "rb's counters have no cache_hit"; finish; }
	measured "warm" 1454 || finish
	both "warm"
	step_mtu
	step_suite
	step_block
	step_ports
	ts_teardown
	finish
}

main
