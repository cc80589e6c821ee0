# SPDX-License-Identifier: GPL-2.0
#
# ipsecmss: a thin convenience wrapper.  The kernel module is built by
# kbuild from ./Kbuild (so DKMS's plain `make -C $KDIR M=...` works too);
# the iptables extension, the CLI and the test tools are plain userspace.

# One version everywhere (modinfo, dkms status, the .debs, ipsecmss
# --version, the extension's ELF note), from `git describe`: the tag without
# its "v", "-" made "+" then "." so that it is a Debian version too
# (v0.2.0-3-gabc1234-dirty -> 0.2.0+3.gabc1234.dirty); 0.1.0+gabc1234 before
# the first tag; 0.1.0 outside git.  `make VERSION=...` overrides it.
BASE_VERSION := 0.1.0
VERSION := $(shell v=$$(git describe --tags --always --dirty --match 'v[0-9]*' 2>/dev/null); \
	case $$v in (v*) ;; (?*) v=$(BASE_VERSION)-g$$v ;; (*) v=$(BASE_VERSION) ;; esac; \
	echo "$$v" | sed 's/^v//; s/-/+/; s/-/./g')
# Rebuild the userspace binaries when the version changes.
VERSION_STAMP := build/version
$(shell mkdir -p build && [ "$$(cat $(VERSION_STAMP) 2>/dev/null)" = "$(VERSION)" ] || \
	echo "$(VERSION)" > $(VERSION_STAMP))
# Marks an ELF file with the version: `readelf -n` or `strings` shows it.
# The linker option is binutils 2.39's (Debian 12); Debian 11's ld lacks it,
# so there the files go unmarked rather than unbuilt.
LD_PKG_NOTE := $(shell $(or $(CC),cc) -Xlinker '--package-metadata={}' -shared -o /dev/null -x c /dev/null 2>/dev/null && echo y)
ifeq ($(LD_PKG_NOTE),y)
PKG_NOTE := -Xlinker '--package-metadata={"name":"ipsecmss","version":"$(VERSION)"}'
endif

# The running kernel's build dir if present, else the newest installed
# Debian headers; KVER=... alone picks that kernel's.
ifdef KVER
KDIR ?= /lib/modules/$(KVER)/build
endif
KDIR ?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) \
	$(shell ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n 1))
KVER ?= $(if $(KDIR),$(shell $(MAKE) -s -C $(KDIR) kernelrelease 2>/dev/null))

CC ?= cc
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror=implicit-function-declaration
XT_CFLAGS := $(shell pkg-config --cflags xtables 2>/dev/null)
XT_LIBS := $(shell pkg-config --libs xtables 2>/dev/null)
XTLIBDIR ?= $(shell pkg-config --variable=xtlibdir xtables 2>/dev/null || echo /usr/lib/x86_64-linux-gnu/xtables)

DESTDIR ?=
PREFIX ?= /usr
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
MODDIR ?= /lib/modules/$(KVER)/updates

CORE := kernel/ipsecmss_core.c kernel/ipsecmss_core.h
EXT := userspace/libxt_IPSECMSS.so
CLI := userspace/ipsecmss
MAN := userspace/ipsecmss.8 build/man/libxt_IPSECMSS.8
TOOLS := tests/tools/ipsecmss-probe
MNL_CFLAGS := $(shell pkg-config --cflags libmnl 2>/dev/null)
MNL_LIBS := $(or $(shell pkg-config --libs libmnl 2>/dev/null),-lmnl)

.PHONY: all module extension tools deps check check-run fuzz install uninstall \
	clean sparse version demo cli man install-module install-userspace \
	uninstall-module uninstall-userspace dkms-install dkms-uninstall deb

all: module extension cli

module:
	@test -n "$(KDIR)" || { echo "No kernel headers found: install linux-headers-amd64 or set KDIR" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) IPSECMSS_VERSION=$(VERSION) modules

extension: $(EXT)

$(EXT): userspace/libxt_IPSECMSS.c kernel/xt_IPSECMSS.h $(CORE) $(VERSION_STAMP)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -fPIC -shared -Ikernel $(XT_CFLAGS) \
		-DIPSECMSS_VERSION='"$(VERSION)"' $(LDFLAGS) $(PKG_NOTE) \
		-o $@ userspace/libxt_IPSECMSS.c kernel/ipsecmss_core.c $(XT_LIBS)

cli: $(CLI)

# The CLI: a dispatcher and a file per command, as wireguard-tools' wg.
CLI_SRC := $(wildcard userspace/cli/*.c)

$(CLI): $(CLI_SRC) $(wildcard userspace/cli/*.h) $(CORE) $(VERSION_STAMP)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -Ikernel $(MNL_CFLAGS) \
		-DIPSECMSS_VERSION='"$(VERSION)"' $(LDFLAGS) $(PKG_NOTE) \
		-o $@ $(CLI_SRC) kernel/ipsecmss_core.c $(MNL_LIBS)

# iptables builds iptables-extensions(8) from the libxt_*.man fragments; ours
# becomes a page of its own.
man: $(MAN)

build/man/libxt_IPSECMSS.8: userspace/libxt_IPSECMSS.man
	mkdir -p $(@D)
	{ printf '%s\n' '.TH LIBXT_IPSECMSS 8 "" ipsecmss "iptables extensions"' '.SH NAME' \
		'libxt_IPSECMSS \- the IPSECMSS target of iptables and ip6tables' '.SH DESCRIPTION'; \
	  cat $<; \
	  printf '%s\n' '.SH SEE ALSO' '.BR iptables (8),' '.BR iptables\-extensions (8),' '.BR ipsecmss (8)'; \
	} > $@

tools: $(TOOLS)

tests/tools/ipsecmss-probe: tests/tools/ipsecmss-probe.c
	$(CC) $(CFLAGS) $(WARN) -o $@ $<

version:
	@echo $(VERSION)

# A throwaway VM running the two-site scenario: before and after.
demo: deps
	$(MAKE) all tools
	tests/run-demo.sh

# Builds with W=1 and sparse, as a netfilter maintainer would.
sparse:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 C=2 modules

# Everything: unit tests, extension tests, a short fuzz run, and the VM
# suites on every installed test kernel.  Ends with "N passed, N failed".
check: deps
	$(MAKE) check-run

check-run: all tools
	tests/check.sh

# Installs the Debian packages that are missing (needs root).
deps:
	tests/deps.sh test

fuzz:
	tests/fuzz/run.sh $(or $(FUZZ_SECONDS),600)

# make install [KVER=...|KDIR=...] [DESTDIR=...] [PREFIX=/usr]; with DESTDIR
# (a staging tree) depmod is left to whoever installs that tree.
install: install-module install-userspace

install-module: module
	install -D -m 0644 xt_IPSECMSS.ko $(DESTDIR)$(MODDIR)/xt_IPSECMSS.ko
	$(if $(DESTDIR),,depmod -a $(KVER))

install-userspace: extension cli man
	install -D -m 0644 $(EXT) $(DESTDIR)$(XTLIBDIR)/libxt_IPSECMSS.so
	install -D -m 0755 $(CLI) $(DESTDIR)$(SBINDIR)/ipsecmss
	install -D -m 0644 -t $(DESTDIR)$(MANDIR)/man8 $(MAN)

uninstall: uninstall-module uninstall-userspace

uninstall-module:
	rm -f $(DESTDIR)$(MODDIR)/xt_IPSECMSS.ko
	$(if $(DESTDIR),,depmod -a $(KVER))

uninstall-userspace:
	rm -f $(DESTDIR)$(XTLIBDIR)/libxt_IPSECMSS.so $(DESTDIR)$(SBINDIR)/ipsecmss \
		$(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(MAN)))

# DKMS: the module's sources (Kbuild and kernel/ are all it needs) under
# /usr/src, built and installed for every kernel that has headers (dkms
# exits 77 for one that dkms.conf's BUILD_EXCLUSIVE_KERNEL leaves out).
DKMS_SRC := /usr/src/ipsecmss-$(VERSION)
DKMS_KVERS ?= $(patsubst /lib/modules/%/build/Makefile,%,$(wildcard /lib/modules/*/build/Makefile))

dkms-install: dkms-uninstall
	install -D -m 0644 -t $(DKMS_SRC) Kbuild
	install -D -m 0644 -t $(DKMS_SRC)/kernel kernel/*.[ch]
	sed 's/@VERSION@/$(VERSION)/' dkms.conf > $(DKMS_SRC)/dkms.conf
	dkms add ipsecmss/$(VERSION)
	for k in $(DKMS_KVERS); do \
		if dkms build ipsecmss/$(VERSION) -k $$k; then \
			dkms install ipsecmss/$(VERSION) -k $$k || exit; \
		else \
			test $$? = 77 || exit 1; \
		fi; \
	done

dkms-uninstall:
	if dkms status ipsecmss/$(VERSION) | grep -q .; then dkms remove ipsecmss/$(VERSION) --all; fi
	rm -rf $(DKMS_SRC)

# Debian packages ipsecmss-dkms and ipsecmss in build/deb/, built by
# dpkg-buildpackage from a copy of the sources with userspace/debian/ as
# debian/, then checked by lintian.
DEB_TREE := build/deb/ipsecmss-$(VERSION)

deb:
	rm -rf build/deb
	mkdir -p $(DEB_TREE)/kernel $(DEB_TREE)/userspace
	cp Makefile Kbuild dkms.conf LICENSE README.md $(DEB_TREE)/
	cp kernel/*.[ch] $(DEB_TREE)/kernel/
	cp userspace/*.c userspace/*.man userspace/ipsecmss.8 $(DEB_TREE)/userspace/
	cp -r userspace/cli $(DEB_TREE)/userspace/
	cp -r userspace/debian $(DEB_TREE)/debian
	sed 's/@VERSION@/$(VERSION)/; s/@DATE@/$(shell git log -1 --format=%aD 2>/dev/null || date -R)/' \
		userspace/debian/changelog.in > $(DEB_TREE)/debian/changelog
	rm $(DEB_TREE)/debian/changelog.in
	cd $(DEB_TREE) && dpkg-buildpackage -b -us -uc
	lintian --fail-on error build/deb/*.changes

clean:
	-$(if $(KDIR),$(MAKE) -C $(KDIR) M=$(CURDIR) clean)
	rm -rf build $(EXT) $(CLI) $(TOOLS)

# Figures, never a pass/fail on time: SYN and non-SYN rates against TCPMSS,
# goodput through the ESP tunnel, the core's instructions per SYN.  About
# 10 minutes per kernel (BENCH_KVERS="6.1.0-56-amd64 6.12.117+deb12-amd64").
.PHONY: bench
bench: all tools
	tests/bench/run.sh
