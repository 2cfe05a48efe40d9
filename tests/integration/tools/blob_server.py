#!/usr/bin/env python3
"""Serves a folder over http on 127.0.0.1, as an object store serves the blobs a registry
redirects to (docker-registry's redirect middleware): GET only, with single byte ranges
("Range: bytes=N-" gets 206), and a request that carries an Authorization header is refused with
400, as S3 refuses a signed URL sent with one, so a client that leaks the registry's token across
the redirect fails. With "flaky", the first GET of each file that is over 64 KiB sends half of
it and drops the connection, so a client must resume with a range to finish.

Usage: blob_server.py ROOT PORT_FILE LOG [flaky]   (one line per request in LOG:
"GET PATH STATUS [RANGE] [cut]")
"""
import http.server
import os
import re
import shutil
import sys
import threading

ROOT, PORT_FILE, LOG = sys.argv[1:4]
FLAKY = len(sys.argv) > 4 and sys.argv[4] == "flaky"
seen = set()
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def note(self, status, extra=""):
        with lock, open(LOG, "a") as f:
            f.write("GET %s %d%s\n" % (self.path, status, extra))

    def fail(self, status):
        self.note(status)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        if self.headers.get("Authorization"):
            return self.fail(400)  # "Only one auth mechanism allowed"
        path = os.path.normpath(os.path.join(ROOT, self.path.split("?")[0].lstrip("/")))
        if not path.startswith(os.path.abspath(ROOT) + "/") or not os.path.isfile(path):
            return self.fail(404)
        size = os.path.getsize(path)
        start, status, extra = 0, 200, ""
        rng = self.headers.get("Range")
        if rng:
            m = re.fullmatch(r"bytes=(\d+)-", rng.strip())
            if not m or int(m.group(1)) >= size:
                return self.fail(416)
            start, status, extra = int(m.group(1)), 206, " " + rng.strip()
        with lock:
            cut = FLAKY and size > 65536 and path not in seen
            seen.add(path)
        self.note(status, extra + (" cut" if cut else ""))
        self.send_response(status)
        self.send_header("Content-Length", str(size - start))
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, size - 1, size))
        self.end_headers()
        with open(path, "rb") as f:
            f.seek(start)
            if cut:
                self.wfile.write(f.read((size - start) // 2))
                self.wfile.flush()
                self.close_connection = True
                return
            shutil.copyfileobj(f, self.wfile)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
