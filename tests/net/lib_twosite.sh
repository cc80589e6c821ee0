# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The seed's topology, for the guest tests: two sites joined by an ESP
# tunnel between their routers over a small-MTU WAN.  Source it after lib.sh.
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
# Suites (ts_suites lists them): aes-cbc-sha1 aes-cbc-sha256 aes-gcm-16
# chacha20-poly1305 3des-cbc-sha1.

TS_H1=ts_h1
TS_RA=ts_ra
TS_RB=ts_rb
TS_H2=ts_h2

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
	local n=$1 i out=0x
	for ((i = 0; i < n; i++)); do
		out+=$(printf '%02x' $(((i * 37 + 11) & 255)))
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

# Wire-sized packets everywhere sizes are measured (see vm-notes: veth
# passes GSO aggregates of up to 64 KB otherwise).
ts_no_gso() {
	local ns=$1 dev=$2
	ip -n "$ns" link set dev "$dev" gso_max_segs 1 2>/dev/null
	ip -n "$ns" link set dev "$dev" gro_max_size 0 2>/dev/null
	return 0
}

ts_sysctls() {
	local ns=$1
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1 net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 >/dev/null
}

ts_lans() {
	make_veth "$TS_H1" eth0 "$TS_RA" lan0 || return
	make_veth "$TS_H2" eth0 "$TS_RB" lan0 || return
	ip -n "$TS_H1" addr add "$TS_H1_4/24" dev eth0
	ip -n "$TS_H1" addr add "$TS_H1_6/64" dev eth0 nodad
	ip -n "$TS_RA" addr add 192.168.10.1/24 dev lan0
	ip -n "$TS_RA" addr add fd10::1/64 dev lan0 nodad
	ip -n "$TS_H2" addr add "$TS_H2_4/24" dev eth0
	ip -n "$TS_H2" addr add "$TS_H2_6/64" dev eth0 nodad
	ip -n "$TS_RB" addr add 192.168.20.1/24 dev lan0
	ip -n "$TS_RB" addr add fd20::1/64 dev lan0 nodad
	ip -n "$TS_H1" route add default via 192.168.10.1
	ip -n "$TS_H1" -6 route add default via fd10::1
	ip -n "$TS_H2" route add default via 192.168.20.1
	ip -n "$TS_H2" -6 route add default via fd20::1
	ts_no_gso "$TS_H1" eth0
	ts_no_gso "$TS_H2" eth0
	ts_no_gso "$TS_RA" lan0
	ts_no_gso "$TS_RB" lan0
}

ts_wan_veth() {
	make_veth "$TS_RA" wan0 "$TS_RB" wan0 || return
	ip -n "$TS_RA" link set wan0 mtu "$TS_WAN_MTU"
	ip -n "$TS_RB" link set wan0 mtu "$TS_WAN_MTU"
	ip -n "$TS_RA" addr add "$TS_WAN_A4/24" dev wan0
	ip -n "$TS_RB" addr add "$TS_WAN_B4/24" dev wan0
	ip -n "$TS_RA" addr add "$TS_WAN_A6/64" dev wan0 nodad
	ip -n "$TS_RB" addr add "$TS_WAN_B6/64" dev wan0 nodad
	ts_no_gso "$TS_RA" wan0
	ts_no_gso "$TS_RB" wan0
	TS_WAN_IF=wan0
}

# Routes to the far LAN over the WAN (the policy-based tunnel needs a route
# before the xfrm lookup can put the bundle on it).
ts_routes() {
	ip -n "$TS_RA" route add "$TS_LAN2_4" via "$TS_WAN_B4" dev "$TS_WAN_IF"
	ip -n "$TS_RB" route add "$TS_LAN1_4" via "$TS_WAN_A4" dev "$TS_WAN_IF"
	if [[ $TS_WAN == veth ]]; then
		ip -n "$TS_RA" -6 route add "$TS_LAN2_6" via "$TS_WAN_B6" dev wan0
		ip -n "$TS_RB" -6 route add "$TS_LAN1_6" via "$TS_WAN_A6" dev wan0
	fi
}

# ts_policies NS LOCAL REMOTE LOCAL_LAN REMOTE_LAN OUT_REQID IN_REQID
ts_policies() {
	local ns=$1 me=$2 peer=$3 mine=$4 theirs=$5 oreq=$6 ireq=$7
	ip -n "$ns" xfrm policy add src "$mine" dst "$theirs" dir out \
		tmpl src "$me" dst "$peer" proto esp mode tunnel reqid "$oreq" || return
	ip -n "$ns" xfrm policy add src "$theirs" dst "$mine" dir fwd \
		tmpl src "$peer" dst "$me" proto esp mode tunnel reqid "$ireq" || return
	ip -n "$ns" xfrm policy add src "$theirs" dst "$mine" dir in \
		tmpl src "$peer" dst "$me" proto esp mode tunnel reqid "$ireq"
}

# The receiver decapsulates ESP-in-UDP only on a UDP_ENCAP socket bound to
# 4500, normally the IKE daemon's: socat holds one (vm-notes).
ts_natt_socket() {
	local ns=$1
	ip netns exec "$ns" socat -u \
		UDP4-DATAGRAM:127.0.0.1:9,bind=0.0.0.0:4500,setsockopt-int=17:100:2 \
		/dev/null </dev/null >/dev/null 2>&1 &
	wait_local_port_listen "$ns" 4500 udp
}

ts_tunnel() {
	local a b algo encap=() ns
	if [[ $TS_OUTER == 6 ]]; then
		a=$TS_WAN_A6 b=$TS_WAN_B6
	else
		a=$TS_WAN_A4 b=$TS_WAN_B4
	fi
	read -r -a algo <<<"$(ts_algo "$TS_SUITE")"
	((TS_NATT)) && encap=(encap espinudp 4500 4500 0.0.0.0)
	for ns in "$TS_RA" "$TS_RB"; do
		ip -n "$ns" xfrm state add src "$a" dst "$b" proto esp spi 0x1000 \
			reqid 1 mode tunnel flag af-unspec "${algo[@]}" "${encap[@]}" || return
		ip -n "$ns" xfrm state add src "$b" dst "$a" proto esp spi 0x2000 \
			reqid 2 mode tunnel flag af-unspec "${algo[@]}" "${encap[@]}" || return
	done
	ts_policies "$TS_RA" "$a" "$b" "$TS_LAN1_4" "$TS_LAN2_4" 1 2 || return
	ts_policies "$TS_RB" "$b" "$a" "$TS_LAN2_4" "$TS_LAN1_4" 2 1 || return
	ts_policies "$TS_RA" "$a" "$b" "$TS_LAN1_6" "$TS_LAN2_6" 1 2 || return
	ts_policies "$TS_RB" "$b" "$a" "$TS_LAN2_6" "$TS_LAN1_6" 2 1 || return
	if ((TS_NATT)); then
		ts_natt_socket "$TS_RA" || return
		ts_natt_socket "$TS_RB" || return
	fi
}

# The PMTU black hole: no "fragmentation needed" reaches a sender.
ts_blackhole() {
	local ns
	for ns in "$TS_RA" "$TS_RB"; do
		ipt_ns "$ns" -A OUTPUT -p icmp --icmp-type fragmentation-needed -j DROP || return
		ipt_ns "$ns" -A FORWARD -p icmp --icmp-type fragmentation-needed -j DROP || return
		ip6t_ns "$ns" -A OUTPUT -p icmpv6 --icmpv6-type packet-too-big -j DROP || return
		ip6t_ns "$ns" -A FORWARD -p icmpv6 --icmpv6-type packet-too-big -j DROP || return
	done
}

ts_setup() {
	ts_parse_args "$@" || return
	mkdir -p "$TS_TMP"
	setup_ns "$TS_H1" "$TS_RA" "$TS_RB" "$TS_H2" || return
	local ns
	for ns in "$TS_H1" "$TS_RA" "$TS_RB" "$TS_H2"; do
		ts_sysctls "$ns"
	done
	ts_lans || return
	case $TS_WAN in
	veth) ts_wan_veth || return ;;
	pppoe) ts_wan_pppoe || return ;;
	*) echo "ts_setup: unknown WAN $TS_WAN" >&2; return 1 ;;
	esac
	ts_routes || return
	if ((TS_TUNNEL)); then
		ts_tunnel || return
	fi
	if ((TS_BLACKHOLE)); then
		ts_blackhole || return
	fi
	# The first packet of a flow resolves neighbours; do it now, quietly.
	ip netns exec "$TS_H1" ping -c1 -W2 "$TS_H2_4" >/dev/null 2>&1
	return 0
}

ts_teardown() {
	pkill -f "ipsecmss-probe" 2>/dev/null
	cleanup_all_ns
	rm -rf "$TS_TMP"
}

# ---------------------------------------------------------- measurements --

# ts_watch_start: count what crosses ra's WAN interface (both directions).
ts_watch_start() {
	rm -f "$TS_TMP/watch.ready" "$TS_TMP/watch.out"
	ip netns exec "$TS_RA" "$TS_PROBE" wan-watch --iface "$TS_WAN_IF" \
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
	echo "# wan: $line"
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

# ts_xfer CLIENT_NS SERVER_NS SERVER_ADDR BYTES send|recv TIMEOUT_MS
# One checked TCP transfer; sets TS_XFER (the client's report line) and
# returns 0 only when the bytes arrived with matching checksums.
ts_xfer() {
	local cns=$1 sns=$2 addr=$3 bytes=$4 dir=$5 tmo=$6 port rc
	TS_PORT=$((TS_PORT + 1))
	port=$TS_PORT
	rm -f "$TS_TMP/srv.ready"
	ip netns exec "$sns" "$TS_PROBE" xfer-server --port "$port" --count 1 \
		--timeout "$tmo" --ready "$TS_TMP/srv.ready" >"$TS_TMP/srv.out" 2>&1 &
	local spid=$!
	busywait 5000 test -e "$TS_TMP/srv.ready" >/dev/null
	TS_XFER=$(ip netns exec "$cns" "$TS_PROBE" xfer-client --connect "$addr" \
		--port "$port" --bytes "$bytes" --direction "$dir" --timeout "$tmo" 2>&1)
	rc=$?
	wait "$spid" 2>/dev/null
	echo "# xfer $cns -> $addr ($dir $bytes bytes): $TS_XFER"
	((rc == 0)) && [[ $(ts_kv match "$TS_XFER") == yes ]]
}

# ts_syn_capture_start NS IFACE: capture the next SYN and SYN/ACK seen
# arriving on IFACE (ts_syn_capture_stop prints them, one line each).
ts_syn_capture_start() {
	local ns=$1 dev=$2 tag=$3
	rm -f "$TS_TMP/cap.$tag.ready" "$TS_TMP/cap.$tag.out"
	ip netns exec "$ns" "$TS_PROBE" recv-syn --iface "$dev" --syn-only \
		--count 1 --timeout 20000 --ready "$TS_TMP/cap.$tag.ready" \
		>"$TS_TMP/cap.$tag.out" 2>&1 &
	eval "TS_CAP_PID_$tag=$!"
	busywait 5000 test -e "$TS_TMP/cap.$tag.ready" >/dev/null
}

# ts_syn_capture_mss TAG: wait for the capture TAG and print the MSS it saw.
ts_syn_capture_mss() {
	local tag=$1 pid
	eval "pid=\$TS_CAP_PID_$tag"
	wait "$pid" 2>/dev/null
	ts_kv mss "$(grep -m1 '^family=' "$TS_TMP/cap.$tag.out")"
}
