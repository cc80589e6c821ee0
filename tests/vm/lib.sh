# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# kselftest-style helpers for the ipsecmss guest tests.  Source it from a bash
# test script (set -u, not set -e):
#
#	. "$(dirname "$0")/lib.sh"
#	setup_ns r1 r2
#	make_veth r1 veth0 r2 veth0
#	check "r1 reaches r2" nsexec r1 ping -c1 -W1 10.0.0.2
#	finish
#
# Output is KTAP (tests/lib/ktap.sh, the format of every suite): sourcing
# this file prints the version line, each check/pass/fail one "ok N" /
# "not ok N" line (a failed check's output as "#" lines before it), skip an
# "ok N ... # SKIP why" line, finish the plan and the totals.  Print other
# information as "# ..." lines.  Exit codes: 0 pass, 1 fail, 4 skip.
#
# A default EXIT trap removes every namespace setup_ns created; a test may
# define its own cleanup() (bash looks the function up when the trap fires)
# and call cleanup_all_ns in it.

# shellcheck disable=SC2034  # (for the tests)
{
ksft_pass=0
ksft_fail=1
ksft_xfail=2
ksft_skip=4
}

IPTABLES=${IPTABLES:-iptables-legacy}
IP6TABLES=${IP6TABLES:-ip6tables-legacy}

KSFT_NS_LIST=()
KSFT_FAILED=0

# ------------------------------------------------------------------ KTAP --

# ktap.sh: next to this file (the guest's /usr/local/lib/ipsecmss), or the
# tree's tests/lib/.
_ksft_here=$(dirname "${BASH_SOURCE[0]}")
for _ksft_k in "${KTAP_LIB:-}" "$_ksft_here/ktap.sh" "$_ksft_here/../lib/ktap.sh" \
	/usr/local/lib/ipsecmss/ktap.sh; do
	[[ -n $_ksft_k && -r $_ksft_k ]] && break
done
# shellcheck source=../lib/ktap.sh
. "$_ksft_k" || { echo "not ok 1 ${0##*/}: no ktap.sh"; exit 1; }

# One KTAP document per test.  A process of the same test that writes to
# the same stream (the script run again inside a namespace) continues its
# numbering through the exported state file instead of starting another.
if [[ -n ${KTAP_STATE_PID:-} && -n $KTAP_STATE && -w $KTAP_STATE &&
      /proc/self/fd/1 -ef /proc/$KTAP_STATE_PID/fd/1 ]]; then
	KTAP_PLAN=child	# the parent prints plan and totals
else
	KTAP_STATE=${TMPDIR:-/tmp}/ktap-state.$$
	KTAP_STATE_PID=$$
	export KTAP_STATE KTAP_STATE_PID
	_ktap_save
	ktap_print_header
fi

# ------------------------------------------------------------ namespaces --

# A per-run suffix for namespace names (setup_ns -u, lib_twosite.sh).
printf -v KSFT_NS_SUFFIX -- '-%x%04x' "$$" "$RANDOM"

# _ksft_ns_add [-u] NAME...: create the namespaces with one `ip -batch`
# (a stale one of a name is destroyed first) and register them for
# cleanup; lo stays down.  With -u each name gets the per-run suffix.  Sets
# the shell variable NAME to the namespace's name where NAME is a valid
# variable name ("$ns1", kernel-selftest style).
_ksft_ns_add() {
	local ns name uniq=0 cmds="" added=()
	[[ ${1:-} == -u ]] && { uniq=1; shift; }
	for name; do
		ns=$name
		((uniq)) && ns+=$KSFT_NS_SUFFIX
		[[ -e /run/netns/$ns ]] && ksft_ns_destroy "$ns"
		cmds+="netns add $ns"$'\n'
		added+=("$ns")
		[[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] && printf -v "$name" '%s' "$ns"
	done
	if ! ip -batch - <<<"$cmds"; then
		ktap_print_msg "cannot create network namespaces ${added[*]}"
		KSFT_FAILED=1
		return $ksft_fail
	fi
	KSFT_NS_LIST+=("${added[@]}")
	KSFT_NS_ADDED=("${added[@]}")
}

# setup_ns [-u] NAME...: create network namespace NAME (see _ksft_ns_add),
# bring lo up.  Without -u the namespace is called NAME (the tests written
# with literal names); with -u it is unique per run and the tests use
# "$NAME".
setup_ns() {
	local ns
	_ksft_ns_add "$@" || return
	for ns in "${KSFT_NS_ADDED[@]}"; do
		ip -n "$ns" link set lo up
	done
	return 0
}

# _ksft_ns_pids NS...: sets _KSFT_PIDS to the processes living in these
# namespaces (no program started: /proc/PID/ns/net compared with -ef).
_ksft_ns_pids() {
	local p ns
	_KSFT_PIDS=()
	for p in /proc/[0-9]*; do
		for ns; do
			if [[ $p/ns/net -ef /run/netns/$ns ]]; then
				_KSFT_PIDS+=("${p#/proc/}")
				break
			fi
		done
	done
}

# _ksft_gone MS PID...: wait up to MS for the processes to leave (a zombie
# has left: it has no namespace any more).
_ksft_gone() {
	local ms=$1 p left start
	shift
	start=$(now_ms)
	while :; do
		left=0
		for p; do
			[[ -e /proc/$p/ns/net ]] && left=1 && break
		done
		((left)) || return 0
		(($(now_ms) - start > ms)) && return 1
		sleep 0.02
	done
}

# ksft_ns_destroy NS...: kill everything in the namespaces (TERM, KILL after
# 500 ms: pppd keeps a namespace alive otherwise), delete them with one
# `ip -batch`, forget them.  No program runs per namespace: under TCG a
# program start costs 50-500 ms.
ksft_ns_destroy() {
	local ns live=() keep=() cmds=
	for ns; do
		[[ -e /run/netns/$ns ]] && live+=("$ns")
	done
	if ((${#live[@]})); then
		_ksft_ns_pids "${live[@]}"
		if ((${#_KSFT_PIDS[@]})); then
			kill -TERM "${_KSFT_PIDS[@]}" 2>/dev/null
			if ! _ksft_gone 500 "${_KSFT_PIDS[@]}"; then
				kill -KILL "${_KSFT_PIDS[@]}" 2>/dev/null
				_ksft_gone 2000 "${_KSFT_PIDS[@]}"
			fi
		fi
		for ns in "${live[@]}"; do
			cmds+="netns del $ns"$'\n'
		done
		ip -batch - <<<"$cmds" 2>/dev/null
	fi
	for ns in "${KSFT_NS_LIST[@]}"; do
		[[ " $* " == *" $ns "* ]] || keep+=("$ns")
	done
	KSFT_NS_LIST=("${keep[@]}")
	return 0
}

# cleanup_all_ns: kill what runs in each registered namespace, delete it.
cleanup_all_ns() {
	((${#KSFT_NS_LIST[@]})) || return 0
	ksft_ns_destroy "${KSFT_NS_LIST[@]}"
	KSFT_NS_LIST=()
}

# Default EXIT handler; redefine cleanup() in a test to do more.
cleanup() {
	cleanup_all_ns
}
trap cleanup EXIT

# nsexec NS CMD...: run CMD in namespace NS (`ip netns exec`: NS's /sys and
# /etc/netns/NS too).
nsexec() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# nsx NS CMD...: run CMD in NS's network namespace only (nsenter: no mount
# namespace and no /sys remount, ten times cheaper than `ip netns exec`
# under TCG; /sys/class/net still shows the caller's devices).
# nsx_exec NS CMD...: the same, replacing the calling shell: use it only
# as `nsx_exec NS CMD... &`, so that $! is CMD's pid.
if command -v nsenter >/dev/null 2>&1; then KSFT_NSENTER=1; else KSFT_NSENTER=0; fi
nsx() {
	local ns=$1
	shift
	if ((KSFT_NSENTER)); then
		nsenter -n"/run/netns/$ns" "$@"
	else
		ip netns exec "$ns" "$@"
	fi
}
nsx_exec() {
	local ns=$1
	shift
	((KSFT_NSENTER)) && exec nsenter -n"/run/netns/$ns" "$@"
	exec ip netns exec "$ns" "$@"
}

# make_veth NS1 IF1 NS2 IF2: a veth pair, IF1 in NS1 and IF2 in NS2, both up.
# ("name" is spelled out: iproute2 reads "add a type veth" as "address".)
make_veth() {
	local ns1=$1 if1=$2 ns2=$3 if2=$4
	ip -n "$ns1" link add name "$if1" type veth peer name "$if2" netns "$ns2" || return
	ip -n "$ns1" link set "$if1" up && ip -n "$ns2" link set "$if2" up
}

# ipt / ip6t ARGS: $IPTABLES / $IP6TABLES (default: the legacy ones).
# ipt_ns / ip6t_ns NS ARGS: the same inside namespace NS.
ipt() { "$IPTABLES" "$@"; }
ip6t() { "$IP6TABLES" "$@"; }
ipt_ns() { local ns=$1; shift; ip netns exec "$ns" "$IPTABLES" "$@"; }
ip6t_ns() { local ns=$1; shift; ip netns exec "$ns" "$IP6TABLES" "$@"; }

# ---------------------------------------------------------------- waiting --

# now_ms: monotonic-enough milliseconds (bash's EPOCHREALTIME).
now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

# busywait TIMEOUT_MS CMD...: run CMD until it succeeds or TIMEOUT_MS passed.
# Prints CMD's last output; returns its last status.
busywait() {
	local timeout=$1 start out ret
	shift
	start=$(now_ms)
	while :; do
		out=$("$@")
		ret=$?
		if ((ret == 0)) || (($(now_ms) - start > timeout)); then
			[[ -n $out ]] && echo "$out"
			return $ret
		fi
		sleep 0.02
	done
}

# wait_local_port_listen NS PORT [tcp|udp]: until something listens there.
wait_local_port_listen() {
	local ns=$1 port=$2 proto=${3:-tcp} opt=-ltnH
	[[ $proto == udp ]] && opt=-lunH
	busywait 5000 _ksft_listening "$ns" "$opt" "$port" >/dev/null
}
_ksft_listening() {
	[[ -n $(ip netns exec "$1" ss "$2" "sport = :$3" 2>/dev/null) ]]
}

# ------------------------------------------------------- ipsecmss counters --

# ipsecmss_counters ARRAY FILE: a /proc/net/stat/ipsecmss file (give the
# namespace's own, e.g. /proc/PID/net/stat/ipsecmss) into the associative
# ARRAY[ipv4.NAME] / ARRAY[ipv6.NAME] (the CPU lines summed, as lnstat does)
# and ARRAY[entries] (the rule count, the same on every line);
# IPSECMSS_COLS: the per-family names in file order.
IPSECMSS_COLS=()
ipsecmss_counters() {
	local -n _ic=$1
	local _lines _names _row _vals _i _n _k
	local -A _seen=()
	_ic=()
	IPSECMSS_COLS=()
	mapfile -t _lines <"$2" || return 1
	read -ra _names <<<"${_lines[0]}"
	[[ ${_names[0]:-} == entries ]] || return 1
	for _n in "${_names[@]:1}"; do
		_k=${_n#*_}
		[[ -n ${_seen[$_k]+x} ]] || IPSECMSS_COLS+=("$_k")
		_seen[$_k]=1
	done
	for _row in "${_lines[@]:1}"; do
		read -ra _vals <<<"$_row"
		((${#_vals[@]} == ${#_names[@]})) || return 1
		_ic[entries]=$((16#${_vals[0]}))
		for ((_i = 1; _i < ${#_vals[@]}; _i++)); do
			_n=${_names[_i]}
			_k=${_n%%_*}.${_n#*_}
			_ic[$_k]=$((${_ic[$_k]:-0} + 16#${_vals[_i]}))
		done
	done
}

# ipsecmss_deltas BEFORE AFTER "FAMILY.NAME=DELTA ...": REPLY = what did not
# move as given (empty when every counter of both families moved by exactly
# its DELTA, and every one not named by nothing).  The lookup cache's
# counters (cache_hit, cache_miss) are held to a DELTA only when named:
# how a SYN's legs split between them depends on which CPU forwarded it.
ipsecmss_deltas() {
	local -n _db=$1 _da=$2
	local -A _dx=()
	local _d _f _n _want _out=()
	for _d in $3; do _dx[${_d%%=*}]=${_d#*=}; done
	for _f in ipv4 ipv6; do
		for _n in "${IPSECMSS_COLS[@]}"; do
			[[ $_n == cache_* && -z ${_dx[$_f.$_n]+x} ]] && continue
			_want=$((${_db[$_f.$_n]:-0} + ${_dx[$_f.$_n]:-0}))
			((${_da[$_f.$_n]:-0} == _want)) ||
				_out+=("$_f.$_n ${_db[$_f.$_n]:-?} -> ${_da[$_f.$_n]:-?} (want $_want)")
		done
	done
	REPLY=${_out[*]}
}

# ------------------------------------------------------------ assertions --

# check "description" CMD...: ok if CMD succeeds, not ok (its output and
# status as diagnostics first) otherwise.  Returns CMD's status.
check() {
	local desc=$1 out ret
	shift
	out=$("$@" 2>&1)
	ret=$?
	if ((ret == 0)); then
		ktap_test_pass "$desc"
	else
		[[ -n $out ]] && printf '%s\n' "$out" | head -n 20 | ktap_print_lines "  "
		ktap_print_msg "  (command: $*; status $ret)"
		KSFT_FAILED=1
		ktap_test_fail "$desc"
	fi
	return $ret
}

# check_fail "description" CMD...: ok if CMD fails.
check_fail() {
	local desc=$1 ret
	shift
	"$@" >/dev/null 2>&1
	ret=$?
	if ((ret != 0)); then
		ktap_test_pass "$desc"
		return 0
	fi
	ktap_print_msg "  (command succeeded but should not have: $*)"
	KSFT_FAILED=1
	ktap_test_fail "$desc"
	return 1
}

# pass / fail "description": record a result computed by the test itself.
pass() { ktap_test_pass "$*"; }
fail() { KSFT_FAILED=1; ktap_test_fail "$*"; }

# _ksft_end STATUS: plan and totals (not in a helper process of the test:
# its parent prints them), then exit STATUS.
_ksft_end() {
	if [[ $KTAP_PLAN != child ]]; then
		_ktap_load
		echo "${KTAP_INDENT}1..$KTAP_TESTNO"
		ktap_print_totals
		[[ $KTAP_STATE_PID == "$$" ]] && rm -f "$KTAP_STATE"
	fi
	exit "$1"
}

# skip "reason": end the test as skipped (or failed, if a check failed).
skip() {
	ktap_test_skip "${0##*/}" "$*"
	_ktap_load
	((KSFT_FAILED || KTAP_CNT_FAIL)) && _ksft_end $ksft_fail
	_ksft_end $ksft_skip
}

# require_cmd CMD...: skip the test unless every CMD exists.
require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || skip "$c not available"
	done
}

# require_module MOD...: skip the test unless every module loads (or is built in).
require_module() {
	local m
	for m in "$@"; do
		modprobe -q "$m" 2>/dev/null || skip "kernel module $m not available"
	done
}

# finish: exit 1 if any check failed (here or in a helper process sharing
# the numbering), else 0.
finish() {
	_ktap_load
	((KSFT_FAILED || KTAP_CNT_FAIL)) && _ksft_end $ksft_fail
	_ksft_end $ksft_pass
}
