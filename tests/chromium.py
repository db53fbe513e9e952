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
