#!/usr/bin/env python3
"""Serves a folder over http on 127.0.0.1, as an object store serves the blobs a registry
redirects to (docker-registry's redirect middleware): GET only, and a request that carries an
Authorization header is refused with 400, as S3 refuses a signed URL sent with one. So a client
that leaks the registry's token across the redirect fails.

Usage: blob_server.py ROOT PORT_FILE LOG   (one line per request in LOG: "GET PATH STATUS")
"""
import http.server
import os
import sys

ROOT, PORT_FILE, LOG = sys.argv[1:4]


class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=ROOT, **kwargs)

    def log_message(self, *args):
        pass

    def note(self, status):
        with open(LOG, "a") as f:
            f.write("%s %s %d\n" % (self.command, self.path, status))

    def do_GET(self):
        if self.headers.get("Authorization"):
            self.note(400)
            self.send_error(400, "Only one auth mechanism allowed")
            return
        self.note(200 if os.path.isfile(self.translate_path(self.path)) else 404)
        super().do_GET()

    def list_directory(self, path):
        self.send_error(403)
        return None


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
