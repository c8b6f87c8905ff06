#!/usr/bin/env python3
"""A webhook receiver for the integration tests, written from
docs/webhooks.md and independent of fbld's code.

It listens on 127.0.0.1 (a free port, written to PORT_FILE), checks each
POST's signature itself with Python's hmac (HMAC-SHA256 over
"TIMESTAMP.BODY" keyed with the shared secret, header
"Fbld-Signature: v1=HEX", timestamp within 5 minutes), and appends one JSON
line per request to LOG:

  {"path": "/...", "key": Idempotency-Key, "event": Fbld-Event-Id,
   "attempt": N, "content_type": ...,
   "status": answered, "verified": true|false, "body": the parsed body}

It answers 401 to a bad signature; otherwise 500 while FAIL_FILE exists, or
for the first --fail N requests, and 200 after that. While SLOW_FILE
exists, a request first creates SLOW_FILE.hit and waits 3 seconds.

usage: webhook_receiver.py PORT_FILE SECRET_FILE LOG [--fail N]
                           [--fail-file FILE] [--slow-file FILE]
"""
import argparse
import hashlib
import hmac
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port_file")
    ap.add_argument("secret_file")
    ap.add_argument("log")
    ap.add_argument("--fail", type=int, default=0)
    ap.add_argument("--fail-file")
    ap.add_argument("--slow-file")
    args = ap.parse_args()
    with open(args.secret_file, "rb") as f:
        secret = f.read().rstrip(b"\n")
    lock = threading.Lock()
    state = {"seen": 0}

    def verify(headers, body):
        ts = headers.get("Fbld-Timestamp", "")
        sig = headers.get("Fbld-Signature", "")
        if not ts.isdigit() or abs(time.time() - int(ts)) > 300:
            return False
        mac = hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256)
        return hmac.compare_digest(sig, "v1=" + mac.hexdigest())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if args.slow_file and os.path.exists(args.slow_file):
                open(args.slow_file + ".hit", "w").close()
                time.sleep(3)
            ok = verify(self.headers, body)
            with lock:
                state["seen"] += 1
                if not ok:
                    status = 401
                elif args.fail_file and os.path.exists(args.fail_file):
                    status = 500
                elif state["seen"] <= args.fail:
                    status = 500
                else:
                    status = 200
                try:
                    parsed = json.loads(body)
                except ValueError:
                    parsed = None
                line = {
                    "path": self.path,
                    "key": self.headers.get("Idempotency-Key"),
                    "event": self.headers.get("Fbld-Event-Id"),
                    "attempt": self.headers.get("Fbld-Attempt"),
                    "content_type": self.headers.get("Content-Type"),
                    "status": status,
                    "verified": ok,
                    "body": parsed,
                }
                with open(args.log, "a") as f:
                    f.write(json.dumps(line) + "\n")
                    f.flush()
                    os.fsync(f.fileno())
            text = b"receiver says no\n" if status != 200 else b"ok\n"
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)
            except OSError:
                pass  # the client went away (a killed daemon)

        def log_message(self, fmt, *a):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
