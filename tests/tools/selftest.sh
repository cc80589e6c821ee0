#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Self-test of ipsecmss-probe, no module needed: runs on the host (root, network
# namespaces) or in the guest.
#
#   a: veth0 10.9.0.1/24 fd09::1/64  ----  b: veth0 10.9.0.2/24 fd09::2/64
#
#   tests/tools/selftest.sh [PATH/ipsecmss-probe]

set -u
HERE=$(cd "$(dirname "$0")" && pwd)
LIB=${IPSECMSS_LIB:-$HERE/../vm/lib.sh}
# shellcheck source=../vm/lib.sh
. "$LIB"

PROBE=${1:-$HERE/ipsecmss-probe}
[[ -x $PROBE ]] || skip "no $PROBE: run make in tests/tools"
TMPD=$(mktemp -d /tmp/probe-selftest.XXXXXX)
cleanup() { cleanup_all_ns; rm -rf "$TMPD"; }

kv() { local re=" $1=([^ ]*)"; [[ " $2" =~ $re ]] && echo "${BASH_REMATCH[1]}"; }

# expect DESC LINE KEY=VALUE...
expect() {
	local desc=$1 line=$2 kvp bad=
	shift 2
	for kvp in "$@"; do
		[[ $(kv "${kvp%%=*}" "$line") == "${kvp#*=}" ]] || bad+=" $kvp"
	done
	if [[ -z $bad ]]; then pass "$desc"; else fail "$desc: want$bad in: ${line:-nothing}"; fi
}

PORT=7000
# sent FAMILY SYN-ARGS...: LINE is what b captured of one segment from a.
sent() {
	local src=10.9.0.1 dst=10.9.0.2
	[[ $1 == 6 ]] && src=fd09::1 dst=fd09::2
	shift
	PORT=$((PORT + 1))
	rm -f "$TMPD/ready"
	ip netns exec pb "$PROBE" recv-syn --iface veth0 --port $PORT --timeout 5000 \
		--ready "$TMPD/ready" > "$TMPD/cap" &
	busywait 5000 test -e "$TMPD/ready" >/dev/null
	ip netns exec pa "$PROBE" syn --src $src --dst $dst --sport 999 --dport $PORT "$@" >/dev/null
	wait
	LINE=$(cat "$TMPD/cap")
}

setup_ns pa pb || finish
make_veth pa veth0 pb veth0
ip -n pa addr add 10.9.0.1/24 dev veth0
ip -n pb addr add 10.9.0.2/24 dev veth0
ip -n pa addr add fd09::1/64 dev veth0 nodad
ip -n pb addr add fd09::2/64 dev veth0 nodad

for fam in 4 6; do
	sent $fam --opts 020405b4
	expect "IPv$fam SYN mss 1460" "$LINE" flags=S mss=1460 csum=ok iplen_ok=yes doff=6 tcp_len=24
	sent $fam --ack --opts 0204058c0101 --payload 5
	expect "IPv$fam SYN/ACK, payload" "$LINE" flags=SA mss=1420 payload=5 opts=0204058c01010000
	sent $fam
	expect "IPv$fam SYN without options" "$LINE" mss=none opts=- csum=ok
	sent $fam --opts 020405b4 --bad-csum
	expect "IPv$fam bad checksum seen as bad" "$LINE" csum=bad
	sent $fam --opts 020405b4 --doff 4
	expect "IPv$fam doff 4 is malformed" "$LINE" doff=4 mss=bad
	sent $fam --opts 0204 --doff 6
	expect "IPv$fam doff past the segment is malformed" "$LINE" doff=6 mss=bad tcp_len=22 opts=0204
	sent $fam --opts 0205000000000000
	expect "IPv$fam mss option of length 5 is malformed" "$LINE" mss=bad
	sent $fam --flags FA --opts 020405b4
	expect "IPv$fam --flags FA" "$LINE" flags=FA mss=1460
	sent $fam --frag nonfirst --opts 020405b4
	expect "IPv$fam non-first fragment" "$LINE" frag=nonfirst
done
sent 4 --ipopts 01010100 --ttl 7 --opts 020405b4
expect "IPv4 options and TTL" "$LINE" ip_len=48 ipcsum=ok ttl=7 mss=1460 csum=ok
sent 6 --exthdr hbh,rt,dst,frag0 --opts 020405b4
expect "IPv6 extension headers" "$LINE" ip_len=96 mss=1460 csum=ok frag=no

for dst in 10.9.0.2 fd09::2; do
	for dir in send recv; do
		PORT=$((PORT + 1))
		rm -f "$TMPD/ready"
		ip netns exec pb "$PROBE" xfer-server --port $PORT --timeout 5000 \
			--ready "$TMPD/ready" > "$TMPD/srv" &
		busywait 5000 test -e "$TMPD/ready" >/dev/null
		cli=$(ip netns exec pa "$PROBE" xfer-client --connect $dst --port $PORT \
			--bytes 1000000 --direction $dir --mss 1000)
		wait
		srv=$(cat "$TMPD/srv")
		expect "xfer $dst $dir: client" "$cli" bytes=1000000 match=yes mss=988
		expect "xfer $dst $dir: server" "$srv" bytes=1000000 match=yes
		[[ $(kv fnv "$cli") == "$(kv fnv "$srv")" ]] && pass "xfer $dst $dir: same fnv" ||
			fail "xfer $dst $dir: fnv differs"
	done
done

rm -f "$TMPD/ready"
ip netns exec pb "$PROBE" wan-watch --iface veth0 --dir in --duration 3000 \
	--ready "$TMPD/ready" > "$TMPD/ww" &
ww=$!
busywait 5000 test -e "$TMPD/ready" >/dev/null
ip netns exec pa "$PROBE" syn --src 10.9.0.1 --dst 10.9.0.2 --sport 1 --dport 2 \
	--frag first --payload 1000 >/dev/null
ip netns exec pa "$PROBE" syn --src fd09::1 --dst fd09::2 --sport 1 --dport 2 \
	--frag nonfirst >/dev/null
wait "$ww"
expect "wan-watch counts fragments" "$(cat "$TMPD/ww")" frags=2 max_len=1040 esp=0

out=$(ip netns exec pa "$PROBE" xfer-client --connect 10.9.0.2 --port 1 --timeout 2000)
rc=$?
expect "xfer-client to a closed port fails (rc $rc)" "$out rc=$rc" error=connect rc=1
# (last: IPv6 addresses go away with the link)
ip -n pb link set veth0 down
out=$(ip netns exec pa "$PROBE" xfer-client --connect 10.9.0.2 --port 1 --timeout 500)
rc=$?
expect "xfer-client times out (rc $rc)" "$out rc=$rc" error=timeout rc=1
check "no socket left behind after the timeout" \
	bash -c "[[ -z \$(ip netns exec pa ss -tanH state syn-sent) ]]"

"$PROBE" syn --src 10.9.0.1 >/dev/null 2>&1
expect "usage error exits 2" "rc=$?" rc=2
"$PROBE" recv-syn --iface veth0 --count 0 >/dev/null 2>&1
expect "bad number exits 2" "rc=$?" rc=2
"$PROBE" nosuch >/dev/null 2>&1
expect "unknown command exits 2" "rc=$?" rc=2
finish
