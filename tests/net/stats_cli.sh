#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The counters as an admin reads them: `ipsecmss stats` (table and --json)
# against /proc/net/stat/ipsecmss, per namespace, after each scenario.
#
#   client veth0 10.0.1.1/24 fd00:1::1/64 -- router -- server veth0 10.0.2.1/24 fd00:2::1/64
#   router: -A FORWARD -p tcp -j IPSECMSS --set-mss 1000 (iptables and ip6tables)
#
# Scenarios, each sent with "ipsecmss-probe syn" per family, and after each
# the router's counters must have moved by exactly the expected deltas:
#   1. a fresh namespace: every counter 0 in the file, the table and JSON;
#   2. non-SYN segments (ACK, FIN/ACK, RST, SYN+RST, PSH/ACK with data):
#      nothing moves (the rule's own packet counter shows each one passed);
#   3. SYN MSS 1460: syn +1 lowered +1;
#   4. SYN MSS 900: syn +1 already_low +1;
#   5. SYN with a bad option after the MSS: syn +1 malformed +1;
#   6. SYN without MSS: syn +1 inserted +1;
#   7. SYN/ACK MSS 1460: syn +1 lowered +1.
# After each: `ipsecmss stats` and `ipsecmss stats --json` show exactly the
# file's numbers (the CPU lines summed); the server namespace (no rule)
# still shows zeros; an unprivileged user reads the same table.  The file
# is in lnstat's layout ("entries" = the namespace's IPSECMSS rules, then
# one hexadecimal line per CPU) and lnstat reads the same numbers.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib_router.sh
. "$HERE/lib_router.sh"

CLI=${CLI:-$(command -v ipsecmss || echo "$HERE/../../userspace/ipsecmss")}
PORT=30000
RPID=	# a process in the router namespace: its /proc/PID/net is the router's

# shellcheck disable=SC2317	# the EXIT trap calls it
cleanup() {
	[[ -n $RPID ]] && kill "$RPID" 2>/dev/null
	cleanup_all_ns
}

[[ -x $PROBE ]] || skip "ipsecmss-probe not found (build tests/tools)"
[[ -x $CLI ]] || skip "the ipsecmss CLI not found (make cli)"
require_cmd ip
modinfo xt_IPSECMSS >/dev/null 2>&1 || skip "module xt_IPSECMSS not installed"


# read_file ARRAY NS: ARRAY[ipv4.NAME] / ARRAY[ipv6.NAME] from NS's file
read_file() {
	ipsecmss_counters "$1" <(ip netns exec "$2" cat /proc/net/stat/ipsecmss)
}

# want_table ARRAY: REPLY = the lines `ipsecmss stats` must print for ARRAY
# (a counter per line, one column per family, and the rule count as the
# "global" family's "entries"), compared word by word.
want_table() {
	local -n _w=$1
	local c
	REPLY="ipv4 ipv6 global"$'\n'"entries - - ${_w[entries]}"
	for c in "${IPSECMSS_COLS[@]}"; do
		REPLY+=$'\n'"$c ${_w[ipv4.$c]} ${_w[ipv6.$c]} -"
	done
}

# want_json ARRAY: REPLY = the JSON object for ARRAY, keys in file order
want_json() {
	local -n _j=$1
	local f c sep obj='{'
	for f in ipv4 ipv6; do
		obj+="\"$f\": {"
		sep=
		for c in "${IPSECMSS_COLS[@]}"; do
			obj+="$sep\"$c\": ${_j[$f.$c]}"
			sep=', '
		done
		obj+='}, '
	done
	REPLY="$obj\"global\": {\"entries\": ${_j[entries]}}}"
}

# squeeze TEXT: REPLY = TEXT with runs of blanks made one space, lines trimmed
squeeze() {
	local l w out=
	while IFS= read -r l; do
		read -ra w <<<"$l"
		out+="${w[*]}"$'\n'
	done <<<"$1"
	REPLY=${out%$'\n'}
}

# check_cli TAG NS [RUNAS...]: `ipsecmss stats` and `--json` in NS show what
# NS's file holds
check_cli() {
	local tag=$1 ns=$2 out where=${2%"$KSFT_NS_SUFFIX"}
	shift 2
	local -A now
	read_file now "$ns"
	want_table now; local wt=$REPLY
	want_json now; local wj=$REPLY
	out=$(ip netns exec "$ns" "$@" "$CLI" stats 2>&1)
	squeeze "$out"
	if [[ $REPLY == "$wt" ]]; then
		pass "$tag: 'ipsecmss stats' in $where shows the file's counters"
	else
		fail "$tag: 'ipsecmss stats' in $where: got [$REPLY] want [$wt]"
	fi
	out=$(ip netns exec "$ns" "$@" "$CLI" stats --json 2>&1)
	if [[ $out == "$wj" ]]; then
		pass "$tag: 'ipsecmss stats --json' in $where shows the file's counters"
	else
		fail "$tag: 'ipsecmss stats --json' in $where: got [$out] want [$wj]"
	fi
}

# send FAM ARGS...: one crafted segment client -> server
send() {
	local fam=$1 src dst
	shift
	if [[ $fam == 4 ]]; then src=$C4 dst=$S4; else src=$C6 dst=$S6; fi
	ip netns exec "$client" "$PROBE" syn --src "$src" --dst "$dst" \
		--sport 40000 --dport $((PORT++)) "$@" >/dev/null 2>&1
}

# rule_pkts FAM: REPLY = the packet counter of the router's IPSECMSS rule;
# it moves for every TCP segment the rule sees, SYN or not, before the
# target runs, so it tells when a segment has been through the target.
rule_pkts() {
	local ipt=iptables-legacy line
	[[ $1 == 6 ]] && ipt=ip6tables-legacy
	REPLY=0
	while read -r line; do
		[[ $line == *IPSECMSS* ]] || continue
		read -r REPLY _ <<<"$line"
		return 0
	done < <(ip netns exec "$router" $ipt -L FORWARD -n -v -x)
	return 1
}

# settle FAM N: until the rule's packet counter for FAM reaches N (5 s)
settle() {
	local end=$(($(now_ms) + 5000))
	while :; do
		rule_pkts "$1"
		((REPLY >= $2)) && return 0
		(($(now_ms) > end)) && return 1
		sleep 0.05
	done
}

# scenario NAME FAM "NAME=DELTA ..." ARGS...: send, then check the
# deltas of every counter of FAM (the other family must not move) and the
# CLI's view.
scenario() {
	local name=$1 fam=$2 deltas=$3 d errs=() spec=
	shift 3
	local -A before after
	read_file before "$router"
	rule_pkts "$fam"; local pkts=$REPLY
	if ! send "$fam" "$@"; then
		fail "$name v$fam: ipsecmss-probe syn $* failed"
		return
	fi
	for d in $deltas; do spec+=" ipv$fam.$d"; done
	settle "$fam" $((pkts + 1)) ||
		errs+=("the segment did not reach the rule within 5 s")
	read_file after "$router"
	ipsecmss_deltas before after "$spec"
	[[ -z $REPLY ]] || errs+=("$REPLY")
	if ((${#errs[@]})); then
		fail "$name v$fam: ${errs[*]}"
	else
		pass "$name v$fam: counters moved by exactly ${deltas:-nothing}"
	fi
	check_cli "$name v$fam" "$router"
}

setup_topology || { fail "topology"; finish; }
modprobe xt_IPSECMSS 2>/dev/null
for fam in 4 6; do
	ipt=iptables-legacy
	[[ $fam == 6 ]] && ipt=ip6tables-legacy
	ip netns exec "$router" $ipt -A FORWARD -p tcp -j IPSECMSS --set-mss 1000 ||
		fail "v$fam: the rule was refused"
done

# 1. fresh: all zeros, in the file and in both outputs; entries counts
# the two rules (iptables and ip6tables)
declare -A zero
read_file zero "$router"
nz=0
for k in "${!zero[@]}"; do [[ $k == entries ]] || ((zero[$k] == 0)) || nz=1; done
if ((${#zero[@]} == 2 * ${#IPSECMSS_COLS[@]} + 1 && !nz && zero[entries] == 2)); then
	pass "fresh namespace: $((${#zero[@]} - 1)) counters, all 0; entries 2 (the two rules)"
else
	fail "fresh namespace: ${#zero[@]} counters: $(ip netns exec "$router" cat /proc/net/stat/ipsecmss)"
fi
check_cli "fresh" "$router"

for fam in 4 6; do
	scenario "non-SYN (ACK, MSS option)" $fam "" --flags A --opts 020405b4
	scenario "non-SYN (FIN/ACK)" $fam "" --flags FA --opts 020405b4
	scenario "non-SYN (RST)" $fam "" --flags R --opts 020405b4
	scenario "non-SYN (SYN+RST)" $fam "" --flags SR --opts 020405b4
	scenario "non-SYN (PSH/ACK, data)" $fam "" --flags PA --payload 100
	scenario "SYN MSS 1460" $fam "syn=1 lowered=1" --opts 020405b4
	scenario "SYN MSS 900" $fam "syn=1 already_low=1" --opts 02040384
	scenario "SYN, bad option after MSS" $fam "syn=1 malformed=1" \
		--opts 020405b40405
	scenario "SYN without MSS" $fam "syn=1 inserted=1"
	scenario "SYN/ACK MSS 1460" $fam "syn=1 lowered=1" --flags SA --opts 020405b4
done

# Per namespace: the server saw every segment but has no rule.
check_cli "other namespace" "$server"
declare -A srv
read_file srv "$server"
nz=0
for k in "${!srv[@]}"; do ((srv[$k] == 0)) || nz=1; done
if ((!nz)); then
	pass "the server namespace's counters stay 0 (they are per namespace)"
else
	fail "the server namespace's counters moved: $(ip netns exec "$server" cat /proc/net/stat/ipsecmss)"
fi

# Readable without root: the file is 0444 and holds counts only.
if command -v setpriv >/dev/null; then
	check_cli "unprivileged (uid 65534)" "$router" \
		setpriv --reuid 65534 --regid 65534 --clear-groups
else
	echo "# setpriv not in the guest: the unprivileged read is not checked"
fi
# lnstat reads the file as it reads every /proc/net/stat file: it finds
# every field of the header, and its first field, "entries" (the only one
# it shows as a value rather than a rate per interval), is the rule count.
if command -v lnstat >/dev/null; then
	hdr=$(ip netns exec "$router" head -n 1 /proc/net/stat/ipsecmss)
	read -ra want <<<"$hdr"
	got=()
	while read -r n name; do
		[[ $n == *: && -n $name ]] && got+=("$name")
	done < <(ip netns exec "$router" lnstat -d -f ipsecmss 2>&1)
	[[ "${got[*]}" == "${want[*]}" ]] &&
		pass "lnstat -d -f ipsecmss lists the file's ${#want[@]} fields" ||
		fail "lnstat -d -f ipsecmss: got [${got[*]}] want [${want[*]}]"
	out=$(ip netns exec "$router" lnstat -f ipsecmss -k entries -c 1 -j 2>&1)
	[[ $out == '{"entries":2}' ]] &&
		pass "lnstat reads entries 2 (the two rules)" ||
		fail "lnstat -f ipsecmss -k entries: got [$out] want [{\"entries\":2}]"
else
	fail "lnstat is not in the guest (tests/vm/run.sh copies it from iproute2)"
fi
mode=$(ip netns exec "$router" stat -c %a /proc/net/stat/ipsecmss 2>/dev/null)
check "the file is mode 444" test "$mode" = 444

finish
