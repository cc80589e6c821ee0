#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A W=1 build, `make dkms-install`, `make dkms-uninstall` and `make deb`
# as a user of another Debian release runs them: in that release's chroot
# (tests/kernels/kernel.sh), with its own dkms, gcc, debhelper and lintian,
# for the kernel whose headers the chroot holds.  Each kernel runs in a
# throwaway overlay of its chroot, on a copy of the sources (git ls-files),
# so neither the cache nor the work tree changes.
#
#   tests/kernels/test_pkg.sh [KVER|DIST]...   (default: every DIST)
#
# KTAP (tests/lib/ktap.sh): a result per check; exit 0 when nothing
# failed, else 1.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
KERNEL="$HERE/kernel.sh"

# shellcheck source=../lib/ktap.sh
. "$TOP/tests/lib/ktap.sh"
pass() { ktap_test_pass "$*"; }
fail() { ktap_test_fail "$*"; }

# The script the chroot runs: KVER and VERSION in the environment, the
# sources in /src.  It prints "RESULT name value" lines for the host to
# check, and the commands' output for the log.
# shellcheck disable=SC2016
INNER='
cd /src || exit 1
r() { echo "RESULT $1 $2"; }
make -s dkms-install VERSION="$VERSION" DKMS_KVERS="$KVER" >/tmp/dkms.log 2>&1
r dkms-install $?
cat /tmp/dkms.log
r status "$(dkms status ipsecmss/"$VERSION" -k "$KVER" 2>/dev/null | grep -c installed)"
ko=$(find "/lib/modules/$KVER/updates" -name "xt_IPSECMSS.ko*" | head -n 1)
r vermagic "$(modinfo -F vermagic "$ko" 2>/dev/null | cut -d" " -f1)"
r modversion "$(modinfo -F version "$ko" 2>/dev/null)"
make -s dkms-uninstall VERSION="$VERSION" >/tmp/dkms-un.log 2>&1
r dkms-uninstall $?
cat /tmp/dkms-un.log
r left "$(find /usr/src/ipsecmss-* "/lib/modules/$KVER/updates" -name "*IPSECMSS*" 2>/dev/null | wc -l)"
make deb VERSION="$VERSION" >/tmp/deb.log 2>&1
r deb $?
tail -n 40 /tmp/deb.log
r debs "$(cd build/deb && ls ipsecmss_"$VERSION"_amd64.deb ipsecmss-dkms_"$VERSION"_all.deb 2>/dev/null | wc -l)"
r dkmsconf "$(dpkg-deb --fsys-tarfile build/deb/ipsecmss-dkms_"$VERSION"_all.deb 2>/dev/null |
	tar -xO "./usr/src/ipsecmss-$VERSION/dkms.conf" 2>/dev/null | grep -c "^PACKAGE_VERSION=\"$VERSION\"")"
'

# result LOG NAME: the value the chroot reported for NAME.
result() { awk -v n="$2" '$1 == "RESULT" && $2 == n { $1 = $2 = ""; sub(/^ +/, ""); print; exit }' "$1"; }

# copy_sources DIR: the tracked files (or, outside git, the tree without
# its build products).
copy_sources() {
	if git -C "$TOP" rev-parse --git-dir >/dev/null 2>&1; then
		(cd "$TOP" && git ls-files -z | xargs -0 cp --parents -t "$1")
	else
		(cd "$TOP" && tar -c --exclude=./build --exclude=.cache . | tar -x -C "$1")
	fi
}

test_kernel() {
	local kver=$1 src log dist w1
	dist=$("$KERNEL" dist "$kver") || { fail "$kver: not prepared"; return; }
	src=$(mktemp -d) || return
	log="$TOP/build/logs/pkg-$kver.log"
	copy_sources "$src" ||
		{ fail "$kver: cannot copy the sources"; rm -rf "$src"; return; }
	# The release's compiler with the kernel's extra warnings (W=1), as
	# tests/style.sh does for the host's kernels: no warning at all.
	w1=$(mktemp -d) && cp -r "$src/Kbuild" "$src/kernel" "$w1/"
	if "$KERNEL" build "$kver" "$w1" W=1 >"$log.w1" 2>&1 && ! grep -q 'warning:' "$log.w1"; then
		pass "$dist $kver: kbuild W=1 with $dist's gcc: no warning"
	else
		fail "$dist $kver: kbuild W=1 with $dist's gcc (log: $log.w1)"
	fi
	rm -rf "$w1"
	"$KERNEL" run "$kver" "$src" env KVER="$kver" VERSION="$VERSION" bash -c "$INNER" >"$log" 2>&1
	rm -rf "$src"
	[[ $(result "$log" dkms-install) == 0 ]] &&
		pass "$dist $kver: make dkms-install" || fail "$dist $kver: make dkms-install (log: $log)"
	[[ $(result "$log" status) == 1 ]] &&
		pass "$dist $kver: dkms status: installed" || fail "$dist $kver: dkms status: not installed"
	[[ $(result "$log" vermagic) == "$kver" ]] &&
		pass "$dist $kver: the module's vermagic is $kver" ||
		fail "$dist $kver: the module's vermagic is '$(result "$log" vermagic)'"
	[[ $(result "$log" modversion) == "$VERSION" ]] &&
		pass "$dist $kver: the module's version is $VERSION" ||
		fail "$dist $kver: the module's version is '$(result "$log" modversion)'"
	[[ $(result "$log" dkms-uninstall) == 0 && $(result "$log" left) == 0 ]] &&
		pass "$dist $kver: make dkms-uninstall leaves nothing" ||
		fail "$dist $kver: make dkms-uninstall (status $(result "$log" dkms-uninstall), $(result "$log" left) files left)"
	[[ $(result "$log" deb) == 0 ]] &&
		pass "$dist $kver: make deb (dpkg-buildpackage, lintian --fail-on error)" ||
		fail "$dist $kver: make deb (log: $log)"
	[[ $(result "$log" debs) == 2 ]] &&
		pass "$dist $kver: both packages built" || fail "$dist $kver: $(result "$log" debs) of 2 packages built"
	[[ $(result "$log" dkmsconf) == 1 ]] &&
		pass "$dist $kver: ipsecmss-dkms's dkms.conf carries version $VERSION" ||
		fail "$dist $kver: ipsecmss-dkms's dkms.conf lacks version $VERSION"
}

ktap_print_header
((EUID == 0)) || { ktap_test_fail "needs root (chroot)"; ktap_finished; }
VERSION=$(make -s --no-print-directory -C "$TOP" version)
mkdir -p "$TOP/build/logs"
kernels=("$@")
((${#kernels[@]})) || kernels=(bullseye trixie-backports)
for k in "${kernels[@]}"; do
	case $k in
	bullseye|trixie-backports) k=$("$KERNEL" prepare "$k") || { fail "cannot prepare $k"; continue; } ;;
	esac
	test_kernel "$k"
done
ktap_finished
