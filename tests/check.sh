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

run_suite() {
	local name=$1 rc log="$build/logs/$1.log"
	shift
	ktap_print_msg "$name: $*"
	"$@" 2>&1 | tee "$log" | sed -u 's/^/  /'
	rc=${PIPESTATUS[0]}
	tally "$name" "$log" "$rc"
}

# VM counts: every result the guest printed (tests/vm/init.sh: each
# script's checks nested under the script's result, then the kernel-log
# check); a run that fails without a failed result (a timeout, a panic)
# counts one failure.
vm_suite() {
	local kver=$1 o only=()

	for o in ${IPSECMSS_ONLY:-}; do
		only+=(--only "$o")
	done
	run_suite "vm-$kver" tests/vm-suite.sh "$kver" tests/net "${only[@]}"
}

test_kernels() {
	local v k

	if [[ -n ${IPSECMSS_KERNELS:-} ]]; then
		echo "$IPSECMSS_KERNELS"
		return
	fi
	for v in /boot/vmlinuz-*; do
		k=${v#/boot/vmlinuz-}
		[[ -d /usr/src/linux-headers-$k && -d /lib/modules/$k/kernel ]] && echo "$k"
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
