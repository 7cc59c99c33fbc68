#!/usr/bin/env python3
"""Loopback HTTP/1.1 origin for bench/run-squid.sh when nginx is not installed.

  bench/origin.py [--max-seconds S] PORT DIR

Serves the regular files of DIR (read into memory at start) with keep-alive on 127.0.0.1:PORT,
logs nothing, and exits by itself after --max-seconds (default 3600). Slower than nginx: for
1 MiB objects it can be the bottleneck of "squid alone"; the run's summary says which origin
was used.
"""
import argparse
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-seconds", type=int, default=3600)
    ap.add_argument("port", type=int)
    ap.add_argument("dir")
    a = ap.parse_args()
    files = {}
    for name in os.listdir(a.dir):
        p = os.path.join(a.dir, name)
        if os.path.isfile(p):
            with open(p, "rb") as f:
                files["/" + name] = f.read()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = 1 << 16

        def do_GET(self):
            body = files.get(urlsplit(self.path).path)
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.request_queue_size = 256
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    threading.Timer(a.max_seconds, srv.shutdown).start()
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
