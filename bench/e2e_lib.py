#!/usr/bin/env python3
"""Helpers of bench/e2e.sh (python3 standard library only).

  e2e_lib.py layers SAVE_TAR OCI_GZIP OCI_ZSTD WORK
      extracts the uncompressed layer tars of the docker-archive to WORK/raw/NN.tar (skipped when
      WORK/raw/key already names SAVE_TAR), counts their entries, finds the largest file, lists
      the gzip and zstd blobs of the OCI layouts in the same order, writes WORK/stats.json
  e2e_lib.py report OUT_DIR
      reads OUT_DIR/json/*.json (hyperfine --export-json), OUT_DIR/mem/*.txt (GNU time %M, KiB),
      WORK/stats.json and OUT_DIR/env.txt, prints the markdown results (medians and ratios)
"""
import glob
import json
import os
import statistics
import sys
import tarfile


def oci_layers(layout):
    blob = lambda d: os.path.join(layout, "blobs", "sha256", d.split(":", 1)[1])
    index = json.load(open(os.path.join(layout, "index.json")))
    manifest = json.load(open(blob(index["manifests"][0]["digest"])))
    return [{"path": blob(l["digest"]), "size": l["size"], "media": l["mediaType"]}
            for l in manifest["layers"]]


def scan_layer(path):
    entries, largest, largest_name = 0, 0, ""
    with tarfile.open(path, "r:") as t:
        for m in t:
            entries += 1
            if m.isreg() and m.size > largest:
                largest, largest_name = m.size, m.name
    return entries, largest, largest_name


def cmd_layers(save, gz_layout, zst_layout, work):
    raw = os.path.join(work, "raw")
    key = "%s %d %d\n" % (os.path.realpath(save), os.path.getsize(save), os.path.getmtime(save))
    keyfile = os.path.join(raw, "key")
    with tarfile.open(save, "r:") as t:
        manifest = json.load(t.extractfile("manifest.json"))
        names = manifest[0]["Layers"]
        if not (os.path.exists(keyfile) and open(keyfile).read() == key):
            os.makedirs(raw, exist_ok=True)
            for f in glob.glob(os.path.join(raw, "*")):
                os.remove(f)
            for i, name in enumerate(names):
                src = t.extractfile(name)
                with open(os.path.join(raw, "%02d.tar" % i), "wb") as out:
                    while True:
                        chunk = src.read(1 << 20)
                        if not chunk:
                            break
                        out.write(chunk)
            open(keyfile, "w").write(key)
    gz, zst = oci_layers(gz_layout), oci_layers(zst_layout)
    if not (len(gz) == len(zst) == len(names)):
        sys.exit("layer counts differ: docker-archive %d, gzip %d, zstd %d" %
                 (len(names), len(gz), len(zst)))
    layers = []
    for i in range(len(names)):
        path = os.path.join(raw, "%02d.tar" % i)
        entries, largest, largest_name = scan_layer(path)
        layers.append({"raw": path, "raw_size": os.path.getsize(path), "entries": entries,
                       "largest_file": largest, "largest_name": largest_name,
                       "gz": gz[i]["path"], "gz_size": gz[i]["size"],
                       "zst": zst[i]["path"], "zst_size": zst[i]["size"]})
    big = max(range(len(layers)), key=lambda i: layers[i]["raw_size"])
    stats = {"layers": layers, "largest_layer": big,
             "entries": sum(l["entries"] for l in layers),
             "largest_file": max(l["largest_file"] for l in layers),
             "raw_bytes": sum(l["raw_size"] for l in layers),
             "gz_bytes": sum(l["gz_size"] for l in layers),
             "zst_bytes": sum(l["zst_size"] for l in layers),
             "save_tar_bytes": os.path.getsize(save)}
    json.dump(stats, open(os.path.join(work, "stats.json"), "w"), indent=1)
    for i, l in enumerate(layers):
        print("layer %d: %7.1f MB, %6d entries, gzip %7.1f MB, zstd %7.1f MB%s" %
              (i, l["raw_size"] / 1e6, l["entries"], l["gz_size"] / 1e6, l["zst_size"] / 1e6,
               "  (largest)" if i == big else ""))


def fmt_s(x):
    return "-" if x is None else ("%.2f" % x if x < 100 else "%.0f" % x)


def fmt_r(x):
    return "-" if x is None else "%.2f" % x


def cmd_report(out):
    work = os.path.join(out, "work")
    stats = json.load(open(os.path.join(work, "stats.json")))
    env = open(os.path.join(out, "env.txt")).read().strip()
    res = {}
    for f in sorted(glob.glob(os.path.join(out, "json", "*.json"))):
        r = json.load(open(f))["results"][0]
        name = os.path.basename(f)[:-5]
        times = r["times"]
        res[name] = {"median": statistics.median(times), "min": min(times), "max": max(times),
                     "runs": len(times), "user": r["user"], "system": r["system"],
                     "command": r["command"]}
    mem = {}
    for f in glob.glob(os.path.join(out, "mem", "*.txt")):
        lines = open(f).read().split()
        if lines:
            mem[os.path.basename(f)[:-4]] = int(lines[-1]) * 1024
    failed = set()
    for f in glob.glob(os.path.join(out, "mem", "*.failed")):
        failed.add(os.path.basename(f)[:-7])
    t = lambda n: res[n]["median"] if n in res else None
    cpu = lambda n: res[n]["user"] + res[n]["system"] if n in res else None
    ratio = lambda a, b: (a / b) if a is not None and b else None

    L = stats["layers"]
    big = stats["largest_layer"]
    o = []
    w = o.append
    w("# coroner end-to-end benchmark")
    w("")
    w("```")
    w(env)
    w("```")
    w("")
    w("Image: %d layers, %d tar entries in all, %.0f MB uncompressed (docker-archive %.0f MB), "
      "gzip blobs %.0f MB, zstd blobs %.0f MB; largest layer #%d (%.0f MB, %d entries); largest "
      "file %.1f MB." % (len(L), stats["entries"], stats["raw_bytes"] / 1e6,
                         stats["save_tar_bytes"] / 1e6, stats["gz_bytes"] / 1e6,
                         stats["zst_bytes"] / 1e6, big, L[big]["raw_size"] / 1e6,
                         L[big]["entries"], stats["largest_file"] / 1e6))
    w("")
    w("| layer | uncompressed MB | entries | gzip MB | zstd MB |")
    w("| ---: | ---: | ---: | ---: | ---: |")
    for i, l in enumerate(L):
        w("| %d%s | %.1f | %d | %.1f | %.1f |" % (i, " (largest)" if i == big else "",
                                                 l["raw_size"] / 1e6, l["entries"],
                                                 l["gz_size"] / 1e6, l["zst_size"] / 1e6))
    w("")
    w("## Timings (wall seconds; median, min, max over the runs; warm page cache)")
    w("")
    w("| what | median | min | max | runs | user | sys | peak RSS MB |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    order = [n for n in ORDER if n in res or n in failed] + sorted(
        n for n in res if n not in ORDER)
    for n in order:
        m = mem.get(n)
        if n in failed and n not in res:
            w("| %s | FAILED (see %s/mem/%s.failed) | | | | | | |" % (LABELS.get(n, n), out, n))
            continue
        r = res[n]
        w("| %s | %s | %s | %s | %d | %s | %s | %s |" % (
            LABELS.get(n, n), fmt_s(r["median"]), fmt_s(r["min"]), fmt_s(r["max"]), r["runs"],
            fmt_s(r["user"]), fmt_s(r["system"]), "-" if m is None else "%.0f" % (m / 1e6)))
    w("")
    w("## Targets (ratios of medians)")
    w("")
    w("| target | coroner | against | ratio | CPU ratio | goal | met |")
    w("| --- | --- | --- | ---: | ---: | --- | --- |")

    def row(target, num, den, goal, ok, den_time=None, den_label=None, with_cpu=True):
        r = ratio(t(num), den_time if den_time is not None else t(den))
        c = ratio(cpu(num), cpu(den)) if with_cpu and den else None
        met = "-" if r is None else ("yes" if ok(r) else "NO")
        w("| %s | %s | %s | %s | %s | %s | %s |" % (target, SHORT.get(num, num),
                                                   den_label or SHORT.get(den, den), fmt_r(r),
                                                   fmt_r(c), goal, met))

    cores = os.cpu_count() or 1
    for form, floor, goal in (("archive", "cat", 1.5), ("gzip", "igzip", 1.2),
                              ("zstd", "zstd", 1.2)):
        le = lambda r, g=goal: r <= g
        for cmd in ("find", "layers", "find_nocheck"):
            row("full scan, %s" % FORM_WORDS[form], "%s_%s" % (cmd, form),
                "floor_%s_sum" % floor, "<= %.1f" % goal, le)
        s_, l_ = t("floor_%s_sum" % floor), t("floor_%s_largest" % floor)
        for cmd in ("find", "find_nocheck"):
            row("parallel, %s: approaches the slowest layer" % FORM_WORDS[form],
                "%s_%s" % (cmd, form), "floor_%s_largest" % floor, "<= %.1f" % goal, le,
                with_cpu=False)
            if s_ is not None and l_ is not None:
                row("parallel, %s: best reachable on %d cores" % (FORM_WORDS[form], cores),
                    "%s_%s" % (cmd, form), None, "<= %.1f" % goal, le, max(l_, s_ / cores),
                    "max(largest, all / %d) = %.2f s" % (cores, max(l_, s_ / cores)))
    for base in ("byhand_docker", "byhand_tar"):
        r = ratio(t(base), t("find_archive"))
        c = ratio(cpu(base), cpu("find_archive")) if base == "byhand_tar" else None
        w("| at least 20x faster than by hand | %s | %s | %s | %s | >= 20 | %s |" % (
            SHORT["find_archive"], SHORT[base], fmt_r(r), fmt_r(c),
            "-" if r is None else ("yes" if r >= 20 else "NO")))
    for num, den, goal in (("diagnose_archive", "find_archive", 1.2),
                           ("audit_archive", "find_archive", 1.5),
                           ("audit_gzip", "find_gzip", 1.5),
                           ("audit_zstd", "find_zstd", 1.5),
                           ("verify_archive", "floor_md5sum_pkg", 1.2),
                           ("daemon_diagnose", "daemon_save_o", 1.3),
                           ("daemon_diagnose", "byhand_docker", 1.0),
                           ("daemon_diagnose_export", "byhand_docker", 1.0),
                           ("find_registry", "find_gzip", 1.2),
                           ("find_registry", "skopeo_find_registry", 1.0)):
        row("%s at most %.1fx %s" % (SHORT.get(num, num), goal, SHORT.get(den, den)), num, den,
            "<= %.1f" % goal, lambda r, g=goal: r <= g,
            with_cpu=not num.startswith("daemon") and not den.startswith("daemon")
            and "registry" not in num)
    budget = 100 * stats["entries"] + stats["largest_file"]
    for n in [x for x in ORDER if x.split("_")[0] in ("layers", "find", "export")]:
        if n not in mem:
            continue
        per_entry = (mem[n] - stats["largest_file"]) / stats["entries"]
        w("| peak RSS <= 100 B/entry + largest file | %s: %.1f MB = %.0f B/entry + largest file | "
          "%.1f MB = %d entries x 100 B + %.1f MB | %s | - | <= 1 | %s |" % (
              SHORT.get(n, n), mem[n] / 1e6, per_entry, budget / 1e6, stats["entries"],
              stats["largest_file"] / 1e6, fmt_r(mem[n] / budget),
              "yes" if mem[n] <= budget else "NO"))
    w("")
    w("ratio: of the median wall times (the targets). CPU ratio: of the mean user + sys CPU "
      "seconds; on a loaded machine it shows the work done, which the wall times hide (a "
      "parallel scan spends more CPU than wall time, so a CPU ratio above the wall ratio is "
      "expected). The by-hand docker CPU is the client's only (dockerd's is not counted).")
    w("")
    w("Floors: `cat`, `igzip -dc` and `zstd -dc` write to /dev/null; the listings (`tar tf`, "
      "`bsdtar tf`, `coroner find`, `coroner layers`) write through a pipe to hyperfine. "
      "\"all layers\" runs the tool on each layer in turn (one core); \"largest layer\" only on "
      "the biggest, the best a parallel scan can reach when it has a core per layer.")
    print("\n".join(o))


FORM_WORDS = {"archive": "uncompressed (docker-archive)", "gzip": "gzip (oci)",
              "zstd": "zstd (oci)"}
FLOOR_WORDS = {"cat": "cat", "igzip": "igzip -dc", "zstd": "zstd -dc"}
ORDER = []
LABELS = {}
SHORT = {"floor_cat_sum": "cat, all layers", "floor_cat_largest": "cat, largest layer",
         "floor_igzip_sum": "igzip -dc, all layers", "floor_igzip_largest": "igzip -dc, largest layer",
         "floor_zstd_sum": "zstd -dc, all layers", "floor_zstd_largest": "zstd -dc, largest layer",
         "byhand_docker": "by hand, docker", "byhand_tar": "by hand, tar x of the export",
         "diagnose_archive": "diagnose", "audit_archive": "audit",
         "audit_gzip": "audit oci gzip", "audit_zstd": "audit oci zstd",
         "verify_archive": "packages --verify", "floor_md5sum_pkg": "md5sum of package files",
         "daemon_save_o": "docker save -o", "daemon_diagnose": "diagnose docker-daemon:",
         "daemon_diagnose_export": "diagnose --via export",
         "find_registry": "find docker:// (loopback)",
         "skopeo_find_registry": "skopeo copy to oci: + find"}
for cmd, words in (("layers", "coroner layers"), ("find", "coroner find -perm /111"),
                   ("find_nocheck", "coroner find -perm /111 --no-digest-check"),
                   ("export", "coroner export -o")):
    for form, fw in (("archive", "docker-archive"), ("gzip", "oci gzip"),
                     ("zstd", "oci zstd")):
        ORDER.append("%s_%s" % (cmd, form))
        LABELS["%s_%s" % (cmd, form)] = "%s (%s)" % (words, fw)
        SHORT["%s_%s" % (cmd, form)] = "%s %s" % (cmd.replace("_nocheck", " --no-digest-check"), fw)
for name, label in (
        ("floor_cat_sum", "cat, all layer tars"), ("floor_cat_largest", "cat, largest layer tar"),
        ("floor_igzip_sum", "igzip -dc, all gzip blobs"),
        ("floor_igzip_largest", "igzip -dc, largest gzip blob"),
        ("floor_zstd_sum", "zstd -dc, all zstd blobs"),
        ("floor_zstd_largest", "zstd -dc, largest zstd blob"),
        ("list_gnutar_raw", "GNU tar tf, all layer tars"),
        ("list_bsdtar_raw", "bsdtar tf, all layer tars"),
        ("list_gnutar_gzip", "GNU tar tzf, all gzip blobs"),
        ("list_bsdtar_gzip", "bsdtar tf, all gzip blobs"),
        ("list_gnutar_zstd", "GNU tar --zstd -tf, all zstd blobs"),
        ("list_bsdtar_zstd", "bsdtar tf, all zstd blobs"),
        ("diagnose_archive", "coroner diagnose (docker-archive)"),
        ("audit_archive", "coroner audit (docker-archive)"),
        ("audit_gzip", "coroner audit (oci gzip)"),
        ("audit_zstd", "coroner audit (oci zstd)"),
        ("verify_archive", "coroner packages --verify (docker-archive)"),
        ("floor_md5sum_pkg", "md5sum -c of every dpkg md5sums list (extracted root)"),
        ("daemon_save_o", "docker save -o (daemon)"),
        ("daemon_diagnose", "coroner diagnose docker-daemon:"),
        ("daemon_diagnose_export", "coroner diagnose --via export docker-daemon:"),
        ("find_registry", "coroner find -perm /111 (docker:// on loopback, gzip)"),
        ("skopeo_find_registry", "skopeo copy docker:// to oci: + coroner find -perm /111 of it"),
        ("umoci_unpack_gzip", "umoci unpack (oci gzip)"),
        ("byhand_docker", "by hand: docker create + export / tar x + find -perm /111 + find -nouser + rm"),
        ("byhand_tar", "by hand without the daemon: tar x of the export + both finds + rm")):
    ORDER.append(name)
    LABELS[name] = label

if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "layers":
        cmd_layers(*sys.argv[2:])
    elif len(sys.argv) == 3 and sys.argv[1] == "report":
        cmd_report(sys.argv[2])
    else:
        sys.exit(__doc__)
