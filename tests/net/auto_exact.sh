#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Proof of issue 4: --clamp-to-pmtu-minus-overhead auto clamps the MSS to
# exactly the largest value whose full-size segments cross the WAN in one
# unfragmented ESP packet.  Every expected value is MEASURED in this run;
# none is typed in.
#
#   h1 ---- ra ====== WAN wan0 (MTU N), ESP tunnel, suite S [NAT-T] ====== rb ---- h2
#   192.168.10.2     198.51.100.1                       198.51.100.2     192.168.20.2
#   fd10::2          PMTU black hole: no "fragmentation      (the rules)  fd20::2
#                    needed" / "packet too big" reaches anyone
#
# rb's FORWARD holds, for the whole run, the rule pair under test
#   iptables  -A FORWARD -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead auto
#   ip6tables -A FORWARD -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead auto
# and before it a jump, for ports 7000-8999 only, to a chain PROBE whose
# --set-mss rules end in ACCEPT: the measuring connections never meet auto.
#
# For every suite x WAN MTU (1454 1500 1400 1280) x NAT-T off/on (40 cases;
# one topology, its SAs and WAN MTU swapped between cases):
#  1. MEASURE P, the largest inner packet that crosses the WAN in one
#     packet.  h1 pings h2 without DF (net.ipv4.ip_no_pmtu_disc=1 in h1), so
#     a packet too big for the WAN once encrypted is fragmented by ra (ra's
#     IP FragOKs/FragFails move) rather than refused; binary search between
#     MTU-100 (must fit) and MTU-40 (must not).  Watching ra's WAN: P crosses
#     as one unfragmented packet of E <= MTU bytes; P+1 is fragmented.
#  2. CONFIRM with TCP (DF segments, black hole on) through rb's PROBE
#     rules: with --set-mss M4 = P-40 (IPv4, h1 sends) and M6 = P-60 (IPv6,
#     h2 sends) 100 KB cross with no fragment and the largest ESP packet is
#     E (full-size segments); with M+1 each transfer stalls or fragments.
#  3. AUTO: four connections (h1->h2 and h2->h1, IPv4 and IPv6): the SYN
#     captured at the server and the SYN/ACK captured at the client carry
#     exactly M4 / M6, 100 KB cross each way with no fragment and largest
#     ESP packet E; rb's /proc/net/stat/ipsecmss: lowered +2 per connection
#     (SYN + SYN/ACK), in each family's row.
#  4. `ipsecmss calc` (suite, MTU, NAT-T) and `ipsecmss sa` in rb (its
#     outbound SA, whose route MTU is the WAN's) print M4 and M6.
# Over a 1280-byte WAN P is below 1280, so M6 is below 1220 (the MSS of
# IPv6's minimum MTU).  The expected value is still the measured M6: an MSS
# that small is valid TCP, and step 2 shows that M6 + 1 already stalls:
# ra accepts inner IPv6 packets up to 1280 bytes for the tunnel (the IPv6
# minimum MTU), but their ESP packets, too big for the WAN, never reach it.
# Then, on the same namespaces:
#  - SA not yet usable: policies present, rb's outbound SA missing; see
#    sa_missing();
#  - route-based tunnel (xfrm interface, if_id 7): see route_based();
#  - no tunnel, plain routes: auto = the measured route MTU - 40 / - 60.
#
# Environment: AUTO_SUITES, AUTO_MTUS, AUTO_NATT ("0 1") pick the cases;
# AUTO_EXTRA=0 skips the extra cases; AUTO_CHAIN=POSTROUTING puts the rule
# pair in mangle POSTROUTING (the README's rule) instead of FORWARD, with a
# RETURN before it for the measuring ports (auto_exact_postrouting.sh).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "${IPSECMSS_LIB:-$HERE/lib.sh}"
. "$HERE/lib_twosite.sh"

SUITES=${AUTO_SUITES:-$(ts_suites)}
MTUS=${AUTO_MTUS:-1454 1500 1400 1280}
NATTS=${AUTO_NATT:-0 1}
EXTRA=${AUTO_EXTRA:-1}
CHAIN=${AUTO_CHAIN:-FORWARD}

XFER_BYTES=100000
OK_MS=6000		# transfers that must complete (only reached on failure)
STALL_MS=1000		# transfers expected to stall
CLI=${IPSECMSS_CLI:-ipsecmss}
IPT_RESTORE=${IPTABLES}-restore
IP6T_RESTORE=${IP6TABLES}-restore

cleanup() { ts_teardown; }

declare -A ST
PORT=20000		# connections that meet auto
PROBE_PORT=7000		# connections that meet PROBE's --set-mss
TUNNEL=1
ROWS=()

# Commands enter a namespace with ts_nsx (nsenter: no mount namespace work,
# ten times cheaper than ip netns exec under TCG); background programs
# with ts_nsx_exec, so that $! is the program.  Debian's static busybox
# (nsenter) prefers its own applets: ping and sysctl here are busybox's.

# lap WHAT: time since the last lap.
LAP=$(now_ms)
lap() {
	local t
	t=$(now_ms)
	echo "# time: $1 $((t - LAP)) ms"
	LAP=$t
}

# ------------------------------------------------------------- probes --

# frag_count: IPv4 datagrams ra fragmented, or could not, so far.
frag_count() {
	local line hdr=() val=() i n=0
	while read -r line; do
		[[ $line == Ip:* ]] || continue
		if ((n++ == 0)); then
			read -r -a hdr <<<"$line"
		else
			read -r -a val <<<"$line"
			break
		fi
	done <"/proc/$RA_PID/net/snmp"
	FRAGC=0
	for i in "${!hdr[@]}"; do
		[[ ${hdr[i]} == FragOKs || ${hdr[i]} == FragFails ]] &&
			FRAGC=$((FRAGC + val[i]))
	done
}

# fits S: one S-byte IPv4 ping (no DF) h1 -> h2.  0: answered and ra
# fragmented nothing; 1: answered but ra fragmented it; 2: no answer.
fits() {
	local s=$1 before=$FRAGC rc=0
	ts_nsx "$TS_H1" ping -c1 -W2 -s $((s - 28)) "$TS_H2_4" >/dev/null 2>&1 || rc=2
	frag_count
	((rc == 0 && FRAGC != before)) && rc=1
	return $rc
}

# watch_start / watch_stop: count what crosses ra's WAN (both ways,
# lib_twosite's ts_watch_*); watch_stop sets W_FRAGS, W_LEN (the largest
# ESP packet, or IP packet without a tunnel).
watch_start() { ts_watch_start; }

watch_stop() {
	ts_watch_stop
	W_FRAGS=$TS_FRAGS W_LEN=$TS_ESP_MAX_LEN
	((TUNNEL)) || W_LEN=$TS_MAX_LEN
}

# measure NAME LO HI MTU: sets P (the largest inner packet that crosses
# whole) and E (its length on the WAN).  LO must fit, HI must not.
measure() {
	local name=$1 lo=$2 hi=$3 mtu=$4 mid r ok=1 rc0 fr0 len0
	ts_nsx "$TS_H1" sysctl -qw net.ipv4.ip_no_pmtu_disc=1
	frag_count
	fits "$lo"; r=$?
	((r == 0)) || { fail "$name: a $lo-byte ping should cross whole (got $r)"; ok=0; }
	fits "$hi"; r=$?
	((r == 1)) || { fail "$name: a $hi-byte ping should be fragmented (got $r)"; ok=0; }
	while ((ok && hi - lo > 1)); do
		mid=$(((lo + hi) / 2))
		fits "$mid"; r=$?
		case $r in
		0) lo=$mid ;;
		1) hi=$mid ;;
		*) fail "$name: a $mid-byte ping got no answer"; ok=0 ;;
		esac
	done
	P=$lo E=0
	if ((ok)); then
		watch_start; fits "$P"; rc0=$?; watch_stop >/dev/null
		fr0=$W_FRAGS len0=$W_LEN
		watch_start; fits $((P + 1)); r=$?; watch_stop >/dev/null
		if ((rc0 == 0 && fr0 == 0 && len0 > 0 && len0 <= mtu && r == 1)); then
			E=$len0
			pass "$name: measured P=$P: a $P-byte packet crosses as one $E-byte packet on the WAN (<= $mtu), $((P + 1)) is fragmented by ra ($W_FRAGS fragments seen on the WAN)"
		else
			fail "$name: WAN check: P=$P (rc=$rc0 frags=$fr0 len=$len0, MTU $mtu), P+1 (rc=$r frags=$W_FRAGS)"
			ok=0
		fi
	fi
	ts_nsx "$TS_H1" sysctl -qw net.ipv4.ip_no_pmtu_disc=0
	((ok))
}

# ------------------------------------------------------- TCP helpers --

# Transfers and SYN captures are lib_twosite's: ts_xfer_start /
# ts_xfer_wait (XFER_BYTES each), ts_syn_capture_start /
# ts_syn_capture_mss ("none" when nothing with an MSS arrived).

# read_stats before|after: the counters of the router with the rules
# (RULE_NS, rb unless a test says otherwise) into ST_before / ST_after.
declare -A ST_before=() ST_after=()
RULE_NS=$TS_RB
read_stats() { ts_stats "$RULE_NS" "ST_$1"; }

# delta FAMILY NAME: after - before.
delta() { echo $((${ST_after[$1.$2]:-0} - ${ST_before[$1.$2]:-0})); }

# stats_moved FAMILY NAME: true once NAME moved since "before" (for busywait,
# which runs it in a subshell: read_stats after again).
stats_moved() {
	read_stats after
	(($(delta "$1" "$2") > 0))
}

# rules_init: PROBE, the jump to it and the auto rule pair, in rb: in
# FORWARD, or in mangle POSTROUTING (which the measuring ports skip, as
# they skip the FORWARD rule by their ACCEPT).
rules_init() {
	local r auto='-p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead auto'
	local -a rules=('*filter' ':PROBE - [0:0]'
		'-A FORWARD -p tcp -m multiport --ports 7000:8999 -j PROBE')
	if [[ $CHAIN == POSTROUTING ]]; then
		rules+=('COMMIT' '*mangle'
			'-A POSTROUTING -p tcp -m multiport --ports 7000:8999 -j RETURN'
			"-A POSTROUTING $auto")
	else
		rules+=("-A FORWARD $auto")
	fi
	rules+=('COMMIT')
	for r in "$IPT_RESTORE" "$IP6T_RESTORE"; do
		printf '%s\n' "${rules[@]}" | ts_nsx "$TS_RB" "$r" --noflush || return
	done
}

# probe_rules M4 M6: PROBE lowers to M on ports PA4 PA6, to M+1 on PB4
# PB6 (fresh ports for each case).
probe_rules() {
	local m4=$1 m6=$2 r m
	PA4=$((PROBE_PORT + 1)) PA6=$((PROBE_PORT + 2))
	PB4=$((PROBE_PORT + 3)) PB6=$((PROBE_PORT + 4))
	PROBE_PORT=$((PROBE_PORT + 4))
	for r in "$IPT_RESTORE" "$IP6T_RESTORE"; do
		m=$m4
		[[ $r == "$IP6T_RESTORE" ]] && m=$m6
		printf '%s\n' '*filter' '-F PROBE' \
			"-A PROBE -p tcp -m multiport --ports $PA4,$PA6 -j IPSECMSS --set-mss $m" \
			"-A PROBE -p tcp -m multiport --ports $PB4,$PB6 -j IPSECMSS --set-mss $((m + 1))" \
			'-A PROBE -j ACCEPT' 'COMMIT' | ts_nsx "$TS_RB" "$r" --noflush || return
	done
}

# ------------------------------------------------------------- steps --

# confirm NAME M4 M6 E: TCP with --set-mss M crosses whole with full-size
# segments, with M+1 it does not.
confirm() {
	local name=$1 m4=$2 m6=$3 e=$4 ok4 ok6 l4 l6
	probe_rules "$m4" "$m6" || { fail "$name: PROBE rules"; return; }
	watch_start
	ts_xfer_start s4 "$TS_H1" "$TS_H2" "$TS_H2_4" "$XFER_BYTES" send $OK_MS $PA4
	ts_xfer_start s6 "$TS_H1" "$TS_H2" "$TS_H2_6" "$XFER_BYTES" recv $OK_MS $PA6
	ts_xfer_wait s4; ok4=$?
	ts_xfer_wait s6; ok6=$?
	watch_stop
	if ((ok4 == 0 && ok6 == 0 && W_FRAGS == 0 && W_LEN == e)); then
		pass "$name: --set-mss $m4 (IPv4, h1 sends) / $m6 (IPv6, h2 sends): 100 KB cross, no fragment, full-size segments (largest ESP packet $W_LEN = P's)"
	else
		fail "$name: --set-mss $m4 / $m6 should cross whole with full-size segments (ok4=$ok4 ok6=$ok6 frags=$W_FRAGS largest=$W_LEN, want $e)"
	fi

	watch_start
	ts_xfer_start t4 "$TS_H1" "$TS_H2" "$TS_H2_4" "$XFER_BYTES" send $STALL_MS $PB4
	ts_xfer_start t6 "$TS_H1" "$TS_H2" "$TS_H2_6" "$XFER_BYTES" recv $STALL_MS $PB6
	ts_xfer_wait t4 quiet; ok4=$?; l4=$(ts_kv error "$TS_XFER")
	ts_xfer_wait t6 quiet; ok6=$?; l6=$(ts_kv error "$TS_XFER")
	watch_stop
	if ((ok4 != 0 || W_FRAGS > 0)) && ((ok6 != 0 || W_FRAGS > 0)); then
		pass "$name: --set-mss $((m4 + 1)) / $((m6 + 1)) do not cross whole (IPv4: ${l4:-completed}, IPv6: ${l6:-completed}, $W_FRAGS fragments on the WAN)"
	else
		fail "$name: --set-mss $((m4 + 1)) / $((m6 + 1)) should stall or fragment (ok4=$ok4 ok6=$ok6 frags=$W_FRAGS)"
	fi
}

# auto_conns NAME M4 M6 E [FAMILIES]: four connections through the auto
# rule pair (two per family in FAMILIES, default "4 6": h1 -> h2 and
# h2 -> h1).  Sets A4 A6, the MSS auto gave (when both directions agree).
auto_conns() {
	local name=$1 m4=$2 m6=$3 e=$4 fams=${5:-4 6} c tag cns sns addr want ok=1 bad=()
	local tags=() f
	local -A got
	A4=- A6=-
	for f in $fams; do tags+=("a$f" "b$f"); done
	read_stats before
	watch_start
	for c in "a4 $TS_H1 $TS_H2 $TS_H2_4" "b4 $TS_H2 $TS_H1 $TS_H1_4" \
		 "a6 $TS_H1 $TS_H2 $TS_H2_6" "b6 $TS_H2 $TS_H1 $TS_H1_6"; do
		read -r tag cns sns addr <<<"$c"
		[[ " ${tags[*]} " == *" $tag "* ]] || continue
		PORT=$((PORT + 1))
		ts_syn_capture_start "$sns" eth0 "$tag.syn" $PORT 10000
		ts_syn_capture_start "$cns" eth0 "$tag.synack" $PORT 10000
		ts_xfer_start "$tag" "$cns" "$sns" "$addr" "$XFER_BYTES" send $OK_MS $PORT
	done
	for tag in "${tags[@]}"; do
		ts_xfer_wait "$tag" || { ok=0; bad+=("$tag: transfer failed;"); }
		got[$tag.syn]=$(ts_syn_capture_mss "$tag.syn" || echo none)
		got[$tag.synack]=$(ts_syn_capture_mss "$tag.synack" || echo none)
	done
	watch_stop
	read_stats after

	for tag in "${tags[@]}"; do
		want=$m4
		[[ $tag == ?6 ]] && want=$m6
		[[ ${got[$tag.syn]} == "$want" && ${got[$tag.synack]} == "$want" ]] ||
			{ ok=0; bad+=("$tag: SYN ${got[$tag.syn]} SYN/ACK ${got[$tag.synack]}, want $want;"); }
	done
	[[ -n ${got[a4.syn]:-} && ${got[a4.syn]} == "${got[b4.syn]}" ]] && A4=${got[a4.syn]}
	[[ -n ${got[a6.syn]:-} && ${got[a6.syn]} == "${got[b6.syn]}" ]] && A6=${got[a6.syn]}
	((W_FRAGS == 0 && W_LEN == e)) ||
		{ ok=0; bad+=("WAN: frags=$W_FRAGS largest=$W_LEN, want 0 and $e"); }
	if ((ok)); then
		pass "$name: auto: SYN and SYN/ACK carry $m4 (IPv4) / $m6 (IPv6) (families $fams), h1->h2 and h2->h1; ${#tags[@]} x 100 KB cross, no fragment, largest WAN packet $W_LEN"
	else
		fail "$name: auto: ${bad[*]}"
	fi

	local d4 d6 w4=0 w6=0
	d4=$(delta ipv4 lowered) d6=$(delta ipv6 lowered)
	[[ $fams == *4* ]] && w4=4
	[[ $fams == *6* ]] && w6=4
	if ((d4 == w4 && d6 == w6)); then
		pass "$name: counters: lowered +$d4 / +$d6 (2 connections x SYN + SYN/ACK per family)"
	else
		fail "$name: counters: lowered +$d4 / +$d6 (want $w4 / $w6); syn +$(delta ipv4 syn) / +$(delta ipv6 syn), already_low +$(delta ipv4 already_low) / +$(delta ipv6 already_low), no_sa +$(delta ipv4 no_sa) / +$(delta ipv6 no_sa), unknown_xfrm +$(delta ipv4 unknown_xfrm) / +$(delta ipv6 unknown_xfrm)"
	fi
}

# cli NAME SUITE MTU NATT M4 M6: calc and sa print the measured values.
# Sets C4 C6 S4 S6.
cli() {
	local name=$1 suite=$2 mtu=$3 natt=$4 m4=$5 m6=$6 line sa smtu args
	read -r -a args <<<"$(ts_calc_args "$suite")"
	((natt)) && args+=(--natt)
	line=$("$CLI" calc --mtu "$mtu" "${args[@]}" --porcelain 2>&1)
	C4=$(ts_kv mss4 "$line") C6=$(ts_kv mss6 "$line")
	sa=$(ts_nsx "$TS_RB" "$CLI" sa --porcelain 2>&1 | grep "^src=$TS_WAN_B4 dst=$TS_WAN_A4 ")
	S4=$(ts_kv mss4 "$sa") S6=$(ts_kv mss6 "$sa") smtu=$(ts_kv mtu "$sa")
	if [[ $C4 == "$m4" && $C6 == "$m6" && $S4 == "$m4" && $S6 == "$m6" && $smtu == "$mtu" ]]; then
		pass "$name: ipsecmss calc and ipsecmss sa (rb's outbound SA, mtu $smtu) print $m4 / $m6"
	else
		fail "$name: calc mss4/mss6 ${C4:-?}/${C6:-?}, sa ${S4:-?}/${S6:-?} mtu ${smtu:-?}; want $m4/$m6 mtu $mtu"
		echo "#   calc: $line"
		echo "#   sa:   ${sa:-(no outbound SA line)}"
	fi
}

# ------------------------------------------------------------- cases --

one_case() {
	local suite=$1 mtu=$2 natt=$3 name t0=$SECONDS nopt=() m4 m6
	((natt)) && nopt=(--natt)
	name="$suite mtu $mtu natt $natt"
	echo "# ---- $name"
	ts_retune --suite "$suite" --wan-mtu "$mtu" "${nopt[@]}" ||
		{ fail "$name: swap SAs"; return; }
	measure "$name" $((mtu - 100)) $((mtu - 40)) "$mtu" || return
	m4=$((P - 40)) m6=$((P - 60))
	echo "# $name: measured P=$P E=$E -> M4=$m4 M6=$m6"
	confirm "$name" "$m4" "$m6" "$E"
	auto_conns "$name" "$m4" "$m6" "$E"
	cli "$name" "$suite" "$mtu" "$natt" "$m4" "$m6"
	ROWS+=("$(printf '%-18s %4s %4s | %4s %4s | %4s %4s | %4s %4s | %4s %4s | %4s %4s | %3ss' \
		"$suite" "$mtu" "$natt" "$P" "$E" "$m4" "$m6" "$A4" "$A6" "$C4" "$C6" "$S4" "$S6" \
		$((SECONDS - t0)))")
}

# ------------------------------------------------------- extra cases --

# syn_from NS SRC DST PORT MSS: one crafted SYN from NS, MSS option MSS.
syn_from() {
	local from=$1 src=$2 dst=$3 port=$4 mss=$5
	ts_nsx "$from" "$TS_PROBE" syn --src "$src" --dst "$dst" --sport 40000 --dport "$port" \
		--opts "$(printf '0204%04x' "$mss")" >/dev/null
}

# SA not yet usable: the policies are there, rb's outbound SA (rb -> ra)
# is not (an IKE daemon still negotiating).  Nobody knows the size of the
# SA to come, so auto holds the SYN: it drops it and counts it in held;
# the sender retransmits it a second later, when the SA is there (what
# net.core.xfrm_larval_drop=1 does to the first packet anyway).
#  - xfrm_larval_drop=1 (default): SYNs h1 -> h2 (IPv4, IPv6) reach rb's
#    FORWARD through the tunnel; their reverse leg (rb -> h1) is the
#    missing SA (the reverse lookup fails with -EREMOTE).  (A SYN h2 -> h1
#    is dropped by the routing before FORWARD.)
#  - xfrm_larval_drop=0: the same SYNs (the reverse lookup fails with
#    -EAGAIN), and a SYN h2 -> h1, which reaches FORWARD on xfrm's queue
#    placeholder (DST_XFRM_QUEUE).
# None of them reaches the far host.  (tests/net/auto_held.sh shows the
# retransmission meeting the SA, with an SA installed on ACQUIRE.)
sa_missing() {
	local name="SA not yet usable" p4 p6 pq m4 m6 mq ld
	TUNNEL=1
	ts_retune --suite aes-cbc-sha1 --wan-mtu 1454 || { fail "$name: SAs"; return; }
	ip -n "$TS_RB" xfrm state delete src "$TS_WAN_B4" dst "$TS_WAN_A4" proto esp spi 0x2000 ||
		{ fail "$name: delete rb's outbound SA"; return; }

	for ld in 1 0; do
		ts_nsx "$TS_RB" sysctl -qw net.core.xfrm_larval_drop=$ld
		p4=$((PORT + 1)) p6=$((PORT + 2)) pq=$((PORT + 3))
		PORT=$((PORT + 3))
		read_stats before
		ts_syn_capture_start "$TS_H2" eth0 m4 $p4 1500
		ts_syn_capture_start "$TS_H2" eth0 m6 $p6 1500
		ts_syn_capture_start "$TS_H1" eth0 mq $pq 1500
		syn_from "$TS_H1" "$TS_H1_4" "$TS_H2_4" $p4 1460
		syn_from "$TS_H1" "$TS_H1_6" "$TS_H2_6" $p6 1440
		((ld)) || syn_from "$TS_H2" "$TS_H2_4" "$TS_H1_4" $pq 1460
		m4=$(ts_syn_capture_mss m4 || echo none) m6=$(ts_syn_capture_mss m6 || echo none) mq=$(ts_syn_capture_mss mq || echo none)
		read_stats after
		local w4=$((ld ? 1 : 2)) what="SYNs h1 -> h2 (IPv4, IPv6)"
		((ld)) || what+=" and h2 -> h1 (IPv4, on xfrm's queue)"
		if [[ $m4 == none && $m6 == none && $mq == none ]] &&
		   (($(delta ipv4 syn) == w4 && $(delta ipv4 held) == w4 &&
		     $(delta ipv6 syn) == 1 && $(delta ipv6 held) == 1)); then
			pass "$name (larval_drop=$ld): $what held: dropped, none arrives; held +$w4 / +1"
		else
			fail "$name (larval_drop=$ld): $what should be held: arrived with MSS $m4 / $m6 / $mq (none expected); syn +$(delta ipv4 syn) / +$(delta ipv6 syn), held +$(delta ipv4 held) / +$(delta ipv6 held) (want +$w4 / +1), no_sa +$(delta ipv4 no_sa) / +$(delta ipv6 no_sa), lowered +$(delta ipv4 lowered) / +$(delta ipv6 lowered)"
		fi
	done
	ts_nsx "$TS_RB" sysctl -qw net.core.xfrm_larval_drop=1
}

# Route-based tunnel: an xfrm interface ipsec0 (if_id 7) on each router,
# SAs and policies with if_id 7, the far LAN routed via ipsec0, whose MTU
# the admin sets (1400 here, below what ESP over the 1500-byte WAN allows).
# The forwarded SYN's route is a plain route via ipsec0; auto repeats the
# interface's own SA lookup (if_id 7, oif = wan0) and takes the smaller of
# ipsec0's MTU and the bundle's: here ipsec0's.  The expected value is the
# measured one; tests/net/auto_routebased.sh has the other shapes (default
# MTU 1500, where the bundle is smaller, VTI, vti6, NAT-T).
route_based() {
	local name="route-based (ipsec0 if_id 7, MTU 1400, WAN 1500)" ns a b
	local l1=$TS_LAN1_4 l2=$TS_LAN2_4 l16=$TS_LAN1_6 l26=$TS_LAN2_6 me peer out
	local o1 o2 o3 o4 pair x y
	TUNNEL=1
	# shellcheck disable=SC2034 # read by ts_states_batch
	TS_SUITE=aes-cbc-sha1 TS_NATT=0
	ts_algo_cache "$TS_SUITE"
	for ns in "$TS_RA" "$TS_RB"; do
		if [[ $ns == "$TS_RA" ]]; then
			me=$TS_WAN_A4 peer=$TS_WAN_B4 out="$l1 $l2 $l16 $l26" a=1 b=2
		else
			me=$TS_WAN_B4 peer=$TS_WAN_A4 out="$l2 $l1 $l26 $l16" a=2 b=1
		fi
		read -r o1 o2 o3 o4 <<<"$out"
		{
			echo "xfrm policy flush"
			echo "xfrm state flush"
			echo "link set dev wan0 mtu 1500"
			echo "link add ipsec0 type xfrm dev wan0 if_id 7"
			echo "link set dev ipsec0 mtu 1400 up"
			ts_states_batch "$TS_WAN_A4" "$TS_WAN_B4" "if_id 7"
			for pair in "$o1 $o2" "$o3 $o4"; do
				read -r x y <<<"$pair"
				echo "xfrm policy add src $x dst $y dir out if_id 7 tmpl src $me dst $peer proto esp mode tunnel reqid $a"
				echo "xfrm policy add src $y dst $x dir fwd if_id 7 tmpl src $peer dst $me proto esp mode tunnel reqid $b"
				echo "xfrm policy add src $y dst $x dir in if_id 7 tmpl src $peer dst $me proto esp mode tunnel reqid $b"
				echo "route replace $y dev ipsec0"
			done
		} | ip -n "$ns" -batch - || { fail "$name: setup in $ns"; return; }
	done
	measure "$name" 1300 1401 1500 || return
	echo "# $name: measured P=$P E=$E -> M4=$((P - 40)) M6=$((P - 60))"
	auto_conns "$name" $((P - 40)) $((P - 60)) "$E"
	ROWS+=("$(printf '%-18s %4s %4s | %4s %4s | %4s %4s | %4s %4s |' \
		"xfrmi-mtu1400" 1500 0 "$P" "$E" $((P - 40)) $((P - 60)) "$A4" "$A6")")
}

# A single-family gateway: each router keeps one outbound policy (the IPv4
# one; the IPv6 ones go).  The SYN/ACK entering rb's tunnel then takes
# auto's short cut: the only outbound policy is its own bundle's and the
# reverse flow lies outside it, so the reverse policy lookup is skipped.
# The MSS must be the same exact one; the policies come back after.
single_policy() {
	local name="one outbound policy (IPv4 only, WAN $TS_WAN_MTU)" out
	local a=$TS_WAN_A4 b=$TS_WAN_B4
	[[ $TS_OUTER == 6 ]] && a=$TS_WAN_A6 b=$TS_WAN_B6
	ip -n "$TS_RA" xfrm policy delete src "$TS_LAN1_6" dst "$TS_LAN2_6" dir out &&
		ip -n "$TS_RB" xfrm policy delete src "$TS_LAN2_6" dst "$TS_LAN1_6" dir out ||
		{ fail "$name: cannot remove the IPv6 outbound policies"; return; }
	out=$(ip -n "$TS_RB" xfrm policy count)
	if [[ $out == *"OUT 1 "* || $out == *"OUT 1,"* ]]; then
		pass "$name: rb has exactly one outbound policy ($out)"
	else
		fail "$name: rb should have one outbound policy ($out)"
	fi
	if measure "$name" $((TS_WAN_MTU - 100)) $((TS_WAN_MTU - 40)) "$TS_WAN_MTU"; then
		echo "# $name: measured P=$P E=$E -> M4=$((P - 40))"
		auto_conns "$name" $((P - 40)) $((P - 60)) "$E" 4
		ROWS+=("$(printf '%-18s %4s %4s | %4s %4s | %4s %4s | %4s %4s |' \
			"one-policy" "$TS_WAN_MTU" "$TS_NATT" "$P" "$E" $((P - 40)) - "$A4" -)")
	fi
	ip -n "$TS_RA" xfrm policy add src "$TS_LAN1_6" dst "$TS_LAN2_6" dir out \
		tmpl src "$a" dst "$b" proto esp mode tunnel reqid 1 &&
		ip -n "$TS_RB" xfrm policy add src "$TS_LAN2_6" dst "$TS_LAN1_6" dir out \
		tmpl src "$b" dst "$a" proto esp mode tunnel reqid 2 ||
		fail "$name: cannot restore the IPv6 outbound policies"
}

# No tunnel at all: plain routes over a 1400-byte WAN (what ts_setup
# --no-tunnel builds); auto is the route's MTU - 40 / - 60.
no_tunnel() {
	local name="no tunnel (WAN 1400)" ns peer peer6 l l6
	for ns in "$TS_RA" "$TS_RB"; do
		if [[ $ns == "$TS_RA" ]]; then
			peer=$TS_WAN_B4 peer6=$TS_WAN_B6 l=$TS_LAN2_4 l6=$TS_LAN2_6
		else
			peer=$TS_WAN_A4 peer6=$TS_WAN_A6 l=$TS_LAN1_4 l6=$TS_LAN1_6
		fi
		printf '%s\n' "xfrm policy flush" "xfrm state flush" "link del ipsec0" \
			"link set dev wan0 mtu 1400" "route replace $l via $peer dev wan0" \
			"route replace $l6 via $peer6 dev wan0" | ip -n "$ns" -force -batch - ||
			{ fail "$name: setup in $ns"; return; }
	done
	TUNNEL=0
	measure "$name" 1300 1401 1400 || return
	echo "# $name: measured P=$P -> M4=$((P - 40)) M6=$((P - 60))"
	auto_conns "$name" $((P - 40)) $((P - 60)) "$E"
	ROWS+=("$(printf '%-18s %4s %4s | %4s %4s | %4s %4s | %4s %4s |' \
		"no-tunnel" 1400 - "$P" "$E" $((P - 40)) $((P - 60)) "$A4" "$A6")")
	TUNNEL=1
}

print_table() {
	local r
	echo "# suite              mtu natt |    P    E |   M4   M6 | auto4/6   | calc4/6   | sa4/6     | time"
	for r in "${ROWS[@]}"; do
		echo "# $r"
	done
}

main() {
	local suite mtu natt
	require_cmd ipsecmss-probe socat ping "$CLI"
	[[ -e /proc/net/stat/ipsecmss ]] || modprobe xt_IPSECMSS 2>/dev/null
	T0=$SECONDS
	ts_setup --suite aes-cbc-sha1 --wan-mtu 1500 || { fail "two-site topology"; finish; }
	ts_ns_pid "$TS_RA"; RA_PID=$TS_NS_PID
	ts_ns_pid "$TS_RB"; RB_PID=$TS_NS_PID
	rules_init || { fail "rb's rules"; finish; }
	[[ -r /proc/$RB_PID/net/stat/ipsecmss ]] || { fail "no /proc/net/stat/ipsecmss in rb"; finish; }
	echo "# setup: $((SECONDS - T0)) s"
	for suite in $SUITES; do
		for mtu in $MTUS; do
			for natt in $NATTS; do
				one_case "$suite" "$mtu" "$natt"
			done
		done
	done
	echo "# exact cases: $((SECONDS - T0)) s"
	if ((EXTRA)); then
		single_policy
		sa_missing
		route_based
		no_tunnel
		echo "# extra cases: done at $((SECONDS - T0)) s"
	fi
	print_table
	ts_teardown
	finish
}

# (Sourced, it only defines its functions.)
[[ ${BASH_SOURCE[0]} == "$0" ]] && main
