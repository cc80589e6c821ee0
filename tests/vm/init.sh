#!/usr/bin/busybox sh
# shellcheck shell=dash
# SPDX-License-Identifier: GPL-2.0
#
# /init of the ipsecmss test VM (busybox sh).  Runs /tests/*.sh kselftest
# style, scans the kernel log, prints the result markers and powers off.
#
# Output: one KTAP document (tests/lib/ktap.sh), one result per test script
# and one for the kernel log.  Each script's own KTAP document (its checks)
# is nested under its result line, indented by two spaces (KTAP_INDENT).
# The host (tests/vm/run.sh) counts the results with ktap_count; the last
# line here is IPSECMSS-VM-SUCCESS when nothing failed.
#
# Debian's static busybox runs its own applets before anything in PATH, so
# the real ip, modprobe and timeout are called by their full paths here.

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LC_ALL=C
umask 022

/usr/bin/busybox mount -t proc -o nosuid,nodev,noexec proc /proc
/usr/bin/busybox --install -s	# never replaces a real program
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t devtmpfs -o nosuid,mode=0755 devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts -o nosuid,noexec,gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /tmp
mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs /run
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /dev/shm
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mkdir -p /run/netns /run/lock /run/pppd /var/lock /var/log
exec </dev/console >/dev/console 2>&1

uptime_s() { cut -d' ' -f1 /proc/uptime; }
BOOT_DMESG_LINES=$(dmesg | wc -l)
T_INIT=$(uptime_s)

hostname ipsecmss-vm
/usr/sbin/ip link set lo up
KVER='' TEST_TIMEOUT=300 TEST_TIMEOUT_SET=0 ONLY='' MODULE_UNDER_TEST=''
. /etc/ipsecmss-vm.conf
export KVER IPSECMSS_VM=1 IPSECMSS_LIB=/tests/lib.sh
. /usr/local/lib/ipsecmss/ktap.sh

# Crypto for ESP (drbg's self-test needs sha512; ESP SAs fail without drbg),
# the xfrm stack, and ppp so /dev/ppp exists.  Built-in ones are no-ops.
PRELOAD="sha512_generic drbg jitterentropy_rng seqiv echainiv cbc hmac sha1_generic
	sha256_generic aes_generic authenc authencesn gcm ctr ghash_generic
	chacha20poly1305 xfrm_user xfrm_algo esp4 esp6 xfrm4_tunnel xfrm6_tunnel
	crc32c_generic libcrc32c slhc ppp_generic pppox pppoe ppp_async veth"
if ! /usr/sbin/modprobe -qa $PRELOAD 2>/dev/null; then
	for m in $PRELOAD; do
		/usr/sbin/modprobe -q "$m" 2>/dev/null || ktap_print_msg "preload: modprobe $m failed"
	done
fi
T_MODS=$(uptime_s)
ktap_print_msg "$(uname -r): init at ${T_INIT}s, modules preloaded at ${T_MODS}s, $(nproc) CPUs"

# The tests to run: executable /tests/*.sh, sorted, or those named by --only.
TESTS=
for t in /tests/*.sh; do	# (LC_ALL=C: sorted by byte)
	[ -f "$t" ] && [ -x "$t" ] || continue
	t=${t#/tests/}
	if [ -n "$ONLY" ]; then
		sel=0
		for o in $ONLY; do
			[ "$o" = "$t" ] || [ "$o.sh" = "$t" ] && sel=1
		done
		[ $sel = 1 ] || continue
	fi
	TESTS="$TESTS $t"
done
MISSING=
for o in $ONLY; do
	case " $TESTS " in *" $o "*|*" $o.sh "*) ;; *) MISSING="$MISSING $o" ;; esac
done

set -- $TESTS $MISSING
ktap_print_header
if [ -z "$TESTS$MISSING" ]; then
	ktap_set_plan 2
	ktap_test_fail "tests" "no executable /tests/*.sh: nothing tested"
else
	ktap_set_plan $(($# + 1))
fi
for t in $MISSING; do
	ktap_test_fail "$t" "no such executable test in /tests"
done
for t in $TESTS; do
	timeout_s=$TEST_TIMEOUT
	# kselftest's settings file (timeout=N), unless --test-timeout was given.
	if [ "$TEST_TIMEOUT_SET" = 0 ] && [ -f /tests/settings ]; then
		v=$(sed -n 's/^timeout=\([0-9]*\)$/\1/p' /tests/settings | tail -n1)
		[ -n "$v" ] && timeout_s=$v
	fi
	ktap_print_msg "selftests: $t (timeout ${timeout_s}s)"
	t0=$(uptime_s)
	(cd /tests && export KTAP_INDENT="  " &&
		exec /usr/bin/timeout -k 10 "$timeout_s" "./$t" </dev/null)
	rc=$?
	t1=$(uptime_s)
	dur=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	case $rc in
	0) ktap_test_pass "$t" "${dur}s" ;;
	4) ktap_test_skip "$t" "${dur}s" ;;
	124|137) ktap_test_fail "$t" "TIMEOUT ${timeout_s}s" ;;
	*) ktap_test_fail "$t" "exit=$rc ${dur}s" ;;
	esac
	# Whatever a test left behind must not disturb the next one.
	left=$(/usr/sbin/ip netns list 2>/dev/null | cut -d' ' -f1)
	if [ -n "$left" ]; then
		ktap_print_msg "$t left network namespaces behind:" $left
		for ns in $left; do
			pids=$(/usr/sbin/ip netns pids "$ns" 2>/dev/null)
			[ -n "$pids" ] && kill -9 $pids 2>/dev/null
			/usr/sbin/ip netns del "$ns" 2>/dev/null
		done
	fi
done

# The kernel log and taint: any WARN, BUG, oops or leak report fails the run.
# Out-of-tree (4096) and unsigned (8192) module taints are expected.
BAD='WARNING:|BUG:|Oops|KASAN|UBSAN|refcount_t|general protection|Call Trace'
hits=$( { dmesg | head -n "$BOOT_DMESG_LINES" | grep -E "$BAD";
	  dmesg | tail -n +"$((BOOT_DMESG_LINES + 1))" | grep -E "$BAD|leak"; } )
taint=$(cat /proc/sys/kernel/tainted)
badtaint=$((taint & ~(4096 | 8192)))
if [ -z "$hits" ] && [ "$badtaint" = 0 ]; then
	ktap_test_pass kernel-log "tainted=$taint"
else
	echo "$hits" | ktap_print_lines "dmesg: "
	ktap_test_fail kernel-log "tainted=$taint (unexpected bits $badtaint)"
fi
if [ -n "$MODULE_UNDER_TEST" ]; then
	if grep -q '^xt_IPSECMSS ' /proc/modules; then
		ktap_print_msg "xt_IPSECMSS is loaded at the end"
	else
		ktap_print_msg "xt_IPSECMSS is not loaded at the end"
	fi
fi

ktap_print_msg "total $(uptime_s)s"
ktap_print_totals
[ "$KTAP_CNT_FAIL" = 0 ] && echo "IPSECMSS-VM-SUCCESS"
sync
poweroff -f
