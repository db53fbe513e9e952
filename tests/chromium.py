"""Headless Chromium for the browser tests, driven by Playwright: the Debian ``chromium`` package
(/usr/bin/chromium, or $CHROMIUM) and the ``playwright`` Python package; never downloads a browser.
Without them a browser test skips, or fails under CI (CI=true), where it must run."""
from __future__ import annotations

import contextlib
import os
import shutil

import pytest

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def missing(message: str) -> None:
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        pytest.fail(f"{message} [CI is set, so this fails instead of skipping]", pytrace=False)
    pytest.skip(message)


@contextlib.contextmanager
def playwright(what: str):
    """Playwright's sync API, started (``what``: the test, for the message when something is missing)."""
    if not CHROMIUM:
        missing(f"Chromium is not installed (apt-get install chromium); {what} needs it")
    try:
        from playwright import sync_api
    except ImportError:
        missing("the playwright package is not installed (`make install` installs it)")
    with sync_api.sync_playwright() as pw:
        yield pw


@contextlib.contextmanager
def browser(what: str):
    """A launched headless Chromium, closed afterwards."""
    with playwright(what) as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield launched
        finally:
            launched.close()


@contextlib.contextmanager
def serve(folder):
    """``folder`` served on 127.0.0.1 (a free port) while the block runs: yields its base URL."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):  # no request log in the test output
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def screenshots_folder(tmp_path):
    """Where a browser test saves its screenshots: $THEME_SCREENSHOTS when set (kept), else ``tmp_path``."""
    from pathlib import Path

    keep = os.environ.get("THEME_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        return Path(keep)
    return tmp_path


def watched_page(launched, server: str, path: str, scripts: bool = True, init_script: str | None = None):
    """``server + path`` in a new context of ``launched``: ``(context, page, problems)``, where
    ``problems`` collects console errors, page errors, failed requests, HTTP errors and every request
    that leaves ``server``. ``init_script`` runs before the page's own scripts."""
    context = launched.new_context(java_script_enabled=scripts, viewport={"width": 1000, "height": 900})
    if init_script:
        context.add_init_script(init_script)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("requestfailed", lambda req: problems.append(f"request failed: {req.url}"))
    page.on("request", lambda req: problems.append(f"request outside the site: {req.url}")
            if not req.url.startswith(server + "/") else None)
    page.on("response", lambda resp: problems.append(f"HTTP {resp.status}: {resp.url}") if resp.status >= 400 else None)
    assert page.goto(server + path, wait_until="load").status == 200
    return context, page, problems
