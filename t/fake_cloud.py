#!/usr/bin/env python3
"""Fake Webwarden cloud (PROTOCOL.md "Feedback" and "License"; static files for "Update") for tests.

Listens on 127.0.0.1 on a free port (or --port), writes the port to --port-file (atomically)
or prints it. Serves:

  POST /v1/feedback          {"batch_id", "events": [...]} -> 200 {"accepted": n}
                             a batch id already accepted is answered 200 {"accepted": n} again
                             and not counted twice; a body not of the protocol's shape -> 400
  POST /v1/license/check     {"activation_code": code} -> 200 license answer
  POST /v1/license/activate  same; records the code as activated when the answer is active
  GET  /<path>               a file under --root (for the update server: manifest, payloads)

License answers: from --licenses (JSON {code: answer}) or POST /_licenses, else a rule on the
code's first group: "AC" active (expires in 365 days), "EX" expired (30 days ago), "GR" expired
long ago (400 days ago), anything else invalid. Codes are compared upper-cased.

Control (never affected by the mode):
  POST /_mode      {"mode": m, "ms": N}  -> 200 {"mode": m}
  POST /_licenses  {code: answer, ...}   -> merged into the license table
  POST /_reset                           -> forget batches, events and counters
  GET  /_stats     -> {"events": n, "lookups": n (sum of counts), "batches": n, "batch_ids": [...], "duplicates": n,
                       "scanners": {"clamav": n, ...} (events by their optional "scanner"),
                       "feedback_requests": n, "license_requests": n, "activated": [...],
                       "last_body": {...}, "last_headers": {...}, "mode": m}

Modes (apply to the protocol endpoints):
  normal     answer as above
  delay      as normal after "ms" milliseconds (default 800)
  hang       read the request, never answer (until the mode changes or 60 s)
  lost       process the request as normal (a feedback batch IS counted), then never answer:
             the client times out although the server accepted - the "lost answer" case
  refuse     close the listening socket for "ms" milliseconds (default 3000; 0 = 3000), then
             listen again (mode back to normal); connects are refused meanwhile
  down       like refuse but until the mode is changed by a signal: SIGUSR1 brings it back
  500        HTTP 500
  malformed  200 with a body that is not JSON
  truncated  200 announcing more body bytes than sent, then the connection is closed
  wrongshape 200 with valid JSON of the wrong shape ({"accepted": "1"}, {"status": "maybe"})

Stdlib only, on t/fakelib.py.
"""
import argparse
import datetime
import json
import os
import socket
import sys
import time
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakelib  # noqa: E402

FAKE = fakelib.Fake(licenses={}, root=None)
STATE, LOCK = FAKE.state, FAKE.lock
STATS = {}


def reset_stats():
    STATS.clear()
    STATS.update({"events": 0, "lookups": 0, "batches": 0, "batch_ids": [], "duplicates": 0,
                  "scanners": {},
                  "feedback_requests": 0, "license_requests": 0, "activated": [],
                  "last_body": None, "last_headers": {}})


reset_stats()
ACCEPTED = {}  # batch id -> events counted


def license_answer(code):
    code = code.upper()
    with LOCK:
        mapped = STATE["licenses"].get(code)
    if mapped is not None:
        return mapped
    today = datetime.date.today()
    base = {"product": "Webwarden", "edition": "Standard", "seats": 100, "grace_days": 90}
    group = code.split("-")[0]
    if group == "AC":
        return dict(base, status="active", expires=str(today + datetime.timedelta(days=365)))
    if group == "EX":
        return dict(base, status="expired", expires=str(today - datetime.timedelta(days=30)))
    if group == "GR":
        return dict(base, status="expired", expires=str(today - datetime.timedelta(days=400)))
    return {"status": "invalid"}


class Handler(fakelib.Handler):
    def control(self, path, body):
        if path == "/_mode":
            try:
                req = json.loads(body or b"{}")
            except ValueError:
                self.send_json(400, {"error": "bad json"})
                return
            mode = str(req.get("mode", "normal"))
            # "down" lasts until SIGUSR1: an outage of unlimited length for fakelib.serve
            FAKE.set_mode(mode, -1 if mode == "down" else int(req.get("ms", 0)), go_down=False)
            self.send_json(200, {"mode": mode})
            if mode in ("refuse", "down"):
                FAKE.go_down()
            return
        if path == "/_licenses":
            try:
                req = json.loads(body or b"{}")
            except ValueError:
                self.send_json(400, {"error": "bad json"})
                return
            with LOCK:
                STATE["licenses"].update({k.upper(): v for k, v in req.items()})
            self.send_json(200, {"ok": True})
            return
        if path == "/_reset":
            with LOCK:
                reset_stats()
                ACCEPTED.clear()
            self.send_json(200, {"ok": True})
            return
        self.send_json(404, {"error": "no such path"})

    def before_answer(self, gen):
        """Applies the mode; returns False when no normal answer must be sent."""
        with LOCK:
            mode, ms = STATE["mode"], STATE["ms"]
        if mode == "delay":
            time.sleep((ms or 800) / 1000.0)
        elif mode in ("hang", "lost"):
            FAKE.hang(gen)
            self.close_connection = True
            return False
        elif mode == "500":
            self.send_json(500, {"error": "internal"})
            return False
        elif mode == "malformed":
            self.send_json(200, raw=b'{"accepted": 1, "status": "act')
            return False
        elif mode == "truncated":
            body = b'{"accepted": 1, "status": "active"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body) + 100))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return False
        elif mode == "wrongshape":
            self.send_json(200, raw=b'{"accepted": "1", "status": "maybe"}')
            return False
        return True

    def do_POST(self):
        path = urlsplit(self.path).path
        body = self.read_body()
        if path.startswith("/_"):
            self.control(path, body)
            return
        with LOCK:
            mode, gen = STATE["mode"], STATE["generation"]
            STATS["last_headers"] = {k: v for k, v in self.headers.items()}
        # Modes that fail before the server does anything.
        if mode not in ("normal", "delay", "lost"):
            with LOCK:
                key = "feedback_requests" if path == "/v1/feedback" else "license_requests"
                STATS[key] += 1
            self.before_answer(gen)
            return
        if path == "/v1/feedback":
            answer = self.feedback(body)
        elif path in ("/v1/license/check", "/v1/license/activate"):
            answer = self.license(path, body)
        else:
            self.send_json(404, {"error": "no such path"})
            return
        if answer is None:
            return
        if not self.before_answer(gen):
            return
        self.send_json(200, answer)

    def feedback(self, body):
        with LOCK:
            STATS["feedback_requests"] += 1
        try:
            req = json.loads(body)
            batch_id, events = req["batch_id"], req["events"]
            if not isinstance(batch_id, str) or not batch_id or not isinstance(events, list):
                raise ValueError("shape")
            for e in events:
                if (not isinstance(e["url"], str) or not isinstance(e["score"], int)
                        or not isinstance(e["categories"], list)
                        or e["action"] not in ("allow", "block")
                        or not (e["threat"] is None or isinstance(e["threat"], str))
                        or not isinstance(e["time"], str)
                        or not e["time"].endswith("Z")
                        or not isinstance(e.get("count", 1), int) or e.get("count", 1) < 1
                        or not isinstance(e.get("first_seen", e["time"]), str)
                        # which scanner found the threat (optional, issue 13)
                        or e.get("scanner", "fast") not in ("fast", "clamav", "smart")
                        or ("scanner" in e and e["threat"] is None)):
                    raise ValueError("event shape")
                datetime.datetime.strptime(e["time"], "%Y-%m-%dT%H:%M:%SZ")
                # Aggregated records (protocol.md) carry count and first_seen; older ones not.
                datetime.datetime.strptime(e.get("first_seen", e["time"]), "%Y-%m-%dT%H:%M:%SZ")
        except (ValueError, KeyError, TypeError):
            self.send_json(400, {"error": "bad batch"})
            return None
        with LOCK:
            STATS["last_body"] = req
            if batch_id in ACCEPTED:
                STATS["duplicates"] += 1
            else:
                ACCEPTED[batch_id] = len(events)
                STATS["events"] += len(events)
                STATS["lookups"] += sum(e.get("count", 1) for e in events)
                for e in events:
                    if "scanner" in e:
                        STATS["scanners"][e["scanner"]] = STATS["scanners"].get(e["scanner"], 0) + 1
                STATS["batches"] += 1
                STATS["batch_ids"].append(batch_id)
        return {"accepted": len(events)}

    def license(self, path, body):
        with LOCK:
            STATS["license_requests"] += 1
        try:
            req = json.loads(body)
            code = req["activation_code"]
            if not isinstance(code, str):
                raise ValueError("code")
        except (ValueError, KeyError, TypeError):
            self.send_json(400, {"error": "bad request"})
            return None
        answer = license_answer(code)
        with LOCK:
            STATS["last_body"] = req
            if path.endswith("/activate") and answer.get("status") == "active":
                STATS["activated"].append(code.upper())
        return answer

    def do_GET(self):
        path = urlsplit(self.path).path
        if path == "/_stats":
            with LOCK:
                self.send_json(200, dict(STATS, mode=STATE["mode"]))
            return
        with LOCK:
            gen, root = STATE["generation"], STATE["root"]
        full = os.path.realpath(os.path.join(root, path.lstrip("/"))) if root else None
        if full is None or not full.startswith(os.path.realpath(root) + os.sep) \
                or not os.path.isfile(full):
            self.send_json(404, {"error": "not found"})
            return
        if not self.before_answer(gen):
            return
        with open(full, "rb") as f:
            data = f.read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--mode", default="normal")
    ap.add_argument("--ms", type=int, default=0)
    ap.add_argument("--licenses", help="JSON file: {code: license answer}")
    ap.add_argument("--root", help="folder served for GET (update manifests and payloads)")
    args = ap.parse_args()
    STATE["mode"], STATE["ms"], STATE["root"] = args.mode, args.ms, args.root
    if args.licenses:
        with open(args.licenses) as f:
            STATE["licenses"] = {k.upper(): v for k, v in json.load(f).items()}
    fakelib.serve(Handler, FAKE, args.port, args.port_file)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
