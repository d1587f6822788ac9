#!/usr/bin/env python3
"""A local webhook receiver for the alert test: appends each POSTed body (one JSON per line) to
OUT, answering 500 to the first FAIL_FIRST requests so that retries are exercised. With a
SECRET, it checks each request's X-Kvision-Signature (HMAC-SHA256 of "timestamp.body") as a
receiver would, answers 401 to a missing or wrong one, and counts those in OUT.rejected.
Usage: webhook_receiver.py PORT OUT FAIL_FIRST [SECRET]"""
import hashlib
import hmac
import http.server
import sys
import time

port, out, fail_first = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
secret = sys.argv[4].encode() if len(sys.argv) > 4 else None
seen = 0


def signed(headers, body):
    ts = headers.get("X-Kvision-Timestamp", "")
    got = headers.get("X-Kvision-Signature", "")
    if not ts.isdigit() or abs(time.time() - int(ts)) > 300:
        return False
    want = "sha256=" + hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, got)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global seen
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if secret is not None and not signed(self.headers, body):
            with open(out + ".rejected", "a") as f:
                f.write("1\n")
            self.send_response(401)
            self.end_headers()
            return
        seen += 1
        if seen <= fail_first:
            self.send_response(500)
            self.end_headers()
            return
        with open(out, "ab") as f:
            f.write(body + b"\n")
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
