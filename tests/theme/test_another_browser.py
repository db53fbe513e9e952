"""Issue 15, item 5, in a real browser: "Show me another" on a machine post and on "About the
machine" opens another machine post, drawn with the weights of the owner's stars, from the site
alone (every request stays on the local server, no console error); with scripts off the button is
not there and the box's link leads to "Best of the machine".

Math.random is replaced before the page's scripts run, so each draw is known: the index lists the
posts newest first, and a draw r picks the first post whose running weight passes r * total.
Needs /usr/bin/chromium and the playwright package (never downloads a browser): without them it
skips, or fails under CI (CI=true). Set THEME_SCREENSHOTS=some/folder to keep the screenshots."""
from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from chromium import browser, serve, watched_page
from machine_posts import write_machine_posts, write_stars
from theme_build import build_site, model_folder

# The theme blog's machine post is 2025-06-01 ("The Barometer Dreams of Gulls"); four more after it.
NEW_POSTS = {dt.date(2025, 6, 2): "Fog on the mast", dt.date(2025, 6, 3): "The gauge that counted twice",
             dt.date(2025, 6, 4): "A quiet week for the anemometer", dt.date(2025, 6, 5): "Rain in the wrong bucket"}
STARRED = dt.date(2025, 6, 3)  # five stars: weight 26 against 1 for each other post


@pytest.fixture(scope="module")
def another_site(demo_content, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("another")
    content = root / "content"
    shutil.copytree(demo_content, content)
    write_machine_posts(content, NEW_POSTS, "Europe/Stockholm")  # pelicanconf.py's TIMEZONE
    write_stars(root / "review", {STARRED: 5})
    return build_site(content, root / "output", DAILY_POST_MODEL=str(model_folder(root / "model")),
                      DAILY_POST_REVIEW_FOLDER=str(root / "review"))


@pytest.fixture(scope="module")
def server(another_site):
    with serve(another_site) as url:
        yield url


@pytest.fixture(scope="module")
def chromium():
    with browser("the \"show me another\" browser test") as launched:
        yield launched




def index_of(site: Path) -> list[dict]:
    return json.loads((site / "machine" / "posts.json").read_text(encoding="utf-8"))["posts"]


def open_page(chromium, server, path, random=None, scripts=True):
    """A new page at ``server + path`` (Math.random fixed to ``random``), watched
    (``chromium.watched_page``): ``(context, page, problems)``."""
    fixed = None if random is None else f"Math.random = function () {{ return {random!r}; }};"
    return watched_page(chromium, server, path, scripts, fixed)


def click_another(page):
    button = page.get_by_role("button", name="Show me another")
    button.wait_for(state="visible")
    with page.expect_navigation(wait_until="load"):
        button.click()


@pytest.mark.parametrize("random, expected", [
    (0.0, 0),  # the first post of the index that is not this one: the newest
    (0.1, 2),  # 0.1 * 29 = 2.9: past the two one-weight posts, inside the five-star post's 26
    (0.99, 3),  # the last: the oldest other post
])
def test_the_button_opens_another_post_by_weight(chromium, server, another_site, shots, random, expected):
    posts = index_of(another_site)
    assert [p["title"] for p in posts][:3] == [NEW_POSTS[dt.date(2025, 6, d)] for d in (5, 4, 3)]
    start = next(p for p in posts if p["day"] == "2025-06-02")
    others = [p for p in posts if p is not start]
    assert sum(p["weight"] for p in others) == 29
    context, page, problems = open_page(chromium, server, "/" + start["url"], random)
    try:
        page.screenshot(path=str(shots / "another-post.png"), full_page=True)
        click_another(page)
        assert page.url == f"{server}/{others[expected]['url']}"
        assert page.locator("h1").first.inner_text() == others[expected]["title"]
    finally:
        context.close()
    assert problems == []


def test_the_machine_page_offers_any_post(chromium, server, another_site, shots):
    posts = index_of(another_site)
    context, page, problems = open_page(chromium, server, "/pages/machine.html", 0.0)
    try:
        page.screenshot(path=str(shots / "another-machine-page.png"), full_page=True)
        click_another(page)
        assert page.url == f"{server}/{posts[0]['url']}"  # nothing excluded: the newest post
    finally:
        context.close()
    assert problems == []


def test_without_scripts_the_link_leads_to_the_best_posts(chromium, server, another_site, shots):
    start = next(p for p in index_of(another_site) if p["day"] == "2025-06-02")
    context, page, problems = open_page(chromium, server, "/" + start["url"], scripts=False)
    try:
        assert not page.get_by_role("button", name="Show me another").is_visible()
        link = page.locator("aside.tpdne-another a")
        assert link.inner_text() == "Best of the machine"
        with page.expect_navigation(wait_until="load"):
            link.click()
        assert page.url == f"{server}/machine/best.html"
        page.screenshot(path=str(shots / "best-of.png"), full_page=True)
        assert page.locator("ol.tpdne-best-top li a").all_inner_texts() == [NEW_POSTS[STARRED]]
    finally:
        context.close()
    assert problems == []
