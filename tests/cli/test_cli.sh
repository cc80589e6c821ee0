#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The test groups are called by name (test_$t): nothing is unreachable.
# shellcheck disable=SC2317
#
# Tests of the ipsecmss CLI, kselftest style, in KTAP (tests/lib/ktap.sh):
# one "ok N" / "not ok N" / "ok N ... # SKIP" line per check, then the plan
# and the totals; exit 0 only without a failure.
#
#   tests/cli/test_cli.sh [PATH/TO/ipsecmss]
#
# The binary: the argument, else $IPSECMSS, else userspace/ipsecmss of this
# tree, else ipsecmss from $PATH (the QEMU guest).  IPSECMSS_CLI_TESTS picks
# the groups (default "calc_matrix worst transport example errors misc
# formats tunnel sa"; in the QEMU guest, IPSECMSS_VM=1, "example errors misc
# formats sa": under TCG the calc groups take minutes).  `formats` runs every
# command under every --format and its aliases (JSON checked with jq);
# `tunnel` builds tunnel_test.c, the unit test of the route-based tunnels.
#
# `calc` is checked against an independent brute-force model of RFC 4303
# written here in awk: the largest inner packet n such that
#   outer IP + UDP (NAT-T) + 8 + IV + pad(n + 2) + ICV <= MTU,
# pad() rounding up to the least common multiple of the cipher block and 4.
# The only typed-in numbers are the per-algorithm sizes from the RFCs.
#
# `sa` needs root, `ip netns` and a kernel with ESP: it builds SAs in a
# fresh network namespace and compares `sa --porcelain` with `calc`.  Where
# the kernel refuses, those checks are skipped and the rest still runs.

set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BIN=${1:-${IPSECMSS:-}}
if [[ -z $BIN ]]; then
	if [[ -x $top/userspace/ipsecmss ]]; then
		BIN=$top/userspace/ipsecmss
	else
		BIN=$(command -v ipsecmss) || BIN=
	fi
fi

ktap=$top/tests/lib/ktap.sh
[[ -r $ktap ]] || ktap=/usr/local/lib/ipsecmss/ktap.sh	# (the QEMU guest)
# shellcheck source=../lib/ktap.sh
. "$ktap"
ktap_print_header
pass() { ktap_test_pass "$*"; }
fail() { ktap_test_fail "$*"; }
skip() { ktap_test_skip "$*"; }

finish() {
	ktap_finished
}

if [[ -z $BIN || ! -x $BIN ]]; then
	fail "no ipsecmss binary (build it or pass its path)"
	finish
fi
echo "# binary: $BIN"

# kv KEY LINE: the value of KEY in a key=value line ("" when absent).
kv() {
	local key=$1 w
	for w in $2; do
		[[ $w == "$key="* ]] && { echo "${w#*=}"; return; }
	done
}

# ------------------------------------------------------------ the model --

# model OUTER UDP IV BLOCK ICV MTU [TRANSPORT_HDR]: "inner_max mss4 mss6" by
# brute force.  In transport mode OUTER is 0 and the packet's own header
# (TRANSPORT_HDR) stays in front of ESP, outside the padded part.
model() {
	awk -v oh="$1" -v udp="$2" -v iv="$3" -v blk="$4" -v icv="$5" \
	    -v mtu="$6" -v th="${7:-0}" '
	function gcd(a, b) { while (b) { t = b; b = a % b; a = t } return a }
	BEGIN {
		align = blk * 4 / gcd(blk, 4)		# lcm(block, 4)
		best = -1
		for (n = mtu; n >= th; n--) {
			enc = n - th + 2		# payload + pad length + next header
			enc += (align - enc % align) % align
			if (th + oh + udp + 8 + iv + enc + icv <= mtu) { best = n; break }
		}
		if (best < 0) { print "0 88 88"; exit }
		m4 = best - 40; if (m4 < 88) m4 = 88	# the floor, TCP_MIN_MSS
		m6 = best - 60; if (m6 < 88) m6 = 88
		print best, m4, m6
	}'
}

# model_worst OUTER UDP IV BLOCK ICV: the largest MTU - inner_max over a
# hundred consecutive MTUs (more than any alignment): the N that is safe
# whatever the MTU.
model_worst() {
	awk -v oh="$1" -v udp="$2" -v iv="$3" -v blk="$4" -v icv="$5" '
	function gcd(a, b) { while (b) { t = b; b = a % b; a = t } return a }
	BEGIN {
		align = blk * 4 / gcd(blk, 4)
		worst = 0
		for (mtu = 1400; mtu < 1500; mtu++) {
			for (n = mtu; n > 0; n--) {
				enc = n + 2
				enc += (align - enc % align) % align
				if (oh + udp + 8 + iv + enc + icv <= mtu) break
			}
			if (mtu - n > worst) worst = mtu - n
		}
		print worst
	}'
}

# ------------------------------------------------------------- suites --

# name | calc arguments | block iv icv (RFC 3602, 2451, 4106, 4309, 7634,
# 3686, 2404, 4868, 2403)
SUITES=(
	"aes-cbc+sha1|--enc aes-cbc --key-bits 128 --auth hmac-sha1-96|16 16 12"
	"aes-cbc+sha256|--enc aes-cbc --key-bits 256 --auth hmac-sha256-128|16 16 16"
	"aes-gcm-16|--aead aes-gcm-16|1 8 16"
	"chacha20-poly1305|--aead chacha20-poly1305|1 8 16"
	"3des+sha1|--enc 3des-cbc --key-bits 192 --auth hmac-sha1-96|8 8 12"
)
EXTRA_SUITES=(
	"aes-gcm-8|--aead aes-gcm-8 --key-bits 256|1 8 8"
	"aes-gcm-12|--aead aes-gcm-12|1 8 12"
	"aes-ccm-16|--aead aes-ccm-16|1 8 16"
	"aes-ctr+sha512|--enc aes-ctr --auth hmac-sha512-256|1 8 32"
	"aes-cbc+sha384|--enc aes-cbc --key-bits 192 --auth hmac-sha384-192|16 16 24"
	"null+md5|--enc null --auth hmac-md5-96|1 0 12"
	"aes-cbc+none|--enc aes-cbc --auth none|16 16 0"
)

# check_calc NAME ARGS SIZES MTU NATT OUTER: one calc run against the model.
check_calc() {
	local name=$1 args=$2 sizes=$3 mtu=$4 natt=$5 outer=$6
	local blk iv icv oh udp=0 out rc want got desc
	read -r blk iv icv <<<"$sizes"
	oh=20; [[ $outer == ipv6 ]] && oh=40
	[[ $natt == 1 ]] && udp=8
	desc="calc $name mtu $mtu natt $natt outer $outer"
	local -a natt_opt=()
	[[ $natt == 1 ]] && natt_opt=(--natt)

	# shellcheck disable=SC2086
	out=$("$BIN" calc --mtu "$mtu" $args "${natt_opt[@]}" \
		--outer "$outer" --porcelain 2>&1)
	rc=$?
	if ((rc != 0)); then
		fail "$desc: exit $rc: $out"
		return
	fi
	want="$(model "$oh" "$udp" "$iv" "$blk" "$icv" "$mtu") $((oh + udp + 8 + iv + 2 + icv))"
	got="$(kv inner_max "$out") $(kv mss4 "$out") $(kv mss6 "$out") $(kv fixed_overhead "$out")"
	want+=" $oh $udp $iv $icv $mtu"
	got+=" $(kv outer_hdr "$out") $(kv udp_hdr "$out") $(kv iv "$out") $(kv icv "$out") $(kv mtu "$out")"
	if [[ $got == "$want" ]]; then
		pass "$desc: inner_max mss4 mss6 fixed = $got"
	else
		fail "$desc: got '$got', model '$want'"
	fi
}

test_calc_matrix() {
	local s name args sizes mtu natt outer
	for s in "${SUITES[@]}"; do
		IFS='|' read -r name args sizes <<<"$s"
		for mtu in 1454 1500 1400 1280; do
			for natt in 0 1; do
				for outer in ipv4 ipv6; do
					check_calc "$name" "$args" "$sizes" "$mtu" "$natt" "$outer"
				done
			done
		done
	done
	for s in "${EXTRA_SUITES[@]}"; do
		IFS='|' read -r name args sizes <<<"$s"
		for mtu in 1454 1333 9000; do
			check_calc "$name" "$args" "$sizes" "$mtu" 0 ipv4
		done
		check_calc "$name" "$args" "$sizes" 1492 1 ipv6
	done
	# Odd MTUs and the small end, where the floor takes over.
	check_calc aes-cbc+sha1 "--enc aes-cbc --auth hmac-sha1-96" "16 16 12" 1499 1 ipv4
	check_calc aes-cbc+sha1 "--enc aes-cbc --auth hmac-sha1-96" "16 16 12" 576 0 ipv4
	check_calc aes-gcm-16 "--aead aes-gcm-16" "1 8 16" 68 0 ipv4
	check_calc aes-gcm-16 "--aead aes-gcm-16" "1 8 16" 65535 1 ipv6
}

# The N for --clamp-to-pmtu-minus-overhead, against the model's worst case
# over a thousand MTUs, and the MSS that N gives.
test_worst() {
	local s name args sizes blk iv icv natt outer oh udp out want got
	local -a natt_opt
	for s in "${SUITES[@]}" "${EXTRA_SUITES[@]}"; do
		IFS='|' read -r name args sizes <<<"$s"
		read -r blk iv icv <<<"$sizes"
		for natt in 0 1; do
			for outer in ipv4 ipv6; do
				oh=20; [[ $outer == ipv6 ]] && oh=40
				udp=$((natt * 8))
				natt_opt=()
				[[ $natt == 1 ]] && natt_opt=(--natt)
				# shellcheck disable=SC2086
				out=$("$BIN" calc --mtu 1454 $args --outer "$outer" \
					"${natt_opt[@]}" --porcelain)
				want=$(model_worst "$oh" "$udp" "$iv" "$blk" "$icv")
				want="$want $((1454 - want - 40)) $((1454 - want - 60))"
				got="$(kv worst_overhead "$out") $(kv worst_mss4 "$out") $(kv worst_mss6 "$out")"
				if [[ $got == "$want" ]]; then
					pass "worst N $name natt $natt $outer: N mss4 mss6 = $got"
				else
					fail "worst N $name natt $natt $outer: got '$got', model '$want'"
				fi
			done
		done
	done
}

# Transport mode: no outer header, the packet's own header outside ESP;
# only the SA's own family has an MSS.
test_transport() {
	local s name args sizes blk iv icv fam th natt out n m4 m6 want got
	local -a natt_opt
	for s in "${SUITES[@]}"; do
		IFS='|' read -r name args sizes <<<"$s"
		read -r blk iv icv <<<"$sizes"
		for fam in ipv4 ipv6; do
			th=20; [[ $fam == ipv6 ]] && th=40
			for natt in 0 1; do
				natt_opt=()
				[[ $natt == 1 ]] && natt_opt=(--natt)
				# shellcheck disable=SC2086
				out=$("$BIN" calc --mtu 1454 $args --outer $fam --transport \
					"${natt_opt[@]}" --porcelain)
				read -r n m4 m6 <<<"$(model 0 $((natt * 8)) "$iv" "$blk" "$icv" 1454 "$th")"
				if [[ $fam == ipv4 ]]; then want="$n $m4 -"; else want="$n - $m6"; fi
				got="$(kv inner_max "$out") $(kv mss4 "$out") $(kv mss6 "$out")"
				if [[ $got == "$want" && $(kv mode "$out") == transport &&
				      $(kv outer_hdr "$out") == 0 ]]; then
					pass "transport $name $fam natt $natt: inner_max mss4 mss6 = $got"
				else
					fail "transport $name $fam natt $natt: got '$got', model '$want'"
				fi
			done
		done
	done
}

# The worked example of docs (esp-overhead.md) and the text report.
test_example() {
	local out
	out=$("$BIN" calc --mtu 1454 --enc aes-cbc --key-bits 128 --auth hmac-sha1-96 --porcelain)
	if [[ "$(kv inner_max "$out") $(kv mss "$out") $(kv worst_overhead "$out") $(kv worst_mss4 "$out")" == "1390 1350 73 1341" ]]; then
		pass "PPPoE 1454 AES-CBC+SHA1-96: inner_max 1390, MSS 1350, N 73 (MSS 1341)"
	else
		fail "PPPoE 1454 example: $out"
	fi
	out=$("$BIN" calc --mtu 1454 --enc aes-cbc --auth hmac-sha1-96 --format kv)
	if [[ $(kv mss "$out") == 1350 && $(kv key_bits "$out") == 128 ]]; then
		pass "--format kv, default key size 128"
	else
		fail "--format kv: $out"
	fi
	out=$("$BIN" calc --mtu 1454 --aead aes-gcm-16 --inner ipv6 --porcelain)
	if [[ $(kv mss "$out") == "$(kv mss6 "$out")" && $(kv inner "$out") == ipv6 ]]; then
		pass "--inner ipv6 picks mss = mss6 ($(kv mss "$out"))"
	else
		fail "--inner ipv6: $out"
	fi
	out=$("$BIN" calc --mtu 1300 --aead aes-gcm-16 --natt --porcelain)
	if [[ "$(kv mss6 "$out") $(kv floored6 "$out")" == "1178 0" ]]; then
		pass "MTU 1300 NAT-T GCM: mss6 is exact (1178), below the IPv6 default, not floored"
	else
		fail "MTU 1300 NAT-T GCM mss6: $out"
	fi
	out=$("$BIN" calc --mtu 160 --aead aes-gcm-16 --natt --porcelain)
	if [[ "$(kv mss4 "$out") $(kv floored4 "$out") $(kv mss6 "$out") $(kv floored6 "$out")" == "88 1 88 1" ]]; then
		pass "MTU 160 NAT-T GCM: both MSS are the 88 floor, flagged floored4=1 floored6=1"
	else
		fail "floor flag: $out"
	fi
	out=$("$BIN" calc --mtu 1454 --enc aes-cbc --key-bits 128 --auth hmac-sha1-96)
	if grep -q 'Exact MSS, inner IPv4: *1350$' <<<"$out" &&
	   grep -q 'Largest inner packet: *1390 bytes' <<<"$out" &&
	   grep -q 'padding *0-15' <<<"$out" &&
	   grep -q 'clamp-to-pmtu-minus-overhead 73' <<<"$out"; then
		pass "text report of the worked example"
	else
		fail "text report: $out"
	fi
}

# Every usage error: status 2, a message on stderr, nothing on stdout.
test_errors() {
	local line out err rc
	local -a cmds=(
		""
		"frobnicate"
		"--frob"
		"calc"
		"calc --enc aes-cbc --auth hmac-sha1-96"
		"calc --mtu 1454"
		"calc --mtu 0 --aead aes-gcm-16"
		"calc --mtu 20 --aead aes-gcm-16"
		"calc --mtu 67 --aead aes-gcm-16"
		"calc --mtu 70000 --aead aes-gcm-16"
		"calc --mtu abc --aead aes-gcm-16"
		"calc --mtu -1 --aead aes-gcm-16"
		"calc --mtu 1454x --aead aes-gcm-16"
		"calc --mtu 99999999999999999999 --aead aes-gcm-16"
		"calc --mtu"
		"calc --mtu 1454 --enc rot13 --auth hmac-sha1-96"
		"calc --mtu 1454 --enc aes-cbc --auth crc32"
		"calc --mtu 1454 --aead aes-gcm-7"
		"calc --mtu 1454 --enc cbc(aes) --auth hmac-sha1-96"
		"calc --mtu 1454 --enc aes-cbc"
		"calc --mtu 1454 --auth hmac-sha1-96"
		"calc --mtu 1454 --enc aes-cbc --auth hmac-sha1-96 --aead aes-gcm-16"
		"calc --mtu 1454 --aead aes-gcm-16 --auth hmac-sha1-96"
		"calc --mtu 1454 --enc aes-cbc --auth hmac-sha1-96 --enc 3des-cbc"
		"calc --mtu 1454 --enc aes-cbc --key-bits 100 --auth hmac-sha1-96"
		"calc --mtu 1454 --enc 3des-cbc --key-bits 128 --auth hmac-sha1-96"
		"calc --mtu 1454 --aead chacha20-poly1305 --key-bits 128"
		"calc --mtu 1454 --enc null --key-bits 128 --auth hmac-sha1-96"
		"calc --mtu 1454 --enc aes-cbc --key-bits x --auth hmac-sha1-96"
		"calc --mtu 1454 --aead aes-gcm-16 --bogus"
		"calc --mtu 1454 --aead aes-gcm-16 -z"
		"calc --mtu 1454 --aead aes-gcm-16 stray"
		"calc --mtu 1454 --aead aes-gcm-16 --outer ipx"
		"calc --mtu 1454 --aead aes-gcm-16 --inner 5"
		"calc --mtu 1000 --aead aes-gcm-16 --outer ipv6"
		"calc --mtu 70 --enc aes-cbc --auth hmac-sha512-256"
		"calc --mtu 1454 --aead aes-gcm-16 --transport --inner ipv6"
		"calc --mtu 1454 --aead aes-gcm-16 --format yaml"
		"calc --mtu 1454 --aead aes-gcm-16 --format"
		"calc --mtu 1454 --aead aes-gcm-16 --file /dev/null"
		"sa --mtu 0"
		"sa --mtu abc"
		"sa --bogus"
		"sa extra"
		"sa --file /dev/null"
		"sa --format xml"
		"sa --enc aes-cbc"
		"stats --bogus"
		"stats extra"
		"stats --mtu 1400"
		"stats --format yaml"
		"stats --natt"
	)
	for line in "${cmds[@]}"; do
		# shellcheck disable=SC2086
		out=$("$BIN" $line 2>/tmp/ipsecmss-cli-err.$$)
		rc=$?
		err=$(head -n1 /tmp/ipsecmss-cli-err.$$)
		if ((rc == 2)) && [[ -n $err && -z $out ]]; then
			pass "error exit 2 for '$line': $err"
		else
			fail "'$line': exit $rc, stderr '$err', stdout '${out:0:60}'"
		fi
	done
	rm -f /tmp/ipsecmss-cli-err.$$
}

test_misc() {
	local out rc
	out=$("$BIN" --help); rc=$?
	if ((rc == 0)) && grep -q '^Usage: ipsecmss' <<<"$out" && grep -q -- '--aead' <<<"$out"; then
		pass "--help exits 0 with the usage"
	else
		fail "--help: exit $rc"
	fi
	for c in calc sa stats; do
		if grep -Eq "^  $c +[a-z]" <<<"$out" && grep -q "^Usage: ipsecmss $c" <<<"$out"; then
			pass "--help lists $c, with its usage"
		else
			fail "--help does not list $c"
		fi
		out2=$("$BIN" "$c" --help); rc=$?
		if ((rc == 0)) && grep -q "^Usage: ipsecmss $c" <<<"$out2" &&
		   grep -q -- '--format FMT' <<<"$out2"; then
			pass "$c --help exits 0, with --format"
		else
			fail "$c --help: exit $rc"
		fi
	done
	out=$("$BIN" 2>&1 >/dev/null); rc=$?
	if ((rc == 2)) && grep -q '^Usage: ipsecmss' <<<"$out"; then
		pass "no command: the usage on stderr, exit 2"
	else
		fail "no command: exit $rc"
	fi
	out=$("$BIN" --version); rc=$?
	if ((rc == 0)) && [[ $out == "ipsecmss "?* ]]; then
		pass "--version: $out"
	else
		fail "--version: exit $rc '$out'"
	fi
	test_stats
	test_stats_lnstat
}

# stats reads the module's proc file; here it is given sample files, one
# well formed and some not (the module itself is tested in the VM).
test_stats() {
	local f=/tmp/ipsecmss-cli-stats.$$ out rc
	printf 'family syn lowered already_low last_mss\nipv4 5 3 2 1344\nipv6 7 0 7 0\n' >"$f"
	out=$("$BIN" stats --file "$f"); rc=$?
	if ((rc == 0)) && grep -Eq '^lowered +3 +0$' <<<"$out" &&
		grep -Eq '^last_mss +1344 +0$' <<<"$out"; then
		pass "stats prints a counter per row, a family per column"
	else
		fail "stats table: exit $rc '$out'"
	fi
	out=$("$BIN" stats --json --file "$f"); rc=$?
	if ((rc == 0)) && [[ $out == '{"ipv4": {"syn": 5, "lowered": 3, "already_low": 2, "last_mss": 1344}, "ipv6": {"syn": 7, "lowered": 0, "already_low": 7, "last_mss": 0}}' ]]; then
		pass "stats --json"
	else
		fail "stats --json: exit $rc '$out'"
	fi
	printf 'family syn lowered\nipv4 5 x\n' >"$f"
	"$BIN" stats --file "$f" >/dev/null 2>&1; rc=$?
	((rc == 1)) && pass "stats refuses a malformed file (exit 1)" ||
		fail "stats on a malformed file: exit $rc"
	"$BIN" stats --file /nonexistent >/dev/null 2>&1; rc=$?
	((rc == 1)) && pass "stats without the proc file: exit 1" ||
		fail "stats without the proc file: exit $rc"
	rm -f "$f"
}

# stats_refuses WHAT PRINTF-FORMAT: a file of that content is an error (1).
stats_refuses() {
	local f=/tmp/ipsecmss-cli-bad.$$ rc
	# shellcheck disable=SC2059	# the content is the format
	printf "$2" >"$f"
	"$BIN" stats --file "$f" >/dev/null 2>&1; rc=$?
	rm -f "$f"
	if ((rc == 1)); then
		pass "stats refuses $1 (exit 1)"
	else
		fail "stats on $1: exit $rc"
	fi
}

# The lnstat layout of /proc/net/stat/ipsecmss: a header of FAMILY_COUNTER
# names, a row of hexadecimal values per CPU, summed by the reader; columns
# it has never heard of are shown too.
test_stats_lnstat() {
	local f=/tmp/ipsecmss-cli-stats.$$ out rc
	{
		echo 'entries ipv4_syn ipv4_lowered ipv4_no_memory ipv6_syn ipv6_lowered ipv6_held'
		echo '00000011 00000001 00000002 00000000 0000000a 00000000 00000003'
		echo '00000011 000000ff 00000010 00000001 0000000a 00000000 00000000'
		echo '00000011 100000000 00000000 00000000 00000000 00000001 00000000'
	} >"$f"
	out=$("$BIN" stats --file "$f"); rc=$?
	if ((rc == 0)) && [[ $(head -n1 <<<"$out" | xargs) == "ipv4 ipv6 global" ]] &&
	   grep -Eq '^entries +- +- +17$' <<<"$out" &&
	   grep -Eq '^syn +4294967552 +20 +-$' <<<"$out" &&
	   grep -Eq '^lowered +18 +1 +-$' <<<"$out" &&
	   grep -Eq '^no_memory +1 +- +-$' <<<"$out" &&
	   grep -Eq '^held +- +3 +-$' <<<"$out"; then
		pass "stats: lnstat rows summed per column (64-bit) but entries, unknown counters and a global column shown"
	else
		fail "stats lnstat table: exit $rc '$out'"
	fi
	out=$("$BIN" stats --json --file "$f"); rc=$?
	if ((rc == 0)) && [[ $out == '{"ipv4": {"syn": 4294967552, "lowered": 18, "no_memory": 1}, "ipv6": {"syn": 20, "lowered": 1, "held": 3}, "global": {"entries": 17}}' ]]; then
		pass "stats --json of the lnstat layout: an object per family"
	else
		fail "stats --json lnstat: exit $rc '$out'"
	fi
	stats_refuses "a CPU row of another width" 'ipv4_syn ipv4_lowered\n00000001 00000002\n00000001\n'
	stats_refuses "a value that is not hexadecimal" 'ipv4_syn ipv4_lowered\n00000001 0000000g\n'
	stats_refuses "a header without CPU rows" 'ipv4_syn ipv4_lowered\n'
	rm -f "$f"
}

# kv_of_json [FILTER]: the kv lines of JSON records on stdin (jq), null "-".
kv_of_json() {
	jq -r "${1:-.} | to_entries | map(\"\(.key)=\(.value // \"-\")\") | join(\" \")"
}

# same_output DESC ARGS... -- ARGS...: both command lines print the same.
same_output() {
	local desc=$1 a b ra rb
	shift
	local -a one=()
	while (($#)) && [[ $1 != -- ]]; do one+=("$1"); shift; done
	shift
	a=$("${one[@]}" 2>&1); ra=$?
	b=$("$@" 2>&1); rb=$?
	if ((ra == 0 && rb == 0)) && [[ -n $a && $a == "$b" ]]; then
		pass "$desc"
	else
		fail "$desc: exit $ra/$rb, '${a:0:80}' / '${b:0:80}'"
	fi
}

# Every command under every --format, and the old spellings as aliases.
test_formats() {
	local f=/tmp/ipsecmss-cli-stats.$$ kv js
	local -a calc=("$BIN" calc --mtu 1454 --enc aes-cbc --auth hmac-sha1-96)
	same_output "calc: --format text is the default" "${calc[@]}" -- "${calc[@]}" --format text
	same_output "calc: --porcelain is --format kv" "${calc[@]}" --porcelain -- "${calc[@]}" --format kv
	same_output "calc: --format porcelain is --format kv" "${calc[@]}" --format porcelain -- "${calc[@]}" --format kv
	same_output "calc: --json is --format json" "${calc[@]}" --json -- "${calc[@]}" --format json
	same_output "calc: the last format given counts" "${calc[@]}" --json --format kv -- "${calc[@]}" --porcelain

	printf 'family syn lowered already_low\nipv4 5 3 2\nipv6 7 0 7\n' >"$f"
	same_output "stats: --format text is the default" "$BIN" stats --file "$f" -- "$BIN" stats --file "$f" --format text
	same_output "stats: --json is --format json" "$BIN" stats --file "$f" --json -- "$BIN" stats --file "$f" --format json
	same_output "stats: --porcelain is --format kv" "$BIN" stats --file "$f" --porcelain -- "$BIN" stats --file "$f" --format kv
	kv=$("$BIN" stats --file "$f" --format kv)
	if [[ $kv == $'family=ipv4 syn=5 lowered=3 already_low=2\nfamily=ipv6 syn=7 lowered=0 already_low=7' ]]; then
		pass "stats --format kv: a family=NAME line per family"
	else
		fail "stats --format kv: '$kv'"
	fi

	if ! command -v jq >/dev/null; then
		skip "formats: no jq, the JSON output is not compared with kv"
		rm -f "$f"
		return
	fi
	kv=$("${calc[@]}" --format kv)
	js=$("${calc[@]}" --format json | kv_of_json)
	if [[ -n $kv && $js == "$kv" ]]; then
		pass "calc --format json: valid JSON, the same fields and values as kv"
	else
		fail "calc json/kv: '$js' / '$kv'"
	fi
	kv=$("${calc[@]}" --outer ipv6 --transport --natt --format kv)
	js=$("${calc[@]}" --outer ipv6 --transport --natt --format json | kv_of_json)
	if [[ $kv == *"mss4=-"* && $js == "$kv" ]]; then
		pass "calc --format json: what does not apply is null (kv '-')"
	else
		fail "calc json nulls: '$js' / '$kv'"
	fi
	js=$("$BIN" stats --file "$f" --format json |
		jq -r 'to_entries[] | "family=\(.key) " + (.value | to_entries | map("\(.key)=\(.value)") | join(" "))')
	if [[ $js == "$("$BIN" stats --file "$f" --format kv)" ]]; then
		pass "stats --format json: valid JSON, the same counters as kv"
	else
		fail "stats json/kv: '$js'"
	fi
	rm -f "$f"
}

# tunnel.c (which route-based device an SA is, the MSS through it) as a
# unit: tunnel_test.c links it with the core.
test_tunnel() {
	local exe=/tmp/ipsecmss-cli-tunnel.$$ line rc
	if ! command -v cc >/dev/null; then
		skip "tunnel: no C compiler"
		return
	fi
	if ! cc -Wall -Wextra -Werror -I"$top/userspace/cli" -I"$top/kernel" -o "$exe" \
		"$here/tunnel_test.c" "$top/userspace/cli/tunnel.c" "$top/kernel/ipsecmss_core.c"; then
		fail "tunnel: tunnel_test.c does not build"
		return
	fi
	while IFS= read -r line; do
		case $line in
		"ok "*) pass "tunnel: ${line#ok }" ;;
		*) fail "tunnel: ${line#fail }" ;;
		esac
	done < <("$exe")
	"$exe" >/dev/null; rc=$?
	((rc == 0)) || fail "tunnel: tunnel_test exits $rc"
	rm -f "$exe"
}

# ------------------------------------------------------------------- sa --

NS=ipsecmss-cli-$$
cleanup() { ip netns del "$NS" 2>/dev/null; rm -f /tmp/ipsecmss-cli-err.$$; }

hexkey() { printf '0x%0*d' $(($1 / 4)) 0; }	# BITS: an all-zero key

# sa_line SPI OUTPUT: the porcelain line of that SA.
sa_line() { grep -E "(^| )spi=$1( |$)" <<<"$2"; }

# check_sa SPI OUTPUT MTU SOURCE CALC-ARGS...: the SA's numbers are calc's.
check_sa() {
	local spi=$1 all=$2 mtu=$3 src=$4 line ref k bad=
	shift 4
	line=$(sa_line "$spi" "$all")
	if [[ -z $line ]]; then
		fail "sa $spi: not listed"
		return
	fi
	ref=$("$BIN" calc --mtu "$mtu" "$@" --porcelain)
	for k in inner_max mss4 mss6 worst_overhead outer_hdr udp_hdr iv block icv \
		 fixed_overhead pad_max worst_mss4 worst_mss6; do
		[[ $(kv "$k" "$line") == "$(kv "$k" "$ref")" ]] || bad+=" $k=$(kv "$k" "$line")/$(kv "$k" "$ref")"
	done
	[[ $(kv status "$line") == ok ]] || bad+=" status=$(kv status "$line")"
	[[ $(kv mtu "$line") == "$mtu" ]] || bad+=" mtu=$(kv mtu "$line")"
	[[ $(kv mtu_source "$line") == "$src" ]] || bad+=" mtu_source=$(kv mtu_source "$line")"
	[[ $(kv suite "$line") == "$(kv suite "$ref")" ]] || bad+=" suite=$(kv suite "$line")"
	if [[ -z $bad ]]; then
		pass "sa $spi ($(kv suite "$line"), mtu $mtu from $src) = calc $*: inner_max $(kv inner_max "$line") mss4 $(kv mss4 "$line") mss6 $(kv mss6 "$line")"
	else
		fail "sa $spi: differs from calc $*:$bad"
	fi
}

xs() { ip -n "$NS" xfrm state add "$@" 2>/dev/null; }

add_dev() {
	ip -n "$NS" link add "$1" type dummy 2>/dev/null && return
	ip -n "$NS" link add "$1" type veth peer name "$1p" 2>/dev/null &&
		ip -n "$NS" link set "$1p" up
}

# check_tunnel SPI DEV KIND KEYS CALC-ARGS...: the SA's line names the
# device (KEYS: "if_id=5" or "mark=0x7/0xffffffff") with its MTU as `ip
# link` shows it, and its MSS through the device is the smaller of the
# device's and the SA's own (calc at the SA's underlay MTU).
check_tunnel() {
	local spi=$1 dev=$2 kind=$3 keys=$4 line ref dmtu w4 w6 k bad=
	shift 4
	line=$(sa_line "$spi" "$(ip netns exec "$NS" "$BIN" sa --porcelain)")
	dmtu=$(ip -n "$NS" -o link show "$dev" | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')
	ref=$("$BIN" calc --mtu "$(kv mtu "$line")" "$@" --porcelain)
	w4=$(kv mss4 "$ref"); ((dmtu - 40 < w4)) && w4=$((dmtu - 40))
	w6=$(kv mss6 "$ref"); ((dmtu - 60 < w6)) && w6=$((dmtu - 60))
	for k in $keys "dev=$dev" "dev_kind=$kind" "dev_mtu=$dmtu" "dev_link=d0" \
		 "dev_mss4=$w4" "dev_mss6=$w6" "mss4=$(kv mss4 "$ref")" "status=ok"; do
		[[ $(kv "${k%%=*}" "$line") == "${k#*=}" ]] || bad+=" ${k%%=*}=$(kv "${k%%=*}" "$line")/${k#*=}"
	done
	if [[ -z $bad ]]; then
		pass "sa $spi through $dev ($kind, MTU $dmtu, $keys): MSS $w4 / $w6, the SA's own $(kv mss4 "$ref") / $(kv mss6 "$ref")"
	else
		fail "sa $spi through $dev:$bad"
	fi
}

# An XFRM interface: its SAs carry its if_id; its MTU (1500 by default)
# may be above or below what the SA lets through.
sa_xfrm_interface() {
	local out
	if ! ip -n "$NS" link add ipsec5 type xfrm dev d0 if_id 5 2>/dev/null; then
		skip "sa: no XFRM interfaces here (xfrm_interface)"
		return
	fi
	ip -n "$NS" link set ipsec5 up
	if ! xs src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x200 mode tunnel if_id 5 \
		enc 'cbc(aes)' "$(hexkey 128)" auth-trunc 'hmac(sha1)' "$(hexkey 160)" 96; then
		fail "sa: cannot add an SA with if_id 5"
		return
	fi
	check_tunnel 0x00000200 ipsec5 xfrm "if_id=5" --enc aes-cbc --auth hmac-sha1-96
	ip -n "$NS" link set ipsec5 mtu 1300
	check_tunnel 0x00000200 ipsec5 xfrm "if_id=5" --enc aes-cbc --auth hmac-sha1-96
	out=$(ip netns exec "$NS" "$BIN" sa)
	if grep -q 'Tunnel device: *ipsec5 (xfrm, MTU 1300, link d0)' <<<"$out" &&
	   grep -q 'Exact MSS via dev, IPv4: *1260$' <<<"$out"; then
		pass "sa text: the XFRM interface and the MSS through it"
	else
		fail "sa text: no tunnel lines for ipsec5"
		printf "%s\n" "$out" | sed "s/^/# /"
	fi
}

# A vti device: the SA's mark is the device's o_key (out) or i_key (in).
sa_vti() {
	if ! ip -n "$NS" link add vti7 type vti local 10.0.0.1 remote 10.0.0.2 \
		ikey 8 okey 7 dev d0 2>/dev/null; then
		skip "sa: no vti devices here (ip_vti)"
		return
	fi
	ip -n "$NS" link set vti7 up
	if ! xs src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x300 mode tunnel mark 7 \
		aead 'rfc4106(gcm(aes))' "$(hexkey 160)" 128 ||
	   ! xs src 10.0.0.2 dst 10.0.0.1 proto esp spi 0x301 mode tunnel mark 8 \
		aead 'rfc4106(gcm(aes))' "$(hexkey 160)" 128; then
		fail "sa: cannot add SAs with a mark"
		return
	fi
	check_tunnel 0x00000300 vti7 vti "mark=0x7/0xffffffff" --aead aes-gcm-16
	check_tunnel 0x00000301 vti7 vti "mark=0x8/0xffffffff" --aead aes-gcm-16
	if ! ip -n "$NS" link add vti33 type vti6 local 2001:db8::1 remote 2001:db8::2 \
		key 33 dev d0 2>/dev/null; then
		skip "sa: no vti6 devices here (ip6_vti)"
		return
	fi
	ip -n "$NS" link set vti33 mtu 1300 up
	if xs src 2001:db8::1 dst 2001:db8::2 proto esp spi 0x302 mode tunnel mark 33 \
		enc 'cbc(aes)' "$(hexkey 128)" auth-trunc 'hmac(sha256)' "$(hexkey 256)" 128; then
		check_tunnel 0x00000302 vti33 vti6 "mark=0x21/0xffffffff" \
			--enc aes-cbc --auth hmac-sha256-128 --outer ipv6
	else
		fail "sa: cannot add an IPv6 SA with a mark"
	fi
}

test_sa() {
	local out rc line k0 unk=

	if ((EUID != 0)) || ! command -v ip >/dev/null; then
		skip "sa: needs root and iproute2"
		return
	fi
	if ! ip netns add "$NS" 2>/dev/null; then
		skip "sa: cannot create a network namespace"
		return
	fi
	trap cleanup EXIT
	ip -n "$NS" link set lo up

	# The SA of the brief: if the kernel refuses it, no sa test can run.
	if ! xs src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x100 mode tunnel \
		enc 'cbc(aes)' "$(hexkey 128)" auth-trunc 'hmac(sha1)' "$(hexkey 160)" 96; then
		skip "sa: this kernel refuses an ESP SA in a namespace (no esp4?): run in the QEMU guest"
		cleanup
		return
	fi
	# Two devices: dummies, or veths (their peers stay in the namespace).
	if ! add_dev d0 || ! add_dev d1; then
		skip "sa: neither dummy nor veth interfaces"
		cleanup
		return
	fi
	ip -n "$NS" link set d0 mtu 1500 up
	ip -n "$NS" link set d1 mtu 1400 up
	ip -n "$NS" addr add 10.0.0.1/24 dev d0
	ip -n "$NS" addr add 10.0.1.1/24 dev d1
	ip -n "$NS" addr add 2001:db8::1/64 dev d0 nodad
	ip -n "$NS" route add 10.0.0.2/32 dev d0 mtu 1454
	ip -n "$NS" -6 route add 2001:db8::2/128 dev d0 mtu 1454

	# Through d1 (no route mtu: the device's 1400), AES-GCM-16, NAT-T.
	xs src 10.0.1.1 dst 10.0.1.2 proto esp spi 0x101 mode tunnel \
		aead 'rfc4106(gcm(aes))' "$(hexkey 160)" 128 \
		encap espinudp 4500 4500 0.0.0.0 || fail "sa: cannot add the GCM NAT-T SA"
	xs src 2001:db8::1 dst 2001:db8::2 proto esp spi 0x102 mode tunnel \
		aead 'rfc7539esp(chacha20,poly1305)' "$(hexkey 288)" 128 ||
		skip "sa: no chacha20-poly1305 SA"
	xs src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x103 mode transport \
		enc 'cbc(des3_ede)' "$(hexkey 192)" auth-trunc 'hmac(sha256)' "$(hexkey 256)" 128 ||
		skip "sa: no 3DES SA"
	# Inbound: its destination is local, the route back to the peer counts.
	xs src 10.0.0.2 dst 10.0.0.1 proto esp spi 0x104 mode tunnel \
		enc 'cbc(aes)' "$(hexkey 256)" auth-trunc 'hmac(sha256)' "$(hexkey 256)" 128 ||
		fail "sa: cannot add the inbound SA"
	# A legacy truncation: not in the table by name, computed from the SA.
	xs src 10.0.1.1 dst 10.0.1.2 proto esp spi 0x105 mode tunnel \
		enc 'cbc(aes)' "$(hexkey 128)" auth-trunc 'hmac(sha256)' "$(hexkey 256)" 96 ||
		fail "sa: cannot add the sha256/96 SA"
	# An algorithm the CLI does not know: whichever this kernel has.
	for k0 in "cbc(des) 64" "cbc(cast5) 128" "cbc(blowfish) 128" "cbc(serpent) 128" "cbc(twofish) 128"; do
		if xs src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x106 mode tunnel \
			enc "${k0% *}" "$(hexkey "${k0#* }")" auth-trunc 'hmac(sha1)' "$(hexkey 160)" 96; then
			unk=${k0% *}
			break
		fi
	done
	xs src 10.0.0.1 dst 10.0.0.2 proto ah spi 0x107 mode tunnel \
		auth-trunc 'hmac(sha1)' "$(hexkey 160)" 96 || true

	out=$(ip netns exec "$NS" "$BIN" sa --porcelain 2>&1)
	rc=$?
	printf "%s\n" "$out" | sed "s/^/# /"
	if ((rc == 0)); then
		pass "sa --porcelain exits 0 ($(grep -c 'spi=' <<<"$out") SAs)"
	else
		fail "sa --porcelain: exit $rc"
	fi
	check_sa 0x00000100 "$out" 1454 route --enc aes-cbc --key-bits 128 --auth hmac-sha1-96
	check_sa 0x00000101 "$out" 1400 link --aead aes-gcm-16 --natt
	if sa_line 0x00000102 "$out" >/dev/null; then
		check_sa 0x00000102 "$out" 1454 route --aead chacha20-poly1305 --key-bits 256 --outer ipv6
	fi
	if sa_line 0x00000103 "$out" >/dev/null; then
		check_sa 0x00000103 "$out" 1454 route --enc 3des-cbc --auth hmac-sha256-128 --transport
	fi
	check_sa 0x00000104 "$out" 1454 reverse-route --enc aes-cbc --key-bits 256 --auth hmac-sha256-128

	line=$(sa_line 0x00000105 "$out")
	if [[ $(kv suite "$line") == "aes-cbc+hmac(sha256)/96" && $(kv icv "$line") == 12 &&
	      $(kv auth_trunc_bits "$line") == 96 &&
	      $(kv inner_max "$line") == "$(model 20 0 16 16 12 1400 | cut -d' ' -f1)" ]]; then
		pass "sa 0x105 hmac(sha256) truncated to 96: icv 12, inner_max $(kv inner_max "$line")"
	else
		fail "sa 0x105: $line"
	fi
	line=$(sa_line 0x00000101 "$out")
	if [[ $(kv natt "$line") == 1 && $(kv encap "$line") == espinudp &&
	      $(kv aead "$line") == "rfc4106(gcm(aes))" && $(kv aead_icv_bits "$line") == 128 ]]; then
		pass "sa 0x101: kernel names and NAT-T reported"
	else
		fail "sa 0x101 names: $line"
	fi
	line=$(sa_line 0x00000100 "$out")
	if [[ $(kv enc "$line") == "cbc(aes)" && $(kv auth "$line") == "hmac(sha1)" &&
	      $(kv auth_trunc_bits "$line") == 96 && $(kv mode "$line") == tunnel &&
	      $(kv src "$line") == 10.0.0.1 && $(kv dst "$line") == 10.0.0.2 &&
	      $(kv natt "$line") == 0 && $(kv proto "$line") == esp ]]; then
		pass "sa 0x100: addresses, mode and kernel names reported"
	else
		fail "sa 0x100 names: $line"
	fi

	if [[ -n $unk ]]; then
		line=$(sa_line 0x00000106 "$out")
		if [[ $(kv status "$line") == unknown_algorithm && $(kv enc "$line") == "$unk" &&
		      -z $(kv inner_max "$line") ]]; then
			pass "sa 0x106 with $unk: status=unknown_algorithm, nothing guessed"
		else
			fail "sa 0x106 ($unk): $line"
		fi
		if ip netns exec "$NS" "$BIN" sa | grep -q "unknown algorithm '$unk'"; then
			pass "sa text: 'unknown algorithm' note for $unk"
		else
			fail "sa text: no 'unknown algorithm' note for $unk"
		fi
	else
		skip "sa: the kernel accepts no algorithm the CLI does not know"
	fi
	line=$(sa_line 0x00000107 "$out")
	if [[ -n $line ]]; then
		if [[ $(kv status "$line") == not_esp && $(kv proto "$line") == ah ]]; then
			pass "sa 0x107: an AH SA is listed as not_esp"
		else
			fail "sa 0x107: $line"
		fi
	else
		skip "sa: no AH SA (no ah4)"
	fi

	out=$(ip netns exec "$NS" "$BIN" sa --porcelain --mtu 1300)
	check_sa 0x00000100 "$out" 1300 option --enc aes-cbc --auth hmac-sha1-96
	check_sa 0x00000101 "$out" 1300 option --aead aes-gcm-16 --natt

	out=$(ip netns exec "$NS" "$BIN" sa)
	rc=$?
	if ((rc == 0)) && grep -q '^SA 10.0.0.1 -> 10.0.0.2 spi 0x00000100 esp tunnel' <<<"$out" &&
	   grep -q 'Route MTU: *1454 (route, dev d0)' <<<"$out" &&
	   grep -q 'Exact MSS, inner IPv4: *1350$' <<<"$out"; then
		pass "sa text report"
	else
		fail "sa text report: exit $rc"
		printf "%s\n" "$out" | sed "s/^/# /"
	fi

	if command -v jq >/dev/null; then
		out=$(ip netns exec "$NS" "$BIN" sa --format kv)
		line=$(ip netns exec "$NS" "$BIN" sa --format json | kv_of_json '.[]')
		if [[ -n $out && $line == "$out" ]]; then
			pass "sa --format json: valid JSON, an object per SA with the fields of kv"
		else
			fail "sa json/kv: '$line'"
		fi
	else
		skip "sa: no jq, the JSON output is not compared with kv"
	fi
	sa_xfrm_interface
	sa_vti

	ip -n "$NS" xfrm state flush
	out=$(ip netns exec "$NS" "$BIN" sa --porcelain); rc=$?
	if ((rc == 0)) && [[ -z $out ]]; then
		pass "sa --porcelain without SAs: empty, exit 0"
	else
		fail "sa without SAs: exit $rc '$out'"
	fi
	out=$(ip netns exec "$NS" "$BIN" sa --json; ip netns exec "$NS" "$BIN" sa --format text)
	if [[ $out == $'[]\nNo SAs.' ]]; then
		pass "sa without SAs: [] in JSON, 'No SAs.' in text"
	else
		fail "sa without SAs, json and text: '$out'"
	fi
	cleanup
	trap - EXIT
}

# In the QEMU guest (IPSECMSS_VM=1, TCG) the pure arithmetic groups would
# take minutes and test nothing the host run did not: only the rest.
if [[ ${IPSECMSS_VM:-} == 1 ]]; then
	groups=${IPSECMSS_CLI_TESTS:-example errors misc formats sa}
else
	groups=${IPSECMSS_CLI_TESTS:-calc_matrix worst transport example errors misc formats tunnel sa}
fi
for t in $groups; do
	"test_$t"
done
finish
