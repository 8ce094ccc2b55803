#!/usr/bin/env python3
"""Add a multi-platform index to an OCI image layout (for the registry
tests): oci_index.py LAYOUT SRC_TAG NEW_TAG OS/ARCH... Each platform other
than the source's own (linux/amd64) gets a copy of the source manifest with
a config that says that platform (same layers); linux/amd64 in the list
means the source manifest itself."""
import hashlib, json, os, sys

layout, src, new, plats = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]


def blob_read(d):
    with open(os.path.join(layout, "blobs", "sha256", d.split(":")[1]), "rb") as f:
        return f.read()


def blob_write(data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(layout, "blobs", "sha256", d), "wb") as f:
        f.write(data)
    return "sha256:" + d


with open(os.path.join(layout, "index.json")) as f:
    index = json.load(f)
desc = next(m for m in index["manifests"]
            if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == src)
man = json.loads(blob_read(desc["digest"]))
cfg = json.loads(blob_read(man["config"]["digest"]))
entries = []
for p in plats:
    os_, arch = p.split("/")
    if (os_, arch) == ("linux", "amd64"):
        d = dict(desc)
    else:
        c = dict(cfg, os=os_, architecture=arch)
        cb = json.dumps(c).encode()
        m = dict(man, config=dict(man["config"], digest=blob_write(cb), size=len(cb)))
        mb = json.dumps(m).encode()
        d = {"mediaType": desc["mediaType"], "digest": blob_write(mb), "size": len(mb)}
    d.pop("annotations", None)
    d["platform"] = {"os": os_, "architecture": arch}
    entries.append(d)
ib = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                 "manifests": entries}).encode()
index["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json",
                           "digest": blob_write(ib), "size": len(ib),
                           "annotations": {"org.opencontainers.image.ref.name": new}})
with open(os.path.join(layout, "index.json"), "w") as f:
    json.dump(index, f)
