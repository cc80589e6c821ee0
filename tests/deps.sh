#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian packages that building and testing ipsecmss need,
# only those missing, so it is quick when everything is there already.
#   tests/deps.sh [build|test]    (default: test, which includes build)
set -u

build_pkgs=(
	make gcc libc6-dev pkg-config git
	linux-headers-amd64			# the 6.1 headers: make builds against them
	libxtables-dev iptables libmnl-dev
	sparse
)
test_pkgs=(
	linux-image-amd64			# Debian 12's 6.1, booted in QEMU
	linux-headers-6.12-amd64		# the 6.12 backport with its image
	qemu-system-x86 busybox-static cpio kmod iproute2 xz-utils zstd
	socat tcpdump ppp pppoe netsniff-ng nftables ethtool
	valgrind				# make bench: the core micro-benchmark
	clang llvm libclang-rt-14-dev		# libFuzzer, ASan, UBSan
	dkms debhelper dh-dkms lintian fakeroot dpkg-dev
	linux-source-6.1			# checkpatch.pl for tests/style.sh
	mmdebstrap				# tests/kernels: Debian 11 and 13 chroots
	# IKE daemons for tests/net/ike_*.sh: strongSwan installed; libreswan
	# conflicts with strongswan-charon, so it is only unpacked (below),
	# with the libraries its pluto needs and certutil for its NSS database.
	strongswan-charon strongswan-swanctl libstrongswan-standard-plugins
	libcharon-extra-plugins libldns3 libevent-pthreads-2.1-7 libnss3-tools
)

pkgs=("${build_pkgs[@]}")
[[ ${1:-test} == test ]] && pkgs+=("${test_pkgs[@]}")

# libreswan's package unpacked (dpkg-deb -x: no maintainer script, no
# service) where tests/vm/run.sh looks for it; tests only.
LIBRESWAN_DIR=${IPSECMSS_LIBRESWAN:-/var/cache/ipsecmss/libreswan}
unpack_libreswan() {
	local tmp deb
	[[ ${1:-test} == test ]] || return 0
	[[ -x $LIBRESWAN_DIR/usr/libexec/ipsec/pluto ]] && return 0
	((EUID == 0)) || { echo "deps: run as root to unpack libreswan" >&2; return 1; }
	echo "deps: unpacking libreswan into $LIBRESWAN_DIR"
	tmp=$(mktemp -d) || return 1
	chmod 755 "$tmp"	# apt-get download runs as _apt
	(cd "$tmp" && apt-get download -q libreswan) &&
		for deb in "$tmp"/libreswan_*.deb; do
			mkdir -p "$LIBRESWAN_DIR" && dpkg-deb -x "$deb" "$LIBRESWAN_DIR"
		done
	local rc=$?
	rm -rf "$tmp"
	return $rc
}

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
((${#missing[@]} == 0)) && { unpack_libreswan "${1:-test}"; exit; }

echo "deps: installing ${missing[*]}"
if ((EUID != 0)); then
	echo "deps: run as root (or with sudo) to install them" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q || exit 1
apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}" &&
	unpack_libreswan "${1:-test}"
