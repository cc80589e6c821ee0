#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Proof of issue 11 (held SYNs): on an on-demand tunnel an auto rule never
# lets a SYN into the tunnel with a larger MSS than fits, whatever
# net.core.xfrm_larval_drop says and whichever chain holds the rule.
#
#   h1 ---- ra ====== WAN wan0 (MTU 1454), ESP (AES-CBC + HMAC-SHA1-96) ====== rb ---- h2
#   192.168.10.2     policies only: the SAs come on ACQUIRE         192.168.20.2
#   fd10::2          PMTU black hole                                fd20::2
#
# The policies of ts_setup stay; the SAs are flushed, so the first packet
# of a flow makes the kernel send an ACQUIRE.  A small script in ra plays
# the IKE daemon: `ip xfrm monitor acquire`, and on each ACQUIRE it adds
# the SA pair in both routers.  The rule sits in ra, which holds the SYN:
#   FORWARD:     iptables -A FORWARD -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead auto
#   POSTROUTING: iptables -t mangle -A POSTROUTING -p tcp -j IPSECMSS ... auto
# What the kernel does with the first SYN h1 -> h2:
#  - xfrm_larval_drop=1: dropped before FORWARD; the retransmission (1 s
#    later) meets the SA;
#  - xfrm_larval_drop=0: it reaches FORWARD on xfrm's queue placeholder,
#    is queued and, once the SA is there, released straight to output:
#    it passes POSTROUTING with the SA and never FORWARD again.  auto in
#    FORWARD drops it (counted "held"), so the retransmission meets the
#    SA; auto in POSTROUTING clamps the released SYN.
# For each of (FORWARD, 0), (FORWARD, 1), (POSTROUTING, 0), on a fresh
# topology, for IPv4 and then IPv6 (the SAs flushed before each):
#  1. the SYN h1 -> h2 that reaches h2 and the SYN/ACK that reaches h1
#     carry exactly the measured MSS (auto_exact.sh's measure, made while
#     the SAs were up);
#  2. data crosses both ways (a connection h1 sends on, then one h2 sends
#     on), with no fragment on the WAN and full-size ESP packets;
#  3. ra's counters: held +1 or more for the held SYN (and any
#     retransmission made while the SA is negotiated) in FORWARD with
#     larval_drop=0, +0 otherwise; every SYN and SYN/ACK that carried data
#     lowered.
# And ra's own connection to h2 with auto in OUTPUT (larval_drop=0): its
# SYNs on the placeholder route are held until TCP drops that route (at
# the second retransmission, about 3 s), then the SYN is exact.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=auto_exact.sh
. "$HERE/auto_exact.sh"

WAN_MTU=1454
ROWS=()

# acquire_start: the stand-in IKE daemon in ra.
acquire_start() {
	ts_algo_cache aes-cbc-sha1
	TS_SUITE=aes-cbc-sha1 TS_NATT=0 ts_states_batch "$TS_WAN_A4" "$TS_WAN_B4" \
		>"$TS_TMP/sa.batch"
	# shellcheck disable=SC2016 # expanded by the inner shell
	ts_nsx_exec "$TS_RA" bash -c '
		ip xfrm monitor acquire | while read -r line; do
			case $line in
			acquire*)
				ip -n "$1" -batch "$3" >/dev/null 2>&1
				ip -n "$2" -batch "$3" >/dev/null 2>&1
				echo "acquire served" >>"$4" ;;
			esac
		done' _ "$TS_RA" "$TS_RB" "$TS_TMP/sa.batch" "$TS_TMP/acq.log" \
		</dev/null >/dev/null 2>&1 &
	ACQ_PID=$!
	# (The monitor is subscribed once it has started; give it the time
	# ip(8) takes to start under TCG.)
	sleep 1
}

# rules CHAIN: auto in ra, in CHAIN.
rules() {
	local r t=filter chain=$1
	[[ $chain == POSTROUTING ]] && t=mangle
	for r in "$IPT_RESTORE" "$IP6T_RESTORE"; do
		printf '%s\n' "*$t" \
			"-A $chain -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead auto" \
			'COMMIT' | ts_nsx "$TS_RA" "$r" --noflush || return
	done
}

# unarm: no SA in either router (the policies stay).
unarm() {
	ip -n "$TS_RA" xfrm state flush && ip -n "$TS_RB" xfrm state flush
}

# held_conns NAME FAM WANT LD CHAIN: the first connection h1 -> h2 of
# family FAM on the unarmed tunnel (h1 sends), then a second one (h2
# sends); WANT the measured MSS.
held_conns() {
	local name=$1 fam=$2 want=$3 ld=$4 chain=$5 addr=$TS_H2_4 f=ipv4 syn synack ok1 ok2
	local held lowered whold wtext bad=()
	[[ $fam == 6 ]] && addr=$TS_H2_6 f=ipv6
	unarm || { fail "$name: flush the SAs"; return; }
	read_stats before
	watch_start
	PORT=$((PORT + 1))
	ts_syn_capture_start "$TS_H2" eth0 syn $PORT 10000
	ts_syn_capture_start "$TS_H1" eth0 synack $PORT 10000
	ts_xfer_start first "$TS_H1" "$TS_H2" "$addr" "$XFER_BYTES" send $OK_MS $PORT
	ts_xfer_wait first; ok1=$?
	syn=$(ts_syn_capture_mss syn || echo none) synack=$(ts_syn_capture_mss synack || echo none)
	PORT=$((PORT + 1))
	ts_xfer_start second "$TS_H1" "$TS_H2" "$addr" "$XFER_BYTES" recv $OK_MS $PORT
	ts_xfer_wait second; ok2=$?
	watch_stop
	read_stats after
	[[ $syn == "$want" && $synack == "$want" ]] ||
		bad+=("first connection: SYN at h2 $syn, SYN/ACK at h1 $synack, want $want;")
	((ok1 == 0 && ok2 == 0)) || bad+=("transfers: h1 sends ok=$((!ok1)), h2 sends ok=$((!ok2));")
	((W_FRAGS == 0 && W_LEN == E)) ||
		bad+=("WAN: frags=$W_FRAGS largest=$W_LEN, want 0 and $E;")
	if ((${#bad[@]} == 0)); then
		pass "$name IPv$fam: the SYN that reaches h2 and the SYN/ACK that reaches h1 carry $want; data crosses both ways, no fragment, largest WAN packet $W_LEN"
	else
		fail "$name IPv$fam: ${bad[*]}"
	fi
	held=$(delta "$f" held) lowered=$(delta "$f" lowered)
	whold=0 wtext="+0"
	[[ $chain == FORWARD && $ld == 0 ]] && whold=1 wtext="+1 or more"
	# One SYN held per retransmission made while the SA is negotiated
	# (the stand-in daemon takes 0.3-1.5 s under TCG): at least one.
	if (((whold ? held >= 1 : held == 0) && lowered >= 4)); then
		pass "$name IPv$fam: ra's counters: held +$held, lowered +$lowered (2 connections x SYN + SYN/ACK, and any retransmission)"
	else
		fail "$name IPv$fam: ra's counters: held +$held (want $wtext), lowered +$lowered (want >= 4); syn +$(delta "$f" syn), no_sa +$(delta "$f" no_sa), already_low +$(delta "$f" already_low)"
	fi
	ROWS+=("$(printf '%-12s %2s | IPv%s | SYN %4s SYN/ACK %4s want %4s | held +%s lowered +%s' \
		"$chain" "$ld" "$fam" "$syn" "$synack" "$want" "$held" "$lowered")")
}

# held_local NAME LD: a connection of ra's own to h2 (IPv4), auto in ra's
# OUTPUT.  The socket's first route is xfrm's queue placeholder; auto drops
# the SYN on it (held) and TCP, once its retransmission has failed too,
# drops that route and finds the SA's bundle (xfrm_negative_advice()):
# the SYN that reaches h2 carries the exact MSS, a few seconds late.
held_local() {
	local name=$1 ld=$2 want=$3 syn ok held lowered t0 ms
	# ra's own connections to the far LAN leave from its LAN address, so
	# that the LAN-to-LAN policy covers them (strongSwan installs such
	# routes in its table 220).
	ip -n "$TS_RA" route replace "$TS_LAN2_4" via "$TS_WAN_B4" dev "$TS_WAN_IF" src 192.168.10.1 ||
		{ fail "$name: route with src"; return; }
	unarm || { fail "$name: flush the SAs"; return; }
	read_stats before
	watch_start
	PORT=$((PORT + 1))
	ts_syn_capture_start "$TS_H2" eth0 syn $PORT 15000
	t0=$(now_ms)
	ts_xfer_start local "$TS_RA" "$TS_H2" "$TS_H2_4" "$XFER_BYTES" send 15000 $PORT
	ts_xfer_wait local; ok=$?
	ms=$(($(now_ms) - t0))
	syn=$(ts_syn_capture_mss syn || echo none)
	watch_stop
	read_stats after
	held=$(delta ipv4 held) lowered=$(delta ipv4 lowered)
	if ((ok == 0)) && [[ $syn == "$want" ]] && ((W_FRAGS == 0 && W_LEN == E)); then
		pass "$name: ra's own connection: the SYN that reaches h2 carries $want, 100 KB cross in $ms ms, no fragment, largest WAN packet $W_LEN"
	else
		fail "$name: ra's own connection: SYN at h2 $syn (want $want), transfer ok=$((!ok)) in $ms ms, WAN frags=$W_FRAGS largest=$W_LEN (want 0, $E)"
	fi
	if ((ld == 1 || held >= 1)) && ((lowered >= 1)); then
		pass "$name: ra's counters: held +$held, lowered +$lowered"
	else
		fail "$name: ra's counters: held +$held (want >= 1 with larval_drop=0), lowered +$lowered (want >= 1)"
	fi
	ROWS+=("$(printf '%-12s %2s | IPv4 | SYN %4s (ra own, %s ms) want %4s | held +%s lowered +%s' \
		OUTPUT "$ld" "$syn" "$ms" "$want" "$held" "$lowered")")
}

# held_case CHAIN LARVAL_DROP
held_case() {
	local chain=$1 ld=$2 name
	name="$chain, larval_drop=$ld"
	echo "# ---- $name"
	ts_teardown >/dev/null 2>&1
	ts_setup --suite aes-cbc-sha1 --wan-mtu $WAN_MTU || { fail "$name: topology"; return; }
	ts_ns_pid "$TS_RA"; RA_PID=$TS_NS_PID
	RULE_NS=$TS_RA
	measure "$name" $((WAN_MTU - 100)) $((WAN_MTU - 40)) $WAN_MTU || return
	echo "# $name: measured P=$P E=$E -> M4=$((P - 40)) M6=$((P - 60))"
	rules "$chain" || { fail "$name: rules"; return; }
	ts_nsx "$TS_RA" sysctl -qw net.core.xfrm_larval_drop="$ld"
	ts_nsx "$TS_RB" sysctl -qw net.core.xfrm_larval_drop="$ld"
	acquire_start
	if [[ $chain == OUTPUT ]]; then
		held_local "$name" "$ld" $((P - 40))
	else
		held_conns "$name" 4 $((P - 40)) "$ld" "$chain"
		held_conns "$name" 6 $((P - 60)) "$ld" "$chain"
	fi
	echo "# $name: $(grep -c served "$TS_TMP/acq.log" 2>/dev/null || echo 0) ACQUIREs served"
	kill "$ACQ_PID" 2>/dev/null
}

main() {
	require_cmd ipsecmss-probe ping
	[[ -e /proc/net/stat/ipsecmss ]] || modprobe xt_IPSECMSS 2>/dev/null
	held_case FORWARD 0
	held_case FORWARD 1
	held_case POSTROUTING 0
	held_case OUTPUT 0
	echo "# held: chain     ld | fam  | first connection's MSS | ra's counters"
	local r
	for r in "${ROWS[@]}"; do
		echo "# held: $r"
	done
	ts_teardown
	finish
}

main
