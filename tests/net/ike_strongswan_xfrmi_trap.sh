#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The SAs from strongSwan's charon on both routers (swanctl/vici, one
# daemon per router namespace with its own configuration, pid file and
# vici socket; see lib_ike.sh), in the setups where auto must repeat the
# kernel's own lookup: an XFRM interface, and an on-demand tunnel whose
# first SYN arrives before its SA.  Every expected value is MEASURED in
# this run; topology, rules and checks as in ike_strongswan.sh (whose
# functions this sources).
#
#   h1 ---- ra (charon) ==== WAN wan0 (MTU 1454), ESP tunnel ==== rb (charon) ---- h2
#
# Cases, each on a fresh topology with fresh daemons (AES-CBC +
# HMAC-SHA1-96, both inner families in one CHILD_SA):
#  1. route-based: an XFRM interface ipsec0 (if_id 42) in each router, its
#     MTU left at 1500, the far LANs routed into it, the child with
#     if_id_in/if_id_out 42, charon's install_routes off; the rules in rb.
#     MEASURE and CONFIRM M as in ike_strongswan.sh; rb is shown to have
#     learned no PMTU towards h1 or h2 (the measuring's refused packets
#     only crossed ra's ipsec0), then the auto connections both ways: no
#     fragment, every SYN and SYN/ACK copy exactly M.
#  2. and 3. on demand: start_action = trap in both routers,
#     net.core.xfrm_larval_drop 1, then 0; the rules in ra, where h1's
#     first SYN meets the trap.  That connection (h1 -> h2, IPv4) starts
#     the negotiation and must complete; the SYNs of it that arrive carry
#     exactly M (with larval_drop=1 the kernel drops the first SYN before
#     FORWARD; with 0 it reaches FORWARD on xfrm's queue placeholder and
#     auto drops it, counted held: ra's held must move); then M is
#     measured and confirmed, and connections both ways with the SA up
#     are exact.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/ike_strongswan.sh"

# ------------------------------------------------- route-based (xfrmi) --

# xfrmi_devices: in each router an XFRM interface ipsec0 (if_id 42) on
# wan0, MTU left at its default 1500 (the WAN has 1454), the far LANs
# routed into it.
xfrmi_devices() {
	local ns lan lan6
	for ns in "$TS_RA" "$TS_RB"; do
		if [[ $ns == "$TS_RA" ]]; then
			lan=$TS_LAN2_4 lan6=$TS_LAN2_6
		else
			lan=$TS_LAN1_4 lan6=$TS_LAN1_6
		fi
		printf '%s\n' "link add ipsec0 type xfrm dev wan0 if_id 42" "link set ipsec0 up" \
			"route replace $lan dev ipsec0" "route replace $lan6 dev ipsec0" |
			ip -n "$ns" -batch - || return 1
	done
}

xfrmi() {
	local name="strongSwan XFRM interface (if_id 42, MTU 1500, WAN 1454)"
	IKE_SWAN_IFID=42
	if up "$name" aes128-sha1 no xfrmi_devices; then
		ike_measure "$name" 4 6 &&
			ike_confirm "$name" 4 6
		# The measurement's refused packets crossed ra's ipsec0 only.
		check "$name: rb has learned no PMTU towards h1 or h2 (auto must find the size itself)" \
			no_pmtu_exception "$TS_RB" "$TS_H1_4" "$TS_H1_6" "$TS_H2_4" "$TS_H2_6"
		ike_auto_conns "$name" "$XFER_BYTES" 4 6
		lap "$name: checks"
	fi
	IKE_SWAN_IFID=
}

# ------------------------------------------------ on demand (trap) --

# larval LARVAL: net.core.xfrm_larval_drop in both routers.
LARVAL=1
larval() {
	ts_nsx "$TS_RA" sysctl -qw net.core.xfrm_larval_drop="$LARVAL" &&
		ts_nsx "$TS_RB" sysctl -qw net.core.xfrm_larval_drop="$LARVAL"
}

# on_demand LARVAL: start_action = trap in both routers, the rules in ra,
# where h1's first SYN meets the trap.  That connection (h1 -> h2, IPv4)
# starts the negotiation: with larval_drop=1 the kernel drops its first
# SYN before FORWARD, with 0 the SYN reaches FORWARD on xfrm's queue
# placeholder and auto drops it (counted held): either way only the
# retransmission, which meets the SA, may arrive.  Once the SA is up,
# h2 -> h1 and both IPv6 connections; then the measurements.
on_demand() {
	local name="strongSwan on demand (trap), xfrm_larval_drop=$1" r ok=1 bad=() h port
	local -A sb=() sa=()
	LARVAL=$1
	IKE_SWAN_START=trap IKE_RULE_NS=$TS_RA
	if up "$name" aes128-sha1 no larval; then
		ts_stats "$TS_RA" sb
		ike_syns_start
		ts_watch_start
		IKE_PORT=$((IKE_PORT + 1))
		port=$IKE_PORT
		ts_xfer_start first "$TS_H1" "$TS_H2" "$TS_H2_4" "$XFER_BYTES" send "$IKE_XFER_MS" "$port"
		ts_xfer_wait first || { ok=0; bad+=("the first connection failed;"); }
		ts_watch_stop
		ike_syns_stop
		busywait "$IKE_UP_MS" ike_sas_up "$TS_RA" "$TS_RB" >/dev/null ||
			{ ok=0; bad+=("no SA after the first connection;"); }
		ts_stats "$TS_RA" sa
		h=$((${sa[ipv4.held]:-0} - ${sb[ipv4.held]:-0}))
		echo "# $name: ra's held +$h"
		((TS_FRAGS == 0)) || { ok=0; bad+=("$TS_FRAGS fragments on the WAN;"); }
		if (($1 == 0)); then
			((h >= 1)) || { ok=0; bad+=("no SYN counted held in ra (the case was not exercised);"); }
		fi
		if ((ok)); then
			pass "$name: the connection that started the negotiation sent $XFER_BYTES bytes intact, no fragment on the WAN (ra's held +$h)"
		else
			fail "$name: ${bad[*]}"
		fi
		FIRST_SYNS=$IKE_SYNS
		ike_measure "$name" 4 6 &&
			ike_confirm "$name" 4 6
		IKE_SYNS=$FIRST_SYNS
		ike_syns_check "$name: the first connection" "$port"
		ike_auto_conns "$name: with the SA up" "$XFER_BYTES" 4 6
		lap "$name: checks"
	fi
	IKE_SWAN_START=none IKE_RULE_NS=$TS_RB
}

main() {
	require_cmd ipsecmss-probe swanctl "$IKE_CHARON"
	[[ -e /proc/net/stat/ipsecmss ]] || modprobe xt_IPSECMSS 2>/dev/null
	echo "# $(swanctl --version 2>/dev/null | head -n1)"
	IKE_NATT=0
	xfrmi
	on_demand 1
	on_demand 0
	ike_stop
	ts_teardown
	finish
}

[[ ${BASH_SOURCE[0]} == "$0" ]] && main
