#!/usr/bin/env python3
"""A token server for docker-registry's token auth (distribution's docs/spec/auth/token.md and
oauth.md), so that coroner's bearer flow is tested against the real registry, which verifies
every token it is given.

GET  /token?service=S&scope=repository:NAME:pull[,push]   with or without Basic credentials
POST /token  grant_type=password (username, password) or grant_type=refresh_token
             (refresh_token), service, scope, client_id   (OAuth2, form-encoded)

Valid credentials get a token granting the scope; no credentials get a token granting nothing
(as Docker Hub does for a private repository, the registry then answers 401); wrong credentials
get 401. The JWT is RS256-signed with `openssl dgst` and carries the certificate in x5c, which
the registry checks against its rootcertbundle. Standard library and the openssl CLI only.

Usage: token_server.py PORT_FILE KEY CERT ISSUER USER:PASSWORD REFRESH_TOKEN LOG
Binds 127.0.0.1 on a free port and writes it to PORT_FILE; logs one line per request to LOG.
"""
import base64
import http.server
import json
import os
import subprocess
import sys
import time
import urllib.parse


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


PORT_FILE, KEY, CERT, ISSUER, CREDS, REFRESH, LOG = sys.argv[1:8]
USER, PASSWORD = CREDS.split(":", 1)
DER = subprocess.run(["openssl", "x509", "-in", CERT, "-outform", "DER"], check=True,
                     capture_output=True).stdout


def make_token(subject, service, scopes, granted):
    access = []
    if granted:
        for s in scopes:
            kind, _, rest = s.partition(":")
            name, _, actions = rest.rpartition(":")
            if kind == "repository" and name:
                access.append({"type": kind, "name": name, "actions": actions.split(",")})
    now = int(time.time())
    header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(DER).decode()]}
    claims = {"iss": ISSUER, "sub": subject, "aud": service, "exp": now + 300, "nbf": now - 10,
              "iat": now, "jti": b64url(os.urandom(12)), "access": access}
    signing = (b64url(json.dumps(header).encode()) + "." +
               b64url(json.dumps(claims).encode())).encode()
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", KEY], input=signing,
                         check=True, capture_output=True).stdout
    return signing.decode() + "." + b64url(sig)


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def note(self, what):
        with open(LOG, "a") as f:
            f.write("%s %s %s\n" % (self.command, what, self.path.split("?")[0]))

    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        service, scopes = q.get("service", [""])[0], q.get("scope", [])
        auth = self.headers.get("Authorization", "")
        if not auth:
            self.note("anonymous")
            return self.reply(200, {"token": make_token("", service, scopes, False)})
        try:
            user, _, password = base64.b64decode(auth.split(" ", 1)[1]).decode().partition(":")
        except Exception:
            user, password = "", None
        if not auth.startswith("Basic ") or (user, password) != (USER, PASSWORD):
            self.note("refused")
            return self.reply(401, {"errors": [{"code": "UNAUTHORIZED",
                                                "message": "wrong user or password"}]})
        self.note("basic")
        self.reply(200, {"token": make_token(user, service, scopes, True), "expires_in": 300})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        get = lambda k: form.get(k, [""])[0]
        grant = get("grant_type")
        ok = (grant == "refresh_token" and get("refresh_token") == REFRESH) or (
            grant == "password" and (get("username"), get("password")) == (USER, PASSWORD))
        if not ok:
            self.note("refused-" + grant)
            return self.reply(401, {"error": "invalid_grant"})
        self.note(grant)
        token = make_token(USER, get("service"), get("scope").split(" "), True)
        self.reply(200, {"access_token": token, "refresh_token": REFRESH, "expires_in": 300})


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
