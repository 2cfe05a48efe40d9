#!/usr/bin/env python3
"""Checks `coroner diff A B` against treecmp.py's differences between the same two roots.

  diffcmp.py TREECMP_OUTPUT CORONER_DIFF_OUTPUT

TREECMP_OUTPUT: `treecmp.py --ignore-dir-mode-of-root ROOT_A ROOT_B` (one line per difference);
CORONER_DIFF_OUTPUT: `coroner diff A B` in text form ("K PATH  changes  layer N: step"). Both
become a set of (path, kind, changes): treecmp's "only in B" is A, "only in A" is D, and its
type/mode/owner/size/content/symlink target/device/xattr lines are C with that change. A type
change is compared as "type" alone (treecmp stops at it; coroner also lists mode and owner).
Hardlink-group lines of treecmp have no coroner counterpart and are counted, not compared; the
root directory is left out (an unpacker picks its mode). Prints the differences and a summary;
exits 0 when the sets are equal, 1 if not. Standard library only.
"""

import re
import sys

CHANGES = ("type", "mode", "owner", "size", "content", "link", "device", "xattrs", "mtime")
TREECMP = [
    (re.compile(r"^(.*): only in B \(.*\)$"), "A", None),
    (re.compile(r"^(.*): only in A \(.*\)$"), "D", None),
    (re.compile(r"^(.*): type \S+ != \S+$"), "C", "type"),
    (re.compile(r"^(.*): mode [0-7]+ != [0-7]+$"), "C", "mode"),
    (re.compile(r"^(.*): owner \d+:\d+ != \d+:\d+$"), "C", "owner"),
    (re.compile(r"^(.*): size \d+ != \d+$"), "C", "size"),
    (re.compile(r"^(.*): content sha256 \S+ != \S+$"), "C", "content"),
    (re.compile(r"^(.*): symlink target .* != .*$"), "C", "link"),
    (re.compile(r"^(.*): device \d+,\d+ != \d+,\d+$"), "C", "device"),
    (re.compile(r"^(.*): xattr \S+ .* != .*$"), "C", "xattrs"),
]
HARDLINKS = re.compile(r"^(.*): hardlinks .* != .*$")
CORONER = re.compile(r"^([ACD]) (.*?)(?:  ((?:%s)(?:,(?:%s))*))?(?:  layer \d+(?:: .*)?)?$" %
                     ("|".join(CHANGES), "|".join(CHANGES)))
# coroner's escape() writes these control bytes as C escapes; treecmp writes \xNN.
C_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13}


def from_treecmp(lines):
    entries, hardlinks = {}, 0
    for line in lines:
        if line.startswith("treecmp: "):
            continue
        if HARDLINKS.match(line):
            hardlinks += 1
            continue
        for pattern, kind, change in TREECMP:
            m = pattern.match(line)
            if m:
                k, changes = entries.setdefault(m.group(1), (kind, set()))
                if change:
                    changes.add(change)
                break
        else:
            raise ValueError("treecmp line not understood: %r" % line)
    return {p: (k, frozenset(["type"] if "type" in c else c)) for p, (k, c) in entries.items()
            if p != "/"}, hardlinks


def treecmp_path(path):
    """coroner's escaped path in treecmp's spelling."""
    return re.sub(r"\\([abtnvfr])", lambda m: "\\x%02x" % C_ESCAPES[m.group(1)], path)


def from_coroner(lines):
    entries = {}
    for line in lines:
        m = CORONER.match(line)
        if not m:
            raise ValueError("coroner diff line not understood: %r" % line)
        changes = set((m.group(3) or "").split(",")) - {""}
        if "type" in changes:
            changes = {"type"}
        path = treecmp_path(m.group(2))
        if path != "/":
            entries[path] = (m.group(1), frozenset(changes))
    return entries


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    ref, hardlinks = from_treecmp(open(argv[1], encoding="utf-8").read().splitlines())
    got = from_coroner(open(argv[2], encoding="utf-8").read().splitlines())
    problems = []
    for path in sorted(set(ref) | set(got)):
        r, g = ref.get(path), got.get(path)
        if r != g:
            show = lambda e: "-" if e is None else "%s %s" % (e[0], ",".join(sorted(e[1])))
            problems.append("%s: treecmp %s, coroner %s" % (path, show(r), show(g)))
    for p in problems[:60]:
        print(p)
    print("diffcmp: %d paths differ per treecmp, %d per coroner diff, %d disagreements "
          "(%d hardlink-group lines not compared)" % (len(ref), len(got), len(problems), hardlinks))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
