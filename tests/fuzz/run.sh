#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the libFuzzer targets of the core and run each for SECONDS.
#
#   tests/fuzz/run.sh SECONDS      fuzz each target SECONDS seconds
#   tests/fuzz/run.sh 0            only replay the seed corpus
#
# Each target starts from a copy of tests/fuzz/corpus/<target>/ in a
# temporary directory (the repository corpus is never written), then the
# minimised crashers kept in tests/fuzz/regressions/<target>/ are replayed.
# Prints KTAP (tests/lib/ktap.sh): one result per target and per regression
# set, then the plan and the totals; exit 0 only if all passed.
# A crash found while fuzzing is copied to $BUILD/crashes/<target>/ with
# its log; minimise it with
#   $BUILD/<target> -minimize_crash=1 -runs=100000 -exact_artifact_path=OUT CRASH
# and keep OUT under tests/fuzz/regressions/<target>/.
#
# Environment: CLANG (default clang, else clang-14), FUZZ_BUILD (default
# build/fuzz at the top of the tree), FUZZ_FLAGS (extra libFuzzer flags).
set -u

secs=${1:-60}
if ! [[ $secs =~ ^[0-9]+$ ]]; then
	echo "usage: $0 SECONDS" >&2
	exit 2
fi

top=$(cd "$(dirname "$0")/../.." && pwd)
fuzzdir=$top/tests/fuzz
# shellcheck source=../lib/ktap.sh
. "$top/tests/lib/ktap.sh"
ktap_print_header
pass() { ktap_test_pass "$*"; }
fail() { ktap_test_fail "$*"; }
build=${FUZZ_BUILD:-$top/build/fuzz}
targets=(fuzz_walk fuzz_clamp fuzz_arith)

clang=${CLANG:-}
if [[ -z $clang ]]; then
	for c in clang clang-14; do
		command -v "$c" >/dev/null && { clang=$c; break; }
	done
fi
if [[ -z $clang ]]; then
	fail "no clang found (set CLANG)"
	ktap_finished
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ipsecmss-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

mkdir -p "$build"
for t in "${targets[@]}"; do
	if ! "$clang" -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -Wall -Wextra -Werror \
		-I "$top/kernel" "$fuzzdir/$t.c" "$top/kernel/ipsecmss_core.c" \
		-o "$build/$t" 2>"$work/$t.build.log"; then
		ktap_print_lines <"$work/$t.build.log"
		fail "$t (build)"
	fi
done

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

for t in "${targets[@]}"; do
	[[ -x $build/$t ]] || continue
	corpus=$work/corpus-$t
	mkdir -p "$corpus" "$work/art-$t"
	[[ -d $fuzzdir/corpus/$t ]] && cp -R "$fuzzdir/corpus/$t/." "$corpus/"
	if ((secs > 0)); then
		limit=(-max_total_time="$secs")
	else
		limit=(-runs=0)
	fi
	# shellcheck disable=SC2086 # FUZZ_FLAGS is a list of flags
	"$build/$t" "${limit[@]}" -print_final_stats=1 -timeout=10 \
		-rss_limit_mb=2048 -use_value_profile=1 \
		-artifact_prefix="$work/art-$t/" ${FUZZ_FLAGS:-} \
		"$corpus" >"$work/$t.log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
		"$work/$t.log" | tail -n 1)
	if ((rc == 0)); then
		pass "$t (${execs:-0} execs)"
	else
		mkdir -p "$build/crashes/$t"
		cp "$work/$t.log" "$build/crashes/$t/last.log"
		cp "$work/art-$t/"* "$build/crashes/$t/" 2>/dev/null
		grep -m 3 -E 'ERROR|PROPERTY VIOLATED|runtime error|SUMMARY' \
			"$work/$t.log" | ktap_print_lines "  "
		fail "$t (${execs:-?} execs, exit $rc; crash and log in" \
			"$build/crashes/$t/)"
	fi

	regs=()
	if [[ -d $fuzzdir/regressions/$t ]]; then
		while IFS= read -r -d '' f; do
			regs+=("$f")
		done < <(find "$fuzzdir/regressions/$t" -type f ! -name '.*' \
			! -name '*.md' -print0 | sort -z)
	fi
	if ((${#regs[@]})); then
		if "$build/$t" -runs=1 "${regs[@]}" >"$work/$t.reg.log" 2>&1; then
			pass "$t regressions (${#regs[@]} files)"
		else
			grep -m 3 -E 'Running:|ERROR|PROPERTY VIOLATED|runtime error' \
				"$work/$t.reg.log" | ktap_print_lines "  "
			fail "$t regressions (${#regs[@]} files)"
		fi
	fi
done

ktap_finished
