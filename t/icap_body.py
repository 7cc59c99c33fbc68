#!/usr/bin/env python3
"""t/icap_body.py - RESPMOD round trips that check, byte by byte, the body a service sends back
(t/it_send.sh).

  icap_body.py --port N [--service S] --size N [--size N ...] [--repeat K] [--read-delay S]
               [--close-after B] [--max-chunk-at-most B] [--max-chunk-over B]

Every size is sent on ONE connection, in turn (ICAP keep-alive), as a RESPMOD without Allow: 204
and without preview: the body is deterministic pseudo-random bytes, sent in 4,096-byte chunks
with a Content-Length. The answer must be "ICAP/1.0 200", its Encapsulated offsets must hold the
HTTP head, and its chunked body must be well formed: hex sizes, CRLF after every chunk, the
terminating 0 chunk, and nothing after it (the next request on the same connection is answered
from its first byte, so a chunk with a wrong size or a missing byte fails there). The bytes must
be the bytes sent. --read-delay S: nothing is read for S seconds after each request was sent (a
slow client; its receive window is kept small, so a large answer must wait for room). --close-after B: for the last size, the connection is closed after B bytes of the
answer (a client going away mid-body; its receive window is kept small, so the answer cannot all
sit in socket buffers); then a new connection must get a whole answer again.
--max-chunk-at-most / --max-chunk-over B: the largest chunk of the answers must be <= B, or > B.
--max-chunks N: no answer may have more than N chunks.
Prints one line per answer ("size N: ok, K chunks, largest L") and exits 0 when all held, 1
otherwise (the reason on stdout). Stdlib only.
"""
import argparse
import hashlib
import socket
import sys
import time

TIMEOUT = 30


def body_bytes(size, seed):
    out = bytearray()
    block = hashlib.sha256(b"webwarden-%d-%d" % (seed, size)).digest()
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block * 32  # 1 KiB steps: fast enough for a few MiB
    return bytes(out[:size])


def request(port, service, body, url):
    req = b"GET %s HTTP/1.1\r\nHost: dl.webwarden.test\r\n\r\n" % url
    rhdr = (b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body))
    head = (b"RESPMOD icap://127.0.0.1:%d/%s ICAP/1.0\r\nHost: 127.0.0.1\r\n"
            b"Encapsulated: req-hdr=0, res-hdr=%d, res-body=%d\r\n\r\n"
            % (port, service.encode(), len(req), len(req) + len(rhdr)))
    parts = [head, req, rhdr]
    for i in range(0, len(body), 4096):
        part = body[i:i + 4096]
        parts.append(b"%x\r\n%s\r\n" % (len(part), part))
    parts.append(b"0\r\n\r\n")
    return b"".join(parts)


class Reader:
    """Buffered reads from a socket with a deadline; counts the bytes handed out."""

    def __init__(self, sock, limit=None):
        self.sock, self.buf, self.taken, self.limit = sock, b"", 0, limit

    def fill(self):
        if self.limit is not None and self.taken + len(self.buf) >= self.limit:
            raise EOFError("closed by the test after %d bytes" % self.limit)
        want = 65536 if self.limit is None else min(65536, self.limit - self.taken - len(self.buf))
        data = self.sock.recv(want)
        if not data:
            raise EOFError("connection closed by the server")
        self.buf += data

    def line(self):
        while b"\r\n" not in self.buf:
            if len(self.buf) > 65536:
                raise ValueError("a line of more than 64 KiB")
            self.fill()
        ln, self.buf = self.buf.split(b"\r\n", 1)
        self.taken += len(ln) + 2
        return ln

    def exact(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        self.taken += n
        return out


def read_answer(rd):
    """(status line, body bytes, chunk sizes) of one ICAP answer with a chunked res-body."""
    status = rd.line()
    headers = {}
    while True:
        ln = rd.line()
        if ln == b"":
            break
        k, _, v = ln.partition(b":")
        headers[k.strip().lower()] = v.strip()
    if not status.startswith(b"ICAP/1.0 200"):
        raise ValueError("answer %r, not ICAP/1.0 200" % status)
    enc = dict(p.strip().split(b"=") for p in headers.get(b"encapsulated", b"").split(b","))
    if b"res-body" not in enc or b"res-hdr" not in enc:
        raise ValueError("Encapsulated %r has no res-hdr and res-body" % headers.get(b"encapsulated"))
    http = rd.exact(int(enc[b"res-body"]) - int(enc[b"res-hdr"]))
    if not http.startswith(b"HTTP/1.1 200") or not http.endswith(b"\r\n\r\n"):
        raise ValueError("the HTTP head is not whole: %r" % http[:80])
    body, sizes = [], []
    while True:
        ln = rd.line()
        size_s = ln.split(b";", 1)[0]
        if not size_s or any(c not in b"0123456789abcdefABCDEF" for c in size_s):
            raise ValueError("chunk size line %r after %d body bytes" % (ln[:40], sum(sizes)))
        size = int(size_s, 16)
        if size == 0:
            if rd.line() != b"":
                raise ValueError("no CRLF after the last chunk")
            return status, b"".join(body), sizes
        body.append(rd.exact(size))
        sizes.append(size)
        if rd.exact(2) != b"\r\n":
            raise ValueError("no CRLF after a chunk of %d bytes" % size)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--service", default="webwarden_scan")
    ap.add_argument("--size", type=int, action="append", required=True)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--read-delay", type=float, default=0.0)
    ap.add_argument("--close-after", type=int)
    ap.add_argument("--max-chunk-at-most", type=int)
    ap.add_argument("--max-chunk-over", type=int)
    ap.add_argument("--max-chunks", type=int)
    a = ap.parse_args()

    largest, bad = 0, []
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if a.close_after is not None or a.read_delay > 0:
        # a small window: the server cannot put a large answer all in socket buffers
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    sock.settimeout(TIMEOUT)
    sock.connect(("127.0.0.1", a.port))
    rd = Reader(sock)
    sizes = [s for s in a.size for _ in range(a.repeat)]
    for n, size in enumerate(sizes):
        body = body_bytes(size, n)
        last = n == len(sizes) - 1
        try:
            sock.sendall(request(a.port, a.service, body,
                                 b"http://dl.webwarden.test/body-%d-%d.bin" % (n, size)))
            if a.read_delay > 0:
                time.sleep(a.read_delay)
            if last and a.close_after is not None:
                rd.limit = rd.taken + len(rd.buf) + a.close_after
                try:
                    read_answer(rd)
                    bad.append("size %d: the whole answer fit in --close-after" % size)
                except EOFError:
                    pass
                sock.close()  # gone mid-body; a new connection must work
                sock = socket.create_connection(("127.0.0.1", a.port), timeout=TIMEOUT)
                rd = Reader(sock)
                body = body_bytes(4000, n)
                sock.sendall(request(a.port, a.service, body, b"http://dl.webwarden.test/after-close"))
            t0 = time.monotonic()
            _, got, chunks = read_answer(rd)
        except (OSError, ValueError, EOFError) as e:
            print("size %d: FAILED: %s" % (size, e))
            return 1
        if got != body:
            diff = next((i for i in range(min(len(got), len(body))) if got[i] != body[i]),
                        min(len(got), len(body)))
            bad.append("size %d: %d bytes back, first difference at byte %d"
                       % (len(body), len(got), diff))
        largest = max([largest] + chunks)
        if a.max_chunks is not None and len(chunks) > a.max_chunks:
            bad.append("size %d: %d chunks, more than %d" % (len(body), len(chunks), a.max_chunks))
        print("size %d: %s, %d chunks, largest %d (%.3f s)"
              % (len(body), "ok" if got == body else "DIFFERS", len(chunks),
                 max(chunks) if chunks else 0, time.monotonic() - t0))
    sock.close()
    if a.max_chunk_at_most is not None and largest > a.max_chunk_at_most:
        bad.append("a chunk of %d bytes, more than %d" % (largest, a.max_chunk_at_most))
    if a.max_chunk_over is not None and largest <= a.max_chunk_over:
        bad.append("the largest chunk has %d bytes, not more than %d" % (largest, a.max_chunk_over))
    for b in bad:
        print("FAILED: " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
