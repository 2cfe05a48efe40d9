#!/usr/bin/env python3
"""Writes the last layer of the layered test image (a tar, argv[1]): the whiteout forms that
Docker's vfs builder never writes (it diffs directories, so it emits plain .wh. files and no
opaque markers), as overlayfs-based builders do. tools/add_layer.py appends it to the docker
save of the Dockerfile's image, and `docker load` applies it with the daemon's own rules.
  /t/opq              opaque (.wh..wh..opq) with a new file: hides /t/opq/new of layer 3
  /t/readd            opaque and a re-added f in the same layer
  /t/kinds/f2d        opaque over a dir that layer 3 made from a file, now empty
  /t/keep/over.txt    whiteout of a file
  /t/names            whiteout of a whole directory
  /t/links/late-a,-b  a hardlink pair inside this layer
Entries are in the order a builder would write them (parent dir, then its whiteouts)."""

import io
import sys
import tarfile

MTIME = 1700000000


def entry(tf, name, kind="file", data=b"", mode=0o644, linkname="", uid=0, gid=0):
    ti = tarfile.TarInfo(name)
    ti.mtime, ti.mode, ti.uid, ti.gid = MTIME, mode, uid, gid
    if kind == "dir":
        ti.type = tarfile.DIRTYPE
        tf.addfile(ti)
    elif kind == "link":
        ti.type = tarfile.LNKTYPE
        ti.linkname = linkname
        tf.addfile(ti)
    else:
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))


with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as tf:
    entry(tf, "t/", "dir", mode=0o755)
    entry(tf, "t/opq/", "dir", mode=0o750, uid=1000, gid=1000)
    entry(tf, "t/opq/.wh..wh..opq")
    entry(tf, "t/opq/fresh", data=b"only file left in an opaque dir\n")
    entry(tf, "t/readd/", "dir", mode=0o755)
    entry(tf, "t/readd/.wh..wh..opq")
    entry(tf, "t/readd/f", data=b"readd v6, beside an opaque marker\n", mode=0o600)
    entry(tf, "t/kinds/", "dir", mode=0o755)
    entry(tf, "t/kinds/f2d/", "dir", mode=0o755)
    entry(tf, "t/kinds/f2d/.wh..wh..opq")
    entry(tf, "t/keep/", "dir", mode=0o755)
    entry(tf, "t/keep/.wh.over.txt")
    entry(tf, "t/.wh.names")
    entry(tf, "t/links/", "dir", mode=0o755)
    entry(tf, "t/links/late-a", data=b"hardlinked within the crafted layer\n", mode=0o640)
    # The link header repeats the inode's metadata, as every real tar writer does. (If it did
    # not, the references would split: dockerd, like containerd, applies a hardlink header's
    # mode and owner to the shared inode; umoci keeps the target's. Seen with mode 0644 here.)
    entry(tf, "t/links/late-b", "link", linkname="t/links/late-a", mode=0o640)
