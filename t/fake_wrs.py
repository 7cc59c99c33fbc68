#!/usr/bin/env python3
"""Fake web reputation server (PROTOCOL.md "Reputation") for Webwarden's tests.

Listens on 127.0.0.1 on a free port (or --port), writes the port to --port-file (atomically)
or prints it, and answers GET /v1/rating?url=<url> according to a mode that tests switch at
run time:

  POST /_mode  {"mode": "<mode>", "ms": N, "map": {...}}   -> 200 {"mode": ...}
  GET  /_stats            -> 200 {"requests": n, "last_url": ..., "last_headers": {...},
                                 "last_peer_port": n}
  POST /_reset                                              -> zero the counters

Modes:
  normal     score from --map / "map" (URL -> answer object or score) else a rule:
             host contains "bad" -> 20 ["malware"], "gamble" -> 90 ["gambling"],
             "unrated" -> 0, "hostwide" -> 30 with "scope": "host", anything else -> 90 ["news"];
             "ttl" in the answer when the URL contains "ttl=<n>"
  delay      as normal after "ms" milliseconds (default 800)
  hang       accept, read the request, never answer (until the mode changes or 60 s)
  drip       send a normal answer one byte per second
  refuse     close the listening socket for "ms" milliseconds (default 3000), then listen again
  reset      accept and close the connection at once, without answering
  500        HTTP 500
  404        HTTP 404
  redirect   HTTP 302 to /v1/rating on the same server (clients must not follow)
  malformed  200 with a body that is not JSON
  huge       200 with a valid JSON body of 2 MiB
  wrongtype  200 {"score": "50"}
  range      200 {"score": 101}
  negative   200 {"score": -1}
  dupkey     200 {"score": 90, "score": 10}
  badcats    200 {"score": 90, "categories": "news"}
  badttl     200 {"score": 90, "ttl": -5}

With --tls-dir DIR it speaks HTTPS with a self-signed certificate for 127.0.0.1 that it makes
with the openssl command into DIR/cert.pem (the CA file a client must trust) and DIR/key.pem.

Rating requests are counted (the control endpoints are not). Stdlib only, on t/fakelib.py.
"""
import argparse
import json
import os
import sys
import time
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakelib  # noqa: E402

FAKE = fakelib.Fake(map={}, requests=0, last_url=None, last_headers={})
STATE, LOCK = FAKE.state, FAKE.lock


def rule_answer(url):
    host = urlsplit(url).hostname or ""
    ans = {"score": 90, "categories": ["news"]}
    if "bad" in host:
        ans = {"score": 20, "categories": ["malware"]}
    elif "gamble" in host:
        ans = {"score": 90, "categories": ["Gambling"]}
    elif "unrated" in host:
        ans = {"score": 0, "categories": []}
    elif "hostwide" in host:
        ans = {"score": 30, "categories": ["phishing"], "scope": "host"}
    q = parse_qs(urlsplit(url).query)
    if "ttl" in q:
        ans["ttl"] = int(q["ttl"][0])
    return ans


class Handler(fakelib.Handler):
    def do_POST(self):
        path = urlsplit(self.path).path
        body = self.read_body()
        if path == "/_mode":
            try:
                req = json.loads(body or b"{}")
            except ValueError:
                self.send_json(400, {"error": "bad json"})
                return
            with LOCK:
                STATE["mode"] = str(req.get("mode", "normal"))
                STATE["ms"] = int(req.get("ms", 0))
                if "map" in req:
                    STATE["map"] = req["map"]
                STATE["generation"] += 1
                mode = STATE["mode"]
            self.send_json(200, {"mode": mode})
            if mode == "refuse":
                FAKE.go_down()
            return
        if path == "/_reset":
            with LOCK:
                STATE["requests"] = 0
                STATE["last_url"] = None
            self.send_json(200, {"ok": True})
            return
        self.send_json(404, {"error": "no such path"})

    def do_GET(self):
        parts = urlsplit(self.path)
        if parts.path == "/_stats":
            with LOCK:
                self.send_json(200, {"requests": STATE["requests"], "last_url": STATE["last_url"],
                                     "mode": STATE["mode"],
                                     "last_peer_port": STATE.get("last_peer_port", 0),
                                     "last_headers": STATE["last_headers"]})
            return
        if parts.path != "/v1/rating":
            self.send_json(404, {"error": "no such path"})
            return
        url = parse_qs(parts.query).get("url", [""])[0]
        with LOCK:
            STATE["requests"] += 1
            STATE["last_url"] = url
            STATE["last_headers"] = {k: v for k, v in self.headers.items()}
            STATE["last_peer_port"] = self.client_address[1]
            mode, ms, gen = STATE["mode"], STATE["ms"], STATE["generation"]
            mapped = STATE["map"].get(url)
        if mapped is None:
            answer = rule_answer(url)
        elif isinstance(mapped, int):
            answer = {"score": mapped}
        else:
            answer = mapped
        if mode == "delay":
            time.sleep((ms or 800) / 1000.0)
        elif mode == "hang":
            FAKE.hang(gen)
            self.close_connection = True
            return
        elif mode == "reset":
            self.close_connection = True
            return
        elif mode == "drip":
            body = json.dumps(answer).encode()
            raw = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                   + str(len(body)).encode() + b"\r\n\r\n" + body)
            try:
                for i in range(len(raw)):
                    self.wfile.write(raw[i:i + 1])
                    self.wfile.flush()
                    time.sleep(1.0)
            except OSError:
                pass
            self.close_connection = True
            return
        if mode == "500":
            self.send_json(500, {"error": "internal"})
        elif mode == "404":
            self.send_json(404, {"error": "not found"})
        elif mode == "redirect":
            self.send_response(302)
            self.send_header("Location", "/v1/rating?url=redirected")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif mode == "malformed":
            self.send_json(200, raw=b'{"score": 50, "categories": ["news"')
        elif mode == "huge":
            self.send_json(200, raw=b'{"score": 50, "pad": "' + b"x" * (2 << 20) + b'"}')
        elif mode == "wrongtype":
            self.send_json(200, raw=b'{"score": "50"}')
        elif mode == "range":
            self.send_json(200, raw=b'{"score": 101}')
        elif mode == "negative":
            self.send_json(200, raw=b'{"score": -1}')
        elif mode == "dupkey":
            self.send_json(200, raw=b'{"score": 90, "score": 10}')
        elif mode == "badcats":
            self.send_json(200, raw=b'{"score": 90, "categories": "news"}')
        elif mode == "badttl":
            self.send_json(200, raw=b'{"score": 90, "ttl": -5}')
        else:
            self.send_json(200, answer)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--mode", default="normal")
    ap.add_argument("--ms", type=int, default=0)
    ap.add_argument("--map", help="JSON file: {url: score or answer object}")
    ap.add_argument("--tls-dir", help="serve HTTPS; writes cert.pem and key.pem there")
    args = ap.parse_args()
    STATE["mode"], STATE["ms"] = args.mode, args.ms
    if args.map:
        with open(args.map) as f:
            STATE["map"] = json.load(f)
    tls = fakelib.make_tls_context(args.tls_dir) if args.tls_dir else None
    fakelib.serve(Handler, FAKE, args.port, args.port_file, tls)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
