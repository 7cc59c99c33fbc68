#!/usr/bin/env python3
"""Bounded HTTP load through a loopback proxy, for the fault suite (t/it_faults.sh).

  t/proxyload.py --proxy 127.0.0.1:3128 --url URL:SIZE [--url URL:SIZE ...] [-c 2] [-d 8]
                 [-t 5] [-n 100000]

Each of -c threads keeps one connection to the proxy and fetches the URLs in turn (absolute-form
requests, keep-alive) for -d seconds or until -n requests in all. A request counts as an error
when the status is not 200, the body is not SIZE bytes, or the connection fails; as a timeout
when it takes over -t seconds (then its connection is dropped). A request that finds its
kept-alive connection closed before any answer byte is sent again once on a new connection, as
browsers do (RFC 9112 9.3.1: Squid closes some client connections after an adapted response
without saying so); those are counted as "retried", not as errors. Prints one JSON object:
{"requests", "errors", "timeouts", "retried", "max_ms", "by_status", "first_error"}. Loopback
proxies only.
"""
import argparse
import http.client
import json
import sys
import threading
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--proxy", required=True, help="HOST:PORT of the proxy (loopback)")
    ap.add_argument("--url", action="append", required=True, help="URL:SIZE (SIZE in bytes)")
    ap.add_argument("-c", type=int, default=2)
    ap.add_argument("-d", type=float, default=8.0)
    ap.add_argument("-t", type=float, default=5.0)
    ap.add_argument("-n", type=int, default=100000)
    ap.add_argument("--unique", action="store_true",
                    help="append ?u=N (new each request) so no answer comes from a cache")
    a = ap.parse_args()
    host, _, port = a.proxy.rpartition(":")
    if host not in ("127.0.0.1", "::1", "localhost"):
        sys.exit("proxyload: loopback proxies only")
    if not (1 <= a.c <= 64 and 0 < a.d <= 600 and 0 < a.t <= 60 and a.n > 0):
        sys.exit("proxyload: -c 1..64, -d 0..600, -t 0..60, -n > 0")
    urls = []
    for u in a.url:
        url, _, size = u.rpartition(":")
        urls.append((url, int(size)))

    lock = threading.Lock()
    tot = {"requests": 0, "errors": 0, "timeouts": 0, "retried": 0, "max_ms": 0.0, "by_status": {},
           "first_error": None}
    end = time.monotonic() + a.d

    def count(status, ms, err=None, timeout=False):
        with lock:
            tot["requests"] += 1
            tot["max_ms"] = max(tot["max_ms"], ms)
            tot["by_status"][str(status)] = tot["by_status"].get(str(status), 0) + 1
            if timeout:
                tot["timeouts"] += 1
            elif err is not None:
                tot["errors"] += 1
            if err is not None and tot["first_error"] is None:
                tot["first_error"] = err
            return tot["requests"] < a.n

    def worker(k):
        conn = None
        i = k
        while time.monotonic() < end:
            url, size = urls[i % len(urls)]
            if a.unique:
                url = "%s?u=%d.%d" % (url, k, i)
            i += 1
            t0 = time.monotonic()
            try:
                reused = conn is not None
                if conn is None:
                    conn = http.client.HTTPConnection(host, int(port), timeout=a.t)
                try:
                    conn.request("GET", url)
                    r = conn.getresponse()
                except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                    if not reused:
                        raise
                    with lock:
                        tot["retried"] += 1
                    conn.close()
                    conn = http.client.HTTPConnection(host, int(port), timeout=a.t)
                    conn.request("GET", url)
                    r = conn.getresponse()
                body = r.read()
                ms = (time.monotonic() - t0) * 1000
                err = None
                if r.status != 200 or len(body) != size:
                    err = "%s: HTTP %d, %d bytes (want 200, %d)" % (url, r.status, len(body), size)
                if r.getheader("Connection", "").lower() == "close" or err is not None:
                    conn.close()
                    conn = None
                more = count(r.status, ms, err, ms > a.t * 1000)
            except OSError as e:  # refused, reset, timed out
                ms = (time.monotonic() - t0) * 1000
                if conn is not None:
                    conn.close()
                conn = None
                more = count(0, ms, "%s: %s" % (url, e), isinstance(e, TimeoutError))
            except http.client.HTTPException as e:
                ms = (time.monotonic() - t0) * 1000
                conn.close()
                conn = None
                more = count(0, ms, "%s: %s" % (url, e.__class__.__name__))
            if not more:
                break
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(a.c)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(a.d + a.t + 5)
    tot["max_ms"] = round(tot["max_ms"], 1)
    print(json.dumps(tot))
    return 0


if __name__ == "__main__":
    sys.exit(main())
