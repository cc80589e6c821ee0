#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every way a rule with -j IPSECMSS is refused, on the real kernel, for
# iptables-legacy and iptables-nft, IPv4 and IPv6 (namespace "bc").
#
# Userspace refusals (the extension and libxtables parse the options):
#   exit status 2, a message naming the problem, nothing in the kernel log.
# Kernel refusals (the rule reaches checkentry or x_tables' protocol check):
#   iptables-legacy exits 1 ("Invalid argument. Run `dmesg'..."),
#   iptables-nft exits 4 ("RULE_APPEND failed (Invalid argument)"), and the
#   kernel log gains exactly one new line naming the problem.
# Either way the saved ruleset (iptables-save) is the same before and after.
#
# The kernel messages are pr_info_ratelimited / pr_err_ratelimited: per call
# site, at most 10 in 5 s.  Each call site's window is tracked here and a
# refusal that would be the 11th waits for the window to pass, so every one
# of them must log exactly one line.
#
# Not reachable from iptables (the extension validates first, so they are
# left to the unit tests and the extension's own tests): checkentry's
# "out of range", "takes no number", "unknown mode" and reserved-field
# refusals.  Under iptables-nft a --clamp-to-pmtu-minus-overhead rule in a
# user chain jumped to from INPUT is accepted: nft_compat checks a rule of
# a non-base chain with no hook at all, so only iptables-legacy's refusal
# of such a jump is checked.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
LIB=${IPSECMSS_LIB:-$HERE/lib.sh}
[[ -e $LIB ]] || LIB=$HERE/../vm/lib.sh
# shellcheck source=../vm/lib.sh
. "$LIB"

FLAVOURS=${FLAVOURS:-legacy nft}
MSG_HOOK='xt_IPSECMSS: --clamp-to-pmtu-minus-overhead is only valid in FORWARD, OUTPUT and POSTROUTING$'
KLOG='xt_IPSECMSS|x_tables|IPSECMSS|callbacks suppressed'
RL_INTERVAL=5000	# the kernel's DEFAULT_RATELIMIT_INTERVAL, ms
RL_BURST=10		# and DEFAULT_RATELIMIT_BURST

require_cmd ip dmesg
modinfo xt_IPSECMSS >/dev/null 2>&1 || skip "module xt_IPSECMSS not installed"

exec {NAP_FD}<> <(:)
nap() { read -r -t "$1" -u "$NAP_FD" _; }
# uptime_ms: REPLY = milliseconds since boot (the kernel log's clock)
uptime_ms() { local up _r; read -r up _r < /proc/uptime; REPLY=$((${up/./} * 10)); }

# ------------------------------------------------------------ rate limit --
declare -A RL_START RL_COUNT	# per call site: window start (ms), messages

# rl_before SITE: wait until the kernel will print one more message for SITE
rl_before() {
	local site=$1 start=${RL_START[$1]:-}
	uptime_ms
	if [[ -n $start ]] && ((REPLY - start <= RL_INTERVAL + 200)) &&
		((RL_COUNT[$site] >= RL_BURST)); then
		local wait=$((start + RL_INTERVAL + 250 - REPLY))
		echo "# $site: $RL_BURST messages in this window, waiting $wait ms"
		nap "$((wait / 1000)).$(printf '%03d' $((wait % 1000)))"
	fi
}

# rl_after SITE: account for one message of SITE just printed
rl_after() {
	local site=$1 start=${RL_START[$1]:-}
	uptime_ms
	# A window older than the interval was reset by this call; its start
	# is at most now.
	if [[ -z $start ]] || ((REPLY - start > RL_INTERVAL + 200)); then
		RL_START[$site]=$REPLY
		RL_COUNT[$site]=0
	fi
	RL_COUNT[$site]=$((RL_COUNT[$site] + 1))
}

# Messages of the same sites logged by earlier tests: their window must be
# over before the first refusal here, whatever it had used up.
settle_ratelimit() {
	local last now
	last=$(dmesg | grep -E "$KLOG" | tail -n 1 | sed -n 's/^\[ *\([0-9]*\)\.\([0-9]\{3\}\).*/\1\2/p')
	[[ -z $last ]] && return
	uptime_ms; now=$REPLY
	if ((now - last < RL_INTERVAL + 500)); then
		local wait=$((last + RL_INTERVAL + 500 - now))
		echo "# last kernel message of these call sites $((now - last)) ms ago: waiting $wait ms"
		nap "$((wait / 1000)).$(printf '%03d' $((wait % 1000)))"
	fi
}

# ---------------------------------------------------------------- state --
SAVED=
# saved_rules: REPLY = the family's saved ruleset, comments left out
saved_rules() {
	local l out=
	while IFS= read -r l; do
		[[ $l == \#* ]] || out+=$l$'\n'
	done < <(ip netns exec "$bc" "$SAVE" 2>/dev/null)
	REPLY=$out
}

KLINES=0
# new_klog: NEWK = the kernel log lines of our call sites since the last call
new_klog() {
	local lines l
	mapfile -t lines < <(dmesg)
	NEWK=()
	for l in "${lines[@]:KLINES}"; do
		[[ $l =~ $KLOG ]] && NEWK+=("$l")
	done
	KLINES=${#lines[@]}
}

# ---------------------------------------------------------------- cases --
# bad KIND DESC WANT-RE RULE...: RULE (arguments of iptables/ip6tables) is
# refused.  KIND: user (extension / libxtables), hook (checkentry's hook
# check), proto (x_tables' protocol check).  WANT-RE: a regular expression
# the message (stderr for user, the kernel line otherwise) must match.
NCASES=0
bad() {
	local kind=$1 desc=$2 want=$3 out rc errs=() before site
	shift 3
	desc="$FLAVOUR: $CMD $* ($desc)"
	NCASES=$((NCASES + 1))
	before=$SAVED
	case $kind in
	hook) site=hook ;;
	proto) site=proto ;;
	*) site= ;;
	esac
	[[ -n $site ]] && rl_before "$site"
	out=$(ip netns exec "$bc" "$CMD" "$@" 2>&1 </dev/null)
	rc=$?
	new_klog
	saved_rules; SAVED=$REPLY
	while [[ $out == *$'\n\n'* ]]; do out=${out//$'\n\n'/$'\n'}; done
	out=${out%$'\n'}
	out=${out//$'\n'/ | }
	if [[ $kind == user ]]; then
		((rc == 2)) || errs+=("exit status $rc, want 2")
		[[ $out =~ $want ]] || errs+=("message '$out' does not match /$want/")
		((${#NEWK[@]} == 0)) || errs+=("kernel log: ${NEWK[*]}")
	else
		rl_after "$site"
		((rc == KERNEL_RC)) || errs+=("exit status $rc, want $KERNEL_RC")
		[[ $out =~ $KERNEL_ERR ]] || errs+=("message '$out' does not match /$KERNEL_ERR/")
		if ((${#NEWK[@]} != 1)); then
			errs+=("${#NEWK[@]} new kernel log lines, want 1: ${NEWK[*]}")
		elif [[ ! ${NEWK[0]} =~ $want ]]; then
			errs+=("kernel log '${NEWK[0]}' does not match /$want/")
		fi
	fi
	[[ $SAVED == "$before" ]] || errs+=("the saved ruleset changed")
	if ((${#errs[@]} == 0)); then
		if [[ $kind == user ]]; then
			pass "$desc: exit 2: ${out%% | Try*}"
		else
			pass "$desc: exit $rc, kernel: ${NEWK[0]#*] }"
		fi
	else
		fail "$desc"
		printf '#   %s\n' "${errs[@]}"
		[[ $SAVED == "$before" ]] || diff <(echo "$before") <(echo "$SAVED") | sed 's/^/#   /'
	fi
}

# Userspace refusals: both families parse the same way.
user_cases() {
	local T=(-A FORWARD -p tcp -j IPSECMSS)
	bad user "mss 0" 'IPSECMSS: bad value for option "--set-mss", or out of range \(1-65535\)' "${T[@]}" --set-mss 0
	bad user "mss 65536" 'bad value for option "--set-mss", or out of range \(1-65535\)' "${T[@]}" --set-mss 65536
	bad user "mss -1" 'bad value for option "--set-mss"' "${T[@]}" --set-mss -1
	bad user "mss not a number" 'bad value for option "--set-mss"' "${T[@]}" --set-mss abc
	bad user "mss 1.5" 'bad value for option "--set-mss"' "${T[@]}" --set-mss 1.5
	bad user "mss 2^64" 'bad value for option "--set-mss"' "${T[@]}" --set-mss 18446744073709551616
	bad user "mss without its value" 'option "--set-mss" requires an argument' "${T[@]}" --set-mss
	bad user "mss twice" '"--set-mss" can only be used once' "${T[@]}" --set-mss 1344 --set-mss 1300
	bad user "mss inverted" 'cannot be inverted|does not support invert' "${T[@]}" ! --set-mss 1344
	bad user "overhead 1025" 'bad value for --clamp-to-pmtu-minus-overhead: "1025" \(want 0-1024 or "auto"\)' \
		"${T[@]}" --clamp-to-pmtu-minus-overhead 1025
	bad user "overhead 0x401" 'bad value for --clamp-to-pmtu-minus-overhead: "0x401"' \
		"${T[@]}" --clamp-to-pmtu-minus-overhead 0x401
	bad user "overhead -5" 'bad value for --clamp-to-pmtu-minus-overhead: "-5"' \
		"${T[@]}" --clamp-to-pmtu-minus-overhead -5
	bad user "overhead 73abc" 'bad value for --clamp-to-pmtu-minus-overhead: "73abc"' \
		"${T[@]}" --clamp-to-pmtu-minus-overhead 73abc
	bad user "overhead empty" 'bad value for --clamp-to-pmtu-minus-overhead: ""' \
		"${T[@]}" --clamp-to-pmtu-minus-overhead ''
	bad user "'auto' as Auto" 'bad value for --clamp-to-pmtu-minus-overhead: "Auto" \(want 0-1024 or "auto"\)' \
		"${T[@]}" --clamp-to-pmtu-minus-overhead Auto
	bad user "'auto' as aut" 'bad value for --clamp-to-pmtu-minus-overhead: "aut"' \
		"${T[@]}" --clamp-to-pmtu-minus-overhead aut
	bad user "'auto' as autoo" 'bad value for --clamp-to-pmtu-minus-overhead: "autoo"' \
		"${T[@]}" --clamp-to-pmtu-minus-overhead autoo
	bad user "'auto' with a space" 'bad value for --clamp-to-pmtu-minus-overhead: "auto "' \
		"${T[@]}" --clamp-to-pmtu-minus-overhead 'auto '
	bad user "overhead without its value" 'option "--clamp-to-pmtu-minus-overhead" requires an argument' \
		"${T[@]}" --clamp-to-pmtu-minus-overhead
	bad user "overhead twice" '"--clamp-to-pmtu-minus-overhead" can only be used once' \
		"${T[@]}" --clamp-to-pmtu-minus-overhead 73 --clamp-to-pmtu-minus-overhead auto
	bad user "both modes" 'cannot be used together' \
		"${T[@]}" --set-mss 1344 --clamp-to-pmtu-minus-overhead 73
	bad user "both modes, auto first" 'cannot be used together' \
		"${T[@]}" --clamp-to-pmtu-minus-overhead auto --set-mss 1344
	bad user "no mode" 'IPSECMSS: one of --set-mss or --clamp-to-pmtu-minus-overhead is required' "${T[@]}"
	bad user "unknown option" 'unknown option "--set-mss-to"' "${T[@]}" --set-mss-to 1000
}

# Kernel refusals.
kernel_cases() {
	local proto_msg="x_tables: ${1}_tables: IPSECMSS target: only valid for protocol 6\$"
	bad hook "overhead in INPUT" "$MSG_HOOK" \
		-A INPUT -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead 73
	bad proto "no -p" "$proto_msg" -A FORWARD -j IPSECMSS --set-mss 1344
	bad hook "auto in INPUT" "$MSG_HOOK" \
		-A INPUT -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead auto
	bad proto "! -p tcp" "$proto_msg" -A FORWARD ! -p tcp -j IPSECMSS --set-mss 1344
	bad hook "overhead in PREROUTING" "$MSG_HOOK" \
		-t mangle -A PREROUTING -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead 0
	bad proto "-p udp" "$proto_msg" -A FORWARD -p udp -j IPSECMSS --set-mss 1344
	bad hook "auto in PREROUTING" "$MSG_HOOK" \
		-t mangle -A PREROUTING -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead auto
	bad proto "-p udp, overhead in INPUT: the protocol is checked first" "$proto_msg" \
		-A INPUT -p udp -j IPSECMSS --clamp-to-pmtu-minus-overhead 73
	bad hook "overhead in mangle INPUT" "$MSG_HOOK" \
		-t mangle -A INPUT -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead 1024
	if [[ $FLAVOUR == legacy ]]; then
		bad hook "jump from INPUT to a chain with an overhead rule" "$MSG_HOOK" \
			-A INPUT -j ims_pmtu
		bad hook "jump from mangle PREROUTING to a chain with auto" "$MSG_HOOK" \
			-t mangle -A PREROUTING -j ims_auto
	fi
}

# A ruleset to keep unchanged: every table and chain the cases touch exists.
# shellcheck disable=SC2317	# called through check
baseline() {
	local T=(ip netns exec "$bc" "$CMD")
	"${T[@]}" -A FORWARD -p tcp -j IPSECMSS --set-mss 1344 &&
	"${T[@]}" -A INPUT -p tcp -j IPSECMSS --set-mss 1200 &&
	"${T[@]}" -N ims_pmtu &&
	"${T[@]}" -A ims_pmtu -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead 73 &&
	"${T[@]}" -A OUTPUT -j ims_pmtu &&
	"${T[@]}" -t mangle -A POSTROUTING -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead auto &&
	"${T[@]}" -t mangle -A FORWARD -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead 73 &&
	"${T[@]}" -t mangle -N ims_auto &&
	"${T[@]}" -t mangle -A ims_auto -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead auto &&
	"${T[@]}" -t mangle -A POSTROUTING -j ims_auto
}

run() {
	local fam=$1
	if [[ $fam == 4 ]]; then CMD=iptables-$FLAVOUR; else CMD=ip6tables-$FLAVOUR; fi
	SAVE=$CMD-save
	echo "# ---- $CMD"
	check "$FLAVOUR: $CMD: baseline ruleset" baseline || return
	saved_rules; SAVED=$REPLY
	new_klog
	if [[ $fam == 4 ]]; then
		user_cases
		kernel_cases ip
	else
		kernel_cases ip6
		local T=(-A FORWARD -p tcp -j IPSECMSS)
		bad user "mss 0" 'bad value for option "--set-mss", or out of range \(1-65535\)' "${T[@]}" --set-mss 0
		bad user "overhead 1025" 'bad value for --clamp-to-pmtu-minus-overhead: "1025"' \
			"${T[@]}" --clamp-to-pmtu-minus-overhead 1025
		bad user "'auto' as Auto" 'bad value for --clamp-to-pmtu-minus-overhead: "Auto"' \
			"${T[@]}" --clamp-to-pmtu-minus-overhead Auto
		bad user "both modes" 'cannot be used together' \
			"${T[@]}" --set-mss 1344 --clamp-to-pmtu-minus-overhead auto
		bad user "no mode" 'one of --set-mss or --clamp-to-pmtu-minus-overhead is required' "${T[@]}"
	fi
	# The ruleset is still the baseline and still works as one.
	local n
	n=$(grep -c -- '-j IPSECMSS' <<<"$SAVED")
	if ((n == 6)); then
		pass "$FLAVOUR: $CMD: the 6 baseline IPSECMSS rules are all still there"
	else
		fail "$FLAVOUR: $CMD: $n IPSECMSS rules saved, want the 6 of the baseline"
	fi
}

echo "# kernel $(uname -r)"
setup_ns -u bc || { fail "namespace bc"; finish; }
ip netns exec "$bc" true
settle_ratelimit
for FLAVOUR in $FLAVOURS; do
	if [[ $FLAVOUR == legacy ]]; then KERNEL_RC=1 KERNEL_ERR='Invalid argument'
	else KERNEL_RC=4 KERNEL_ERR='RULE_APPEND failed \(Invalid argument\)'; fi
	run 4
	run 6
done
echo "# $NCASES refused command lines checked"
finish
