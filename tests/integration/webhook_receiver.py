#!/usr/bin/env python3
"""A local webhook receiver for the alert test: appends each POSTed body (one JSON per line) to
OUT, answering 500 to the first FAIL_FIRST requests so that retries are exercised.
Usage: webhook_receiver.py PORT OUT FAIL_FIRST"""
import http.server
import sys

port, out, fail_first = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
seen = 0


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global seen
        body = self.rfile.read(int(self.headers["Content-Length"]))
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
