"""The disclosure a machine-written post carries in any theme and every feed.

- ``add_notice`` (read time, ``content_object_init``): a post with ``Generated: true`` gets the
  notice ``<p class="tpdne-disclosure" role="note">`` (``DAILY_POST_DISCLOSURE``, ``{date}`` = the
  post's date as the theme shows dates, HTML-escaped) at the start of its content and of its
  summary, which is what pages, index pages and feeds print. First its text loses what no
  published text may hold (``clean_text``): a post file written before ``common.post_file`` left
  those characters out, or edited by hand, must not break every feed of the site.
- ``finish_page`` (write time, ``content_written``): the written HTML of such a post gets
  ``<meta name="robots" content="noindex">`` (unless the theme put a robots tag there, or
  ``DAILY_POST_ROBOTS_NOINDEX = False``), and every page that shows the plugin's markup gets its
  few lines of CSS, both right after ``<head>`` (after ``<meta charset>`` when that comes first):
  the theme's own stylesheets come later, so a theme that styles ``.tpdne-disclosure`` wins.
"""
from __future__ import annotations

import html
import re

from common.text_rules import remove_unsafe

NOTICE_CLASS = "tpdne-disclosure"
STYLE_ID = "tpdne-style"
# Class-scoped, no colour of its own for the text: readable on light and dark themes alike; a
# formatting context of its own (flow-root), so it sits beside a floated box, not under it.
CSS = (".tpdne-disclosure{display:flow-root;margin:0 0 1.5em;padding:.6em .9em;border-left:4px solid #c2571a;"
       "background:rgba(194,87,26,.1);font-size:.9em;line-height:1.45}"
       ".tpdne-machine img{max-width:100%;height:auto}"
       ".tpdne-another{display:flow-root;margin:1.5em 0;padding:.6em .9em;border:1px solid rgba(127,127,127,.4);"
       "border-radius:4px;font-size:.9em}"
       ".tpdne-another button{font:inherit;margin-right:.6em;padding:.25em .8em;cursor:pointer}"
       ".tpdne-another button[hidden]{display:none}"
       ".tpdne-another-status{margin-left:.6em;font-style:italic}"
       ".tpdne-write{display:flow-root;margin:1.5em 0;padding:.6em .9em;border:1px solid rgba(127,127,127,.4);"
       "border-radius:4px}"
       ".tpdne-write h2{margin-top:0;font-size:1.2em}"
       ".tpdne-write [hidden]{display:none}"
       ".tpdne-write button{font:inherit;margin:.2em .4em .2em 0;padding:.25em .8em;cursor:pointer}"
       ".tpdne-write input{font:inherit;width:8em}"
       ".tpdne-write-status{font-style:italic}"
       ".tpdne-write-post{margin-top:1em;padding-top:.6em;border-top:1px dashed rgba(127,127,127,.4)}"
       ".tpdne-write[data-state=writing] .tpdne-write-body>p:last-child::after{content:\"\\258D\"}"
       ".tpdne-stars{color:#c2571a;letter-spacing:.05em;white-space:nowrap}"
       ".tpdne-best-of li{margin:.3em 0}")
STYLE = f'<style id="{STYLE_ID}">{CSS}</style>'
NOINDEX = '<meta name="robots" content="noindex">'

_HEAD = re.compile(r"<head(?:\s[^>]*)?>(?:\s*<meta\s[^>]*charset[^>]*>)?", re.IGNORECASE)
_HEAD_END = re.compile(r"</head\s*>", re.IGNORECASE)
_ROBOTS = re.compile(r"""<meta\s[^>]*name\s*=\s*["']?robots\b""", re.IGNORECASE)


def notice(text: str, date: str) -> str:
    """The notice element: ``text`` with ``{date}`` filled in, escaped (never HTML from a setting)."""
    return f'<p class="{NOTICE_CLASS}" role="note">{html.escape(text.replace("{date}", date))}</p>'


def clean_text(article) -> None:
    """Take the characters XML 1.0 forbids and the bidirectional controls
    (``common.text_rules.UNSAFE``) out of ``article``'s content, title, summary and every other
    text metadata value (a Pelican Content, before any of it was rendered): one U+FFFE in a title
    makes every Atom and RSS feed of the site invalid XML."""
    article._content = remove_unsafe(article._content or "")
    for key, value in list(article.metadata.items()):
        if not isinstance(value, str) or remove_unsafe(value) == value:
            continue
        article.metadata[key] = remove_unsafe(value)
        if key == "summary":
            article._summary = article.metadata[key]
        elif article.__dict__.get(key) is value:  # Pelican's copy of it as an attribute (title, ...)
            setattr(article, key, article.metadata[key])


def add_notice(article, text: str) -> None:
    """Put the notice first in ``article``'s content and summary (a Pelican Content, before any
    of it was rendered), after ``clean_text``. A summary from the ``Summary`` metadata is kept in
    ``metadata`` and in ``_summary``, which Pelican writes back later
    (``refresh_metadata_intersite_links``); without one Pelican cuts the summary from the content,
    which now starts with the notice."""
    clean_text(article)
    note = notice(text, getattr(article, "locale_date", ""))
    article._content = note + "\n" + (article._content or "")
    if "summary" in article.metadata:
        article.metadata["summary"] = article._summary = note + "\n" + (article.metadata["summary"] or "")


def finish_page(page: str, noindex: bool) -> str:
    """``page`` (a written HTML file) with the robots tag (``noindex``: it is a machine-written
    post's page and the setting is on) and the plugin's CSS where it shows the plugin's markup;
    unchanged when it needs neither or has no ``<head>``."""
    head = _HEAD.search(page)
    if head is None:
        return page
    end = _HEAD_END.search(page, head.end())
    in_head = page[: end.start() if end else len(page)]
    extra = ""
    if noindex and not _ROBOTS.search(in_head):
        extra += NOINDEX
    if 'class="tpdne-' in page and STYLE_ID not in in_head:
        extra += STYLE
    return page[: head.end()] + extra + page[head.end():] if extra else page
