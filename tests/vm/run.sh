#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a Debian kernel in QEMU (TCG) with a busybox initramfs and run the
# ipsecmss guest tests in it, kselftest style.
#
#   tests/vm/run.sh --kver KVER --module PATH/xt_IPSECMSS.ko|none --xtlib DIR|none
#                   --tools DIR|none --tests DIR [--only NAME]... [--timeout SECONDS]
#                   [--test-timeout SECONDS] [--extra-module PATH.ko]...
#                   [--host-bin PATH]... [--mem MB] [--qemu-arg ARG]... [--append ARGS]
#                   [--kroot DIR]
#
# --kroot DIR boots DIR/boot/vmlinuz-KVER with the modules of
# DIR/lib/modules/KVER (a kernel .deb unpacked by tests/kernels/kernel.sh)
# instead of the host's /boot and /lib/modules.
#
# The initramfs base (busybox, host binaries with their libraries, kernel
# modules, depmod) is cached per kernel under tests/vm/.cache or
# $IPSECMSS_VM_CACHE; the module under test, the extension, the tools and the
# tests are added fresh on every run as a second cpio archive.
#
# Exit status 0 only when the guest printed IPSECMSS-VM-SUCCESS.  The last line
# of output is always "IPSECMSS-VM-RESULT: P passed, F failed, S skipped".

set -u
set -o pipefail

# The whole script is one { } block: bash parses it completely before
# running it, so editing this file cannot break a run in progress.
{

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${IPSECMSS_VM_CACHE:-$HERE/.cache}

KVER=
MODULE=
XTLIB=
TOOLS=
TESTS=
ONLY=()
TIMEOUT=900
TEST_TIMEOUT=300
TEST_TIMEOUT_SET=0
EXTRA_MODULES=()
HOST_BINS=()
MEM=1024
QEMU_ARGS=()
APPEND_EXTRA=
KROOT=

die() { echo "run.sh: error: $*" >&2; echo "IPSECMSS-VM-RESULT: 0 passed, 1 failed, 0 skipped"; exit 1; }
log() { echo "run.sh: $*" >&2; }

usage() {
	sed -n '4,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit "${1:-1}"
}

while (($#)); do
	case $1 in
	--kver)         KVER=${2-}; shift ;;
	--module)       MODULE=${2-}; shift ;;
	--xtlib)        XTLIB=${2-}; shift ;;
	--tools)        TOOLS=${2-}; shift ;;
	--tests)        TESTS=${2-}; shift ;;
	--only)         ONLY+=("${2-}"); shift ;;
	--timeout)      TIMEOUT=${2-}; shift ;;
	--test-timeout) TEST_TIMEOUT=${2-}; TEST_TIMEOUT_SET=1; shift ;;
	--extra-module) EXTRA_MODULES+=("${2-}"); shift ;;
	--host-bin)     HOST_BINS+=("${2-}"); shift ;;
	--mem)          MEM=${2-}; shift ;;
	--qemu-arg)     QEMU_ARGS+=("${2-}"); shift ;;
	--append)       APPEND_EXTRA=${2-}; shift ;;
	--kroot)        KROOT=${2-}; shift ;;
	-h|--help)      usage 0 ;;
	*)              log "unknown argument '$1'"; usage 1 ;;
	esac
	shift || usage 1
done

# ---------------------------------------------------------------- checks --
[[ -n $KVER ]] || die "--kver is required (e.g. 6.1.0-56-amd64)"
[[ -n $TESTS ]] || die "--tests DIR is required"
[[ $TIMEOUT =~ ^[0-9]+$ && $TEST_TIMEOUT =~ ^[0-9]+$ ]] || die "timeouts must be whole seconds"
(( EUID == 0 )) || log "warning: not root; /boot/vmlinuz-* is usually mode 0600"

VMLINUZ=$KROOT/boot/vmlinuz-$KVER
MODDIR=$KROOT/lib/modules/$KVER
[[ -z $KROOT || -d $KROOT ]] || die "no such directory: $KROOT"
[[ -e $VMLINUZ ]] || die "no kernel $VMLINUZ: install linux-image-$KVER (apt-get install linux-image-$KVER)"
[[ -r $VMLINUZ ]] || die "$VMLINUZ is not readable: run as root"
[[ -f $MODDIR/modules.dep ]] || die "no $MODDIR/modules.dep: the modules of linux-image-$KVER are not installed"

need() { command -v "$1" >/dev/null || die "'$1' not found: apt-get install $2"; }
need qemu-system-x86_64 qemu-system-x86
need busybox busybox-static
need cpio cpio
need depmod kmod
need xtables-legacy-multi iptables
need xtables-nft-multi iptables
need ip iproute2
need socat socat
need tcpdump tcpdump
need pppd ppp
need pppoe-server pppoe
need ldd libc-bin
need xz xz-utils

for d in "$XTLIB" "$TOOLS"; do
	[[ -z $d || $d == none || -d $d ]] || die "no such directory: $d"
done
[[ -d $TESTS ]] || die "no such tests directory: $TESTS"
check_ko() {
	local ko=$1 vm
	[[ -f $ko ]] || die "no such module: $ko"
	vm=$(modinfo -F vermagic "$ko" 2>/dev/null) || die "$ko is not a kernel module"
	[[ $vm == "$KVER "* ]] || die "$ko was built for '${vm%% *}', not $KVER"
}
[[ -z $MODULE || $MODULE == none ]] || check_ko "$MODULE"
for m in "${EXTRA_MODULES[@]}"; do check_ko "$m"; done

mkdir -p "$CACHE" || die "cannot create cache directory $CACHE"
CACHE=$(cd "$CACHE" && pwd)
CLEANUP=()
# shellcheck disable=SC2317  # (trap handlers)
cleanup() { ((${#CLEANUP[@]} == 0)) || rm -rf "${CLEANUP[@]}"; }
trap cleanup EXIT
# shellcheck disable=SC2317
interrupted() {
	log "interrupted"
	echo "IPSECMSS-VM-RESULT: 0 passed, 1 failed, 0 skipped"
	exit 130
}
trap interrupted INT TERM	# extended while QEMU runs

# ------------------------------------------------- what goes in the image --
# Host programs: path or name; missing required ones are fatal.
REQUIRED_BINS=(
	bash timeout ip ss tc bridge nstat lnstat
	xtables-legacy-multi xtables-nft-multi
	kmod socat tcpdump pppd pppoe-server pppoe
)
OPTIONAL_BINS=(nft trafgen mausezahn ethtool strace conntrack ping tracepath stdbuf setpriv)

# Kernel modules the tests need; a name may be a module or an alias.
REQUIRED_MODULES=(
	veth dummy bridge sch_netem
	x_tables ip_tables ip6_tables
	iptable_filter iptable_mangle iptable_raw iptable_nat
	ip6table_filter ip6table_mangle ip6table_raw ip6table_nat
	nf_tables nft_compat nft_chain_nat
	xt_tcpmss xt_TCPMSS xt_tcpudp xt_length xt_policy xt_LOG xt_conntrack
	xt_multiport xt_mark xt_comment xt_u32
	nf_conntrack nf_defrag_ipv4 nf_defrag_ipv6
	xfrm_user xfrm_algo esp4 esp6 xfrm4_tunnel xfrm6_tunnel tunnel4 tunnel6
	xfrm_interface ip_vti ip6_vti
	authenc authencesn cbc aes_generic des3_ede des_generic
	sha1_generic sha256_generic sha512_generic hmac gcm ghash_generic ctr
	seqiv echainiv chacha20poly1305 chacha_generic poly1305_generic
	drbg jitterentropy_rng crc32c_generic libcrc32c cryptomgr
	slhc ppp_generic pppox pppoe ppp_async
	ipv6
)
OPTIONAL_MODULES=(af_key aesni_intel ifb macvlan ipvlan tun xfrm_ipcomp udp_tunnel)
OPTIONAL_MODULES+=(vrf)	# (tests/net/auto_transforms.sh: a VRF-enslaved LAN)
# Whole directories of modules, so any match, target or qdisc can autoload.
MODULE_DIRS=(
	net/netfilter net/ipv4 net/ipv6 net/xfrm net/key net/sched net/bridge
	net/802 net/llc crypto arch/x86/crypto lib/crypto lib drivers/net/ppp
)

# ------------------------------------------------------------- helpers --
ROOT=
# copy_files FILE...: copy each file (symlinks followed) to its canonical
# place under $ROOT (/lib/x/libc.so.6 lands in usr/lib/x/).  Batched: forks
# are expensive on a loaded host.
declare -A CANON_DIR=()
copy_files() {
	local f d c k files
	local -A bydir=() seen=()
	for f; do
		d=${f%/*}
		d=${d:-/}
		[[ -n ${CANON_DIR[$d]+x} ]] || CANON_DIR[$d]=$(readlink -f "$d")
		c=${CANON_DIR[$d]}
		k=$c/${f##*/}
		[[ -n ${seen[$k]+x} || -e $ROOT$k ]] && continue
		seen[$k]=1
		bydir[$c]+=$f$'\n'
	done
	for c in "${!bydir[@]}"; do
		mapfile -t files <<<"${bydir[$c]%$'\n'}"
		mkdir -p "$ROOT$c" && cp -Lp "${files[@]}" "$ROOT$c/" || return 1
	done
}

# shared_libs FILE...: the libraries (and loader) the ELF files need.
shared_libs() {
	ldd "$@" 2>/dev/null |
		sed -n 's/.*=> \(\/[^ ]*\) (.*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p' | LC_ALL=C sort -u
}

# The module closure: prints "path" lines for modules to copy and
# "MISSING name" / "BUILTIN name" lines.  Reads modules.dep, modules.softdep,
# modules.alias, modules.builtin and the builtin aliases.
resolve_modules() { # WANTFILE
	local want=$1
	awk -v want="$want" '
	function norm(n) { sub(/.*\//, "", n); sub(/\.ko(\.(xz|gz|zst))?$/, "", n); gsub(/-/, "_", n); return n }
	FILENAME ~ /modules\.dep$/ {
		p = $1; sub(/:$/, "", p); n = norm(p); path[n] = p
		d = ""; for (i = 2; i <= NF; i++) d = d " " norm($i); deps[n] = d; next
	}
	FILENAME ~ /modules\.softdep$/ && $1 == "softdep" {
		n = norm($2); for (i = 3; i <= NF; i++) if ($i != "pre:" && $i != "post:") soft[n] = soft[n] " " $i; next
	}
	FILENAME ~ /modules\.alias$/ && $1 == "alias" { alias[$2] = alias[$2] " " norm($3); next }
	FILENAME ~ /modules\.builtin$/ { builtin[norm($1)] = 1; next }
	FILENAME ~ /builtin-aliases$/ {
		# name.alias=value
		split($0, a, "="); m = a[1]; sub(/\.alias$/, "", m); balias[a[2]] = balias[a[2]] " " norm(m); next
	}
	FILENAME == want { q[++nq] = $1; opt[$1] = $2; next }
	END {
		for (i = 1; i <= nq; i++) {
			raw = q[i]; n = norm(raw)
			if (raw in seen) continue; seen[raw] = 1
			if (n in seen2) continue; seen2[n] = 1
			if (n in builtin) {
				print "BUILTIN " n
				m = split(soft[n], s, " "); for (j = 1; j <= m; j++) q[++nq] = s[j]
				continue
			}
			if (n in path) {
				print "PATH " path[n]
				m = split(deps[n], s, " "); for (j = 1; j <= m; j++) q[++nq] = s[j]
				m = split(soft[n], s, " "); for (j = 1; j <= m; j++) q[++nq] = s[j]
				continue
			}
			if ((raw in alias) || (raw in balias)) {
				m = split(alias[raw] " " balias[raw], s, " "); for (j = 1; j <= m; j++) q[++nq] = s[j]
				continue
			}
			if (opt[raw] != "optional") print "MISSING " raw
			else print "ABSENT " raw
		}
	}' "$MODDIR/modules.dep" "$MODDIR/modules.softdep" "$MODDIR/modules.alias" \
	   "$MODDIR/modules.builtin" "$2" "$want"
}

# ------------------------------------------------------------ the base --
# Everything that does not change from run to run, keyed by kernel and by
# the host files it is made of.
resolve_bins() {
	local b p
	for b in "${REQUIRED_BINS[@]}"; do
		p=$(command -v "$b") || die "required program '$b' not found on the host"
		echo "R $p"
	done
	for b in "${OPTIONAL_BINS[@]}" "${HOST_BINS[@]}"; do
		if p=$(command -v "$b"); then echo "O $p"; else echo "X $b"; fi
	done
}
BINS=$(resolve_bins) || die "a required host program is missing"

# ------------------------------------------- IKE daemons (optional) --
# For tests/net/ike_*.sh: strongSwan's charon and swanctl (Debian packages)
# and libreswan's pluto, copied when present on the host (tests/deps.sh
# installs them).  libreswan's package conflicts with strongswan-charon,
# so deps.sh unpacks it under $IKE_LIBRESWAN; its files land at their
# installed paths in the guest.  Only the charon plugins the tests load;
# NSS's softoken and OpenSSL's providers are dlopen()ed, and libgcc_s is
# needed by pthread_cancel: ldd lists none of them.  The tests write each
# daemon's configuration themselves and name it on the command line.
IKE_LIBRESWAN=${IPSECMSS_LIBRESWAN:-/var/cache/ipsecmss/libreswan}
IKE_SWAN_PLUGINS=(random nonce openssl kdf kernel-netlink socket-default vici)
ike_host_files() {
	local f n lib=/usr/lib/x86_64-linux-gnu
	{
		echo /usr/lib/ipsec/charon
		echo /usr/sbin/swanctl
		for n in "${IKE_SWAN_PLUGINS[@]}"; do
			echo "/usr/lib/ipsec/plugins/libstrongswan-$n.so"
		done
		echo "$lib/libgcc_s.so.1"
		echo /etc/ssl/openssl.cnf
		echo "$lib/ossl-modules/legacy.so"
		for n in pluto whack addconn _updown _updown.xfrm; do
			echo "$IKE_LIBRESWAN/usr/libexec/ipsec/$n"
		done
		echo "$IKE_LIBRESWAN/usr/sbin/ipsec"
		echo /usr/bin/certutil
		for n in softokn3 freeblpriv3 freebl3 nssdbm3; do
			echo "$lib/lib$n.so"
			echo "$lib/lib$n.chk"
		done
	} | while read -r f; do
		[[ -e $f ]] && echo "$f"
	done
}

# ike_copy: the files above and their libraries.
ike_copy() {
	local f host=() lsw=() libs=()
	while read -r f; do
		if [[ $f == "$IKE_LIBRESWAN"/* ]]; then lsw+=("$f"); else host+=("$f"); fi
	done < <(ike_host_files)
	((${#host[@]} + ${#lsw[@]})) || return 0
	((${#host[@]} == 0)) || copy_files "${host[@]}" || return 1
	for f in "${lsw[@]}"; do
		mkdir -p "$ROOT$(dirname "${f#"$IKE_LIBRESWAN"}")" &&
			cp -p "$f" "$ROOT${f#"$IKE_LIBRESWAN"}" || return 1
	done
	mapfile -t libs < <(shared_libs "${host[@]}" "${lsw[@]}")
	((${#libs[@]} == 0)) || copy_files "${libs[@]}" || return 1
	[[ -e /usr/lib/ssl/openssl.cnf ]] && mkdir -p "$ROOT/usr/lib/ssl" &&
		ln -sf /etc/ssl/openssl.cnf "$ROOT/usr/lib/ssl/openssl.cnf"
	log "IKE daemons: ${#host[@]} host files, ${#lsw[@]} libreswan files, ${#libs[@]} libraries"
}
# ---------------------------------------- end of the IKE daemons block --

cache_key() {
	local files
	{
		echo "$KVER"
		sha256sum "${BASH_SOURCE[0]}"
		echo "$BINS"
		mapfile -t files < <(awk '$2 ~ /^\// { print $2 }' <<<"$BINS")
		stat -L -c '%n %s %Y' "$MODDIR/modules.dep" "$MODDIR/modules.builtin" \
			"${files[@]}" "$(command -v busybox)" 2>/dev/null
		ls -l --time-style=+%s /usr/lib/x86_64-linux-gnu/xtables 2>/dev/null
		ike_host_files | xargs -r stat -L -c '%n %s %Y'	# (IKE daemons)
	} | sha256sum | cut -c1-16
}
KEY=$(cache_key)
BASE=$CACHE/base-$KVER-$KEY

build_base() {
	local tmp=$1 b s kind p d xtdir plugdir libs=()
	ROOT=$tmp/root
	mkdir -p "$ROOT"/{usr/bin,usr/sbin,usr/lib,usr/lib64,usr/local/bin,usr/local/sbin,etc,proc,sys,dev,tmp,run,root,var,tests}
	ln -s usr/bin "$ROOT/bin"
	ln -s usr/sbin "$ROOT/sbin"
	ln -s usr/lib "$ROOT/lib"
	ln -s usr/lib64 "$ROOT/lib64"
	ln -s /run "$ROOT/var/run"
	mkdir -p "$ROOT"/var/{lock,log,tmp} "$ROOT"/etc/ppp "$ROOT"/usr/local/lib/ipsecmss
	chmod 1777 "$ROOT/tmp" "$ROOT/var/tmp"

	# Host programs first, so they win over busybox applets; the stock
	# iptables extensions and the pppd plugins (pppd --version names their
	# directory) as whole directories; then every library they link.
	local progs=() elves=()
	while read -r kind p; do
		case $kind in
		R|O) progs+=("$p") ;;
		X) log "optional program '$p' not on the host, not in the image" ;;
		esac
	done <<<"$BINS"
	copy_files "${progs[@]}" || die "cannot copy host programs"
	xtdir=/usr/lib/x86_64-linux-gnu/xtables
	[[ -d $xtdir ]] || die "no $xtdir: apt-get install iptables"
	mkdir -p "$ROOT$xtdir" || die "cannot create $ROOT$xtdir"
	cp -a "$xtdir/." "$ROOT$xtdir/" || die "cannot copy $xtdir"
	elves=("${progs[@]}" "$xtdir"/*.so)
	plugdir=/usr/lib/pppd/$(pppd --version 2>&1 | awk '/version/ {print $3}')
	if [[ -d $plugdir ]]; then
		mkdir -p "$ROOT$plugdir" || die "cannot create $ROOT$plugdir"
		cp -a "$plugdir/." "$ROOT$plugdir/" || die "cannot copy $plugdir"
		elves+=("$plugdir"/*.so)
	else
		log "pppd plugin directory $plugdir not found"
	fi
	mapfile -t libs < <(shared_libs "${elves[@]}")
	copy_files "${libs[@]}" || die "cannot copy shared libraries"

	# modprobe & co. are kmod; iptables & co. are the two multi binaries.
	for b in modprobe insmod rmmod lsmod depmod modinfo; do
		ln -sf ../bin/kmod "$ROOT/usr/sbin/$b"
	done
	for b in iptables ip6tables; do
		for s in "" -save -restore; do
			ln -sf xtables-legacy-multi "$ROOT/usr/sbin/$b-legacy$s"
			ln -sf xtables-nft-multi "$ROOT/usr/sbin/$b-nft$s"
			ln -sf xtables-legacy-multi "$ROOT/usr/sbin/$b$s"
		done
	done
	for b in iptables-translate ip6tables-translate iptables-restore-translate \
		 ip6tables-restore-translate ebtables-nft ebtables-nft-save ebtables-nft-restore \
		 arptables-nft arptables-nft-save arptables-nft-restore xtables-monitor; do
		ln -sf xtables-nft-multi "$ROOT/usr/sbin/$b"
	done
	ln -sf xtables-legacy-multi "$ROOT/usr/sbin/iptables-xml"

	# Data files some programs read.
	for p in /etc/protocols /etc/services /etc/ethertypes /etc/iproute2 /usr/share/iproute2 \
		 /usr/lib/tc /etc/ppp/pppoe-server-options; do
		[[ -e $p ]] || continue
		mkdir -p "$ROOT$(dirname "$p")"
		cp -a "$p" "$ROOT$p"
	done
	: > "$ROOT/etc/ppp/options"
	cat > "$ROOT/etc/passwd" <<-'EOF'
	root:x:0:0:root:/root:/bin/bash
	tcpdump:x:101:101::/nonexistent:/usr/sbin/nologin
	nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
	EOF
	cat > "$ROOT/etc/group" <<-'EOF'
	root:x:0:
	tty:x:5:
	tcpdump:x:101:
	nogroup:x:65534:
	EOF
	printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\nprotocols: files\nservices: files\n' \
		> "$ROOT/etc/nsswitch.conf"
	printf '127.0.0.1 localhost\n::1 localhost ip6-localhost\n' > "$ROOT/etc/hosts"
	echo ipsecmss-vm > "$ROOT/etc/hostname"

	# Busybox; init makes the applet links (busybox --install -s) where no
	# real program took the name.
	cp -p "$(readlink -f "$(command -v busybox)")" "$ROOT/usr/bin/busybox" || die "cannot copy busybox"
	ln -s bash "$ROOT/usr/bin/sh"	# busybox sh would prefer its applets to PATH

	ike_copy || die "cannot copy the IKE daemons"
	log "  ... programs copied after $((SECONDS - t0)) s"
	# Kernel modules.
	local want=$tmp/want badd=$tmp/builtin-aliases kdst=$ROOT/usr/lib/modules/$KVER
	{
		printf '%s required\n' "${REQUIRED_MODULES[@]}"
		printf '%s optional\n' "${OPTIONAL_MODULES[@]}"
		for d in "${MODULE_DIRS[@]}"; do
			[[ -d $MODDIR/kernel/$d ]] || continue
			find "$MODDIR/kernel/$d" -name '*.ko*' -printf '%f optional\n'
		done
	} > "$want"
	if [[ -f $MODDIR/modules.builtin.modinfo ]]; then
		tr '\0' '\n' < "$MODDIR/modules.builtin.modinfo" | grep '\.alias=' > "$badd"
	else
		: > "$badd"
	fi
	resolve_modules "$want" "$badd" > "$tmp/resolved" || die "module resolution failed"
	# Stored uncompressed: kmod would first hand a compressed file to the
	# kernel ("Invalid ELF header magic" on the console), and xz is slow
	# under TCG.
	local mods=()
	mapfile -t mods < <(awk '$1 == "PATH" { print $2 }' "$tmp/resolved")
	mkdir -p "$kdst"
	(cd "$MODDIR" && cp --parents -p "${mods[@]}" "$kdst/") || die "cannot copy modules"
	if ! { find "$kdst" -name '*.ko.xz' -exec xz -d {} + &&
	       find "$kdst" -name '*.ko.gz' -exec gzip -d {} + &&
	       find "$kdst" -name '*.ko.zst' -exec zstd -qd --rm {} +; }; then
		die "cannot decompress the modules (apt-get install xz-utils zstd)"
	fi
	local n=${#mods[@]}
	while read -r kind p; do
		log "kernel $KVER has no module '$p' (neither built in nor modular): tests needing it will fail"
	done < <(grep '^MISSING ' "$tmp/resolved")
	log "$n modules copied; built in: $(awk '$1=="BUILTIN"{printf "%s ", $2}' "$tmp/resolved")"
	for p in modules.builtin modules.builtin.modinfo; do
		[[ -f $MODDIR/$p ]] && cp -p "$MODDIR/$p" "$kdst/$p"
	done
	sed -E 's/\.ko\.(xz|zst|gz)$/.ko/' "$MODDIR/modules.order" > "$kdst/modules.order"
	log "  ... modules copied after $((SECONDS - t0)) s"
	depmod -b "$ROOT" "$KVER" || die "depmod -b failed"

	(cd "$ROOT" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$tmp/base.cpio" \
		|| die "cpio failed"
}

if [[ ! -f $BASE/base.cpio ]]; then
	exec 9>"$CACHE/.lock-$KVER"
	flock 9
	if [[ ! -f $BASE/base.cpio ]]; then
		log "building initramfs base for $KVER in $BASE"
		t0=$SECONDS
		tmp=$(mktemp -d "$CACHE/.build-XXXXXX") || die "mktemp failed"
		CLEANUP+=("$tmp")
		build_base "$tmp"
		# Older bases of this kernel, unless a run used one lately.
		find "$CACHE" -maxdepth 1 -name "base-$KVER-*" -mmin +30 -exec rm -rf {} +
		mv "$tmp" "$BASE" || die "cannot move $tmp to $BASE"
		log "base built in $((SECONDS - t0)) s ($(du -sh "$BASE/base.cpio" | cut -f1))"
	fi
	exec 9>&-
fi

# ---------------------------------------------------------- per run --
touch "$BASE"	# in use: see the clean-up above
find "$CACHE" -maxdepth 1 \( -name '.run-*' -o -name '.build-*' \) -mmin +720 -exec rm -rf {} + 2>/dev/null
RUN=$(mktemp -d "$CACHE/.run-XXXXXX") || die "mktemp failed"
CLEANUP+=("$RUN")

OV=$RUN/overlay
mkdir -p "$OV/usr/local/bin" "$OV/tests" "$OV/etc" "$OV/usr/lib/x86_64-linux-gnu/xtables" \
	 "$OV/usr/local/lib/ipsecmss"
ROOT=$OV

install -m 0755 "$HERE/init.sh" "$OV/init"
install -m 0644 "$HERE/lib.sh" "$OV/usr/local/lib/ipsecmss/lib.sh"
install -m 0644 "$HERE/../lib/ktap.sh" "$OV/usr/local/lib/ipsecmss/ktap.sh"	# (KTAP)

# Tests: the directory as it is, symlinks followed; lib.sh next to them.
cp -rL "$TESTS/." "$OV/tests/" || die "cannot copy $TESTS"
[[ -e $OV/tests/lib.sh ]] || install -m 0644 "$HERE/lib.sh" "$OV/tests/lib.sh"

if [[ -n $TOOLS && $TOOLS != none ]]; then
	tools=()
	for p in "$TOOLS"/*; do
		[[ -f $p ]] && tools+=("$p")
	done
	if ((${#tools[@]})); then
		cp -L "${tools[@]}" "$OV/usr/local/bin/" || die "cannot copy the tools"
		# A compiled tool may need a library the base does not have.
		newlibs=()
		while read -r lib; do
			[[ -e $BASE/root$lib ]] || newlibs+=("$lib")
		done < <(shared_libs "${tools[@]}")
		((${#newlibs[@]} == 0)) || copy_files "${newlibs[@]}" || die "cannot copy libraries of the tools"
	fi
fi
if [[ -n $XTLIB && $XTLIB != none ]]; then
	n=0
	for p in "$XTLIB"/*.so; do
		[[ -f $p ]] || continue
		cp -L "$p" "$OV/usr/lib/x86_64-linux-gnu/xtables/"; n=$((n + 1))
	done
	((n)) || log "warning: no *.so in $XTLIB"
fi

# Modules under test go to updates/; depmod on a hard-linked copy of the
# base's module tree, then only the new index files go in the overlay.
KOS=()
[[ -z $MODULE || $MODULE == none ]] || KOS+=("$MODULE")
KOS+=("${EXTRA_MODULES[@]}")
if ((${#KOS[@]})); then
	ST=$RUN/depmod
	mkdir -p "$ST/lib/modules"
	cp -al "$BASE/root/usr/lib/modules/$KVER" "$ST/lib/modules/$KVER"
	for f in "$ST/lib/modules/$KVER"/modules.*; do cp --remove-destination "$BASE/root/usr/lib/modules/$KVER/${f##*/}" "$f"; done
	mkdir -p "$ST/lib/modules/$KVER/updates"
	for m in "${KOS[@]}"; do cp "$m" "$ST/lib/modules/$KVER/updates/"; done
	depmod -b "$ST" "$KVER" || die "depmod failed for the modules under test"
	mkdir -p "$OV/usr/lib/modules/$KVER"
	cp -a "$ST/lib/modules/$KVER/updates" "$ST/lib/modules/$KVER"/modules.* "$OV/usr/lib/modules/$KVER/"
fi

{
	printf 'KVER=%q\n' "$KVER"
	printf 'TEST_TIMEOUT=%q\n' "$TEST_TIMEOUT"
	printf 'TEST_TIMEOUT_SET=%q\n' "$TEST_TIMEOUT_SET"
	printf 'ONLY=%q\n' "${ONLY[*]}"
	printf 'MODULE_UNDER_TEST=%q\n' "$([[ -z $MODULE || $MODULE == none ]] || basename "$MODULE")"
} > "$OV/etc/ipsecmss-vm.conf"

# Overlay paths must not replace the base's symlinks (bin, lib, var/run):
# the kernel's unpacker would delete a symlink to make room for a directory.
(cd "$OV" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$RUN/overlay.cpio" \
	|| die "cpio failed"
cat "$BASE/base.cpio" "$RUN/overlay.cpio" > "$RUN/initrd.cpio"

# ---------------------------------------------------------------- boot --
LOG=${IPSECMSS_VM_LOG:-$CACHE/vm-$KVER.log}
mkdir -p "$(dirname "$LOG")"
APPEND="console=ttyS0 panic=-1 panic_on_warn=1 oops=panic quiet loglevel=4 log_buf_len=4M"
APPEND+=" mitigations=off random.trust_cpu=on cryptomgr.notests=1 $APPEND_EXTRA"

# Two vCPUs, so that per-CPU counters and RCU readers meet another CPU;
# one under -icount (tests/bench: deterministic time needs one vCPU).
SMP=${IPSECMSS_VM_SMP:-2}
[[ " ${QEMU_ARGS[*]} " == *" -icount "* ]] && SMP=1
QEMU=(qemu-system-x86_64 -accel tcg -cpu max -m "$MEM" -smp "$SMP" -nographic -no-reboot -nic none
      -kernel "$VMLINUZ" -initrd "$RUN/initrd.cpio" -append "$APPEND" "${QEMU_ARGS[@]}")
log "booting $KVER (timeout ${TIMEOUT}s), log in $LOG"
t0=$(date +%s.%N)
# QEMU runs in the background so that a signal to run.sh is handled at once
# (the trap stops QEMU through timeout, which passes the signal on); sed
# drops carriage returns and the BIOS's terminal resets.
mkfifo "$RUN/console"
sed -u -e 's/\r$//' -e 's/\x1b[c]//g' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' < "$RUN/console" | tee "$LOG" "$RUN/console.log" &
TEE_PID=$!
timeout -k 10 "$TIMEOUT" "${QEMU[@]}" < /dev/null > "$RUN/console" 2>&1 &
QEMU_PID=$!
trap 'kill -TERM $QEMU_PID 2>/dev/null; wait $QEMU_PID; wait $TEE_PID; interrupted' INT TERM
wait $QEMU_PID
qemu_rc=$?
wait $TEE_PID
trap - INT TERM
t1=$(date +%s.%N)
elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')

# The guest's KTAP results counted as tests/check.sh counts every suite
# (tests/lib/ktap.sh): the checks of every script, the kernel log check,
# and one failure for a run that did not end in IPSECMSS-VM-SUCCESS
# without any failed result (a timeout, a panic, a guest cut short).
. "$HERE/../lib/ktap.sh"
# (This run's own copy: $LOG is shared by the runs on the same kernel.)
clean=$(tr -d '\r\0' < "$RUN/console.log")
status=1
if grep -aqx 'IPSECMSS-VM-SUCCESS' <<<"$clean"; then
	status=0
fi
read -r pass fail skip < <(ktap_count <<<"$clean")
if ((status != 0)); then
	why="the guest reported failures"
	if ! grep -aq '^# Totals: ' <<<"$clean"; then
		why="no result from the guest"
		((qemu_rc == 124)) && why="VM timed out after ${TIMEOUT}s"
		grep -aq 'Kernel panic' <<<"$clean" && why="kernel panic"
	fi
	log "$why"
	((fail)) || fail=1
fi
result="IPSECMSS-VM-RESULT: $pass passed, $fail failed, $skip skipped"
log "VM ran ${elapsed}s, qemu exit $qemu_rc, log: $LOG"
echo "$result"
exit $status
}
