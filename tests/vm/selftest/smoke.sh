#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Smoke test of the VM harness itself: namespaces, veth, iptables (legacy and
# nft), TCP through socat, and a static ESP tunnel-mode SA pair.
#
#   a (10.1.0.1 on dummy)                         b (10.2.0.1 on dummy)
#   veth0 192.0.2.1/24  <====== ESP tunnel =====>  veth0 192.0.2.2/24
#         2001:db8::1/64                                 2001:db8::2/64

set -u
. "$(dirname "$0")/lib.sh"

echo "# kernel $(uname -r), iptables $(iptables --version)"

# The image: real programs (not busybox applets) where the tests need them.
real_program() {
	local p
	p=$(command -v "$1") && [[ $(readlink -f "$p") != */busybox ]]
}
for c in ip ss tc timeout modprobe depmod iptables iptables-nft ip6tables-legacy-save \
	 iptables-nft-restore socat tcpdump pppd pppoe-server pppoe bash sh; do
	real_program "$c" || fail "$c is not a real program in the image"
done
pass "the image has the real programs"
check "sha256sum (busybox)" bash -c "echo | sha256sum | grep -q ^01ba4719"
check "/dev/ppp exists" test -c /dev/ppp
check "pppd has its plugin directory" test -e "/usr/lib/pppd/$(pppd --version 2>&1 | awk '{print $3}')/pppoe.so"
check "process substitution works" bash -c 'cat <(echo x) | grep -q x'

setup_ns a b || finish
make_veth a veth0 b veth0
ip -n a addr add 192.0.2.1/24 dev veth0
ip -n b addr add 192.0.2.2/24 dev veth0
ip -n a addr add 2001:db8::1/64 dev veth0 nodad
ip -n b addr add 2001:db8::2/64 dev veth0 nodad

nsexec b tcpdump -n -i veth0 -c 1 -w /tmp/smoke.pcap icmp 2>/tmp/smoke.tcpdump &
tcpdump_pid=$!
busywait 5000 grep -q listening /tmp/smoke.tcpdump
check "ping over veth" nsexec a ping -c3 -i 0.2 -W2 192.0.2.2
busywait 5000 bash -c "! kill -0 $tcpdump_pid 2>/dev/null"
check "tcpdump captured it" bash -c "(( \$(stat -c %s /tmp/smoke.pcap) > 24 ))"
check "ping6 over veth" nsexec a ping -6 -c1 -W2 2001:db8::2

# iptables, both flavours, with a stock match that must autoload.
for flavour in legacy nft; do
	IPTABLES=iptables-$flavour IP6TABLES=ip6tables-$flavour
	check "iptables-$flavour: -m tcpmss rule" \
		ipt_ns b -A INPUT -p tcp --syn -m tcpmss --mss 1000:1460 -m comment --comment smoke -j ACCEPT
	check "iptables-$flavour: TCPMSS target" \
		ipt_ns a -t mangle -A POSTROUTING -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1400
	check "ip6tables-$flavour: -m tcpmss rule" \
		ip6t_ns b -A INPUT -p tcp --syn -m tcpmss --mss 1000:1500 -j ACCEPT
	check "iptables-$flavour-save shows the rule" \
		bash -c "ip netns exec b iptables-$flavour-save | grep -q -- '--mss 1000:1460'"
done
check "nft lists the iptables-nft rule" \
	bash -c "! command -v nft >/dev/null || ip netns exec b nft list ruleset | grep -q 'maxseg size 1000-1460'"

# TCP through socat; the SYN is clamped to 1400 in a and counted in b.
IPTABLES=iptables-legacy
ipt_ns b -F INPUT
ipt_ns b -A INPUT -p tcp --dport 5001 --syn -m tcpmss --mss 1400 -j ACCEPT
nsexec b socat -u TCP4-LISTEN:5001,reuseaddr OPEN:/tmp/smoke.rx,creat,trunc &
wait_local_port_listen b 5001 tcp
head -c 200000 /dev/urandom > /tmp/smoke.tx
check "socat transfers 200 kB" \
	nsexec a timeout 20 socat -u OPEN:/tmp/smoke.tx TCP4:192.0.2.2:5001
wait
check "the data arrived intact" cmp /tmp/smoke.tx /tmp/smoke.rx
check "the SYN arrived with MSS 1400 (counter)" \
	bash -c "ip netns exec b iptables-legacy -v -S INPUT | grep -q -- '--mss 1400 -c 1 '"

# ESP tunnel mode, aes-cbc + hmac-sha1, static keys.
ip -n a link add name lan type dummy
ip -n b link add name lan type dummy
ip -n a link set lan up
ip -n b link set lan up
ip -n a addr add 10.1.0.1/24 dev lan
ip -n b addr add 10.2.0.1/24 dev lan
ip -n a route add 10.2.0.0/24 via 192.0.2.2 src 10.1.0.1
ip -n b route add 10.1.0.0/24 via 192.0.2.1 src 10.2.0.1

ENC=0x$(printf '%032x' 1)
AUTH=0x$(printf '%040x' 2)
for ns in a b; do
	for dir in "192.0.2.1 192.0.2.2 0x1000" "192.0.2.2 192.0.2.1 0x2000"; do
		set -- $dir
		check "$ns: xfrm state $1 -> $2" ip -n $ns xfrm state add src $1 dst $2 proto esp spi $3 \
			reqid 1 mode tunnel enc 'cbc(aes)' $ENC auth-trunc 'hmac(sha1)' $AUTH 96
	done
done
xpol() { # NS SRCNET DSTNET DIR TUNSRC TUNDST
	ip -n "$1" xfrm policy add src "$2" dst "$3" dir "$4" \
		tmpl src "$5" dst "$6" proto esp reqid 1 mode tunnel
}
check "a: policies" bash -c "$(declare -f xpol); \
	xpol a 10.1.0.0/24 10.2.0.0/24 out 192.0.2.1 192.0.2.2 && \
	xpol a 10.2.0.0/24 10.1.0.0/24 in  192.0.2.2 192.0.2.1 && \
	xpol a 10.2.0.0/24 10.1.0.0/24 fwd 192.0.2.2 192.0.2.1"
check "b: policies" bash -c "$(declare -f xpol); \
	xpol b 10.2.0.0/24 10.1.0.0/24 out 192.0.2.2 192.0.2.1 && \
	xpol b 10.1.0.0/24 10.2.0.0/24 in  192.0.2.1 192.0.2.2 && \
	xpol b 10.1.0.0/24 10.2.0.0/24 fwd 192.0.2.1 192.0.2.2"
ipt_ns b -A INPUT -p esp -j ACCEPT
ipt_ns b -A INPUT -m policy --dir in --pol ipsec --proto esp -p icmp -j ACCEPT
check "ping through the ESP tunnel" nsexec a ping -c2 -W2 -I 10.1.0.1 10.2.0.1
check "b saw ESP" bash -c "ip netns exec b iptables-legacy -v -S INPUT | grep -E -- '-p esp.* -c [1-9]'"
check "b saw decapsulated ICMP (-m policy)" \
	bash -c "ip netns exec b iptables-legacy -v -S INPUT | grep -E -- '--pol ipsec.* -c [1-9]'"

# The module under test, when the harness installed one.
if modinfo -F filename xt_IPSECMSS >/dev/null 2>&1; then
	check "xt_IPSECMSS is installed in updates/" bash -c "modinfo -F filename xt_IPSECMSS | grep -q /updates/"
	check "ipt_IPSECMSS alias resolves" bash -c "modprobe -n -v ipt_IPSECMSS | grep -q xt_IPSECMSS"
	if [[ -e /usr/lib/x86_64-linux-gnu/xtables/libxt_IPSECMSS.so ]]; then
		grep -q '^xt_IPSECMSS ' /proc/modules && echo "# xt_IPSECMSS was already loaded"
		for flavour in legacy nft; do
			IPTABLES=iptables-$flavour
			check "iptables-$flavour -j IPSECMSS --set-mss 1300" ipt_ns a -t mangle -A FORWARD \
				-p tcp --tcp-flags SYN,RST SYN -j IPSECMSS --set-mss 1300
		done
		check "the rule autoloaded xt_IPSECMSS" grep -q '^xt_IPSECMSS ' /proc/modules
		check "iptables-legacy-save shows the rule" \
			bash -c "ip netns exec a iptables-legacy-save -t mangle | grep -q -- '-j IPSECMSS --set-mss 1300'"
		cleanup_all_ns
		check "xt_IPSECMSS unloads" rmmod xt_IPSECMSS
	fi
else
	echo "# no xt_IPSECMSS installed (--module none)"
fi

finish
