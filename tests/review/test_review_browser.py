"""The review screen used as a person uses it: headless Chromium reads a queue of three posts, moves
with j/k, approves, rejects, stars and retitles with the keys shown on the page, clicks a button, and
presses Done; then the files say what the person decided.

Needs /usr/bin/chromium and the playwright package (never downloads a browser): without them it
skips, or fails under CI (CI=true), where it must run (as tests/theme/test_theme_browser.py)."""
from __future__ import annotations

import datetime as dt

import pytest
from chromium import browser
from review_site import decisions, queue_files, review_settings

from plugin import review_queue, review_server


@pytest.fixture
def page():
    with browser("the review browser test") as launched:
        yield launched.new_page()


def test_a_person_reviews_a_queue_of_three_posts(site, seeded_sampler, page):
    settings = review_settings(site)
    review_queue.fill_queue(settings, ahead=2, today=dt.date(2026, 3, 14))
    rejected_file = queue_files(site)[1]
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda err: errors.append(str(err)))

    with review_server.open_session(settings) as session:
        page.goto(session.url)
        keys = page.locator(".keys").inner_text()
        for shown in ("approve", "reject", "stars", "edit the title", "next post", "previous post"):
            assert shown in keys
        post = {day: page.locator(f'article[data-day="2026-03-{day}"]') for day in (14, 15, 16)}
        assert page.locator("article.current").get_attribute("data-day") == "2026-03-14"

        page.keyboard.press("4")  # four stars for the 14th
        page.wait_for_selector('article[data-day="2026-03-14"] .stars:text("★★★★☆")')
        page.keyboard.press("a")  # approve it; the page moves on to the 15th
        page.wait_for_selector('article[data-day="2026-03-14"][data-state="approved"]')
        assert page.locator("article.current").get_attribute("data-day") == "2026-03-15"
        page.keyboard.press("r")  # reject the 15th
        page.wait_for_selector('article[data-day="2026-03-15"][data-state="rejected"]')
        assert "make queue" in post[15].locator(".problem").inner_text()
        page.keyboard.press("t")  # the 16th: a new title, typed
        page.locator('article[data-day="2026-03-16"] input.title').fill("Gulls at dusk")
        page.keyboard.press("Enter")
        page.wait_for_selector('article[data-day="2026-03-16"] h2:text("Gulls at dusk")')
        page.keyboard.press("k")
        page.keyboard.press("k")  # back to the 14th: two stars after all
        assert page.locator("article.current").get_attribute("data-day") == "2026-03-14"
        page.keyboard.press("2")
        page.wait_for_selector('article[data-day="2026-03-14"] .stars:text("★★☆☆☆")')
        post[16].get_by_role("button", name="Approve (a)").click()  # a button does what the key does
        page.wait_for_selector('article[data-day="2026-03-16"][data-state="approved"]')
        page.get_by_role("button", name="Done").click()
        assert session.wait(10), "Done did not end the session"
        page.wait_for_selector("text=Review finished")

    assert errors == []  # no script error, nothing the page's CSP had to block
    days = decisions(site)["days"]
    assert {d: (e["state"], e["stars"], e["title"]) for d, e in days.items()} == {
        "2026-03-14": ("approved", 2, None), "2026-03-15": ("rejected", None, None),
        "2026-03-16": ("approved", None, "Gulls at dusk")}
    assert days["2026-03-15"]["rejected"] == [{"seed": days["2026-03-15"]["seed"], "sha256": days["2026-03-15"]
                                               ["rejected"][0]["sha256"]}]
    assert not rejected_file.exists() and len(queue_files(site)) == 2
    assert not (site / "review" / ".review-session").exists()
