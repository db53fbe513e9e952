"""Issue 15, item 4: "Best of the machine", the owner's top-starred machine posts, linked from
"About the machine", in the project's theme and in themes that know nothing of the plugin."""
from __future__ import annotations

import datetime as dt
import json
import logging
import posixpath

import pytest
from bs4 import BeautifulSoup
from demo_blog import demo_settings
from machine_posts import write_machine_posts, write_stars
from plugin_site import build

TODAY = dt.date(2026, 3, 14)  # plugin_site.fixed_day
ZONE = "Europe/Stockholm"  # the demo blog's TIMEZONE


def days_back(count: int) -> dict[dt.date, str]:
    return {TODAY - dt.timedelta(days=n): f"Notes from the gauge, day {n}" for n in range(1, count + 1)}


def page(path):
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def linked_titles(ol, page_path, output) -> list[str]:
    """The titles in a list of the page, each link checked to lead to a file of the output."""
    titles = []
    for a in ol.select("li a"):
        target = posixpath.normpath(posixpath.join(page_path.parent.relative_to(output).as_posix(), a["href"]))
        assert (output / target).is_file(), a["href"]
        titles.append(a.get_text())
    return titles


def test_best_of_lists_the_top_ten_then_the_rest_by_stars(demo_site, stub_sampler, fixed_day):
    posts = days_back(14)
    write_machine_posts(demo_site / "content", posts, ZONE)
    day = {n: TODAY - dt.timedelta(days=n) for n in range(1, 15)}
    stars = {day[1]: 2, day[2]: 5, day[3]: 1, day[4]: 5, day[5]: 3, day[6]: 4, day[7]: 1,
             day[8]: 2, day[9]: 3, day[10]: 4, day[11]: 1, day[12]: 5}
    write_stars(demo_site / "review", stars, rejected=(day[13],))  # a rejected day's stars count for nothing
    build(demo_settings(demo_site))
    out = demo_site / "output"
    best = out / "machine" / "best.html"
    shown = page(best)
    assert shown.find("h1").get_text(strip=True) == "Best of the machine"  # the theme's page.html
    top = linked_titles(shown.select_one("ol.tpdne-best-top"), best, out)
    rest_list = shown.select_one("ol.tpdne-best-rest")
    assert rest_list["start"] == "11"
    rest = linked_titles(rest_list, best, out)
    by_stars = sorted(stars, key=lambda d: (-stars[d], -d.toordinal()))  # most stars, then newest
    assert top + rest == [posts[d] for d in by_stars]
    assert len(top) == 10 and len(rest) == 2
    first = shown.select_one("ol.tpdne-best-top li .tpdne-stars")
    assert first.get_text() == "★★★★★" and first["aria-label"] == "5 of 5 stars"
    assert "12 of the 15 published have stars" in shown.get_text()
    # "About the machine" links to it; the page itself is not listed among the site's pages
    machine = page(out / "pages" / "machine.html")
    [link] = machine.select(".tpdne-best-of-link a")
    assert link["href"] == "../machine/best.html"
    assert "Best of the machine" not in page(out / "index.html").select_one("nav").get_text()


def test_without_stars_the_page_says_how_to_give_them(demo_site, stub_sampler, fixed_day):
    write_machine_posts(demo_site / "content", days_back(3), ZONE)
    build(demo_settings(demo_site))
    shown = page(demo_site / "output" / "machine" / "best.html")
    assert shown.select("ol") == []
    assert "No machine-written post has stars yet (4 published)" in shown.get_text()
    assert "make review" in shown.get_text()


def test_a_broken_decisions_file_is_one_warning_and_is_left_alone(demo_site, stub_sampler, fixed_day, caplog):
    write_machine_posts(demo_site / "content", days_back(2), ZONE)
    decisions = demo_site / "review" / "decisions.json"
    decisions.parent.mkdir()
    decisions.write_text('{"version": 1, "days": {"2026-03-13": {"state": "approved", "stars": 9, "seed": 1}}}')
    before = decisions.read_bytes()
    with caplog.at_level(logging.WARNING):
        build(demo_settings(demo_site))
    warnings = [r.getMessage() for r in caplog.records if "stars are left out" in r.getMessage()]
    assert len(warnings) == 1 and str(decisions) in warnings[0] and "stars must be null or 1 to 5" in warnings[0]
    assert decisions.read_bytes() == before
    out = demo_site / "output"
    assert "No machine-written post has stars yet" in page(out / "machine" / "best.html").get_text()
    index = json.loads((out / "machine" / "posts.json").read_text())
    assert {p["weight"] for p in index["posts"]} == {1}


def test_the_owners_own_page_at_that_path_wins(demo_site, stub_sampler, fixed_day, caplog):
    (demo_site / "content" / "pages" / "mine.md").write_text(
        "Title: My favourites\nSave_as: machine/best.html\nURL: machine/best.html\n\nHand-picked.\n")
    with caplog.at_level(logging.WARNING):
        build(demo_settings(demo_site))
    assert "My favourites" in (demo_site / "output" / "machine" / "best.html").read_text()
    [warning] = [r.getMessage() for r in caplog.records if "DAILY_POST_BEST_OF_URL" in r.getMessage()]
    assert "mine.md" in warning and "machine/best.html" in warning
    assert page(demo_site / "output" / "pages" / "machine.html").select(".tpdne-best-of-link") == []


def test_turned_off_there_is_no_page_and_no_link(demo_site, stub_sampler, fixed_day):
    write_machine_posts(demo_site / "content", days_back(2), ZONE)
    build(demo_settings(demo_site, DAILY_POST_BEST_OF_URL=""))
    out = demo_site / "output"
    assert not (out / "machine" / "best.html").exists()
    assert page(out / "pages" / "machine.html").select(".tpdne-best-of-link") == []
    # the button's link without scripts then leads to the machine's category
    post = next(out.rglob("notes-from-the-gauge-day-1.html"))
    [link] = page(post).select("aside.tpdne-another a")
    assert link.get_text() == "More posts by the machine" and "category/machine.html" in link["href"]


@pytest.mark.parametrize("theme", ["notmyidea", "simple"])
def test_any_theme_shows_the_page(demo_site, stub_sampler, fixed_day, theme):
    """Pelican's own themes know nothing of the plugin: the page is their page.html."""
    write_machine_posts(demo_site / "content", days_back(3), ZONE)
    write_stars(demo_site / "review", {TODAY - dt.timedelta(days=2): 4})
    # the demo blog's 404 page is its theme's: Pelican's themes have none
    build(demo_settings(demo_site, THEME=theme,
                        DIRECT_TEMPLATES=["index", "tags", "categories", "authors", "archives"]))
    out = demo_site / "output"
    shown = page(out / "machine" / "best.html")
    assert "Best of the machine" in shown.find("title").get_text()
    assert [a.get_text() for a in shown.select("ol.tpdne-best-top a")] == ["Notes from the gauge, day 2"]
    assert shown.find("style", id="tpdne-style") is not None  # the plugin's few lines of CSS come along
    assert page(out / "pages" / "machine.html").select(".tpdne-best-of-link a")


def test_a_generated_post_never_takes_the_pages_path(demo_site, stub_sampler, fixed_day, caplog):
    """With ARTICLE_SAVE_AS = "{category}/{slug}.html", a machine post titled "Best" would land on
    machine/best.html: it gets another slug (one warning) and the page keeps its path."""
    write_machine_posts(demo_site / "content", {TODAY - dt.timedelta(days=1): "Best"}, ZONE)
    scheme = {"ARTICLE_SAVE_AS": "{category}/{slug}.html", "ARTICLE_URL": "{category}/{slug}.html"}
    with caplog.at_level(logging.WARNING):
        build(demo_settings(demo_site, **scheme))
    out = demo_site / "output"
    assert page(out / "machine" / "best.html").find("h1").get_text(strip=True) == "Best of the machine"
    [moved] = [r.getMessage() for r in caplog.records if "published as" in r.getMessage()]
    assert "Best of the machine" in moved and "best-" in moved
    urls = [p["url"] for p in json.loads((out / "machine" / "posts.json").read_text())["posts"]]
    assert "machine/best.html" not in urls and all((out / u).is_file() for u in urls)


def test_a_human_post_at_the_path_wins_and_the_link_goes(demo_site, stub_sampler, fixed_day, caplog):
    (demo_site / "content" / "posts" / "best.md").write_text(
        "Title: My best gauge\nDate: 2025-01-01 10:00\nSave_as: machine/best.html\nURL: machine/best.html\n\n"
        "A post of mine.\n")
    with caplog.at_level(logging.WARNING):
        build(demo_settings(demo_site))
    out = demo_site / "output"
    assert "My best gauge" in (out / "machine" / "best.html").read_text()
    [warning] = [r.getMessage() for r in caplog.records if "DAILY_POST_BEST_OF_URL" in r.getMessage()]
    assert "best.md" in warning
    assert page(out / "pages" / "machine.html").select(".tpdne-best-of-link") == []


@pytest.mark.parametrize("value", ["../best.html", "machine/", "machine/../../x.html", "a//b.html", 3])
def test_a_path_outside_the_output_is_refused_naming_the_setting(value):
    from plugin.settings import DailyPostSettings, SettingsError

    with pytest.raises(SettingsError, match="DAILY_POST_BEST_OF_URL"):
        DailyPostSettings.from_pelican({"SITENAME": "t", "DAILY_POST_BEST_OF_URL": value})


def test_a_leading_slash_reads_as_the_sites_root():
    from plugin.settings import DailyPostSettings

    settings = DailyPostSettings.from_pelican({"SITENAME": "t", "DAILY_POST_POSTS_INDEX": "/posts.json"})
    assert settings.posts_index == "posts.json" and settings.posts_script == "another.js"
