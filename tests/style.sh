#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernel half as a netfilter maintainer would check it: checkpatch
# (strict) on every kernel source, and a build with W=1 and sparse against
# every installed kernel's headers that must print no warning at all.
# KTAP output (tests/lib/ktap.sh).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
. tests/lib/ktap.sh
ktap_print_header

checkpatch=${CHECKPATCH:-}
if [[ -z $checkpatch ]]; then
	tarball=$(ls /usr/src/linux-source-*.tar.* 2>/dev/null | tail -n 1)
	cache="$top/build/checkpatch"
	if [[ -n $tarball && ! -f $cache/scripts/checkpatch.pl ]]; then
		mkdir -p "$cache"
		tar -xf "$tarball" -C "$cache" --strip-components=1 --wildcards \
			'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
			'*/scripts/const_structs.checkpatch' 2>/dev/null
	fi
	[[ -f $cache/scripts/checkpatch.pl ]] && checkpatch=$cache/scripts/checkpatch.pl
fi

if [[ -n $checkpatch ]]; then
	for f in kernel/*.c kernel/*.h; do
		out=$(perl "$checkpatch" --no-tree --strict --quiet -f "$f" 2>&1)
		if [[ -z $out ]]; then
			ktap_test_pass "checkpatch --strict $f"
		else
			ktap_print_lines <<<"$out"
			ktap_test_fail "checkpatch --strict $f"
		fi
	done
else
	ktap_test_skip checkpatch "install linux-source-6.1"
fi

for kdir in /usr/src/linux-headers-*-amd64; do
	[[ -d $kdir ]] || continue
	kver=${kdir#/usr/src/linux-headers-}
	mod="$top/build/style-$kver"
	rm -rf "$mod" && mkdir -p "$mod" && cp -r Kbuild kernel "$mod/"
	out=$(make -C "$kdir" M="$mod" W=1 C=2 modules 2>&1)
	rc=$?
	warn=$(grep -E 'warning:|error:' <<<"$out")
	if ((rc == 0)) && [[ -z $warn ]]; then
		ktap_test_pass "W=1 C=2 (sparse) build against $kver: no warning"
	else
		ktap_print_lines <<<"$warn"
		ktap_test_fail "W=1 C=2 (sparse) build against $kver (status $rc)"
	fi
done

ktap_finished
