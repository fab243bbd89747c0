#!/usr/bin/python3
"""netfault.py - loopback servers that misbehave, for the fault tests.
  netfault.py delay PORT TARGET_PORT SECONDS   TCP proxy that holds every
                                               reply SECONDS before passing it on
  netfault.py rediserr PORT                    answers every Redis command
                                               with -ERR injected
  netfault.py http PORT MODE [FILE]            JWKS-like HTTP server: MODE
                                               slow (sleeps 10 s), garbage,
                                               500, ok (serves FILE), hang
                                               (accepts, never answers)
Writes PORT to stdout when listening; runs until killed."""
import socket, socketserver, sys, threading, time, http.server


class TS(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True


def serve(handler, port):
    s = TS(("127.0.0.1", port), handler)
    print(s.server_address[1], flush=True)
    s.serve_forever()


def delay(port, target, secs):
    class H(socketserver.BaseRequestHandler):
        def handle(self):
            up = socket.create_connection(("127.0.0.1", target))
            def pump(a, b, d):
                try:
                    while True:
                        x = a.recv(65536)
                        if not x:
                            break
                        if d:
                            time.sleep(d)
                        b.sendall(x)
                except OSError:
                    pass
                for s in (a, b):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
            t = threading.Thread(target=pump, args=(up, self.request, secs), daemon=True)
            t.start()
            pump(self.request, up, 0)
            t.join()
    serve(H, port)


def rediserr(port):
    class H(socketserver.StreamRequestHandler):
        def handle(self):
            while True:
                line = self.rfile.readline()
                if not line:
                    return
                if line.startswith(b"*"):  # one reply per RESP array
                    n = int(line[1:])
                    for _ in range(2 * n):
                        self.rfile.readline()
                    self.wfile.write(b"-ERR injected failure\r\n")
                    self.wfile.flush()
    serve(H, port)


def http_srv(port, mode, path=None):
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            if mode == "slow":
                time.sleep(10)
            if mode == "hang":
                time.sleep(3600)
            if mode == "500":
                self.send_response(500)
                self.end_headers()
                self.wfile.write(b"oops")
                return
            body = open(path, "rb").read() if mode == "ok" else \
                b'{"keys": [{"kty": "RSA", "n": "\x00\xff' + b"A" * 5000
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
    serve(H, port)


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[0] == "delay":
        delay(int(a[1]), int(a[2]), float(a[3]))
    elif a[0] == "rediserr":
        rediserr(int(a[1]))
    elif a[0] == "http":
        http_srv(int(a[1]), a[2], a[3] if len(a) > 3 else None)
