"""Whole-site builds with the project's theme: what a reader sees in the generated HTML."""
from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from site_scripts import foreign_scripts
from theme_build import GENERATED_TITLE, HUMAN_POSTS, REPO, build_site, model_folder
from theme_linkcheck import count_internal_links, find_broken_links

GENERATED_PAGE = "2025/06/barometer-dreams.html"
DEFAULT_DISCLOSURE = "This post does not exist: a machine wrote it on 1 June 2025."


def soup(output: Path, relpath: str) -> BeautifulSoup:
    return BeautifulSoup((output / relpath).read_text(encoding="utf-8"), "html.parser")


def human_pages(output: Path) -> list[str]:
    return sorted(p.relative_to(output).as_posix() for p in output.glob("2025/*/field-note-*.html"))


def text(node) -> str:
    return " ".join(node.get_text().split())


# ---------- generated posts: badge, disclosure, noindex ----------

def test_generated_post_carries_badge_disclosure_and_noindex(site):
    page = soup(site, GENERATED_PAGE)
    article = page.select_one("main article")
    assert text(article.select_one("h1")) == GENERATED_TITLE
    assert [text(b) for b in article.select(".badge")] == ["machine-written"]
    # the plugin's notice, once, first in the post's text: the theme adds none of its own
    notices = page.select(".tpdne-disclosure")
    assert [text(n) for n in notices] == [DEFAULT_DISCLOSURE]
    assert notices[0].parent == article.select_one(".post-body") and notices[0].find_previous_sibling() is None
    small_print = text(article.select_one(".post-footer .provenance .small-print"))
    assert "Model: demo (weights 0123456789ab)" in small_print and "seed 42" in small_print
    assert article.select_one('.provenance a[href="/pages/machine.html"]')
    assert article.select_one(".meta time a")["href"] == "/2025/06/"  # the month's archive
    robots = page.select('head meta[name="robots"]')
    assert [m["content"] for m in robots] == ["noindex"]  # the theme's; the plugin adds no second one
    assert page.select("head style#tpdne-style")  # the plugin's CSS, before main.css, which restyles it
    head = str(page.head)
    assert head.index('id="tpdne-style"') < head.index("/theme/css/main.css")


def test_human_posts_have_no_badge_disclosure_or_noindex(site):
    pages = human_pages(site)
    assert len(pages) == HUMAN_POSTS
    for relpath in pages:
        page = soup(site, relpath)
        assert page.select("main .badge") == [], relpath
        assert page.select(".tpdne-disclosure, .provenance") == [], relpath
        assert page.select('meta[name="robots"]') == [], relpath


def test_cards_show_the_notice_in_the_generated_posts_summary_only(site):
    marked = [card for card in soup(site, "index.html").select("main article.card") if card.select(".tpdne-disclosure")]
    assert len(marked) == 1 and GENERATED_TITLE in text(marked[0].select_one(".card-title"))
    assert [text(n) for n in marked[0].select(".summary .tpdne-disclosure")] == [DEFAULT_DISCLOSURE]


@pytest.mark.parametrize("listing", ["index.html", "archives.html", "category/sky.html",
                                     "tag/wind.html", "2025/index.html", "2025/06/index.html"])
def test_lists_mark_the_generated_post_and_only_it(site, listing):
    page = soup(site, listing)
    badges = page.select("main article .badge, main li .badge")
    assert len(badges) == 1, listing
    entry = badges[0].find_parent(["article", "li"])
    assert GENERATED_TITLE in text(entry)


def test_disclosure_text_and_noindex_follow_the_settings(demo_content, tmp_path):
    output = build_site(demo_content, tmp_path / "output",
                        DAILY_POST_DISCLOSURE="Written by the roof robot on {date}.",
                        DAILY_POST_ROBOTS_NOINDEX=False)
    page = soup(output, GENERATED_PAGE)
    assert [text(n) for n in page.select(".tpdne-disclosure")] == ["Written by the roof robot on 1 June 2025."]
    assert page.select('meta[name="robots"]') == []


# ---------- lists, pagination, page types ----------

def test_index_is_paginated_and_pages_link_each_other(site):
    first, second = soup(site, "index.html"), soup(site, "index2.html")
    assert len(first.select("main article.card")) == 8
    assert len(second.select("main article.card")) == HUMAN_POSTS + 1 - 8
    assert first.select_one('.pagination a[rel="next"]')["href"] == "/index2.html"
    assert second.select_one('.pagination a[rel="prev"]')["href"] == "/index.html"
    assert (site / "tag" / "wind2.html").is_file()  # tag pages are paginated too


@pytest.mark.parametrize("relpath", [
    "index.html", GENERATED_PAGE, "2025/01/field-note-1.html", "pages/machine.html",
    "archives.html", "categories.html", "category/station.html", "tags.html", "tag/note-3.html",
    "authors.html", "author/mara-lindqvist.html", "2025/index.html", "2025/01/index.html",
    "404.html",
])
def test_every_page_type_is_rendered_by_the_theme(site, relpath):
    page = soup(site, relpath)
    assert page.select_one('link[rel="stylesheet"][href="/theme/css/main.css"]'), relpath
    assert page.select_one("main h1"), relpath
    assert page.select_one('meta[name="viewport"]'), relpath


def test_home_page_intro_points_to_the_machine_page(site):
    intro = soup(site, "index.html").select_one("main .intro")
    assert "Notes from the test roof." in text(intro)
    assert intro.select_one('a[href="/pages/machine.html"]')
    assert soup(site, "index2.html").select(".intro") == []
    assert soup(site, "tag/wind.html").select(".intro") == []


def test_menu_links_go_to_their_pages(site):
    menu = {text(a): a["href"] for a in soup(site, "index.html").select("nav.site-nav a")}
    assert menu == {"Home": "/", "Archives": "/archives.html", "Categories": "/categories.html",
                    "Tags": "/tags.html", "About the machine": "/pages/machine.html",
                    "Feed": "/feeds/all.atom.xml"}
    for name, href in menu.items():
        if href.endswith(".html"):  # each page marks its own menu entry as the current one
            current = soup(site, href.lstrip("/")).select('nav.site-nav a[aria-current="page"]')
            assert [text(a) for a in current] == [name]


def test_archives_list_every_post(site):
    items = soup(site, "archives.html").select("main li")
    assert len(items) == HUMAN_POSTS + 1


def test_404_page_is_noindex_and_links_home(site):
    page = soup(site, "404.html")
    assert page.select_one('meta[name="robots"]')["content"] == "noindex"
    assert page.select_one('main a[href="/"]')


# ---------- feeds ----------

@pytest.mark.parametrize("relpath", ["index.html", GENERATED_PAGE, "category/sky.html", "tag/wind.html"])
def test_pages_announce_the_site_feed_and_link_it_visibly(site, relpath):
    page = soup(site, relpath)
    alternates = [link["href"] for link in page.select('head link[rel="alternate"][type="application/atom+xml"]')]
    assert "/feeds/all.atom.xml" in alternates
    assert page.select_one('body a[href="/feeds/all.atom.xml"]')
    for href in alternates:
        assert (site / href.lstrip("/")).is_file(), href


def test_category_and_tag_pages_offer_their_own_feeds(site):
    for relpath, feed in [("category/sky.html", "/feeds/sky.atom.xml"),
                          ("tag/wind.html", "/feeds/tag-wind.atom.xml")]:
        page = soup(site, relpath)
        assert page.select_one(f'head link[rel="alternate"][href="{feed}"]'), relpath
        assert page.select_one(f'main a[href="{feed}"]'), relpath
        assert (site / feed.lstrip("/")).is_file()


# ---------- About the machine ----------

def test_machine_page_shows_the_training_figures_and_plot(site):
    page = soup(site, "pages/machine.html")
    main = page.select_one("main")
    assert "A human-written introduction to the machine." in text(main)
    assert page.body["class"] == ["page-page", "page-machine"]  # the theme's machine.html, wrapping it
    [section] = main.select(".post-body section.tpdne-machine")  # the plugin's, once
    rows = {text(tr.th): text(tr.td) for tr in section.select("table.tpdne-machine-table tr")}
    assert rows["Model"] == "blog"
    assert rows["Fine-tuned from"] == "gpt2"
    assert rows["Training steps"] == "1,000"
    assert rows["Tokens seen"] == "4,096,000"
    assert rows["Posts in the corpus"] == "16"
    assert rows["Training loss"] == "2.718"
    assert rows["Validation loss"] == "3.142"
    assert rows["Validation perplexity"] == "23.1"
    assert rows["Trained on"] == "NVIDIA H100 80GB HBM3"
    assert rows["Training time"] == "12.6 min"
    assert rows["Trained at"] == "2026-11-20 21:04 UTC"
    img = section.select_one("figure.tpdne-loss-plot img")
    assert img["src"] == "../machine/loss.png" and img["alt"]
    assert (site / "machine" / "loss.png").is_file()
    assert "No model has been trained" not in text(main)


def test_machine_page_before_any_training_says_how_to_train(untrained_site):
    main = soup(untrained_site, "pages/machine.html").select_one("main")
    words = text(main)
    assert "No model has been trained for this site yet" in words
    assert "make corpus" in words and "make train" in words
    assert main.select("table") == [] and main.select("img") == []


def test_machine_page_with_an_empty_model_folder_says_not_trained(demo_content, tmp_path):
    (tmp_path / "models" / "blog").mkdir(parents=True)  # no config.json: no model in it yet
    output = build_site(demo_content, tmp_path / "output", DAILY_POST_MODEL=str(tmp_path / "models" / "blog"))
    assert "No model has been trained for this site yet" in text(soup(output, "pages/machine.html"))


def test_machine_page_tolerates_missing_figures(demo_content, tmp_path):
    model = model_folder(tmp_path / "models" / "blog", train=None, plot=False)
    output = build_site(demo_content, tmp_path / "output", DAILY_POST_MODEL=str(model))
    main = soup(output, "pages/machine.html").select_one("main")
    rows = {text(tr.th): text(tr.td) for tr in main.select("table.tpdne-machine-table tr")}
    assert rows["Model"] == "blog" and rows["Training steps"] == "—" and rows["Validation loss"] == "—"
    assert main.select("img") == []


# ---------- links and offline ----------

def test_no_broken_internal_links(site, untrained_site):
    for output in (site, untrained_site):
        assert count_internal_links(output) > 200  # the crawl really followed the site's links
        assert [str(b) for b in find_broken_links(output)] == []


def test_link_checker_reports_missing_targets(tmp_path):
    (tmp_path / "a.html").write_text(
        '<a href="b.html">ok</a><a href="/missing.html">x</a><a href="b.html#nope">y</a>'
        '<a href="{filename}/posts/x.md">z</a><img src="https://example.org/i.png">', encoding="utf-8")
    (tmp_path / "b.html").write_text('<p id="here">b</p>', encoding="utf-8")
    broken = {(b.target, b.reason.split(" ")[0]) for b in find_broken_links(tmp_path)}
    assert broken == {("/missing.html", "no"), ("b.html#nope", "no"), ("{filename}/posts/x.md", "unresolved")}


def test_site_needs_nothing_from_the_network(site):
    for path in site.rglob("*.html"):
        page = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        assert foreign_scripts(page, path, site) == [], path  # the plugin's own script only
        for tag in page.select("link[href], img[src]"):
            url = tag.get("href") or tag.get("src")
            if tag.name == "link" and tag.get("rel") == ["alternate"]:
                continue
            assert not url.startswith(("http:", "https:", "//")), (path, url)
    for css in (site / "theme" / "css").glob("*.css"):
        body = css.read_text(encoding="utf-8")
        assert "@import" not in body and "url(" not in body, css


def test_the_demo_blog_builds_with_the_theme(tmp_path):
    output = build_site(REPO / "content", tmp_path / "output")
    assert soup(output, "index.html").select("main article.card")
    assert (output / "pages" / "machine.html").is_file()
    assert [str(b) for b in find_broken_links(output)] == []


@pytest.mark.parametrize("value, expected", [
    ("true", True), ("True", True), (True, True), ("yes", True), ("1", True),
    ("false", False), (False, False), (None, False), ("", False),
])
def test_generated_flag_accepts_what_pelican_and_the_plugin_hand_over(value, expected):
    # Pelican hands Markdown metadata over as strings; a plugin may set a real bool.
    from types import SimpleNamespace

    from jinja2 import Environment, FileSystemLoader

    env = Environment(loader=FileSystemLoader(str(REPO / "theme" / "templates")))
    macros = env.get_template("macros.html").module
    assert (str(macros.generated(SimpleNamespace(generated=value))) == "yes") is expected
    assert str(macros.generated(SimpleNamespace())) == ""  # a human post has no such metadata
