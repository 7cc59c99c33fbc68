#!/usr/bin/env python3
"""Sends each body of a list once over RESPMOD and prints the service's verdict on it.

  bench/icap-verdict.py PORT SERVICE LIST

LIST is bench/icapload's -F format ("PATH CONTENT-TYPE URL", paths relative to the list).
Each body goes whole (no preview) with "Allow: 204" on its own connection to 127.0.0.1:PORT.
Prints one line per body, "PATH VERDICT DETAIL":
  allowed   ICAP 204, or 200 with an HTTP 2xx and the very body that was sent
  blocked   200 with another HTTP status (the block page: 403), or a body that differs (cut)
  error     no answer within 60 s, a malformed answer, or another ICAP status
Exit status 0 when every body got an answer (allowed or blocked), 1 otherwise.
"""
import os
import socket
import sys


def read_until(sock, buf, sep, limit=1 << 20):
    while sep not in buf:
        d = sock.recv(65536)
        if not d:
            raise ValueError("connection closed")
        buf += d
        if len(buf) > limit:
            raise ValueError("header over %d bytes" % limit)
    i = buf.index(sep) + len(sep)
    return buf[:i], buf[i:]


def verdict(port, service, path, ctype, url, body):
    host = url.split("/")[2]
    req = ("GET %s HTTP/1.1\r\nHost: %s\r\nAccept: */*\r\n\r\n" % (url, host)).encode()
    res = ("HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n" % (ctype, len(body))).encode()
    head = ("RESPMOD icap://127.0.0.1:%d/%s ICAP/1.0\r\nHost: 127.0.0.1:%d\r\nAllow: 204\r\n"
            "Connection: close\r\nEncapsulated: req-hdr=0, res-hdr=%d, res-body=%d\r\n\r\n"
            % (port, service, port, len(req), len(req) + len(res))).encode()
    chunks = b"".join(b"%x\r\n" % len(body[i:i + 32768]) + body[i:i + 32768] + b"\r\n"
                      for i in range(0, len(body), 32768)) + b"0\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall(head + req + res + chunks)
        hdr, rest = read_until(s, b"", b"\r\n\r\n")
        status = int(hdr.split(b" ", 2)[1])
        if status == 204:
            return "allowed", "ICAP 204"
        if status != 200:
            return "error", "ICAP %d" % status
        enc = [l for l in hdr.split(b"\r\n") if l.lower().startswith(b"encapsulated:")]
        if not enc:
            return "error", "no Encapsulated header"
        parts = dict((k.strip(), int(v)) for k, v in
                     (p.split(b"=") for p in enc[0].split(b":", 1)[1].split(b",")))
        if b"res-hdr" not in parts:
            return "error", "no res-hdr"
        while len(rest) < max(parts.values()):
            d = s.recv(65536)
            if not d:
                return "error", "closed in the headers"
            rest += d
        bodyoff = parts.get(b"res-body", parts.get(b"null-body"))
        http = rest[parts[b"res-hdr"]:bodyoff]
        hstatus = int(http.split(b" ", 2)[1])
        got, rest = b"", rest[bodyoff:]
        if b"res-body" in parts:
            while True:
                line, rest = read_until(s, rest, b"\r\n")
                n = int(line.split(b";")[0].strip(), 16)
                if n == 0:
                    break
                while len(rest) < n + 2:
                    d = s.recv(65536)
                    if not d:
                        return "blocked", "HTTP %d, body cut after %d bytes" % (hstatus, len(got))
                    rest += d
                got += rest[:n]
                rest = rest[n + 2:]
        if 200 <= hstatus < 300 and got == body:
            return "allowed", "ICAP 200, HTTP %d, body unchanged" % hstatus
        if 200 <= hstatus < 300:
            return "blocked", "HTTP %d, body changed (%d of %d bytes)" % (hstatus, len(got), len(body))
        return "blocked", "HTTP %d" % hstatus


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    port, service, lst = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    base = os.path.dirname(os.path.abspath(lst))
    ok = True
    with open(lst) as f:
        for line in f:
            fld = line.split()
            if not fld or fld[0].startswith("#"):
                continue
            path = fld[0]
            ctype = fld[1] if len(fld) > 1 else "application/octet-stream"
            url = fld[2] if len(fld) > 2 else "http://www.example.com/" + os.path.basename(path)
            with open(os.path.join(base, path), "rb") as bf:
                body = bf.read()
            try:
                v, detail = verdict(port, service, path, ctype, url, body)
            except (OSError, ValueError, IndexError) as e:
                v, detail = "error", str(e) or type(e).__name__
            ok = ok and v != "error"
            print("%s %s %s" % (path, v, detail.replace(" ", "_")), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
