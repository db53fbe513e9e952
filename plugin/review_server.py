"""The review page's server: ``http.server`` on 127.0.0.1, a free port, for one session.

It holds the review folder's lock for its whole life (``review_files.review_lock``: a second session,
or ``make queue``, says one is open, with this URL), and writes the URL to the folder's session file.

Any web page the owner visits could otherwise talk to it, so:

- every request's ``Host`` must be ``127.0.0.1:<port>`` or ``localhost:<port>`` (a DNS-rebinding page
  has its own host name there, so it can neither read the page nor its token);
- every POST carries the session's random token in an ``X-Review-Token`` header (a custom header: a
  cross-site page cannot send it without a CORS preflight, which this server never grants), must be
  ``application/json``, and a present ``Origin`` must be this server's;
- the page is sent with a Content-Security-Policy allowing only its own nonce'd script and style and
  requests to itself, ``X-Frame-Options: DENY`` and ``Cache-Control: no-store``.

The server is a thin layer over ``review_actions`` (one lock around each action: requests may come
in parallel).
"""
from __future__ import annotations

import contextlib
import hmac
import json
import logging
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

from common.errors import UserError, one_line
from common.fileio import atomic_write_text

from . import review_actions, review_files, review_page

logger = logging.getLogger(__name__)
HOST = "127.0.0.1"
MAX_BODY = 64 * 1024


class ReviewSession:
    """A running review server (``url``); ``wait()`` until Done, ``stop()`` to end it."""

    def __init__(self, settings, port: int = 0):
        self.settings = settings
        self.token = secrets.token_hex(32)
        self.done = threading.Event()
        self.action_lock = threading.Lock()
        self.httpd = ThreadingHTTPServer((HOST, port), _handler(self))
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://{HOST}:{self.port}/"
        self.hosts = {f"{HOST}:{self.port}", f"localhost:{self.port}"}
        self.origins = {f"http://{host}" for host in self.hosts}
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> ReviewSession:
        self.thread.start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        return self.done.wait(timeout)

    def stop(self) -> None:
        self.done.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@contextlib.contextmanager
def open_session(settings, port: int = 0) -> Iterator[ReviewSession]:
    """Lock the review folder, serve the page, and clean up (lock, session file, socket) on exit."""
    review = review_files.paths(settings)
    with review_files.review_lock(review):
        review_actions.Review.read(settings)  # a broken decisions.json: refuse before serving
        session = ReviewSession(settings, port).start()
        try:
            atomic_write_text(review.session, session.url + "\n")
            yield session
        finally:
            session.stop()


def _handler(session: ReviewSession):
    class Handler(BaseHTTPRequestHandler):
        server_version = "review"
        sys_version = ""

        def log_message(self, format, *args):  # the terminal shows the URL and errors only
            logger.debug("review: " + format, *args)

        def _send(self, status: int, body: bytes, kind: str, extra: dict | None = None) -> None:
            self.send_response(status)
            headers = {"Content-Type": kind, "Content-Length": str(len(body)), "Cache-Control": "no-store",
                       "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
                       "Referrer-Policy": "no-referrer", **(extra or {})}
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, data: dict) -> None:
            self._send(status, json.dumps(data).encode("utf-8"), "application/json")

        def _host_ok(self) -> bool:
            if self.headers.get("Host", "") in session.hosts:
                return True
            self._send(403, b"wrong host", "text/plain")
            return False

        def do_GET(self):
            if not self._host_ok():
                return
            if self.path != "/":
                self._send(404, b"not found", "text/plain")
                return
            nonce = secrets.token_urlsafe(16)
            try:
                with session.action_lock:
                    items = review_actions.items(session.settings)
                page = review_page.render(items, session.token, nonce, str(session.settings.review_folder))
            except (UserError, OSError) as err:
                self._send(500, f"error: {one_line(err)}".encode("utf-8"), "text/plain; charset=utf-8")
                return
            csp = (f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
                   "connect-src 'self'; img-src 'none'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'")
            self._send(200, page.encode("utf-8"), "text/html; charset=utf-8", {"Content-Security-Policy": csp})

        def do_POST(self):
            if not self._host_ok():
                return
            origin = self.headers.get("Origin")
            token = self.headers.get("X-Review-Token", "")
            if ((origin is not None and origin not in session.origins)
                    or not hmac.compare_digest(token.encode(), session.token.encode())
                    or self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json"):
                self._json(403, {"ok": False, "error": "refused: not from this review page"})
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_BODY:
                self._json(400, {"ok": False, "error": "bad request size"})
                return
            try:
                data = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                data = None
            if not isinstance(data, dict):
                self._json(400, {"ok": False, "error": "the request is not a JSON object"})
                return
            if self.path == "/api/done":
                self._json(200, {"ok": True})
                session.done.set()
                return
            if self.path != "/api/decide":
                self._json(404, {"ok": False, "error": "not found"})
                return
            try:
                with session.action_lock:
                    item = review_actions.decide(session.settings, data.get("day"), data.get("action"),
                                                 data.get("value"))
            except (UserError, OSError) as err:
                self._json(200, {"ok": False, "error": one_line(err)})
                return
            self._json(200, {"ok": True, "item": item.as_json()})

    return Handler
