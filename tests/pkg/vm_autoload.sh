#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest test: the module as installed (updates/ + depmod) loads on demand.
# A rule using -j IPSECMSS makes the kernel ask for ipt_IPSECMSS (or
# ip6t_IPSECMSS), an alias of xt_IPSECMSS in modules.alias: no modprobe or
# insmod here.  The rule holds a reference, so rmmod is refused until the
# rule is gone.  Both iptables flavours, in a namespace of their own.
#
# The version modinfo shows must be the one the extension carries (its ELF
# note, see the Makefile), and /tests/expected-version if that file exists.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
LIB=${IPSECMSS_LIB:-$HERE/lib.sh}
[[ -e $LIB ]] || LIB=$HERE/../vm/lib.sh
# shellcheck source=../vm/lib.sh
. "$LIB"

XTLIB=/usr/lib/x86_64-linux-gnu/xtables/libxt_IPSECMSS.so

modinfo xt_IPSECMSS >/dev/null 2>&1 || skip "module xt_IPSECMSS not installed"

loaded() { grep -q '^xt_IPSECMSS ' /proc/modules; }
# shellcheck disable=SC2317 # called through check
unloaded() { ! loaded; }
refcnt() { cat /sys/module/xt_IPSECMSS/refcnt 2>/dev/null; }

# ------------------------------------------------------------ version --
version=$(modinfo -F version xt_IPSECMSS)
echo "# modinfo: version '$version', $(modinfo -F filename xt_IPSECMSS)"
check "modinfo -F version xt_IPSECMSS is set" test -n "$version"
check "xt_IPSECMSS is found in updates/ (depmod)" \
	bash -c "modinfo -F filename xt_IPSECMSS | grep -q '/updates/'"
ext_version=$(grep -ao '"version":"[^"]*"' "$XTLIB" 2>/dev/null | head -n1 | cut -d'"' -f4)
if [[ -n $ext_version ]]; then
	check "module version '$version' is the extension's '$ext_version'" \
		test "$version" = "$ext_version"
else
	echo "# no version note in $XTLIB: not compared"
fi
if [[ -f $HERE/expected-version ]]; then
	want=$(<"$HERE/expected-version")
	check "module version is the expected '$want'" test "$version" = "$want"
fi

# ----------------------------------------------------------- autoload --
if loaded; then
	# An earlier test in this VM may have left it loaded, unused.
	busywait 5000 rmmod xt_IPSECMSS >/dev/null 2>&1
fi
check "xt_IPSECMSS is not loaded at the start" unloaded
setup_ns -u pkg || finish

for flavour in legacy nft; do
	IPTABLES=iptables-$flavour IP6TABLES=ip6tables-$flavour
	echo "# ---- $IPTABLES / $IP6TABLES"
	check "$flavour: not loaded before the rule" unloaded
	check "$flavour: iptables -A FORWARD -p tcp -j IPSECMSS --set-mss 1344" \
		ipt_ns "$pkg" -A FORWARD -p tcp -j IPSECMSS --set-mss 1344
	check "$flavour: the rule loaded xt_IPSECMSS" loaded
	check "$flavour: the rule holds a reference (refcnt $(refcnt))" \
		test "$(refcnt)" -ge 1
	check_fail "$flavour: rmmod xt_IPSECMSS refused while the rule exists" \
		rmmod xt_IPSECMSS
	check "$flavour: still loaded after the refused rmmod" loaded
	check "$flavour: iptables -F" ipt_ns "$pkg" -F FORWARD
	# nf_tables drops its reference after the commit, asynchronously.
	check "$flavour: rmmod xt_IPSECMSS after the flush" \
		busywait 5000 rmmod xt_IPSECMSS
	check "$flavour: unloaded" unloaded

	check "$flavour: ip6tables -A FORWARD -p tcp -j IPSECMSS --set-mss 1344" \
		ip6t_ns "$pkg" -A FORWARD -p tcp -j IPSECMSS --set-mss 1344
	check "$flavour: the IPv6 rule loaded xt_IPSECMSS" loaded
	check_fail "$flavour: rmmod refused while the IPv6 rule exists" \
		rmmod xt_IPSECMSS
	check "$flavour: ip6tables -F" ip6t_ns "$pkg" -F FORWARD
	check "$flavour: rmmod after the IPv6 flush" busywait 5000 rmmod xt_IPSECMSS
done

cleanup_all_ns
finish
