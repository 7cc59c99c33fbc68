#!/usr/bin/env python3
"""Writes a folder of ClamAV-style signature files for the engine benchmark and tests.

  bench/gen-sigs.py --random N [--eicar] [--seed S] DIR

--random N  writes DIR/random.ndb (N body signatures: 16-32 random bytes as hex, target 0,
            offset *) and DIR/random.hsb (N random SHA-256 hashes with random sizes).
--eicar     also writes DIR/eicar.ndb and DIR/eicar.hsb, which detect the EICAR test file.
"""
import argparse
import os
import random
import sys

# EICAR as hex: the test string itself is never written into a file of this project.
EICAR_HEX = ("58354f2150254041505b345c505a58353428505e2937434329377d24"
             "45494341522d5354414e444152442d414e544956495255532d544553542d46494c452124482b482a")
EICAR_SHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
EICAR_MD5 = "44d88612fea8a8f36de82e1278abb02f"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--random", type=int, default=0, metavar="N")
    ap.add_argument("--eicar", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("dir")
    a = ap.parse_args()
    if a.random < 0:
        sys.exit("--random: N must be >= 0")
    if a.random == 0 and not a.eicar:
        sys.exit("nothing to write: give --random N and/or --eicar")
    os.makedirs(a.dir, exist_ok=True)
    rng = random.Random(a.seed)
    if a.random:
        with open(os.path.join(a.dir, "random.ndb"), "w") as f:
            for i in range(a.random):
                n = rng.randint(16, 32)
                f.write("Bench.Random.Body-%d:0:*:%s\n" % (i, rng.randbytes(n).hex()))
        with open(os.path.join(a.dir, "random.hsb"), "w") as f:
            for i in range(a.random):
                f.write("%s:%d:Bench.Random.Hash-%d\n" %
                        (rng.randbytes(32).hex(), rng.randint(1, 1 << 24), i))
    if a.eicar:
        with open(os.path.join(a.dir, "eicar.ndb"), "w") as f:
            f.write("Eicar-Test-Signature:0:*:%s\n" % EICAR_HEX)
        with open(os.path.join(a.dir, "eicar.hsb"), "w") as f:
            f.write("%s:68:Win.Test.EICAR_HSB-1\n" % EICAR_SHA256)
        with open(os.path.join(a.dir, "eicar.hdb"), "w") as f:
            f.write("%s:68:Win.Test.EICAR_HDB-1\n" % EICAR_MD5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
