#!/usr/bin/env python3
"""A fake ICAP server for t/it_icapload.sh: answers each request (ended by its last chunk,
"0<CRLF><CRLF>") on loopback PORT for 20 s, then exits. Stdlib only.

  icap_fake.py PORT folded     every answer a 200 block page whose X-Violations-Found header is
                               folded over continuation lines (RFC 3507 4.10.2 style)
  icap_fake.py PORT allow204   204 to a request whose headers carry "Allow: 204", else a 200 page
"""
import socket
import sys
import time

PAGE = b"<html>blocked</html>"
BODY = b"%x\r\n" % len(PAGE) + PAGE + b"\r\n0\r\n\r\n"
HTTP = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 20\r\n\r\n"
FOLDED = (b"ICAP/1.0 200 OK\r\nISTag: \"x\"\r\nX-Violations-Found: 1\r\n\thttp://x/y\r\n"
          b"\tTest.Threat\r\n\t0\r\n\t0\r\nEncapsulated: res-hdr=0, res-body=45\r\n\r\n" + HTTP + BODY)
PLAIN = b"ICAP/1.0 200 OK\r\nISTag: \"x\"\r\nEncapsulated: res-hdr=0, res-body=45\r\n\r\n" + HTTP + BODY
NO_CONTENT = b"ICAP/1.0 204 No Content\r\nISTag: \"x\"\r\n\r\n"


def answer(mode, req):
    if mode == "folded":
        return FOLDED
    return NO_CONTENT if b"\r\nAllow: 204\r\n" in req.split(b"\r\n\r\n")[0] else PLAIN


def main():
    port, mode = int(sys.argv[1]), sys.argv[2]
    if mode not in ("folded", "allow204"):
        sys.exit("icap_fake.py: mode is folded or allow204")
    s = socket.socket()
    s.bind(("127.0.0.1", port))
    s.listen(8)
    s.settimeout(0.5)
    end = time.time() + 20
    while time.time() < end:
        try:
            c = s.accept()[0]
        except OSError:
            continue
        c.settimeout(5)
        buf = b""
        try:
            while time.time() < end:
                data = c.recv(65536)
                if not data:
                    break
                buf += data
                while b"\r\n0\r\n\r\n" in buf:
                    req, buf = buf.split(b"\r\n0\r\n\r\n", 1)
                    c.sendall(answer(mode, req))
        except OSError:
            pass
        c.close()


if __name__ == "__main__":
    main()
