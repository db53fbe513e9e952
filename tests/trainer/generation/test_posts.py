"""Parsing sampled text into a post (title + body), and the Markdown/HTML escaping helper."""
from __future__ import annotations

import markdown
import pytest

from common.post_file import escape_body
from trainer.generation.post import parse_post


def test_first_line_is_the_title_and_paragraphs_are_kept():
    post = parse_post("Fog on the Harbour\n\nThe first paragraph.\n\n\n\nThe second one.  \n")
    assert post.title == "Fog on the Harbour"
    assert post.body == "The first paragraph.\n\nThe second one."
    assert post.title_from == "first line"


@pytest.mark.parametrize("first_line", ["## Fog on the Harbour", '"Fog on the Harbour"',
                                        "  Fog   on the Harbour  ", "# Fog on the Harbour #"])
def test_title_loses_heading_marks_quotes_and_extra_spaces(first_line):
    assert parse_post(first_line + "\n\nBody text here.").title == "Fog on the Harbour"


def test_setext_underline_is_not_part_of_the_body():
    post = parse_post("Fog on the Harbour\n==================\n\nBody text here.")
    assert post.title == "Fog on the Harbour"
    assert post.body == "Body text here."


def test_a_paragraph_first_line_gives_a_title_from_its_first_sentence():
    text = ("The gauge read four millimetres before breakfast. Then the wind turned and the rain "
            "came back for the whole afternoon, which nobody had forecast at all.")
    post = parse_post(text)
    assert post.title == "The gauge read four millimetres before breakfast"
    assert post.body == text
    assert post.title_from == "first sentence"


def test_a_long_first_sentence_is_cut_at_a_word_boundary():
    text = " ".join(["word"] * 40) + "."
    post = parse_post(text)
    assert post.title.endswith("…")
    assert len(post.title) <= 91
    assert post.title.rstrip("…").split() == ["word"] * len(post.title.rstrip("…").split())


def test_text_with_only_a_title_line_has_it_as_body_too():
    post = parse_post("Just one line without a body")
    assert post.title == "Just one line without a body"
    assert post.body == "Just one line without a body"


def test_title_without_letters_is_replaced():
    post = parse_post("12345 ---\n\nWind from the north today. It was cold.")
    assert post.title_from == "first sentence"
    assert post.title == "12345 --- Wind from the north today"


def test_control_characters_are_dropped():
    post = parse_post("Tit\x00le\x1b\n\nBo\x07dy\ttext")
    assert post.title == "Title"
    assert post.body == "Body\ttext"


def test_escape_neutralises_html_and_script_links():
    raw = ('<script>alert(1)</script> <img src=x onerror=alert(1)> a & b '
           '[click](javascript:alert(1)) [x](JaVa\tScRiPt:evil()) [d](data:text/html;base64,AA) '
           'The data: it was fine.')
    safe = escape_body(raw)
    assert "<" not in safe and ">" not in safe
    assert "&amp; b" in safe
    assert "The data: it was fine." in safe
    html = markdown.markdown(safe)
    assert "<script" not in html and "<img" not in html
    lowered = html.lower()
    for scheme in ("javascript:", "data:"):
        assert f'href="{scheme}' not in lowered


def test_escaped_text_cannot_open_a_raw_html_block():
    safe = escape_body("<div>\n<p onclick='x'>hello</p>\n</div>")
    html = markdown.markdown(safe)
    assert "<div>" not in html and "<p onclick" not in html
    assert "&lt;div&gt;" in html


def test_escaped_text_cannot_add_attributes_through_markdown_extra():
    """`trainer sample --out` files may end up in a site whose Markdown has attribute lists
    (markdown.extensions.extra, as in this project's pelicanconf): `{: onclick=...}` must stay text."""
    safe = escape_body("Calm day\n{: onclick=alert(1) }\n\n[x](javascript:alert(1)){: #a }")
    html = markdown.markdown(safe, extensions=["markdown.extensions.extra"])
    assert "<p onclick" not in html and "<a " not in html
