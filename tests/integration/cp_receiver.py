#!/usr/bin/env python3
"""A test control plane: accepts podvmd's POSTs on 127.0.0.1 and appends
each body as one line to a file. With --fail-until T (unix time) it answers
503 until then, to simulate an outage."""
import argparse, http.server, json, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--port-file", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--fail-until", type=float, default=0)
args = ap.parse_args()

class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        if time.time() < args.fail_until:
            self.send_response(503); self.end_headers(); return
        try:
            obj = json.loads(body)
        except ValueError:
            self.send_response(400); self.end_headers(); return
        with open(args.out, "a") as f:
            f.write(json.dumps(obj, sort_keys=True) + "\n")
        self.send_response(200); self.end_headers()
    def log_message(self, *a):
        pass

srv = http.server.HTTPServer(("127.0.0.1", 0), H)
with open(args.port_file, "w") as f:
    f.write(str(srv.server_address[1]))
srv.serve_forever()
