#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A corpus of malformed and edge-case TCP segments forwarded through
# "-A FORWARD -p tcp -j IPSECMSS --set-mss 1000" (and its ip6tables twin),
# for iptables-legacy and iptables-nft.
#
#   client                        router                        server
#   veth0 10.0.1.1/24   ----   veth0 10.0.1.254/24
#         fd00:1::1/64               fd00:1::fe/64
#                              veth1 10.0.2.254/24   ----   veth0 10.0.2.1/24
#                                    fd00:2::fe/64                fd00:2::1/64
#
#   captures:  router veth0 in: tcpdump (the bytes as sent), recv-syn
#              server veth0 in: tcpdump (the bytes as forwarded), recv-syn
#
# Every shape is sent once per family with "ipsecmss-probe syn" (or socat,
# for a TCP header shorter than 20 bytes) to a port of its own.  For each:
#  1. recv-syn at the server decodes exactly what the shape must become:
#     doff, the option bytes, mss, checksum state, lengths, flags, fragment;
#  2. recv-syn on the router's ingress still shows the segment as sent: it
#     holds a clone sharing the data, so a write without un-sharing shows;
#  3. the router's /proc/net/stat/ipsecmss moves by exactly one SYN and one
#     outcome (or nothing at all);
#  4. the forwarded bytes equal the sent bytes (TTL / hop limit and the
#     IPv4 header checksum aside) where the segment must be unchanged; where
#     it is clamped only the two MSS bytes and the TCP checksum differ; where
#     an option is inserted the result is built from the sent bytes; and the
#     one's complement sum over pseudo-header and segment is the same before
#     and after, so a valid checksum stays valid and a bogus one stays
#     exactly as wrong.
#
# Nothing here is dropped before the target: the router runs no conntrack,
# and neither IPv4 nor IPv6 forwarding looks into TCP.  A TCP header
# shorter than 20 bytes reaches the target, which leaves it alone without
# counting it (recv-syn cannot decode it; tcpdump shows it arrived intact).

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib_router.sh
. "$HERE/lib_router.sh"

FLAVOURS=${FLAVOURS:-legacy nft}
CLAMP=1000
INS4=536	# min(CLAMP, 536): what a v4 SYN without MSS gets
INS6=1000	# min(CLAMP, 1220)
SPORT=40000
WAIT_MS=5000	# for a segment to reach the server
TMPD=$(mktemp -d /tmp/hostile_corpus.XXXXXX)


BG_PIDS=()
RPID=	# a process in the router namespace: its /proc/PID/net is the router's

# shellcheck disable=SC2317	# the EXIT trap calls it
cleanup() {
	stop_captures
	cleanup_all_ns
	rm -rf "$TMPD"
}

[[ -x $PROBE ]] || skip "ipsecmss-probe not found (build tests/tools)"
require_cmd ip tcpdump socat awk
modinfo xt_IPSECMSS >/dev/null 2>&1 || skip "module xt_IPSECMSS not installed"

# ---------------------------------------------------------- fork-free bits --
# Forks cost tens of milliseconds in a TCG guest: the per-shape work below
# uses builtins only, apart from the one process that sends the shape.

exec {NAP_FD}<> <(:)
nap() { read -r -t "$1" -u "$NAP_FD" _; }	# sleep $1 seconds, no fork

ms() { local t=${EPOCHREALTIME/[.,]/}; REPLY=$((t / 1000)); }

# get KEY LINE: REPLY = value of KEY=value in LINE (empty if absent)
get() {
	local re=" $1=([^ ]*)"
	if [[ " $2" =~ $re ]]; then REPLY=${BASH_REMATCH[1]}; else REPLY=; fi
}

# find_line FILE PORT: REPLY = the decoded segment to PORT in FILE
find_line() {
	local l lines
	mapfile -t lines < "$1"
	for l in "${lines[@]}"; do
		[[ $l == *" dport=$2 "* ]] && { REPLY=$l; return 0; }
	done
	REPLY=
	return 1
}

# wait_line FILE PORT TIMEOUT_MS
wait_line() {
	local end
	ms; end=$((REPLY + $3))
	while :; do
		find_line "$1" "$2" && return 0
		ms; ((REPLY > end)) && return 1
		nap 0.02
	done
}

# hex4 N: REPLY = N as 4 hex digits
hex4() { printf -v REPLY '%04x' "$1"; }

# rep N HEX: REPLY = HEX repeated N times
rep() { local i s=; for ((i = 0; i < $1; i++)); do s+=$2; done; REPLY=$s; }

# ------------------------------------------------------------ counters --
# read_counters ARRAY: the router's counters, ARRAY[ipv4.NAME] / [ipv6.NAME]
read_counters() { ipsecmss_counters "$1" "/proc/$RPID/net/stat/ipsecmss"; }

# ------------------------------------------------------------ topology --

# wait_ready FILE TEXT: until FILE contains TEXT (5 s)
wait_ready() {
	local end lines
	ms; end=$((REPLY + 10000))
	while :; do
		mapfile -t lines < "$1"
		[[ "${lines[*]}" == *"$2"* ]] && return 0
		ms; ((REPLY > end)) && return 1
		nap 0.05
	done
}

start_captures() {
	ip netns exec "$router" sleep 3600 &
	RPID=$!
	BG_PIDS+=("$RPID")
	ip netns exec "$router" tcpdump -i veth0 -Q in -n -l -xx -s 2000 \
		>"$TMPD/td.router" 2>"$TMPD/td.router.err" &
	BG_PIDS+=($!)
	ip netns exec "$server" tcpdump -i veth0 -Q in -n -l -xx -s 2000 \
		>"$TMPD/td.server" 2>"$TMPD/td.server.err" &
	BG_PIDS+=($!)
	ip netns exec "$router" "$PROBE" recv-syn --iface veth0 --count 100000 \
		--timeout 3600000 --ready "$TMPD/rs.router.ready" >"$TMPD/rs.router" 2>&1 &
	BG_PIDS+=($!)
	ip netns exec "$server" "$PROBE" recv-syn --iface veth0 --count 100000 \
		--timeout 3600000 --ready "$TMPD/rs.server.ready" >"$TMPD/rs.server" 2>&1 &
	BG_PIDS+=($!)
	wait_ready "$TMPD/td.router.err" "listening on" &&
		wait_ready "$TMPD/td.server.err" "listening on" &&
		busywait 10000 test -e "$TMPD/rs.router.ready" >/dev/null &&
		busywait 10000 test -e "$TMPD/rs.server.ready" >/dev/null
}

stop_captures() {
	local p
	((${#BG_PIDS[@]})) || return 0
	for p in "${BG_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${BG_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	BG_PIDS=()
}

# --------------------------------------------------------------- shapes --
PORT=20000
EXPECT=()	# PORT -> "desc|fam|outcome|mss offset|value"
ORDER=()

# sent_view OPTS DOFF PAYLOAD: what recv-syn shows of a probe-built segment
# before any change.  Sets V_OPTS V_DOFF V_LEN V_PAY.
sent_view() {
	local opts=$1 doff=$2 payload=$3 optb body i n hdr c
	if [[ -n $doff ]]; then
		optb=$((${#opts} / 2))
	else
		optb=$(((${#opts} / 2 + 3) / 4 * 4))
		doff=$(((20 + optb) / 4))
	fi
	body=$opts
	while ((${#body} < 2 * optb)); do body+=00; done
	for ((i = 0; i < payload; i++)); do
		printf -v c '%02x' $((97 + i % 26))
		body+=$c
	done
	V_LEN=$((20 + optb + payload))
	V_DOFF=$doff
	hdr=$((doff * 4))
	n=$(((hdr > V_LEN ? V_LEN : hdr) - 20))
	if ((hdr <= 20 || n <= 0)); then V_OPTS=-; else V_OPTS=${body:0:2*n}; fi
	if ((hdr >= 20 && hdr <= V_LEN)); then V_PAY=$((V_LEN - hdr)); else V_PAY=0; fi
}

# canon_flags LETTERS: REPLY = recv-syn's spelling of a flags set
canon_flags() {
	local l out=
	for l in S F R P A U E C; do [[ $1 == *$l* ]] && out+=$l; done
	REPLY=${out:--}
}

# compare LINE KEY=WANT...: append mismatches to ERRS
compare() {
	local line=$1 kvp
	shift
	for kvp in "$@"; do
		get "${kvp%%=*}" "$line"
		[[ $REPLY == "${kvp#*=}" ]] || ERRS+=("${kvp%%=*}: want ${kvp#*=} got ${REPLY:-?}")
	done
}

# shape FAMS DESC OUTCOME MSS [probe syn arguments]
#   FAMS     46, 4 or 6: the families to send it in
#   OUTCOME  lowered@OFF (MSS option's kind byte at TCP offset OFF),
#            inserted, malformed, no_room, already_low, or none (not even
#            counted as a SYN)
#   MSS      what recv-syn must decode at the server: a number, none or bad
#            ("clamp" and "ins" stand for the clamp and the inserted value)
shape() {
	local fams=$1 desc=$2 outcome=$3 mss=$4 i
	shift 4
	for ((i = 0; i < ${#fams}; i++)); do
		run_shape "${fams:i:1}" "$desc" "$outcome" "$mss" "$@"
	done
}

run_shape() {
	local fam=$1 desc=$2 outcome=$3 mss=$4 port src dst ins
	local opts='' doff='' payload=0 bad=0 flags=S frag=no a prev line
	local -A before after
	shift 4
	# What the shape is, from its own arguments.
	prev=
	for a in "$@"; do
		case $prev in
		--opts) opts=$a ;;
		--doff) doff=$a ;;
		--payload) payload=$a ;;
		--flags) flags=$a ;;
		--frag) frag=$a ;;
		esac
		[[ $a == --ack ]] && flags+=A
		[[ $a == --bad-csum ]] && bad=1
		prev=$a
	done
	canon_flags "$flags"; flags=$REPLY
	if [[ $fam == 4 ]]; then src=$C4 dst=$S4 ins=$INS4; else src=$C6 dst=$S6 ins=$INS6; fi
	[[ $mss == clamp ]] && mss=$CLAMP
	[[ $mss == ins ]] && mss=$ins
	desc="$FLAVOUR v$fam $desc"
	port=$((PORT++))
	ERRS=()

	read_counters before
	if ! ip netns exec "$client" "$PROBE" syn --src "$src" --dst "$dst" \
		--sport $SPORT --dport "$port" "$@" >"$TMPD/syn.out" 2>&1; then
		fail "$desc: ipsecmss-probe syn $*: $(<"$TMPD/syn.out")"
		return
	fi

	# 1. at the server
	sent_view "$opts" "$doff" "$payload"
	local w_opts=$V_OPTS w_doff=$V_DOFF w_len=$V_LEN
	case $outcome in
	lowered@*)
		local off=${outcome#lowered@} i
		i=$((2 * (off - 20 + 2)))
		hex4 $CLAMP
		w_opts=${w_opts:0:i}$REPLY${w_opts:i+4}
		;;
	inserted)
		hex4 "$ins"
		w_opts=0204$REPLY${w_opts#-}
		w_doff=$((w_doff + 1)) w_len=$((w_len + 4))
		;;
	esac
	local csum=ok
	((bad)) && csum=bad
	if wait_line "$TMPD/rs.server" "$port" $WAIT_MS; then
		line=$REPLY
		compare "$line" flags="$flags" doff="$w_doff" opts="$w_opts" mss="$mss" \
			csum=$csum tcp_len="$w_len" payload="$V_PAY" iplen_ok=yes frag="$frag"
		[[ $fam == 4 ]] && compare "$line" ipcsum=ok
	else
		ERRS+=("nothing arrived at the server in $WAIT_MS ms")
	fi
	# 2. on the router's ingress: as sent, whatever the target did later
	if wait_line "$TMPD/rs.router" "$port" 2000; then
		compare "$REPLY" doff="$V_DOFF" opts="$V_OPTS" tcp_len="$V_LEN" \
			payload="$V_PAY" csum=$csum
	else
		ERRS+=("not seen on the router's ingress")
	fi
	# 3. the counters
	read_counters after
	check_deltas "$fam" "${outcome%@*}" before after
	report "$desc: $outcome, mss=$mss csum=$csum doff=$w_doff"
	EXPECT[port]="$desc|$fam|${outcome%@*}|${outcome#*@}|$ins"
	ORDER+=("$port")
}

# raw_shape FAM DESC HEX: HEX sent as the whole TCP "segment" of an IP
# packet the kernel builds (socat, raw IP socket of protocol 6).
raw_shape() {
	local fam=$1 desc=$2 hex=$3 port fmt i addr
	# shellcheck disable=SC2034	# filled in through namerefs
	local -A before after
	port=$((PORT++))
	hex4 $SPORT; local sp=$REPLY
	hex4 "$port"
	hex=$sp$REPLY${hex:8}
	for ((i = 0; i < ${#hex}; i += 2)); do fmt+="\\x${hex:i:2}"; done
	[[ $fam == 4 ]] && addr="IP4-SENDTO:$S4:6" || addr="IP6-SENDTO:[$S6]:6"
	desc="$FLAVOUR v$fam $desc"
	ERRS=()
	read_counters before
	# shellcheck disable=SC2059
	printf "$fmt" | ip netns exec "$client" socat -u - "$addr"
	nap 0.3	# recv-syn cannot decode it: give it time to cross
	read_counters after
	check_deltas "$fam" none before after
	report "$desc: not counted"
	EXPECT[port]="$desc|$fam|none||"
	ORDER+=("$port")
}

# check_deltas FAM OUTCOME BEFORE AFTER
check_deltas() {
	local fam=$1 outcome=$2 want=
	[[ $outcome != none ]] && want="ipv$fam.syn=1 ipv$fam.$outcome=1"
	ipsecmss_deltas "$3" "$4" "$want"
	[[ -z $REPLY ]] || ERRS+=("counters: $REPLY")
}

report() {
	local e
	if ((${#ERRS[@]} == 0)); then
		pass "$1"
	else
		fail "$1"
		for e in "${ERRS[@]}"; do echo "#   $e"; done
	fi
}

# ------------------------------------------------------- byte comparison --
# One line per captured TCP packet: "PKT dport family tcpoff tcplen sum hex",
# sum being the folded one's complement sum of pseudo-header and segment
# (ffff: the checksum is right).
read -r -d '' PKT_AWK <<'EOF'
BEGIN { for (i = 0; i < 256; i++) hv[sprintf("%02x", i)] = i }
function analyse(h,   n, b, i, fam, off, nh, hl, tlen, sum, iplen) {
	n = length(h) / 2
	for (i = 0; i < n; i++) b[i] = hv[substr(h, 2 * i + 1, 2)]
	fam = int(b[0] / 16)
	if (fam == 4) {
		if (n < 20 || b[9] != 6) return
		off = (b[0] % 16) * 4
		iplen = b[2] * 256 + b[3]
		tlen = iplen - off
		sum = 6 + tlen
		for (i = 12; i < 20; i += 2) sum += b[i] * 256 + b[i + 1]
	} else if (fam == 6) {
		if (n < 40) return
		nh = b[6]; off = 40
		iplen = 40 + b[4] * 256 + b[5]
		while (nh == 0 || nh == 43 || nh == 60 || nh == 44) {
			if (off + 8 > n) return
			hl = nh == 44 ? 8 : (b[off + 1] + 1) * 8
			nh = b[off]; off += hl
		}
		if (nh != 6) return
		tlen = iplen - off
		sum = 6 + tlen
		for (i = 8; i < 40; i += 2) sum += b[i] * 256 + b[i + 1]
	} else
		return
	if (off + 4 > n || off + tlen > n) return
	for (i = off; i + 1 < off + tlen; i += 2) sum += b[i] * 256 + b[i + 1]
	if (tlen % 2) sum += b[off + tlen - 1] * 256
	while (sum > 65535) sum = int(sum / 65536) + sum % 65536
	printf "PKT %d %d %d %d %04x %s\n", b[off + 2] * 256 + b[off + 3], fam, off, tlen, sum, h
}
# -xx: the Ethernet header is always printed (-x prints it anyway when
# tcpdump's own decoder gives up on a packet), and skipped here.
function frame(h) {
	if (substr(h, 25, 4) == "0800" || substr(h, 25, 4) == "86dd")
		analyse(substr(h, 29))
}
/^\t0x/ { l = $0; sub(/^\t0x[0-9a-f]+: +/, "", l); gsub(/ /, "", l); hex = hex l; next }
{ if (hex != "") frame(hex); hex = "" }
END { if (hex != "") frame(hex) }
EOF

# load_pkts FILE ARRAY: ARRAY[dport] = "family tcpoff tcplen sum hex"
load_pkts() {
	local -n _p=$2
	local tag port rest
	# shellcheck disable=SC2004	# an associative array: $port is the key
	while read -r tag port rest; do
		[[ $tag == PKT ]] || continue
		if [[ -n ${_p[$port]+x} ]]; then
			_p[$port]=DUP
		else
			_p[$port]=$rest
		fi
	done < <(awk "$PKT_AWK" "$1")
}

# mask HEX BYTE...: REPLY = HEX with each listed byte replaced by "xx"
mask() {
	local h=$1 b
	shift
	for b in "$@"; do h=${h:0:2*b}xx${h:2*b+2}; done
	REPLY=$h
}

# put16 HEX BYTE VALUE: REPLY = HEX with a 16-bit word at BYTE set
put16() { hex4 "$3"; REPLY=${1:0:2*$2}$REPLY${1:2*$2+4}; }

check_bytes() {
	local -A SENT RECV
	local port desc fam outcome off ins s r soff ssum shex
	local rsum rhex e m
	load_pkts "$TMPD/td.router" SENT
	load_pkts "$TMPD/td.server" RECV
	for port in "${ORDER[@]}"; do
		IFS='|' read -r desc fam outcome off ins <<<"${EXPECT[port]}"
		s=${SENT[$port]-} r=${RECV[$port]-}
		if [[ -z $s || $s == DUP || -z $r || $r == DUP ]]; then
			fail "$desc: bytes: captured at router ingress '${s:0:4}', at server '${r:0:4}' (want one each)"
			continue
		fi
		read -r _ soff _ ssum shex <<<"$s"
		read -r _ _ _ rsum rhex <<<"$r"
		e=$shex
		m=()
		case $outcome in
		lowered)
			put16 "$e" $((soff + off + 2)) $CLAMP; e=$REPLY
			m=($((soff + 16)) $((soff + 17)))
			;;
		inserted)
			local d=$((16#${e:2*soff+24:2}))
			printf -v d '%02x' $((d + 0x10))
			hex4 "$ins"
			e=${e:0:2*soff+24}$d${e:2*soff+26:14}0204$REPLY${e:2*soff+40}
			if [[ $fam == 4 ]]; then
				put16 "$e" 2 $((16#${e:4:4} + 4)); e=$REPLY
			else
				put16 "$e" 4 $((16#${e:8:4} + 4)); e=$REPLY
			fi
			m=($((soff + 16)) $((soff + 17)))
			;;
		esac
		if [[ $fam == 4 ]]; then m+=(8 10 11); else m+=(7); fi
		mask "$e" "${m[@]}"; e=$REPLY
		mask "$rhex" "${m[@]}"; r=$REPLY
		ERRS=()
		[[ $e == "$r" ]] || ERRS+=("want $e" "got  $r")
		[[ $rsum == "$ssum" ]] || ERRS+=("one's complement sum: sent $ssum, forwarded $rsum")
		report "$desc: bytes $([[ $outcome == lowered || $outcome == inserted ]] && echo "$outcome as built from the sent ones" || echo unchanged), sum $rsum as sent"
	done
}

# ---------------------------------------------------------------- corpus --
rep 32 01; NOP32=$REPLY
rep 36 01; NOP36=$REPLY
rep 40 01; NOP40=$REPLY
rep 40 00; EOL40=$REPLY
rep 39 01; IPNOP39=$REPLY
LINUX_SYN=020405b40402080a000000010000000001030307

corpus() {
	# Well-formed references.
	shape 46 "plain SYN mss 1460" lowered@20 clamp --opts 020405b4
	shape 46 "Linux SYN (mss,sackOK,TS,nop,wscale)" lowered@20 clamp --opts $LINUX_SYN
	shape 46 "mss after nop,nop,TS,sackOK" lowered@34 clamp --opts 0101080a000000010000000004020204ffff
	shape 46 "mss 1001" lowered@20 clamp --opts 020403e9
	shape 46 "mss 65535" lowered@20 clamp --opts 0204ffff
	shape 46 "mss 1000 = clamp" already_low 1000 --opts 020403e8
	shape 46 "mss 0" already_low 0 --opts 02040000
	shape 46 "no options" inserted ins
	shape 46 "wscale only" inserted ins --opts 030307
	# Option lengths.
	shape 46 "option length 0 after mss" malformed bad --opts 020405b40300
	shape 46 "option length 0 before mss" malformed bad --opts 0800020405b4
	shape 46 "option length 1 after mss" malformed bad --opts 020405b40301
	shape 46 "mss option of length 2" malformed bad --opts 0202
	shape 46 "mss option of length 3" malformed bad --opts 020305b4
	shape 46 "mss option of length 5" malformed bad --opts 020505b400
	shape 46 "option length 255 after mss" malformed bad --opts 020405b404ff
	shape 46 "kind 255 length 255 before mss" malformed bad --opts ffff020405b4
	shape 46 "kind 255 length 2, then mss" lowered@22 clamp --opts ff02020405b4
	shape 46 "length byte missing (kind at the last byte)" malformed bad --opts 020405b4010101fe
	shape 46 "two mss options" malformed bad --opts 020405b4020405b4
	shape 46 "two mss options, the second low" malformed bad --opts 020405b40204012c
	# doff against the options and the packet.
	shape 46 "mss running past doff 6" malformed bad --opts 01020405b4000000 --doff 6
	shape 46 "wscale of length 8 past doff 7" malformed bad --opts 020405b40308000000000000 --doff 7
	shape 46 "doff 4" malformed bad --opts 020405b4 --doff 4
	shape 46 "doff 0" malformed bad --opts 020405b4 --doff 0
	shape 46 "doff 7 beyond a 24-byte packet" malformed bad --opts 020405b4 --doff 7
	shape 46 "doff 15 on a 20-byte segment" malformed bad --doff 15
	shape 46 "doff 15, 40 NOPs, no mss" no_room none --opts "$NOP40"
	shape 46 "doff 15, 40 EOLs" no_room none --opts "$EOL40"
	shape 46 "doff 15, mss first then 36 NOPs" lowered@20 clamp --opts "020405b4$NOP36"
	shape 46 "doff 15, mss in the last 4 bytes" lowered@56 clamp --opts "${NOP36}020405b4"
	shape 46 "doff 8, mss in the last 4 bytes" lowered@28 clamp --opts 0101010101010101020405b4
	shape 46 "doff 15, mss in the last 4 bytes, payload" lowered@56 clamp --opts "${NOP36}020405b4" --payload 100
	# Around the 60 bytes the target makes writable.
	shape 46 "doff 14 (36 NOPs), no mss: inserted up to doff 15" inserted ins --opts "$NOP36"
	shape 46 "doff 14, no mss, 4 bytes of payload (a 60-byte segment)" no_room none --opts "$NOP36" --payload 4
	shape 46 "doff 14, mss in the last 4 bytes, 4 bytes of payload" lowered@52 clamp --opts "${NOP32}020405b4" --payload 4
	shape 46 "doff 10, no mss, 20 bytes of payload (a 60-byte segment)" no_room none --opts 0101010101010101010101010101010101010101 --payload 20
	shape 46 "mss bytes after doff 5 (payload)" no_room none --opts 020405b4 --doff 5
	# EOL, payload.
	shape 46 "EOL before mss: mss not seen, inserted" inserted ins --opts 00000000020405b4
	shape 46 "EOL before mss, with payload" no_room none --opts 00000000020405b4 --payload 5
	shape 46 "mss and 100 bytes of payload" lowered@20 clamp --opts 020405b4 --payload 100
	shape 46 "no mss, 100 bytes of payload" no_room none --payload 100
	shape 46 "no mss, 1 byte of payload" no_room none --opts 01010101 --payload 1
	shape 46 "doff 7 covering 4 payload bytes" malformed bad --opts 020405b4 --doff 7 --payload 10
	# Odd offsets and checksums.
	shape 46 "odd-offset mss after one NOP" lowered@21 clamp --opts 01020405b4
	shape 46 "odd-offset mss after three NOPs" lowered@23 clamp --opts 010101020405b4
	shape 46 "bogus checksum, mss" lowered@20 clamp --opts 020405b4 --bad-csum
	shape 46 "bogus checksum, odd-offset mss" lowered@21 clamp --opts 01020405b4 --bad-csum
	shape 46 "bogus checksum, no mss" inserted ins --bad-csum
	shape 46 "bogus checksum, malformed" malformed bad --opts 0201 --bad-csum
	# Flags.
	shape 46 "SYN/ACK mss 1460, sackOK" lowered@20 clamp --ack --opts 020405b40402
	shape 46 "SYN/ACK without mss" inserted ins --ack --opts 0402
	shape 46 "SYN/ACK mss 900" already_low 900 --ack --opts 02040384
	shape 46 "SYN/ACK malformed" malformed bad --ack --opts 020405b40201
	shape 46 "SYN/ACK bogus checksum" lowered@20 clamp --ack --opts 020405b4 --bad-csum
	shape 46 "SYN+PSH+URG+ECE+CWR" lowered@20 clamp --flags SPUEC --opts 020405b4
	shape 46 "SYN+RST" none 1460 --flags SR --opts 020405b4
	shape 46 "SYN+FIN" none 1460 --flags SF --opts 020405b4
	shape 46 "SYN+RST+ACK" none 1460 --flags SRA --opts 020405b4
	shape 46 "SYN+FIN without mss" none none --flags SF
	shape 46 "ACK with mss" none 1460 --flags A --opts 020405b4
	# Network-layer shapes.
	shape 4 "IP options (NOP,NOP,NOP,EOL), mss" lowered@20 clamp --ipopts 01010100 --opts 020405b4
	shape 4 "IP options, no mss" inserted ins --ipopts 01010100
	shape 4 "40 bytes of IP options, no mss" inserted ins --ipopts "${IPNOP39}00"
	shape 6 "hop-by-hop, mss" lowered@20 clamp --exthdr hbh --opts 020405b4
	shape 6 "routing header, mss" lowered@20 clamp --exthdr rt --opts 020405b4
	shape 6 "hbh,rt,dst, no mss" inserted ins --exthdr hbh,rt,dst
	shape 6 "atomic fragment header (offset 0), mss" lowered@20 clamp --exthdr frag0 --opts 020405b4
	shape 6 "atomic fragment header, no mss" no_room none --exthdr frag0
	shape 6 "hbh + fragment offset 0 MF, mss" lowered@20 clamp --exthdr hbh --frag first --opts 020405b4
	shape 46 "first fragment, mss" lowered@20 clamp --frag first --opts 020405b4
	shape 46 "first fragment, no mss" no_room none --frag first
	shape 46 "first fragment, malformed" malformed bad --frag first --opts 0201
	shape 46 "non-first fragment, mss" none 1460 --frag nonfirst --opts 020405b4
	shape 46 "non-first fragment, no mss" none none --frag nonfirst
	shape 46 "non-first fragment, doff 4" none bad --frag nonfirst --opts 020405b4 --doff 4
	shape 6 "hbh + non-first fragment, mss" none 1460 --exthdr hbh --frag nonfirst --opts 020405b4
	# Shorter than a TCP header: ports, seq, ack, doff 5, SYN, 3 bytes more.
	raw_shape 4 "TCP header of 19 bytes (SYN flag set)" 00000000000000010000000050020000ffff00
	raw_shape 6 "TCP header of 19 bytes (SYN flag set)" 00000000000000010000000050020000ffff00
	raw_shape 4 "TCP header of 12 bytes" 000000000000000100000000
	raw_shape 6 "TCP header of 12 bytes" 000000000000000100000000
}

run_flavour() {
	FLAVOUR=$1
	IPTABLES=iptables-$FLAVOUR
	IP6TABLES=ip6tables-$FLAVOUR
	echo "# ---- $IPTABLES / $IP6TABLES"
	if ! command -v "$IPTABLES" >/dev/null || ! command -v "$IP6TABLES" >/dev/null; then
		fail "$IPTABLES or $IP6TABLES not available"
		return
	fi
	check "$FLAVOUR: iptables -A FORWARD -p tcp -j IPSECMSS --set-mss $CLAMP" \
		ipt_ns "$router" -A FORWARD -p tcp -j IPSECMSS --set-mss $CLAMP || return
	check "$FLAVOUR: ip6tables -A FORWARD -p tcp -j IPSECMSS --set-mss $CLAMP" \
		ip6t_ns "$router" -A FORWARD -p tcp -j IPSECMSS --set-mss $CLAMP || return
	local t0 t1
	ms; t0=$REPLY
	corpus
	ms; t1=$REPLY
	echo "# $FLAVOUR: $((PORT - PORT0)) shapes in $((t1 - t0)) ms"
	ipt_ns "$router" -F FORWARD
	ip6t_ns "$router" -F FORWARD
}

# ------------------------------------------------------------------ main --
echo "# kernel $(uname -r), probe $PROBE"
setup_topology || { fail "topology setup"; finish; }
start_captures || { fail "captures did not start"; finish; }
# Neighbours resolved before the first shape (IPv6 ND, ARP).
for warm in "$S4" "$S6"; do
	ip netns exec "$client" "$PROBE" syn --src "$([[ $warm == *:* ]] && echo $C6 || echo $C4)" \
		--dst "$warm" --sport $SPORT --dport 19999 --flags A >/dev/null
done
nap 0.5
for f in $FLAVOURS; do
	PORT0=$PORT
	run_flavour "$f"
	PORT=$(((PORT + 999) / 1000 * 1000))
done
stop_captures
check_bytes
finish
