#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write the seed corpus of the fuzz targets into tests/fuzz/corpus/.

    tests/fuzz/gen_corpus.py          # rewrites corpus/<target>/ from scratch

Deterministic: the same files every run, so the corpus can be committed and
regenerated.  The shapes are the ones of tests/unit/test_core.c (every
malformed one, every walk position, every clamp outcome) plus the SYNs and
SYN/ACKs real stacks send.  Input layouts are described at the top of each
fuzz_*.c.
"""
import os
import re
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")

NOP36 = "01" * 36


def unhex(s):
    return bytes.fromhex(re.sub(r"\s+", "", s))


def tcp(flags, opts="", doff=None, payload="", length=None, byte12_low=0):
    """A TCP segment: 50000 -> 443, window 64240, checksum 0."""
    o = unhex(opts)
    p = unhex(payload)
    if doff is None:
        assert len(o) % 4 == 0, opts
        doff = (20 + len(o)) // 4
    ack = 0x11223344 if flags & 0x10 else 0
    hdr = struct.pack(">HHIIBBHHH", 50000, 443, 0x8A1B2C3D, ack,
                      (doff & 15) << 4 | byte12_low, flags, 64240, 0, 0)
    seg = hdr + o + p
    return seg if length is None else seg[:length]


SYN, SYNACK = 0x02, 0x12

LINUX = "020405b4 0402 080a 9f3a1c2b 00000000 01 030307"
LINUX_SA = "020405b4 0402 080a 1a2b3c4d 9f3a1c2b 01 030307"
WINDOWS = "020405b4 01 030308 01 01 0402"
MACOS = "020405b4 01 030306 01 01 080a 4a3b2c1d 00000000 0402 00 00"
MACOS_SA = "020405b4 01 030306 01 01 080a 5a6b7c8d 4a3b2c1d 0402 00 00"

# (name, segment): realistic segments first, then every shape of the unit
# tests' option walk table.
SEGMENTS = [
    ("linux-syn", tcp(SYN, LINUX)),
    ("linux-synack", tcp(SYNACK, LINUX_SA)),
    ("linux-syn-mss9000", tcp(SYN, LINUX.replace("05b4", "2328", 1))),
    ("linux-syn-v6-mss1440", tcp(SYN, LINUX.replace("05b4", "05a0", 1))),
    ("windows-syn", tcp(SYN, WINDOWS)),
    ("windows-synack", tcp(SYNACK, WINDOWS)),
    ("macos-syn", tcp(SYN, MACOS)),
    ("macos-synack", tcp(SYNACK, MACOS_SA)),
    ("synack-mss-only", tcp(SYNACK, "020405b4")),
    ("synack-no-options", tcp(SYNACK)),
    ("syn-ecn", tcp(0xC2, WINDOWS)),
    ("syn-tfo-data", tcp(SYN, "020405b4 0402 fe06 f989 0000", payload="474554202f0d0a")),
    ("syn-no-mss-linux-rest", tcp(SYN, "0402 080a 9f3a1c2b 00000000 01 030307")),
    ("syn-no-mss-windows-rest", tcp(SYN, "01 030308 01 01 0402")),
    ("syn-no-options", tcp(SYN)),
    ("syn-56-bytes-no-mss", tcp(SYN, NOP36)),
    ("syn-reserved-bits", tcp(SYN, "0402 0101", byte12_low=0x0F)),
    ("ack-data", tcp(0x18, "0101080a 01020304 05060708",
                     payload="474554202f20485454502f312e310d0a")),
    ("ack-with-mss", tcp(0x10, "020405b4")),
    ("fin-ack", tcp(0x11, "0101080a 01020304 05060708")),
    ("rst", tcp(0x04)),
    ("rst-syn", tcp(0x06, "020405b4")),
    ("fin-syn", tcp(0x03, "020405b4")),
    # walk positions
    ("mss-odd-offset-21", tcp(SYN, "01 020405b4 000000")),
    ("mss-odd-offset-23", tcp(SYN, "010101 020405b4 01")),
    ("mss-after-wscale", tcp(SYN, "030307 020405b4 00")),
    ("mss-after-sack-ts", tcp(SYN, "0402 080a 01020304 05060708 020405b4")),
    ("mss-after-empty-option", tcp(SYN, "fe02 020405b4 0000")),
    ("mss-after-long-option", tcp(SYN, "fe0a 0102030405060708 020405b4 0000")),
    ("mss-last-of-60", tcp(SYN, NOP36 + "020405b4")),
    ("mss-last-of-60-payload", tcp(SYN, NOP36 + "020405b4", payload="48454c4c4f")),
    ("mss-ffff-odd", tcp(SYN, "01 0204ffff 000000")),
    ("mss-zero", tcp(SYN, "02040000")),
    ("second-mss-after-eol", tcp(SYN, "020405b4 00 020405b4 000000")),
    ("absent-40-nops", tcp(SYN, "01" * 40)),
    ("absent-mss-in-payload", tcp(SYN, "01010101", payload="020405b4")),
    ("eol-before-mss", tcp(SYN, "00 020405b4 000000")),
    ("eol-after-nop-before-mss", tcp(SYN, "01 00 020405b4 0000")),
    ("garbage-after-eol", tcp(SYN, "01 00 fe00 05ffffff")),
    ("bad-mss-after-eol", tcp(SYN, "00 0205 ff 02ff 0000")),
    # malformed
    ("bad-optlen-0", tcp(SYN, "fe00 020405b4 0000")),
    ("bad-optlen-0-after-mss", tcp(SYN, "020405b4 0800 0000")),
    ("bad-optlen-1", tcp(SYN, "fe01 020405b4 0000")),
    ("bad-optlen-1-after-mss", tcp(SYN, "020405b4 030101 00")),
    ("bad-lenbyte-past-header", tcp(SYN, "010101 fe")),
    ("bad-lenbyte-past-header-payload", tcp(SYN, "010101 fe", payload="02ffffff")),
    ("bad-mss-kind-last-byte", tcp(SYN, "010101 02", payload="0405b4")),
    ("bad-mss-kind-last-of-60", tcp(SYN, NOP36 + "010101 02")),
    ("bad-option-past-header", tcp(SYN, "01 fe0a 00000000 00")),
    ("bad-option-past-header-payload", tcp(SYN, "0101 fe06", payload="0000000000000000")),
    ("bad-mss-past-header-payload", tcp(SYN, "0101 0204", payload="05b4")),
    ("bad-mss-past-60", tcp(SYN, NOP36 + "0101 0204", payload="05b4")),
    ("bad-optlen-255", tcp(SYN, "fe ff 00 00")),
    ("bad-mss-len-2", tcp(SYN, "0202 01 01")),
    ("bad-mss-len-3", tcp(SYN, "020305 01")),
    ("bad-mss-len-5", tcp(SYN, "020505b4 00 000000")),
    ("bad-mss-len-6", tcp(SYN, "020605b4 0000 0000")),
    ("bad-two-mss", tcp(SYN, "020405b4 020405b4")),
    ("bad-two-mss-apart", tcp(SYN, "020405b4 01 030307 020405b4 01010101")),
    ("bad-mss-then-bad-mss", tcp(SYN, "020405b4 0203 05 01")),
    ("bad-doff-0", tcp(SYN, doff=0)),
    ("bad-doff-1", tcp(SYN, doff=1)),
    ("bad-doff-4", tcp(SYN, doff=4)),
    ("bad-doff-4-options", tcp(SYN, "020405b4", doff=4)),
    ("bad-doff-6-len-20", tcp(SYN, doff=6)),
    ("bad-doff-6-len-23", tcp(SYN, "020405", doff=6)),
    ("bad-doff-15-len-59", tcp(SYN, NOP36 + "020405", doff=15)),
    ("bad-doff-15-len-20", tcp(SYN, doff=15)),
    ("bad-len-0", b""),
    ("bad-len-1", tcp(SYN, length=1)),
    ("bad-len-13", tcp(SYN, length=13)),
    ("bad-len-19", tcp(SYN, length=19)),
]


def clamp_params(clamp, insert, room_extra, v6=False, keep_csum=False,
                 clamp_hi=False, room_short=False, seed=0x1234):
    """The 8-byte parameter prefix of fuzz_clamp."""
    room = 0x80 if room_short else room_extra & 0x0F
    mode = (1 if v6 else 0) | (2 if keep_csum else 0) | (4 if clamp_hi else 0)
    return struct.pack(">HHBBH", clamp, insert, room, mode, seed)


CLAMP_VARIANTS = [
    ("v4", clamp_params(1350, 1350, 4)),
    ("v6-noinsert", clamp_params(1321, 0, 0, v6=True, seed=0xBEEF)),
]

CLAMP_EXTRA = [
    ("insert-min-clamp-v6", clamp_params(1300, 1400, 4, v6=True), tcp(SYN)),
    ("insert-65535", clamp_params(65535, 65535, 15), tcp(SYN, "0402 0101")),
    ("insert-56", clamp_params(1350, 536, 4), tcp(SYN, NOP36)),
    ("noroom-60", clamp_params(1350, 1350, 15), tcp(SYN, "01" * 40)),
    ("noroom-len-plus-3", clamp_params(1350, 1350, 3), tcp(SYN)),
    ("noroom-payload", clamp_params(1350, 1350, 15), tcp(SYN, payload="0102030405060708090a")),
    ("lower-to-1", clamp_params(1, 1, 0), tcp(SYN, "01 0204ffff 000000")),
    ("already-equal", clamp_params(1460, 1460, 0), tcp(SYN, LINUX)),
    ("bad-checksum-kept", clamp_params(1350, 536, 4, keep_csum=True),
     tcp(SYN, LINUX)[:16] + b"\xde\xad" + tcp(SYN, LINUX)[18:]),
    ("contract-clamp-0", clamp_params(0, 536, 4), tcp(SYN, LINUX)),
    ("contract-clamp-65536", clamp_params(0, 536, 4, clamp_hi=True), tcp(SYN)),
    ("contract-room-short", clamp_params(1350, 536, 0, room_short=True), tcp(SYN, LINUX)),
]


def esp(mtu, overhead, outer, encap, iv, block, icv, transport=0, inner=0,
        v6=False):
    return struct.pack(">10I", mtu, overhead, outer, encap, iv, block, icv,
                       transport, inner, 1 if v6 else 0)


SUITES = [
    ("aes-cbc-sha1", 16, 16, 12),
    ("aes-cbc-sha256", 16, 16, 16),
    ("aes-gcm", 8, 1, 16),
    ("chacha20-poly1305", 8, 1, 16),
    ("3des-sha1", 8, 8, 12),
    ("null-sha1", 0, 1, 12),
]
MODES = [
    ("tun4", 20, 0, 0, 0),
    ("tun4-natt", 20, 8, 0, 0),
    ("tun6", 40, 0, 0, 0),
    ("tun6-natt", 40, 8, 0, 0),
    ("trans4", 0, 0, 1, 20),
    ("trans6-natt", 0, 8, 1, 40),
]
ARITH_EXTRA = [
    ("doc-example", esp(1454, 73, 20, 0, 16, 16, 12)),
    ("doc-example-v6-inner", esp(1454, 73, 20, 0, 16, 16, 12, v6=True)),
    ("mtu-1280-v6", esp(1280, 93, 40, 0, 16, 16, 12, v6=True)),
    ("jumbo", esp(9000, 73, 20, 0, 16, 16, 12)),
    ("tiny-mtu", esp(68, 73, 20, 0, 16, 16, 12)),
    ("mtu-0", esp(0, 0, 20, 0, 16, 16, 12)),
    ("mtu-max", esp(0xFFFFFFFF, 0xFFFFFFFF, 20, 0, 16, 16, 12)),
    ("overhead-wraps", esp(1500, 0xFFFFFFEC, 20, 0, 16, 16, 12)),
    ("block-0", esp(1500, 73, 20, 0, 16, 0, 12)),
    ("block-3", esp(1500, 73, 20, 0, 16, 3, 12)),
    ("block-65536", esp(1500, 73, 20, 0, 16, 65536, 12)),
    ("block-2-31", esp(1500, 73, 20, 0, 16, 0x80000000, 12)),
    ("sizes-65535", esp(0xFFFFFFFF, 1, 65535, 65535, 65535, 32768, 65535, 1, 65535)),
    ("sizes-65536", esp(0xFFFFFFFF, 1, 65536, 0, 16, 16, 12)),
    ("all-max", esp(*([0xFFFFFFFF] * 9))),
    ("csum-odd-ff", esp(0xFFFFFFFF, 0xFFFF, 20, 0, 16, 0xFFFFFFFF, 12) + b"\xff" * 33),
    ("csum-even", esp(0x1FFFF, 0, 20, 0, 16, 0x1FFFE, 12) + bytes(range(64))),
]


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    for target in ("fuzz_walk", "fuzz_clamp", "fuzz_arith"):
        shutil.rmtree(os.path.join(CORPUS, target), ignore_errors=True)
    names = set()
    for name, seg in SEGMENTS:
        assert name not in names, name
        names.add(name)
        write("fuzz_walk", name, seg)
        for vname, params in CLAMP_VARIANTS:
            write("fuzz_clamp", f"{name}-{vname}", params + seg)
    for name, params, seg in CLAMP_EXTRA:
        write("fuzz_clamp", name, params + seg)
    for sname, iv, block, icv in SUITES:
        for mname, outer, encap, transport, inner in MODES:
            for mtu in (1454, 1500):
                write("fuzz_arith", f"{sname}-{mname}-{mtu}",
                      esp(mtu, 73, outer, encap, iv, block, icv, transport,
                          inner, v6=mtu == 1500))
    for name, data in ARITH_EXTRA:
        write("fuzz_arith", name, data)
    for target in sorted(os.listdir(CORPUS)):
        print(f"{target}: {len(os.listdir(os.path.join(CORPUS, target)))} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
