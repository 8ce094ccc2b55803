#!/usr/bin/env python3
"""Add a hostile image to an OCI image layout: its one layer is gzip'd
random bytes, not a tar, with digests and diff_id all correct, so only the
tar check can refuse it: oci_notar.py LAYOUT SRC_TAG NEW_TAG"""
import gzip, hashlib, json, os, sys

layout, src, new = sys.argv[1:4]


def path(d):
    return os.path.join(layout, "blobs", "sha256", d.split(":")[1])


def write(data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(layout, "blobs", "sha256", d), "wb") as f:
        f.write(data)
    return "sha256:" + d


with open(os.path.join(layout, "index.json")) as f:
    index = json.load(f)
desc = next(m for m in index["manifests"]
            if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == src)
with open(path(desc["digest"]), "rb") as f:
    man = json.load(f)
with open(path(man["config"]["digest"]), "rb") as f:
    cfg = json.load(f)
raw = os.urandom(4096)
gz = gzip.compress(raw)
cfg["rootfs"]["diff_ids"] = ["sha256:" + hashlib.sha256(raw).hexdigest()]
cb = json.dumps(cfg).encode()
man["config"] = dict(man["config"], digest=write(cb), size=len(cb))
man["layers"] = [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                  "digest": write(gz), "size": len(gz)}]
mb = json.dumps(man).encode()
index["manifests"].append({"mediaType": desc["mediaType"], "digest": write(mb), "size": len(mb),
                           "annotations": {"org.opencontainers.image.ref.name": new}})
with open(os.path.join(layout, "index.json"), "w") as f:
    json.dump(index, f)
