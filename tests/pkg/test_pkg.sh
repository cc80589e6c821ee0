#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host tests of the installing parts of the Makefile, kselftest style, in
# KTAP (tests/lib/ktap.sh): a result per check, a skipped one for a part
# that cannot run here, the dkms part's checks nested under its own result
# (they run in a child process); exit 0 when nothing failed, else 1.
#
#   install  make install / make uninstall with DESTDIR and KVER, for every
#            kernel that has headers: exactly the expected files and modes,
#            no depmod; the module's version and vermagic, the version in
#            the extension (ELF note) and in `ipsecmss --version`; man pages
#            without groff warnings; uninstall leaves no file behind.
#   dkms     make dkms-install / make dkms-uninstall for real, but in a
#            private mount namespace where /usr/src, /var/lib/dkms and
#            /lib/modules are overlays whose writes land in a scratch
#            directory, so the host never changes: dkms status and modinfo
#            for every kernel, the sources in /usr/src, and after the
#            uninstall the three trees exactly as before.  Needs root.
#   deb      make deb: both packages, their files, fields and maintainer
#            scripts, lintian without errors or warnings, the CLI's version,
#            and the DKMS source identical to what dkms-install built.
#
#   tests/pkg/test_pkg.sh [install] [dkms] [deb]      (default: all three)
#
# Everything runs on a copy of the sources (git ls-files), given the work
# tree's version, so the work tree and its build products are not touched.

# The parts and helpers are called through check and "part_$p".
# shellcheck disable=SC2317
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)

# shellcheck source=../lib/ktap.sh
. "$TOP/tests/lib/ktap.sh"
pass() { ktap_test_pass "$*"; }
fail() { ktap_test_fail "$*"; }
skip() { ktap_test_skip "$*"; }
finish() { ktap_finished; }

# check DESC CMD...: ok if CMD succeeds, else not ok with its output.
check() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		pass "$desc"
	else
		fail "$desc"
		[[ -n $out ]] && printf '%s\n' "$out" | tail -n 20 | sed 's/^/#   /'
	fi
}

# same DESC WANT GOT: ok if the two (multi-line) strings are equal.
same() {
	if [[ $2 == "$3" ]]; then
		pass "$1"
	else
		fail "$1"
		diff <(echo "$2") <(echo "$3") | sed 's/^/#   /'
	fi
}

# mk LOG ARGS...: make in the copy, output to LOG (shown if it fails).
mk() {
	local log=$1
	shift
	make -C "$SRC" --no-print-directory VERSION="$V" "$@" >"$log" 2>&1 && return
	tail -n 30 "$log" >&2
	return 1
}

# The warnings lintian reports for a man page (it ignores line adjusting).
man_warnings() {
	LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$1" 2>&1 >/dev/null |
		grep -vE "cannot adjust line|can't break line"
}

# ------------------------------------------------------------- setup --

if [[ ${1-} == --sandbox ]]; then
	: # the dkms part re-runs this script in its namespace: see sandbox_main
elif [[ -n ${IPSECMSS_VM-} ]]; then
	ktap_print_header
	ktap_skip_all "host test, not for the VM"
fi

XTLIBDIR=$(pkg-config --variable=xtlibdir xtables 2>/dev/null || echo /usr/lib/x86_64-linux-gnu/xtables)
KVERS=()
for mk_file in /lib/modules/*/build/Makefile; do
	[[ -e $mk_file ]] || continue
	k=${mk_file#/lib/modules/}
	KVERS+=("${k%/build/Makefile}")
done

# The module's source files that dkms-install copies and the -dkms package
# ships: module_sources DIR lists those of the source copy DIR,
# installed_sources DIR every file in an installed tree.
module_sources() { (cd "$1" && printf '%s\n' Kbuild dkms.conf kernel/*.[ch] | LC_ALL=C sort); }
installed_sources() { (cd "$1" && find . -type f -printf '%P\n' | LC_ALL=C sort); }

# lacks REGEX TEXT: TEXT has no line matching REGEX.
lacks() { ! grep -E "$1" <<<"$2"; }
# vermagic_is KVER KO: the module was built for KVER.
vermagic_is() { [[ $(modinfo -F vermagic "$2") == "$1 "* ]]; }

# ------------------------------------------------------------ install --

part_install() {
	local root=$T/root k out want got f

	echo "# ---- make install / make uninstall DESTDIR=... KVER=..."
	if ((${#KVERS[@]} == 0)); then
		skip "no kernel headers (/lib/modules/*/build): install not tested"
		return
	fi
	for k in "${KVERS[@]}"; do
		check "make install DESTDIR KVER=$k" mk "$T/install-$k.log" install DESTDIR="$root" KVER="$k"
		check "KVER=$k: the module is built for $k" \
			vermagic_is "$k" "$root/lib/modules/$k/updates/xt_IPSECMSS.ko"
		same "KVER=$k: modinfo -F version is the make version" "$V" \
			"$(modinfo -F version "$root/lib/modules/$k/updates/xt_IPSECMSS.ko" 2>&1)"
	done
	want=$(
		for k in "${KVERS[@]}"; do echo "644 lib/modules/$k/updates/xt_IPSECMSS.ko"; done
		echo "644 ${XTLIBDIR#/}/libxt_IPSECMSS.so"
		echo "755 usr/sbin/ipsecmss"
		echo "644 usr/share/man/man8/ipsecmss.8"
		echo "644 usr/share/man/man8/libxt_IPSECMSS.8"
	)
	got=$(cd "$root" && find . -type f -printf '%m %P\n' | LC_ALL=C sort -k2)
	same "make install lays out exactly the expected files and modes" \
		"$(LC_ALL=C sort -k2 <<<"$want")" "$got"
	check "no depmod with DESTDIR (no modules.dep in DESTDIR)" \
		test -z "$(find "$root" -name 'modules.dep*')"
	check "the extension carries the version (ELF note, strings)" \
		grep -aq "\"version\":\"$V\"" "$root$XTLIBDIR/libxt_IPSECMSS.so"
	same "ipsecmss --version" "ipsecmss $V" "$("$root/usr/sbin/ipsecmss" --version 2>&1)"
	for f in ipsecmss.8 libxt_IPSECMSS.8; do
		out=$(man_warnings "$root/usr/share/man/man8/$f")
		same "man page $f renders without warnings" "" "$out"
	done
	check "libxt_IPSECMSS(8) has a NAME line" grep -qxF \
		'libxt_IPSECMSS \- the IPSECMSS target of iptables and ip6tables' \
		"$root/usr/share/man/man8/libxt_IPSECMSS.8"

	for k in "${KVERS[@]}"; do
		check "make uninstall DESTDIR KVER=$k" mk "$T/uninstall-$k.log" uninstall DESTDIR="$root" KVER="$k"
	done
	same "make uninstall leaves no file in DESTDIR" "" "$(cd "$root" && find . -type f)"
}

# --------------------------------------------------------------- dkms --

# In the namespace: the overlays, then the checks.
sandbox_main() {
	local k d n mod st
	mount --make-rprivate / || return 1
	for d in /usr/src /var/lib/dkms "$(readlink -f /lib/modules)"; do
		n=${d//\//_}
		mkdir -p "$T/ov/$n/upper" "$T/ov/$n/work" || return 1
		mount -t overlay overlay -o "lowerdir=$d,upperdir=$T/ov/$n/upper,workdir=$T/ov/$n/work" "$d" ||
			return 1
	done
	echo "# overlays on /usr/src, /var/lib/dkms and /lib/modules; writes go to $T/ov"

	# What the host has (dkms's own signing key, mok.*, may appear on the
	# first signed build: it is dkms's, shared by every DKMS module).
	snapshot() {
		find /usr/src -maxdepth 1
		find /var/lib/dkms ! -name 'mok.*'
		find /lib/modules/ -path '/lib/modules/*/kernel' -prune -o -print
		md5sum /lib/modules/*/modules.*
	}
	snapshot | LC_ALL=C sort >"$T/before"

	check "make dkms-install (all kernels: ${KVERS[*]})" mk "$T/dkms-install.log" dkms-install
	check "dkms used no deprecated setting" lacks '[Dd]eprecat' "$(<"$T/dkms-install.log")"
	for k in "${KVERS[@]}"; do
		st=$(dkms status ipsecmss/"$V" -k "$k" 2>/dev/null)
		echo "# dkms status: $st"
		check "dkms status: ipsecmss/$V installed for $k" \
			grep -q "^ipsecmss/$V, $k, [^:]*: installed" <<<"$st"
		mod=$(compgen -G "/lib/modules/$k/updates/dkms/xt_IPSECMSS.ko*" | head -n1)
		same "$k: modinfo -F version of the DKMS module is the make version" "$V" \
			"$(modinfo -F version "$mod" 2>&1)"
		same "$k: depmod resolves xt_IPSECMSS to the DKMS module" "$mod" \
			"$(modinfo -k "$k" -F filename xt_IPSECMSS 2>&1)"
	done
	d=/usr/src/ipsecmss-$V
	same "$d holds exactly Kbuild, dkms.conf and kernel/*.[ch]" \
		"$(module_sources "$SRC")" "$(installed_sources "$d")"
	check "$d/dkms.conf has PACKAGE_VERSION=\"$V\"" grep -qx "PACKAGE_VERSION=\"$V\"" "$d/dkms.conf"
	cp -a "$d" "$T/dkms-src"

	check "make dkms-uninstall" mk "$T/dkms-uninstall.log" dkms-uninstall
	same "dkms status shows no ipsecmss after dkms-uninstall" "" "$(dkms status ipsecmss 2>&1)"
	same "no trace in /usr/src, /var/lib/dkms, /lib/modules after dkms-uninstall" \
		"$(cat "$T/before")" "$(snapshot | LC_ALL=C sort)"
}

part_dkms() {
	local out rc

	echo "# ---- make dkms-install / make dkms-uninstall (throwaway overlays)"
	if ((EUID != 0)); then
		skip "dkms: needs root (mount namespace, overlayfs)"
		return
	elif ! command -v dkms >/dev/null; then
		skip "dkms: not installed (apt-get install dkms)"
		return
	elif ((${#KVERS[@]} == 0)); then
		skip "dkms: no kernel headers (/lib/modules/*/build)"
		return
	elif ! unshare -m true 2>/dev/null; then
		skip "dkms: cannot create a mount namespace here"
		return
	fi
	# The sandbox's checks: a KTAP document of their own, nested here.
	out=$(unshare -m bash "$0" --sandbox "$T" "$V" "$SRC" 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed 's/^/  /'
	if ((rc == 0)); then
		pass "dkms: dkms-install and dkms-uninstall in the sandbox"
	else
		fail "dkms: dkms-install and dkms-uninstall in the sandbox (status $rc)"
	fi
}

# ---------------------------------------------------------------- deb --

part_deb() {
	local dir=$SRC/build/deb arch ma deb ddeb x want got out c line

	echo "# ---- make deb"
	for c in dpkg-buildpackage dh lintian; do
		if ! command -v "$c" >/dev/null; then
			skip "deb: $c not installed (tests/deps.sh test)"
			return
		fi
	done
	arch=$(dpkg --print-architecture)
	ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
	check "make deb" mk "$T/deb.log" deb
	deb=$dir/ipsecmss_${V}_$arch.deb
	ddeb=$dir/ipsecmss-dkms_${V}_all.deb
	check "build/deb/ has ipsecmss_${V}_$arch.deb" test -f "$deb"
	check "build/deb/ has ipsecmss-dkms_${V}_all.deb" test -f "$ddeb"
	[[ -f $deb && -f $ddeb ]] || return

	got=$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print $6 }' | LC_ALL=C sort)
	want=$(printf '%s\n' ./usr/lib/"$ma"/xtables/libxt_IPSECMSS.so ./usr/sbin/ipsecmss \
		./usr/share/man/man8/ipsecmss.8.gz ./usr/share/man/man8/libxt_IPSECMSS.8.gz \
		./usr/share/doc/ipsecmss/README.md.gz ./usr/share/doc/ipsecmss/changelog.gz \
		./usr/share/doc/ipsecmss/copyright ./usr/share/lintian/overrides/ipsecmss | LC_ALL=C sort)
	same "dpkg-deb -c ipsecmss: extension, CLI, man pages, docs" "$want" "$got"
	got=$(dpkg-deb -c "$ddeb" | awk '$1 !~ /^d/ { print $6 }' | LC_ALL=C sort)
	want=$( (module_sources "$SRC" | sed "s|^|./usr/src/ipsecmss-$V/|"
		printf '%s\n' ./usr/share/doc/ipsecmss-dkms/changelog.gz ./usr/share/doc/ipsecmss-dkms/copyright) |
		LC_ALL=C sort)
	same "dpkg-deb -c ipsecmss-dkms: the module source under /usr/src" "$want" "$got"

	echo "# ipsecmss: Depends: $(dpkg-deb -f "$deb" Depends)"
	same "ipsecmss: Version, Architecture" "$V $arch" \
		"$(dpkg-deb -f "$deb" Version) $(dpkg-deb -f "$deb" Architecture)"
	check "ipsecmss: Depends: iptables and the libraries (shlibs)" \
		grep -qE '^iptables, .*libmnl0.*libxtables12' <<<"$(dpkg-deb -f "$deb" Depends)"
	same "ipsecmss-dkms: Version, Architecture" "$V all" \
		"$(dpkg-deb -f "$ddeb" Version) $(dpkg-deb -f "$ddeb" Architecture)"
	check "ipsecmss-dkms: Depends: dkms" grep -q '^dkms' <<<"$(dpkg-deb -f "$ddeb" Depends)"
	check "ipsecmss-dkms: postinst hands ipsecmss $V to DKMS" \
		grep -qx "DKMS_VERSION=$V" <<<"$(dpkg-deb -I "$ddeb" postinst)"
	# shellcheck disable=SC2016
	check "ipsecmss-dkms: prerm removes it from DKMS" \
		grep -qF 'dkms remove -m $DKMS_NAME -v $DKMS_VERSION --all' <<<"$(dpkg-deb -I "$ddeb" prerm)"

	x=$T/x
	mkdir -p "$x"
	dpkg-deb -x "$deb" "$x" && dpkg-deb -x "$ddeb" "$x"
	same "packaged ipsecmss --version" "ipsecmss $V" "$("$x/usr/sbin/ipsecmss" --version 2>&1)"
	check "packaged extension carries the version (dh_strip keeps the note)" \
		grep -aq "\"version\":\"$V\"" "$x/usr/lib/$ma/xtables/libxt_IPSECMSS.so"
	check "packaged dkms.conf has PACKAGE_VERSION=\"$V\"" \
		grep -qx "PACKAGE_VERSION=\"$V\"" "$x/usr/src/ipsecmss-$V/dkms.conf"
	if [[ -d $T/dkms-src ]]; then
		check "packaged module source = what make dkms-install built" \
			diff -r "$T/dkms-src" "$x/usr/src/ipsecmss-$V"
	fi

	# Every tag, info and overridden ones included, is shown.
	out=$(lintian -I --show-overrides --tag-display-limit 0 "$dir"/*.changes 2>&1 |
		grep -v 'running with root privileges')
	[[ -n $out ]] && while IFS= read -r line; do echo "# lintian: $line"; done <<<"$out"
	check "lintian: no error" lacks '^E: ' "$out"
	check "lintian: no warning" lacks '^W: ' "$out"
}

# --------------------------------------------------------------- main --

if [[ ${1-} == --sandbox ]]; then
	T=$2 V=$3 SRC=$4
	ktap_print_header
	sandbox_main || fail "dkms: the sandbox's overlays"
	finish
fi

ktap_print_header

T=$(mktemp -d /tmp/ipsecmss-pkg.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
SRC=$T/src

V=$(make -s --no-print-directory -C "$TOP" version 2>/dev/null)
echo "# version $V; kernels with headers: ${KVERS[*]:-none}; scratch $T"
check "the version is a Debian version without a '-' ('$V')" \
	bash -c "[[ -n '$V' && '$V' != *-* ]] && dpkg --validate-version '$V'"

# The sources: what git tracks plus new files it does not ignore.
mkdir -p "$SRC"
(cd "$TOP" && git ls-files -co --exclude-standard -z) |
	while IFS= read -r -d '' f; do
		[[ -f $TOP/$f ]] && printf '%s\0' "$f"
	done | (cd "$TOP" && xargs -0 cp --parents -t "$SRC")
check "a copy of the sources outside git has the fallback version 0.1.0" \
	test "$(make -s --no-print-directory -C "$SRC" version)" = 0.1.0

parts=${*:-install dkms deb}
for p in $parts; do
	case $p in
	install|dkms|deb) "part_$p" ;;
	*) fail "unknown part '$p' (install, dkms, deb)" ;;
	esac
done
finish
