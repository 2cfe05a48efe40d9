#!/usr/bin/env python3
"""Unit tests of treecmp.py on tiny trees built here: a folder and tars made from it with
tarfile, then one change at a time must be reported (and nothing else). Needs root for the
device node and owner cases (skipped otherwise)."""

import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import treecmp  # noqa: E402

ROOT = os.geteuid() == 0
LATIN1 = os.fsdecode(b"caf\xe9-\xff.txt")


def build(d):
    os.makedirs(d + "/a/b")
    with open(d + "/a/f.txt", "w") as f:
        f.write("hello\n")
    os.link(d + "/a/f.txt", d + "/a/b/hl")
    os.symlink("../f.txt", d + "/a/b/rel")
    os.symlink("/nowhere", d + "/dangling")
    os.mkfifo(d + "/fifo")
    with open(d + "/a/" + LATIN1, "w") as f:
        f.write("latin1\n")
    with open(d + "/suid", "w") as f:
        f.write("#!/bin/sh\n")
    os.chmod(d + "/suid", 0o4755)
    os.mkdir(d + "/sticky")
    os.chmod(d + "/sticky", 0o1777)
    os.mkdir(d + "/empty")
    if ROOT:
        os.mknod(d + "/null", 0o20666, os.makedev(1, 3))
        os.chmod(d + "/null", 0o666)
        os.chown(d + "/a/f.txt", 1000, 2000)
        os.setxattr(d + "/suid", "security.capability",
                    bytes.fromhex("0100000200040000000000000000000000000000"))


def tar_of(d, path, mangle=None):
    """Tars folder d (like `tar -C d .`); mangle(TarInfo) may edit entries."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT, encoding="utf-8",
                      errors="surrogateescape") as tf:
        for top, dirs, files in os.walk(d):
            dirs.sort()
            for name in sorted(dirs + files):
                full = os.path.join(top, name)
                ti = tf.gettarinfo(full, os.path.relpath(full, d))
                try:
                    for k in os.listxattr(full, follow_symlinks=False):
                        v = os.getxattr(full, k, follow_symlinks=False)
                        ti.pax_headers["SCHILY.xattr." + k] = v.decode("utf-8", "surrogateescape")
                except OSError:
                    pass
                if mangle:
                    ti = mangle(ti)
                if ti is None:
                    continue
                if ti.isreg():
                    with open(full, "rb") as f:
                        tf.addfile(ti, f)
                else:
                    tf.addfile(ti)


def run(a, b, *opts):
    out = io.StringIO()
    old = sys.stdout
    sys.stdout = out
    try:
        rc = treecmp.main([a, b, *opts])
    finally:
        sys.stdout = old
    lines = out.getvalue().splitlines()
    return rc, [l for l in lines if not l.startswith("treecmp:")], lines[-1] if lines else ""


class TreecmpTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.a = self.tmp + "/a"
        self.b = self.tmp + "/b"
        # Two independent builds (a copy would lose hardlinks, owners and xattrs).
        build(self.a)
        build(self.b)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def assertDiffs(self, expected, *opts, a=None, b=None):
        rc, diffs, summary = run(a or self.a, b or self.b, *opts)
        self.assertEqual(diffs, expected)
        self.assertEqual(rc, 1 if expected else 0)
        self.assertRegex(summary, r"^treecmp: \d+ paths compared, %d differences$" % len(expected))

    def test_identical_folders_are_equal(self):
        self.assertDiffs([])

    def test_folder_equals_its_tar(self):
        tar_of(self.a, self.tmp + "/a.tar")
        self.assertDiffs([], b=self.tmp + "/a.tar")

    def test_tar_on_stdin(self):
        tar_of(self.a, self.tmp + "/a.tar")
        with open(self.tmp + "/a.tar", "rb") as f:
            p = subprocess.run([sys.executable, treecmp.__file__, self.b, "-"], stdin=f,
                               capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertIn("0 differences", p.stdout)

    def test_content_change(self):
        with open(self.b + "/a/f.txt", "w") as f:
            f.write("HELLO\n")
        rc, diffs, _ = run(self.a, self.b)
        self.assertEqual(rc, 1)
        # The hardlinked path shows the same change.
        self.assertEqual(sorted(d.split(":")[0] for d in diffs), ["/a/b/hl", "/a/f.txt"])
        self.assertIn("content sha256", diffs[0])

    def test_size_change(self):
        with open(self.b + "/a/" + LATIN1, "w") as f:
            f.write("longer latin1\n")
        self.assertDiffs(["/a/caf\\xe9-\\xff.txt: size 7 != 14"])

    def test_mode_setuid_and_sticky(self):
        os.chmod(self.b + "/suid", 0o755)
        os.chmod(self.b + "/sticky", 0o777)
        self.assertDiffs(["/sticky: mode 1777 != 0777", "/suid: mode 4755 != 0755"])

    def test_symlink_target(self):
        os.remove(self.b + "/a/b/rel")
        os.symlink("/a/f.txt", self.b + "/a/b/rel")
        self.assertDiffs(["/a/b/rel: symlink target ../f.txt != /a/f.txt"])

    def test_missing_and_extra(self):
        os.rmdir(self.b + "/empty")
        os.mkdir(self.b + "/new")
        self.assertDiffs(["/empty: only in A (dir)", "/new: only in B (dir)"])

    def test_type_change(self):
        os.remove(self.b + "/fifo")
        os.mkdir(self.b + "/fifo")
        self.assertDiffs(["/fifo: type fifo != dir"])

    def test_hardlink_group_broken(self):
        os.remove(self.b + "/a/b/hl")
        shutil.copy(self.b + "/a/f.txt", self.b + "/a/b/hl")
        if ROOT:
            os.chown(self.b + "/a/b/hl", 1000, 2000)
        self.assertDiffs(["/a/b/hl: hardlinks {/a/b/hl, /a/f.txt} != (none)",
                          "/a/f.txt: hardlinks {/a/b/hl, /a/f.txt} != (none)"])

    def test_tar_hardlink_takes_target_metadata(self):
        tar_of(self.a, self.tmp + "/a.tar")
        self.assertDiffs([], b=self.tmp + "/a.tar")
        # A tar with the link written as a second regular file: same content, no group.
        def unlink(ti):
            if ti.islnk():
                return None
            return ti
        tar_of(self.a, self.tmp + "/nolink.tar", unlink)
        rc, diffs, _ = run(self.a, self.tmp + "/nolink.tar")
        self.assertEqual(diffs, ["/a/b/hl: only in A (file)",
                                 "/a/f.txt: hardlinks {/a/b/hl, /a/f.txt} != (none)"])

    def test_ignore_subtree_and_entry(self):
        os.mkdir(self.b + "/extra")
        open(self.b + "/extra/x", "w").close()
        os.chmod(self.b + "/a", 0o700)
        self.assertDiffs([], "--ignore", "/extra", "--ignore-entry", "a")
        self.assertDiffs(["/extra: only in B (dir)"], "--ignore", "/extra/x", "--ignore-entry",
                         "/a")

    def test_ignore_docker_injected(self):
        os.makedirs(self.b + "/etc")
        os.makedirs(self.a + "/etc")
        for p in ["/.dockerenv", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf"]:
            open(self.b + p, "w").close()
        os.symlink("/proc/mounts", self.b + "/etc/mtab")
        for p in ["/proc", "/sys", "/dev", "/dev/pts", "/dev/shm"]:
            os.mkdir(self.b + p)
        open(self.b + "/dev/console", "w").close()
        open(self.b + "/dev/image-file", "w").close()
        self.assertDiffs(["/dev/image-file: only in B (file)"], "--ignore-docker-injected")

    def test_mtime_only_with_compare_mtime(self):
        os.utime(self.b + "/a/f.txt", (1, 1))
        self.assertDiffs([])
        rc, diffs, _ = run(self.a, self.b, "--compare-mtime")
        self.assertEqual(rc, 1)
        self.assertTrue(all("mtime" in d for d in diffs))

    def test_root_mode(self):
        os.chmod(self.b, 0o700)
        self.assertDiffs(["/: mode 0755 != 0700"])
        self.assertDiffs([], "--ignore-dir-mode-of-root")

    @unittest.skipUnless(ROOT, "needs root for mknod, chown and security.* xattrs")
    def test_owner_device_xattr(self):
        os.chown(self.b + "/a/f.txt", 1000, 2001)
        os.remove(self.b + "/null")
        os.mknod(self.b + "/null", 0o20666, os.makedev(1, 5))
        os.chmod(self.b + "/null", 0o666)
        os.removexattr(self.b + "/suid", "security.capability")
        self.assertDiffs([
            "/a/b/hl: owner 1000:2000 != 1000:2001",
            "/a/f.txt: owner 1000:2000 != 1000:2001",
            "/null: device 1,3 != 1,5",
            "/suid: xattr security.capability 0100000200040000000000000000000000000000 != (absent)",
        ])

    @unittest.skipUnless(ROOT, "needs root for security.* xattrs")
    def test_xattr_from_tar(self):
        tar_of(self.a, self.tmp + "/a.tar")
        os.removexattr(self.b + "/suid", "security.capability")
        rc, diffs, _ = run(self.tmp + "/a.tar", self.b)
        self.assertEqual(diffs, ["/suid: xattr security.capability "
                                 "0100000200040000000000000000000000000000 != (absent)"])

    def test_bad_input_exits_2(self):
        self.assertEqual(run(self.tmp + "/missing", self.b)[0], 2)
        with open(self.tmp + "/bad.tar", "wb") as f:
            f.write(b"not a tar" * 100)
        self.assertEqual(run(self.tmp + "/bad.tar", self.b)[0], 2)

    def test_tar_hardlink_whose_target_is_replaced_later(self):
        # orig v1, hl -> orig, then orig v2: extraction leaves hl with v1 and no group.
        def add(tf, name, data):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = 0o644
            tf.addfile(ti, io.BytesIO(data))
        with tarfile.open(self.tmp + "/r.tar", "w") as tf:
            add(tf, "orig", b"v1\n")
            ti = tarfile.TarInfo("hl")
            ti.type = tarfile.LNKTYPE
            ti.linkname = "orig"
            ti.mode = 0o644
            tf.addfile(ti)
            add(tf, "orig", b"v2 longer\n")
        d = self.tmp + "/r"
        os.mkdir(d)
        os.chmod(d, 0o755)
        with open(d + "/orig", "w") as f:
            f.write("v2 longer\n")
        with open(d + "/hl", "w") as f:
            f.write("v1\n")
        os.chmod(d + "/orig", 0o644)
        os.chmod(d + "/hl", 0o644)
        rc, diffs, summary = run(self.tmp + "/r.tar", d)
        self.assertEqual(diffs, [])
        self.assertEqual(summary, "treecmp: 2 paths compared, 0 differences")


if __name__ == "__main__":
    unittest.main(verbosity=2)
