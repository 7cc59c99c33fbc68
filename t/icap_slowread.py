#!/usr/bin/env python3
"""t/icap_slowread.py PORT CICAP_MAIN_PID - a RESPMOD client that sends a 32 MiB body at loopback
speed but does not read the answer for 2 s, then reads it all. Checks that webwarden_scan applies
back-pressure (the sender is stalled while nobody reads, instead of the body going to a spool
file), that no c-icap child has a webwarden-body temp file open, and that the answer is the body,
byte-identical. Exit 0 = all good, 1 = a check failed (message on stdout)."""
import hashlib
import os
import socket
import sys
import threading
import time

SIZE = 32 * 1024 * 1024


def children_spooling(main_pid):
    found = False
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                ppid = f.read().rsplit(")", 1)[1].split()[1]
            if ppid != str(main_pid):
                continue
            for fd in os.listdir("/proc/%s/fd" % d):
                if "webwarden-body" in os.readlink("/proc/%s/fd/%s" % (d, fd)):
                    found = True
        except OSError:
            continue
    return found


def main():
    port, main_pid = int(sys.argv[1]), int(sys.argv[2])
    body = os.urandom(1 << 20) * (SIZE >> 20)
    req = b"GET http://slow.webwarden.test/big.bin HTTP/1.1\r\nHost: slow.webwarden.test\r\n\r\n"
    res = (b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
           b"Content-Length: %d\r\n\r\n" % SIZE)
    head = (b"RESPMOD icap://127.0.0.1:%d/webwarden_scan ICAP/1.0\r\nHost: 127.0.0.1\r\n"
            b"Encapsulated: req-hdr=0, res-hdr=%d, res-body=%d\r\n\r\n"
            % (port, len(req), len(req) + len(res)))
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    sent = [0, None]

    def sender():
        try:
            s.sendall(head + req + res)
            step = 65536
            for i in range(0, SIZE, step):
                s.sendall(b"%x\r\n" % step + body[i:i + step] + b"\r\n")
                sent[0] = i + step
            s.sendall(b"0\r\n\r\n")
        except OSError as e:
            sent[1] = e

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    fails = []
    spooled = False
    end = time.time() + 2
    while time.time() < end:
        spooled = spooled or children_spooling(main_pid)
        time.sleep(0.05)
    stalled_at = sent[0]
    if stalled_at >= SIZE:
        fails.append("no back-pressure: the whole %d-byte body was taken while nobody read the "
                     "answer" % SIZE)
    # Read the answer: ICAP head, HTTP head, chunked body.
    buf = b""
    f = s.makefile("rb")
    status = f.readline()
    if b" 200 " not in status:
        fails.append("ICAP status %r, want 200" % status)
    while f.readline() not in (b"\r\n", b""):
        pass
    while f.readline() not in (b"\r\n", b""):
        pass
    h = hashlib.sha256()
    got = 0
    while True:
        spooled = spooled or (got < SIZE // 2 and children_spooling(main_pid))
        line = f.readline()
        if not line:
            fails.append("connection closed after %d body bytes" % got)
            break
        n = int(line.split(b";")[0], 16)
        if n == 0:
            break
        data = f.read(n)
        f.readline()
        h.update(data)
        got += len(data)
    t.join(30)
    if sent[1] is not None:
        fails.append("sending failed: %s" % sent[1])
    if got != SIZE or h.digest() != hashlib.sha256(body).digest():
        fails.append("answer body: %d bytes, identical: %s" % (got, h.digest() == hashlib.sha256(body).digest()))
    if spooled:
        fails.append("a c-icap child had a webwarden-body spool file open")
    for m in fails:
        print("FAIL: " + m)
    if not fails:
        print("ok: 32 MiB RESPMOD to a reader that waits 2 s: sender held at %d bytes, no spool "
              "file, answer byte-identical" % stalled_at)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
