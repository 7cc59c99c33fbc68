#!/usr/bin/env python3
"""Fake update server (PROTOCOL.md "Update") for Webwarden's tests.

Listens on 127.0.0.1 on a free port (or --port), writes the port to --port-file (atomically)
or prints it. The manifest is built on every request from the folder --payloads, so a test
publishes a new version by dropping a file there:

  pattern-<version>.tar | pattern-<version>.tar.gz   a pattern archive
  urldb-<version>.urldb                              a urldb file
  engine-<version>                                   announces an engine version (no payload)
  <payload file>.min_engine                          optional: its min_engine (one line)

For each component the highest version present is listed, with its size and SHA-256; payloads
are served at /files/<name> (url relative to the server, or absolute after {"absolute": true}).
With --sign-key PEM (an Ed25519 private key), /v1/manifest.sig is the base64 signature of the
exact manifest bytes, made with `openssl pkeyutl -sign -rawin` (so no Python module is needed);
without it /v1/manifest.sig is 404.

  POST /_mode  {"mode": "<mode>", "ms": N, "absolute": bool, "payloads": "<folder>"}
               -> 200 {"mode": ...}   (fields left out keep their value, "ms" excepted)
  GET  /_stats   -> 200 {"requests": {path: n}, "mode": ...}
  POST /_reset   -> zero the counters

Modes:
  normal     as above
  down       close the listening socket for "ms" milliseconds (default 3000): connections are
             refused; then listen again on the same port in mode normal
  hang       accept, read the request, never answer (until the mode changes or 60 s)
  404        every /v1/ and /files/ path answers 404
  truncated  payloads: announce the full Content-Length, send half, close
  corrupt    payloads: same size, one byte changed (SHA-256 mismatch)
  badsig     /v1/manifest.sig: a valid-looking signature of other bytes
  nosig      /v1/manifest.sig: 404
  malformed  /v1/manifest: 200 with a body that is not JSON
  bigger     payloads: one byte more than announced

Stdlib only, on t/fakelib.py.
"""
import argparse
import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakelib  # noqa: E402

FAKE = fakelib.Fake(absolute=False, requests={}, payloads=".")
STATE, LOCK = FAKE.state, FAKE.lock
ARGS = None
PAYLOAD_RE = re.compile(r"^(pattern|urldb|engine)-([0-9]+(?:\.[0-9]+)*)(\.tar\.gz|\.tar|\.urldb)?$")


def vkey(version):
    return [int(x) for x in version.split(".")]


def payloads():
    with LOCK:
        return STATE["payloads"]


def build_manifest(host):
    best = {}
    for name in sorted(os.listdir(payloads())):
        m = PAYLOAD_RE.match(name)
        if not m:
            continue
        comp, version, ext = m.group(1), m.group(2), m.group(3)
        if comp == "engine" and ext:
            continue
        if comp != "engine" and not ext:
            continue
        if comp in best and vkey(best[comp][0]) >= vkey(version):
            continue
        best[comp] = (version, name)
    comps = []
    for comp in ("pattern", "urldb", "engine"):
        if comp not in best:
            continue
        version, name = best[comp]
        entry = {"name": comp, "version": version}
        path = os.path.join(payloads(), name)
        if comp != "engine":
            with open(path, "rb") as f:
                data = f.read()
            url = "/files/" + name
            with LOCK:
                if STATE["absolute"]:
                    url = "http://%s%s" % (host, url)
            entry.update({"url": url, "size": len(data),
                          "sha256": hashlib.sha256(data).hexdigest()})
        if os.path.exists(path + ".min_engine"):
            with open(path + ".min_engine") as f:
                entry["min_engine"] = f.read().strip()
        comps.append(entry)
    return json.dumps({"components": comps}, indent=1).encode()


def sign(data):
    with tempfile.NamedTemporaryFile() as f:
        f.write(data)
        f.flush()
        out = subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", ARGS.sign_key,
                              "-in", f.name], check=True, capture_output=True).stdout
    return base64.b64encode(out) + b"\n"


class Handler(fakelib.Handler):
    def send_body(self, status, body, ctype="application/json", length=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        path = urlsplit(self.path).path
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n > 0 else b""
        if path == "/_mode":
            try:
                req = json.loads(body or b"{}")
            except ValueError:
                self.send_body(400, b'{"error": "bad json"}')
                return
            with LOCK:
                STATE["mode"] = str(req.get("mode", STATE["mode"]))
                STATE["ms"] = int(req.get("ms", 0))
                if "absolute" in req:
                    STATE["absolute"] = bool(req["absolute"])
                if "payloads" in req:
                    STATE["payloads"] = str(req["payloads"])
                STATE["generation"] += 1
                mode = STATE["mode"]
            self.send_body(200, json.dumps({"mode": mode}).encode())
            if mode == "down":
                FAKE.go_down()
            return
        if path == "/_reset":
            with LOCK:
                STATE["requests"] = {}
            self.send_body(200, b'{"ok": true}')
            return
        self.send_body(404, b'{"error": "no such path"}')

    def do_GET(self):
        path = urlsplit(self.path).path
        if path == "/_stats":
            with LOCK:
                body = json.dumps({"requests": STATE["requests"], "mode": STATE["mode"]})
            self.send_body(200, body.encode())
            return
        with LOCK:
            STATE["requests"][path] = STATE["requests"].get(path, 0) + 1
            mode, gen = STATE["mode"], STATE["generation"]
        if mode == "hang":
            FAKE.hang(gen)
            self.close_connection = True
            return
        if mode == "404" and (path.startswith("/v1/") or path.startswith("/files/")):
            self.send_body(404, b'{"error": "not found"}')
            return
        host = self.headers.get("Host") or "127.0.0.1"
        if path == "/v1/manifest":
            if mode == "malformed":
                self.send_body(200, b'{"components": [{"name": "pattern", "version": ')
                return
            self.send_body(200, build_manifest(host))
            return
        if path == "/v1/manifest.sig":
            if not ARGS.sign_key or mode == "nosig":
                self.send_body(404, b'{"error": "no signature"}')
                return
            data = build_manifest(host)
            if mode == "badsig":
                data = data + b" "
            self.send_body(200, sign(data), ctype="text/plain")
            return
        if path.startswith("/files/"):
            name = path[len("/files/"):]
            full = os.path.join(payloads(), name)
            if "/" in name or not PAYLOAD_RE.match(name) or not os.path.isfile(full):
                self.send_body(404, b'{"error": "no such file"}')
                return
            with open(full, "rb") as f:
                data = f.read()
            ctype = "application/octet-stream"
            if mode == "truncated":
                self.send_body(200, data[:len(data) // 2], ctype, length=len(data))
                self.close_connection = True
                return
            if mode == "corrupt" and data:
                i = len(data) // 2
                data = data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:]
            if mode == "bigger":
                data = data + b"\n"
            self.send_body(200, data, ctype)
            return
        self.send_body(404, b'{"error": "no such path"}')


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--payloads", default=".", help="folder of payload files")
    ap.add_argument("--sign-key", help="Ed25519 private key (PEM) to sign the manifest")
    ap.add_argument("--mode", default="normal")
    ARGS = ap.parse_args()
    STATE["mode"] = ARGS.mode
    STATE["payloads"] = ARGS.payloads
    fakelib.serve(Handler, FAKE, ARGS.port, ARGS.port_file)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
