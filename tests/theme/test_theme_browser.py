"""The built site in headless Chromium: screenshots at phone and desktop widths, no console
errors, no failed requests, no sideways scrolling on a phone, and where the layout puts things:
the content column inside the viewport (centred and at most its max-width on a desktop), readable
body text, and the machine-written badge and the plugin's notice visible, once, on the generated
post only (and in its card on the index).

Needs the Debian `chromium` package (/usr/bin/chromium) and the `playwright` Python package; it
never downloads a browser. Without them it skips, or fails under CI (CI=true), where it must run.
Set THEME_SCREENSHOTS=some/folder to keep the screenshots."""
from __future__ import annotations

import functools
import os
import struct
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from chromium import CHROMIUM, FLAGS, playwright

WIDTHS = {"phone": 375, "desktop": 1280}
REM = 16  # px: the browser's default root font size, which main.css keeps
# main.wrap's max-width in main.css: --wide (60rem) on the index's cards, --measure + 2.5rem (42.5rem) on
# the one-column (.narrow) pages
MAX_MAIN_WIDTH = {"index": 60 * REM, "generated-post": 42.5 * REM, "human-post": 42.5 * REM, "machine": 42.5 * REM}
PAGES = {"index": "/", "generated-post": "/2025/06/barometer-dreams.html",
         "human-post": "/2025/01/field-note-1.html", "machine": "/pages/machine.html"}


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # keep pytest output clean
        pass


@pytest.fixture(scope="module")
def server(site):
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A Chromium context with a fresh profile (user data dir), driven by Playwright."""
    profile = tmp_path_factory.mktemp("chromium-profile")
    with playwright("the browser test") as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": 1280, "height": 800}, device_scale_factor=1)
        yield context
        context.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    keep = os.environ.get("THEME_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        return Path(keep)
    return tmp_path_factory.mktemp("screenshots")


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("width_name", list(WIDTHS))
@pytest.mark.parametrize("page_name", list(PAGES))
def test_page_renders_cleanly(browser, server, shots, page_name, width_name):
    width = WIDTHS[width_name]
    problems: list[str] = []
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": 800})
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}")
            if msg.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("requestfailed", lambda req: problems.append(f"request failed: {req.url}"))
    page.on("response", lambda resp: problems.append(f"HTTP {resp.status}: {resp.url}")
            if resp.status >= 400 else None)
    try:
        response = page.goto(server + PAGES[page_name], wait_until="load")
        assert response is not None and response.status == 200
        page.wait_for_load_state("networkidle")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        images_ok = page.evaluate(
            "Array.from(document.images).every(img => img.complete && img.naturalWidth > 0)")
        layout = page.evaluate("""() => {
            const box = sel => { const e = document.querySelector(sel); if (!e) return null;
                const r = e.getBoundingClientRect(); const st = getComputedStyle(e);
                return {left: r.left, right: r.right, width: r.width, height: r.height,
                        visible: r.width > 0 && r.height > 0 && st.visibility !== 'hidden' && st.display !== 'none'}; };
            return {main: box('main#main'), nav: box('.site-nav'), badge: box('.post-header .badge'),
                    notice: box('.post-body .tpdne-disclosure'),
                    notices: document.querySelectorAll('.tpdne-disclosure').length,
                    fontSize: parseFloat(getComputedStyle(document.body).fontSize)}; }""")
        data = page.screenshot(path=str(shots / f"{page_name}-{width_name}.png"), full_page=True)
    finally:
        page.close()

    assert problems == []
    assert overflow <= 0, f"{page_name} scrolls sideways by {overflow}px at {width}px"
    assert images_ok, f"an image on {page_name} did not load"
    main, nav = layout["main"], layout["nav"]
    assert main["left"] >= 0 and main["right"] <= width, f"{page_name}: the content column leaves the viewport"
    if width > MAX_MAIN_WIDTH[page_name]:  # as wide as its max-width, centred, the background either side
        assert abs(main["width"] - MAX_MAIN_WIDTH[page_name]) <= 1, f"{page_name}: the column is {main['width']}px wide"
        assert abs(main["left"] - (width - main["right"])) <= 1, f"{page_name}: the column is off-centre"
    else:  # a phone: the full width (the padding is inside)
        assert abs(main["width"] - width) <= 1, f"{page_name}: the column is {main['width']}px wide"
    assert nav["visible"] and nav["right"] <= width, f"{page_name}: the site menu is off-screen"
    assert layout["fontSize"] >= 16, f"body text is {layout['fontSize']}px"
    generated = page_name == "generated-post"
    assert bool(layout["badge"] and layout["badge"]["visible"]) is generated
    assert bool(layout["notice"] and layout["notice"]["visible"]) is generated
    assert layout["notices"] == (1 if page_name in ("generated-post", "index") else 0)
    shot_width, shot_height = png_size(data)
    assert shot_width == width and shot_height >= 400
    assert len(data) > 10_000, "the screenshot is suspiciously small (blank page?)"
