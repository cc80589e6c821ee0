#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the module for one test kernel and run a directory of guest tests
# on that kernel in the VM:
#   tests/vm-suite.sh KVER TESTDIR [run.sh options...]
# The extension comes from userspace/, the guest's tools (ipsecmss-probe
# and the ipsecmss CLI) from build/guest-tools.  `make all tools` first.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

kver=${1:?usage: vm-suite.sh KVER TESTDIR [run.sh options]}
tests=${2:?usage: vm-suite.sh KVER TESTDIR [run.sh options]}
shift 2

# IPSECMSS_BUILD_TAG keeps concurrent runs (make bench beside a test run)
# out of each other's build directories.
tag=${IPSECMSS_BUILD_TAG:+-$IPSECMSS_BUILD_TAG}
mod="$top/build/mod-$kver$tag"
tools="$top/build/guest-tools$tag"
mkdir -p "$top/build/logs"
rm -rf "$mod" "$tools" && mkdir -p "$mod" "$tools"
cp -r Kbuild kernel "$mod/"
# Built with the in-kernel self-tests (kernel/selftest/), which run at load.
# The module carries the version of the extension it is tested with (its
# ELF note), so an edit to the tree during a run cannot split the two.
version=$(grep -ao '"version":"[^"]*"' userspace/libxt_IPSECMSS.so 2>/dev/null |
	head -n 1 | cut -d'"' -f4)
[[ -n $version ]] || version=$(make -s --no-print-directory -C "$top" version 2>/dev/null)
# A kernel with headers on the host is built here; one of another Debian
# release (tests/kernels/kernel.sh prepare DIST) in that release's chroot,
# with its compiler, and booted from its unpacked .deb.
kroot=()
if [[ -d /usr/src/linux-headers-$kver ]]; then
	build_module() {
		make -s -C "/usr/src/linux-headers-$kver" M="$mod" IPSECMSS_VERSION="$version" IPSECMSS_SELFTEST=y modules
	}
elif kr=$(tests/kernels/kernel.sh kroot "$kver" 2>/dev/null); then
	kroot=(--kroot "$kr")
	build_module() {
		tests/kernels/kernel.sh build "$kver" "$mod" -s IPSECMSS_VERSION="$version" IPSECMSS_SELFTEST=y
	}
else
	echo "FAIL: no headers for $kver in /usr/src, and no prepared chroot (tests/kernels/kernel.sh)"
	echo "IPSECMSS-VM-RESULT: 0 passed, 1 failed, 0 skipped"
	exit 1
fi
if ! build_module >"$top/build/logs/build-$kver.log" 2>&1; then
	cat "$top/build/logs/build-$kver.log"
	echo "FAIL: module build for $kver"
	echo "IPSECMSS-VM-RESULT: 0 passed, 1 failed, 0 skipped"
	exit 1
fi
# The probe is linked statically: under TCG a dynamically linked program
# takes 70-600 ms to start, a static one about 20 ms.
${CC:-cc} -static -O2 -o "$tools/ipsecmss-probe" tests/tools/ipsecmss-probe.c 2>/dev/null ||
	cp tests/tools/ipsecmss-probe "$tools/"
[[ -x userspace/ipsecmss ]] && cp userspace/ipsecmss "$tools/"
# The whole VM gets the sum of its tests' time and more; each test keeps
# its own timeout (tests/net/settings).
exec tests/vm/run.sh --kver "$kver" --module "$mod/xt_IPSECMSS.ko" \
	--xtlib userspace --tools "$tools" --tests "$tests" --timeout 4500 "${kroot[@]}" "$@"
