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
)

pkgs=("${build_pkgs[@]}")
[[ ${1:-test} == test ]] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

echo "deps: installing ${missing[*]}"
if ((EUID != 0)); then
	echo "deps: run as root (or with sudo) to install them" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q || exit 1
apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"
