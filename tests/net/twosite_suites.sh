#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# --clamp-to-pmtu-minus-overhead N with the worst-case N of each ESP suite,
# with and without NAT-T, on the seed's topology:
#
#   h1 ---- ra ====== WAN wan0, MTU 1454, ESP tunnel (suite S [in UDP 4500]) ====== rb ---- h2
#   192.168.10.2     198.51.100.1                                  198.51.100.2     192.168.20.2
#                    PMTU black hole: no "fragmentation needed" reaches a sender
#
# For each suite x NAT-T off/on (one topology per iptables flavour; the SAs
# are swapped between cases with ts_retune):
#  1. N = outer + (8 with NAT-T) + 8 + IV + ICV + 2 + (B - 1), the worst
#     case of esp-overhead.md; from `ipsecmss calc` when the guest has it,
#     checked against the formula.
#  2. MEASURE the largest inner packet that crosses the WAN whole: DF pings
#     h1 -> h2 of every size near the limit (ts_measure_inner), the WAN
#     watched: P, carried in ESP packets of at most 1454 bytes, none
#     fragmented.  MSS_max = P - 40.  P also equals the exact arithmetic.
#  3. With only
#       rb# iptables -A FORWARD -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead N
#     a transfer in each direction completes (checksums match), no ESP
#     packet on the WAN is fragmented or larger than 1454 bytes, and h2 (the
#     SYN) and h1 (the SYN/ACK) both see MSS 1454 - N - 40 <= MSS_max.
# The whole matrix runs with iptables-legacy; with iptables-nft one suite
# with and without NAT-T and the seed's own rules (--set-mss 1344).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "${IPSECMSS_LIB:-$HERE/lib.sh}"
. "$HERE/lib_twosite.sh"

BYTES=${SUITES_BYTES:-65536}
TMO=15000
MTU=1454
CLI=${IPSECMSS_CLI:-ipsecmss}
ROWS=()

cleanup() { ts_teardown; }

# overhead SUITE NATT: sets N (and SRC, where it came from) and EXACT
# (the exact MSS at MTU, by the formula).
overhead() {
	local suite=$1 natt=$2 line args calc=
	ts_esp_math "$suite" "$natt" 4 $MTU
	N=$TS_WORST_N SRC=formula
	EXACT=$((TS_EXACT_INNER - 40))
	command -v "$CLI" >/dev/null || return 0
	read -r -a args <<<"$(ts_calc_args "$suite")"
	((natt)) && args+=(--natt)
	line=$("$CLI" calc --mtu $MTU "${args[@]}" --porcelain 2>&1)
	calc=$(ts_kv worst_overhead "$line")
	if [[ $calc == "$N" ]]; then
		N=$calc SRC="ipsecmss calc"
	else
		fail "$suite natt=$natt: ipsecmss calc worst_overhead ${calc:-?} equals the formula's $N (${line:0:200})"
		[[ $calc =~ ^[0-9]+$ ]] && N=$calc SRC="ipsecmss calc"
	fi
}

# rule -A|-D ARGS...: the one IPSECMSS rule on rb.
rule() {
	local op=$1
	shift
	ts_ipt "$TS_RB" "$op" FORWARD -p tcp -j IPSECMSS "$@"
}

# clamp_case TAG SUITE NATT: one case on the current topology; returns 1
# when a check failed (the caller then rebuilds the topology).
clamp_case() {
	local tag=$1 suite=$2 natt=$3 bad=0 p mssmax clamp m2 m1 esp natt_ok=1
	overhead "$suite" "$natt"
	clamp=$((MTU - N - 40))

	ts_watch_start
	ts_measure_inner 4
	ts_watch_stop
	p=$TS_INNER_MAX
	mssmax=$((p - 40))
	esp=$TS_ESP_MAX_LEN
	((natt)) && ((TS_NATT_PKTS <= 0)) && natt_ok=0
	if ((TS_INNER_OK && TS_FRAGS == 0 && esp > 0 && esp <= MTU && natt_ok)); then
		pass "$tag: measured: the largest inner packet crossing whole is $p bytes (ESP $esp <= $MTU, $TS_FRAGS fragments, NAT-T packets $TS_NATT_PKTS): MSS_max $mssmax"
	else
		fail "$tag: measure the largest inner packet crossing whole (got $p, consistent=$TS_INNER_OK, ESP max $esp, fragments $TS_FRAGS, NAT-T packets $TS_NATT_PKTS)"
		bad=1
	fi
	if ((mssmax == EXACT)); then
		pass "$tag: measured MSS_max $mssmax equals the exact arithmetic $EXACT"
	else
		fail "$tag: measured MSS_max $mssmax equals the exact arithmetic $EXACT"
	fi

	rule -A --clamp-to-pmtu-minus-overhead "$N" || { fail "$tag: add the rule"; return 1; }
	ts_syn_capture_start "$TS_H2" eth0 h2
	ts_syn_capture_start "$TS_H1" eth0 h1
	ts_watch_start
	ts_xfer_both "$TS_H1" "$TS_H2" "$TS_H2_4" "$BYTES" $TMO
	ts_watch_stop
	m2=$(ts_syn_capture_mss h2)
	m1=$(ts_syn_capture_mss h1)
	rule -D --clamp-to-pmtu-minus-overhead "$N"

	if ((TS_XFER_SEND_OK && TS_XFER_RECV_OK)); then
		pass "$tag: --clamp-to-pmtu-minus-overhead $N ($SRC): $BYTES bytes h1 -> h2 and h2 -> h1 arrive intact"
	else
		fail "$tag: --clamp-to-pmtu-minus-overhead $N: transfers h1 -> h2 (ok=$TS_XFER_SEND_OK) and h2 -> h1 (ok=$TS_XFER_RECV_OK)"
		bad=1
	fi
	if ((TS_ESP > 0 && TS_FRAGS == 0 && TS_ESP_MAX_LEN <= MTU)); then
		pass "$tag: no fragment on the WAN, largest ESP packet $TS_ESP_MAX_LEN <= $MTU ($TS_ESP ESP packets)"
	else
		fail "$tag: no fragment on the WAN and ESP <= $MTU (esp=$TS_ESP frags=$TS_FRAGS largest=$TS_ESP_MAX_LEN)"
		bad=1
	fi
	if [[ $m2 == "$clamp" && $m1 == "$clamp" ]] && ((clamp <= mssmax)); then
		pass "$tag: h2 sees the SYN with MSS $m2, h1 the SYN/ACK with MSS $m1: $MTU - $N - 40 = $clamp <= MSS_max $mssmax"
	else
		fail "$tag: h2 and h1 see MSS $MTU - $N - 40 = $clamp <= MSS_max $mssmax (got ${m2:-none} / ${m1:-none})"
		bad=1
	fi
	ROWS+=("$(printf '%-18s %-5s %4s %5s %7s %6s %5s %6s' "$suite" "$natt" "$N" "$clamp" "$m2/$m1" "$mssmax" "$EXACT" "$esp")")
	return $bad
}

# The seed's rules (with iptables-nft here; twosite_seed.sh has legacy).
seed_case() {
	local tag=$1 m2 m1
	ts_retune --suite aes-cbc-sha1 || { fail "$tag: swap the SAs"; return 1; }
	ts_ipt "$TS_RB" -A FORWARD -p tcp -s "$TS_LAN1_4" -d "$TS_LAN2_4" -j IPSECMSS --set-mss 1344 &&
		ts_ipt "$TS_RB" -A FORWARD -p tcp -s "$TS_LAN2_4" -d "$TS_LAN1_4" -j IPSECMSS --set-mss 1344 ||
		{ fail "$tag: add the seed's rules"; return 1; }
	ts_syn_capture_start "$TS_H2" eth0 h2
	ts_syn_capture_start "$TS_H1" eth0 h1
	ts_watch_start
	ts_xfer_both "$TS_H1" "$TS_H2" "$TS_H2_4" "$BYTES" $TMO
	ts_watch_stop
	m2=$(ts_syn_capture_mss h2)
	m1=$(ts_syn_capture_mss h1)
	if ((TS_XFER_SEND_OK && TS_XFER_RECV_OK && TS_FRAGS == 0 && TS_ESP > 0 &&
	     TS_ESP_MAX_LEN <= MTU)) && [[ $m2 == 1344 && $m1 == 1344 ]]; then
		pass "$tag: --set-mss 1344: both transfers intact, no fragment, ESP max $TS_ESP_MAX_LEN, MSS seen $m2 / $m1"
	else
		fail "$tag: --set-mss 1344: transfers ok=$TS_XFER_SEND_OK/$TS_XFER_RECV_OK frags=$TS_FRAGS ESP max $TS_ESP_MAX_LEN MSS ${m2:-none}/${m1:-none}"
	fi
}

# run FLAVOUR SUITE:NATT...: the cases on one topology per flavour.
run() {
	local flavour=$1 c suite natt opt=() built=0
	shift
	IPTABLES=iptables-$flavour IP6TABLES=ip6tables-$flavour
	for c; do
		suite=${c%:*} natt=${c#*:}
		opt=()
		((natt)) && opt=(--natt)
		if ((built)); then
			ts_retune --suite "$suite" "${opt[@]}" || { fail "$flavour $suite natt=$natt: swap the SAs"; built=0; }
		fi
		if ((!built)); then
			ts_teardown
			ts_setup --suite "$suite" "${opt[@]}" || { fail "$flavour $suite natt=$natt: topology"; continue; }
			built=1
		fi
		clamp_case "$flavour $suite natt=$natt" "$suite" "$natt" || built=0
	done
	if ((built)) && [[ $flavour == nft ]]; then
		seed_case "$flavour seed config"
	fi
	ts_teardown
}

require_cmd ipsecmss-probe socat
if command -v "$CLI" >/dev/null; then
	echo "# N from $(command -v "$CLI") calc, checked against the formula"
else
	echo "# no $CLI in the guest: N from the formula of esp-overhead.md"
fi
cases=()
for natt in 0 1; do
	for s in $(ts_suites); do
		cases+=("$s:$natt")
	done
done
run legacy "${cases[@]}"
run nft aes-gcm-16:0 aes-cbc-sha1:1
echo "# suite              natt    N clamp seen    MSS_max exact ESP_max  (MTU $MTU, inner IPv4)"
printf '# %s\n' "${ROWS[@]}"
finish
