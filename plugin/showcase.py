"""What a build shows off of the machine's posts: the "Best of the machine" page (``best_of``) and
the "show me another" button with its index (``another``). The receivers in ``hooks`` call:

- ``prepare`` (``all_generators_finalized``, after the collision checks fixed every URL): read the
  owner's stars once, note the published machine posts, add the best-of page when the site has an
  "About the machine" page. What it found is kept for this build in Pelican's settings (``KEY``).
- ``with_box`` (``content_written``): a machine post's page, or "About the machine", with the box.
- ``write_index`` (``finalized``): the posts index and the script, into the output, atomically.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from common.fileio import atomic_write_bytes, atomic_write_text

from . import another, best_of, machine
from .settings import DailyPostSettings

KEY = "DAILY_POST_SHOWCASE"


@dataclass
class Showcase:
    posts: list = field(default_factory=list)  # the published machine posts
    post_ids: set = field(default_factory=set)  # id() of each: which page is a post, at any size
    stars: dict = field(default_factory=dict)  # the owner's stars by day
    best_of: bool = False  # the site has the best-of page
    boxed: bool = False  # some page of this build got the box (so the index and script are used)


def prepare(settings: DailyPostSettings, generators, has_machine_page: bool) -> Showcase:
    from pelican.generators import ArticlesGenerator, PagesGenerator

    articles = [a for g in generators if isinstance(g, ArticlesGenerator) for a in g.articles]
    found = Showcase(posts=best_of.machine_posts(articles))
    found.post_ids = {id(post) for post in found.posts}
    settings.pelican[KEY] = found
    wanted = (has_machine_page and settings.best_of_url) or (found.posts and settings.posts_index)
    if not wanted:
        return found
    found.stars = best_of.stars_by_day(settings)
    pages = next((g for g in generators if isinstance(g, PagesGenerator)), None)
    if has_machine_page and pages is not None and pages.context.get("DAILY_POST_MACHINE"):
        found.best_of = best_of.add_page(generators, found.posts, found.stars, settings) is not None
    if pages is not None and not found.best_of:  # something of the site's took its path: no link
        for page in best_of.site_content([pages]):
            if getattr(page, machine.MACHINE_PAGE, False):
                page._content = machine.BEST_OF_LINK.sub("", page._content or "")
    return found


def _found(settings: DailyPostSettings | None) -> Showcase | None:
    found = settings.pelican.get(KEY) if settings is not None else None
    return found if isinstance(found, Showcase) else None


def with_box(page: str, shown, settings: DailyPostSettings | None) -> str:
    """``page`` (the written HTML of ``shown``, a machine post or "About the machine") with the
    "show me another" box, when the button is on and there is another post to show."""
    found = _found(settings)
    if found is None or not settings.posts_index or not found.posts:
        return page
    is_post = id(shown) in found.post_ids
    if not is_post and not getattr(shown, machine.MACHINE_PAGE, False):
        return page  # a draft, hidden post or translation: not in the index, no box
    if is_post and len(found.posts) < 2:
        return page
    if found.best_of and is_post:  # ("About the machine" links to it already: there, the category)
        fallback = settings.best_of_url
    else:
        category = getattr(shown, "category", None) if is_post else getattr(found.posts[0], "category", None)
        fallback = getattr(category, "url", "") or ""
    markup = another.box(shown.save_as, shown.url if is_post else "", settings, fallback)
    boxed = another.add_box(page, shown.content, markup)
    found.boxed = found.boxed or boxed != page
    return boxed


def posts_page(settings: DailyPostSettings | None) -> str:
    """The page that lists the machine's posts: "Best of the machine" when this build has it, else
    the machine category's page ("" when there is neither)."""
    found = _found(settings)
    if found is None:
        return ""
    if found.best_of:
        return settings.best_of_url
    category = getattr(found.posts[0], "category", None) if found.posts else None
    return getattr(category, "url", "") or ""


def write_index(settings: DailyPostSettings, output_path: str | Path) -> list[Path]:
    """Write the posts index and the script beside it (when some page of this build has the box);
    the paths written."""
    found = _found(settings)
    if found is None or not settings.posts_index or not found.boxed:
        return []
    output = Path(output_path)
    data = another.index(found.posts, found.stars, settings)
    index = output / settings.posts_index
    atomic_write_text(index, json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")
    script = output / settings.posts_script
    atomic_write_bytes(script, another.script_source())
    return [index, script]
