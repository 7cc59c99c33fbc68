#!/usr/bin/env python3
"""Writes a generated ClamAV text database, for a machine without freshclam's network.

  bench/gen-clamdb.py --total N [--seed S] [--no-test-sigs] DIR

N signatures in the text formats libclamav reads from /var/lib/clamav, in about the mix of
ClamAV's own main/daily databases (mostly hashes, then body signatures, some logical ones):

  DIR/bench.hdb  50%  MD5 hash, size, name (as main.hdb / daily.hdb)
  DIR/bench.hsb  20%  SHA-256 hash, size, name (.hsb)
  DIR/bench.ndb  25%  body signatures: 16-32 random bytes as hex, target 0 (any), offset *;
                      one in 10 with a {n-m} gap, one in 10 for target 1 (PE)
  DIR/bench.ldb   5%  logical signatures: two or three 8-16 byte subsignatures joined with & or |

and, unless --no-test-sigs, DIR/test.hdb and DIR/test.ndb: the MD5 of Debian's
clamav-testfiles clam.exe (ClamAV's test program, "Clamav.Test.File-6") and EICAR as a hash and
as a body signature, so the web-mix corpus has something to find. Hash sizes are random from
1 KiB to 16 MiB (libclamav hashes a body only when a signature of its size exists).
Deterministic with --seed. Webwarden's fast engine reads the .hdb .hsb .ndb files of its
scan.patterns_dir; libclamav reads them all.
"""
import argparse
import hashlib
import os
import random
import sys

TESTFILES = "/usr/share/clamav-testfiles"
EICAR_HEX = ("58354f2150254041505b345c505a58353428505e2937434329377d24"
             "45494341522d5354414e444152442d414e544956495255532d544553542d46494c452124482b482a")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--total", type=int, required=True, metavar="N")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-test-sigs", action="store_true")
    ap.add_argument("dir")
    a = ap.parse_args()
    if a.total < 0 or a.total > 20000000:
        sys.exit("--total: 0 to 20,000,000")
    os.makedirs(a.dir, exist_ok=True)
    r = random.Random("gen-clamdb-%d" % a.seed)  # not the stream of gen-webmix.py's seed
    n_hdb, n_hsb, n_ldb = a.total * 50 // 100, a.total * 20 // 100, a.total * 5 // 100
    n_ndb = a.total - n_hdb - n_hsb - n_ldb

    def size():
        return r.randint(1024, 16 << 20)

    with open(os.path.join(a.dir, "bench.hdb"), "w") as f:
        for i in range(n_hdb):
            f.write("%s:%d:Bench.Gen.Md5-%d\n" % (r.randbytes(16).hex(), size(), i))
    with open(os.path.join(a.dir, "bench.hsb"), "w") as f:
        for i in range(n_hsb):
            f.write("%s:%d:Bench.Gen.Sha256-%d\n" % (r.randbytes(32).hex(), size(), i))
    with open(os.path.join(a.dir, "bench.ndb"), "w") as f:
        for i in range(n_ndb):
            k = r.random()
            if k < 0.1:
                hexsig = "%s{%d-%d}%s" % (r.randbytes(r.randint(8, 12)).hex(), r.randint(0, 8),
                                          r.randint(9, 64), r.randbytes(r.randint(8, 12)).hex())
            else:
                hexsig = r.randbytes(r.randint(16, 32)).hex()
            target = 1 if k > 0.9 else 0
            f.write("Bench.Gen.Body-%d:%d:*:%s\n" % (i, target, hexsig))
    with open(os.path.join(a.dir, "bench.ldb"), "w") as f:
        for i in range(n_ldb):
            subs = [r.randbytes(r.randint(8, 16)).hex() for _ in range(r.randint(2, 3))]
            op = "&" if r.random() < 0.7 else "|"
            expr = op.join(str(j) for j in range(len(subs)))
            f.write("Bench.Gen.Logical-%d;Engine:51-255,Target:0;(%s);%s\n" % (i, expr, ";".join(subs)))
    if not a.no_test_sigs:
        try:
            with open(os.path.join(TESTFILES, "clam.exe"), "rb") as cf:
                clam = cf.read()
        except OSError as e:
            sys.exit("%s (install clamav-testfiles, or pass --no-test-sigs)" % e)
        eicar = bytes.fromhex(EICAR_HEX)
        with open(os.path.join(a.dir, "test.hdb"), "w") as f:
            f.write("%s:%d:Clamav.Test.File-6\n" % (hashlib.md5(clam).hexdigest(), len(clam)))
            f.write("%s:%d:Win.Test.EICAR_HDB-1\n" % (hashlib.md5(eicar).hexdigest(), len(eicar)))
        with open(os.path.join(a.dir, "test.ndb"), "w") as f:
            f.write("Eicar-Test-Signature:0:*:%s\n" % EICAR_HEX)
    return 0


if __name__ == "__main__":
    sys.exit(main())
