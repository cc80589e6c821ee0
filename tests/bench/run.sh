#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: what IPSECMSS costs, side by side with TCPMSS, in one run.
#
#   tests/bench/run.sh [KVER...]        (default: $BENCH_KVERS or 6.1.0-56-amd64)
#
# 1. The core micro-benchmark (tests/bench/micro.c): instructions per SYN
#    under callgrind for the Linux, Windows and macOS SYN layouts.
# 2. In the QEMU guest (tests/vm-suite.sh, one vCPU, -icount shift=0 so that
#    the guest clock counts instructions), tests/bench/guest/*.sh:
#    bench_syn.sh      forwarded SYN rate and non-SYN rate per rule variant,
#                      every variant interleaved, BENCH_REPS repetitions, on
#                      a plain router, a single-tunnel gateway and a
#                      dual-stack gateway with 4 tunnels (policy-based and
#                      route-based), SYNs entering and leaving them;
#    bench_goodput.sh  goodput through the seed's ESP tunnel: auto vs 1344 vs
#                      no clamp with fragmentation;
#    bench_bulk.sh     bulk TCP through a router whose rule has no SYN match,
#                      with the default offloads and with TSO/GSO/GRO off.
# 3. tests/bench/report.awk prints the tables.
#
# Figures only: never a pass/fail on time.  The exit status is non-zero only
# when a measurement was not sound (drops, a rule that missed packets, a
# failed transfer) or the VM did not run.  Knobs (environment): BENCH_REPS
# (5), BENCH_SYNS (10000 packets per run), BENCH_ACKS (10000), BENCH_SUITE
# (null: the tunnel router's SA for the SYN runs), BENCH_XFER (1000000
# bytes), BENCH_WAN_RATE (10mbit), BENCH_PROFILE (1), BENCH_PROF_N (1000),
# BENCH_BULK (8000000 bytes per bulk transfer), BENCH_MT_PATHS (the
# 4-tunnel gateway's paths, default all eight: m4i m4o m6i m6o mxi mxo mvi
# mvo; empty: none), BENCH_PROF_MT (those whose auto the profile breaks
# down into the xfrm lookup's parts: m4i m4o mxi), BENCH_GUEST (the guest scripts to run, default
# "bench_syn bench_goodput bench_bulk"), BENCH_VM_TIMEOUT (7200 s of wall
# time per guest: the machine may be busy; the guest's own clock counts
# instructions and is not what times out).
# The raw lines stay in build/bench/vm-KVER.log (BENCH_OUT: another directory,
# for runs side by side).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1

OUT=${BENCH_OUT:-$top/build/bench}
mkdir -p "$OUT"
if (($#)); then
	KVERS=("$@")
else
	read -r -a KVERS <<<"${BENCH_KVERS:-6.1.0-56-amd64}"
fi

die() { echo "bench: $*" >&2; exit 1; }
[[ -x tests/tools/ipsecmss-probe && -f userspace/libxt_IPSECMSS.so ]] ||
	die "build first: make all tools"
command -v valgrind >/dev/null || die "valgrind not found: apt-get install valgrind"
command -v trafgen >/dev/null ||
	die "trafgen not found (the guest takes it from the host): apt-get install netsniff-ng"

echo "== Machine =="
echo "host: $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)," \
	"kernel $(uname -r)"
echo "$(qemu-system-x86_64 --version | head -n1); guest: -accel tcg -cpu max -smp 1 -icount shift=0"
echo "$(valgrind --version), $(${CC:-cc} --version | head -n1)"

# ------------------------------------------------------------ micro --
MICRO_RES=$OUT/micro.txt
# noinline as the kernel's compiler headers define it, so the core is laid
# out as in the module.
${CC:-cc} -O2 -g -Wall -Wextra -Ikernel '-Dnoinline=__attribute__((__noinline__))' \
	-o "$OUT/micro" tests/bench/micro.c \
	kernel/ipsecmss_core.c || die "cannot build the micro-benchmark"
"$OUT/micro" > "$OUT/micro-cases.txt" || { cat "$OUT/micro-cases.txt"; die "micro: a case is wrong"; }
: > "$MICRO_RES"
while read -r _ layout op fn hdr _; do
	fn=${fn#fn=}
	valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out" \
		--compress-strings=no --compress-pos=no "$OUT/micro" "$layout" "$op" 10000 \
		>/dev/null 2>&1 || die "callgrind failed on $layout $op"
	# Inclusive cost and calls of the measured function, from its callers'
	# "calls=" records.
	ir=$(awk -v fn="$fn" '
		/^cfn=/ { name = substr($0, 5); sub(/^\([0-9]+\) */, "", name); next }
		/^calls=/ { split($0, a, /[= ]/); c = a[2]; getline
			if (name == fn) { calls += c; incl += $2 } next }
		END { if (calls) printf "%.1f", incl / calls }' "$OUT/callgrind.out")
	echo "BENCH micro layout=$layout op=$op fn=$fn $hdr ir=$ir" >> "$MICRO_RES"
done < "$OUT/micro-cases.txt"
rm -f "$OUT/callgrind.out"

# ---------------------------------------------------------------- VM --
status=0
for kver in "${KVERS[@]}"; do
	stage=$OUT/guest-$kver
	rm -rf "$stage" && mkdir -p "$stage"
	for g in ${BENCH_GUEST:-bench_syn bench_goodput bench_bulk}; do
		cp "tests/bench/guest/$g.sh" "$stage/" || die "no guest script $g"
	done
	chmod +x "$stage"/*.sh
	install -m 0644 tests/net/lib_twosite.sh "$stage/lib_twosite.sh"
	{
		for v in BENCH_REPS BENCH_SYNS BENCH_ACKS BENCH_SUITE BENCH_XFER \
			 BENCH_WAN_RATE BENCH_PROFILE BENCH_PROF_N BENCH_BULK BENCH_MT_PATHS \
			 BENCH_PROF_MT; do
			[[ -n ${!v+x} ]] && printf '%s=%q\n' "$v" "${!v}"
		done
	} > "$stage/bench.conf"
	echo "timeout=900" > "$stage/settings"
	log=$OUT/vm-$kver.log
	echo
	echo "== Guest $kver: booting (raw lines in $log) =="
	# One vCPU (tests/vm/run.sh gives tests two, and one under -icount).
	IPSECMSS_VM_SMP=1 IPSECMSS_VM_LOG=$log IPSECMSS_BUILD_TAG=${IPSECMSS_BUILD_TAG:-bench} \
		tests/vm-suite.sh "$kver" "$stage" \
		--qemu-arg -icount --qemu-arg shift=0 --timeout "${BENCH_VM_TIMEOUT:-7200}" \
		>"$OUT/run-$kver.out" 2>&1
	rc=$?
	grep -a -h -E '^(FAIL|SKIP):|^not ok|^IPSECMSS-VM-RESULT|^run.sh: error' \
		"$log" "$OUT/run-$kver.out" 2>/dev/null | sort -u
	((rc == 0)) || status=1
	awk -f tests/bench/report.awk "$log" "$MICRO_RES"
	MICRO_RES=/dev/null	# once is enough
done
exit $status
