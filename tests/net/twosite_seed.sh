#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The seed's problem and the seed's fix, on the seed's topology:
#
#   h1 ---- ra ====== WAN, MTU 1454, ESP tunnel (AES-CBC + HMAC-SHA1-96) ====== rb ---- h2
#   192.168.10.0/24                                                  192.168.20.0/24
#
# with a PMTU black hole (no "fragmentation needed" reaches a sender).
#  1. Without a clamp a 2 MB transfer in each direction stalls: the routers
#     refuse the 1500-byte DF packets before encapsulation and the ICMP
#     that would tell the sender is lost.
#  2. With the seed's rules on rb (-j IPSECMSS --set-mss 1344, both
#     directions) both transfers complete with matching checksums, no ESP
#     packet on the WAN is fragmented or larger than 1454 bytes, the
#     SYN and SYN/ACK arrive announcing 1344, and rb's counters moved by
#     exactly 2 SYNs + 2 lowered per connection, nothing for the data.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "${IPSECMSS_LIB:-$HERE/lib.sh}"
. "$HERE/lib_twosite.sh"

BYTES=2000000
SEED_MSS=1344

cleanup() { ts_teardown; }

# Both transfers at once (two connections from h1): a stall costs one
# timeout, not two.
run_both_ways() {
	ts_xfer_both "$TS_H1" "$TS_H2" "$TS_H2_4" $BYTES "$1"
}

baseline() {
	ts_setup --suite aes-cbc-sha1 --wan-mtu 1454 || { fail "baseline: topology"; return; }
	check "baseline: small packets cross the tunnel (ping)" \
		ip netns exec "$TS_H1" ping -c1 -W2 -s 100 "$TS_H2_4"
	ts_watch_start
	run_both_ways 4000
	local up=$((!TS_XFER_SEND_OK)) down=$((!TS_XFER_RECV_OK))
	ts_watch_stop
	# What this kernel does: it refuses the DF packets before encapsulation,
	# so the transfer stalls and nothing fragmented ever reaches the WAN.
	if ((up != 0 && down != 0 && TS_FRAGS == 0)); then
		pass "baseline: without a clamp both transfers stall (no fragmented ESP on the WAN, largest packet $TS_MAX_LEN)"
	elif ((TS_FRAGS > 0)); then
		pass "baseline: without a clamp the transfers cross as fragmented ESP ($TS_FRAGS fragments)"
	else
		fail "baseline: without a clamp the transfers should stall or fragment (up=$up down=$down frags=$TS_FRAGS)"
	fi
	ts_teardown
}

seed_fix() {
	local mss_h2 mss_h1 ok
	local -A before after
	ts_setup --suite aes-cbc-sha1 --wan-mtu 1454 || { fail "seed: topology"; return; }
	ipt_ns "$TS_RB" -A FORWARD -p tcp -s "$TS_LAN1_4" -d "$TS_LAN2_4" \
		-j IPSECMSS --set-mss $SEED_MSS
	ipt_ns "$TS_RB" -A FORWARD -p tcp -s "$TS_LAN2_4" -d "$TS_LAN1_4" \
		-j IPSECMSS --set-mss $SEED_MSS
	ts_syn_capture_start "$TS_H2" eth0 h2
	ts_syn_capture_start "$TS_H1" eth0 h1
	ts_stats "$TS_RB" before
	ts_watch_start
	run_both_ways 30000
	ok=$?
	ts_watch_stop
	ts_stats "$TS_RB" after
	mss_h2=$(ts_syn_capture_mss h2)
	mss_h1=$(ts_syn_capture_mss h1)
	((ok == 0)) && pass "seed: with --set-mss $SEED_MSS on rb both 2 MB transfers complete, checksums match" ||
		fail "seed: with --set-mss $SEED_MSS on rb both 2 MB transfers complete"
	((TS_ESP > 0 && TS_FRAGS == 0)) && pass "seed: no fragmented ESP on the WAN ($TS_ESP ESP packets)" ||
		fail "seed: no fragmented ESP on the WAN (esp=$TS_ESP frags=$TS_FRAGS)"
	((TS_ESP_MAX_LEN > 0 && TS_ESP_MAX_LEN <= TS_WAN_MTU)) &&
		pass "seed: largest ESP packet $TS_ESP_MAX_LEN <= $TS_WAN_MTU" ||
		fail "seed: largest ESP packet $TS_ESP_MAX_LEN <= $TS_WAN_MTU"
	[[ $mss_h2 == "$SEED_MSS" ]] && pass "seed: h2 receives the SYN with MSS $mss_h2" ||
		fail "seed: h2 receives the SYN with MSS $SEED_MSS (got ${mss_h2:-nothing})"
	[[ $mss_h1 == "$SEED_MSS" ]] && pass "seed: h1 receives the SYN/ACK with MSS $mss_h1" ||
		fail "seed: h1 receives the SYN/ACK with MSS $SEED_MSS (got ${mss_h1:-nothing})"
	# Two connections, each a SYN and a SYN/ACK lowered on rb; the 4 MB of
	# segments after them move nothing.
	ipsecmss_deltas before after "ipv4.syn=4 ipv4.lowered=4"
	[[ -z $REPLY ]] &&
		pass "seed: rb's counters: syn +4, lowered +4, nothing else" ||
		fail "seed: rb's counters: $REPLY"
	ts_teardown
}

require_cmd ipsecmss-probe socat
baseline
seed_fix
finish
