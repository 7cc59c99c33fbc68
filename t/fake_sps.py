#!/usr/bin/env python3
"""Fake Smart Protection Server (PROTOCOL.md "Smart scan") for Webwarden's tests.

Listens on 127.0.0.1 on a free port (or --port), writes the port to --port-file (atomically)
or prints it, and answers GET /v1/file/<sha256> and GET /v1/health according to a mode that
tests switch at run time:

  POST /_mode  {"mode": "<mode>", "ms": N}  -> 200 {"mode": ...}
  GET  /_stats  -> 200 {"requests": n, "health": n, "last_hash": ..., "last_headers": {...},
                        "mode": ...}
  POST /_reset  -> zero the counters

Verdicts (mode normal) come from --verdicts, a JSON file {sha256: value}: a string "clean" or
"unknown" is that verdict, any other string is a malicious verdict with that threat name, an
object is sent as the answer itself. Other hashes get --default ("unknown"). Every answer
carries "ttl": --ttl (default 3600) unless the object gives its own.

Modes (the health endpoint follows them too):
  normal     the verdict; health 200 {"status": "ok"}
  delay      as normal after "ms" milliseconds (default 800)
  hang       accept, read the request, never answer (until the mode changes or 60 s)
  refuse     stop listening and cut connections for "ms" milliseconds (default 3000; a negative
             value: until SIGUSR1), then listen again in mode normal
  500        HTTP 500
  malformed  200 with a body that is not JSON
  wrongtype  200 {"verdict": 1} (health: {"status": 1})
  badverdict 200 {"verdict": "evil"} (health: {"status": "degraded"})
  noname     200 {"verdict": "malicious"} (health: {"status": "ok", "status": "ok"})

With --tls-dir DIR it speaks HTTPS with a self-signed certificate for 127.0.0.1 that it makes
with the openssl command into DIR/cert.pem (the CA file a client must trust) and DIR/key.pem.

File requests are counted in "requests", health probes in "health". Stdlib only.
"""
import argparse
import json
import os
import sys
import time
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakelib  # noqa: E402

FAKE = fakelib.Fake(requests=0, health=0, last_hash=None, last_headers={}, verdicts={},
                    default="unknown", ttl=3600)

BAD_FILE = {"malformed": b'{"verdict": "clean", "ttl": 3',
            "wrongtype": b'{"verdict": 1}',
            "badverdict": b'{"verdict": "evil"}',
            "noname": b'{"verdict": "malicious"}'}
BAD_HEALTH = {"malformed": b'{"status": "o',
              "wrongtype": b'{"status": 1}',
              "badverdict": b'{"status": "degraded"}',
              "noname": b'{"status": "ok", "status": "ok"}'}


def verdict_answer(sha):
    with FAKE.lock:
        value = FAKE.state["verdicts"].get(sha, FAKE.state["default"])
        ttl = FAKE.state["ttl"]
    if isinstance(value, dict):
        return value
    if value in ("clean", "unknown"):
        return {"verdict": value, "ttl": ttl}
    return {"verdict": "malicious", "name": value, "ttl": ttl}


class Handler(fakelib.Handler):
    def do_POST(self):
        path = urlsplit(self.path).path
        req = self.read_json()
        if req is None:
            self.send_json(400, {"error": "bad json"})
        elif path == "/_mode":
            mode = str(req.get("mode", "normal"))
            # in force before the answer: the test's next request must see it
            FAKE.set_mode(mode, int(req.get("ms", 0)), go_down=False)
            self.send_json(200, {"mode": mode})
            if mode == "refuse":
                FAKE.go_down()
        elif path == "/_reset":
            with FAKE.lock:
                FAKE.state.update(requests=0, health=0, last_hash=None)
            self.send_json(200, {"ok": True})
        else:
            self.send_json(404, {"error": "no such path"})

    def do_GET(self):
        path = urlsplit(self.path).path
        if path == "/_stats":
            with FAKE.lock:
                s = FAKE.state
                self.send_json(200, {k: s[k] for k in ("requests", "health", "last_hash",
                                                         "last_headers", "mode")})
            return
        is_health = path == "/v1/health"
        if not is_health and not path.startswith("/v1/file/"):
            self.send_json(404, {"error": "no such path"})
            return
        sha = path[len("/v1/file/"):]
        with FAKE.lock:
            FAKE.state["health" if is_health else "requests"] += 1
            if not is_health:
                FAKE.state["last_hash"] = sha
            FAKE.state["last_headers"] = {k: v for k, v in self.headers.items()}
        mode, ms, gen = FAKE.snapshot()
        if mode == "delay":
            time.sleep((ms or 800) / 1000.0)
        elif mode == "hang":
            FAKE.hang(gen)
            self.close_connection = True
            return
        if mode == "500":
            self.send_json(500, {"error": "internal"})
        elif mode in BAD_FILE:
            self.send_json(200, raw=(BAD_HEALTH if is_health else BAD_FILE)[mode])
        elif is_health:
            self.send_json(200, {"status": "ok"})
        else:
            self.send_json(200, verdict_answer(sha))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--mode", default="normal")
    ap.add_argument("--ms", type=int, default=0)
    ap.add_argument("--verdicts", help="JSON file: {sha256: threat name | clean | unknown}")
    ap.add_argument("--default", default="unknown", choices=["unknown", "clean"])
    ap.add_argument("--ttl", type=int, default=3600)
    ap.add_argument("--tls-dir", help="serve HTTPS; writes cert.pem and key.pem there")
    args = ap.parse_args()
    if args.verdicts:
        with open(args.verdicts) as f:
            FAKE.state["verdicts"] = {k.lower(): v for k, v in json.load(f).items()}
    FAKE.state.update(default=args.default, ttl=args.ttl)
    FAKE.set_mode(args.mode, args.ms)
    tls = fakelib.make_tls_context(args.tls_dir) if args.tls_dir else None
    fakelib.serve(Handler, FAKE, args.port, args.port_file, tls)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
