#!/usr/bin/env python3
"""Compares `ld.so --list` output (the reference) with `coroner ldd --all` JSON lines.

usage: ldd_compare.py ROOT LDSO_TXT CORONER_JSONL NAME

LDSO_TXT holds, per file, "=== PATH", the loader's output, "=== rc N". For each file the
resolved map name -> file (both sides' paths resolved inside ROOT with `chroot ROOT realpath`),
the set of names not found, and the missing versions must agree. Prints the counts and every
disagreement; exits 1 on any.
"""
import json
import re
import subprocess
import sys

ADDR = re.compile(r"^(.*) \(0x[0-9a-f]+\)$")
VERSION = re.compile(r"^.*?: ([^:]+): version `([^']+)' not found \(required by (.+)\)$")


def parse_ldso(path):
    files, cur = {}, None
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.rstrip("\n")
        if line.startswith("=== rc "):
            cur["rc"] = int(line[7:])
            cur = None
            continue
        if line.startswith("=== "):
            cur = files.setdefault(line[4:], {"map": {}, "missing": set(), "versions": set(),
                                              "static": False, "other": []})
            continue
        text = line.strip()
        m = VERSION.match(text)
        if m:
            cur["versions"].add((m.group(1), m.group(2), m.group(3)))
            continue
        if text == "statically linked":
            cur["static"] = True
            continue
        if text.endswith("=> not found"):
            cur["missing"].add(text[: -len("=> not found")].strip())
            continue
        m = ADDR.match(text)
        if m:
            entry = m.group(1)
            if " => " in entry:
                name, where = entry.split(" => ", 1)
                cur["map"][name] = where
            elif entry.startswith("/"):
                cur["map"][entry] = entry
            continue  # linux-vdso.so.1
        cur["other"].append(text)
    return files


def realpaths(root, paths):
    paths = sorted(set(paths))
    out = {}
    for i in range(0, len(paths), 500):
        chunk = paths[i:i + 500]
        res = subprocess.run(["chroot", root, "/usr/bin/realpath", "-m", "--"] + chunk,
                             capture_output=True, text=True, check=True)
        out.update(zip(chunk, res.stdout.splitlines()))
    return out


def main():
    root, ldso_txt, jsonl, name = sys.argv[1:5]
    ref = parse_ldso(ldso_txt)
    cor = {}
    for line in open(jsonl, encoding="utf-8"):
        j = json.loads(line)
        cor[j["path"]] = j
    need = []
    for f in ref.values():
        need += f["map"].values()
        need += [v[0] for v in f["versions"]] + [v[2] for v in f["versions"]]
    for j in cor.values():
        need += [v["provider"] for v in j["version_errors"]]
        need += [v["needed_by"] for v in j["version_errors"]]
    real = realpaths(root, need)
    bad, counts = [], {"files": 0, "agree": 0, "resolved": 0, "not_found": 0, "versions": 0,
                       "static": 0, "ldso_errors": 0}
    for path in sorted(set(ref) | set(cor)):
        counts["files"] += 1
        r, c = ref.get(path), cor.get(path)
        if r is None or c is None:
            bad.append(f"{path}: only in {'coroner' if r is None else 'ld.so --list'}")
            continue
        problems = []
        if r.get("rc", 0) != 0 or r["other"]:
            counts["ldso_errors"] += 1
            fatal = [m for m in c["missing"] if m.get("error")]
            if not fatal and not c.get("interp_error"):
                problems.append(f"ld.so failed ({r['other']}) but coroner did not")
        rmap = {k: real[v] for k, v in r["map"].items()}
        cmap = {}
        for o in c["loaded"]:
            key = o["path"] if o["via"] == "program interpreter" else o["name"]
            cmap[key] = o["real"]
        if rmap != cmap:
            problems.append(f"resolved: ld.so {sorted(rmap.items())} coroner {sorted(cmap.items())}")
        cmiss = {m["name"] for m in c["missing"] if not m.get("error")}
        if r["missing"] != cmiss:
            problems.append(f"not found: ld.so {sorted(r['missing'])} coroner {sorted(cmiss)}")
        rver = {(real[p], v, real[b]) for p, v, b in r["versions"]}
        cver = {(real[v["provider"]], v["version"], real[v["needed_by"]])
                for v in c["version_errors"]}
        if rver != cver:
            problems.append(f"versions: ld.so {sorted(rver)} coroner {sorted(cver)}")
        if r["static"] and (c["loaded"] or c["missing"]):
            problems.append("ld.so: statically linked; coroner loads something")
        if problems:
            bad.append(f"{path}: " + "; ".join(problems))
            continue
        counts["agree"] += 1
        counts["resolved"] += len(rmap)
        counts["not_found"] += len(r["missing"])
        counts["versions"] += len(rver)
        counts["static"] += r["static"]
    print(f"{name}: {counts['agree']}/{counts['files']} files agree; "
          f"{counts['resolved']} resolved names, {counts['not_found']} not found, "
          f"{counts['versions']} missing versions, {counts['static']} statically linked, "
          f"{counts['ldso_errors']} ld.so errors")
    for b in bad:
        print("DISAGREE " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
