"""Issue 16, done when "a reader of the demo site can write a new post in the page, offline": the
site `make html` built (output/, with the demo model exported into output/machine/write/) opened in
headless Chromium from a local server; the button writes a titled post from the real demo model
(SmolLM2-135M, 211 MB), with no request outside the site and no console error.

Needs `make html` first (CI runs it before `make test`): without the built demo site this test
skips, or fails under CI (CI=true)."""
from __future__ import annotations

from pathlib import Path

import pytest
from chromium import browser, missing, serve, watched_page
from test_write_browser import write

OUTPUT = Path(__file__).resolve().parents[2] / "output"


@pytest.mark.slow
def test_a_reader_of_the_demo_site_writes_a_post(shots):
    page = OUTPUT / "pages" / "machine.html"
    if not (OUTPUT / "machine" / "write" / "web.json").is_file() or not page.is_file() \
            or 'class="tpdne-write"' not in page.read_text(encoding="utf-8"):
        missing("the demo site has no \"Write me a new post\" box: run `make html` first (it exports the "
                "demo model for the browser)")
    with serve(OUTPUT) as server, browser("the demo site's \"Write me a new post\"") as launched:
        context, tab, problems = watched_page(launched, server, "/pages/machine.html")
        try:
            shown = write(tab, "3")
            tab.locator(".tpdne-write").screenshot(path=str(shots / "write-demo-site.png"))
        finally:
            context.close()
    assert shown["state"] == "done", shown  # a usable title and a body, by the daily post's rules
    assert shown["title"] and len(shown["body"].split()) >= 30, shown
    assert shown["status"].startswith("Done. Seed 3:")
    assert problems == []
