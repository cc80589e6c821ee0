#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: every test of ipsecmss, then one line "N passed, N failed,
# N skipped" summing the individual checks of every suite.
#
# Every suite prints KTAP (tests/lib/ktap.sh); so does this script: one
# result line per suite, the suite's own output nested under it (indented
# by two spaces; the raw output is in build/logs/SUITE.log).  The counts
# are ktap_count's: the leaf results of each suite's KTAP output (for the
# VM: every check of every guest script, the scripts that crashed, the
# kernel-log check), plus one failure for a suite that exited non-zero or
# printed no result at all without a failed result (a crash, a VM that
# died, a build error).
#
#   style    - checkpatch, W=1 and sparse on the kernel half
#   unit     - the pure core, table-driven (userspace, ASan+UBSan)
#   cli      - the ipsecmss calculator against an independent model
#   ext      - the iptables extension's parsing (userspace)
#   fuzz     - each libFuzzer target briefly, plus the kept regressions
#   pkg      - make install/uninstall, DKMS for every kernel, make deb, lintian
#   vm-KVER  - the kernel suites in a QEMU guest, for every test kernel
#              that has both an image in /boot and headers in /usr/src
#
# Environment: IPSECMSS_KERNELS="kver ..." picks the kernels,
# IPSECMSS_SUITES="unit ext fuzz vm" picks the suites, FUZZ_SECONDS the
# length of each fuzz run (default 10), IPSECMSS_ONLY limits the VM tests.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
build="$top/build"
mkdir -p "$build/logs"
. tests/lib/ktap.sh
ktap_print_header

suites=${IPSECMSS_SUITES:-"style unit ext cli fuzz pkg vm"}
total_pass=0
total_fail=0
total_skip=0
summary=()

# tally NAME LOG RC: suite NAME's results, counted from the KTAP lines of
# its LOG, into the grand totals; the suite's own result line.
tally() {
	local name=$1 log=$2 rc=$3 p f s

	read -r p f s < <(ktap_count "$log")
	if ((f == 0 && rc != 0)); then
		f=1
		ktap_print_msg "$name exited with status $rc"
	elif ((f == 0 && p + s == 0)); then
		f=1
		ktap_print_msg "$name printed no test result"
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + s))
	summary+=("$(printf '%-28s %4d passed, %d failed, %d skipped' "$name" "$p" "$f" "$s")")
	if ((f)); then
		ktap_test_fail "$name" "$p passed, $f failed, $s skipped"
	elif ((p == 0)); then
		ktap_test_skip "$name" "$s skipped"
	else
		ktap_test_pass "$name" "$p passed, $s skipped"
	fi
}

# run_suite NAME CMD...: the suite's output nested here and kept in
# build/logs/NAME.log; counted from this run's own copy (another check.sh
# running the same suite writes the same log).
run_suite() {
	local name=$1 rc log="$build/logs/$1.log" own
	shift
	own=$(mktemp "$build/logs/.$name.XXXXXX") || exit 1
	ktap_print_msg "$name: $*"
	"$@" 2>&1 | tee "$log" "$own" | sed -u 's/^/  /'
	rc=${PIPESTATUS[0]}
	tally "$name" "$own" "$rc"
	rm -f "$own"
}

# VM counts: every result the guest printed (tests/vm/init.sh: each
# script's checks nested under the script's result, then the kernel-log
# check); a run that fails without a failed result (a timeout, a panic)
# counts one failure.
vm_suite() {
	local kver=$1 o only=()

	for o in ${IPSECMSS_ONLY:-$(kernel_tests "$kver")}; do
		only+=(--only "$o")
	done
	run_suite "vm-$kver" tests/vm-suite.sh "$kver" tests/net "${only[@]}"
}

# The kernels: those installed on the host with their headers (Debian 12's
# 6.1 and the 6.12 backport), Debian 11's kernel and the newest Debian
# kernel (Debian 13's backport), each built in its release's chroot
# (tests/kernels/kernel.sh; cached, made once).  IPSECMSS_KERNELS takes
# kernel versions and these release names.
KERNEL_DISTS="bullseye trixie-backports"
test_kernels() {
	local v k

	for k in ${IPSECMSS_KERNELS:-host $KERNEL_DISTS}; do
		case $k in
		host)
			for v in /boot/vmlinuz-*; do
				v=${v#/boot/vmlinuz-}
				[[ -d /usr/src/linux-headers-$v && -d /lib/modules/$v/kernel ]] && echo "$v"
			done ;;
		bullseye|trixie-backports)
			# Not prepared: its name fails in vm-suite.sh, counted.
			tests/kernels/kernel.sh prepare "$k" || echo "$k" ;;
		*)
			echo "$k" ;;
		esac
	done
}

# kernel_tests KVER: the VM tests for KVER, empty for all of them.  The
# whole suite runs on the host's own Debian kernel (linux-image-amd64, 6.1)
# and on the newest one (trixie-backports'); the others (5.10, 6.12) run
# the functional, two-site, auto and hostile-input tests, which keeps
# `make check` on a fresh machine within an hour.
kernel_tests() {
	local t host

	host=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null |
		grep -oE 'linux-image-[^ ,]+')
	[[ $host == "linux-image-$1" ]] && return
	[[ $(tests/kernels/kernel.sh dist "$1" 2>/dev/null) == trixie-backports ]] && return
	for t in tests/net/ipsecmss_basic.sh tests/net/twosite_*.sh \
		tests/net/auto_exact.sh tests/net/hostile_corpus.sh; do
		[[ -x $t ]] && echo "${t#tests/net/}"
	done
}

for suite in $suites; do
	case $suite in
	style)
		run_suite style tests/style.sh ;;
	unit)
		run_suite unit make -s -C tests/unit run ;;
	cli)
		run_suite cli tests/cli/test_cli.sh ;;
	pkg)
		run_suite pkg tests/pkg/test_pkg.sh ;;
	ext)
		run_suite ext tests/ext/test_parse.sh ;;
	fuzz)
		run_suite fuzz tests/fuzz/run.sh "${FUZZ_SECONDS:-10}" ;;
	vm)
		kernels=$(test_kernels)
		if [[ -z $kernels ]]; then
			ktap_test_fail vm "no test kernel (image in /boot with headers in /usr/src)"
			total_fail=$((total_fail + 1))
		fi
		for k in $kernels; do
			vm_suite "$k"
		done ;;
	*)
		echo "unknown suite $suite" >&2
		exit 2 ;;
	esac
done

echo "1..$KTAP_TESTNO"
ktap_print_msg "summary"
printf '%s\n' "${summary[@]}" | ktap_print_lines
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
((total_fail == 0))
