#!/usr/bin/env python3
"""t/origin.py - a loopback HTTP origin for Webwarden's tests.

Serves the files of --dir on 127.0.0.1 (a free port unless --port), and writes the port to
--port-file once listening. GET and HEAD only.
  /NAME              the file with Content-Length
  /chunked/NAME      the file with Transfer-Encoding: chunked (also: request header X-Chunked: 1)
  /gzip/NAME.gz      the file as stored, with Content-Encoding: gzip (also: X-Gzip: 1)
  /lying/NAME        the file with Content-Length: 60000000, then the connection closes
Any other path, or one leaving --dir, is 404.
"""
import argparse
import http.server
import os
import socketserver
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    root = "."

    def log_message(self, fmt, *args):
        sys.stderr.write("origin: " + (fmt % args) + "\n")

    def _resolve(self):
        path = self.path.split("?", 1)[0]
        chunked = self.headers.get("X-Chunked") == "1"
        gzip = self.headers.get("X-Gzip") == "1"
        self.lying = path.startswith("/lying/")
        if self.lying:
            path = path[len("/lying"):]
        if path.startswith("/chunked/"):
            chunked, path = True, path[len("/chunked"):]
        elif path.startswith("/gzip/"):
            gzip, path = True, path[len("/gzip"):]
        full = os.path.realpath(os.path.join(self.root, path.lstrip("/")))
        if not full.startswith(self.root + os.sep) or not os.path.isfile(full):
            return None, chunked, gzip
        if gzip and not full.endswith(".gz"):
            gzip = False
        return full, chunked, gzip

    def _serve(self, body):
        full, chunked, gzip = self._resolve()
        if full is None:
            msg = b"not found\n"
            self.send_response(404)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(msg)))
            self.end_headers()
            if body:
                self.wfile.write(msg)
            return
        with open(full, "rb") as f:
            data = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if gzip:
            self.send_header("Content-Encoding", "gzip")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        elif self.lying:  # a declared length far over the body (issue 12 part 4)
            self.send_header("Content-Length", "60000000")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not body:
            return
        if not chunked:
            self.wfile.write(data)
            return
        step = 16384
        for i in range(0, len(data), step):
            part = data[i:i + step]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        self.wfile.write(b"0\r\n\r\n")

    def do_GET(self):
        self._serve(True)

    def do_HEAD(self):
        self._serve(False)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    a = ap.parse_args()
    Handler.root = os.path.realpath(a.dir)
    srv = Server(("127.0.0.1", a.port), Handler)
    port = srv.server_address[1]
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, a.port_file)
    else:
        print(port, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
