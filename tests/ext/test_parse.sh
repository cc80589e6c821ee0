#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_parse.sh - the iptables side of IPSECMSS, without the kernel module:
# the extension (userspace/libxt_IPSECMSS.c) must build without a warning,
# parse every valid form into the expected struct xt_ipsecmss_tginfo, print
# and save it so that the saved form parses back to the same bytes,
# translate to nft where nft can, and refuse every bad command line with
# exit status 2 and a clear message, inserting no rule.
#
# Tools, each used where present:
#   xt_roundtrip (built here)     parse, data, print, save: no kernel at all
#   iptables-translate, ip6tables-translate   pure userspace
#   iptables-nft / ip6tables-nft  in a private netns (unshare -n); without
#                                 the xt_IPSECMSS module the kernel refuses
#                                 valid rules (exit 4), but parse errors come
#                                 first (exit 2).  With the module loaded,
#                                 valid rules go in and iptables -S is
#                                 compared with the expected saved form.
#
# Environment: IPSECMSS_SO=path tests a built .so instead of building one;
# IPTABLES / IP6TABLES name the binaries for the netns checks;
# IPSECMSS_IN_NETNS=1 says the current netns is a scratch one (a VM guest,
# "ip netns exec"): use it as is instead of unshare -n.  Its mangle table
# is flushed.
#
# Output: KTAP (tests/lib/ktap.sh).  Exit 0 all passed, 1 something
# failed, 4 nothing could be tested.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)

# Run everything in a private network namespace when we can, so that the
# iptables-nft checks never touch the host's ruleset.
if [ -z "${IPSECMSS_IN_NETNS:-}" ] && unshare -n true 2>/dev/null; then
	IPSECMSS_IN_NETNS=1 exec unshare -n "$0" "$@"
fi

# shellcheck source=../lib/ktap.sh
. "$TOP/tests/lib/ktap.sh"
ktap_print_header
pass() { ktap_test_pass "$*"; }
fail() { ktap_test_fail "$*"; }
skip() { ktap_test_skip "$*"; }
totals() { ktap_finished; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for tool in cc pkg-config; do
	if ! command -v "$tool" >/dev/null; then
		skip "$tool not installed: nothing can be tested"
		totals
	fi
done
if ! pkg-config --exists xtables; then
	skip "libxtables-dev (pkg-config xtables) not installed"
	totals
fi
XT_CFLAGS=$(pkg-config --cflags xtables)
XT_LIBS=$(pkg-config --libs xtables)
SYS_XTLIB=$(pkg-config --variable=xtlibdir xtables)

# --- build ---------------------------------------------------------------
if [ -n "${IPSECMSS_SO:-}" ]; then
	so=$IPSECMSS_SO
	[ -r "$so" ] || { fail "IPSECMSS_SO=$so not readable"; totals; }
else
	so=$tmp/libxt_IPSECMSS.so
	# shellcheck disable=SC2086
	if cc -O2 -Wall -Wextra -fPIC -shared $XT_CFLAGS -I "$TOP/kernel" \
	      -o "$so" "$TOP/userspace/libxt_IPSECMSS.c" $XT_LIBS \
	      2>"$tmp/cc.err"; then
		if [ -s "$tmp/cc.err" ]; then
			fail "libxt_IPSECMSS.so builds, with warnings:"
			sed 's/^/#   /' "$tmp/cc.err"
		else
			pass "libxt_IPSECMSS.so builds with -Wall -Wextra and no warning"
		fi
	else
		fail "libxt_IPSECMSS.so does not build:"
		sed 's/^/#   /' "$tmp/cc.err"
		totals
	fi
fi

# shellcheck disable=SC2086
if cc -O2 -Wall -Wextra $XT_CFLAGS -o "$tmp/xt_roundtrip" \
      "$HERE/xt_roundtrip.c" $XT_LIBS 2>"$tmp/cc.err" && [ ! -s "$tmp/cc.err" ]; then
	pass "xt_roundtrip builds with no warning"
else
	fail "xt_roundtrip does not build cleanly:"
	sed 's/^/#   /' "$tmp/cc.err"
	totals
fi
RT=$tmp/xt_roundtrip

if nm -D --defined-only "$so" | grep -qw _init; then
	fail "the .so exports _init (clashes with crti; use a constructor)"
else
	pass "the .so registers from a constructor, no _init export"
fi

# A library directory holding the stock extensions (libxt_tcp.so for -p tcp)
# and ours.
export XTABLES_LIBDIR=$tmp/xtlib
mkdir "$XTABLES_LIBDIR"
ln -s "$SYS_XTLIB"/* "$XTABLES_LIBDIR"/
rm -f "$XTABLES_LIBDIR/libxt_IPSECMSS.so"
ln -s "$(readlink -f "$so")" "$XTABLES_LIBDIR/libxt_IPSECMSS.so"

# --- the struct the kernel is given, in host byte order -------------------
if [ "$(printf '\001\000' | od -An -tu2 | tr -d ' ')" = 1 ]; then
	u16() { printf '%02x %02x' $(($1 & 255)) $(($1 >> 8)); }
else
	u16() { printf '%02x %02x' $(($1 >> 8)) $(($1 & 255)); }
fi
# tginfo MODE MSS OVERHEAD: mode, flags 0, mss, overhead, reserved 0
tginfo() { printf '%02x 00 %s %s 00 00' "$1" "$(u16 "$2")" "$(u16 "$3")"; }

# --- valid forms: data, print, save, and save parses back ----------------
# args | mode mss overhead | print | save
valid_cases=(
	"--set-mss 1344|1 1344 0| IPSECMSS set 1344| --set-mss 1344"
	"--set-mss 1|1 1 0| IPSECMSS set 1| --set-mss 1"
	"--set-mss 65535|1 65535 0| IPSECMSS set 65535| --set-mss 65535"
	"--set-mss 0x540|1 1344 0| IPSECMSS set 1344| --set-mss 1344"
	"--clamp-to-pmtu-minus-overhead 73|2 0 73| IPSECMSS clamp to PMTU - 73| --clamp-to-pmtu-minus-overhead 73"
	"--clamp-to-pmtu-minus-overhead 0|2 0 0| IPSECMSS clamp to PMTU - 0| --clamp-to-pmtu-minus-overhead 0"
	"--clamp-to-pmtu-minus-overhead 1024|2 0 1024| IPSECMSS clamp to PMTU - 1024| --clamp-to-pmtu-minus-overhead 1024"
	"--clamp-to-pmtu-minus-overhead auto|3 0 0| IPSECMSS clamp to PMTU - auto| --clamp-to-pmtu-minus-overhead auto"
)

for fam in 4 6; do
	for c in "${valid_cases[@]}"; do
		IFS='|' read -r args fields want_print want_save <<<"$c"
		# shellcheck disable=SC2086
		want_data=$(tginfo $fields)
		# shellcheck disable=SC2086
		out=$("$RT" -$fam IPSECMSS $args 2>"$tmp/err")
		rc=$?
		data=$(sed -n 's/^data: //p' <<<"$out")
		prt=$(sed -n 's/^print://p' <<<"$out")
		sav=$(sed -n 's/^save://p' <<<"$out")
		if [ $rc -ne 0 ]; then
			fail "-$fam '$args': refused (rc $rc): $(head -1 "$tmp/err")"
			continue
		fi
		if [ "$data" = "$want_data" ] && [ "$prt" = "$want_print" ] &&
		   [ "$sav" = "$want_save" ]; then
			pass "-$fam '$args': data [$data] print '$prt' save '$sav'"
		else
			fail "-$fam '$args': data [$data] want [$want_data]; print '$prt' want '$want_print'; save '$sav' want '$want_save'"
			continue
		fi
		# shellcheck disable=SC2086
		out2=$("$RT" -$fam IPSECMSS $sav 2>&1)
		if [ "$(sed -n 's/^data: //p' <<<"$out2")" = "$data" ] &&
		   [ "$(sed -n 's/^save://p' <<<"$out2")" = "$sav" ]; then
			pass "-$fam '$args': saved form parses back to the same bytes"
		else
			fail "-$fam '$args': saved form '$sav' gives: $out2"
		fi
	done
done

# --- help ----------------------------------------------------------------
for fam in 4 6; do
	ipt=iptables; [ "$fam" = 6 ] && ipt=ip6tables
	if ! command -v "$ipt-translate" >/dev/null; then
		skip "$ipt-translate not installed: help not checked"
		continue
	fi
	hdrs=40 floor=88
	[ $fam = 6 ] && hdrs=60
	h=$("$ipt-translate" -j IPSECMSS -h 2>&1)
	if grep -q -- '--set-mss value' <<<"$h" &&
	   grep -q -- '--clamp-to-pmtu-minus-overhead value' <<<"$h" &&
	   grep -q -- '--clamp-to-pmtu-minus-overhead auto' <<<"$h" &&
	   grep -q -- "- value - $hdrs, never below $floor" <<<"$h"; then
		pass "-$fam help lists both options (headers $hdrs, floor $floor)"
	else
		fail "-$fam help text: $(grep -A12 IPSECMSS <<<"$h")"
	fi
done

# --- iptables-translate ---------------------------------------------------
# userspace/libxt_IPSECMSS.txlate, in the form of iptables' own .txlate
# files: an "iptables-translate ..." (or ip6tables-) line, then the lines it
# must print, a blank line between the pairs.
# xlate_check CMDLINE WANT: one pair.
xlate_check() {
	local -a words
	local got rc
	read -ra words <<<"$1"
	if ! command -v "${words[0]}" >/dev/null; then
		skip "${words[0]} not installed: '${1#* }' not translated"
		return
	fi
	got=$("${words[@]}" 2>"$tmp/err")
	rc=$?
	got=$(sed 's/ *$//' <<<"$got")
	if [ $rc -eq 0 ] && [ "$got" = "$2" ]; then
		pass "txlate: $1"
	else
		fail "txlate: $1: rc $rc, got: $got $(cat "$tmp/err") want: $2"
	fi
}

txlate=$TOP/userspace/libxt_IPSECMSS.txlate
npairs=0
cmdline=''
want=''
while IFS= read -r line || [ -n "$cmdline" ]; do
	case $line in
	iptables-translate\ *|ip6tables-translate\ *)
		[ -n "$cmdline" ] && xlate_check "$cmdline" "$want" && npairs=$((npairs + 1))
		cmdline=$line want='' ;;
	"")
		[ -n "$cmdline" ] && xlate_check "$cmdline" "$want" && npairs=$((npairs + 1))
		cmdline='' want='' ;;
	*)
		want=${want:+$want$'\n'}$line ;;
	esac
done <"$txlate"
if [ "$npairs" -ge 7 ]; then
	pass "txlate: $npairs translations in $(basename "$txlate")"
else
	fail "txlate: only $npairs translations read from $txlate"
fi

# --- the netns iptables ---------------------------------------------------
IPT4=${IPTABLES:-}
IPT6=${IP6TABLES:-}
if [ -z "$IPT4" ]; then
	if command -v iptables-nft >/dev/null; then IPT4=iptables-nft; else IPT4=iptables; fi
fi
if [ -z "$IPT6" ]; then
	if command -v ip6tables-nft >/dev/null; then IPT6=ip6tables-nft; else IPT6=ip6tables; fi
fi
ipt_usable=0
if [ -n "${IPSECMSS_IN_NETNS:-}" ] && command -v "$IPT4" >/dev/null &&
   command -v "$IPT6" >/dev/null &&
   "$IPT4" -t mangle -S >/dev/null 2>&1 && "$IPT6" -t mangle -S >/dev/null 2>&1; then
	ipt_usable=1
else
	skip "no usable $IPT4/$IPT6 in a private netns: insert checks not run"
fi
ipt_of() { if [ "$1" = 4 ]; then echo "$IPT4"; else echo "$IPT6"; fi; }
rules_of() { "$(ipt_of "$1")" -t mangle -S 2>/dev/null | grep -c IPSECMSS; }

# Does the kernel take an IPSECMSS rule?  (only inside the VM, normally)
kernel_has_module=0
if [ $ipt_usable = 1 ]; then
	if "$IPT4" -t mangle -A FORWARD -p tcp -j IPSECMSS --set-mss 1344 \
	   >/dev/null 2>&1; then
		kernel_has_module=1
		"$IPT4" -t mangle -F
	else
		skip "kernel has no xt_IPSECMSS: valid rules parse and print, but are not inserted"
	fi
fi

if [ $ipt_usable = 1 ]; then
	# args | print
	for fam in 4 6; do
		ipt=$(ipt_of $fam)
		for c in "${valid_cases[@]}"; do
			IFS='|' read -r args _ want_print want_save <<<"$c"
			# shellcheck disable=SC2086
			out=$("$ipt" -v -t mangle -A FORWARD -p tcp -j IPSECMSS $args 2>"$tmp/err")
			rc=$?
			if ! grep -qF -- "$want_print" <<<"$out"; then
				fail "$ipt -v -A FORWARD -p tcp -j IPSECMSS $args: no '$want_print' in: $out"
			elif [ $kernel_has_module = 1 ]; then
				saved=$("$ipt" -t mangle -S FORWARD | grep IPSECMSS)
				if [ $rc -eq 0 ] && [ "$saved" = "-A FORWARD -p tcp -j IPSECMSS$want_save" ]; then
					pass "$ipt -A ... $args: inserted, prints and saves as '$saved'"
				else
					fail "$ipt -A ... $args: rc $rc, saved '$saved' $(head -1 "$tmp/err")"
				fi
			elif [ $rc -ne 0 ] && [ $rc -ne 2 ]; then
				pass "$ipt -v -A ... $args: parsed, prints '$want_print' (kernel refused, rc $rc)"
			else
				fail "$ipt -v -A ... $args: rc $rc: $(head -1 "$tmp/err")"
			fi
			"$ipt" -t mangle -F
		done
	done
fi

# --- bad command lines ----------------------------------------------------
# Each: the target options | a piece of the expected message (grep -E).
R_MSS='bad value for option "--set-mss", or out of range \(1-65535\)'
R_OVH='bad value for --clamp-to-pmtu-minus-overhead: ".*" \(want 0-1024 or "auto"\)'
bad_cases=(
	"--set-mss 0|$R_MSS"
	"--set-mss 65536|$R_MSS"
	"--set-mss 70000|$R_MSS"
	"--set-mss 4294968640|$R_MSS"
	"--set-mss abc|$R_MSS"
	"--set-mss -1|$R_MSS"
	"--set-mss ''|$R_MSS"
	"--set-mss 1344x|$R_MSS"
	"--set-mss 1.5|$R_MSS"
	"--set-mss|\"--set-mss\" requires an argument"
	"--set-mss 1344 --set-mss 1300|option \"--set-mss\" can only be used once"
	"! --set-mss 1344|option \"--set-mss\" cannot be inverted"
	"|one of --set-mss or --clamp-to-pmtu-minus-overhead is required"
	"--set-mss 1344 --clamp-to-pmtu-minus-overhead 73|cannot be used together with"
	"--clamp-to-pmtu-minus-overhead auto --set-mss 1344|cannot be used together with"
	"--clamp-to-pmtu-minus-overhead -5|$R_OVH"
	"--clamp-to-pmtu-minus-overhead 99999|$R_OVH"
	"--clamp-to-pmtu-minus-overhead 1025|$R_OVH"
	"--clamp-to-pmtu-minus-overhead 4294967369|$R_OVH"
	"--clamp-to-pmtu-minus-overhead Auto|$R_OVH"
	"--clamp-to-pmtu-minus-overhead AUTO|$R_OVH"
	"--clamp-to-pmtu-minus-overhead aut|$R_OVH"
	"--clamp-to-pmtu-minus-overhead autox|$R_OVH"
	"--clamp-to-pmtu-minus-overhead ' auto'|$R_OVH"
	"--clamp-to-pmtu-minus-overhead ''|$R_OVH"
	"--clamp-to-pmtu-minus-overhead 1.5|$R_OVH"
	"--clamp-to-pmtu-minus-overhead 0x|$R_OVH"
	"--clamp-to-pmtu-minus-overhead 73abc|$R_OVH"
	"--clamp-to-pmtu-minus-overhead|\"--clamp-to-pmtu-minus-overhead\" requires an argument"
	"--clamp-to-pmtu-minus-overhead 73 --clamp-to-pmtu-minus-overhead 73|can only be used once"
	"! --clamp-to-pmtu-minus-overhead 73|cannot be inverted"
	"--set-mss 1344 --mss 1300|unknown option \"--mss\""
	"--clamp-mss-to-pmtu|unknown option \"--clamp-mss-to-pmtu\""
	"--set-mss 1344 extra|Bad argument .extra'"
)

# One tool, one bad line: exit 2, the message on stderr.
expect_refusal() {	# label regex cmd...
	local label=$1 re=$2 rc
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -ne 2 ]; then
		echo "$label: rc $rc (want 2) $(head -1 "$tmp/err")"
		return 1
	fi
	if ! grep -qE -- "$re" "$tmp/err"; then
		echo "$label: message '$(head -1 "$tmp/err")' lacks /$re/"
		return 1
	fi
	return 0
}

for fam in 4 6; do
	ipt=iptables; [ "$fam" = 6 ] && ipt=ip6tables
	for c in "${bad_cases[@]}"; do
		args=${c%%|*}
		re=${c#*|}
		argv=()
		eval "argv=($args)"	# the cases quote '' and ' auto'
		why=()
		tools="xt_roundtrip"
		w=$(expect_refusal xt_roundtrip "$re" "$RT" -$fam IPSECMSS "${argv[@]}") || why+=("$w")
		if command -v $ipt-translate >/dev/null; then
			tools+=", $ipt-translate"
			w=$(expect_refusal $ipt-translate "$re" $ipt-translate -t mangle \
				-A FORWARD -p tcp -j IPSECMSS "${argv[@]}") || why+=("$w")
		fi
		if [ $ipt_usable = 1 ]; then
			nipt=$(ipt_of $fam)
			tools+=", $nipt"
			w=$(expect_refusal "$nipt" "$re" "$nipt" -t mangle \
				-A FORWARD -p tcp -j IPSECMSS "${argv[@]}") || why+=("$w")
			n=$(rules_of $fam)
			if [ "$n" != 0 ]; then
				why+=("$nipt: $n IPSECMSS rule(s) inserted")
				"$nipt" -t mangle -F
			fi
		fi
		if [ ${#why[@]} -eq 0 ]; then
			pass "-$fam refused: -j IPSECMSS $args (exit 2, message; $tools)"
		else
			fail "-$fam not refused right: -j IPSECMSS $args: ${why[*]}"
		fi
	done
done

# --- userspace/libxt_IPSECMSS.t -------------------------------------------
# Every line well formed; the OK lines parse and save as the file says; a
# FAIL line is refused by the parser here, or else is one the kernel
# refuses (only checked where the module is loaded).
tfile=$TOP/userspace/libxt_IPSECMSS.t
if [ ! -r "$tfile" ]; then
	fail "$tfile missing"
else
	lineno=0 chains="" table="" nok=0 nbad=0 nkernel=0 tbad=()
	while IFS= read -r line || [ -n "$line" ]; do
		lineno=$((lineno + 1))
		case $line in
		''|'#'*) continue ;;
		:*) chains=${line#:}; continue ;;
		\**) table=${line#\*}; continue ;;
		esac
		IFS=';' read -r rule save res extra <<<"$line"
		if [ -z "$chains" ] || [ -n "$extra" ] ||
		   { [ "$res" != OK ] && [ "$res" != FAIL ]; } ||
		   [[ $rule != *"-j IPSECMSS"* ]] ||
		   { [ "$res" = OK ] && [ -z "$save" ]; }; then
			tbad+=("line $lineno malformed: $line")
			continue
		fi
		[ "$save" = "=" ] && save=$rule
		targs=${rule#*-j IPSECMSS}
		ok_here=1
		for fam in 4 6; do
			# shellcheck disable=SC2086
			out=$("$RT" -$fam IPSECMSS $targs 2>/dev/null)
			rc=$?
			sav=$(sed -n 's/^save://p' <<<"$out")
			if [ "$res" = OK ]; then
				if [ $rc -ne 0 ] || [ "${rule%%-j IPSECMSS*}-j IPSECMSS$sav" != "$save" ]; then
					tbad+=("line $lineno -$fam: rc $rc, saves as '${rule%%-j IPSECMSS*}-j IPSECMSS$sav', file says '$save'")
					ok_here=0
				fi
			elif [ $rc -eq 0 ]; then
				ok_here=2	# for the kernel to refuse
			fi
			# Where the module is loaded, the whole line as iptables-test.py would.
			if [ $kernel_has_module = 1 ]; then
				ipt=$(ipt_of $fam)
				IFS=',' read -ra chain_list <<<"$chains"
				for ch in "${chain_list[@]}"; do
					# shellcheck disable=SC2086
					"$ipt" -t "${table:-filter}" -A "$ch" $rule >/dev/null 2>&1
					rc=$?
					got=$("$ipt" -t "${table:-filter}" -S "$ch" | grep -F -- "-A $ch " | head -1)
					"$ipt" -t "${table:-filter}" -F
					if [ "$res" = OK ] && { [ $rc -ne 0 ] || [ "$got" != "-A $ch $save" ]; }; then
						tbad+=("line $lineno $ipt $ch: rc $rc, saved '$got'")
						ok_here=0
					elif [ "$res" = FAIL ] && [ $rc -eq 0 ]; then
						tbad+=("line $lineno $ipt $ch: accepted, should fail")
						ok_here=0
					fi
				done
				[ $ok_here = 2 ] && ok_here=1
			fi
		done
		case $ok_here in
		1) if [ "$res" = OK ]; then nok=$((nok + 1)); else nbad=$((nbad + 1)); fi ;;
		2) nkernel=$((nkernel + 1)) ;;
		esac
	done <"$tfile"
	if [ ${#tbad[@]} -eq 0 ]; then
		pass "libxt_IPSECMSS.t: $nok OK lines parse and save as written, $nbad FAIL lines refused"
	else
		fail "libxt_IPSECMSS.t: ${tbad[*]}"
	fi
	if [ $nkernel -gt 0 ]; then
		skip "libxt_IPSECMSS.t: $nkernel FAIL lines parse here; the kernel must refuse them (run where xt_IPSECMSS loads)"
	fi
fi

totals
