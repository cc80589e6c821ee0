#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make demo`: the seed's problem and its fix, told for a newcomer.
# Runs inside the throwaway VM.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "${IPSECMSS_LIB:-$HERE/lib.sh}"
. "$HERE/lib_twosite.sh"

BYTES=2000000
cleanup() { ts_teardown; }

say() { echo "demo: $*"; }

# run_case TITLE RULE...: fresh topology, rule pair on router B, transfer.
run_case() {
	local title=$1 mss_h2 mss_h1 up down
	shift
	ts_setup --suite aes-cbc-sha1 --wan-mtu 1454 || { fail "topology"; return; }
	if (($#)); then
		ipt_ns "$TS_RB" -A FORWARD -p tcp "$@"
	fi
	ts_syn_capture_start "$TS_H2" eth0 h2
	ts_syn_capture_start "$TS_H1" eth0 h1
	ts_watch_start
	ts_xfer "$TS_H1" "$TS_H2" "$TS_H2_4" $BYTES send 8000 >/dev/null
	up=$?
	local up_ms up_bytes
	up_ms=$(ts_kv elapsed_ms "$TS_XFER") up_bytes=$(ts_kv bytes "$TS_XFER")
	ts_xfer "$TS_H1" "$TS_H2" "$TS_H2_4" $BYTES recv 8000 >/dev/null
	down=$?
	ts_watch_stop >/dev/null
	mss_h2=$(ts_syn_capture_mss h2)
	mss_h1=$(ts_syn_capture_mss h1)
	say ""
	say "$title"
	say "   MSS announced: h1 -> h2 ${mss_h2:-?}, h2 -> h1 ${mss_h1:-?} (the hosts announce 1460)"
	if ((up == 0 && down == 0)); then
		say "   2 MB upload:   completed in $up_ms ms, checksums match"
		say "   2 MB download: completed in $(ts_kv elapsed_ms "$TS_XFER") ms, checksums match"
	else
		say "   2 MB upload:   STALLED ($up_bytes bytes acknowledged after 8 s)"
		say "   2 MB download: $( ((down == 0)) && echo completed || echo STALLED)"
	fi
	say "   WAN: $TS_ESP ESP packets, largest $TS_ESP_MAX_LEN bytes (MTU 1454), $TS_FRAGS fragments"
	DEMO_UP=$up DEMO_DOWN=$down
	ts_teardown
}

require_cmd ipsecmss-probe
say "Two sites joined by an ESP tunnel (AES-CBC + HMAC-SHA1-96) over a PPPoE-sized"
say "WAN (MTU 1454); ICMP 'fragmentation needed' is filtered, as on many real paths:"
say "  h1 192.168.10.2 -- router A ==== WAN 1454 ==== router B -- h2 192.168.20.2"

run_case "1. No rule: full-size 1500-byte packets no longer fit once wrapped in ESP."
((DEMO_UP != 0 && DEMO_DOWN != 0)) && pass "without a rule the transfers stall" ||
	fail "without a rule the transfers stall"

run_case "2. The seed's rule on router B: -j IPSECMSS --set-mss 1344 (found by trial and error)" \
	-j IPSECMSS --set-mss 1344
((DEMO_UP == 0 && DEMO_DOWN == 0)) && pass "--set-mss 1344: both transfers complete" ||
	fail "--set-mss 1344: both transfers complete"

run_case "3. The exact value from the SA itself: -j IPSECMSS --clamp-to-pmtu-minus-overhead auto" \
	-j IPSECMSS --clamp-to-pmtu-minus-overhead auto
((DEMO_UP == 0 && DEMO_DOWN == 0)) && pass "auto: both transfers complete" ||
	fail "auto: both transfers complete"
say ""
say "auto finds the largest MSS whose segments still fit the 1454-byte WAN after ESP;"
say "no trial and error, and it follows the SA if the cipher or NAT-T changes."
finish
