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

Rating requests are counted (the control endpoints are not). Stdlib only.
"""
import argparse
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

STATE = {"mode": "normal", "ms": 0, "map": {}, "requests": 0, "last_url": None,
         "last_headers": {}, "generation": 0}
LOCK = threading.Lock()
RESTART = threading.Event()
CONNS = set()  # open client sockets, closed too when the server "goes down" (refuse)


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


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the gateway expects
    # Headers and body go out in two writes: with Nagle on, the second waits for the client's
    # delayed ACK (40 ms on Linux) on every kept-alive request, which no real server costs.
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        with LOCK:
            CONNS.add(self.connection)

    def finish(self):
        with LOCK:
            CONNS.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, fmt, *args):  # quiet: tests read /_stats instead
        pass

    def send_json(self, status, obj=None, raw=None):
        body = raw if raw is not None else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

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
                RESTART.set()
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
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with LOCK:
                    if STATE["generation"] != gen:
                        break
                time.sleep(0.05)
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


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def handle_error(self, request, client_address):
        # Clients hanging up on purpose (timeouts, size caps) are part of the tests.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def write_port(port, port_file):
    if port_file:
        tmp = port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, port_file)
    else:
        print(port, flush=True)


def make_tls_context(tls_dir):
    cert, key = os.path.join(tls_dir, "cert.pem"), os.path.join(tls_dir, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


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
    tls = make_tls_context(args.tls_dir) if args.tls_dir else None
    port = args.port
    first = True
    while True:
        srv = Server(("127.0.0.1", port), Handler)
        port = srv.server_address[1]
        if tls is not None:
            srv.socket = tls.wrap_socket(srv.socket, server_side=True)
        if first:
            write_port(port, args.port_file)
            first = False
        t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                             daemon=True)
        t.start()
        RESTART.wait()
        RESTART.clear()
        srv.shutdown()
        srv.server_close()  # closes the listening socket: connects are refused now
        with LOCK:
            for c in list(CONNS):  # and kept-alive connections go too, as in a real outage
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        with LOCK:
            down_ms = STATE["ms"] or 3000
        time.sleep(down_ms / 1000.0)
        with LOCK:
            if STATE["mode"] == "refuse":
                STATE["mode"] = "normal"
        # listen again on the same port (allow_reuse_address)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
