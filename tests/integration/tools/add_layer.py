#!/usr/bin/env python3
"""Appends a layer to a docker-archive (`docker save` output): add_layer.py IN.tar LAYER.tar
OUT.tar REF [CREATED_BY]. LAYER.tar is an uncompressed layer tar; the config gets its diff_id and
a history entry, manifest.json gets the layer and RepoTags [REF]. `docker load` of OUT.tar then
applies it with the daemon's own whiteout and opaque-dir rules. Standard library only."""

import hashlib
import io
import json
import sys
import tarfile
import time


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def add_bytes(tf, name, data):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mode = 0o644
    ti.mtime = int(time.time())
    tf.addfile(ti, io.BytesIO(data))


def main(src, layer, dst, ref, created_by="crafted layer"):
    with tarfile.open(src) as tin:
        manifest = json.load(tin.extractfile("manifest.json"))
        assert len(manifest) == 1, "one image per archive"
        config = json.load(tin.extractfile(manifest[0]["Config"]))
        diff_id = "sha256:" + sha256_file(layer)
        config["rootfs"]["diff_ids"].append(diff_id)
        config.setdefault("history", []).append({
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "created_by": created_by})
        config_bytes = json.dumps(config, separators=(",", ":")).encode()
        config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
        layer_name = diff_id.split(":")[1] + "/layer.tar"
        manifest[0]["Config"] = config_name
        manifest[0]["Layers"].append(layer_name)
        manifest[0]["RepoTags"] = [ref]
        skip = {"manifest.json", "repositories"}
        with tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as tout:
            for ti in tin:
                if ti.name in skip or ti.name.endswith(".json") and "/" not in ti.name:
                    continue
                tout.addfile(ti, tin.extractfile(ti) if ti.isreg() else None)
            tout.add(layer, layer_name)
            add_bytes(tout, config_name, config_bytes)
            add_bytes(tout, "manifest.json", json.dumps(manifest).encode())


if __name__ == "__main__":
    if len(sys.argv) not in (5, 6):
        sys.exit(__doc__)
    main(*sys.argv[1:])
