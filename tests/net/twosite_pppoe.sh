#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The seed's problem and fix over a real PPPoE WAN, as at the seed's site
# (NTT FLET'S: PPPoE, MTU 1454):
#
#   h1 ---- ra (pppd, rp-pppoe) ==== ppp0 over PPPoE on Ethernet ==== rb (pppoe-server) ---- h2
#   192.168.10.2   198.51.100.1      mtu/mru 1454, ESP tunnel (AES-CBC     198.51.100.2     192.168.20.2
#                                    + HMAC-SHA1-96) inside the session
#                  PMTU black hole: no "fragmentation needed" reaches a sender
#
#  1. Every PPP interface (both ends) reports MTU 1454.
#  2. MEASURE the largest inner packet crossing whole (DF pings h1 -> h2,
#     ppp0 watched): the same 1390 bytes (MSS 1350) as on the Ethernet WAN.
#  3. Without a clamp a transfer in each direction stalls (or crosses
#     fragmented: then it says so).
#  4. With the seed's rules on rb (-j IPSECMSS --set-mss 1344, each
#     direction), with iptables-legacy and then iptables-nft, both
#     transfers complete with matching checksums, no ESP packet on the WAN
#     is fragmented or larger than 1454 bytes, and the SYN and SYN/ACK
#     arrive announcing 1344.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "${IPSECMSS_LIB:-$HERE/lib.sh}"
. "$HERE/lib_twosite.sh"

BYTES=${PPPOE_BYTES:-262144}
STALL_BYTES=65536
STALL_MS=5000
SEED_MSS=1344

cleanup() { ts_teardown; }

# ppp_mtus: every PPP interface in ra and rb with its MTU ("ns/dev=mtu").
ppp_mtus() {
	local ns line dev mtu
	PPP_MTUS=() PPP_BAD=0
	for ns in "$TS_RA" "$TS_RB"; do
		while read -r line; do
			dev=${line#*: } dev=${dev%%[:@]*}
			[[ $line == *"link/ppp"* ]] || continue
			mtu=${line#* mtu } mtu=${mtu%% *}
			PPP_MTUS+=("$ns/$dev=$mtu")
			((mtu == TS_WAN_MTU)) || PPP_BAD=1
		done < <(ip -n "$ns" -o link show)
	done
}

# tcp_left NS: TCP sockets other than listeners left in NS.
tcp_left() {
	ts_nsx "$1" ss -tanH 2>/dev/null | grep -vc LISTEN
}

seed_rules() {
	local op=$1
	ts_ipt "$TS_RB" "$op" FORWARD -p tcp -s "$TS_LAN1_4" -d "$TS_LAN2_4" \
		-j IPSECMSS --set-mss $SEED_MSS &&
		ts_ipt "$TS_RB" "$op" FORWARD -p tcp -s "$TS_LAN2_4" -d "$TS_LAN1_4" \
			-j IPSECMSS --set-mss $SEED_MSS
}

seed_fix() {
	local fl=$1 m2 m1
	IPTABLES=iptables-$fl
	if ! seed_rules -A; then
		fail "pppoe $fl: add the seed's rules"
		return
	fi
	ts_syn_capture_start "$TS_H2" eth0 h2
	ts_syn_capture_start "$TS_H1" eth0 h1
	ts_watch_start
	ts_xfer_both "$TS_H1" "$TS_H2" "$TS_H2_4" "$BYTES" 60000
	ts_watch_stop
	m2=$(ts_syn_capture_mss h2)
	m1=$(ts_syn_capture_mss h1)
	seed_rules -D
	if ((TS_XFER_SEND_OK && TS_XFER_RECV_OK)); then
		pass "pppoe $fl: with --set-mss $SEED_MSS on rb both $BYTES-byte transfers complete, checksums match"
	else
		fail "pppoe $fl: with --set-mss $SEED_MSS on rb both transfers complete (h1 -> h2 ok=$TS_XFER_SEND_OK, h2 -> h1 ok=$TS_XFER_RECV_OK)"
	fi
	if ((TS_ESP > 0 && TS_FRAGS == 0 && TS_ESP_MAX_LEN <= TS_WAN_MTU)); then
		pass "pppoe $fl: no fragmented ESP on ppp0 ($TS_ESP ESP packets), largest $TS_ESP_MAX_LEN <= $TS_WAN_MTU"
	else
		fail "pppoe $fl: no fragmented ESP on ppp0 and ESP <= $TS_WAN_MTU (esp=$TS_ESP frags=$TS_FRAGS largest=$TS_ESP_MAX_LEN)"
	fi
	if [[ $m2 == "$SEED_MSS" && $m1 == "$SEED_MSS" ]]; then
		pass "pppoe $fl: h2 receives the SYN with MSS $m2, h1 the SYN/ACK with MSS $m1"
	else
		fail "pppoe $fl: h2 and h1 receive MSS $SEED_MSS (got ${m2:-nothing} / ${m1:-nothing})"
	fi
}

require_cmd ipsecmss-probe pppd pppoe-server pppoe
IPTABLES=iptables-legacy IP6TABLES=ip6tables-legacy
if ! ts_setup --suite aes-cbc-sha1 --wan pppoe --wan-mtu 1454; then
	fail "pppoe: topology (PPPoE session up, tunnel over ppp0)"
	finish
fi
pass "pppoe: the PPPoE session is up: ra ppp0 $TS_WAN_A4 <-> rb ppp0 $TS_WAN_B4"

ppp_mtus
if ((${#PPP_MTUS[@]} >= 2 && !PPP_BAD)); then
	pass "pppoe: every PPP interface reports MTU $TS_WAN_MTU: ${PPP_MTUS[*]}"
else
	fail "pppoe: every PPP interface reports MTU $TS_WAN_MTU (got: ${PPP_MTUS[*]:-none})"
fi

ts_watch_start
ts_measure_inner 4
ts_watch_stop
ts_esp_math aes-cbc-sha1 0 4 "$TS_WAN_MTU"
if ((TS_INNER_OK && TS_INNER_MAX == TS_EXACT_INNER && TS_FRAGS == 0 &&
     TS_ESP_MAX_LEN > 0 && TS_ESP_MAX_LEN <= TS_WAN_MTU)); then
	pass "pppoe: measured: the largest inner packet crossing whole is $TS_INNER_MAX bytes (exact $TS_EXACT_INNER) in $TS_ESP_MAX_LEN-byte ESP packets: MSS_max $((TS_INNER_MAX - 40))"
else
	fail "pppoe: the largest inner packet crossing whole is $TS_EXACT_INNER (got $TS_INNER_MAX, consistent=$TS_INNER_OK, ESP max $TS_ESP_MAX_LEN, fragments $TS_FRAGS)"
fi

# Baseline: no clamp.
ts_watch_start
ts_xfer_both "$TS_H1" "$TS_H2" "$TS_H2_4" $STALL_BYTES $STALL_MS
ts_watch_stop
if ((!TS_XFER_SEND_OK && !TS_XFER_RECV_OK && TS_FRAGS == 0)); then
	pass "pppoe baseline: without a clamp both transfers stall (no fragmented ESP on ppp0, largest packet $TS_MAX_LEN)"
elif ((TS_FRAGS > 0)); then
	pass "pppoe baseline: without a clamp the transfers cross as fragmented ESP ($TS_FRAGS fragments)"
else
	fail "pppoe baseline: without a clamp the transfers should stall or fragment (h1 -> h2 ok=$TS_XFER_SEND_OK h2 -> h1 ok=$TS_XFER_RECV_OK frags=$TS_FRAGS)"
fi
# The stalled sockets were aborted with a reset; rebuild if one is left.
left=$(( $(tcp_left "$TS_H1") + $(tcp_left "$TS_H2") ))
if ((left)); then
	echo "# $left TCP sockets left from the stalled transfers: new topology"
	ts_teardown
	ts_setup --suite aes-cbc-sha1 --wan pppoe --wan-mtu 1454 ||
		{ fail "pppoe: topology (again)"; finish; }
fi

seed_fix legacy
seed_fix nft
ts_teardown
finish
