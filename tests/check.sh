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
#   pkg-kernels - W=1, make dkms-install and make deb in the chroots of the
#              other Debian releases (tests/kernels/test_pkg.sh)
#   vm-KVER  - the kernel suites in a QEMU guest, for every test kernel
#              that has both an image in /boot and headers in /usr/src
#
# Environment: IPSECMSS_KERNELS="kver ..." picks the kernels,
# IPSECMSS_SUITES="unit ext fuzz vm" picks the suites, FUZZ_SECONDS the
# length of each fuzz run (default 10), IPSECMSS_ONLY limits the VM tests,
# IPSECMSS_VM_JOBS (default 2) how many kernels' VMs run at once.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
build="$top/build"
mkdir -p "$build/logs"
. tests/lib/ktap.sh
ktap_print_header

suites=${IPSECMSS_SUITES:-"style unit ext cli fuzz pkg pkg-kernels vm"}
total_pass=0
total_fail=0
total_skip=0
summary=()
failures=()
flaky=()

# failed_results LOG: the failed results in a suite's log (a failed check,
# then the guest script it belongs to), so that the last lines of the
# output name what failed.
failed_results() {
	grep -E '^ *not ok ' "$1" | sed -E 's/^ */  /' | head -n 40
}

# tally NAME LOG RC [DP DF DS]: suite NAME's results, counted from the KTAP
# lines of its LOG (plus DP passes, DF failures, DS skips: the change a
# guest script's second run made, see vm_retry), into the grand totals;
# the suite's own result line.
tally() {
	local name=$1 log=$2 rc=$3 p f s

	read -r p f s < <(ktap_count "$log")
	p=$((p + ${4:-0})) f=$((f + ${5:-0})) s=$((s + ${6:-0}))
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
		failures+=("$name:")
		mapfile -t -O "${#failures[@]}" failures < <(failed_results "$log")
	fi
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
#
# The kernels' VMs run side by side, IPSECMSS_VM_JOBS (default 2) at a
# time, the whole-suite kernels first: much of a guest test's time is
# spent waiting (a transfer that must stall, a daemon negotiating), so
# two VMs share the two host CPUs well.  Each writes its own log; a
# suite's output is nested here, in kernel order, once it has finished.
vm_suites() {
	local jobs=${IPSECMSS_VM_JOBS:-2} k dir running=0 rc
	local -a order=() only

	dir=$(mktemp -d "$build/logs/.vm.XXXXXX") || exit 1
	for k in "$@"; do
		[[ -z ${IPSECMSS_ONLY:-} && -z $(kernel_tests "$k") ]] && order+=("$k")
	done
	for k in "$@"; do
		[[ " ${order[*]} " == *" $k "* ]] || order+=("$k")
	done
	for k in "${order[@]}"; do
		vm_only "$k"
		only=("${VM_ONLY[@]}")
		if ((running >= jobs)); then
			wait -n
			running=$((running - 1))
		fi
		ktap_print_msg "vm-$k: started ($(date -u +%T))"
		(
			IPSECMSS_BUILD_TAG=$k tests/vm-suite.sh "$k" tests/net "${only[@]}" \
				>"$dir/$k.log" 2>&1
			echo $? >"$dir/$k.rc"
			ktap_print_msg "vm-$k: finished ($(date -u +%T))"
		) &
		running=$((running + 1))
	done
	wait
	for k in "$@"; do
		ktap_print_msg "vm-$k: tests/vm-suite.sh $k tests/net"
		cp "$dir/$k.log" "$build/logs/vm-$k.log"
		sed 's/^/  /' "$dir/$k.log"
		rc=$(cat "$dir/$k.rc" 2>/dev/null || echo 1)
		if ((rc != 0)) && vm_died_booting "$dir/$k.log"; then
			vm_reboot "$k" "$dir"
			rc=$(cat "$dir/$k.rc" 2>/dev/null || echo 1)
		fi
		VM_ADJ=(0 0 0)
		if ((rc != 0)) && vm_retry "$k" "$dir"; then
			rc=0
		fi
		tally "vm-$k" "$dir/$k.log" "$rc" "${VM_ADJ[@]}"
	done
	rm -rf "$dir"
}

# vm_only KVER: VM_ONLY = the --only arguments of KVER's tests.
vm_only() {
	local o
	VM_ONLY=()
	for o in ${IPSECMSS_ONLY:-$(kernel_tests "$1")}; do
		VM_ONLY+=(--only "$o")
	done
}

# vm_died_booting LOG: the guest's kernel panicked before any test ran.
# Seen with 6.12 under QEMU's multi-threaded TCG on a loaded host: an
# "int3" oops in the kernel's own code patching at boot (no module
# loaded yet), an emulator race rather than anything under test.
vm_died_booting() {
	grep -q '^run.sh: kernel panic' "$1" && ! grep -q '^# selftests: ' "$1"
}

# vm_reboot KVER DIR: KVER's whole VM run once more (its first log kept as
# DIR/KVER.boot1.log and build/logs/vm-KVER.boot1.log); when the second
# boot gets to the tests, the first is named as flaky at the end of the
# output with the oops that stopped it.
vm_reboot() {
	local k=$1 dir=$2
	local -a only

	ktap_print_msg "vm-$k: the guest's kernel died while booting, before any test; boot it again ($(date -u +%T))"
	mv "$dir/$k.log" "$dir/$k.boot1.log"
	cp "$dir/$k.boot1.log" "$build/logs/vm-$k.boot1.log"
	vm_only "$k"
	only=("${VM_ONLY[@]}")
	IPSECMSS_BUILD_TAG=$k-reboot tests/vm-suite.sh "$k" tests/net "${only[@]}" \
		>"$dir/$k.log" 2>&1
	echo $? >"$dir/$k.rc"
	cp "$dir/$k.log" "$build/logs/vm-$k.log"
	sed 's/^/    /' "$dir/$k.log"
	vm_died_booting "$dir/$k.log" && return
	flaky+=("vm-$k: the guest's kernel died while booting, before any test, and was booted again:")
	mapfile -t -O "${#flaky[@]}" flaky < <(grep -E 'Oops|RIP:|Kernel panic' "$dir/$k.boot1.log" |
		head -n 3 | sed 's/^/  /')
}

# script_block LOG SCRIPT: SCRIPT's part of a VM log: its checks (nested)
# and its own result line.
script_block() {
	awk -v s="$2" '
	$0 == "# selftests: " s || index($0, "# selftests: " s " (") == 1 { on = 1; next }
	on { print }
	on && (($1 == "ok" && $3 == s) || ($1 == "not" && $4 == s)) { exit }' "$1"
}

# vm_retry KVER DIR: a second run, in a fresh VM, of the guest scripts
# that failed on KVER, when nothing else failed (the VM finished, its
# kernel log is clean, no script hung) and at most two scripts did: the netdev CI's
# practice with tests that can lose a race to a loaded host (two VMs of
# two vCPUs share two host CPUs here).  A script counts as its second run
# says (VM_ADJ: the change to the first run's counts); one that passes
# then is named as flaky at the end of the output with its first
# failures, one that fails again fails.  Returns 0 when every retried
# script passed.
vm_retry() {
	local k=$1 dir=$2 log="$2/$1.log" s only=() p1 f1 s1 p2 f2 s2 rc
	local -a bad

	grep -q '^IPSECMSS-VM-RESULT:' "$log" || return 1
	grep -qE '^ok [0-9]+ kernel-log' "$log" || return 1
	# A script that hung (its timeout) is not a lost race.
	grep -qE '^not ok [0-9]+ .*# TIMEOUT' "$log" && return 1
	mapfile -t bad < <(grep -E '^not ok [0-9]+ ' "$log" | awk '{ print $4 }')
	((${#bad[@]} >= 1 && ${#bad[@]} <= 2)) || return 1
	for s in "${bad[@]}"; do
		[[ $s == *.sh ]] || return 1
		only+=(--only "$s")
	done
	ktap_print_msg "vm-$k: ${bad[*]} failed; run again in a fresh VM ($(date -u +%T))"
	IPSECMSS_BUILD_TAG=$k-retry tests/vm-suite.sh "$k" tests/net "${only[@]}" \
		>"$dir/$k.retry.log" 2>&1
	rc=$?
	cp "$dir/$k.retry.log" "$build/logs/vm-$k.retry.log"
	sed 's/^/    /' "$dir/$k.retry.log"
	for s in "${bad[@]}"; do
		read -r p1 f1 s1 < <(ktap_count <(script_block "$log" "$s"))
		read -r p2 f2 s2 < <(ktap_count <(script_block "$dir/$k.retry.log" "$s"))
		if ((p2 + s2 == 0 && f2 == 0)); then
			f2=1	# the second run printed nothing for it
		fi
		VM_ADJ=($((VM_ADJ[0] + p2 - p1)) $((VM_ADJ[1] + f2 - f1)) $((VM_ADJ[2] + s2 - s1)))
		if ((f2 == 0)); then
			flaky+=("vm-$k: $s failed, then passed in a fresh VM; its first failures:")
			mapfile -t -O "${#flaky[@]}" flaky < <(script_block "$log" "$s" |
				grep -E '^ *not ok ' | sed -E 's/^ */  /' | head -n 10)
		fi
	done
	((rc == 0))
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
# and on the newest one (trixie-backports'); 6.12 runs the functional,
# two-site, every auto and the hostile-input tests; 5.10 the same but for
# auto_held and auto_transforms.  On 5.10 the on-demand scenario leaves a
# device reference behind in the kernel, with or without an IPSECMSS rule
# (unregister_netdevice waits for ever and the tests after it hang); and
# 5.10 puts AH packets of several segments on the WAN (8152 bytes on a
# 1454 link), so the transforms test's AH case cannot hold there.
kernel_tests() {
	local t host dist

	host=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null |
		grep -oE 'linux-image-[^ ,]+')
	[[ $host == "linux-image-$1" ]] && return
	dist=$(tests/kernels/kernel.sh dist "$1" 2>/dev/null)
	[[ $dist == trixie-backports ]] && return
	for t in tests/net/ipsecmss_basic.sh tests/net/selftest_csum.sh \
		tests/net/twosite_*.sh tests/net/auto_*.sh \
		tests/net/hostile_corpus.sh; do
		[[ -x $t ]] || continue
		if [[ $dist == bullseye ]]; then
			case $t in
			*/auto_held.sh|*/auto_transforms.sh)
				continue ;;
			esac
		fi
		echo "${t#tests/net/}"
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
	pkg-kernels)
		run_suite pkg-kernels tests/kernels/test_pkg.sh ;;
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
		# shellcheck disable=SC2086	# one word per kernel
		vm_suites $kernels ;;
	*)
		echo "unknown suite $suite" >&2
		exit 2 ;;
	esac
done

echo "1..$KTAP_TESTNO"
ktap_print_msg "summary"
printf '%s\n' "${summary[@]}" | ktap_print_lines
if ((${#flaky[@]})); then
	ktap_print_msg "flaky (failed once, passed when run again)"
	printf '%s\n' "${flaky[@]}" | ktap_print_lines
fi
if ((${#failures[@]})); then
	ktap_print_msg "failed"
	printf '%s\n' "${failures[@]}" | ktap_print_lines
fi
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
((total_fail == 0))
