"""The plugin discloses a machine-written post by itself, in any theme and every feed: the notice
first in its content and summary, noindex and the notice's CSS in its page's <head>, and the
"About the machine" page through the theme's own page.html. Pelican's built-in themes stand in
for a blogger's own; the posts are files like the plugin writes, so no model is needed."""
from __future__ import annotations

import json
import re
from xml.etree import ElementTree

import pytest
from bs4 import BeautifulSoup
from plugin_site import build, site_settings
from test_untrusted_run_folder import png

from common.post_file import render_post

NOTICE = "This post does not exist: a machine wrote it on 14 March 2026."
GENERATED = {"Title": "Wind over the harbour", "Date": "2026-03-14 06:00", "Slug": "wind-over-the-harbour",
             "Category": "Machine", "Tags": "generated", "Author": "The Machine", "Generated": "true",
             "Model": "stub", "Model_Sha256": "0" * 64, "Seed": 1234, "Sampling": "temperature=0.9",
             "Gate": "words=25", "Summary": "The wind turned at noon."}
BODY = "The wind turned at noon.\n\nBy evening the gauge read two millimetres."
HUMAN_PAGES = ("a-wet-morning.html", "the-new-mast.html", "machine-words.html")


def write_generated(content, name="2026-03-14-wind-over-the-harbour.md", **changes):
    folder = content / "generated"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(render_post({**GENERATED, **changes}, BODY), encoding="utf-8")


def settings(site, theme="notmyidea", **overrides):
    return site_settings(site, THEME=theme, DAILY_POST_ENABLED=False, DEFAULT_DATE_FORMAT="%-d %B %Y",
                         FEED_ALL_RSS="feeds/all.rss.xml", **overrides)


def page(site, name):
    return BeautifulSoup((site / "output" / name).read_text(encoding="utf-8"), "html.parser")


def text(node):
    return " ".join(node.get_text().split())


def notices(soup):
    return soup.select(".tpdne-disclosure")


@pytest.mark.parametrize("theme", ["notmyidea", "simple"])
def test_generated_post_opens_with_the_notice_and_is_noindex_in_any_theme(site, theme):
    write_generated(site / "content")
    build(settings(site, theme))
    post = page(site, "wind-over-the-harbour.html")
    [notice] = notices(post)
    assert text(notice) == NOTICE and notice.name == "p" and notice["role"] == "note"
    assert text(notice.find_next_sibling()) == "The wind turned at noon."  # right before the body
    assert [m["content"] for m in post.select('head meta[name="robots"]')] == ["noindex"]
    assert post.select("head style#tpdne-style")
    for name in HUMAN_PAGES:  # human posts: no notice, no noindex, no CSS of the plugin's
        human = page(site, name)
        assert notices(human) == [] and human.select('meta[name="robots"]') == [] and human.select("style") == []


def test_summary_carries_the_notice_on_index_pages(site):
    write_generated(site / "content")
    write_generated(site / "content", name="2026-03-10-an-older-one.md", Title="An older one", Slug="an-older-one",
                    Date="2026-03-10 06:00")
    build(settings(site))
    index = page(site, "index.html")
    # notmyidea shows the newest post whole and the others' summaries: both start with the notice
    assert [text(n) for n in notices(index)] == [NOTICE, NOTICE.replace("14 March", "10 March")]
    summary = notices(index)[1].parent  # the older post's summary: the notice, then its Summary line
    assert text(notices(index)[1].find_next_sibling()) == "The wind turned at noon."
    assert "By evening" not in text(summary)
    assert index.select("head style#tpdne-style") and index.select('meta[name="robots"]') == []
    category = page(site, "category/machine.html")
    assert len(notices(category)) == 2


def _entries(site, feed):
    """{title: what a feed reader shows of the entry (its content and summary, as text)}."""
    root = ElementTree.parse(site / "output" / "feeds" / feed).getroot()
    items = [el for el in root.iter() if el.tag.rsplit("}", 1)[-1] in ("entry", "item")]
    shown = {}
    for item in items:
        fields = {el.tag.rsplit("}", 1)[-1]: el.text or "" for el in item}
        bodies = [fields.get(key, "") for key in ("summary", "content", "description")]
        shown[fields["title"]] = [" ".join(BeautifulSoup(b, "html.parser").get_text().split()) for b in bodies if b]
    return shown


@pytest.mark.parametrize("feed", ["all.atom.xml", "all.rss.xml", "machine.atom.xml"])
def test_every_feed_entry_of_a_machine_written_post_says_so(site, feed):
    write_generated(site / "content")
    build(settings(site))
    entries = _entries(site, feed)
    assert entries["Wind over the harbour"] and all(b.startswith(NOTICE) for b in entries["Wind over the harbour"])
    for title, bodies in entries.items():
        if title != "Wind over the harbour":
            assert bodies and not any("does not exist" in b for b in bodies), title


def test_rss_summaries_only_still_disclose(site):
    write_generated(site / "content")
    build(settings(site, RSS_FEED_SUMMARY_ONLY=True))
    [shown] = _entries(site, "all.rss.xml")["Wind over the harbour"]
    assert shown == NOTICE + " The wind turned at noon."


def test_disclosure_text_is_escaped_and_noindex_follows_the_setting(site):
    write_generated(site / "content")
    build(settings(site, DAILY_POST_DISCLOSURE='<b onclick="x()">Bots</b> & co wrote this on {date}.',
                   DAILY_POST_ROBOTS_NOINDEX=False))
    post = page(site, "wind-over-the-harbour.html")
    [notice] = notices(post)
    assert text(notice) == '<b onclick="x()">Bots</b> & co wrote this on 14 March 2026.'
    assert notice.find(True) is None  # text, not markup
    assert post.select('meta[name="robots"]') == [] and post.select("head style#tpdne-style")


def test_a_translation_of_a_machine_written_post_discloses_too(site):
    write_generated(site / "content")
    write_generated(site / "content", name="2026-03-14-wind-over-the-harbour-fr.md", Title="Vent sur le port",
                    Lang="fr")
    build(settings(site))
    for name in ("wind-over-the-harbour.html", "wind-over-the-harbour-fr.html"):
        post = page(site, name)
        assert [text(n) for n in notices(post)] == [NOTICE], name
        assert len(post.select('head meta[name="robots"][content="noindex"]')) == 1, name


def test_a_second_build_writes_the_same_bytes(site):
    write_generated(site / "content")
    build(settings(site))
    first = {p: p.read_bytes() for p in (site / "output").rglob("*.html")}
    build(settings(site))
    assert {p: p.read_bytes() for p in (site / "output").rglob("*.html")} == first


def test_bad_settings_still_disclose_with_the_defaults(site):
    write_generated(site / "content")
    # a setting no other test breaks: Pelican logs each warning once per process
    build(settings(site, DAILY_POST_ROUNDS="three"))
    post = page(site, "wind-over-the-harbour.html")
    assert [text(n) for n in notices(post)] == [NOTICE]
    assert post.select('head meta[name="robots"][content="noindex"]')


# ---------- About the machine ----------

MACHINE_PAGE = "Title: About the machine\nTemplate: machine\nSlug: machine\n\nA human-written introduction.\n"


def test_machine_page_renders_with_the_themes_page_template(site):
    (site / "content" / "pages" / "machine.md").write_text(MACHINE_PAGE, encoding="utf-8")
    model = site / "models" / "blog"
    model.mkdir(parents=True)
    (model / "config.json").write_text("{}")
    (model / "train.json").write_text(json.dumps({
        "base_model": "gpt2 <b>", "steps": 1000, "tokens_seen": 4096000, "documents": 16, "train_loss": 2.71828,
        "val_loss": 3.14159, "val_perplexity": 23.1407, "device": "cpu", "time_s": 754.2,
        "trained_at": "2026-11-20T21:04:00+00:00"}))
    (model / "loss.png").write_bytes(png())
    build(settings(site, DAILY_POST_MODEL=str(model)))
    machine = page(site, "pages/machine.html")
    assert machine.select_one("#content") and "A human-written introduction." in text(machine)  # notmyidea's page
    rows = {text(tr.th): text(tr.td) for tr in machine.select("table.tpdne-machine-table tr")}
    assert rows == {"Model": "blog", "Fine-tuned from": "gpt2 <b>", "Training steps": "1,000",
                    "Tokens seen": "4,096,000", "Posts in the corpus": "16", "Training loss": "2.718",
                    "Validation loss": "3.142", "Validation perplexity": "23.1", "Trained on": "cpu",
                    "Training time": "12.6 min", "Trained at": "2026-11-20 21:04 UTC"}
    assert machine.select("table b") == []
    img = machine.select_one(".tpdne-machine img")
    assert img["src"] == "../machine/loss.png"  # relative to pages/: any SITEURL, and file://
    assert (site / "output" / "pages" / img["src"]).resolve().read_bytes().startswith(b"\x89PNG")
    assert machine.select("head style#tpdne-style") and machine.select('meta[name="robots"]') == []


def test_machine_page_without_a_model_says_how_to_train_one(site):
    (site / "content" / "pages" / "machine.md").write_text(MACHINE_PAGE, encoding="utf-8")
    build(settings(site))
    words = text(page(site, "pages/machine.html").select_one(".tpdne-machine"))
    assert "No model has been trained for this site yet" in words and "trainer fit" in words


def test_noindex_and_css_are_added_once_and_only_into_a_head():
    from plugin.disclosure import NOINDEX, STYLE, finish_page

    shown = '<p class="tpdne-disclosure" role="note">x</p>'
    page_ = f'<!doctype html><html><head>\n  <meta charset="utf-8">\n<title>t</title></head><body>{shown}</body></html>'
    done = finish_page(page_, noindex=True)
    assert done.count(NOINDEX) == 1 and done.count(STYLE) == 1
    assert re.search(r'<meta charset="utf-8">' + re.escape(NOINDEX + STYLE), done)  # charset stays first
    assert finish_page(done, noindex=True) == done
    themed = page_.replace("<title>", '<meta name="robots" content="noindex,follow"><title>')
    assert NOINDEX not in finish_page(themed, noindex=True)
    for headless in (f"<rss><item>{shown}</item></rss>", f"<html><body><header>h</header>{shown}</body></html>"):
        assert finish_page(headless, noindex=True) == headless  # no <head> (<header> is none): left alone


def test_the_disclosure_follows_a_custom_article_url_and_save_as(site):
    """A blog with its own URL scheme: the machine post's page is found by the article being
    written, not by its file name, so it still gets the notice and noindex."""
    write_generated(site / "content")
    build(settings(site, ARTICLE_URL="{date:%Y}/{slug}/", ARTICLE_SAVE_AS="{date:%Y}/{slug}/index.html"))
    post = page(site, "2026/wind-over-the-harbour/index.html")
    assert [text(n) for n in notices(post)] == [NOTICE]
    assert [m["content"] for m in post.select('head meta[name="robots"]')] == ["noindex"]
    index = page(site, "index.html")
    assert index.select('a[href$="2026/wind-over-the-harbour/"]') and NOTICE in text(index)
    human = page(site, "2024/a-wet-morning/index.html")
    assert not notices(human) and not human.select('meta[name="robots"]')
