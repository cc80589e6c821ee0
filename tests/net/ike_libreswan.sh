#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The SAs from real IKE daemons: libreswan's pluto on both routers (one
# daemon per router namespace, each with its own ipsec.conf,
# ipsec.secrets, NSS database, pid file and control socket; see
# lib_ike.sh), IKEv2 with a PSK and pluto's default proposals, a
# tunnel between the IPv4 LANs: policy-based, then route-based with
# pluto's own XFRM interface (ipsec-interface=1, MTU 1500 over a 1454-byte
# WAN), each on a fresh topology.  Every expected value is MEASURED in
# this run.
#
#   h1 ---- ra (pluto) ==== WAN wan0 (MTU 1454), ESP tunnel ==== rb (pluto) ---- h2
#   192.168.10.2  198.51.100.1   PMTU black hole        198.51.100.2    192.168.20.2
#                                                    (the rules)
#
# rb's FORWARD holds the project's recommended rule pair
#   iptables  -A FORWARD -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead auto
#   ip6tables -A FORWARD -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead auto
# (and, for ports 7000-8999 only, the --set-mss probes that measure).
#
# MEASURE the largest inner IPv4 packet that crosses (DF pings), M = P - 40;
# CONFIRM through --set-mss that M crosses whole and M + 1 does not; then
# through auto, connections h1 -> h2 and h2 -> h1: both transfers
# complete, nothing is fragmented on the WAN, and every SYN and SYN/ACK
# copy captured at h1 and h2 (retransmissions included) carries exactly M.
# In the route-based case, before those connections: rb has learned no
# PMTU towards h1 or h2 (the measuring must not have made auto's job easy).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "${IPSECMSS_LIB:-$HERE/lib.sh}"
. "$HERE/lib_twosite.sh"
. "$HERE/lib_ike.sh"

XFER_BYTES=200000

cleanup() {
	ike_stop
	ts_teardown
	rm -rf "$IKE_DIR"
}

# routed_into DEV: ra routes h2, and rb routes h1, into DEV.
routed_into() {
	[[ $(ip -n "$TS_RA" route get "$TS_H2_4" 2>&1) == *" dev $1 "* ]] &&
		[[ $(ip -n "$TS_RB" route get "$TS_H1_4" 2>&1) == *" dev $1 "* ]]
}

# one NAME [ROUTE_BASED]: a fresh topology, the rules in rb, the tunnel,
# then measure, confirm and the auto connections.  ROUTE_BASED=1: pluto's
# ipsec1 carries the LANs (no WAN route to them; wait for pluto's routes),
# and before the auto connections, prove that rb learned no PMTU from the
# measuring (a tunnel device records one for a packet it refuses).
one() {
	local name=$1 routes=${2:-0} t0
	t0=$(now_ms)
	ike_stop
	ts_setup --no-tunnel --wan-mtu 1454 || { fail "$name: topology"; return 1; }
	ike_rules || { fail "$name: rb's rules"; return 1; }
	if ((routes)); then
		# pluto routes the far LAN into its device: no route to it
		# before, so nothing can cross in the clear meanwhile.
		if ! { ip -n "$TS_RA" route del "$TS_LAN2_4" && ip -n "$TS_RB" route del "$TS_LAN1_4"; }; then
			fail "$name: remove the WAN routes"
			return 1
		fi
	fi
	if ike_lsw_up && { ((!routes)) || busywait "$IKE_UP_MS" routed_into ipsec1 >/dev/null; }; then
		pass "$name: pluto in ra and rb negotiated the tunnel ($(ike_sa_count "$TS_RA") SAs in ra, $(ike_sa_count "$TS_RB") in rb)"
	else
		fail "$name: pluto did not bring the tunnel up"
		ike_logs "$TS_RA" "$TS_RB"
		return 1
	fi
	ip -n "$TS_RB" xfrm state | grep -E '^src|proto esp|enc |auth|aead|encap|if_id' | sed 's/^/#   rb: /'
	echo "# $name: up in $(($(now_ms) - t0)) ms"
	if ike_measure "$name" 4; then
		echo "# $name: measured P4=$IKE_P4 -> M4=$IKE_M4"
		ike_confirm "$name" 4
		((routes)) &&
			check "$name: rb has learned no PMTU towards h1 or h2 (auto must find the size itself)" \
				no_pmtu_exception "$TS_RB" "$TS_H1_4" "$TS_H2_4"
		ike_auto_conns "$name" "$XFER_BYTES" 4
	fi
	echo "# $name: done in $(($(now_ms) - t0)) ms"
}

main() {
	require_cmd ipsecmss-probe certutil "$IKE_PLUTO" "$IKE_WHACK"
	[[ -e /proc/net/stat/ipsecmss ]] || modprobe xt_IPSECMSS 2>/dev/null
	echo "# libreswan: $("$IKE_PLUTO" --version 2>&1 | head -n1)"
	IKE_NATT=0
	one "libreswan policy-based"
	# pluto makes ipsec1 (type xfrm, if_id 1, on wan0, MTU 1500) and
	# routes the far LAN into it when the SA is up.
	IKE_LSW_EXTRA=ipsec-interface=1
	if one "libreswan ipsec-interface=1 (XFRM interface, MTU 1500, WAN 1454)" 1; then
		ip -n "$TS_RB" -o link show dev ipsec1 | sed 's/^/#   rb: /'
		ip -n "$TS_RB" route | sed 's/^/#   rb: /'
	fi
	IKE_LSW_EXTRA=
	ike_stop
	ts_teardown
	finish
}

[[ ${BASH_SOURCE[0]} == "$0" ]] && main
