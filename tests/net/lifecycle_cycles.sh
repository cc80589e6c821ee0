#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Module and rule lifecycle of xt_IPSECMSS, for iptables-legacy and
# iptables-nft, IPv4 and IPv6:
#
#  1. rmmod is refused while one rule of either flavour uses the target.
#  2. CYCLES (100) cycles, in namespace "lc", of: one --set-mss rule per
#     flavour and family in OUTPUT; two SYNs per family to the namespace's
#     own loopback (each crosses both flavours' OUTPUT chains, so it is
#     counted twice: lowered once, already low once); flush; refcount back
#     to 0 (lsmod's "used by"); rmmod; modprobe; counters start at zero.
#     The rules go through four long-running "*-restore --noflush"
#     processes and the SYNs are bash /dev/tcp connects: a cycle forks only
#     rmmod and modprobe, which is what keeps 100 cycles in time under TCG.
#  3. iptables-restore of RULES_LEGACY / RULES_NFT IPSECMSS rules of mixed
#     modes in FORWARD, timed; iptables-save gives every rule back; a
#     restore of an empty table removes them and the refcount is 0 again.
#  4. NETNS namespaces, each: /proc/net/stat/ipsecmss exists and is all
#     zero; an IPv4 rule of one flavour and an IPv6 rule of the other; a SYN
#     per family is counted there; the namespaces are deleted with their
#     rules in place; the refcount falls to 0 and rmmod succeeds.
# The kernel log must show no warning, oops or leak report.
#
# Sizes under TCG (Debian 6.1 / 6.12, one vCPU), measured: restoring 3000
# rules takes 0.2-0.7 s with legacy and 1.0-1.4 s with nft (one
# transaction), emptying the table 0.1-0.3 s, so both use the full 3000.
# RULES_LEGACY= / RULES_NFT= lower them if a slower host needs it; the time
# of each restore is printed.  The whole test takes 90-120 s.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
SELF=$HERE/${0##*/}
LIB=${IPSECMSS_LIB:-$HERE/lib.sh}
[[ -e $LIB ]] || LIB=$HERE/../vm/lib.sh
# shellcheck source=../vm/lib.sh
. "$LIB"

CYCLES=${CYCLES:-100}
RULES_LEGACY=${RULES_LEGACY:-3000}
RULES_NFT=${RULES_NFT:-3000}
NETNS=${NETNS:-20}
CLAMP=1000
MOD=xt_IPSECMSS
REFCNT=/sys/module/$MOD/refcnt
FLAVOURS=(legacy nft)

# ---------------------------------------------------------- fork-free bits --
exec {NAP_FD}<> <(:)
nap() { read -r -t "$1" -u "$NAP_FD" _; }
ms() { local t=${EPOCHREALTIME/[.,]/}; REPLY=$((t / 1000)); }

# refcnt: REPLY = the module's reference count, "gone" when not loaded
refcnt() {
	if [[ -r $REFCNT ]] && read -r REPLY < "$REFCNT" 2>/dev/null; then
		return 0
	fi
	REPLY=gone
}

# wait_refcnt N TIMEOUT_MS: until the refcount is N
wait_refcnt() {
	local end
	ms; end=$((REPLY + $2))
	while :; do
		refcnt
		[[ $REPLY == "$1" ]] && return 0
		ms; ((REPLY > end)) && { refcnt; return 1; }
		nap 0.01
	done
}

# lsmod_users: REPLY = the "Used by" count lsmod shows (from /proc/modules)
lsmod_users() {
	local name users rest
	REPLY=gone
	while read -r name _ users rest; do
		[[ $name == "$MOD" ]] && { REPLY=$users; return 0; }
	done < /proc/modules
	return 1
}

# counters: STAT[v4.syn] ... from this namespace's /proc/net/stat/ipsecmss
declare -A STAT
counters() {
	local -A c=()
	local k
	STAT=()
	ipsecmss_counters c /proc/net/stat/ipsecmss 2>/dev/null || return 1
	for k in "${!c[@]}"; do
		[[ $k == entries ]] || STAT[${k#ip}]=${c[$k]}
	done
	((${#STAT[@]} > 0))
}

# all_zero: every counter of both families is 0
all_zero() {
	local k
	counters || return 1
	for k in "${!STAT[@]}"; do [[ ${STAT[$k]} == 0 ]] || return 1; done
}

# syn ADDR: one SYN from a connect() to a closed port (the RST ends it)
syn() { : 2>/dev/null <>"/dev/tcp/$1/9"; }

# dmesg_since LINES: the kernel log after its first LINES lines
dmesg_since() { dmesg | tail -n +"$(($1 + 1))"; }

# shellcheck disable=SC2317	# called through check
unload() {
	lsmod_users || return 0
	wait_refcnt 0 30000 || return 1
	rmmod "$MOD"
}

# ------------------------------------------------------------ 2. cycles --
# Runs inside namespace lc (the script re-executed there).
declare -A RFD
start_restorers() {
	local r fifo fd
	trap '' PIPE
	for r in iptables-legacy ip6tables-legacy iptables-nft ip6tables-nft; do
		fifo=$TMPD/$r.in
		mkfifo "$fifo" || return 1
		"$r-restore" --noflush <"$fifo" >"$TMPD/$r.out" 2>&1 &
		exec {fd}>"$fifo"
		RFD[$r]=$fd
	done
}

stop_restorers() {
	local r fd
	for r in "${!RFD[@]}"; do fd=${RFD[$r]}; exec {fd}>&-; done
	wait
	RFD=()
}

# feed TEXT: the same restore text to the four restore processes
feed() {
	local r
	for r in "${!RFD[@]}"; do
		printf '%b' "$1" >&"${RFD[$r]}" || return 1
	done
}

BAD=()
# bad CYCLE WHAT: note a failure, print the first ones
bad() {
	BAD+=("$1")
	((${#BAD[@]} <= 5)) && echo "#   cycle $1: $2"
}

# sync_rules ADDR FAMILY: until a SYN to ADDR is counted twice (both
# flavours' rules are live).  The module's refcount moves when a rule is
# checked, a little before its table or transaction is committed.
sync_rules() {
	local i n
	for ((i = 0; i < 50; i++)); do
		counters || return 1
		n=${STAT[$2.syn]}
		syn "$1"
		counters || return 1
		((STAT[$2.syn] - n == 2)) && return 0
		SYNC_LATE=$((SYNC_LATE + 1))
		nap 0.01
	done
	return 1
}

SYNC_LATE=0
cycle() {
	local c=$1 k v want
	local -A before
	feed "*filter\n-A OUTPUT -p tcp -j IPSECMSS --set-mss $CLAMP\nCOMMIT\n" ||
		{ bad "$c" "a restore process is gone"; return 1; }
	wait_refcnt 4 10000 || { bad "$c" "refcount $REPLY with 4 rules, want 4"; return 1; }
	if ! sync_rules 127.0.0.1 v4 || ! sync_rules ::1 v6; then
		bad "$c" "SYNs not counted by both flavours' rules"
		return 1
	fi
	for k in "${!STAT[@]}"; do before[$k]=${STAT[$k]}; done
	syn 127.0.0.1; syn 127.0.0.1
	syn ::1; syn ::1
	counters || { bad "$c" "no /proc/net/stat/ipsecmss"; return 1; }
	for k in "${IPSECMSS_COLS[@]}"; do
		case $k in syn) want=4 ;; lowered|already_low) want=2 ;; *) want=0 ;; esac
		for v in v4 v6; do
			((STAT[$v.$k] - before[$v.$k] == want)) ||
				{ bad "$c" "$v $k +$((STAT[$v.$k] - before[$v.$k])), want +$want"; return 1; }
		done
	done
	flush_rules "$c" || return 1
	rmmod $MOD 2>"$TMPD/rmmod.err" || { bad "$c" "rmmod: $(<"$TMPD/rmmod.err")"; return 1; }
	refcnt
	[[ $REPLY == gone ]] || { bad "$c" "$MOD still loaded after rmmod"; return 1; }
	modprobe $MOD 2>"$TMPD/modprobe.err" ||
		{ bad "$c" "modprobe: $(<"$TMPD/modprobe.err")"; return 1; }
	all_zero || { bad "$c" "counters not zero after modprobe"; return 1; }
	refcnt
	[[ $REPLY == 0 ]] || { bad "$c" "refcount $REPLY after modprobe"; return 1; }
}

# flush_rules CYCLE: the four OUTPUT chains flushed, the refcount back to 0
flush_rules() {
	feed "*filter\n-F OUTPUT\nCOMMIT\n" || { bad "$1" "a restore process is gone"; return 1; }
	wait_refcnt 0 10000 || { bad "$1" "refcount $REPLY after the flush, want 0"; return 1; }
	lsmod_users
	[[ $REPLY == 0 ]] || { bad "$1" "lsmod shows $REPLY users after the flush"; return 1; }
}

inside_lc() {
	local c t0 t1 r
	check "lc: $MOD unloaded before the cycles" unload
	check "lc: modprobe $MOD" modprobe $MOD
	check "lc: /proc/net/stat/ipsecmss starts at zero" all_zero
	start_restorers || { fail "lc: restore processes"; return; }
	ms; t0=$REPLY
	for ((c = 1; c <= CYCLES; c++)); do
		# After a failure: the rules out of the way of what follows.
		cycle "$c" || { flush_rules "$c"; break; }
	done
	ms; t1=$REPLY
	echo "# SYNs sent before both flavours' rules were live (refcount already 4): $SYNC_LATE"
	stop_restorers
	if ((${#BAD[@]} == 0)); then
		pass "lc: $CYCLES cycles of rules (legacy+nft, v4+v6), SYNs counted by both, flush, refcount 0, rmmod, modprobe, counters zero ($((t1 - t0)) ms)"
	else
		fail "lc: cycle ${BAD[0]} failed (stopped there)"
		for r in iptables-legacy ip6tables-legacy iptables-nft ip6tables-nft; do
			[[ -s $TMPD/$r.out ]] && sed "s/^/#   $r-restore: /" "$TMPD/$r.out" | head -n 5
		done
	fi
	mass_restore
}

# ------------------------------------------------------ 3. mass restore --
# gen_rules N: a FORWARD ruleset of N IPSECMSS rules, modes in turn.
gen_rules() {
	local n=$1 i out="*filter"$'\n'":INPUT ACCEPT [0:0]"$'\n'":FORWARD ACCEPT [0:0]"$'\n'":OUTPUT ACCEPT [0:0]"$'\n'
	for ((i = 0; i < n; i++)); do
		out+="-A FORWARD -d 10.$((i / 65536 % 256)).$((i / 256 % 256)).$((i % 256))/32 -p tcp -j IPSECMSS "
		case $((i % 4)) in
		0) out+="--set-mss $((536 + i % 1000))" ;;
		1) out+="--clamp-to-pmtu-minus-overhead $((i % 1025))" ;;
		2) out+="--clamp-to-pmtu-minus-overhead auto" ;;
		3) out+="--set-mss $((1 + i % 65535))" ;;
		esac
		out+=$'\n'
	done
	REPLY=$out"COMMIT"$'\n'
}

mass_restore() {
	local f n t0 t1 t2 want got saved
	local empty="*filter"$'\n'":INPUT ACCEPT [0:0]"$'\n'":FORWARD ACCEPT [0:0]"$'\n'":OUTPUT ACCEPT [0:0]"$'\n'"COMMIT"$'\n'
	for f in "${FLAVOURS[@]}"; do
		[[ $f == legacy ]] && n=$RULES_LEGACY || n=$RULES_NFT
		gen_rules "$n"
		printf '%s' "$REPLY" > "$TMPD/rules.$f"
		want=$(grep -- '^-A' "$TMPD/rules.$f")
		ms; t0=$REPLY
		check "lc: iptables-$f-restore of $n IPSECMSS rules" \
			"iptables-$f-restore" "$TMPD/rules.$f"
		ms; t1=$REPLY
		echo "# iptables-$f-restore of $n rules: $((t1 - t0)) ms"
		check "lc: $f: refcount $n with $n rules" wait_refcnt "$n" 30000
		saved=$("iptables-$f-save" -t filter 2>/dev/null)
		got=$(grep -- '^-A' <<<"$saved")
		if [[ $got == "$want" ]]; then
			pass "lc: $f: iptables-save gives back the $n rules exactly"
		else
			fail "lc: $f: iptables-save differs from the restored rules"
			diff <(echo "$want") <(echo "$got") | head -n 10 | sed 's/^/#   /'
		fi
		ms; t1=$REPLY
		printf '%s' "$empty" > "$TMPD/empty"
		check "lc: iptables-$f-restore of an empty filter table" \
			"iptables-$f-restore" "$TMPD/empty"
		ms; t2=$REPLY
		echo "# iptables-$f-restore back to empty: $((t2 - t1)) ms"
		check "lc: $f: refcount 0 after the empty restore" wait_refcnt 0 30000
		got=$("iptables-$f-save" -t filter 2>/dev/null | grep -c -- '-j IPSECMSS')
		if [[ $got == 0 ]]; then
			pass "lc: $f: no IPSECMSS rule left"
		else
			fail "lc: $f: $got IPSECMSS rules left"
		fi
	done
}

# ------------------------------------------------------------ 4. netns --
# Runs inside a fresh namespace: FLAV4 for the IPv4 rule, FLAV6 for IPv6.
inside_netns() {
	local name=$1 f4=$2 f6=$3
	if ! all_zero; then
		fail "$name: /proc/net/stat/ipsecmss missing or not zero at creation"
		return
	fi
	ip link set lo up
	"iptables-$f4-restore" --noflush <<<$'*filter\n-A OUTPUT -p tcp -j IPSECMSS --set-mss '"$CLAMP"$'\nCOMMIT' ||
		{ fail "$name: iptables-$f4 rule"; return; }
	"ip6tables-$f6-restore" --noflush <<<$'*filter\n-A OUTPUT -p tcp -j IPSECMSS --set-mss '"$CLAMP"$'\nCOMMIT' ||
		{ fail "$name: ip6tables-$f6 rule"; return; }
	syn 127.0.0.1
	syn ::1
	counters
	if [[ ${STAT[v4.syn]}/${STAT[v4.lowered]}/${STAT[v6.syn]}/${STAT[v6.lowered]} == 1/1/1/1 ]]; then
		echo "ok $name"
	else
		fail "$name: counters v4 syn/lowered ${STAT[v4.syn]}/${STAT[v4.lowered]}, v6 ${STAT[v6.syn]}/${STAT[v6.lowered]}, want 1/1 each"
	fi
}

netns_phase() {
	local i ns ok=0 names=() out t0 t1 f4 f6
	ms; t0=$REPLY
	for ((i = 1; i <= NETNS; i++)); do
		ns=lcn$i$KSFT_NS_SUFFIX
		ip netns add "$ns" || { fail "netns: ip netns add $ns"; break; }
		names+=("$ns")
		KSFT_NS_LIST+=("$ns")
		if ((i % 2)); then f4=legacy f6=nft; else f4=nft f6=legacy; fi
		out=$(ip netns exec "$ns" "$SELF" --netns "lcn$i" $f4 $f6)
		[[ $out == *"ok lcn$i"* ]] && ok=$((ok + 1))
		[[ $out == *"not ok"* ]] && echo "$out"
	done
	ms; t1=$REPLY
	if ((ok == NETNS)); then
		pass "netns: $NETNS namespaces: counters zero at creation, rules of both flavours, SYNs counted ($((t1 - t0)) ms)"
	else
		fail "netns: only $ok of $NETNS namespaces worked"
	fi
	check "netns: refcount $((2 * NETNS)) with one v4 and one v6 rule in each" \
		wait_refcnt $((2 * NETNS)) 10000
	for i in "${names[@]}"; do ip netns del "$i"; done
	KSFT_NS_LIST=("$lc")
	ms; t0=$REPLY
	check "netns: refcount 0 once the namespaces (rules in place) are gone" \
		wait_refcnt 0 60000
	ms; t1=$REPLY
	echo "# namespaces released their rules in $((t1 - t0)) ms"
	check "netns: rmmod $MOD" rmmod $MOD
	refcnt
	if [[ $REPLY == gone ]]; then
		pass "netns: $MOD unloaded"
	else
		fail "netns: $MOD still loaded"
	fi
}

# ----------------------------------------------------- 1. rmmod refused --
refused_phase() {
	local f
	for f in "${FLAVOURS[@]}"; do
		IPTABLES=iptables-$f
		check "$f: a rule in lc" ipt_ns "$lc" -A FORWARD -p tcp -j IPSECMSS --set-mss $CLAMP
		if rmmod $MOD >"$TMPD/rmmod.err" 2>&1; then
			fail "$f: rmmod $MOD succeeded while a rule uses it"
			modprobe $MOD
		elif grep -q 'in use' "$TMPD/rmmod.err"; then
			pass "$f: rmmod refused while the rule exists: $(<"$TMPD/rmmod.err")"
		else
			fail "$f: rmmod refused, but not as in use: $(<"$TMPD/rmmod.err")"
		fi
		refcnt
		if [[ $REPLY == 1 ]]; then
			pass "$f: still loaded, refcount 1 with the rule"
		else
			fail "$f: refcount $REPLY with one rule, want 1"
		fi
		check "$f: flush" ipt_ns "$lc" -F FORWARD
		check "$f: refcount 0 after the flush" wait_refcnt 0 10000
	done
}

# ------------------------------------------------------------------ main --
case ${1:-} in
--lc)
	TMPD=$2
	inside_lc
	finish
	;;
--netns)
	inside_netns "$2" "$3" "$4"
	finish
	;;
esac

TMPD=$(mktemp -d /tmp/lifecycle.XXXXXX)
# shellcheck disable=SC2317	# the EXIT trap calls it
cleanup() {
	cleanup_all_ns
	rm -rf "$TMPD"
}
require_cmd ip modprobe rmmod iptables-legacy-restore iptables-nft-restore \
	ip6tables-legacy-restore ip6tables-nft-restore
modinfo $MOD >/dev/null 2>&1 || skip "module $MOD not installed"

echo "# kernel $(uname -r)"
DMESG0=$(dmesg | wc -l)
ms; T0=$REPLY
setup_ns -u lc || { fail "namespace lc"; finish; }
ip -n "$lc" addr add 10.9.9.9/32 dev lo
check "modprobe $MOD" modprobe $MOD
refused_phase
ms; echo "# phase 1: $((REPLY - T0)) ms"

ip netns exec "$lc" "$SELF" --lc "$TMPD" || KSFT_FAILED=1
ms; echo "# phases 2-3: $((REPLY - T0)) ms"

netns_phase
ms; echo "# phase 4: $((REPLY - T0)) ms"

bad=$(dmesg_since "$DMESG0" | grep -E 'WARNING|BUG|Oops|Call Trace|refcount_t|leak|general protection')
if [[ -z $bad ]]; then
	pass "kernel log: no warning, oops or leak report"
else
	fail "kernel log:"
	echo "$bad" | head -n 20 | sed 's/^/#   /'
fi
finish
