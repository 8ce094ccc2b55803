#!/usr/bin/env python3
"""Add an uncompressed copy of an image to an OCI image layout (skopeo
keeps reusing gzip blobs it knows instead of decompressing):
oci_plain.py LAYOUT SRC_TAG NEW_TAG"""
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
layers = []
for l in man["layers"]:
    with open(path(l["digest"]), "rb") as f:
        raw = gzip.decompress(f.read())
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar",
                   "digest": write(raw), "size": len(raw)})
man["layers"] = layers
mb = json.dumps(man).encode()
index["manifests"].append({"mediaType": desc["mediaType"], "digest": write(mb), "size": len(mb),
                           "annotations": {"org.opencontainers.image.ref.name": new}})
with open(os.path.join(layout, "index.json"), "w") as f:
    json.dump(index, f)
