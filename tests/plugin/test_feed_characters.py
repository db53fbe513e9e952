"""Text that breaks feeds never reaches them (issue 14 item 3): one U+FFFE in a sample made every Atom
feed invalid XML. Generated titles and bodies lose every character XML 1.0 forbids (C0 controls but
tab, newline and carriage return; U+FFFE, U+FFFF; lone surrogates) and the bidirectional override
and isolate controls that make a title seem to say something else, on every path a post takes: the
plugin writing today's post, ``render_post`` (``trainer sample --out``), and a post file already on
disk. Each test builds the site with Atom and RSS feeds of every kind and parses every feed with
two strict XML parsers."""
from __future__ import annotations

import re
from xml.dom import minidom
from xml.etree import ElementTree

import pytest
from bs4 import BeautifulSoup
from plugin_site import build, site_settings

from common.post_file import render_post

XML_FORBIDDEN = "\x00\x01\x08\x0b\x0c\x0e\x1b\x1f\ufffe\uffff"
SURROGATES = "\ud800\udbff\udc00\udfff"  # lone: no file can hold them as UTF-8
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
HOSTILE_TITLE = f"Invoice\u202e{XML_FORBIDDEN}{SURROGATES}fdp.exe\u2066 for\u2069 you{BIDI}"
HOSTILE_BODY = (f"The gauge\ufffe read four\uffff millimetres{SURROGATES}.\u202e Then the wind\u2067 turned."
                f"\n\nSecond{XML_FORBIDDEN} paragraph{BIDI} ends here.")
# Nothing of these may reach a post file, a page or a feed.
BANNED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
FEEDS = {"FEED_ALL_ATOM": "feeds/all.atom.xml", "FEED_ALL_RSS": "feeds/all.rss.xml",
         "FEED_ATOM": "feeds/atom.xml", "FEED_RSS": "feeds/rss.xml",
         "CATEGORY_FEED_ATOM": "feeds/{slug}.atom.xml", "CATEGORY_FEED_RSS": "feeds/{slug}.rss.xml",
         "TAG_FEED_ATOM": "feeds/tag-{slug}.atom.xml", "TAG_FEED_RSS": "feeds/tag-{slug}.rss.xml"}
GENERATED = {"Date": "2026-03-14 06:00", "Slug": "invoice", "Category": "Machine", "Tags": "generated",
             "Author": "The Machine", "Generated": "true", "Model": "stub", "Model_Sha256": "0" * 64}


def settings(site, **overrides):
    return site_settings(site, **FEEDS, **overrides)


def strict_feeds(site) -> list[str]:
    """Every feed of the build, parsed by ElementTree and minidom (both refuse any character XML
    1.0 forbids); returns their texts."""
    feeds = sorted((site / "output" / "feeds").glob("*.xml"))
    assert len(feeds) >= 8, feeds
    texts = []
    for feed in feeds:
        ElementTree.parse(feed)
        minidom.parse(str(feed))
        texts.append(feed.read_text(encoding="utf-8"))
    return texts


def entry_titles(site, feed="feeds/all.atom.xml") -> list[str]:
    root = ElementTree.parse(site / "output" / feed).getroot()
    return [e.text for e in root.iter("{http://www.w3.org/2005/Atom}title")]


def assert_clean_everywhere(site, title: str) -> None:
    feeds = strict_feeds(site)
    assert title in entry_titles(site)
    for text in feeds:
        assert not BANNED.search(text)
    for page in (site / "output").rglob("*.html"):
        assert not BANNED.search(page.read_text(encoding="utf-8")), page


def test_the_plugins_post_from_a_hostile_sample_keeps_every_feed_valid(site, stub_sampler, fixed_day):
    stub_sampler.title, stub_sampler.body = HOSTILE_TITLE, HOSTILE_BODY
    build(settings(site))
    [post] = (site / "content" / "generated").glob("*.md")
    assert not BANNED.search(post.read_text(encoding="utf-8"))
    assert_clean_everywhere(site, "Invoice fdp.exe for you")
    pages = [" ".join(BeautifulSoup(p.read_text(encoding="utf-8"), "html.parser").get_text().split())
             for p in (site / "output").glob("*.html")]
    assert any("The gauge read four millimetres. Then the wind turned." in words for words in pages)


def test_render_post_leaves_out_what_xml_forbids_and_bidi_controls():
    """The one writer of post files (the plugin and `trainer sample --out` both use it)."""
    written = render_post({"Title": HOSTILE_TITLE, "Summary": HOSTILE_BODY, **GENERATED}, HOSTILE_BODY)
    written.encode("utf-8")  # no lone surrogate left: a file can hold it
    assert not BANNED.search(written)
    assert "Title: Invoice fdp.exe for you\n" in written
    assert "The gauge read four millimetres. Then the wind turned." in written
    assert "Second paragraph ends here." in " ".join(written.split())


def test_a_post_written_by_render_post_keeps_every_feed_valid(site):
    folder = site / "content" / "generated"
    folder.mkdir()
    (folder / "2026-03-14-invoice.md").write_text(
        render_post({"Title": HOSTILE_TITLE, "Summary": HOSTILE_BODY, **GENERATED}, HOSTILE_BODY), encoding="utf-8")
    build(settings(site, DAILY_POST_ENABLED=False))
    assert_clean_everywhere(site, "Invoice fdp.exe for you")


@pytest.mark.parametrize("with_summary", [True, False])
def test_a_generated_post_file_already_on_disk_keeps_every_feed_valid(site, with_summary):
    """A post file written before this rule (or by hand) still holds such characters: the plugin
    cleans a machine-written post when Pelican reads it."""
    on_disk = "Invoice \u202e\ufffefdp.exe\uffff\x01\u2066 for\u2069 you\x1b"
    header = {"Title": on_disk, **GENERATED}
    if with_summary:
        header["Summary"] = "Summary\ufffe with\u202e marks."
    body = "The gauge\ufffe read four\uffff milli\x01metres.\u202e Then the wind\u2067 turned.\x1f\n\nBye\u2069."
    folder = site / "content" / "generated"
    folder.mkdir()
    text = "".join(f"{key}: {value}\n" for key, value in header.items()) + "\n" + body + "\n"
    (folder / "2026-03-14-invoice.md").write_text(text, encoding="utf-8")
    build(settings(site, DAILY_POST_ENABLED=False))
    assert_clean_everywhere(site, "Invoice fdp.exe for you")
    page = BeautifulSoup((site / "output" / "invoice.html").read_text(encoding="utf-8"), "html.parser")
    words = " ".join(page.get_text().split())
    assert "The gauge read four millimetres. Then the wind turned." in words
    if with_summary:
        assert "Summary with marks." in " ".join(strict_feeds(site))
