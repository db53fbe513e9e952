""""Show me another": a button on machine-post pages and "About the machine" that opens a random
other published machine post, drawn in the reader's browser.

- ``index`` (``finalized``): the build writes ``DAILY_POST_POSTS_INDEX`` ("machine/posts.json"; ""
  turns the button off) listing every published machine post: its URL (relative to the site's
  root), title (plain text), day, stars and weight. A post's weight is 1 + stars², so a five-star
  post comes up 26 times as often as one without stars, the way the lyrics sites served their
  top-voted texts more often. The script (``static/another.js``, a few dozen lines, no dependency)
  is copied beside it as ``another.js``.
- ``box`` / ``add_box`` (``content_written``): the page gets, right after the post's content (or
  before ``</body>`` when the theme changed the content), a box with a link to "Best of the machine"
  (or the machine category) that works without scripts, and a hidden button the script reveals;
  then ``<script src=".../another.js" defer>``. Every path in it is relative to the page, so the site
  works under any SITEURL, RELATIVE_URLS or sub-folder; nothing is fetched from outside the site.

A URL is listed only when it stays on the site (``collisions.output_key``); the script checks again
that the post it opens is on the page's own origin. The same day is always the same post: the index
is rebuilt from the posts every build, and a post's URL is its slug's, which only the owner changes.
"""
from __future__ import annotations

import html
import re
from importlib import resources

from .best_of import day_of, machine_posts
from .collisions import output_key
from .settings import SCRIPT_NAME, DailyPostSettings

BOX_CLASS = "tpdne-another"
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


def script_source() -> bytes:
    return resources.files(__package__).joinpath("static", SCRIPT_NAME).read_bytes()


def _plain(title: str) -> str:
    """A title as the reader sees it (Pelican's titles are HTML: entities decoded, tags dropped)."""
    return html.unescape(re.sub(r"<[^>]*>", "", title or "")).strip()


def index(articles, stars: dict, settings: DailyPostSettings) -> dict:
    """The posts index: every published machine post, newest first."""
    posts = []
    for post in sorted(machine_posts(articles), key=lambda a: a.date, reverse=True):
        url = post.url  # Pelican formats it from the settings on every access: once here
        if output_key(url) is None:
            continue
        day = day_of(post, settings)
        count = stars.get(day, 0)
        posts.append({"url": url, "title": _plain(post.title), "day": day.isoformat(),
                      "stars": count, "weight": 1 + count * count})
    return {"version": 1, "posts": posts}


def box(page_save_as: str, current_url: str, settings: DailyPostSettings, fallback: str) -> str:
    """The box and its script tag for the page written at ``page_save_as`` (``current_url``: that
    page's URL when it is a post, so the button never offers it). ``fallback``: the path the link
    without scripts goes to (the best-of page, or the machine category's page)."""
    root = root_from(page_save_as)

    def rel(target: str) -> str:  # a path in the output, from the page (through the root: cheap)
        return html.escape(root + target, quote=True)

    words = "Best of the machine" if fallback == settings.best_of_url else "More posts by the machine"
    link = f'<a href="{rel(fallback)}">{words}</a>' if fallback else ""
    return (f'<aside class="{BOX_CLASS}" aria-label="Another machine-written post" data-index="{rel(settings.posts_index)}" '
            f'data-root="{html.escape(root, quote=True)}" data-current="{html.escape(current_url, quote=True)}">'
            f'<button type="button" hidden>Show me another</button> {link} '
            f'<span class="{BOX_CLASS}-status" role="status"></span></aside>'
            f'<script src="{rel(settings.posts_script)}" defer></script>')


def root_from(page_save_as: str) -> str:
    """The site's root, relative to the page written at ``page_save_as`` ("" at the top)."""
    depth = page_save_as.strip("/").count("/")
    return "../" * depth


def add_box(page: str, content: str | None, markup: str, marker: str = BOX_CLASS) -> str:
    """``page`` with ``markup`` right after the last copy of ``content`` in it, else before
    ``</body>``; unchanged when it has the box (``class="marker"``) already or neither place."""
    if f'class="{marker}"' in page:
        return page
    at = page.rfind(content) if content else -1
    if at >= 0:
        end = at + len(content)
        return page[:end] + markup + page[end:]
    body_end = list(_BODY_END.finditer(page))
    if body_end:
        start = body_end[-1].start()
        return page[:start] + markup + page[start:]
    return page
