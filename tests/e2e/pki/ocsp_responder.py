#!/usr/bin/env python3
"""OCSP responder of the smime-proxy end-to-end PKI stack (tests/e2e/pki/stack.sh).

TEST FIXTURE: answers for the throwaway "smime-proxy e2e Directory CA" only, on 127.0.0.1.

Why not `openssl ocsp -port`: OpenSSL 3.0 listens on every interface with it, and a bare
connect-and-close wedges its single-threaded loop for good. This server binds 127.0.0.1 only
(hard-coded, no option to change it), is threaded, and runs one
  openssl ocsp -index INDEX -CA CA -rsigner RSIGNER -rkey RKEY -reqin REQ -respout RESP -nmin N
per request, so a revocation written into the CA database (openssl ca -revoke) is answered at
once. openssl echoes the nonce when the request has one.

HTTP (RFC 6960 appendix A.1):
  POST /            body = DER OCSPRequest (Content-Type application/ocsp-request; not enforced)
  GET  /<b64>       url-encoded base64 of the DER OCSPRequest (any path prefix before it is not
                    supported: the whole path after the first "/" is the request)
Answers:
  200 application/ocsp-response   the signed response; or, for a request that does not parse as
                                   an OCSPRequest (bad base64, garbage DER, empty body), the
                                   unsigned OCSP error response malformedRequest (30 03 0a 01 01);
                                   internalError (30 03 0a 01 02) if openssl fails otherwise
  411 / 400                        POST without a usable Content-Length
  413                              POST body over 64 KiB (not read)
  414                              request line over 64 KiB (http.server's own limit)
  501                              any other method (http.server's own answer)
One line per request goes to --log: time, client, method, body length, HTTP status, OCSP status,
duration (and openssl's first stderr line when it failed).
"""
import argparse
import base64
import binascii
import datetime
import http.server
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HOST = "127.0.0.1"  # never anything else
MAX_BODY = 64 * 1024
MALFORMED = bytes.fromhex("30030a0101")
INTERNAL = bytes.fromhex("30030a0102")
STATUS_NAMES = {0: "successful", 1: "malformedRequest", 2: "internalError", 3: "tryLater",
                5: "sigRequired", 6: "unauthorized"}


def ocsp_status(der):
    """responseStatus of a DER OCSPResponse (SEQUENCE { ENUMERATED, ... }), as a name."""
    try:
        if der[0] != 0x30:
            return "not-ocsp"
        i = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7F)
        if der[i] == 0x0A and der[i + 1] == 0x01:
            return STATUS_NAMES.get(der[i + 2], "status-%d" % der[i + 2])
    except IndexError:
        pass
    return "not-ocsp"


class Responder(http.server.BaseHTTPRequestHandler):
    server_version = "smime-proxy-e2e-ocsp/1"
    timeout = 10  # per-connection socket timeout: a silent client cannot hold a thread
    cfg = None  # argparse namespace, set in main()
    log_lock = threading.Lock()

    def log_message(self, fmt, *args):  # http.server's own stderr lines: into our log
        self.log_line("- %s" % (fmt % args))

    def log_line(self, text):
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        with self.log_lock, open(self.cfg.log, "a", encoding="utf-8") as f:
            f.write("%s %s %s\n" % (now, self.client_address[0], text))

    def send(self, code, body, ctype="application/ocsp-response"):
        self.send_response_only(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def answer(self, method, der):
        t0 = time.monotonic()
        note = ""
        if not der:
            resp = MALFORMED
        else:
            resp, note = self.run_openssl(der)
        self.send(200, resp)
        self.log_line("%s len=%d http=200 ocsp=%s %dms%s" % (
            method, len(der), ocsp_status(resp), (time.monotonic() - t0) * 1000, note))

    def run_openssl(self, der):
        c = self.cfg
        with tempfile.TemporaryDirectory(dir=c.workdir) as tmp:
            req, resp = os.path.join(tmp, "req.der"), os.path.join(tmp, "resp.der")
            with open(req, "wb") as f:
                f.write(der)
            cmd = [c.openssl, "ocsp", "-index", c.index, "-CA", c.ca, "-rsigner", c.rsigner,
                   "-rkey", c.rkey, "-reqin", req, "-respout", resp, "-nmin", str(c.nmin)]
            try:
                p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
                err = p.stderr.decode("utf-8", "replace").strip().splitlines()
            except subprocess.TimeoutExpired:
                return INTERNAL, " (openssl timed out)"
            if os.path.exists(resp) and os.path.getsize(resp) > 0:
                with open(resp, "rb") as f:
                    return f.read(), ""
            first = err[0] if err else "rc=%d" % p.returncode
            if any("reading OCSP request" in l or "asn1" in l.lower() for l in err):
                return MALFORMED, " (openssl: %s)" % first
            return INTERNAL, " (openssl: %s)" % first

    def do_POST(self):
        length = self.headers.get("Content-Length")
        if length is None:
            self.send(411, b"Content-Length required\n", "text/plain")
            self.log_line("POST len=? http=411")
            return
        try:
            n = int(length)
            if n < 0:
                raise ValueError
        except ValueError:
            self.send(400, b"bad Content-Length\n", "text/plain")
            self.log_line("POST len=%r http=400" % length)
            return
        if n > MAX_BODY:
            self.send(413, b"OCSP request over 64 KiB\n", "text/plain")
            self.log_line("POST len=%d http=413" % n)
            return
        body = self.rfile.read(n)
        self.answer("POST", body)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        raw = urllib.parse.unquote(path[1:] if path.startswith("/") else path)
        try:
            der = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True) if raw else b""
        except (binascii.Error, ValueError):
            der = b""
        if len(der) > MAX_BODY:
            der = b""
        self.answer("GET", der)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=18888)
    ap.add_argument("--index", required=True, help="openssl ca index.txt of the CA")
    ap.add_argument("--ca", required=True, help="the CA certificate (PEM)")
    ap.add_argument("--rsigner", required=True, help="responder certificate (PEM)")
    ap.add_argument("--rkey", required=True, help="responder key (PEM)")
    ap.add_argument("--workdir", required=True, help="scratch dir for request/response files")
    ap.add_argument("--log", required=True, help="request log (appended)")
    ap.add_argument("--nmin", type=int, default=60, help="nextUpdate, minutes")
    ap.add_argument("--openssl", default="openssl")
    cfg = ap.parse_args()
    for path in (cfg.index, cfg.ca, cfg.rsigner, cfg.rkey):
        if not os.path.isfile(path):
            sys.exit("ocsp_responder: missing %s" % path)
    os.makedirs(cfg.workdir, exist_ok=True)
    Responder.cfg = cfg
    http.server.ThreadingHTTPServer.daemon_threads = True
    http.server.ThreadingHTTPServer.request_queue_size = 64
    srv = http.server.ThreadingHTTPServer((HOST, cfg.port), Responder)
    with open(cfg.log, "a", encoding="utf-8") as f:
        f.write("%s listening on http://%s:%d/ (pid %d)\n" % (
            datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            HOST, cfg.port, os.getpid()))
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
