#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make demo`: boot a throwaway VM on Debian 12's own kernel (6.1, or
# IPSECMSS_DEMO_KERNEL) and run tests/demo/demo.sh in it, showing only
# what the demo says; the full guest log goes to build/logs/demo.log.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
mkdir -p build/logs

kver=${IPSECMSS_DEMO_KERNEL:-}
if [[ -z $kver ]]; then
	for v in $(ls /boot/vmlinuz-* 2>/dev/null | sort -V); do
		k=${v#/boot/vmlinuz-}
		[[ -d /usr/src/linux-headers-$k ]] || continue
		[[ -z $kver || $k == 6.1.* ]] && kver=$k
	done
fi
if [[ -z $kver ]]; then
	echo "demo: no kernel image with headers found (make deps installs them)" >&2
	exit 1
fi

echo "demo: booting Debian's kernel $kver in QEMU (software emulation, about a minute)..."
tests/vm-suite.sh "$kver" tests/demo >build/logs/demo.log 2>&1 &
pid=$!
tail -n +1 -f build/logs/demo.log --pid=$pid 2>/dev/null |
	tr -d '\r' | grep --line-buffered -E '^(demo:| *(not )?ok [0-9]+ |IPSECMSS-VM-RESULT)'
wait $pid
rc=$?
((rc == 0)) && echo "demo: done (full log: build/logs/demo.log)" ||
	echo "demo: FAILED (see build/logs/demo.log)"
exit $rc
