"""DAILY_POST_INDEX: the home page lists all machine posts (default), only the newest, or none;
archives, categories and feeds keep every one of them."""
from __future__ import annotations

import pytest
from plugin_site import build
from test_disclosure import settings, write_generated

OLDER, NEWER = "Fog on the pier", "Wind over the harbour"


def _site(site, mode):
    write_generated(site / "content", name="2026-03-13-fog-on-the-pier.md", Title=OLDER,
                    Slug="fog-on-the-pier", Date="2026-03-13 06:00")
    write_generated(site / "content")  # NEWER, 2026-03-14
    build(settings(site, DAILY_POST_INDEX=mode, FEED_ALL_ATOM="feeds/all.atom.xml"))
    out = site / "output"
    read = lambda name: (out / name).read_text(encoding="utf-8")  # noqa: E731
    return read("index.html"), read("archives.html"), read("feeds/all.atom.xml"), read("category/machine.html")


@pytest.mark.parametrize("mode, on_home", [("all", {OLDER, NEWER}), ("newest", {NEWER}), ("none", set())])
def test_the_home_page_lists_the_machine_posts_the_setting_asks_for(site, mode, on_home):
    index, archives, feed, category = _site(site, mode)
    assert {t for t in (OLDER, NEWER) if t in index} == on_home
    assert "A wet morning" in index  # the blogger's own posts are always there
    for everywhere in (archives, feed, category):
        assert OLDER in everywhere and NEWER in everywhere


def test_a_bad_index_mode_is_one_warning_naming_the_setting(site, caplog):
    build(settings(site, DAILY_POST_INDEX="some"))
    assert any("DAILY_POST_INDEX must be one of 'all', 'newest', 'none', got 'some'" in r.getMessage()
               for r in caplog.records)
