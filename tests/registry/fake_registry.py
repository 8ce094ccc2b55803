#!/usr/bin/env python3
"""A misbehaving registry for the tests: serves the images of an OCI image
layout (tests/registry/mkimages.sh) over the distribution API on loopback,
with faults chosen by the repository name:
  ok/...      as a registry should; counts concurrent blob downloads
  flaky/...   each blob: first GET answers 503, the second drops the
              connection half-way, the third works (retries with back-off)
  stall/...   blobs send half their bytes, then nothing (stall timeout)
  slow/...    blobs are sent in small pieces over ~0.5 s (parallelism)
  huge/...    every manifest is 5 MiB (a giant annotation)
GET /stats -> {"max_concurrent": N, "blob_gets": N} of slow/ blobs. Exits
with its parent.
usage: fake_registry.py PORT LAYOUT"""
import json, os, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, layout = int(sys.argv[1]), sys.argv[2]
lock = threading.Lock()
state = {"cur": 0, "max": 0, "gets": 0, "tries": {}}
with open(os.path.join(layout, "index.json")) as f:
    tags = {m["annotations"]["org.opencontainers.image.ref.name"]: m
            for m in json.load(f)["manifests"] if "annotations" in m}


def blob(d):
    with open(os.path.join(layout, "blobs", "sha256", d.split(":", 1)[1]), "rb") as f:
        return f.read()


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, code, body=b"", ctype="application/json", length=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()

    def do_GET(self):
        p = self.path.split("?")[0]
        if p == "/stats":
            b = json.dumps({"max_concurrent": state["max"], "blob_gets": state["gets"]}).encode()
            self.send(200, b)
            self.wfile.write(b)
            return
        if p == "/v2/":
            self.send(200, b"{}")
            self.wfile.write(b"{}")
            return
        parts = p.split("/")
        if len(parts) < 5 or parts[1] != "v2":
            self.send(404)
            return
        mode, kind, ref = parts[2], parts[-2], parts[-1]
        try:
            if kind == "manifests" and mode == "huge":
                data = json.dumps({"schemaVersion": 2, "layers": [], "annotations":
                                   {"pad": "x" * (5 << 20)}}).encode()
                self.send(200, data, "application/vnd.oci.image.manifest.v1+json")
                self.wfile.write(data)
                return
            if kind == "manifests":
                d = tags[ref] if ref in tags else {"digest": ref, "mediaType": None}
                data = blob(d["digest"])
                mt = d.get("mediaType") or json.loads(data).get("mediaType")
                self.send(200, data, mt)
                self.wfile.write(data)
                return
            data = blob(ref)
        except (KeyError, FileNotFoundError):
            self.send(404, b'{"errors":[{"code":"BLOB_UNKNOWN","message":"unknown"}]}')
            self.wfile.write(b'{"errors":[{"code":"BLOB_UNKNOWN","message":"unknown"}]}')
            return
        counted = mode == "slow"
        with lock:
            n = state["tries"][mode + ref] = state["tries"].get(mode + ref, 0) + 1
            if counted:
                state["gets"] += 1
                state["cur"] += 1
                state["max"] = max(state["max"], state["cur"])
        try:
            if mode == "flaky" and n == 1:
                self.send(503, b"{}")
                self.wfile.write(b"{}")
            elif (mode == "flaky" and n == 2) or mode == "stall":
                self.send(200, b"", "application/octet-stream", len(data))
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                if mode == "stall":
                    time.sleep(60)
                self.close_connection = True
            elif mode == "slow":
                self.send(200, b"", "application/octet-stream", len(data))
                step = max(1, len(data) // 10)
                for i in range(0, len(data), step):
                    if i + step >= len(data):
                        # done counting before the client can see the end
                        with lock:
                            state["cur"] -= 1
                        counted = False
                    self.wfile.write(data[i:i + step])
                    self.wfile.flush()
                    time.sleep(0.05)
            else:
                self.send(200, data, "application/octet-stream")
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            if counted:
                with lock:
                    state["cur"] -= 1


def watch_parent():
    ppid = os.getppid()
    while os.getppid() == ppid:
        time.sleep(1)
    os._exit(0)


threading.Thread(target=watch_parent, daemon=True).start()
ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
