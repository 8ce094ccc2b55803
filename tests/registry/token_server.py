#!/usr/bin/env python3
"""A tiny Docker registry token service for the tests (the Bearer flow of
the distribution spec): GET /token?service=S&scope=repository:R:pull with
HTTP Basic credentials -> {"token": JWT, "expires_in": 300}. JWTs are RS256,
signed with openssl, with the certificate in the x5c header so that
docker-registry (auth: token, rootcertbundle) verifies them. Anonymous
requests get 401. Serves loopback only; exits when its parent dies.

usage: token_server.py PORT KEY.pem CERT.pem USER PASSWORD SERVICE ISSUER
Writes its request log (no credentials) to stderr."""
import base64, json, os, subprocess, sys, threading, time, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, key, cert, user, password, service, issuer = sys.argv[1:8]
der = subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"],
                     check=True, capture_output=True).stdout


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def sign(claims):
    hdr = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}
    msg = (b64(json.dumps(hdr).encode()) + "." + b64(json.dumps(claims).encode())).encode()
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=msg,
                         check=True, capture_output=True).stdout
    return msg.decode() + "." + b64(sig)


class H(BaseHTTPRequestHandler):
    def log_message(self, fmt, *a):
        sys.stderr.write("token: " + (fmt % a) + "\n")

    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        auth = self.headers.get("Authorization", "")
        ok = False
        if auth.startswith("Basic "):
            try:
                u_, p_ = base64.b64decode(auth[6:]).decode().split(":", 1)
                ok = (u_ == user and p_ == password)
            except Exception:
                ok = False
        if u.path != "/token" or not ok or q.get("service", [""])[0] != service:
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"errors":[{"code":"UNAUTHORIZED","message":"no"}]}')
            return
        access = []
        for scope in q.get("scope", []):
            parts = scope.split(":")
            if len(parts) == 3 and parts[0] == "repository":
                access.append({"type": "repository", "name": parts[1],
                               "actions": parts[2].split(",")})
        now = int(time.time())
        tok = sign({"iss": issuer, "sub": user, "aud": service, "exp": now + 300,
                    "nbf": now - 10, "iat": now, "jti": os.urandom(8).hex(),
                    "access": access})
        body = json.dumps({"token": tok, "expires_in": 300}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def watch_parent():
    ppid = os.getppid()
    while os.getppid() == ppid:
        time.sleep(1)
    os._exit(0)


threading.Thread(target=watch_parent, daemon=True).start()
ThreadingHTTPServer(("127.0.0.1", int(port)), H).serve_forever()
