#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# IPv6 on the seed's topology: inner IPv6 through the IPv4 tunnel, and an
# IPv6 outer tunnel carrying inner IPv4 and IPv6 (SAs with flag af-unspec):
#
#   h1 ---- ra ====== WAN wan0, MTU 1454, ESP (AES-CBC + HMAC-SHA1-96) ====== rb ---- h2
#   192.168.10.2     198.51.100.1 / 2001:db8::1      198.51.100.2 / 2001:db8::2     192.168.20.2
#   fd10::2          outer IPv4 (case 1) or IPv6 (case 2)                            fd20::2
#                    PMTU black hole: no "fragmentation needed" / "packet too big"
#
# For each outer family and each inner family it carries:
#  1. N, the suite's worst-case overhead for that outer family
#     (outer 20 or 40 + 8 + IV 16 + ICV 12 + 2 + 15): `ipsecmss calc` when
#     the guest has it, checked against the formula.
#  2. MEASURE: the WAN MTU the routers report, and the largest inner packet
#     crossing whole (DF pings h1 -> h2, WAN watched: no fragment, ESP <=
#     the MTU); MSS_max = that - 40 (IPv4) or - 60 (IPv6).
#  3. With `iptables` / `ip6tables -A FORWARD -p tcp -j IPSECMSS
#     --clamp-to-pmtu-minus-overhead N` on rb, a transfer each way
#     completes, no fragment on the WAN, and h2 (SYN) and h1 (SYN/ACK) see
#     MSS = MTU - N - 40|60 (the formula, from the measured MTU) <= MSS_max.
# Outer IPv4 runs with ip6tables-legacy, outer IPv6 with iptables-nft and
# ip6tables-nft.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "${IPSECMSS_LIB:-$HERE/lib.sh}"
. "$HERE/lib_twosite.sh"

SUITE=aes-cbc-sha1
BYTES=${IPV6_BYTES:-65536}
TMO=15000
CLI=${IPSECMSS_CLI:-ipsecmss}

cleanup() { ts_teardown; }

# overhead OUTER: sets N for the suite over that outer family.
overhead() {
	local outer=$1 args line calc
	ts_esp_math "$SUITE" 0 "$outer" "$TS_WAN_MTU"
	N=$TS_WORST_N SRC=formula
	command -v "$CLI" >/dev/null || return 0
	read -r -a args <<<"$(ts_calc_args "$SUITE")"
	line=$("$CLI" calc --mtu "$TS_WAN_MTU" "${args[@]}" --outer "ipv$outer" --porcelain 2>&1)
	calc=$(ts_kv worst_overhead "$line")
	if [[ $calc == "$N" ]]; then
		SRC="ipsecmss calc"
	else
		fail "outer IPv$outer: ipsecmss calc worst_overhead ${calc:-?} equals the formula's $N"
		[[ $calc =~ ^[0-9]+$ ]] && N=$calc SRC="ipsecmss calc"
	fi
}

# inner_case TAG OUTER INNER: measure, clamp, transfer, for one inner family.
inner_case() {
	local tag=$1 outer=$2 inner=$3 hdr=40 dst=$TS_H2_4 mtu p mssmax exact want m2 m1
	local ipt=ts_ipt
	if [[ $inner == 6 ]]; then
		hdr=60 dst=$TS_H2_6 ipt=ts_ip6t
	fi
	overhead "$outer"
	exact=$((TS_EXACT_INNER - hdr))
	mtu=$(ts_link_mtu "$TS_RB" "$TS_WAN_IF")
	want=$((mtu - N - hdr))

	ts_watch_start
	ts_measure_inner "$inner"
	ts_watch_stop
	p=$TS_INNER_MAX
	mssmax=$((p - hdr))
	if ((TS_INNER_OK && TS_FRAGS == 0 && TS_ESP_MAX_LEN > 0 && TS_ESP_MAX_LEN <= mtu)); then
		pass "$tag: measured: WAN MTU $mtu; largest inner packet crossing whole $p bytes (ESP $TS_ESP_MAX_LEN <= $mtu, no fragment): MSS_max $mssmax"
	else
		fail "$tag: measure (WAN MTU $mtu, largest inner packet $p, consistent=$TS_INNER_OK, ESP max $TS_ESP_MAX_LEN, fragments $TS_FRAGS)"
	fi
	if ((mssmax == exact)); then
		pass "$tag: measured MSS_max $mssmax equals the exact arithmetic $exact"
	else
		fail "$tag: measured MSS_max $mssmax equals the exact arithmetic $exact"
	fi

	"$ipt" "$TS_RB" -A FORWARD -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead "$N" ||
		{ fail "$tag: add the rule"; return 1; }
	ts_syn_capture_start "$TS_H2" eth0 h2
	ts_syn_capture_start "$TS_H1" eth0 h1
	ts_watch_start
	ts_xfer_both "$TS_H1" "$TS_H2" "$dst" "$BYTES" $TMO
	ts_watch_stop
	m2=$(ts_syn_capture_mss h2)
	m1=$(ts_syn_capture_mss h1)
	"$ipt" "$TS_RB" -D FORWARD -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead "$N"

	if ((TS_XFER_SEND_OK && TS_XFER_RECV_OK)); then
		pass "$tag: --clamp-to-pmtu-minus-overhead $N ($SRC): $BYTES bytes each way to $dst arrive intact"
	else
		fail "$tag: --clamp-to-pmtu-minus-overhead $N: transfers h1 -> h2 (ok=$TS_XFER_SEND_OK) and h2 -> h1 (ok=$TS_XFER_RECV_OK)"
	fi
	if ((TS_ESP > 0 && TS_FRAGS == 0 && TS_ESP_MAX_LEN <= mtu)); then
		pass "$tag: no fragment on the WAN, largest ESP packet $TS_ESP_MAX_LEN <= $mtu ($TS_ESP ESP packets)"
	else
		fail "$tag: no fragment on the WAN and ESP <= $mtu (esp=$TS_ESP frags=$TS_FRAGS largest=$TS_ESP_MAX_LEN)"
	fi
	if [[ $m2 == "$want" && $m1 == "$want" ]] && ((want <= mssmax)); then
		pass "$tag: h2 sees the SYN with MSS $m2, h1 the SYN/ACK with MSS $m1: $mtu - $N - $hdr = $want <= MSS_max $mssmax"
	else
		fail "$tag: h2 and h1 see MSS $mtu - $N - $hdr = $want <= MSS_max $mssmax (got ${m2:-none} / ${m1:-none})"
	fi
	echo "# row: outer IPv$outer inner IPv$inner N=$N clamp=$want seen=$m2/$m1 MSS_max=$mssmax exact=$exact ESP_max=$TS_ESP_MAX_LEN"
}

require_cmd ipsecmss-probe

IPTABLES=iptables-legacy IP6TABLES=ip6tables-legacy
if ts_setup --suite $SUITE --outer 4; then
	inner_case "outer IPv4 inner IPv6 (ip6tables-legacy)" 4 6
else
	fail "outer IPv4: topology"
fi
ts_teardown

IPTABLES=iptables-nft IP6TABLES=ip6tables-nft
if ts_setup --suite $SUITE --outer 6; then
	inner_case "outer IPv6 inner IPv4 (iptables-nft)" 6 4
	inner_case "outer IPv6 inner IPv6 (ip6tables-nft)" 6 6
else
	fail "outer IPv6: topology"
fi
ts_teardown
finish
