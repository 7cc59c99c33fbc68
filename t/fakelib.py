"""Shared pieces of Webwarden's fake cloud servers (t/fake_*.py): a keep-alive threading HTTP
server on 127.0.0.1, JSON answers, a port file written atomically, a mode that tests switch at
run time, a "hang" that ends when the mode changes, and outages (the listening socket closed
and kept-alive connections cut, as in a real outage), HTTPS with a self-signed certificate made
by the openssl command. Stdlib only."""
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Fake:
    """The state one fake server shares between its handler threads (always under lock)."""

    def __init__(self, **state):
        self.lock = threading.Lock()
        self.state = {"mode": "normal", "ms": 0, "generation": 0}
        self.state.update(state)
        self.conns = set()  # open client sockets, cut during an outage
        self.restart = threading.Event()
        self.back = threading.Event()  # ends an outage of unlimited length (SIGUSR1)

    def set_mode(self, mode, ms=0, go_down=True):
        """Switches the mode; for "refuse" the outage starts now, or with go_down=False when
        the caller calls go_down() (after answering the request that asked for it)."""
        with self.lock:
            self.state["mode"], self.state["ms"] = mode, ms
            self.state["generation"] += 1
        if mode == "refuse" and go_down:
            self.go_down()

    def go_down(self):
        self.restart.set()

    def snapshot(self):
        with self.lock:
            return self.state["mode"], self.state["ms"], self.state["generation"]

    def hang(self, generation, limit_s=60):
        """Blocks until the mode changes (or limit_s passes)."""
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            with self.lock:
                if self.state["generation"] != generation:
                    return
            time.sleep(0.05)


class Handler(BaseHTTPRequestHandler):
    """Base handler: subclasses set FAKE (a Fake) and define do_GET/do_POST."""
    protocol_version = "HTTP/1.1"  # keep-alive, as the gateway expects
    # Headers and body go out in two writes: with Nagle on, the second waits for the client's
    # delayed ACK (40 ms on Linux) on every kept-alive request, which no real server costs.
    disable_nagle_algorithm = True
    FAKE = None

    def setup(self):
        super().setup()
        with self.FAKE.lock:
            self.FAKE.conns.add(self.connection)

    def finish(self):
        with self.FAKE.lock:
            self.FAKE.conns.discard(self.connection)
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
        """The request body (Content-Length bytes) as bytes."""
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def read_json(self):
        """The request body as JSON (None if it is not)."""
        try:
            return json.loads(self.read_body() or b"{}")
        except ValueError:
            return None


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


def listen(handler, port):
    """A server on 127.0.0.1:port. After an outage the port may be taken for a moment (a client
    socket of another program got it as its ephemeral port): retried for 10 s."""
    deadline = time.monotonic() + 10
    while True:
        try:
            return Server(("127.0.0.1", port), handler)
        except OSError as e:
            if port == 0 or time.monotonic() > deadline:
                raise
            print("fake: port %d: %s; retrying" % (port, e), file=sys.stderr, flush=True)
            time.sleep(0.1)


def make_tls_context(tls_dir):
    """A server TLS context with a new self-signed certificate for 127.0.0.1, made with the openssl
    command into tls_dir/cert.pem (the CA file a client must trust) and tls_dir/key.pem."""
    cert, key = os.path.join(tls_dir, "cert.pem"), os.path.join(tls_dir, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def serve(handler, fake, port, port_file, tls=None):
    """Serves forever (HTTPS when tls is a context from make_tls_context). When fake.restart is
    set (modes "refuse" and "down"), closes the listening socket and every kept-alive connection
    for fake.state["ms"] milliseconds (default 3000; < 0: until SIGUSR1), then listens again on
    the same port in mode "normal"."""
    handler.FAKE = fake
    signal.signal(signal.SIGUSR1, lambda *_: fake.back.set())
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    first = True
    while True:
        srv = listen(handler, port)
        port = srv.server_address[1]
        if tls is not None:
            srv.socket = tls.wrap_socket(srv.socket, server_side=True)
        if first:
            write_port(port, port_file)
            first = False
        t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                             daemon=True)
        t.start()
        while not fake.restart.wait(0.2):  # a timed wait keeps signals handled promptly
            pass
        fake.restart.clear()
        fake.back.clear()
        srv.shutdown()
        srv.server_close()  # connects are refused now
        with fake.lock:
            for c in list(fake.conns):
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            down_ms = fake.state["ms"] or 3000
        if down_ms < 0:
            while not fake.back.wait(0.2):
                pass
        else:
            fake.back.wait(down_ms / 1000.0)
        with fake.lock:
            if fake.state["mode"] in ("refuse", "down"):
                fake.state["mode"] = "normal"
                fake.state["generation"] += 1
