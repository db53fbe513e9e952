"""Every post a blogger wrote is kept: titles from metadata, a leading heading or the file name."""
from __future__ import annotations

import os
import re

from corpus_helpers import NOW, md_post

from corpus_builder.build import BuildOptions, build_corpus

METADATA_LINE = re.compile(r"^(title|date|tags|category|summary|status|layout|categories)\s*:", re.I | re.M)
MARKUP = re.compile(r"^#|^=+$|\*\*|</?\w+|:\w+ ?:", re.M)


def sources(result) -> dict[str, tuple[str, str]]:
    return {os.path.basename(s["path"]): (s["title"], s["title_source"]) for s in result.manifest["sources"]}


def reasons(result) -> dict[str, str]:
    return {os.path.basename(e["path"]): e["reason"] for e in result.manifest["excluded"]}


# --------------------------------------------------------------------------- where a title comes from
def test_a_leading_atx_heading_is_the_title_and_leaves_the_body(site):
    site.post("a.md", "Date: 2021-01-01\nTags: rain\n\n# Rain Gauge\n\nIt rained.\n\n# Later\n\nMore.\n")
    site.post("b.md", "Date: 2021-01-02\n\n# Closed Heading #\n\nText b.\n")
    result = site.build()
    assert site.documents() == ["Rain Gauge\n\nIt rained.\n\nLater\n\nMore.", "Closed Heading\n\nText b."]
    assert sources(result) == {"a.md": ("Rain Gauge", "heading"), "b.md": ("Closed Heading", "heading")}


def test_a_leading_setext_heading_is_the_title(site):
    site.post("s.md", "Date: 2021-01-01\n\nRain Gauge Two\n==============\n\nIt rained twice.\n")
    result = site.build()
    assert site.documents() == ["Rain Gauge Two\n\nIt rained twice."]
    assert sources(result) == {"s.md": ("Rain Gauge Two", "heading")}


def test_yaml_front_matter_without_title_takes_the_heading(site):
    site.post("y.md", "---\ndate: 2021-01-01\ntags: [a, b]\nlayout: post\n---\n\n# From Jekyll\n\nBody y.\n")
    result = site.build()
    assert site.documents() == ["From Jekyll\n\nBody y."]
    assert sources(result) == {"y.md": ("From Jekyll", "heading")}


def test_without_title_or_heading_the_file_name_is_the_title(site):
    site.post("2021-03-04-rain-gauge_notes.md", "Just a body.\n\n## A Subheading Is No Title\n\nMore.\n")
    site.post("plain_name.md", "---\ndate: 2021-01-01\n---\n\nBody p.\n")
    result = site.build()
    assert site.documents() == ["Plain name\n\nBody p.",
                                "Rain gauge notes\n\nJust a body.\n\nA Subheading Is No Title\n\nMore."]
    assert sources(result) == {"2021-03-04-rain-gauge_notes.md": ("Rain gauge notes", "filename"),
                               "plain_name.md": ("Plain name", "filename")}
    assert result.manifest["sources"][1]["date"].startswith("2021-03-04")


def test_a_metadata_title_wins_and_the_heading_stays(site):
    site.post("t.md", md_post("From Metadata", "# A Heading\n\nText."))
    result = site.build()
    assert site.documents() == ["From Metadata\n\nA Heading\n\nText."]
    assert sources(result) == {"t.md": ("From Metadata", "metadata")}


def test_html_and_rst_posts_without_a_title(site):
    site.post("h.html", "<html><head><meta name=\"date\" content=\"2021-01-01\" /></head>\n"
                        "<body><h1>Year in <em>Numbers</em></h1><p>Six thousand.</p></body></html>\n")
    site.post("2021-01-02-winter-gloves.rst", ":date: 2021-01-02\n:tags: winter, kit\n\nLobster gloves.\n")
    result = site.build()
    assert site.documents() == ["Year in Numbers\n\nSix thousand.", "Winter gloves\n\nLobster gloves."]
    assert sources(result) == {"h.html": ("Year in Numbers", "heading"),
                               "2021-01-02-winter-gloves.rst": ("Winter gloves", "filename")}


def test_keep_markdown_takes_the_heading_out_of_the_markdown_body(site):
    site.post("a.md", "Date: 2021-01-01\n\n# Rain Gauge\n\nSome **rain**.\n")
    site.post("b.md", "Date: 2021-01-02\n\nSetext Title\n============\n\n## Kept\n\nText.\n")
    site.build(keep_markdown=True)
    assert site.documents() == ["Rain Gauge\n\nSome **rain**.", "Setext Title\n\n## Kept\n\nText."]


def test_untitled_drafts_stay_out(site):
    site.post("kept.md", "# Kept\n\nPublished.\n")
    site.post("d1.md", "Status: draft\n\n# Draft One\n\nNot yet.\n")
    site.post("d2.md", "Status : draft\nDate : 2021-01-01\n\n# Draft Two\n\nNot yet.\n")
    site.post("d3.md", "---\ndraft: true\n---\n\nNot yet either.\n")
    site.post("d4.md", "---\npublished: false\n---\n\n# Draft Four\n\nNot yet.\n")
    site.post("d5.rst", ":status: draft\n\nNot yet.\n")
    result = site.build()
    assert site.documents() == ["Kept\n\nPublished."]
    assert reasons(result) == {f"d{i}.{'rst' if i == 5 else 'md'}": "draft" for i in range(1, 6)}


# --------------------------------------------------------------------------- "key : value" metadata
def test_key_space_colon_header_lines_are_metadata(site):
    site.post("a.md", "Title : Spaced Keys\nDate : 2020-01-01 10:00\nTags : a, b\n"
                      "Summary : metadata, not text\n\nBody a.\n")
    site.post("b.md", "Title: Mixed\nDate: 2020-01-02\nTags : c, d\nCategory : Kit\n\nBody b.\n")
    result = site.build()
    assert site.documents() == ["Spaced Keys\n\nBody a.", "Mixed\n\nBody b."]
    assert result.manifest["sources"][0]["date"].startswith("2020-01-01T10:00")
    assert sources(result)["a.md"] == ("Spaced Keys", "metadata")


def test_a_first_line_with_a_spaced_colon_and_no_known_key_stays_text(site):
    site.post("2021-01-01-note.md", "Note : the first line is text.\n\nSecond paragraph.\n")
    site.build()
    assert site.documents() == ["Note\n\nNote : the first line is text.\n\nSecond paragraph."]


def test_rst_field_lists_never_reach_the_text(site):
    site.post("r.rst", "Gloves\n######\n\n:date: 2021-01-01\n:tags: winter, kit\n:category : Kit\n\n"
                       "Warm fingers.\n")
    site.post("2021-01-02-untitled.rst", ":date: 2021-01-02\n:tags : a, b\n\nNo title here.\n")
    result = site.build()
    assert site.documents() == ["Gloves\n\nWarm fingers.", "Untitled\n\nNo title here."]
    assert result.manifest["sources"][1]["date"].startswith("2021-01-02")


# --------------------------------------------------------------------------- the untitled test blog
def test_the_untitled_blog_keeps_its_posts_and_not_its_draft(untitled_blog, tmp_path):
    posts = sorted((untitled_blog / "posts").iterdir())
    assert len(posts) >= 20
    result = build_corpus(BuildOptions(settings_file=str(untitled_blog / "pelicanconf.py"),
                                       output=str(tmp_path / "c.txt"), now=NOW, workers=1))
    kept = sources(result)
    assert reasons(result) == {"2023-01-07-draft-bike-fit.md": "draft"}
    assert len(kept) >= 0.95 * (len(posts) - 1)
    assert len(kept) == len(posts) - 1  # in fact every one of them
    by_source = {}
    for title, source in kept.values():
        by_source[source] = by_source.get(source, 0) + 1
    assert by_source == {"heading": 14, "filename": 7}
    assert kept["2022-04-02-headwind.md"] == ("Headwind on the Dyke Road", "heading")
    assert kept["2022-08-20-cafe_stop_etiquette.md"] == ("Cafe stop etiquette", "filename")
    text = (tmp_path / "c.txt").read_text(encoding="utf-8")
    assert not METADATA_LINE.search(text), METADATA_LINE.search(text)
    assert not MARKUP.search(text), MARKUP.search(text)
    assert "bike fit" not in text.lower()
    for document in text.split("\n<|endoftext|>\n"):
        title, _, body = document.partition("\n\n")
        assert not body.startswith(title), title  # the heading is the title, not also the first line
