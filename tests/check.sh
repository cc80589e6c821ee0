#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: every test of ipsecmss, then one line "N passed, N failed,
# N skipped" summing the individual checks of every suite.
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

suites=${IPSECMSS_SUITES:-"style unit ext cli fuzz pkg vm"}
total_pass=0
total_fail=0
total_skip=0
summary=()

# Add the "N passed, N failed[, N skipped]" totals found in log $2 to the
# grand totals, under the suite name $1; a suite that exited non-zero
# without reporting any failure counts one failure of its own.
tally() {
	local name=$1 log=$2 rc=$3 line p=0 f=0 s=0

	line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [[ -n $line ]]; then
		p=$(sed -E 's/.*\b([0-9]+) passed.*/\1/' <<<"$line")
		f=$(sed -E 's/.*\b([0-9]+) failed.*/\1/' <<<"$line")
		[[ $line == *skipped* ]] && s=$(sed -E 's/.*\b([0-9]+) skipped.*/\1/' <<<"$line")
	fi
	if ((rc != 0 && f == 0)); then
		f=1
		echo "FAIL: $name exited with status $rc"
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + s))
	summary+=("$(printf '%-28s %4d passed, %d failed, %d skipped' "$name" "$p" "$f" "$s")")
}

run_suite() {
	local name=$1 rc log="$build/logs/$1.log"
	shift
	echo "=== $name: $*"
	"$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	tally "$name" "$log" "$rc"
}

# VM counts: every PASS:/FAIL: line the guest printed, plus the run itself
# (it fails on a timeout, a panic, a kernel warning or a failed script).
vm_suite() {
	local kver=$1 rc p f s log="$build/logs/vm-$1.log" o only=()

	for o in ${IPSECMSS_ONLY:-}; do
		only+=(--only "$o")
	done
	echo "=== vm-$kver"
	tests/vm-suite.sh "$kver" tests/net "${only[@]}" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	p=$(tr -d "\r" <"$log" | grep -c "^PASS:")
	f=$(tr -d "\r" <"$log" | grep -c "^FAIL:")
	s=$(tr -d "\r" <"$log" | grep -c "^SKIP:")
	if ((rc == 0)); then
		p=$((p + 1))
	else
		f=$((f + 1))
		echo "FAIL: vm-$kver run (status $rc)"
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + s))
	summary+=("$(printf '%-28s %4d passed, %d failed, %d skipped' "vm-$kver" "$p" "$f" "$s")")
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
			echo "FAIL: no test kernel (image in /boot with headers in /usr/src)"
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

echo
echo "=== summary"
printf '%s\n' "${summary[@]}"
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
((total_fail == 0))
