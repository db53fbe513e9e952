"""HTML -> plain text: each markup element, code handling, entities, whitespace, residue."""
from __future__ import annotations

import markdown
import pytest

from corpus_builder.strip import html_to_text, markdown_text, normalise_plain, title_text

MD = markdown.Markdown(extensions=["markdown.extensions.extra", "markdown.extensions.toc",
                                   "markdown.extensions.codehilite"])


def md_text(source: str, keep_code: bool = False) -> str:
    MD.reset()
    return html_to_text(MD.convert(source), keep_code=keep_code)


def test_headings_become_plain_lines():
    assert md_text("# The Roof\n\nText.\n\n### Lower\n\nMore.") == "The Roof\n\nText.\n\nLower\n\nMore."


def test_paragraph_soft_wraps_and_spaces_are_normalised():
    assert md_text("one  line\nwrapped   here\n\n\n\nnext") == "one line wrapped here\n\nnext"


def test_lists_become_lines_without_bullets():
    assert md_text("- apples\n- pears\n    - small ones\n\nThen:\n\n1. first\n2. second") == (
        "apples\npears\nsmall ones\n\nThen:\n\nfirst\nsecond"
    )


def test_loose_list_items_stay_one_paragraph_of_lines():
    assert md_text("- one\n\n- two\n\n- three") == "one\ntwo\nthree"


def test_quotes_lose_their_markers():
    assert md_text("> quoted words\n> carry on") == "quoted words carry on"


def test_table_rows_become_lines():
    text = md_text("| day | rain |\n|-----|------|\n| Mon | 4 mm |\n| Tue | 0 mm |")
    assert text == "day, rain\nMon, 4 mm\nTue, 0 mm"


def test_footnotes_keep_their_text_but_not_markers_or_backlinks():
    text = md_text("The gauge overflowed[^1].\n\n[^1]: It was a small gauge.")
    assert text == "The gauge overflowed.\n\nIt was a small gauge."


def test_links_keep_their_text_and_urls_vanish():
    assert md_text("See [the chart](https://example.org/chart) now.") == "See the chart now."


def test_images_keep_alt_text_or_vanish():
    assert md_text("A ![wind rose](rose.png) and ![](blank.png).") == "A wind rose and."


def test_html_entities_are_decoded():
    assert html_to_text("<p>4 &deg;C &amp; rising &mdash; caf&eacute;&nbsp;time</p>") == "4 °C & rising — café time"


def test_emphasis_and_inline_code_keep_their_text():
    assert md_text("**Bold**, *italic* and `inline code`.") == "Bold, italic and inline code."


def test_code_blocks_are_dropped_by_default():
    source = "Before.\n\n```python\nx = 1\n```\n\n    indented = 2\n\nAfter."
    assert md_text(source) == "Before.\n\nAfter."


def test_keep_code_keeps_code_blocks_verbatim():
    source = "Before.\n\n```python\nif x:\n    y = 1\n```\n\nAfter."
    assert md_text(source, keep_code=True) == "Before.\n\nif x:\n    y = 1\n\nAfter."


def test_scripts_styles_and_iframes_are_dropped():
    html = "<p>Text</p><script>alert(1)</script><style>p{}</style><iframe src=x>frame</iframe>"
    assert html_to_text(html) == "Text"


def test_table_of_contents_is_dropped():
    assert md_text("[TOC]\n\n# One\n\nText.") == "One\n\nText."


def test_unrendered_toc_marker_is_dropped():
    assert html_to_text("<p>[TOC]</p><p>Text.</p>") == "Text."


def test_template_tags_are_removed():
    assert html_to_text("<p>Before {% include 'x.html' %} after {{ site.name }}.</p>") == "Before after."


def test_markdown_inside_raw_html_blocks_is_cleaned():
    source = "<center>\n![A gauge](gauge.png)\n</center>\n\nSee <div>[docs](https://x.org)</div>"
    text = md_text(source)
    assert "](" not in text and "A gauge" in text and "docs" in text


def test_nested_image_link_residue_keeps_the_alt_text():
    html = "<p>[![Build Status](https://ci.example/badge.svg)](https://ci.example)</p>"
    assert html_to_text(html) == "Build Status"


def test_literal_br_tags_in_text_are_removed():
    assert html_to_text("<p>References&lt;br \\&gt;</p>") == "References"


def test_stray_heading_marks_and_rst_habits_are_cleaned():
    html = "<p># Select</p><p>Install it like this::</p><p>Use ``INSERT`` here.</p><p>h :: tail</p>"
    assert html_to_text(html) == "Select\n\nInstall it like this:\n\nUse INSERT here.\n\nh :: tail"


def test_docutils_error_messages_are_dropped():
    html = '<p>Text.</p><div class="system-message"><p>Unknown directive type "youtube".</p></div>'
    assert html_to_text(html) == "Text."


def test_rst_footnote_labels_are_dropped():
    html = ('<p>Official <a class="footnote-reference" href="#f1">[1]</a>.</p>'
            '<table class="docutils footnote"><tr><td class="label"><a class="fn-backref" href="#r1">[1]</a></td>'
            '<td>In the shed.</td></tr></table>')
    assert html_to_text(html) == "Official.\n\nIn the shed."


@pytest.mark.parametrize("html", ["", "   ", "<p></p>", "<script>x</script>"])
def test_empty_html_gives_empty_text(html):
    assert html_to_text(html) == ""


def test_title_text_is_one_plain_line():
    assert title_text("Exemplo de como &quot;Parsear&quot;\n  <em>Sites</em>") == 'Exemplo de como "Parsear" Sites'


def test_normalise_plain_keeps_paragraphs():
    assert normalise_plain("a  b \r\nc\n\n\n\nd  ") == "a b\nc\n\nd"


def test_a_stray_template_brace_does_not_swallow_paragraphs():
    html = "<p>Percent {% sign alone.</p><p>Middle paragraph.</p><p>Closing %} here.</p>"
    assert html_to_text(html) == "Percent {% sign alone.\n\nMiddle paragraph.\n\nClosing %} here."


def test_a_malformed_pipe_table_that_did_not_render_becomes_rows():
    # An extra "|#|" column marker keeps Markdown from rendering this as a table.
    source = "| Day |#| Rain |\n|:----|#|-----:|\n| Mon |#| 4 mm |\n| Tue |#| 0 mm |"
    assert md_text(source) == "Day, Rain\nMon, 4 mm\nTue, 0 mm"


def test_pipes_in_prose_are_left_alone():
    assert md_text("Use a | b for union.\nAnd c | d too.") == "Use a | b for union. And c | d too."


def test_toc_permalink_anchors_are_dropped():
    source = "# Wind\n\nText."
    html = markdown.markdown(source, extensions=["toc"], extension_configs={"toc": {"permalink": True}})
    assert "headerlink" in html
    assert html_to_text(html) == "Wind\n\nText."


# --------------------------------------------------------------------------- Markdown in raw HTML blocks
def test_markdown_in_a_details_block_is_stripped():
    text = md_text("<details><summary>What I measured</summary>\n\n**Sit bones**: twelve *cm*, `exactly`.\n\n"
                   "Second __paragraph__ with _care_.\n\n</details>\n\nAfter.")
    assert text == ("What I measured\n\nSit bones: twelve cm, exactly.\n\nSecond paragraph with care.\n\n"
                    "After.")


def test_markdown_in_a_div_that_was_not_rendered_is_stripped():
    plain = markdown.Markdown()  # no md_in_html: markdown="1" means nothing to it
    html = plain.convert('<div markdown="1">\n**Three loops**, one *ferry*.\n\n## Sundays\n\n'
                         'Only then.\n</div>')
    assert "**" in html
    assert html_to_text(html) == "Three loops, one ferry.\n\nSundays\n\nOnly then."


def test_code_and_words_with_stars_and_underscores_are_left_alone():
    html = ("<p>Call <code>__init__</code> with <code>*args, **kwargs</code>; snake_case_name, 2*3*4 and "
            "a * b * c stay.</p><details>my_var and __dunder_x stay</details>")
    assert html_to_text(html) == ("Call __init__ with *args, **kwargs; snake_case_name, 2*3*4 and "
                                  "a * b * c stay.\n\nmy_var and __dunder_x stay")


# --------------------------------------------------------------------------- --keep-markdown
def test_markdown_text_drops_code_blocks_unless_keep_code():
    source = ("Before.\n\n```python\nx = {{ 1 }}\n```\n\n~~~\ntilde = 1\n~~~\n\nText:\n\n    indented = 2\n\n"
              "    still_code()\n\nAfter **bold**.")
    assert markdown_text(source) == "Before.\n\nText:\n\nAfter **bold**."
    assert markdown_text(source, keep_code=True) == (
        "Before.\n\n```python\nx = {{ 1 }}\n```\n\n~~~\ntilde = 1\n~~~\n\nText:\n\n    indented = 2\n\n"
        "    still_code()\n\nAfter **bold**.")


def test_markdown_text_keeps_indented_list_paragraphs():
    source = "- one\n\n    more about one\n\n- two\n    - nested"
    assert markdown_text(source) == source


def test_markdown_text_drops_template_tags_comments_and_toc():
    source = ("[TOC]\n\nIntro {% include 'x.html' %} and {{ site.name }} <!-- a note -->\n\n<!--\nseveral\n"
              "lines\n-->\n\nEnd.")
    assert markdown_text(source) == "Intro and\n\nEnd."
