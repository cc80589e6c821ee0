# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The three-namespace forwarding topology of the single-router tests
# (ipsecmss_basic.sh, hostile_corpus.sh, stats_cli.sh): "$client",
# "$router" and "$server".  Sourcing it sources lib.sh and sets PROBE;
# it is a library, not a test (not executable).
#
#   client veth0 10.0.1.1/24  fd00:1::1/64
#      |
#   router veth0 10.0.1.254/24 fd00:1::fe/64, veth1 10.0.2.254/24 fd00:2::fe/64
#      |
#   server veth0 10.0.2.1/24  fd00:2::1/64

_lr_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LIB=${IPSECMSS_LIB:-$_lr_here/lib.sh}
[[ -e $LIB ]] || LIB=$_lr_here/../vm/lib.sh
# shellcheck source=../vm/lib.sh
. "$LIB"

# shellcheck disable=SC2034	# (for the tests)
{
PROBE=${PROBE:-$(command -v ipsecmss-probe || echo "$_lr_here/../tools/ipsecmss-probe")}
C4=10.0.1.1 R4C=10.0.1.254 R4S=10.0.2.254 S4=10.0.2.1
C6=fd00:1::1 R6C=fd00:1::fe R6S=fd00:2::fe S6=fd00:2::1
}
# The namespaces' names, unique per run (setup_ns -u sets them).
client= router= server=

# setup_topology: the namespaces, links, addresses and routes; the router
# forwards both families.
setup_topology() {
	setup_ns -u client router server || return 1
	make_veth "$client" veth0 "$router" veth0 || return 1
	make_veth "$router" veth1 "$server" veth0 || return 1
	ip -n "$client" addr add $C4/24 dev veth0
	ip -n "$client" addr add $C6/64 dev veth0 nodad
	ip -n "$router" addr add $R4C/24 dev veth0
	ip -n "$router" addr add $R6C/64 dev veth0 nodad
	ip -n "$router" addr add $R4S/24 dev veth1
	ip -n "$router" addr add $R6S/64 dev veth1 nodad
	ip -n "$server" addr add $S4/24 dev veth0
	ip -n "$server" addr add $S6/64 dev veth0 nodad
	ip -n "$client" route add default via $R4C
	ip -n "$client" -6 route add default via $R6C
	ip -n "$server" route add default via $R4S
	ip -n "$server" -6 route add default via $R6S
	ip netns exec "$router" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1
}
