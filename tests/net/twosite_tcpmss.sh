#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The built-in TCPMSS --clamp-mss-to-pmtu against IPSECMSS auto, on the
# seed's topology, rules on rb only:
#
#   h1 ---- ra ====== WAN wan0, MTU 1454, ESP tunnel (AES-CBC + HMAC-SHA1-96) ====== rb ---- h2
#   192.168.10.2                                                                      192.168.20.2
#                    PMTU black hole: no "fragmentation needed" reaches a sender
#
# At rb a SYN or SYN/ACK either goes INTO the tunnel (toward h1: its route
# is the xfrm bundle, whose MTU is the exact inner MTU) or comes OUT of it
# (toward h2: a plain LAN route; TCPMSS's reverse lookup toward the sender
# has no protocol in the flow, so no xfrm, and sees the WAN's 1454).  The
# MSS announced on the way out of the tunnel is what h2 uses to send into
# it.
#  1. MEASURE the largest inner packet crossing whole (DF pings): MSS_max;
#     the exact value from `ipsecmss calc` (or the formula) agrees.
#  2. rb# iptables -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
#     a connection h1 -> h2 and one h2 -> h1, each moving data both ways:
#     what h2 and h1 see, and which transfers complete.  Observed (6.1 and
#     6.12): h2 sees 1454 - 40 = 1414 > MSS_max, so everything h2 sends
#     stalls; h1 sees the exact value and what it sends arrives.
#  3. rb# iptables -A FORWARD -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead auto
#     the same two connections: both ends see the exact MSS, all four
#     transfers complete, no fragment.
# TCPMSS runs with iptables-legacy, IPSECMSS with iptables-nft.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "${IPSECMSS_LIB:-$HERE/lib.sh}"
. "$HERE/lib_twosite.sh"

SUITE=aes-cbc-sha1
BYTES=65536
STALL_MS=5000
CLI=${IPSECMSS_CLI:-ipsecmss}

cleanup() { ts_teardown; }

# conn TAG CLIENT SERVER ADDR: one pair of transfers (the client sends and
# receives) with the SYN captured at the server and the SYN/ACK at the
# client; sets SYN_MSS, SYNACK_MSS, C2S_OK (the client's data arrived),
# S2C_OK, and the WAN counters.
conn() {
	local tag=$1 cns=$2 sns=$3 addr=$4 tmo=$5
	ts_syn_capture_start "$sns" eth0 srv
	ts_syn_capture_start "$cns" eth0 cli
	ts_watch_start
	ts_xfer_both "$cns" "$sns" "$addr" $BYTES "$tmo"
	ts_watch_stop
	SYN_MSS=$(ts_syn_capture_mss srv)
	SYNACK_MSS=$(ts_syn_capture_mss cli)
	C2S_OK=$TS_XFER_SEND_OK S2C_OK=$TS_XFER_RECV_OK
	echo "# $tag: SYN at the server MSS ${SYN_MSS:-none}, SYN/ACK at the client MSS ${SYNACK_MSS:-none}, client's data ok=$C2S_OK, server's data ok=$S2C_OK"
}

require_cmd ipsecmss-probe
ts_esp_math $SUITE 0 4 1454
EXACT=$((TS_EXACT_INNER - 40)) SRC=formula
if command -v "$CLI" >/dev/null; then
	read -r -a args <<<"$(ts_calc_args $SUITE)"
	c=$(ts_kv mss4 "$("$CLI" calc --mtu 1454 "${args[@]}" --porcelain 2>&1)")
	if [[ $c == "$EXACT" ]]; then
		SRC="ipsecmss calc"
	else
		fail "ipsecmss calc mss4 ${c:-?} equals the formula's $EXACT"
	fi
fi

# --- TCPMSS ---
IPTABLES=iptables-legacy IP6TABLES=ip6tables-legacy
ts_setup --suite $SUITE || { fail "topology"; finish; }
ts_watch_start
ts_measure_inner 4
ts_watch_stop
MSSMAX=$((TS_INNER_MAX - 40))
if ((TS_INNER_OK && TS_FRAGS == 0 && MSSMAX == EXACT)); then
	pass "measured: the largest inner packet crossing whole is $TS_INNER_MAX bytes (ESP $TS_ESP_MAX_LEN): MSS_max $MSSMAX = exact $EXACT ($SRC)"
else
	fail "measured MSS_max $MSSMAX (consistent=$TS_INNER_OK, fragments $TS_FRAGS) equals exact $EXACT"
fi
OUT=$((TS_WAN_MTU - 40))
ts_ipt "$TS_RB" -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu ||
	fail "add the TCPMSS rule"

conn "TCPMSS, h1 -> h2" "$TS_H1" "$TS_H2" "$TS_H2_4" $STALL_MS
a_h2=$SYN_MSS a_h1=$SYNACK_MSS a_h1data=$C2S_OK a_h2data=$S2C_OK a_frags=$TS_FRAGS
conn "TCPMSS, h2 -> h1" "$TS_H2" "$TS_H1" "$TS_H1_4" $STALL_MS
b_h1=$SYN_MSS b_h2=$SYNACK_MSS b_h2data=$C2S_OK b_h1data=$S2C_OK b_frags=$TS_FRAGS

# The leg out of the tunnel (what h2 is told): the reverse route's 1454 - 40.
if [[ $a_h2 == "$OUT" && $b_h2 == "$OUT" ]] && ((OUT > MSSMAX)); then
	pass "TCPMSS on the leg out of the tunnel: h2 sees $a_h2 (SYN) and $b_h2 (SYN/ACK) = $TS_WAN_MTU - 40 > MSS_max $MSSMAX (exact $EXACT)"
else
	fail "TCPMSS on the leg out of the tunnel: h2 sees $OUT > MSS_max $MSSMAX (got ${a_h2:-none} / ${b_h2:-none})"
fi
if ((!a_h2data && !b_h2data && a_frags == 0 && b_frags == 0)); then
	pass "TCPMSS: so what h2 sends stalls (h1 -> h2 connection: h2's data lost; h2 -> h1 connection: h2's data lost), no fragment on the WAN"
else
	fail "TCPMSS: what h2 sends with MSS $OUT stalls (ok=$a_h2data/$b_h2data, fragments $a_frags/$b_frags)"
fi
# The leg into the tunnel (what h1 is told): the bundle's MTU, exact.
if [[ $a_h1 == "$EXACT" && $b_h1 == "$EXACT" ]] && ((a_h1data && b_h1data)); then
	pass "TCPMSS on the leg into the tunnel: h1 sees $a_h1 (SYN/ACK) and $b_h1 (SYN) = exact $EXACT, and what h1 sends arrives on both connections"
else
	fail "TCPMSS on the leg into the tunnel: h1 sees exact $EXACT and its data arrives (got ${a_h1:-none} / ${b_h1:-none}, ok=$a_h1data/$b_h1data)"
fi
ts_teardown	# stalled sockets: start afresh (vm-notes)

# --- IPSECMSS auto on the same legs ---
IPTABLES=iptables-nft IP6TABLES=ip6tables-nft
ts_setup --suite $SUITE || { fail "topology"; finish; }
ts_ipt "$TS_RB" -A FORWARD -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead auto ||
	fail "add the IPSECMSS rule"
conn "IPSECMSS auto, h1 -> h2" "$TS_H1" "$TS_H2" "$TS_H2_4" 15000
a_h2=$SYN_MSS a_h1=$SYNACK_MSS a_ok=$((C2S_OK && S2C_OK)) a_frags=$TS_FRAGS a_esp=$TS_ESP_MAX_LEN
conn "IPSECMSS auto, h2 -> h1" "$TS_H2" "$TS_H1" "$TS_H1_4" 15000
b_h1=$SYN_MSS b_h2=$SYNACK_MSS b_ok=$((C2S_OK && S2C_OK)) b_frags=$TS_FRAGS b_esp=$TS_ESP_MAX_LEN
if [[ $a_h2 == "$EXACT" && $b_h2 == "$EXACT" ]]; then
	pass "IPSECMSS auto on the leg out of the tunnel: h2 sees $a_h2 (SYN) and $b_h2 (SYN/ACK) = exact $EXACT = MSS_max $MSSMAX"
else
	fail "IPSECMSS auto on the leg out of the tunnel: h2 sees exact $EXACT (got ${a_h2:-none} / ${b_h2:-none})"
fi
if [[ $a_h1 == "$EXACT" && $b_h1 == "$EXACT" ]]; then
	pass "IPSECMSS auto on the leg into the tunnel: h1 sees $a_h1 (SYN/ACK) and $b_h1 (SYN) = exact $EXACT"
else
	fail "IPSECMSS auto on the leg into the tunnel: h1 sees exact $EXACT (got ${a_h1:-none} / ${b_h1:-none})"
fi
if ((a_ok && b_ok && a_frags == 0 && b_frags == 0 && a_esp <= TS_WAN_MTU && b_esp <= TS_WAN_MTU)); then
	pass "IPSECMSS auto: all four transfers complete (both connections, both ways), no fragment, largest ESP $a_esp / $b_esp <= $TS_WAN_MTU"
else
	fail "IPSECMSS auto: all four transfers complete with no fragment (ok=$a_ok/$b_ok, fragments $a_frags/$b_frags, ESP max $a_esp/$b_esp)"
fi
ts_teardown
finish
