#!/usr/bin/python3
"""A tiny JWKS server for the jwt plugin's jwks_uri test.

  jwks_server.py PORT DIR LOG [CACHE-CONTROL]

Serves DIR/<path> (re-read on every request, so a test rotates keys by
replacing the file), appends each request path to LOG, sends the given
Cache-Control header.  Listens on 127.0.0.1 only; stopped by SIGTERM.
"""
import http.server
import os
import sys

port, root, log = int(sys.argv[1]), sys.argv[2], sys.argv[3]
cache = sys.argv[4] if len(sys.argv) > 4 else None


class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(log, "a") as f:
            f.write(self.path + "\n")
        p = os.path.join(root, self.path.lstrip("/"))
        try:
            body = open(p, "rb").read()
        except OSError:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if cache:
            self.send_header("Cache-Control", cache)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
