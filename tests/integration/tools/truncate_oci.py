#!/usr/bin/env python3
"""Writes an OCI layout holding the image LAYOUT:REF cut down to its bottom K layers (the image
as it was after its K-th layer: config diff_ids and history cut to match), tagged REF.

  truncate_oci.py LAYOUT REF K OUT_DIR

Layer blobs are hard-linked (copied across file systems) from LAYOUT. Standard library only.
"""

import hashlib
import json
import os
import shutil
import sys


def blob_path(layout, digest):
    algo, hexd = digest.split(":", 1)
    return os.path.join(layout, "blobs", algo, hexd)


def write_blob(out, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with open(blob_path(out, digest), "wb") as f:
        f.write(data)
    return digest


def main(argv):
    if len(argv) != 5:
        sys.exit(__doc__)
    layout, ref, k, out = argv[1], argv[2], int(argv[3]), argv[4]
    index = json.load(open(os.path.join(layout, "index.json")))
    desc = next(m for m in index["manifests"]
                if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref)
    manifest = json.load(open(blob_path(layout, desc["digest"])))
    config = json.load(open(blob_path(layout, manifest["config"]["digest"])))
    if not 0 < k <= len(manifest["layers"]):
        sys.exit("K must be 1..%d" % len(manifest["layers"]))
    os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)
    for layer in manifest["layers"][:k]:
        dst = blob_path(out, layer["digest"])
        if not os.path.exists(dst):
            try:
                os.link(blob_path(layout, layer["digest"]), dst)
            except OSError:
                shutil.copyfile(blob_path(layout, layer["digest"]), dst)
    config["rootfs"]["diff_ids"] = config["rootfs"]["diff_ids"][:k]
    history, seen = [], 0
    for h in config.get("history", []):
        if seen == k:
            break
        history.append(h)
        if not h.get("empty_layer"):
            seen += 1
    config["history"] = history
    config_data = json.dumps(config).encode()
    manifest["config"] = dict(manifest["config"], digest=write_blob(out, config_data),
                              size=len(config_data))
    manifest["layers"] = manifest["layers"][:k]
    manifest_data = json.dumps(manifest).encode()
    index_out = {"schemaVersion": 2, "manifests": [{
        "mediaType": desc.get("mediaType", "application/vnd.oci.image.manifest.v1+json"),
        "digest": write_blob(out, manifest_data), "size": len(manifest_data),
        "annotations": {"org.opencontainers.image.ref.name": ref}}]}
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(index_out, f)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
