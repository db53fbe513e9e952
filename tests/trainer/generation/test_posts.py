"""Parsing sampled text into a post (title + body), and the Markdown/HTML escaping helper."""
from __future__ import annotations

import markdown
import pytest

from common.post_file import escape_body
from trainer.generation.post import (ends_a_sentence, is_usable_title, parse_post, title_problem,
                                     trim_to_last_sentence)


def test_first_line_is_the_title_and_paragraphs_are_kept():
    post = parse_post("Fog on the Harbour\n\nThe first paragraph.\n\n\n\nThe second one.  \n")
    assert post.title == "Fog on the Harbour"
    assert post.body == "The first paragraph.\n\nThe second one."
    assert post.title_problem == ""


@pytest.mark.parametrize("first_line", ["## Fog on the Harbour", '"Fog on the Harbour"',
                                        "  Fog   on the Harbour  ", "# Fog on the Harbour #"])
def test_title_loses_heading_marks_quotes_and_extra_spaces(first_line):
    assert parse_post(first_line + "\n\nBody text here.").title == "Fog on the Harbour"


def test_setext_underline_is_not_part_of_the_body():
    post = parse_post("Fog on the Harbour\n==================\n\nBody text here.")
    assert post.title == "Fog on the Harbour"
    assert post.body == "Body text here."
    assert post.title_problem == ""


@pytest.mark.parametrize("title", ["Fog on the Harbour", "10 Things the Gauge Taught Me",
                                   "Plan A", "Checking In", "Why It Rained?", "Notes, Part 2",
                                   "Spring Came Back, Sort Of",
                                   # series titles on real blogs run to 14 words and 85 characters
                                   "Station Log 02 - Find the last but one reading of a windy day",
                                   "A season of gauges: calibrate a rain bucket with a kitchen scale - Part 1"])
def test_usable_titles(title):
    assert title_problem(title) == ""
    post = parse_post(f"{title}\n\nThe body.")
    assert (post.title, post.title_problem) == (title, "")


@pytest.mark.parametrize("title, why", [
    ("fog on the harbour", "starts lower-case"),
    ("Fog on the", "ends mid-phrase"),
    ("Fog, rain and", "ends mid-phrase"),
    ("Notes on a theme of", "ends mid-phrase"),
    ("Fog on the harbour,", "ends mid-phrase"),
    ("The plan:", "ends mid-phrase"),
    ("The gauge read four millimetres before breakfast and then the wind turned again and the rain "
     "came back", "too long"),
    ("A" + "b" * 105, "too long"),
    ("%% -- ## ;; A1 ==", "mostly punctuation"),
    ("12345 ---", "no letters"),
    ("", "empty"),
])
def test_unusable_titles_are_named_not_patched(title, why):
    assert title_problem(title).startswith(why)
    assert not is_usable_title(title)


def test_a_paragraph_first_line_is_not_turned_into_a_title():
    """The old fallback cut the first sentence with "…": now the post keeps the line and says why."""
    text = ("The gauge read four millimetres before breakfast. Then the wind turned and the rain "
            "came back for the whole afternoon, which nobody had forecast at all.")
    post = parse_post(text)
    assert "…" not in post.title
    assert post.title_problem.startswith("too long")
    assert post.body == ""


def test_a_first_line_without_a_blank_line_after_it_is_not_a_title():
    post = parse_post("Fog on the Harbour\nThe boats stayed in all day.")
    assert post.title_problem == "no blank line after it"


def test_text_with_only_a_title_line_has_an_empty_body():
    post = parse_post("Just one line without a body")
    assert post.title == "Just one line without a body"
    assert (post.body, post.title_problem) == ("", "empty body")


@pytest.mark.parametrize("repeat", ["Fog on the Harbour", "# Fog on the harbour", "FOG ON THE HARBOUR!",
                                    '"Fog on the Harbour"'])
def test_a_body_that_repeats_the_title_loses_the_repeat(repeat):
    post = parse_post(f"Fog on the Harbour\n\n{repeat}\n\nThe boats stayed in.")
    assert post.body == "The boats stayed in."
    assert post.title_problem == ""


def test_a_body_that_only_repeats_the_title_is_empty():
    post = parse_post("Fog on the Harbour\n\nFog on the Harbour")
    assert (post.body, post.title_problem) == ("", "empty body")


def test_a_first_body_line_that_starts_like_the_title_is_kept():
    post = parse_post("Fog on the Harbour\n\nFog on the harbour again, the third day running.")
    assert post.body == "Fog on the harbour again, the third day running."


@pytest.mark.parametrize("body, trimmed", [
    # the paragraph sampling stopped in is dropped when the one before ends a sentence
    ("One. Two.\n\nThree and four. Five is cut", "One. Two."),
    ("First paragraph ends here.\n\nSecond ends too.\n\nThird was cut mid", "First paragraph ends here.\n\nSecond ends too."),
    # one paragraph: its last complete sentence
    ("One. Two and three! Then \"four?\" Five is cut", 'One. Two and three! Then "four?"'),
    # the paragraph before does not end a sentence (a heading): the last complete sentence
    ("## A heading\n\nOne (two.) Three", "## A heading\n\nOne (two.)"),
    # no sentence ended at all
    ("The wind came round to the", ""),
])
def test_a_sample_cut_at_the_length_limit_is_trimmed_to_where_a_writer_would_stop(body, trimmed):
    assert trim_to_last_sentence(body) == trimmed
    assert trimmed == "" or ends_a_sentence(trimmed)


@pytest.mark.parametrize("text, ends", [("Done.", True), ('He said "no."', True), ("Why?)", True),
                                        ("It rained!  \n", True), ("e.g", False),
                                        ("and then the", False), ("Fine,", False), ("", False),
                                        # a blogger's sign-off smiley ends a post; a bracket does not
                                        ("See you next week :)", True), ("Até a próxima =)", True),
                                        ("It works ;-)", True), ("the value f(x)", False),
                                        ("a list:", False), ("call it:)", False)])
def test_ends_a_sentence(text, ends):
    assert ends_a_sentence(text) is ends


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
