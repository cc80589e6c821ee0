#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Kernels of other Debian releases, built for and booted the way a user of
# that release gets them: a minimal chroot of the release (mmdebstrap) with
# its own gcc, make, dkms and the kernel's headers, and the kernel image
# and modules unpacked from their .debs for the VM (tests/vm/run.sh --kroot).
#
#   tests/kernels/kernel.sh kver DIST       the kernel DIST ships today
#   tests/kernels/kernel.sh prepare DIST    make (or reuse) its chroot and
#                                           unpacked image; prints the kver
#   tests/kernels/kernel.sh chroot KVER     the chroot of a prepared kernel
#   tests/kernels/kernel.sh kroot KVER      its unpacked image (boot/, lib/)
#   tests/kernels/kernel.sh build KVER DIR [make args...]
#                                           kbuild the module sources in DIR
#                                           (Kbuild, kernel/) in the chroot
#   tests/kernels/kernel.sh run KVER SRC CMD...
#                                           run CMD in a throwaway overlay of
#                                           the chroot, SRC mounted at /src
#
# DIST is one of: bullseye (Debian 11, its 5.10), trixie-backports (the
# newest kernel Debian builds: Debian 13's backport).  The kernel is never
# named here: it is the one the release's linux-image-amd64 depends on.
#
# Everything is cached outside the work tree, in $IPSECMSS_KCACHE (default
# /var/cache/ipsecmss), so a fresh clone on the same machine reuses it: a
# chroot is keyed by the kernel and the version of its headers package, so a
# new kernel upload makes a new chroot and the old one is removed.
#
# Never touches the host's apt configuration: release lists are read with a
# private apt state directory under the cache, packages come from the chroot.
set -u

KCACHE=${IPSECMSS_KCACHE:-/var/cache/ipsecmss}
MIRROR=${IPSECMSS_MIRROR:-http://deb.debian.org/debian}
SECMIRROR=${IPSECMSS_SECMIRROR:-http://deb.debian.org/debian-security}

die() { echo "kernel.sh: $*" >&2; exit 1; }
log() { echo "kernel.sh: $*" >&2; }

# dist_* DIST: the release's suites, the suite its kernel comes from, and
# the packages its chroot needs besides the headers.
dist_sources() {
	case $1 in
	bullseye)
		echo "deb $MIRROR bullseye main"
		echo "deb $MIRROR bullseye-updates main"
		echo "deb $SECMIRROR bullseye-security main" ;;
	trixie-backports)
		echo "deb $MIRROR trixie main"
		echo "deb $MIRROR trixie-updates main"
		echo "deb $SECMIRROR trixie-security main"
		echo "deb $MIRROR trixie-backports main" ;;
	*)
		die "unknown distribution '$1' (bullseye, trixie-backports)" ;;
	esac
}
dist_suite() { case $1 in trixie-backports) echo trixie ;; *) echo "$1" ;; esac; }
dist_target() { case $1 in trixie-backports) echo trixie-backports ;; *) echo "" ;; esac; }
# Debian 11's dkms carries dh_dkms itself; later releases split dh-dkms off.
dist_packages() {
	local p="gcc make libc6-dev kmod dkms build-essential dpkg-dev debhelper fakeroot pkg-config"
	p+=" libxtables-dev libmnl-dev lintian"
	case $1 in bullseye) echo "$p" ;; *) echo "$p dh-dkms" ;; esac
}

# Apt options for a private, per-release view of the archive: no host
# sources, preferences or status.  Release files of a release past its
# support (Debian 11) or of a frozen snapshot mirror may be older than their
# Valid-Until date; the packages are still verified against the signed
# Release file, only its expiry is not enforced (Acquire::Check-Valid-Until).
apt_opts() {
	local d=$KCACHE/apt-$1
	APT=(-o "Dir::Etc::sourcelist=$d/sources.list" -o "Dir::Etc::sourceparts=$d/empty"
	     -o "Dir::State=$d/state" -o "Dir::Cache=$d/cache"
	     -o "Dir::Etc::Preferences=$d/empty/none" -o "Dir::Etc::PreferencesParts=$d/empty"
	     -o "Dir::State::status=$d/empty/status" -o "APT::Architecture=amd64"
	     -o "Acquire::Check-Valid-Until=false" -o "Debug::NoLocking=true" -q)
}

# apt_update DIST: the release's package lists, at most an hour old.
apt_update() {
	local d=$KCACHE/apt-$1
	apt_opts "$1"
	mkdir -p "$d/empty" "$d/state/lists/partial" "$d/cache/archives/partial" || die "cannot create $d"
	: > "$d/empty/status"
	dist_sources "$1" > "$d/sources.list.new" || exit 1
	if cmp -s "$d/sources.list.new" "$d/sources.list" && [[ -n $(find "$d/stamp" -mmin -60 2>/dev/null) ]]; then
		return 0
	fi
	mv "$d/sources.list.new" "$d/sources.list"
	apt-get "${APT[@]}" update >"$d/update.log" 2>&1 || { cat "$d/update.log" >&2; die "apt-get update for $1 failed"; }
	touch "$d/stamp"
}

# pkg_field DIST PKG FIELD: a field of PKG's candidate in the release.
pkg_field() {
	local t
	t=$(dist_target "$1")
	apt-cache "${APT[@]}" ${t:+-o "APT::Default-Release=$t"} show "$2" 2>/dev/null |
		awk -v f="$3" -v want="$(candidate "$1" "$2")" '
			/^Version: / { v = $2 } $0 ~ "^" f ": " && v == want { sub("^" f ": ", ""); print; exit }
			/^$/ { v = "" }'
}
candidate() {
	local t
	t=$(dist_target "$1")
	apt-cache "${APT[@]}" ${t:+-o "APT::Default-Release=$t"} policy "$2" 2>/dev/null |
		awk '/Candidate:/ { print $2; exit }'
}

# discover DIST: the kernel DIST's linux-image-amd64 depends on today: the
# newest of the release's own series (bullseye-security also carries a 6.1
# for Debian 11, which is not the kernel Debian 11 installs).
discover() {
	local dep kver
	apt_update "$1"
	dep=$(pkg_field "$1" linux-image-amd64 Depends)
	kver=$(grep -oE 'linux-image-[0-9][^ ,]*-amd64' <<<"$dep" | head -n 1)
	kver=${kver#linux-image-}
	[[ -n $kver ]] || die "no linux-image-*-amd64 in $1's linux-image-amd64 ($dep)"
	echo "$kver"
}

# The chroot and image of a prepared kernel are found through this file.
index_file() { echo "$KCACHE/kernels/$1"; }

make_chroot() { # DIST KVER DIR
	local dist=$1 kver=$2 dir=$3 t0=$SECONDS tmp pkgs
	pkgs="$(dist_packages "$dist") linux-headers-$kver"
	tmp=$dir.tmp
	rm -rf "$tmp"
	log "building the $dist chroot for $kver in $dir (once; several minutes)"
	# The chroot's own apt keeps ignoring Valid-Until for the same reason.
	mmdebstrap --variant=apt --include="${pkgs// /,}" \
		--aptopt='Acquire::Check-Valid-Until "false"' \
		--aptopt='APT::Install-Recommends "false"' \
		--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
		"$(dist_suite "$dist")" "$tmp" "$(dist_sources "$dist")" \
		>"$tmp.log" 2>&1 || { tail -n 30 "$tmp.log" >&2; rm -rf "$tmp"; die "mmdebstrap $dist failed"; }
	mv "$tmp.log" "$tmp/mmdebstrap.log" && mv "$tmp" "$dir" || die "cannot move $tmp"
	log "$dist chroot built in $((SECONDS - t0)) s ($(du -sh "$dir" | cut -f1))"
}

# unpack_image DIST KVER DIR: the image, its modules and firmware-free
# companions (linux-image-X and whatever linux-*-X it depends on) unpacked
# from their .debs: DIR/boot/vmlinuz-KVER and DIR/lib/modules/KVER.
unpack_image() {
	local dist=$1 kver=$2 dir=$3 t0=$SECONDS tmp deb pkgs
	tmp=$dir.tmp
	rm -rf "$tmp" && mkdir -p "$tmp/debs" || die "cannot create $tmp"
	pkgs=$(pkg_field "$dist" "linux-image-$kver" Depends |
		grep -oE "linux-[a-z]+-$(sed 's/[.+]/\\&/g' <<<"$kver")\b" | sort -u)
	log "downloading linux-image-$kver $pkgs"
	(cd "$tmp/debs" && apt-get "${APT[@]}" -o APT::Sandbox::User=root download "linux-image-$kver" $pkgs >/dev/null) ||
		die "cannot download linux-image-$kver"
	for deb in "$tmp"/debs/*.deb; do
		dpkg-deb -x "$deb" "$tmp" || die "cannot unpack $deb"
	done
	rm -rf "$tmp/debs"
	# usrmerged packages (Debian 13) ship usr/lib/modules.
	[[ -d $tmp/usr/lib/modules/$kver && ! -e $tmp/lib/modules ]] &&
		mkdir -p "$tmp/lib" && mv "$tmp/usr/lib/modules" "$tmp/lib/modules"
	# Since Debian's 7.x packages the image is lib/modules/KVER/vmlinuz,
	# put in /boot by the package's maintainer script.
	[[ ! -f $tmp/boot/vmlinuz-$kver && -f $tmp/lib/modules/$kver/vmlinuz ]] &&
		mkdir -p "$tmp/boot" && ln "$tmp/lib/modules/$kver/vmlinuz" "$tmp/boot/vmlinuz-$kver"
	[[ -f $tmp/boot/vmlinuz-$kver ]] || die "linux-image-$kver has no boot/vmlinuz-$kver"
	[[ -d $tmp/lib/modules/$kver/kernel ]] || die "linux-image-$kver has no modules"
	depmod -b "$tmp" "$kver" || die "depmod for $kver failed"
	mv "$tmp" "$dir" || die "cannot move $tmp"
	log "image $kver unpacked in $((SECONDS - t0)) s ($(du -sh "$dir" | cut -f1))"
}

prepare() {
	local dist=$1 kver hver ch kr idx
	((EUID == 0)) || die "preparing a chroot needs root"
	command -v mmdebstrap >/dev/null || die "mmdebstrap not found: tests/deps.sh test"
	mkdir -p "$KCACHE/kernels" || die "cannot create $KCACHE"
	exec 8>"$KCACHE/.lock-$dist"
	flock 8
	kver=$(discover "$dist") || exit 1
	apt_opts "$dist"
	hver=$(candidate "$dist" "linux-headers-$kver")
	[[ -n $hver ]] || die "no linux-headers-$kver in $dist"
	# Keyed by the headers' version and the package list (a new upload or
	# a new package makes a new chroot).
	ch=$KCACHE/chroot-$dist-$kver-$hver-$(dist_packages "$dist" | sha256sum | cut -c1-8)
	kr=$KCACHE/kroot-$kver-$hver
	[[ -x $ch/usr/bin/make && -d $ch/usr/src/linux-headers-$kver ]] ||
		make_chroot "$dist" "$kver" "$ch"
	[[ -f $kr/boot/vmlinuz-$kver ]] || unpack_image "$dist" "$kver" "$kr"
	idx=$(index_file "$kver")
	printf 'DIST=%q\nCHROOT=%q\nKROOT=%q\n' "$dist" "$ch" "$kr" > "$idx.new" && mv "$idx.new" "$idx"
	# Older chroots and images of this release, unless in use in the last day.
	find "$KCACHE" -maxdepth 1 \( -name "chroot-$dist-*" -o -name "kroot-*" \) \
		! -name "${ch##*/}" ! -name "${kr##*/}" -mtime +1 -print0 |
		while IFS= read -r -d '' old; do
			grep -rqsF "$old" "$KCACHE/kernels" || rm -rf "$old"
		done
	touch "$ch" "$kr"
	echo "$kver"
}

load_index() {
	local idx
	idx=$(index_file "$1")
	[[ -f $idx ]] || die "kernel $1 is not prepared (tests/kernels/kernel.sh prepare DIST)"
	# shellcheck disable=SC1090
	. "$idx"
	[[ -d $CHROOT && -d $KROOT ]] || die "the cache of $1 is incomplete: prepare it again"
}

# run_in KVER SRC CMD...: CMD in the chroot, in a private mount namespace
# where the chroot is the lower layer of an overlay whose writes land in a
# tmpfs (dkms add, apt-get install: nothing of them stays in the cache),
# with /proc, /dev and SRC at /src (read-write: it is the caller's copy).
run_in() {
	local kver=$1 src=$2
	shift 2
	load_index "$kver"
	[[ -d $src ]] || die "no such directory: $src"
	unshare --mount --propagation private -- bash -c '
		ch=$1 src=$2; shift 2
		t=$(mktemp -d) && mount -t tmpfs tmpfs "$t" &&
		mkdir "$t/up" "$t/work" "$t/root" &&
		mount -t overlay overlay -o "lowerdir=$ch,upperdir=$t/up,workdir=$t/work" "$t/root" &&
		mount -t proc proc "$t/root/proc" && mount --rbind /dev "$t/root/dev" &&
		mkdir -p "$t/root/src" && mount --bind "$src" "$t/root/src" || exit 1
		chroot "$t/root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
			TERM=dumb "$@"
		rc=$?
		umount -R "$t/root"; umount "$t"; rmdir "$t"
		exit $rc
	' bash "$CHROOT" "$(cd "$src" && pwd)" "$@"
}

# build KVER DIR [make args]: the module from DIR's Kbuild and kernel/,
# compiled in the chroot against /usr/src/linux-headers-KVER; the .ko and
# the build log land in DIR.
build() {
	local kver=$1 dir=$2 rc
	shift 2
	load_index "$kver"
	[[ -f $dir/Kbuild && -d $dir/kernel ]] || die "$dir has no Kbuild and kernel/"
	unshare --mount --propagation private -- bash -c '
		ch=$1 dir=$2 kver=$3; shift 3
		# objtool reads /proc/self/limits.
		mount -t proc proc "$ch/proc" && mount -t tmpfs tmpfs "$ch/tmp" && mkdir "$ch/tmp/m" &&
		mount --bind "$dir" "$ch/tmp/m" || exit 1
		exec chroot "$ch" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
			make -C "/usr/src/linux-headers-$kver" M=/tmp/m "$@" modules
	' bash "$CHROOT" "$(cd "$dir" && pwd)" "$kver" "$@"
	rc=$?
	return $rc
}

cmd=${1:-}
shift
case $cmd in
kver)    discover "${1:?DIST}" ;;
prepare) prepare "${1:?DIST}" ;;
chroot)  load_index "${1:?KVER}" && echo "$CHROOT" ;;
kroot)   load_index "${1:?KVER}" && echo "$KROOT" ;;
dist)    load_index "${1:?KVER}" && echo "$DIST" ;;
build)   build "${1:?KVER}" "${2:?DIR}" "${@:3}" ;;
run)     run_in "${1:?KVER}" "${2:?SRC}" "${@:3}" ;;
*)       sed -n '4,19p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
