#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# auto_exact.sh with the README's rule pair, in mangle POSTROUTING:
#   iptables  -t mangle -A POSTROUTING -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead auto
#   ip6tables -t mangle -A POSTROUTING -p tcp -j IPSECMSS --clamp-to-pmtu-minus-overhead auto
# for two suites (CBC + HMAC, AEAD) on the seed's 1454-byte WAN, with and
# without NAT-T: the same measurement (largest MSS crossing whole, M
# crosses, M+1 stalls) and the same expectations as in FORWARD (SYN and
# SYN/ACK of connections from either side carry exactly M; lowered +2 per
# connection: a SYN through a policy-based tunnel passes POSTROUTING once).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
export AUTO_CHAIN=POSTROUTING
export AUTO_SUITES=${AUTO_SUITES:-aes-cbc-sha1 aes-gcm-16}
export AUTO_MTUS=${AUTO_MTUS:-1454}
export AUTO_EXTRA=${AUTO_EXTRA:-0}
# shellcheck source=auto_exact.sh
. "$HERE/auto_exact.sh"
main
