"""The HTTP server behind `puma` and `rails server`: threads, request log, graceful stop."""
import json
import os
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .common import STOP, err, out, stopping


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Puma"
    timeout = 120
    disable_nagle_algorithm = True
    app = None
    inflight = 0
    lock = threading.Lock()
    t0 = None

    def log_request(self, code="-", size="-"):
        if self.t0 is None:  # errors of the http.server machinery (bad request lines...)
            out('%s - "%s" %s %s' % (self.client_address[0], self.requestline, code, size))

    def log_error(self, fmt, *args):
        err("%s %s" % (self.client_address[0], fmt % args))

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def handle_any(self):
        self.t0 = time.monotonic()
        with Handler.lock:
            Handler.inflight += 1
        try:
            url = urllib.parse.urlsplit(self.path)
            params = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
            try:
                status, doc = self.app.route(self.command, url.path, params, self.read_body())
            except Exception as e:  # noqa: BLE001 - one bad request must not end the server
                err("error in %s %s: %r" % (self.command, self.path, e))
                status, doc = 500, {"error": "internal server error", "why": type(e).__name__}
            if isinstance(doc, str):
                data, ctype = doc.encode(), "text/html; charset=utf-8"
            else:
                data, ctype = (json.dumps(doc) + "\n").encode(), "application/json; charset=utf-8"
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            if stopping():
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            out('%s - "%s" %d %d %.4f' % (self.client_address[0], self.requestline, status, len(data),
                                          time.monotonic() - self.t0))
        finally:
            self.t0 = None
            with Handler.lock:
                Handler.inflight -= 1

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = handle_any


def serve(app, host, port, pidfile=None):
    """Serves app until SIGTERM/SIGINT (flag_on_term must be set); returns 0."""
    Handler.app = app
    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    out("* Listening on http://%s:%d" % (host, port))
    out("Use Ctrl-C to stop")
    while not STOP:
        time.sleep(0.05)
    out("- Gracefully stopping, waiting for requests to finish")
    server.shutdown()
    server.server_close()
    deadline = time.monotonic() + 2
    while Handler.inflight > 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    if pidfile:
        try:
            os.unlink(pidfile)
        except OSError:
            pass
    out("=== puma shutdown: %s ===" % time.strftime("%Y-%m-%d %H:%M:%S +0000", time.gmtime()))
    out("- Goodbye!")
    return 0
