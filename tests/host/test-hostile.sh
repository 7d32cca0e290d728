#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Hostile record files of at most 1 MB, built here from the sample recording's
# header (build/unit/test_recfile --write): a stack id the kernel cannot hand
# out, 58,000 kernel symbols in descending order, a thousand processes' maps,
# stacks of 127 frames, 10,000 random events naming stacks never recorded.
# gupwatch report must refuse or report each with at most 1 s of CPU time and
# 100 MB of memory (its own rusage), and never crash. GW_COST_LIMITS=0 (a
# sanitizer build, whose shadow memory and checks cost more) keeps the rest.
set -uo pipefail
gw=${GUPWATCH:-./gupwatch}
writer=${GW_RECFILE_WRITER:-build/unit/test_recfile}
fail() { echo "FAIL: $*"; exit 1; }
[ -x "$writer" ] || fail "$writer missing: run 'make $writer'"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$writer" --write "$tmp/sample.gw" || fail "cannot write the sample recording"

python3 - "$gw" "$tmp" "${GW_COST_LIMITS:-1}" <<'EOF' || exit 1
import os, random, resource, struct, subprocess, sys, zlib

gw, tmp, limits = sys.argv[1], sys.argv[2], sys.argv[3] != "0"
sample = open(os.path.join(tmp, "sample.gw"), "rb").read()
OPT = 0x80000000
STACK, KSYM, MAPS, EVENT, TRAILER = OPT | 4, OPT | 5, OPT | 6, 2, 3
COUNTERS = 12

def rec(t, payload):
    return struct.pack("<II", t, len(payload)) + payload

def recording(records, events):
    """preamble + the sample's header record + records + a valid trailer"""
    hlen = struct.unpack_from("<I", sample, 20)[0]
    body = sample[:16 + 8 + hlen] + b"".join(records)
    trailer = struct.pack("<QQII", events, 10**9, COUNTERS, 0) + bytes(8 * COUNTERS)
    body += struct.pack("<II", TRAILER, len(trailer) + 8) + trailer
    return body + struct.pack("<II", zlib.crc32(body) & 0xffffffff, 0)

def stack(sid, user, frames):
    return rec(STACK, struct.pack("<IIII", sid, 1 if user else 0, len(frames), 0) +
               b"".join(struct.pack("<Q", f) for f in frames))

def module(start, path):
    return struct.pack("<QQQI", start, start + 0x100000, start, 20) + bytes(range(20)) + \
        bytes(44) + path.encode().ljust(256, b"\0")

rnd = random.Random(12)
cases = []  # name, bytes, expected exit, expected stderr text
cases.append(("stack id 0x7ffffff0", recording([stack(0x7ffffff0, False, [0xffffffff81000000])], 0),
              1, "corrupt stack record: id 2147483632 (stack ids are below 16384)"))
syms = [rec(KSYM, struct.pack("<Q", 0xffffffffa0000000 - 64 * i) + b"s\0") for i in range(58000)]
cases.append(("58,000 kernel symbols, descending", recording(syms, 0), 0, ""))
maps = [rec(MAPS, struct.pack("<II", 1000 + p, 2) + module(0x400000, "/bin/x%d" % p) +
            module(0x7f0000000000, "/lib/libc.so.6")) for p in range(1300)]
cases.append(("1,300 processes' maps", recording(maps, 0), 0, ""))
stacks = [stack(i, i & 1, [0xffffffff81000000 + 16 * j for j in range(127)]) for i in range(1000)]
cases.append(("1,000 stacks of 127 frames", recording(stacks, 0), 0, ""))
evs = []
for i in range(10000):
    ev = bytearray(rnd.randbytes(96))
    struct.pack_into("<II", ev, 0, rnd.randrange(1, 7), 0)
    struct.pack_into("<Q", ev, 8, 10**9 + i * 1000)
    struct.pack_into("<ii", ev, 40, rnd.randrange(-1, 16384), rnd.randrange(-1, 16384))
    evs.append(rec(EVENT, bytes(ev)))
cases.append(("10,000 random events", recording(evs, 10000), 0, ""))

for name, data, want_rc, want_err in cases:
    assert len(data) <= 1 << 20, (name, len(data))
    path = os.path.join(tmp, "hostile.gw")
    open(path, "wb").write(data)
    for args in ([], ["--json"]):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        p = subprocess.run([gw, "report", "-i", path] + args, capture_output=True, timeout=60)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        rss_mb = after.ru_maxrss / 1024
        err = p.stderr.decode(errors="replace").strip()
        what = "%s (%d bytes%s)" % (name, len(data), ", --json" if args else "")
        if p.returncode != want_rc or want_err not in err:
            sys.exit("FAIL: %s: exit %d: %s" % (what, p.returncode, err))
        if want_rc and len(err.splitlines()) != 1:
            sys.exit("FAIL: %s: not one line: %s" % (what, err))
        if limits and (cpu > 1.0 or rss_mb > 100):
            sys.exit("FAIL: %s: %.2f s CPU, %.0f MB (at most 1 s, 100 MB)" % (what, cpu, rss_mb))
        print("ok: %s: exit %d in %.2f s CPU, max RSS so far %.0f MB%s" %
              (what, p.returncode, cpu, rss_mb, ": " + err if err else ""))
EOF
