#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Proof of issue 11 (route-based tunnels): --clamp-to-pmtu-minus-overhead
# auto clamps exactly through XFRM interfaces, VTI and vti6, with the rule
# on either router, for SYNs and SYN/ACKs of connections opened from either
# side, IPv4 and IPv6 inside; TCPMSS --clamp-mss-to-pmtu's value is
# recorded beside it.  Every expected value is MEASURED in this run.
#
#   h1 ---- ra ==== DEV (xfrm if_id 7 | vti key 7 | vti6 key 7) ==== rb ---- h2
#   192.168.10.2    over WAN wan0 (MTU N), ESP, [NAT-T]                192.168.20.2
#   fd10::2         PMTU black hole (no "fragmentation needed")        fd20::2
#
# The far LANs are routed into DEV; the SAs and policies carry if_id 7
# (XFRM interface) or mark 7 (VTI: the tunnel's key).  The forwarded SYN's
# route is DEV's, not an xfrm bundle: DEV's transmit looks the SA up.  auto
# repeats that lookup (IPSECMSS on the router RULE in FORWARD, or in mangle
# POSTROUTING, where the SYN passes twice: with DEV's route, then with the
# bundle).
#
# Each case on a fresh topology (a route exception left by an earlier
# large packet would make a later SYN exact by accident):
#  1. crafted SYNs h1 -> h2 and h2 -> h1 (MSS 1460 / 1440, IPv4 / IPv6)
#     through TCPMSS --clamp-mss-to-pmtu (ports 9000-9999) and through auto,
#     the MSS captured at the far host: before any large packet has crossed;
#  2. MEASURE P, the largest inner IPv4 packet crossing whole (DF pings,
#     lib_twosite's ts_measure_inner), and E, its ESP packet's length;
#  3. the crafted SYNs' auto MSS = P - 40 (IPv4) / P - 60 (IPv6) both ways;
#  4. four connections through auto (auto_exact.sh's auto_conns): SYN and
#     SYN/ACK carry the measured MSS, 4 x 100 KB cross, no fragment on the
#     WAN, largest ESP packet = P's, the rule's counters move as they should,
#     and its lookup cache answered for some of those SYNs.
# A table at the end: case, P, exact M4/M6, auto, TCPMSS (the crafted
# SYNs carry 1460 / 1440, what hosts on 1500-byte LANs send).
# Then, twice (policy-based and XFRM interface): the WAN MTU lowered under
# bundles already made and cached; auto must read the new exact size.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# auto_exact.sh, sourced, defines its steps (measure, auto_conns, ...)
# and sources lib.sh and lib_twosite.sh.
# shellcheck source=auto_exact.sh
. "$HERE/auto_exact.sh"

TCPMSS_PORT=9000
TABLE=()

# rb_rules NS CHAIN: TCPMSS for ports 9000-9999 (then ACCEPT), auto for
# everything else, in NS's filter FORWARD (CHAIN=FORWARD) or mangle
# POSTROUTING (CHAIN=POSTROUTING; TCPMSS stays in FORWARD).
rb_rules() {
	local ns=$1 chain=$2 r auto
	auto='-A FORWARD -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead auto'
	for r in "$IPT_RESTORE" "$IP6T_RESTORE"; do
		{
			echo '*filter'
			echo '-A FORWARD -p tcp --tcp-flags SYN,RST SYN -m multiport --ports 9000:9999 -j TCPMSS --clamp-mss-to-pmtu'
			echo '-A FORWARD -p tcp -m multiport --ports 9000:9999 -j ACCEPT'
			[[ $chain == FORWARD ]] && echo "$auto"
			echo 'COMMIT'
			if [[ $chain == POSTROUTING ]]; then
				echo '*mangle'
				echo '-A POSTROUTING -p tcp -m multiport ! --ports 9000:9999 -j IPSECMSS --clamp-to-pmtu-minus-overhead auto'
				echo 'COMMIT'
			fi
		} | ts_nsx "$ns" "$r" --noflush || return
	done
}

# rb_tunnel KIND DEV_MTU: the route-based tunnel between ra and rb, on a
# topology built without one.  KIND: xfrmi (if_id 7 on wan0), vti or vti6
# (key 7; vti6 over the WAN's IPv6 addresses).  DEV_MTU: "" keeps the
# device's default MTU.
rb_tunnel() {
	local kind=$1 dmtu=$2 ns me peer a b lans o1 o2 o3 o4 pair x y sel dev oreq ireq
	a=$TS_WAN_A4 b=$TS_WAN_B4
	[[ $kind == vti6 ]] && a=$TS_WAN_A6 b=$TS_WAN_B6
	ts_algo_cache "$TS_SUITE"
	for ns in "$TS_RA" "$TS_RB"; do
		# ts_states_batch: SPI 0x1000 a -> b reqid 1, 0x2000 b -> a reqid 2.
		if [[ $ns == "$TS_RA" ]]; then
			me=$a peer=$b oreq=1 ireq=2
			lans="$TS_LAN1_4 $TS_LAN2_4 $TS_LAN1_6 $TS_LAN2_6"
		else
			me=$b peer=$a oreq=2 ireq=1
			lans="$TS_LAN2_4 $TS_LAN1_4 $TS_LAN2_6 $TS_LAN1_6"
		fi
		read -r o1 o2 o3 o4 <<<"$lans"
		case $kind in
		xfrmi) dev="link add ipsec0 type xfrm dev wan0 if_id 7" sel="if_id 7" ;;
		vti) dev="link add ipsec0 type vti local $me remote $peer key 7" sel="mark 7" ;;
		vti6) dev="link add ipsec0 type vti6 local $me remote $peer key 7" sel="mark 7" ;;
		esac
		{
			echo "$dev"
			[[ -n $dmtu ]] && echo "link set dev ipsec0 mtu $dmtu"
			echo "link set dev ipsec0 up"
			ts_states_batch "$a" "$b" "$sel"
			for pair in "$o1 $o2" "$o3 $o4"; do
				read -r x y <<<"$pair"
				echo "xfrm policy add src $x dst $y dir out $sel tmpl src $me dst $peer proto esp mode tunnel reqid $oreq"
				echo "xfrm policy add src $y dst $x dir fwd $sel tmpl src $peer dst $me proto esp mode tunnel reqid $ireq"
				echo "xfrm policy add src $y dst $x dir in $sel tmpl src $peer dst $me proto esp mode tunnel reqid $ireq"
				echo "route replace $y dev ipsec0"
			done
		} | ip -n "$ns" -batch - || return
	done
	if ((TS_NATT)); then
		ts_natt_socket "$TS_RA" && ts_natt_socket "$TS_RB" || return
	fi
}

# crafted TAG NS SRC DST PORT MSS CAPNS: one crafted SYN, its MSS at CAPNS.
crafted() {
	local tag=$1 ns=$2 src=$3 dst=$4 port=$5 mss=$6 capns=$7
	ts_syn_capture_start "$capns" eth0 "$tag" "$port" 5000
	syn_from "$ns" "$src" "$dst" "$port" "$mss"
	ts_syn_capture_mss "$tag" || echo none
}

# syns BASE: the MSS of crafted SYNs on ports from BASE, into G[a4 b4 a6
# b6] (a: h1 -> h2, b: h2 -> h1).
syns() {
	local base=$1
	G[a4]=$(crafted a4 "$TS_H1" "$TS_H1_4" "$TS_H2_4" $((base + 1)) 1460 "$TS_H2")
	G[b4]=$(crafted b4 "$TS_H2" "$TS_H2_4" "$TS_H1_4" $((base + 2)) 1460 "$TS_H1")
	G[a6]=$(crafted a6 "$TS_H1" "$TS_H1_6" "$TS_H2_6" $((base + 3)) 1440 "$TS_H2")
	G[b6]=$(crafted b6 "$TS_H2" "$TS_H2_6" "$TS_H1_6" $((base + 4)) 1440 "$TS_H1")
}

# measure_df NAME WAN_MTU: P, the largest IPv4 packet h1 -> h2 crossing
# with DF (lib_twosite's ts_measure_inner; the devices refuse larger ones,
# their "fragmentation needed" lost in the black hole), and E, the length
# of its ESP packet on the WAN (no fragment, at most WAN_MTU).
measure_df() {
	local name=$1 mtu=$2 rc
	ts_measure_inner 4
	P=$TS_INNER_MAX E=0
	if ((!TS_INNER_OK)); then
		fail "$name: no consistent measurement (largest answered $P)"
		return 1
	fi
	watch_start
	ts_nsx "$TS_H1" ping -c1 -W2 -s $((P - 28)) "$TS_H2_4" >/dev/null 2>&1
	rc=$?
	watch_stop >/dev/null
	if ((rc == 0 && W_FRAGS == 0 && W_LEN > 0 && W_LEN <= mtu)); then
		E=$W_LEN
		pass "$name: measured P=$P: a $P-byte DF packet crosses as one $E-byte packet on the WAN (<= $mtu), $((P + 1)) does not cross"
		return 0
	fi
	fail "$name: WAN check of P=$P: rc=$rc frags=$W_FRAGS len=$W_LEN (MTU $mtu)"
	return 1
}

# sa_view NAME KIND M4 M6: `ipsecmss sa` in ra lists ra's outbound SA with
# the tunnel device (ipsec0, its kind, its if_id or key as the SA's mark)
# and the exact MSS through it: M4 and M6, as measured.
sa_view() {
	local name=$1 kind=$2 m4=$3 m6=$4 line rec want key got bad=()
	local -A want_kv=([dev]=ipsec0 [dev_mss4]=$m4 [dev_mss6]=$m6)
	case $kind in
	xfrmi) want_kv[dev_kind]=xfrm want_kv[if_id]=7 ;;
	vti|vti6) want_kv[dev_kind]=$kind want_kv[mark]=0x7/0xffffffff ;;
	esac
	rec=
	while read -r line; do
		[[ " $line " == *" src=$TS_WAN_A4 "* || " $line " == *" src=$TS_WAN_A6 "* ]] &&
			{ rec=$line; break; }
	done < <(ts_nsx "$TS_RA" ipsecmss sa --format kv 2>&1)
	if [[ -z $rec ]]; then
		fail "$name: ipsecmss sa in ra lists no SA from ra"
		return
	fi
	for key in "${!want_kv[@]}"; do
		want=${want_kv[$key]}
		got=$(ts_kv "$key" "$rec") || got="(none)"
		[[ $got == "$want" ]] || bad+=("$key=$got, want $want;")
	done
	if ((${#bad[@]} == 0)); then
		pass "$name: ipsecmss sa in ra: ra's outbound SA via ipsec0 ($kind), exact MSS through it $m4 / $m6 = measured"
	else
		fail "$name: ipsecmss sa in ra: ${bad[*]} ($rec)"
	fi
}

# rb_case NAME KIND WAN_MTU DEV_MTU NATT RULE_ROUTER(ra|rb) CHAIN
rb_case() {
	local name=$1 kind=$2 wmtu=$3 dmtu=$4 natt=$5 router=$6 chain=$7 nopt=()
	local -A G
	local t4 t6 a4 a6 m4 m6 ok
	((natt)) && nopt=(--natt)
	echo "# ---- $name"
	ts_teardown >/dev/null 2>&1
	ts_setup --no-tunnel --wan-mtu "$wmtu" "${nopt[@]}" || { fail "$name: topology"; return; }
	TS_SUITE=aes-cbc-sha1 TS_NATT=$natt
	RULE_NS=$TS_RB
	[[ $router == ra ]] && RULE_NS=$TS_RA
	rb_tunnel "$kind" "$dmtu" || { fail "$name: tunnel"; return; }
	rb_rules "$RULE_NS" "$chain" || { fail "$name: rules"; return; }
	echo "# $name: ipsec0 MTU $(ts_link_mtu "$TS_RA" ipsec0) / $(ts_link_mtu "$TS_RB" ipsec0), WAN $wmtu"

	# 1. before any large packet: TCPMSS and auto on crafted SYNs.
	syns $TCPMSS_PORT
	TCPMSS_PORT=$((TCPMSS_PORT + 4))
	t4="${G[a4]}/${G[b4]}" t6="${G[a6]}/${G[b6]}"
	syns "$PORT"
	PORT=$((PORT + 4))
	a4="${G[a4]}/${G[b4]}" a6="${G[a6]}/${G[b6]}"

	# 2. measure.
	measure_df "$name" "$wmtu" || return
	m4=$((P - 40)) m6=$((P - 60))
	echo "# $name: measured P=$P E=$E -> M4=$m4 M6=$m6"

	# 3. the crafted SYNs' auto MSS.
	ok=1
	[[ $a4 == "$m4/$m4" && $a6 == "$m6/$m6" ]] || ok=0
	if ((ok)); then
		pass "$name: auto on crafted SYNs h1->h2/h2->h1 (before any large packet): $a4 (IPv4) $a6 (IPv6) = measured $m4 / $m6"
	else
		fail "$name: auto on crafted SYNs h1->h2/h2->h1: $a4 (IPv4) $a6 (IPv6), measured $m4 / $m6"
	fi
	echo "# $name: TCPMSS --clamp-mss-to-pmtu gave $t4 (IPv4) $t6 (IPv6), auto $a4 / $a6, exact $m4 / $m6"

	# 4. real connections, both ways, both families.
	read_stats before
	auto_conns "$name" "$m4" "$m6" "$E"
	if [[ $chain == POSTROUTING ]]; then
		# The two SYNs per family entering the tunnel here (one
		# connection's SYN, the other's SYN/ACK) passed POSTROUTING
		# twice: lowered with the device's route, then already low with
		# the bundle.  Those leaving the tunnel passed once.
		if (($(delta ipv4 already_low) == 2 && $(delta ipv6 already_low) == 2)); then
			pass "$name: POSTROUTING saw the SYNs entering the tunnel again with the bundle: already_low +2 / +2"
		else
			fail "$name: already_low +$(delta ipv4 already_low) / +$(delta ipv6 already_low), want +2 / +2 (the SYNs entering the tunnel, seen twice in POSTROUTING)"
		fi
	fi
	# The connections' SYNs and SYN/ACKs share their hosts: once a CPU
	# has sized a leg (the device's lookup, the way back), it takes it
	# from its cache, and the MSS was exact all the same.  Which CPU
	# forwards which SYN is the scheduler's choice, and the measurement
	# above leaves IPv4 route exceptions that make the crafted SYNs'
	# IPv4 entries stale, so one family's hits are what is asked.
	if (($(delta ipv4 cache_hit) + $(delta ipv6 cache_hit) > 0)); then
		pass "$name: the exact MSS above came from the lookup cache too: cache_hit +$(delta ipv4 cache_hit) / +$(delta ipv6 cache_hit), cache_miss +$(delta ipv4 cache_miss) / +$(delta ipv6 cache_miss)"
	else
		fail "$name: the lookup cache never answered: cache_hit +$(delta ipv4 cache_hit) / +$(delta ipv6 cache_hit), cache_miss +$(delta ipv4 cache_miss) / +$(delta ipv6 cache_miss)"
	fi
	# 5. the CLI's view of ra's outbound SA: the device and the MSS
	# through it, equal to the measured one.
	sa_view "$name" "$kind" "$m4" "$m6"
	TABLE+=("$(printf '%-34s %4s %4s | %4s | %4s %4s | %-9s %-9s | %-9s %-9s' \
		"$name" "$wmtu" "$(ts_link_mtu "$TS_RA" ipsec0)" "$P" "$m4" "$m6" "$a4" "$a6" "$t4" "$t6")")
}

# stale_case NAME KIND: is the MTU auto reads from a cached bundle
# current?  Bundles are made and cached at WAN MTU 1500 (crafted SYNs both
# ways, the rule on rb), then the WAN MTU of both routers drops to 1400
# under them (SAs, policies and routes unchanged): crafted SYNs again must
# carry the exact MSS of the new MTU, measured after.  KIND: xfrmi or
# policy (ts_setup's policy-based tunnel).
stale_case() {
	local name=$1 kind=$2 a4 a6 m4 m6 ns
	local -A G
	echo "# ---- $name"
	ts_teardown >/dev/null 2>&1
	if [[ $kind == policy ]]; then
		ts_setup --suite aes-cbc-sha1 --wan-mtu 1500 || { fail "$name: topology"; return; }
	else
		ts_setup --no-tunnel --wan-mtu 1500 || { fail "$name: topology"; return; }
		TS_SUITE=aes-cbc-sha1 TS_NATT=0
		rb_tunnel xfrmi "" || { fail "$name: tunnel"; return; }
	fi
	RULE_NS=$TS_RB
	rb_rules "$TS_RB" FORWARD || { fail "$name: rules"; return; }
	syns "$PORT"
	PORT=$((PORT + 4))
	echo "# $name: at WAN MTU 1500 auto gave ${G[a4]}/${G[b4]} (IPv4) ${G[a6]}/${G[b6]} (IPv6)"
	for ns in "$TS_RA" "$TS_RB"; do
		ip -n "$ns" link set dev wan0 mtu 1400 || { fail "$name: WAN MTU"; return; }
	done
	TS_WAN_MTU=1400
	syns "$PORT"
	PORT=$((PORT + 4))
	a4="${G[a4]}/${G[b4]}" a6="${G[a6]}/${G[b6]}"
	measure_df "$name" 1400 || return
	m4=$((P - 40)) m6=$((P - 60))
	if [[ $a4 == "$m4/$m4" && $a6 == "$m6/$m6" ]]; then
		pass "$name: after the WAN MTU dropped to 1400 under cached bundles auto gives $a4 (IPv4) $a6 (IPv6) = measured $m4 / $m6"
	else
		fail "$name: after the WAN MTU dropped to 1400 auto gives $a4 (IPv4) $a6 (IPv6), measured $m4 / $m6 (stale bundle MTU?)"
	fi
}

main() {
	require_cmd ipsecmss-probe socat ping
	[[ -e /proc/net/stat/ipsecmss ]] || modprobe xt_IPSECMSS 2>/dev/null
	T0=$SECONDS
	# name                         kind  WAN  dev  natt rule chain
	rb_case "xfrmi default MTU, rule on rb" xfrmi 1500 "" 0 rb FORWARD
	rb_case "xfrmi MTU 1420 by hand, NAT-T, rule on ra" xfrmi 1454 1420 1 ra FORWARD
	rb_case "xfrmi, NAT-T, rule in POSTROUTING" xfrmi 1454 "" 1 rb POSTROUTING
	rb_case "vti, rule on rb" vti 1454 "" 0 rb FORWARD
	rb_case "vti, rule on ra" vti 1500 "" 0 ra FORWARD
	rb_case "vti6, rule on rb" vti6 1500 "" 0 rb FORWARD
	rb_case "vti6, rule in POSTROUTING on ra" vti6 1454 "" 0 ra POSTROUTING
	stale_case "policy-based, WAN MTU lowered under the bundles" policy
	stale_case "xfrmi, WAN MTU lowered under the bundles" xfrmi
	echo "# route-based cases: $((SECONDS - T0)) s"
	echo "# table: case | WAN dev-MTU | P | exact M4 M6 | auto M4 (h1->h2/h2->h1) M6 | TCPMSS --clamp-mss-to-pmtu M4 M6"
	local r
	for r in "${TABLE[@]}"; do
		echo "# table: $r"
	done
	ts_teardown
	finish
}

main
