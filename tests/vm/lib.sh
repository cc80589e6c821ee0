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
# Exit codes: 0 pass, 1 fail, 4 skip.  A default EXIT trap removes every
# namespace setup_ns created; a test may define its own cleanup() (bash
# looks the function up when the trap fires) and call cleanup_all_ns in it.

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
KSFT_CHECKS=0

# ------------------------------------------------------------ namespaces --

# setup_ns NAME...: create network namespace NAME (a stale one of that name is
# removed first), bring lo up, register it for cleanup.  Also sets the shell
# variable NAME to the namespace's name, so kernel-selftest style "$ns1" works.
setup_ns() {
	local ns
	for ns in "$@"; do
		if ip netns list | grep -qw -- "^$ns"; then
			_ksft_del_ns "$ns"
		fi
		if ! ip netns add "$ns"; then
			echo "FAIL: cannot create network namespace $ns"
			KSFT_FAILED=1
			return $ksft_fail
		fi
		ip -n "$ns" link set lo up
		KSFT_NS_LIST+=("$ns")
		[[ $ns =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] && printf -v "$ns" '%s' "$ns"
	done
	return 0
}

_ksft_del_ns() {
	local ns=$1 pids
	pids=$(ip netns pids "$ns" 2>/dev/null)
	if [[ -n $pids ]]; then
		# shellcheck disable=SC2086
		kill -TERM $pids 2>/dev/null
		if ! busywait 1000 _ksft_no_pids "$ns" >/dev/null; then
			pids=$(ip netns pids "$ns" 2>/dev/null)
			# shellcheck disable=SC2086
			[[ -z $pids ]] || kill -KILL $pids 2>/dev/null
			busywait 1000 _ksft_no_pids "$ns" >/dev/null
		fi
	fi
	ip netns del "$ns" 2>/dev/null
}

_ksft_no_pids() { [[ -z $(ip netns pids "$1" 2>/dev/null) ]]; }

# cleanup_all_ns: kill what runs in each registered namespace, delete it.
cleanup_all_ns() {
	local ns
	for ns in "${KSFT_NS_LIST[@]}"; do
		_ksft_del_ns "$ns"
	done
	KSFT_NS_LIST=()
}

# Default EXIT handler; redefine cleanup() in a test to do more.
cleanup() {
	cleanup_all_ns
}
trap cleanup EXIT

# nsexec NS CMD...: run CMD in namespace NS.
nsexec() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
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
# its DELTA, and every one not named by nothing).
ipsecmss_deltas() {
	local -n _db=$1 _da=$2
	local -A _dx=()
	local _d _f _n _want _out=()
	for _d in $3; do _dx[${_d%%=*}]=${_d#*=}; done
	for _f in ipv4 ipv6; do
		for _n in "${IPSECMSS_COLS[@]}"; do
			_want=$((${_db[$_f.$_n]:-0} + ${_dx[$_f.$_n]:-0}))
			((${_da[$_f.$_n]:-0} == _want)) ||
				_out+=("$_f.$_n ${_db[$_f.$_n]:-?} -> ${_da[$_f.$_n]:-?} (want $_want)")
		done
	done
	REPLY=${_out[*]}
}

# ------------------------------------------------------------ assertions --

# check "description" CMD...: PASS if CMD succeeds, FAIL (with its output)
# otherwise.  Returns CMD's status.
check() {
	local desc=$1 out ret
	shift
	KSFT_CHECKS=$((KSFT_CHECKS + 1))
	out=$("$@" 2>&1)
	ret=$?
	if ((ret == 0)); then
		echo "PASS: $desc"
	else
		echo "FAIL: $desc"
		[[ -n $out ]] && printf '%s\n' "$out" | head -n 20 | sed 's/^/#   /'
		echo "#   (command: $*; status $ret)"
		KSFT_FAILED=1
	fi
	return $ret
}

# check_fail "description" CMD...: PASS if CMD fails.
check_fail() {
	local desc=$1 ret
	shift
	KSFT_CHECKS=$((KSFT_CHECKS + 1))
	"$@" >/dev/null 2>&1
	ret=$?
	if ((ret != 0)); then
		echo "PASS: $desc"
		return 0
	fi
	echo "FAIL: $desc"
	echo "#   (command succeeded but should not have: $*)"
	KSFT_FAILED=1
	return 1
}

# pass / fail "description": record a result computed by the test itself.
pass() { KSFT_CHECKS=$((KSFT_CHECKS + 1)); echo "PASS: $*"; }
fail() { KSFT_CHECKS=$((KSFT_CHECKS + 1)); echo "FAIL: $*"; KSFT_FAILED=1; }

# skip "reason": end the test as skipped (or failed, if a check failed).
skip() {
	echo "SKIP: $*"
	((KSFT_FAILED)) && exit $ksft_fail
	exit $ksft_skip
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

# finish: exit 1 if any check failed, else 0.
finish() {
	((KSFT_FAILED)) && exit $ksft_fail
	exit $ksft_pass
}
