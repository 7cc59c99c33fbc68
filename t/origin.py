#!/usr/bin/env python3
"""t/origin.py - a loopback HTTP origin for Webwarden's tests.

Serves the files of --dir on 127.0.0.1 (a free port unless --port), and writes the port to
--port-file once listening. GET and HEAD only.
  /NAME              the file with Content-Length
  /chunked/NAME      the file with Transfer-Encoding: chunked (also: request header X-Chunked: 1)
  /gzip/NAME.gz      the file as stored, with Content-Encoding: gzip (also: X-Gzip: 1)
  /enc/SPEC/NAME     the file as stored, with one Content-Encoding line per '+'-separated part
                     of SPEC, as written: /enc/identity+gzip,br/x sends "identity" and
                     "gzip,br" (the test encodes the file, e.g. with t/ww_encode); a '~' in a
                     part is an obsolete line fold: /enc/gzip,~br/x sends "gzip,<CRLF> br"
  /lying/NAME        the file with Content-Length: 60000000, then the connection closes
Plain /NAME answers `Range: bytes=N-` / `bytes=a-b` (one range) with 206 and Content-Range, or
416 past the end; ETag and Last-Modified come from the file's size and mtime (If-Range is
ignored: like many origins, and like curl -C -, which does not send it).
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
        self.encodings = []
        if path.startswith("/enc/") and path.count("/") >= 3:
            spec, path = path[len("/enc/"):].split("/", 1)
            self.encodings = [p.replace("~", "\r\n ") for p in spec.split("+") if p]
            path = "/" + path
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
        st = os.stat(full)
        rng = self.headers.get("Range")
        plain = not (chunked or gzip or self.lying or self.encodings)
        if rng and plain:
            self._serve_range(rng, data, st, body)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if plain:
            self.send_header("ETag", '"%x-%x"' % (st.st_size, int(st.st_mtime)))
            self.send_header("Last-Modified", self.date_time_string(int(st.st_mtime)))
            self.send_header("Accept-Ranges", "bytes")
        if gzip:
            self.send_header("Content-Encoding", "gzip")
        for value in self.encodings:
            self.send_header("Content-Encoding", value)
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

    def _serve_range(self, rng, data, st, body):
        total = len(data)
        first = last = None
        spec = rng.strip()
        if spec.startswith("bytes=") and "," not in spec:
            a, _, b = spec[len("bytes="):].partition("-")
            try:
                if a:
                    first = int(a)
                    last = int(b) if b else total - 1
                elif b:
                    first, last = max(total - int(b), 0), total - 1
            except ValueError:
                first = None
        if first is None or first >= total or last < first:
            self.send_response(416)
            self.send_header("Content-Range", "bytes */%d" % total)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        last = min(last, total - 1)
        part = data[first:last + 1]
        self.send_response(206)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Range", "bytes %d-%d/%d" % (first, last, total))
        self.send_header("Content-Length", str(len(part)))
        self.send_header("ETag", '"%x-%x"' % (st.st_size, int(st.st_mtime)))
        self.send_header("Last-Modified", self.date_time_string(int(st.st_mtime)))
        self.end_headers()
        if body:
            self.wfile.write(part)

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
