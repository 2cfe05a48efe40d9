#!/usr/bin/env python3
"""Writes the application tree of the bench image under /opt/app: 4,000 files in 200 dirs (a
quarter executable: copies of real ELF binaries and shell scripts; python, data and text files),
deterministic (seeded), every 50th dir owned by uid 4242, which has no passwd entry."""
import os
import random
import shutil

ROOT = "/opt/app"
BINS = ["/usr/bin/make", "/usr/bin/curl", "/bin/ls", "/bin/cp"]
r = random.Random(42)
for d in range(200):
    os.makedirs("%s/mod%03d/sub" % (ROOT, d), exist_ok=True)
for i in range(4000):
    d = "%s/mod%03d/%s" % (ROOT, i % 200, "sub/" if i % 3 else "")
    p = "%sf%04d" % (d, i)
    kind = i % 8
    if kind == 0:
        shutil.copyfile(BINS[i % 4], p + ".bin")
        os.chmod(p + ".bin", 0o755)
    elif kind == 1:
        with open(p + ".sh", "w") as f:
            f.write('#!/bin/sh\nexec /usr/bin/python3 /opt/app/main.py "$@"\n')
        os.chmod(p + ".sh", 0o755)
    elif kind == 2:
        with open(p + ".py", "w") as f:
            f.write("".join("x%d = %d\n" % (j, r.randrange(1 << 30)) for j in range(r.randrange(10, 400))))
    elif kind == 3:
        with open(p + ".dat", "wb") as f:
            f.write(r.randbytes(r.randrange(1, 200000)))
    else:
        with open(p + ".txt", "w") as f:
            f.write(("line %d\n" % i) * r.randrange(1, 300))
    if i % 50 == 0:
        os.chown(d, 4242, 4242)
with open(ROOT + "/main.py", "w") as f:
    f.write('print("app")\n')
