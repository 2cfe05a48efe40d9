#!/usr/bin/env python3
"""Compares two filesystem trees, each a folder, a tar file (gzip/bzip2/xz too) or "-" (a tar on
stdin): paths, types, permission bits (with setuid/setgid/sticky), uid/gid, sizes and sha256 of
regular files, symlink targets, device numbers, hardlink groups and xattrs. Prints one line per
difference, then "treecmp: N paths compared, M differences"; exits 0 if equal, 1 if not, 2 on bad
input. Standard library only.

Not compared, on purpose:
- mtime (unless --compare-mtime): a tree unpacked by one tool and exported by another differs in
  directory mtimes for reasons that say nothing about content (a directory's mtime changes when an
  extractor creates its children unless it restores it afterwards, whiteouts applied at unpack
  time touch the parent, docker's vfs init layer touches /etc and /dev); atime and ctime never
  mean anything across copies.
- user and group names: only the numeric ids decide access.
- sizes of anything but regular files (tar headers carry 0 for links and directories).
- the root directory's own mode and owner with --ignore-dir-mode-of-root: a tar need not have a
  "./" entry and an unpacker picks the root's mode itself (umoci's rootfs/ is 0755 root:root
  whatever the image says). A root missing on one side is never a difference.
Hardlinks: in a folder, the paths sharing an inode within the tree; in a tar, a hardlink entry
joins its target's group (and takes its target's metadata, as extraction would). A later tar
entry for the same path replaces the earlier one, as extraction does.
"""

import argparse
import hashlib
import os
import stat
import sys
import tarfile

DOCKER_INJECTED_SUBTREES = ["/.dockerenv", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/etc/mtab",
                            "/proc", "/sys", "/dev/console", "/dev/pts", "/dev/shm"]
# Only the entry itself: the image's own files below /dev are still compared.
DOCKER_INJECTED_ENTRIES = ["/dev"]


class Node:
    """What an inode holds; the paths of one hardlink group share a Node."""
    __slots__ = ("kind", "mode", "uid", "gid", "size", "sha256", "target", "rdev", "xattrs",
                 "mtime")

    def __init__(self, kind, mode, uid, gid, size=None, sha256=None, target=None, rdev=None,
                 xattrs=None, mtime=None):
        self.kind, self.mode, self.uid, self.gid = kind, mode, uid, gid
        self.size, self.sha256, self.target, self.rdev = size, sha256, target, rdev
        self.xattrs = xattrs or {}
        self.mtime = mtime


def norm(name):
    """A tar member name or relative path as "/a/b"; the root is "/"."""
    parts = [p for p in name.split("/") if p not in ("", ".")]
    return "/" + "/".join(parts)


def show(path):
    """Printable, unambiguous form of a path: bytes that are not UTF-8 and control characters
    as \\xNN, a backslash doubled."""
    out = []
    for ch in path:
        if 0xDC80 <= ord(ch) <= 0xDCFF:  # surrogateescape'd byte
            out.append("\\x%02x" % (ord(ch) - 0xDC00))
        elif ch == "\\":
            out.append("\\\\")
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append("".join("\\x%02x" % c for c in ch.encode("utf-8")))
    return "".join(out)


def sha256_stream(f):
    h = hashlib.sha256()
    n = 0
    while True:
        chunk = f.read(1 << 20)
        if not chunk:
            return h.hexdigest(), n
        h.update(chunk)
        n += len(chunk)


def tar_xattrs(ti):
    xattrs = {}
    for key, value in ti.pax_headers.items():
        if key.startswith("SCHILY.xattr."):
            xattrs[key[len("SCHILY.xattr."):]] = value.encode("utf-8", "surrogateescape")
    for key, value in ti.pax_headers.items():
        if key.startswith("LIBARCHIVE.xattr."):
            import base64
            import urllib.parse
            name = urllib.parse.unquote(key[len("LIBARCHIVE.xattr."):])
            xattrs.setdefault(name, base64.b64decode(value + "=" * (-len(value) % 4)))
    return xattrs


def read_tar(spec):
    """Returns {path: Node} from a tar file or "-" (stdin)."""
    entries = {}
    if spec == "-":
        tf = tarfile.open(fileobj=sys.stdin.buffer, mode="r|*", encoding="utf-8",
                          errors="surrogateescape")
    else:
        tf = tarfile.open(spec, mode="r|*", encoding="utf-8", errors="surrogateescape")
    with tf:
        for ti in tf:
            path = norm(ti.name)
            common = dict(mode=ti.mode & 0o7777, uid=ti.uid, gid=ti.gid, xattrs=tar_xattrs(ti),
                          mtime=int(ti.mtime))
            if ti.islnk():
                target = norm(ti.linkname)
                node = entries.get(target)
                if node is None:
                    raise ValueError("%s: hardlink %s to %s, which is not (yet) in the tar"
                                     % (spec, show(path), show(target)))
                entries[path] = node
                continue
            if ti.isreg():
                digest, n = sha256_stream(tf.extractfile(ti))
                node = Node("file", size=n, sha256=digest, **common)
            elif ti.isdir():
                node = Node("dir", **common)
            elif ti.issym():
                node = Node("symlink", target=ti.linkname, **common)
            elif ti.ischr():
                node = Node("char", rdev=(ti.devmajor, ti.devminor), **common)
            elif ti.isblk():
                node = Node("block", rdev=(ti.devmajor, ti.devminor), **common)
            elif ti.isfifo():
                node = Node("fifo", **common)
            else:
                raise ValueError("%s: %s: unknown tar type %r" % (spec, show(path), ti.type))
            entries[path] = node
    return entries


def dir_xattrs(path):
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return {}
    out = {}
    for name in names:
        try:
            out[name] = os.getxattr(path, name, follow_symlinks=False)
        except OSError:
            pass
    return out


def read_dir(root):
    """Returns {path: Node} from a folder; hardlinked paths share one Node."""
    entries = {}
    inodes = {}

    def add(full, rel):
        st = os.lstat(full)
        key = (st.st_dev, st.st_ino)
        if not stat.S_ISDIR(st.st_mode) and st.st_nlink > 1 and key in inodes:
            entries[rel] = inodes[key]
            return
        common = dict(mode=stat.S_IMODE(st.st_mode), uid=st.st_uid, gid=st.st_gid,
                      xattrs=dir_xattrs(full), mtime=int(st.st_mtime))
        m = st.st_mode
        if stat.S_ISREG(m):
            with open(full, "rb") as f:
                digest, n = sha256_stream(f)
            node = Node("file", size=n, sha256=digest, **common)
        elif stat.S_ISDIR(m):
            node = Node("dir", **common)
        elif stat.S_ISLNK(m):
            node = Node("symlink", target=os.readlink(full), **common)
        elif stat.S_ISCHR(m):
            node = Node("char", rdev=(os.major(st.st_rdev), os.minor(st.st_rdev)), **common)
        elif stat.S_ISBLK(m):
            node = Node("block", rdev=(os.major(st.st_rdev), os.minor(st.st_rdev)), **common)
        elif stat.S_ISFIFO(m):
            node = Node("fifo", **common)
        elif stat.S_ISSOCK(m):
            node = Node("socket", **common)
        else:
            raise ValueError("%s: unknown file type %o" % (show(full), m))
        if not stat.S_ISDIR(m) and st.st_nlink > 1:
            inodes[key] = node
        entries[rel] = node

    add(root, "/")
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = norm(os.path.relpath(dirpath, root))
        for name in dirnames + filenames:
            add(os.path.join(dirpath, name), (rel_dir.rstrip("/") + "/" + name))
    return entries


def load(spec):
    if spec == "-" or os.path.isfile(spec):
        return read_tar(spec)
    if os.path.isdir(spec):
        return read_dir(spec)
    raise ValueError("%s: neither a folder nor a tar file" % spec)


def ignored(path, subtrees, entries):
    if path in entries:
        return True
    for p in subtrees:
        if p == "/" or path == p or path.startswith(p + "/"):
            return True
    return False


def groups(entries):
    """{path: frozenset of the other paths sharing its Node}, for groups of two or more."""
    by_node = {}
    for path, node in entries.items():
        if node.kind != "dir":
            by_node.setdefault(id(node), []).append(path)
    out = {}
    for paths in by_node.values():
        if len(paths) > 1:
            for p in paths:
                out[p] = frozenset(paths)
    return out


def fmt_xattr(value):
    if value is None:
        return "(absent)"
    return value.hex()


def compare(a, b, args):
    subtrees = [norm(p) for p in args.ignore]
    only_entries = [norm(p) for p in args.ignore_entry]
    if args.ignore_docker_injected:
        subtrees += DOCKER_INJECTED_SUBTREES
        only_entries += DOCKER_INJECTED_ENTRIES
    diffs = []
    ga, gb = groups(a), groups(b)
    paths = sorted(set(a) | set(b), key=lambda p: p.encode("utf-8", "surrogateescape"))
    compared = 0
    for path in paths:
        if ignored(path, subtrees, only_entries):
            continue
        na, nb = a.get(path), b.get(path)
        if path == "/" and (na is None or nb is None):
            continue
        compared += 1
        p = show(path)
        if na is None:
            diffs.append("%s: only in B (%s)" % (p, nb.kind))
            continue
        if nb is None:
            diffs.append("%s: only in A (%s)" % (p, na.kind))
            continue
        if na.kind != nb.kind:
            diffs.append("%s: type %s != %s" % (p, na.kind, nb.kind))
            continue
        root_meta = path == "/" and args.ignore_dir_mode_of_root
        if na.mode != nb.mode and not root_meta:
            diffs.append("%s: mode %04o != %04o" % (p, na.mode, nb.mode))
        if (na.uid, na.gid) != (nb.uid, nb.gid) and not root_meta:
            diffs.append("%s: owner %d:%d != %d:%d" % (p, na.uid, na.gid, nb.uid, nb.gid))
        if na.kind == "file":
            if na.size != nb.size:
                diffs.append("%s: size %d != %d" % (p, na.size, nb.size))
            elif na.sha256 != nb.sha256:
                diffs.append("%s: content sha256 %s != %s" % (p, na.sha256, nb.sha256))
        if na.kind == "symlink" and na.target != nb.target:
            diffs.append("%s: symlink target %s != %s" % (p, show(na.target), show(nb.target)))
        if na.rdev != nb.rdev:
            diffs.append("%s: device %d,%d != %d,%d" % ((p,) + na.rdev + nb.rdev))
        for name in sorted(set(na.xattrs) | set(nb.xattrs)):
            va, vb = na.xattrs.get(name), nb.xattrs.get(name)
            if va != vb:
                diffs.append("%s: xattr %s %s != %s" % (p, name, fmt_xattr(va), fmt_xattr(vb)))
        if args.compare_mtime and na.mtime != nb.mtime:
            diffs.append("%s: mtime %d != %d" % (p, na.mtime, nb.mtime))
        la = {q for q in ga.get(path, ()) if not ignored(q, subtrees, only_entries)}
        lb = {q for q in gb.get(path, ()) if not ignored(q, subtrees, only_entries)}
        if len(la) < 2:
            la = set()
        if len(lb) < 2:
            lb = set()
        if la != lb:
            fmt = lambda s: "{" + ", ".join(show(q) for q in sorted(s)) + "}" if s else "(none)"
            diffs.append("%s: hardlinks %s != %s" % (p, fmt(la), fmt(lb)))
    return compared, diffs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", help="folder, tar file or - (A)")
    ap.add_argument("b", help="folder, tar file or - (B)")
    ap.add_argument("--ignore", action="append", default=[], metavar="PATH",
                    help="ignore PATH and everything below it (repeatable)")
    ap.add_argument("--ignore-entry", action="append", default=[], metavar="PATH",
                    help="ignore PATH's own entry, still compare what is below it")
    ap.add_argument("--ignore-docker-injected", action="store_true",
                    help="ignore what Docker adds to a container: " +
                    ", ".join(DOCKER_INJECTED_SUBTREES) + " and the /dev entry itself")
    ap.add_argument("--compare-mtime", action="store_true",
                    help="also compare mtimes (off by default: see the module doc)")
    ap.add_argument("--ignore-mtime", action="store_true", default=True,
                    help="the default; kept for explicitness")
    ap.add_argument("--ignore-dir-mode-of-root", action="store_true",
                    help="do not compare the root directory's mode and owner")
    ap.add_argument("--quiet", action="store_true", help="print only the summary line")
    args = ap.parse_args(argv)
    if args.a == "-" and args.b == "-":
        ap.error("only one side can be stdin")
    try:
        a, b = load(args.a), load(args.b)
    except (OSError, ValueError, tarfile.TarError) as e:
        print("treecmp: error: %s" % e, file=sys.stderr)
        return 2
    compared, diffs = compare(a, b, args)
    if not args.quiet:
        print("treecmp: A = %s, B = %s" % (args.a, args.b))
        for d in diffs:
            print(d)
    print("treecmp: %d paths compared, %d differences" % (compared, len(diffs)))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
