#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The SAs from real IKE daemons: strongSwan's charon on both routers,
# configured with swanctl over vici (one daemon per router namespace, each
# with its own strongswan.conf, swanctl.conf, pid file and vici socket;
# see lib_ike.sh).  Every expected value is MEASURED in this run.
#
#   h1 ---- ra (charon) ==== WAN wan0 (MTU 1454), ESP tunnel ==== rb (charon) ---- h2
#   192.168.10.2  198.51.100.1   PMTU black hole        198.51.100.2    192.168.20.2
#   fd10::2                                          (the rules)        fd20::2
#
# rb's FORWARD holds the project's recommended rule pair
#   iptables  -A FORWARD -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead auto
#   ip6tables -A FORWARD -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead auto
# (and, for ports 7000-8999 only, the --set-mss probes that measure).
#
# Cases, each on a fresh topology with fresh daemons, a policy-based
# tunnel whose CHILD_SA carries both inner families (ts_ra initiates):
#  1. esp_proposals = aes128-sha1 (AES-CBC + HMAC-SHA1-96);
#  2. esp_proposals = aes128gcm16 (AES-GCM-16), encap = yes (NAT-T forced:
#     ESP in UDP 4500 without a NAT);
#  3. on case 1's tunnel: `swanctl --rekey` of the CHILD_SA during a
#     transfer.
# In cases 1 and 2: MEASURE the largest inner packet of each family that
# crosses (DF pings), M4 = P4 - 40, M6 = P6 - 60; CONFIRM through --set-mss
# that M crosses whole and M + 1 does not; then through auto, connections
# h1 -> h2 and h2 -> h1 per family: the transfers complete, nothing is
# fragmented on the WAN, and every SYN and SYN/ACK copy captured at h1 and
# h2 (retransmissions included) carries exactly M.
# In case 3: a transfer h1 -> h2 runs while ra rekeys the CHILD_SA (h1's
# eth0 held to 1 Mbit/s by netem until the rekey is over, so that the
# transfer outlasts it however slow the VM is; then the limit is raised
# without dropping what netem holds); the rekey completes (new SPIs in
# both routers, the old ones gone) while the transfer still runs; the
# transfer completes intact; new connections after the rekey get exactly
# M again; no fragment on the WAN.
# (ike_strongswan_xfrmi_trap.sh: the XFRM-interface and on-demand cases.)
#
# Sourced, it only defines its functions (for ike_strongswan_xfrmi_trap.sh).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "${IPSECMSS_LIB:-$HERE/lib.sh}"
. "$HERE/lib_twosite.sh"
. "$HERE/lib_ike.sh"

XFER_BYTES=200000
REKEY_BYTES=4000000	# 32 s at 1 Mbit/s: the rekey takes 3-10 s under TCG

cleanup() {
	ike_stop
	ts_teardown
	rm -rf "$IKE_DIR"
}

LAP=$(now_ms)
lap() {
	local t
	t=$(now_ms)
	echo "# time: $1 $((t - LAP)) ms"
	LAP=$t
}

# up NAME ESP_PROPOSALS ENCAP [PREPARE]: a fresh topology (no static SAs),
# PREPARE (a function, run before the daemons start), the rules in
# IKE_RULE_NS and the daemons' tunnel (or, with IKE_SWAN_START=trap, their
# trap policies).
up() {
	local name=$1 esp=$2 encap=$3 prepare=${4:-}
	ike_stop
	ts_setup --no-tunnel --wan-mtu 1454 || { fail "$name: topology"; return 1; }
	if [[ -n $prepare ]]; then
		$prepare || { fail "$name: $prepare"; return 1; }
	fi
	ike_rules || { fail "$name: the rules"; return 1; }
	if ! ike_swan_up "$esp" "$encap"; then
		fail "$name: charon did not bring the tunnel up"
		ike_logs "$TS_RA" "$TS_RB"
		return 1
	fi
	if [[ $IKE_SWAN_START == trap ]]; then
		pass "$name: charon in ra and rb installed their trap policies, no SA yet ($(ike_sa_count "$TS_RA") in ra)"
	else
		pass "$name: charon in ra and rb negotiated the tunnel ($(ike_sa_count "$TS_RA") SAs in ra, $(ike_sa_count "$TS_RB") in rb)"
		ip -n "$TS_RB" xfrm state | grep -E '^src|proto esp|enc |auth|aead|encap|if_id' | sed 's/^/#   rb: /'
	fi
	lap "$name: up"
}

exact() {
	local name=$1
	ike_measure "$name" 4 6 || return 1
	echo "# $name: measured P4=$IKE_P4 P6=$IKE_P6 -> M4=$IKE_M4 M6=$IKE_M6"
	ike_confirm "$name" 4 6
	ike_auto_conns "$name" "$XFER_BYTES" 4 6
	lap "$name: checks"
}

# spis_rekeyed: both routers hold two SAs again, none of the old ones.
spis_rekeyed() {
	local ns s
	for ns in "$TS_RA" "$TS_RB"; do
		(($(ike_sa_count "$ns") == 2)) || return 1
		for s in ${OLD_SPIS[$ns]}; do
			[[ " $(ike_spis "$ns") " == *" $s "* ]] && return 1
		done
	done
	return 0
}

rekey() {
	local name="rekey during a transfer" ok=1 r running port t0
	local -A OLD_SPIS=()
	OLD_SPIS[$TS_RA]=$(ike_spis "$TS_RA")
	OLD_SPIS[$TS_RB]=$(ike_spis "$TS_RB")
	# (the real tc: busybox's nsenter would run its own applet)
	ts_nsx "$TS_H1" "$TC" qdisc add dev eth0 root netem rate 1mbit limit 100 ||
		{ fail "$name: netem on h1"; return; }
	ike_syns_start
	ts_watch_start
	IKE_PORT=$((IKE_PORT + 1))
	port=$IKE_PORT
	ts_xfer_start long "$TS_H1" "$TS_H2" "$TS_H2_4" "$REKEY_BYTES" send 60000 "$port"
	# Data flowing before the rekey starts.
	sleep 1
	t0=$(now_ms)
	ike_swanctl "$TS_RA" --rekey --child lans >"$IKE_DIR/rekey.out" 2>&1 ||
		{ fail "$name: swanctl --rekey"; sed 's/^/#   /' "$IKE_DIR/rekey.out"; }
	if busywait 45000 spis_rekeyed >/dev/null; then
		running=0
		kill -0 "${TS_XCPID[long]}" 2>/dev/null && running=1
		echo "# $name: rekeyed in $(($(now_ms) - t0)) ms"
		echo "# $name: SPIs before: ra ${OLD_SPIS[$TS_RA]}/ rb ${OLD_SPIS[$TS_RB]}; after: ra $(ike_spis "$TS_RA")/ rb $(ike_spis "$TS_RB")"
		if ((running)); then
			pass "$name: swanctl --rekey replaced the CHILD_SA in both routers while the transfer ran"
		else
			fail "$name: the transfer ended before the rekey completed"
		fi
	else
		fail "$name: no new CHILD_SA replaced the old one (ra: $(ike_spis "$TS_RA"), rb: $(ike_spis "$TS_RB"))"
		ike_logs "$TS_RA"
		ok=0
	fi
	# (change, not delete: deleting the qdisc would drop what it holds)
	ts_nsx "$TS_H1" "$TC" qdisc change dev eth0 root netem rate 10gbit
	ts_xfer_wait long
	r=$?
	ts_watch_stop
	ike_syns_stop
	if ((r == 0 && TS_FRAGS == 0)); then
		pass "$name: the $REKEY_BYTES-byte transfer across the rekey completed intact, no fragment on the WAN"
	else
		fail "$name: the transfer across the rekey: rc=$r frags=$TS_FRAGS"
	fi
	ike_syns_check "$name (the transfer's connection)" "$port"
	ts_nsx "$TS_H1" "$TC" qdisc del dev eth0 root
	((ok)) && ike_auto_conns "$name: after the rekey" "$XFER_BYTES" 4 6
	lap "$name"
}

main() {
	require_cmd ipsecmss-probe swanctl "$IKE_CHARON" tc
	TC=$(command -v tc)
	[[ -e /proc/net/stat/ipsecmss ]] || modprobe xt_IPSECMSS 2>/dev/null
	echo "# $(swanctl --version 2>/dev/null | head -n1)"

	IKE_NATT=0
	if up "strongSwan AES-CBC/HMAC-SHA1-96" aes128-sha1 no; then
		exact "strongSwan AES-CBC/HMAC-SHA1-96"
		rekey
	fi
	IKE_NATT=1
	if up "strongSwan AES-GCM-16, NAT-T forced" aes128gcm16 yes; then
		exact "strongSwan AES-GCM-16, NAT-T forced"
	fi
	ike_stop
	ts_teardown
	finish
}

[[ ${BASH_SOURCE[0]} == "$0" ]] && main
