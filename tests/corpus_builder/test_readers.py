"""Reading posts: Pelican's readers for each format, YAML front matter, no metadata in the text."""
from __future__ import annotations

import re

from corpus_helpers import md_post

METADATA_LINE = re.compile(r"^(title|date|tags|category|slug|author|summary|status|layout|generated)\s*:", re.I | re.M)


def test_markdown_header_metadata_never_reaches_the_text(site):
    site.post("a.md", md_post("Leeks", "The leeks are fine.", Tags="leeks", Category="Garden",
                              Summary="A summary that is metadata, not text.", Slug="leeks"))
    site.build()
    [doc] = site.documents()
    assert doc == "Leeks\n\nThe leeks are fine."


def test_markdown_header_fenced_with_dashes_is_metadata(site):
    site.post("a.md", """
        ---
        Title: Fenced Header
        Date: 2021-02-02
        ---

        Body text only.
    """)
    site.build()
    assert site.documents() == ["Fenced Header\n\nBody text only."]


def test_rst_docinfo_is_metadata_and_the_title_comes_from_the_document(site):
    site.post("beans.rst", """
        Beans in the Rain
        #################

        :date: 2021-04-11 10:00
        :tags: beans
        :category: Garden

        The beans went in anyway.
    """)
    result = site.build()
    assert site.documents() == ["Beans in the Rain\n\nThe beans went in anyway."]
    assert result.manifest["sources"][0]["date"].startswith("2021-04-11T10:00")


def test_rst_unknown_directive_keeps_the_rest_of_the_post(site):
    site.post("video.rst", """
        A Video Post
        ############

        :date: 2021-04-11

        Watch this.

        .. youtube:: abc123

        Then read this.
    """)
    site.build()
    assert site.documents() == ["A Video Post\n\nWatch this.\n\nThen read this."]


def test_html_post_title_and_meta_tags_are_metadata(site):
    site.post("c.html", """
        <html><head><title>Compost &amp; Patience</title>
        <meta name="date" content="2021-05-20 18:00" /><meta name="tags" content="compost" /></head>
        <body><p>Turn it once a week.</p></body></html>
    """)
    site.build()
    assert site.documents() == ["Compost & Patience\n\nTurn it once a week."]


def test_yaml_front_matter_with_lower_case_keys(site):
    site.post("y.md", """
        ---
        title: "Migrated: From the Old Blog"
        date: 2021-06-02 09:15:00
        tags: [archive, jekyll]
        layout: post
        ---

        Note: this first line is text, not metadata.

        The tomatoes were a disaster.
    """)
    result = site.build()
    [doc] = site.documents()
    assert doc == "Migrated: From the Old Blog\n\nNote: this first line is text, not metadata.\n\nThe tomatoes were a disaster."
    assert result.manifest["sources"][0]["date"] == "2021-06-02T09:15:00+00:00"


def test_yaml_front_matter_title_key_capitalised_and_date_as_a_string(site):
    site.post("y.md", """
        ---
        Title: Capital Keys
        Date: "2021-06-03 08:00 +0200"
        ---
        Body.
    """)
    result = site.build()
    assert site.documents() == ["Capital Keys\n\nBody."]
    assert result.manifest["sources"][0]["date"] == "2021-06-03T08:00:00+02:00"


def test_yaml_front_matter_that_is_not_valid_yaml_is_read_as_key_value_lines(site):
    # "a: b: c" is not valid YAML, but it is a valid Pelican header line.
    site.post("y.md", "---\ntitle: Scraping the Web: an Introduction\ndate: 2015-07-08 12:40 -0300\n"
                      "tags: python,scraping\n---\n\nAll the posts begin with a loop.\n")
    site.build()
    assert site.documents() == ["Scraping the Web: an Introduction\n\nAll the posts begin with a loop."]


def test_yaml_front_matter_multiline_lists_do_not_leak(site):
    site.post("y.md", "---\ntitle: Lists\ndate: 2021-01-01\ntags:\n  - one\n  - two\n---\nBody.\n")
    site.build()
    assert site.documents() == ["Lists\n\nBody."]


def test_rst_with_yaml_front_matter(site):
    site.post("y.rst", "---\ntitle: RST Front Matter\ndate: 2021-01-01\n---\n\nSome *text* here.\n")
    site.build()
    assert site.documents() == ["RST Front Matter\n\nSome text here."]


def test_hugo_draft_and_jekyll_published_false_are_drafts(site):
    site.post("h.md", "---\ntitle: Hugo Draft\ndraft: true\ndate: 2021-01-01\n---\nNot yet.\n")
    site.post("j.md", "---\ntitle: Jekyll Unpublished\npublished: false\ndate: 2021-01-01\n---\nNot yet.\n")
    site.post("k.md", md_post("Kept", "Yes."))
    result = site.build()
    assert site.documents() == ["Kept\n\nYes."]
    assert sorted(e["reason"] for e in result.manifest["excluded"]) == ["draft", "draft"]


def test_date_from_the_file_name_when_the_header_has_none(site):
    site.post("2020-05-06-undated.md", "Title: Undated\n\nBody.\n")
    result = site.build()
    assert result.manifest["sources"][0]["date"].startswith("2020-05-06")


def test_keep_markdown_writes_markdown_bodies_without_the_header(site):
    site.post("a.md", md_post("Kept As Markdown", "Some **bold** and a [link](https://x.org).", Tags="x"))
    site.post("b.md", "---\ntitle: Yaml\ndate: 2021-01-02\n---\n\n## A heading\n\nText.\n")
    site.build(keep_markdown=True)
    assert site.documents() == [
        "Kept As Markdown\n\nSome **bold** and a [link](https://x.org).",
        "Yaml\n\n## A heading\n\nText.",
    ]


def test_keep_markdown_still_drops_code_template_tags_and_comments(site):
    body = ("Intro {% include 'x.html' %} and {{ site.name }}. <!-- note -->\n\n"
            "```python\nprint('{{ kept }}')\n```\n\nThen:\n\n    indented = 1\n\nEnd **here**.")
    site.post("a.md", md_post("Kept", body))
    site.build(keep_markdown=True)
    assert site.documents() == ["Kept\n\nIntro and.\n\nThen:\n\nEnd **here**."]
    site.build(keep_markdown=True, keep_code=True)
    assert site.documents() == ["Kept\n\nIntro and.\n\n```python\nprint('{{ kept }}')\n```\n\nThen:\n\n"
                                "    indented = 1\n\nEnd **here**."]


def test_the_test_blog_has_no_metadata_lines_in_its_corpus(blog, tmp_path):
    from corpus_helpers import NOW

    from corpus_builder.build import BuildOptions, build_corpus

    build_corpus(BuildOptions(settings_file=str(blog / "pelicanconf.py"), output=str(tmp_path / "c.txt"),
                              now=NOW, workers=1))
    text = (tmp_path / "c.txt").read_text(encoding="utf-8")
    assert not METADATA_LINE.search(text)
    assert "Migrated: Notes From the Old Blog" in text  # a title line is fine; "Title:" is not
