#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest test: the module's in-kernel self-tests (kernel/selftest/, built in
# by tests/vm-suite.sh with IPSECMSS_SELFTEST=y) pass on this kernel.  They
# run at load and refuse the load on failure; this test loads the module
# afresh and reads what they reported.
#
# Why in the kernel: a CHECKSUM_COMPLETE skb (its skb->csum the sum of the
# packet, trusted by the receive path) comes only from NICs that compute
# whole-packet sums, and none of the NICs QEMU emulates for x86 does
# (e1000, e1000e, rtl8139, vmxnet3, virtio-net, pcnet, tulip, i825xx:
# their drivers report CHECKSUM_UNNECESSARY or nothing).  Software paths
# that yield it (conntrack's nf_checksum) mark it csum_complete_sw and
# recompute a wrong sum silently.  So the self-test builds such SYNs
# itself, IPv4 and IPv6, with and without an MSS option, runs the
# target's own mangling on them and compares skb->csum with the sum of
# the packet after the change.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
LIB=${IPSECMSS_LIB:-$HERE/lib.sh}
[[ -e $LIB ]] || LIB=$HERE/../vm/lib.sh
# shellcheck source=../vm/lib.sh
. "$LIB"

modinfo xt_IPSECMSS >/dev/null 2>&1 || skip "module xt_IPSECMSS not installed"

loaded() { grep -q '^xt_IPSECMSS ' /proc/modules; }

if loaded; then
	busywait 5000 rmmod xt_IPSECMSS >/dev/null 2>&1
fi
check "xt_IPSECMSS is not loaded before the test" bash -c '! grep -q "^xt_IPSECMSS " /proc/modules'

before=$(dmesg | grep -c 'xt_IPSECMSS: selftest:')
check "modprobe xt_IPSECMSS (the self-tests run and pass at load)" modprobe xt_IPSECMSS
report=$(dmesg | grep 'xt_IPSECMSS: selftest:' | tail -n +$((before + 1)))
printf '%s\n' "$report" | sed 's/^/# /'
check "the self-tests reported 4 checksum cases passed" \
	grep -q 'selftest: 4 checksum cases passed (CHECKSUM_COMPLETE)' <<<"$report"
check_fail "no self-test reported a failure" grep -qi 'fail\|WRONG' <<<"$report"
check "rmmod xt_IPSECMSS" rmmod xt_IPSECMSS

finish
