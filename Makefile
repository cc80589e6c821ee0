# SPDX-License-Identifier: GPL-2.0
#
# ipsecmss: a thin convenience wrapper.  The kernel module is built by
# kbuild from ./Kbuild (so DKMS's plain `make -C $KDIR M=...` works too);
# the iptables extension, the CLI and the test tools are plain userspace.

VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || cat VERSION 2>/dev/null || echo 0.1.0)

# The running kernel's build dir if present, else the newest installed
# Debian headers.
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
MODDIR ?= /lib/modules/$(KVER)/updates

CORE := kernel/ipsecmss_core.c kernel/ipsecmss_core.h
EXT := userspace/libxt_IPSECMSS.so
TOOLS := tests/tools/ipsecmss-probe

.PHONY: all module extension tools deps check check-run fuzz install uninstall \
	clean sparse

all: module extension

module:
	@test -n "$(KDIR)" || { echo "No kernel headers found: install linux-headers-amd64 or set KDIR" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) IPSECMSS_VERSION=$(VERSION) modules

extension: $(EXT)

$(EXT): userspace/libxt_IPSECMSS.c kernel/xt_IPSECMSS.h $(CORE)
	$(CC) $(CFLAGS) $(WARN) -fPIC -shared -Ikernel $(XT_CFLAGS) \
		-DIPSECMSS_VERSION='"$(VERSION)"' \
		-o $@ userspace/libxt_IPSECMSS.c kernel/ipsecmss_core.c $(XT_LIBS)

tools: $(TOOLS)

tests/tools/ipsecmss-probe: tests/tools/ipsecmss-probe.c
	$(CC) $(CFLAGS) $(WARN) -o $@ $<

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

install: all
	install -D -m 0644 xt_IPSECMSS.ko $(DESTDIR)$(MODDIR)/xt_IPSECMSS.ko
	install -D -m 0644 $(EXT) $(DESTDIR)$(XTLIBDIR)/libxt_IPSECMSS.so
	$(if $(DESTDIR),,depmod -a $(KVER))

uninstall:
	rm -f $(DESTDIR)$(MODDIR)/xt_IPSECMSS.ko $(DESTDIR)$(XTLIBDIR)/libxt_IPSECMSS.so
	$(if $(DESTDIR),,depmod -a $(KVER))

clean:
	-$(if $(KDIR),$(MAKE) -C $(KDIR) M=$(CURDIR) clean)
	rm -rf build $(EXT) $(TOOLS)
