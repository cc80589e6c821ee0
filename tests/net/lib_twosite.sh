# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The seed's topology, for the guest tests: two sites joined by an ESP
# tunnel between their routers over a small-MTU WAN.  Source it after lib.sh
# (its namespace plumbing, nsx and KTAP helpers are used here).
#
#   h1 ---- ra ================ rb ---- h2
#   lan1      wan0  ESP tunnel  wan0      lan2
#   192.168.10.0/24  198.51.100.0/24   192.168.20.0/24
#   fd10::/64        2001:db8::/64     fd20::/64
#
# ts_setup [--suite S] [--natt] [--outer 4|6] [--wan-mtu N] [--wan veth|pppoe]
#          [--no-blackhole] [--no-tunnel]
# builds it: static SAs and policies for both inner families carried by one
# SA pair (flag af-unspec), and, unless --no-blackhole, a PMTU black hole:
# ICMP "fragmentation needed" / ICMPv6 "packet too big" dropped wherever
# a router would send or forward it, so only the MSS can save a flow.
#
# With --wan pppoe the WAN is a real PPPoE session instead (IPv4 only):
#
#   ra: pppd + rp-pppoe.so ---- wane (veth, Ethernet) ---- rb: pppoe-server
#       ppp0 198.51.100.1          PPPoE session           ppp0 198.51.100.2
#
# Suites (ts_suites lists them): aes-cbc-sha1 aes-cbc-sha256 aes-gcm-16
# chacha20-poly1305 3des-cbc-sha1.
#
# Speed: under TCG every program start costs 50-500 ms (dynamic linking),
# so the topology is built with one `ip -batch` per namespace, the rules
# with one iptables-restore per table, and commands enter a namespace
# with nsenter (no mount namespace, unlike `ip netns exec`).

# The namespaces: unique per run (lib.sh's KSFT_NS_SUFFIX).
TS_H1=ts_h1$KSFT_NS_SUFFIX
TS_RA=ts_ra$KSFT_NS_SUFFIX
TS_RB=ts_rb$KSFT_NS_SUFFIX
TS_H2=ts_h2$KSFT_NS_SUFFIX

TS_H1_4=192.168.10.2
TS_H2_4=192.168.20.2
TS_H1_6=fd10::2
TS_H2_6=fd20::2
TS_LAN1_4=192.168.10.0/24
TS_LAN2_4=192.168.20.0/24
TS_LAN1_6=fd10::/64
TS_LAN2_6=fd20::/64
TS_WAN_A4=198.51.100.1
TS_WAN_B4=198.51.100.2
TS_WAN_A6=2001:db8::1
TS_WAN_B6=2001:db8::2

TS_SUITE=aes-cbc-sha1
TS_NATT=0
TS_OUTER=4
TS_WAN_MTU=1454
TS_WAN=veth
TS_WAN_IF=wan0		# the WAN interface in ra and rb (ppp0 with PPPoE)
TS_PROBE=${TS_PROBE:-ipsecmss-probe}
TS_TMP=${TS_TMP:-/tmp/twosite}

ts_suites() {
	echo aes-cbc-sha1 aes-cbc-sha256 aes-gcm-16 chacha20-poly1305 3des-cbc-sha1
}

# Deterministic test keys: N bytes as hex.
ts_key() {
	local n=$1 i b out=0x
	for ((i = 0; i < n; i++)); do
		printf -v b '%02x' $(((i * 37 + 11) & 255))
		out+=$b
	done
	echo "$out"
}

# ts_algo SUITE: the `ip xfrm state` algorithm arguments of a suite.
ts_algo() {
	case $1 in
	aes-cbc-sha1)
		echo "enc cbc(aes) $(ts_key 16) auth-trunc hmac(sha1) $(ts_key 20) 96" ;;
	aes-cbc-sha256)
		echo "enc cbc(aes) $(ts_key 16) auth-trunc hmac(sha256) $(ts_key 32) 128" ;;
	aes-gcm-16)
		echo "aead rfc4106(gcm(aes)) $(ts_key 20) 128" ;;
	chacha20-poly1305)
		echo "aead rfc7539esp(chacha20,poly1305) $(ts_key 36) 128" ;;
	3des-cbc-sha1)
		echo "enc cbc(des3_ede) $(ts_key 24) auth-trunc hmac(sha1) $(ts_key 20) 96" ;;
	*)
		return 1 ;;
	esac
}

# ts_calc_args SUITE: the same suite as `ipsecmss calc` options.
ts_calc_args() {
	case $1 in
	aes-cbc-sha1)      echo "--enc aes-cbc --key-bits 128 --auth hmac-sha1-96" ;;
	aes-cbc-sha256)    echo "--enc aes-cbc --key-bits 128 --auth hmac-sha256-128" ;;
	aes-gcm-16)        echo "--aead aes-gcm-16" ;;
	chacha20-poly1305) echo "--aead chacha20-poly1305" ;;
	3des-cbc-sha1)     echo "--enc 3des-cbc --key-bits 192 --auth hmac-sha1-96" ;;
	*)                 return 1 ;;
	esac
}

# ts_esp_params SUITE: sets TS_ESP_IV, TS_ESP_ICV and TS_ESP_BLOCK (B, the
# padding alignment) of a suite, the sizes of /work/shared/esp-overhead.md.
ts_esp_params() {
	case $1 in
	aes-cbc-sha1)      TS_ESP_IV=16 TS_ESP_ICV=12 TS_ESP_BLOCK=16 ;;
	aes-cbc-sha256)    TS_ESP_IV=16 TS_ESP_ICV=16 TS_ESP_BLOCK=16 ;;
	aes-gcm-16)        TS_ESP_IV=8 TS_ESP_ICV=16 TS_ESP_BLOCK=4 ;;
	chacha20-poly1305) TS_ESP_IV=8 TS_ESP_ICV=16 TS_ESP_BLOCK=4 ;;
	3des-cbc-sha1)     TS_ESP_IV=8 TS_ESP_ICV=12 TS_ESP_BLOCK=8 ;;
	*)                 return 1 ;;
	esac
}

# ts_esp_math SUITE NATT OUTER MTU: the documented arithmetic, no program
# involved.  Sets TS_WORST_N (the worst-case overhead N = H + ICV + 2 +
# B - 1, H = outer + UDP + 8 + IV) and TS_EXACT_INNER (the largest inner
# packet: floor((MTU - H - ICV) / B) * B - 2).
ts_esp_math() {
	local suite=$1 natt=$2 outer=$3 mtu=$4 h
	ts_esp_params "$suite" || return
	h=$(((outer == 6 ? 40 : 20) + (natt ? 8 : 0) + 8 + TS_ESP_IV))
	TS_WORST_N=$((h + TS_ESP_ICV + 2 + TS_ESP_BLOCK - 1))
	TS_EXACT_INNER=$(((mtu - h - TS_ESP_ICV) / TS_ESP_BLOCK * TS_ESP_BLOCK - 2))
}

ts_parse_args() {
	TS_SUITE=aes-cbc-sha1
	TS_NATT=0
	TS_OUTER=4
	TS_WAN_MTU=1454
	TS_WAN=veth
	TS_BLACKHOLE=1
	TS_TUNNEL=1
	while (($#)); do
		case $1 in
		--suite) TS_SUITE=$2; shift ;;
		--natt) TS_NATT=1 ;;
		--outer) TS_OUTER=$2; shift ;;
		--wan-mtu) TS_WAN_MTU=$2; shift ;;
		--wan) TS_WAN=$2; shift ;;
		--no-blackhole) TS_BLACKHOLE=0 ;;
		--no-tunnel) TS_TUNNEL=0 ;;
		*) echo "ts_setup: unknown option $1" >&2; return 1 ;;
		esac
		shift
	done
	ts_algo "$TS_SUITE" >/dev/null || { echo "ts_setup: unknown suite $TS_SUITE" >&2; return 1; }
}

# ------------------------------------------------------------ plumbing --

# ts_nsx NS CMD... / ts_nsx_exec NS CMD...: lib.sh's nsx / nsx_exec
# (nsenter into the network namespace only: ten times cheaper than `ip
# netns exec` under TCG).
ts_nsx() { nsx "$@"; }
ts_nsx_exec() { nsx_exec "$@"; }

# ts_ipt / ts_ip6t NS ARGS: $IPTABLES / $IP6TABLES in NS (like ipt_ns).
ts_ipt() { local ns=$1; shift; ts_nsx "$ns" "$IPTABLES" "$@"; }
ts_ip6t() { local ns=$1; shift; ts_nsx "$ns" "$IP6TABLES" "$@"; }

# ts_ipt_restore NS 4|6: feed stdin to $IPTABLES-restore --noflush (or the
# ip6tables one) in NS: a whole rule set for the price of one program.
ts_ipt_restore() {
	local ns=$1 cmd=$IPTABLES
	[[ $2 == 6 ]] && cmd=$IP6TABLES
	ts_nsx "$ns" "$cmd-restore" --noflush
}

# _ts_q NS COMMAND: queue an ip(8) command for namespace NS ("-": the
# initial namespace); _ts_flush runs the queue, the initial namespace's
# commands first, then one `ip -n NS -batch` per namespace in order.
_TS_Q_NS=()
_TS_Q_CMD=()
_ts_q() {
	_TS_Q_NS+=("$1")
	_TS_Q_CMD+=("$2")
}
_ts_flush() {
	local i ns rc=0 order=(-)
	local -A cmds=()
	for i in "${!_TS_Q_NS[@]}"; do
		ns=${_TS_Q_NS[i]}
		[[ -n ${cmds[$ns]+x} || $ns == - ]] || order+=("$ns")
		cmds[$ns]+=${_TS_Q_CMD[i]}$'\n'
	done
	_TS_Q_NS=()
	_TS_Q_CMD=()
	for ns in "${order[@]}"; do
		[[ -n ${cmds[$ns]+x} ]] || continue
		if [[ $ns == - ]]; then
			ip -batch - <<<"${cmds[$ns]}" || rc=1
		else
			ip -n "$ns" -batch - <<<"${cmds[$ns]}" || rc=1
		fi
	done
	return $rc
}

# Namespaces come and go through lib.sh (one `ip -batch` each way, no
# program per namespace); the names carry its per-run suffix.
# _ts_ns_destroy NS...: lib.sh's ksft_ns_destroy.
# _ts_gone MS PID...: lib.sh's _ksft_gone.
_ts_ns_destroy() { ksft_ns_destroy "$@"; }
_ts_gone() { _ksft_gone "$@"; }

# _ts_ns_create NS...: lib.sh's _ksft_ns_add; lo comes up with the next
# _ts_flush.
_ts_ns_create() {
	local ns
	_ksft_ns_add "$@" || return
	for ns; do
		_ts_q "$ns" "link set lo up"
	done
}

# ------------------------------------------------------------- topology --

# Wire-sized packets everywhere sizes are measured (see vm-notes: veth
# passes GSO aggregates of up to 64 KB otherwise).
_ts_no_gso_q() {
	_ts_q "$1" "link set dev $2 gso_max_segs 1"
	_ts_q "$1" "link set dev $2 gro_max_size 0"
}
ts_no_gso() {
	_ts_no_gso_q "$@"
	_ts_flush 2>/dev/null
	return 0
}

ts_sysctls() {
	local ns=$1
	ts_nsx "$ns" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1 net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 >/dev/null
}

# _ts_veth_q NS1 IF1 NS2 IF2: make_veth, queued.
_ts_veth_q() {
	_ts_q - "link add name $2 netns $1 type veth peer name $4 netns $3"
	_ts_q "$1" "link set $2 up"
	_ts_q "$3" "link set $4 up"
}

_ts_lans_q() {
	_ts_veth_q "$TS_H1" eth0 "$TS_RA" lan0
	_ts_veth_q "$TS_H2" eth0 "$TS_RB" lan0
	_ts_q "$TS_H1" "addr add $TS_H1_4/24 dev eth0"
	_ts_q "$TS_H1" "addr add $TS_H1_6/64 dev eth0 nodad"
	_ts_q "$TS_RA" "addr add 192.168.10.1/24 dev lan0"
	_ts_q "$TS_RA" "addr add fd10::1/64 dev lan0 nodad"
	_ts_q "$TS_H2" "addr add $TS_H2_4/24 dev eth0"
	_ts_q "$TS_H2" "addr add $TS_H2_6/64 dev eth0 nodad"
	_ts_q "$TS_RB" "addr add 192.168.20.1/24 dev lan0"
	_ts_q "$TS_RB" "addr add fd20::1/64 dev lan0 nodad"
	_ts_q "$TS_H1" "route add default via 192.168.10.1"
	_ts_q "$TS_H1" "route add ::/0 via fd10::1"
	_ts_q "$TS_H2" "route add default via 192.168.20.1"
	_ts_q "$TS_H2" "route add ::/0 via fd20::1"
	_ts_no_gso_q "$TS_H1" eth0
	_ts_no_gso_q "$TS_H2" eth0
	_ts_no_gso_q "$TS_RA" lan0
	_ts_no_gso_q "$TS_RB" lan0
}
ts_lans() {
	_ts_lans_q
	_ts_flush
}

_ts_wan_veth_q() {
	_ts_veth_q "$TS_RA" wan0 "$TS_RB" wan0
	_ts_q "$TS_RA" "link set wan0 mtu $TS_WAN_MTU"
	_ts_q "$TS_RB" "link set wan0 mtu $TS_WAN_MTU"
	_ts_q "$TS_RA" "addr add $TS_WAN_A4/24 dev wan0"
	_ts_q "$TS_RB" "addr add $TS_WAN_B4/24 dev wan0"
	_ts_q "$TS_RA" "addr add $TS_WAN_A6/64 dev wan0 nodad"
	_ts_q "$TS_RB" "addr add $TS_WAN_B6/64 dev wan0 nodad"
	_ts_no_gso_q "$TS_RA" wan0
	_ts_no_gso_q "$TS_RB" wan0
	TS_WAN_IF=wan0
}
ts_wan_veth() {
	_ts_wan_veth_q
	_ts_flush
}

# ts_wan_pppoe: the WAN as a real PPPoE session over an Ethernet (veth
# "wane") between the routers: pppoe-server (with its user-space relay and
# a pppd per session, Debian has no kernel mode) in rb, pppd with the
# rp-pppoe plugin in ra.  Both PPP ends get mtu/mru TS_WAN_MTU and the
# addresses TS_WAN_A4 (ra) / TS_WAN_B4 (rb); TS_WAN_IF becomes ppp0.
# pppoe-server appends "mru 1492 mtu 1492" after its -O options and pppd
# keeps the last value: a wrapper given with -q re-appends ours.
TS_PPP_TIMEOUT=${TS_PPP_TIMEOUT:-30000}
ts_wan_pppoe() {
	local d=$TS_TMP/ppp plugin common p pppd
	mkdir -p "$d"
	_ts_veth_q "$TS_RA" wane "$TS_RB" wane
	_ts_flush || return
	common="lcp-restart 1 ipcp-restart 1 pap-restart 1 chap-restart 1
noccp novj nodefaultroute noipv6 lcp-echo-interval 0"
	cat >"$d/server-options" <<-EOF
	noauth
	$common
	mtu $TS_WAN_MTU
	mru $TS_WAN_MTU
	EOF
	pppd=$(command -v pppd) || { ktap_print_msg "no pppd"; return 1; }
	cat >"$d/pppd-server" <<-EOF
	#!/bin/sh
	exec $pppd "\$@" mtu $TS_WAN_MTU mru $TS_WAN_MTU ifname ppp0 linkname ts-rb logfile $d/rb.log
	EOF
	chmod +x "$d/pppd-server"
	: >"$d/rb.log"
	: >"$d/ra.log"
	ts_nsx_exec "$TS_RB" pppoe-server -I wane -L "$TS_WAN_B4" -R "$TS_WAN_A4" \
		-N 1 -O "$d/server-options" -q "$d/pppd-server" \
		-X "$d/pppoe-server.pid" </dev/null >"$d/server.out" 2>&1 &
	# A PADI sent before the discovery socket exists costs 5 s.
	if ! busywait 10000 _ts_packet_proto "$TS_RB" 8863 >/dev/null; then
		ktap_print_msg "pppoe-server did not open its discovery socket:"
		ktap_print_lines "  " <"$d/server.out"
		return 1
	fi
	plugin=pppoe.so
	for p in /usr/lib/pppd/*/rp-pppoe.so; do
		[[ -e $p ]] && plugin=rp-pppoe.so
	done
	# shellcheck disable=SC2086 # $common: one option per word
	ts_nsx_exec "$TS_RA" pppd plugin "$plugin" nic-wane noauth nodetach \
		$common mtu "$TS_WAN_MTU" mru "$TS_WAN_MTU" ifname ppp0 \
		linkname ts-ra logfile "$d/ra.log" maxfail 1 \
		"$TS_WAN_A4:$TS_WAN_B4" </dev/null >"$d/ra.out" 2>&1 &
	TS_PPPD_PID=$!
	if ! busywait "$TS_PPP_TIMEOUT" _ts_ppp_up >/dev/null; then
		ktap_print_msg "the PPPoE session did not come up; pppd logs:"
		tail -n 15 "$d/ra.log" "$d/rb.log" "$d/ra.out" "$d/server.out" 2>&1 | ktap_print_lines "  "
		return 1
	fi
	TS_WAN_IF=ppp0
}

# _ts_packet_proto NS PROTO: a packet socket of ethertype PROTO (hex) is open in NS.
_ts_packet_proto() {
	ts_nsx "$1" grep -q " $2 " /proc/net/packet
}

# _ts_ppp_up: ppp0 carries the agreed addresses in both routers.
_ts_ppp_up() {
	[[ $(ip -n "$TS_RA" -4 -o addr show dev ppp0 2>/dev/null) == *"$TS_WAN_A4 peer $TS_WAN_B4"* ]] &&
		[[ $(ip -n "$TS_RB" -4 -o addr show dev ppp0 2>/dev/null) == *"$TS_WAN_B4 peer $TS_WAN_A4"* ]]
}

# ts_link_mtu NS DEV: the MTU the interface reports.
ts_link_mtu() {
	local out
	out=$(ip -n "$1" -o link show dev "$2" 2>/dev/null) || return 1
	out=${out#* mtu }
	echo "${out%% *}"
}

# Routes to the far LAN over the WAN (the policy-based tunnel needs a route
# before the xfrm lookup can put the bundle on it).
_ts_routes_q() {
	_ts_q "$TS_RA" "route add $TS_LAN2_4 via $TS_WAN_B4 dev $TS_WAN_IF"
	_ts_q "$TS_RB" "route add $TS_LAN1_4 via $TS_WAN_A4 dev $TS_WAN_IF"
	if [[ $TS_WAN == veth ]]; then
		_ts_q "$TS_RA" "route add $TS_LAN2_6 via $TS_WAN_B6 dev wan0"
		_ts_q "$TS_RB" "route add $TS_LAN1_6 via $TS_WAN_A6 dev wan0"
	fi
}
ts_routes() {
	_ts_routes_q
	_ts_flush
}

# ts_policies NS LOCAL REMOTE LOCAL_LAN REMOTE_LAN OUT_REQID IN_REQID
_ts_policies_q() {
	local ns=$1 me=$2 peer=$3 mine=$4 theirs=$5 oreq=$6 ireq=$7
	_ts_q "$ns" "xfrm policy add src $mine dst $theirs dir out tmpl src $me dst $peer proto esp mode tunnel reqid $oreq"
	_ts_q "$ns" "xfrm policy add src $theirs dst $mine dir fwd tmpl src $peer dst $me proto esp mode tunnel reqid $ireq"
	_ts_q "$ns" "xfrm policy add src $theirs dst $mine dir in tmpl src $peer dst $me proto esp mode tunnel reqid $ireq"
}
ts_policies() {
	_ts_policies_q "$@"
	_ts_flush
}

# The receiver decapsulates ESP-in-UDP only on a UDP_ENCAP socket bound to
# 4500, normally the IKE daemon's: socat holds one (vm-notes).
ts_natt_socket() {
	local ns=$1
	ts_nsx_exec "$ns" socat -u \
		UDP4-DATAGRAM:127.0.0.1:9,bind=0.0.0.0:4500,setsockopt-int=17:100:2 \
		/dev/null </dev/null >/dev/null 2>&1 &
	busywait 5000 _ts_udp_bound $! 4500 >/dev/null
}

# _ts_udp_bound PID PORT: a UDP socket on PORT exists in PID's namespace.
_ts_udp_bound() {
	local line hex
	printf -v hex ':%04X ' "$2"
	while read -r line; do
		[[ $line == *"$hex"* ]] && return 0
	done <"/proc/$1/net/udp"
	return 1
}

_ts_tunnel_q() {
	local a b algo ns
	if [[ $TS_OUTER == 6 ]]; then
		a=$TS_WAN_A6 b=$TS_WAN_B6
	else
		a=$TS_WAN_A4 b=$TS_WAN_B4
	fi
	algo=$(ts_algo "$TS_SUITE") || return
	((TS_NATT)) && algo+=" encap espinudp 4500 4500 0.0.0.0"
	for ns in "$TS_RA" "$TS_RB"; do
		_ts_q "$ns" "xfrm state add src $a dst $b proto esp spi 0x1000 reqid 1 mode tunnel flag af-unspec $algo"
		_ts_q "$ns" "xfrm state add src $b dst $a proto esp spi 0x2000 reqid 2 mode tunnel flag af-unspec $algo"
	done
	_ts_policies_q "$TS_RA" "$a" "$b" "$TS_LAN1_4" "$TS_LAN2_4" 1 2
	_ts_policies_q "$TS_RB" "$b" "$a" "$TS_LAN2_4" "$TS_LAN1_4" 2 1
	_ts_policies_q "$TS_RA" "$a" "$b" "$TS_LAN1_6" "$TS_LAN2_6" 1 2
	_ts_policies_q "$TS_RB" "$b" "$a" "$TS_LAN2_6" "$TS_LAN1_6" 2 1
}
_ts_natt_sockets() {
	if ((TS_NATT)); then
		ts_natt_socket "$TS_RA" || return
		ts_natt_socket "$TS_RB" || return
	fi
	return 0
}
ts_tunnel() {
	_ts_tunnel_q || return
	_ts_flush || return
	_ts_natt_sockets
}

# The PMTU black hole: no "fragmentation needed" reaches a sender.
ts_blackhole() {
	local ns
	for ns in "$TS_RA" "$TS_RB"; do
		ts_ipt_restore "$ns" 4 <<-EOF || return
		*filter
		-A OUTPUT -p icmp --icmp-type fragmentation-needed -j DROP
		-A FORWARD -p icmp --icmp-type fragmentation-needed -j DROP
		COMMIT
		EOF
		ts_ipt_restore "$ns" 6 <<-EOF || return
		*filter
		-A OUTPUT -p icmpv6 --icmpv6-type packet-too-big -j DROP
		-A FORWARD -p icmpv6 --icmpv6-type packet-too-big -j DROP
		COMMIT
		EOF
	done
}

ts_setup() {
	ts_parse_args "$@" || return
	mkdir -p "$TS_TMP"
	_TS_Q_NS=()
	_TS_Q_CMD=()
	_ts_ns_create "$TS_H1" "$TS_RA" "$TS_RB" "$TS_H2" || return
	local ns
	for ns in "$TS_H1" "$TS_RA" "$TS_RB" "$TS_H2"; do
		ts_sysctls "$ns"
	done
	_ts_lans_q
	case $TS_WAN in
	veth) _ts_wan_veth_q ;;
	pppoe) _ts_flush && ts_wan_pppoe || return ;;
	*) echo "ts_setup: unknown WAN $TS_WAN" >&2; return 1 ;;
	esac
	_ts_routes_q
	if ((TS_TUNNEL)); then
		_ts_tunnel_q || return
	fi
	_ts_flush || return
	if ((TS_TUNNEL)); then
		_ts_natt_sockets || return
	fi
	if ((TS_BLACKHOLE)); then
		ts_blackhole || return
	fi
	# The first packet of a flow resolves neighbours; do it now, quietly.
	ts_nsx "$TS_H1" ping -c1 -W2 "$TS_H2_4" >/dev/null 2>&1
	return 0
}

ts_teardown() {
	_ts_ns_destroy "$TS_H1" "$TS_RA" "$TS_RB" "$TS_H2"
	pkill -f "ipsecmss-probe" 2>/dev/null
	cleanup_all_ns
	rm -rf "$TS_TMP"
}

# ---------------------------------------------------------- measurements --

# ts_watch_start: count what crosses ra's WAN interface (both directions).
ts_watch_start() {
	rm -f "$TS_TMP/watch.ready" "$TS_TMP/watch.out"
	ts_nsx_exec "$TS_RA" "$TS_PROBE" wan-watch --iface "$TS_WAN_IF" \
		--duration 600000 --ready "$TS_TMP/watch.ready" \
		>"$TS_TMP/watch.out" 2>&1 &
	TS_WATCH_PID=$!
	busywait 5000 test -e "$TS_TMP/watch.ready" >/dev/null
}

# ts_watch_stop: stop it; sets TS_ESP TS_NATT_PKTS TS_MAX_LEN TS_ESP_MAX_LEN
# TS_FRAGS from its report and prints the report.
ts_watch_stop() {
	local line kv
	kill -INT "$TS_WATCH_PID" 2>/dev/null
	wait "$TS_WATCH_PID" 2>/dev/null
	line=$(grep -m1 '^esp=' "$TS_TMP/watch.out")
	TS_ESP=-1 TS_MAX_LEN=-1 TS_ESP_MAX_LEN=-1 TS_FRAGS=-1 TS_NATT_PKTS=-1
	for kv in $line; do
		case $kv in
		esp=*) TS_ESP=${kv#esp=} ;;
		natt=*) TS_NATT_PKTS=${kv#natt=} ;;
		max_len=*) TS_MAX_LEN=${kv#max_len=} ;;
		esp_max_len=*) TS_ESP_MAX_LEN=${kv#esp_max_len=} ;;
		frags=*) TS_FRAGS=${kv#frags=} ;;
		esac
	done
	ktap_print_msg "wan: $line"
}

# ts_kv KEY LINE: the value of KEY=value in LINE.
ts_kv() {
	local kv
	for kv in $2; do
		[[ $kv == "$1="* ]] && { echo "${kv#*=}"; return 0; }
	done
	return 1
}

TS_PORT=5000
declare -A TS_XSPID=() TS_XCPID=() TS_XDESC=()

# ts_xfer_start TAG CLIENT_NS SERVER_NS SERVER_ADDR BYTES send|recv
#	TIMEOUT_MS [PORT]
# ts_xfer_wait TAG [quiet]
# One checked TCP transfer of BYTES, in the background (on a fresh port
# unless PORT is given); ts_xfer_wait returns 0 only when the bytes arrived
# with matching checksums, sets TS_XFER to the client's report line, and
# prints the server's report too when the transfer failed (unless quiet).
ts_xfer_start() {
	local tag=$1 cns=$2 sns=$3 addr=$4 bytes=$5 dir=$6 tmo=$7 port=${8:-}
	if [[ -z $port ]]; then
		TS_PORT=$((TS_PORT + 1))
		port=$TS_PORT
	fi
	rm -f "$TS_TMP/x.$tag".*
	ts_nsx_exec "$sns" "$TS_PROBE" xfer-server --port "$port" --count 1 \
		--timeout "$tmo" --ready "$TS_TMP/x.$tag.ready" \
		>"$TS_TMP/x.$tag.srv" 2>&1 &
	TS_XSPID[$tag]=$!
	busywait 5000 test -e "$TS_TMP/x.$tag.ready" >/dev/null
	ts_nsx_exec "$cns" "$TS_PROBE" xfer-client --connect "$addr" \
		--port "$port" --bytes "$bytes" --direction "$dir" \
		--timeout "$tmo" >"$TS_TMP/x.$tag.cli" 2>&1 &
	TS_XCPID[$tag]=$!
	TS_XDESC[$tag]="$tag: ${cns%"$KSFT_NS_SUFFIX"} -> $addr ($dir $bytes bytes)"
}

ts_xfer_wait() {
	local tag=$1 rc
	wait "${TS_XCPID[$tag]}"
	rc=$?
	wait "${TS_XSPID[$tag]}" 2>/dev/null
	TS_XFER=$(grep -m1 '^role=' "$TS_TMP/x.$tag.cli") ||
		TS_XFER=$(head -n 1 "$TS_TMP/x.$tag.cli")
	ktap_print_msg "xfer ${TS_XDESC[$tag]}: $TS_XFER"
	((rc == 0)) && [[ $(ts_kv match "$TS_XFER") == yes ]] && return 0
	[[ ${2:-} == quiet ]] ||
		ktap_print_msg "xfer $tag (server): $(head -c 300 "$TS_TMP/x.$tag.srv")"
	return 1
}

# ts_xfer CLIENT_NS SERVER_NS SERVER_ADDR BYTES send|recv TIMEOUT_MS: one
# checked transfer, waited for (TS_XFER: the client's report line);
# returns 0 only when the bytes arrived with matching checksums.
ts_xfer() {
	ts_xfer_start one "$@"
	ts_xfer_wait one quiet
}

# ts_xfer_both CLIENT_NS SERVER_NS SERVER_ADDR BYTES TIMEOUT_MS
# Two checked transfers at once on two connections from the client: one
# sending BYTES (TS_XFER_SEND, TS_XFER_SEND_OK=1 when they arrived intact),
# one receiving them (TS_XFER_RECV, TS_XFER_RECV_OK).  A stall costs one
# timeout for both.  Returns the number of failed transfers.
ts_xfer_both() {
	local cns=$1 sns=$2 addr=$3 bytes=$4 tmo=$5

	ts_xfer_start send "$cns" "$sns" "$addr" "$bytes" send "$tmo"
	ts_xfer_start recv "$cns" "$sns" "$addr" "$bytes" recv "$tmo"
	TS_XFER_SEND_OK=0
	TS_XFER_RECV_OK=0
	ts_xfer_wait send quiet && TS_XFER_SEND_OK=1
	TS_XFER_SEND=$TS_XFER
	ts_xfer_wait recv quiet && TS_XFER_RECV_OK=1
	TS_XFER_RECV=$TS_XFER
	return $((2 - TS_XFER_SEND_OK - TS_XFER_RECV_OK))
}

# ts_syn_capture_start NS IFACE TAG [PORT [TIMEOUT_MS]]: capture the next
# segment with SYN (of PORT) seen arriving on IFACE (within TIMEOUT_MS,
# default 20 s); ts_syn_capture_mss TAG waits for it and prints its MSS
# (nothing, and status 1: no MSS option, or nothing arrived).
ts_syn_capture_start() {
	local ns=$1 dev=$2 tag=$3 port=() tmo=${5:-20000}
	[[ -n ${4:-} ]] && port=(--port "$4")
	rm -f "$TS_TMP/cap.$tag.ready" "$TS_TMP/cap.$tag.out"
	ts_nsx_exec "$ns" "$TS_PROBE" recv-syn --iface "$dev" --syn-only \
		"${port[@]}" --count 1 --timeout "$tmo" \
		--ready "$TS_TMP/cap.$tag.ready" >"$TS_TMP/cap.$tag.out" 2>&1 &
	TS_CAP_PID[$tag]=$!
	busywait 5000 test -e "$TS_TMP/cap.$tag.ready" >/dev/null
}

ts_syn_capture_mss() {
	local tag=$1
	wait "${TS_CAP_PID[$tag]}" 2>/dev/null
	ts_kv mss "$(grep -m1 '^family=' "$TS_TMP/cap.$tag.out")"
}
declare -A TS_CAP_PID=()

# ts_measure_inner 4|6 [LO HI]: MEASURE the largest inner packet (IP header
# included) of that family that crosses the tunnel whole: h1 pings h2 with
# DF (IPv4: the default of a ping socket while no "fragmentation needed"
# arrives; IPv6 routers never fragment).  A ping too big for the tunnel is
# refused by ra before encapsulation, its ICMP lost in the black hole.  One
# round of pings every 8 bytes from LO to HI (default TS_WAN_MTU - 128 to
# TS_WAN_MTU - 30), then two every byte from the largest answered one to
# the next; the pings of a round all at once (a lost one costs one second
# per round, not per ping).  With TS_PING_BOTH=1 h2 pings h1 with the same
# sizes at the same time, and a size counts only when answered both ways
# (Linux sends an echo reply without DF: only the request's way is held to
# the tunnel's MTU, so one way measures one router's tunnel).
# Sets TS_INNER_MAX (0: none answered) and TS_INNER_OK=1 when every size
# tried up to it was answered and none above it, and TS_INNER_MAX is
# inside LO..HI; returns 0 when TS_INNER_OK.  Wrap it in ts_watch_start /
# ts_watch_stop to see the ESP packets it made.
ts_measure_inner() {
	local fam=$1 lo=${2:-$((TS_WAN_MTU - 128))} hi=${3:-$((TS_WAN_MTU - 30))}
	local s sizes=() best=0 n retry suspects=() ways="h1 -> h2"
	local -A pass=() tried=()
	((${TS_PING_BOTH:-0})) && ways="h1 -> h2 and h2 -> h1"
	for ((s = lo; s <= hi; s += 8)); do
		sizes+=("$s")
		tried[$s]=1
	done
	_ts_ping_round "$fam" "${sizes[@]}"
	_ts_ping_answered
	if ((best)); then
		sizes=()
		# Every size from it to the next coarse one, twice: one
		# lost ping cannot move the threshold.
		for ((s = best; s <= best + 8 && s <= hi; s++)); do
			sizes+=("$s" "$s")
			tried[$s]=1
			unset "pass[$s]"
		done
		_ts_ping_round "$fam" "${sizes[@]}"
		_ts_ping_answered
	fi
	# A ping lost to a busy host looks like a refusal: sizes that
	# contradict the threshold are pinged again (twice at most).
	for retry in 1 2; do
		_ts_ping_suspects
		((${#suspects[@]})) || break
		ktap_print_msg "ping again (retry $retry): ${suspects[*]}"
		_ts_ping_round "$fam" "${suspects[@]}"
		_ts_ping_answered
	done
	_ts_ping_suspects
	n=${#tried[@]}
	TS_INNER_MAX=$best
	TS_INNER_OK=$((best > lo && best < hi && ${#suspects[@]} == 0))
	ktap_print_msg "measured: largest IPv$fam packet crossing $ways with DF: $best bytes ($n sizes tried in $lo..$hi, consistent=$TS_INNER_OK${suspects[*]:+, contradicting: ${suspects[*]}})"
	((TS_INNER_OK))
}

# _ts_ping_answered: (for ts_measure_inner) the sizes of TS_PING_OK into
# pass, best = the largest size answered.
_ts_ping_answered() {
	local s
	for s in "${TS_PING_OK[@]}"; do
		pass[$s]=1
	done
	best=0
	for s in "${!pass[@]}"; do
		((s > best)) && best=$s
	done
}

# _ts_ping_suspects: (for ts_measure_inner) the sizes tried whose answer
# contradicts the threshold best: unanswered below it, answered above it.
_ts_ping_suspects() {
	local s
	suspects=()
	for s in "${!tried[@]}"; do
		if ((s <= best)); then
			[[ -n ${pass[$s]+x} ]] || suspects+=("$s")
		else
			[[ -z ${pass[$s]+x} ]] || suspects+=("$s")
		fi
	done
}

# _ts_pings NS DST 4|6 SIZE...: one DF ping per inner packet SIZE, all at
# once from NS to DST; prints the sizes answered.
_ts_pings() {
	local ns=$1 dst=$2 fam=$3 hdr=28
	shift 3
	[[ $fam == 6 ]] && hdr=48
	# shellcheck disable=SC2016 # expanded by the inner shell
	ts_nsx "$ns" bash -c '
		d=$1 f=$2 h=$3
		shift 3
		sizes=("$@") pids=()
		for s in "${sizes[@]}"; do
			ping -"$f" -c1 -W1 -s $((s - h)) "$d" >/dev/null 2>&1 &
			pids+=($!)
		done
		for i in "${!pids[@]}"; do
			wait "${pids[i]}" && echo "${sizes[i]}"
		done' _ "$dst" "$fam" "$hdr" "$@"
}

# _ts_ping_round 4|6 SIZE...: the sizes pinged from h1 to h2 (and from h2
# to h1 at the same time with TS_PING_BOTH=1); TS_PING_OK = the sizes
# answered (both ways).
_ts_ping_round() {
	local fam=$1 d1=$TS_H2_4 d2=$TS_H1_4 s pid=
	local -A back=()
	shift
	[[ $fam == 6 ]] && d1=$TS_H2_6 d2=$TS_H1_6
	if ((${TS_PING_BOTH:-0})); then
		_ts_pings "$TS_H2" "$d2" "$fam" "$@" >"$TS_TMP/pings.back" &
		pid=$!
	fi
	TS_PING_OK=()
	read -r -d '' -a TS_PING_OK < <(_ts_pings "$TS_H1" "$d1" "$fam" "$@")
	[[ -n $pid ]] || return 0
	wait "$pid"
	while read -r s; do back[$s]=1; done <"$TS_TMP/pings.back"
	for s in "${!TS_PING_OK[@]}"; do
		[[ -n ${back[${TS_PING_OK[s]}]+x} ]] || unset "TS_PING_OK[s]"
	done
	TS_PING_OK=("${TS_PING_OK[@]}")
}

# ------------------------------------------------------- swapping SAs --
# (added for tests/net/auto_*.sh; ts_setup and ts_tunnel are unchanged.)

# ts_states_batch SRC DST [if_id N]: the `ip -batch` lines of the SA pair
# between SRC and DST (SPI 0x1000 SRC->DST reqid 1, 0x2000 back, reqid 2)
# for TS_SUITE / TS_NATT: the SAs ts_tunnel adds (plus an if_id).  Call
# ts_algo_cache first when it runs in a subshell (a pipeline): ts_key
# forks once per key byte, 0.3-0.8 s per suite under TCG.
declare -A TS_ALGO_CACHE=()
ts_states_batch() {
	local a=$1 b=$2 extra=${3:-} algo encap=
	algo=${TS_ALGO_CACHE[$TS_SUITE]:-}
	[[ -n $algo ]] || algo=$(ts_algo "$TS_SUITE") || return
	((TS_NATT)) && encap="encap espinudp 4500 4500 0.0.0.0"
	echo "xfrm state add src $a dst $b proto esp spi 0x1000 reqid 1 mode tunnel flag af-unspec $algo $encap $extra"
	echo "xfrm state add src $b dst $a proto esp spi 0x2000 reqid 2 mode tunnel flag af-unspec $algo $encap $extra"
}

# ts_algo_cache SUITE: remember ts_algo SUITE for ts_states_batch.
ts_algo_cache() {
	[[ -n ${TS_ALGO_CACHE[$1]:-} ]] || TS_ALGO_CACHE[$1]=$(ts_algo "$1")
}

# ts_retune [--suite S] [--natt] [--wan-mtu N]: on a topology ts_setup built
# with its tunnel, replace the SAs by those of another suite / NAT-T
# setting and set the WAN MTU (default: the current one), keeping the
# namespaces, policies and rules: much cheaper than a new ts_setup.  The
# NAT-T sockets are started when --natt needs them and then left running.
ts_retune() {
	local suite=aes-cbc-sha1 natt=0 mtu=$TS_WAN_MTU ns a=$TS_WAN_A4 b=$TS_WAN_B4
	while (($#)); do
		case $1 in
		--suite) suite=$2; shift ;;
		--natt) natt=1 ;;
		--wan-mtu) mtu=$2; shift ;;
		*) echo "ts_retune: unknown option $1" >&2; return 1 ;;
		esac
		shift
	done
	ts_algo "$suite" >/dev/null || { echo "ts_retune: unknown suite $suite" >&2; return 1; }
	[[ $TS_WAN == veth ]] || { echo "ts_retune: veth WAN only" >&2; return 1; }
	[[ $TS_OUTER == 6 ]] && a=$TS_WAN_A6 b=$TS_WAN_B6
	TS_SUITE=$suite TS_NATT=$natt TS_WAN_MTU=$mtu
	ts_algo_cache "$suite"
	for ns in "$TS_RA" "$TS_RB"; do
		{
			echo "xfrm state flush"
			echo "link set dev $TS_WAN_IF mtu $mtu"
			ts_states_batch "$a" "$b"
		} | ip -n "$ns" -batch - || return
	done
	if ((natt)); then
		for ns in "$TS_RA" "$TS_RB"; do
			ts_ns_pid "$ns"
			_ts_udp_bound "$TS_NS_PID" 4500 || ts_natt_socket "$ns" || return
		done
	fi
	return 0
}

# ts_ns_pid NS: set TS_NS_PID to the pid of a process living in NS (started
# on first use, killed with the namespace): /proc/PID/net/ shows NS's
# counters without entering NS.  Not in a subshell: it remembers the pid.
declare -A TS_NS_PIDS=()
ts_ns_pid() {
	local ns=$1
	TS_NS_PID=${TS_NS_PIDS[$ns]:-}
	[[ -n $TS_NS_PID && /proc/$TS_NS_PID/ns/net -ef /run/netns/$ns ]] && return 0
	ts_nsx_exec "$ns" sleep 1000000 </dev/null >/dev/null 2>&1 &
	TS_NS_PID=$!
	TS_NS_PIDS[$ns]=$TS_NS_PID
	busywait 2000 test "/proc/$TS_NS_PID/ns/net" -ef "/run/netns/$ns" >/dev/null
}

# ts_stats NS ARRAY: NS's counters into the associative ARRAY (see
# ipsecmss_counters in lib.sh).
ts_stats() {
	ts_ns_pid "$1" || return 1
	ipsecmss_counters "$2" "/proc/$TS_NS_PID/net/stat/ipsecmss"
}
