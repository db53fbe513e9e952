"""Issue 15, item 5: "show me another". The build writes an index of the published machine posts
(weighted toward the owner's starred ones) and the script beside it, and puts the box on every
machine post's page and on "About the machine"; nothing else of the site changes."""
from __future__ import annotations

import datetime as dt
import json
import posixpath
from importlib import resources

from bs4 import BeautifulSoup
from demo_blog import demo_settings
from machine_posts import write_machine_posts, write_stars
from plugin_site import build
from test_best_of import TODAY, ZONE, days_back

SCRIPT = resources.files("pelican.plugins.this_post_does_not_exist").joinpath("static", "another.js").read_bytes()


def soup(path):
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def resolve(page, output, href) -> str:
    return posixpath.normpath(posixpath.join(page.parent.relative_to(output).as_posix(), href))


def test_the_index_lists_every_machine_post_weighted_by_stars(demo_site, stub_sampler, fixed_day):
    posts = days_back(4)
    write_machine_posts(demo_site / "content", posts, ZONE)
    write_stars(demo_site / "review", {TODAY - dt.timedelta(days=1): 5, TODAY - dt.timedelta(days=3): 2})
    build(demo_settings(demo_site))
    out = demo_site / "output"
    index = json.loads((out / "machine" / "posts.json").read_text(encoding="utf-8"))
    assert index["version"] == 1
    listed = index["posts"]
    assert [p["day"] for p in listed] == [(TODAY - dt.timedelta(days=n)).isoformat() for n in range(0, 5)]
    assert [p["title"] for p in listed] == ["Wind over the harbour"] + [posts[TODAY - dt.timedelta(days=n)]
                                                                       for n in range(1, 5)]
    assert [(p["stars"], p["weight"]) for p in listed] == [(0, 1), (5, 26), (0, 1), (2, 5), (0, 1)]
    for post in listed:  # every URL is a page of the site, relative to its root
        assert not post["url"].startswith(("/", "http")) and (out / post["url"]).is_file(), post["url"]
    assert (out / "machine" / "another.js").read_bytes() == SCRIPT


def test_every_machine_post_and_the_machine_page_get_the_box(demo_site, stub_sampler, fixed_day):
    write_machine_posts(demo_site / "content", days_back(2), ZONE)
    build(demo_settings(demo_site))
    out = demo_site / "output"
    index = json.loads((out / "machine" / "posts.json").read_text(encoding="utf-8"))
    boxed = {p.relative_to(out).as_posix() for p in out.rglob("*.html") if 'class="tpdne-another"' in p.read_text()}
    assert boxed == {p["url"] for p in index["posts"]} | {"pages/machine.html"}
    for name in boxed:
        page = out / name
        shown = soup(page)
        [box] = shown.select("aside.tpdne-another")
        assert box.find("button").has_attr("hidden")  # shown by the script only
        assert resolve(page, out, box["data-index"]) == "machine/posts.json"
        assert resolve(page, out, box["data-root"] or ".") == "."
        [script] = [s for s in shown.find_all("script") if s.get("src")]
        assert resolve(page, out, script["src"]) == "machine/another.js" and script.has_attr("defer")
        [link] = box.select("a")  # without scripts: the best-of page ("About the machine" links
        # to it already, so there: the machine's category)
        is_post = name != "pages/machine.html"
        assert resolve(page, out, link["href"]) == ("machine/best.html" if is_post else "category/machine.html")
        expected = name if is_post else ""
        assert box["data-current"] == expected  # a post never offers itself
    post = out / next(p["url"] for p in index["posts"])
    shown = soup(post)
    # right after the post's text, inside the theme's article
    assert shown.select_one("aside.tpdne-another").find_previous("p").get_text() == \
        "By evening the gauge read two millimetres."  # plugin_site.STUB_BODY's last paragraph


def test_two_builds_give_the_same_index(demo_site, stub_sampler, fixed_day):
    """The same day is always the same post, at the same URL."""
    write_machine_posts(demo_site / "content", days_back(3), ZONE)
    build(demo_settings(demo_site))
    first = (demo_site / "output" / "machine" / "posts.json").read_bytes()
    build(demo_settings(demo_site))
    assert (demo_site / "output" / "machine" / "posts.json").read_bytes() == first
    assert stub_sampler.calls and len(stub_sampler.calls) == 1  # today's post was drawn once


def test_turned_off_no_box_no_index_no_script(demo_site, stub_sampler, fixed_day):
    write_machine_posts(demo_site / "content", days_back(2), ZONE)
    build(demo_settings(demo_site, DAILY_POST_POSTS_INDEX=""))
    out = demo_site / "output"
    assert not (out / "machine" / "posts.json").exists() and not (out / "machine" / "another.js").exists()
    assert not [p for p in out.rglob("*.html") if 'class="tpdne-another"' in p.read_text() or "<script" in p.read_text()]


def test_a_lone_machine_post_offers_nothing_else(demo_site, stub_sampler, fixed_day):
    build(demo_settings(demo_site))  # today's post only
    out = demo_site / "output"
    post = next(out.rglob("wind-over-the-harbour.html"))
    assert soup(post).select("aside.tpdne-another") == []
    # "About the machine" offers the one post there is
    assert soup(out / "pages" / "machine.html").select("aside.tpdne-another")
    assert [p["title"] for p in json.loads((out / "machine" / "posts.json").read_text())["posts"]] == [
        "Wind over the harbour"]


def test_folder_style_urls_keep_their_slash(demo_site, stub_sampler, fixed_day):
    """ARTICLE_URL = "{slug}/" (pages saved as .../index.html): links and the index keep the "/"."""
    write_machine_posts(demo_site / "content", days_back(2), ZONE)
    write_stars(demo_site / "review", {TODAY - dt.timedelta(days=1): 3})
    build(demo_settings(demo_site, ARTICLE_URL="{date:%Y}/{slug}/", ARTICLE_SAVE_AS="{date:%Y}/{slug}/index.html"))
    out = demo_site / "output"
    urls = [p["url"] for p in json.loads((out / "machine" / "posts.json").read_text())["posts"]]
    assert urls and all(u.endswith("/") and (out / u / "index.html").is_file() for u in urls)
    page = out / urls[1] / "index.html"
    box = soup(page).select_one("aside.tpdne-another")
    assert box["data-current"] == urls[1] and resolve(page, out, box["data-index"]) == "machine/posts.json"
    [link] = soup(out / "machine" / "best.html").select("ol.tpdne-best-top a")
    assert link["href"] == f"../{urls[1]}"
