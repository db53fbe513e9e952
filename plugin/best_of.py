"""The owner's stars on the published machine posts, and the "Best of the machine" page.

Stars are the ones the owner gave in ``make review`` (``<review folder>/decisions.json``, read
with ``review_decisions.load``): a published machine post has the stars of its day. ``stars_by_day``
reads them once a build; a decisions file that cannot be read is one warning and no stars (the
page and the "show me another" weights then treat every post alike; the file is never written here).

The page (``DAILY_POST_BEST_OF_URL``, "machine/best.html"; "" for none) is a hidden Pelican page the
plugin adds to the pages generator, rendered with the theme's ``page.html`` as every theme has one,
written only when the site has an "About the machine" page, which links to it. It lists the top
ten starred posts, then the rest of the starred posts, by stars (ties: newest first). Titles are
printed as the theme prints them (``article.title``, which ``common.post_file`` keeps free of markup);
everything else the page says is escaped here.
"""
from __future__ import annotations

import datetime as dt
import logging
from html import escape
from typing import Iterable

from common.corpus_format import is_generated

from .machine import link_from
from .settings import DailyPostSettings

logger = logging.getLogger(__name__)

TOP = 10
PAGE_TITLE = "Best of the machine"
BEST_OF_PAGE = "_daily_post_best_of"  # marks the Page object this module made


def stars_by_day(settings: DailyPostSettings) -> dict[dt.date, int]:
    """The owner's stars by day (days without stars are left out)."""
    from .review_decisions import NAME, DecisionsError, load

    path = settings.review_folder / NAME
    try:
        days = load(path)["days"]
    except DecisionsError as err:
        logger.warning("daily post: the stars are left out of this build: %s", err)
        return {}
    stars = {}
    for day, entry in days.items():
        if entry.get("stars") and entry.get("state") != "rejected":
            stars[dt.date.fromisoformat(day)] = int(entry["stars"])
    return stars


def machine_posts(articles: Iterable) -> list:
    """The published machine-written posts among ``articles``."""
    return [a for a in articles if is_generated(getattr(a, "metadata", {}))]


def day_of(article, settings: DailyPostSettings) -> dt.date:
    return article.date.astimezone(settings.zone).date() if article.date.tzinfo else article.date.date()


def ranked(posts: Iterable, stars: dict[dt.date, int], settings: DailyPostSettings) -> list[tuple[int, object]]:
    """(stars, post) for every starred post whose page is on the site, most stars first, then
    newest first."""
    from .collisions import output_key

    starred = [(stars[day_of(p, settings)], p) for p in posts
               if day_of(p, settings) in stars and output_key(p.url) is not None]
    return sorted(starred, key=lambda pair: (-pair[0], -pair[1].date.timestamp()))


def _stars(count: int) -> str:
    return f'<span class="tpdne-stars" aria-label="{count} of 5 stars">{"★" * count}{"☆" * (5 - count)}</span>'


def _entry(count: int, post, save_as: str) -> str:
    href = escape(link_from(post.url, save_as))
    when = escape(getattr(post, "locale_date", "") or post.date.date().isoformat())
    return f'<li>{_stars(count)} <a href="{href}">{post.title}</a> <small>{when}</small></li>'


def page_content(ranking: list[tuple[int, object]], total: int, save_as: str) -> str:
    """The page's HTML: the top ten, then the rest by stars; how to star posts when none has any."""
    parts = ['<section class="tpdne-best-of">']
    if not ranking:
        parts.append(f"<p>No machine-written post has stars yet ({total} published). The site's owner "
                     "gives them stars in the review page (<code>make review</code>).</p>")
    else:
        parts.append(f"<p>The machine-written posts the site's owner liked best: {len(ranking)} of the "
                     f"{total} published have stars.</p>")
        parts.append("<h2>The top ten</h2>" if len(ranking) >= TOP else "<h2>The top</h2>")
        parts.append('<ol class="tpdne-best-top">' + "".join(_entry(n, p, save_as) for n, p in ranking[:TOP]) + "</ol>")
        if ranking[TOP:]:
            parts.append("<h2>The rest, by stars</h2>")
            parts.append('<ol class="tpdne-best-rest" start="11">'
                         + "".join(_entry(n, p, save_as) for n, p in ranking[TOP:]) + "</ol>")
    return "\n".join(parts + ["</section>"])


PAGE_LISTS = ("pages", "hidden_pages", "draft_pages", "translations", "hidden_translations")
ARTICLE_LISTS = ("articles", "translations", "hidden_articles", "hidden_translations", "drafts",
                 "drafts_translations")


def site_content(generators) -> list:
    """Every page, article (any status, any language) and static file the generators hold."""
    from pelican.generators import ArticlesGenerator, PagesGenerator, StaticGenerator

    lists = {PagesGenerator: PAGE_LISTS, ArticlesGenerator: ARTICLE_LISTS, StaticGenerator: ("staticfiles",)}
    found = []
    for generator in generators:
        for kind, names in lists.items():
            if isinstance(generator, kind):
                found += [item for name in names for item in getattr(generator, name, None) or ()]
    return found


def taken_by(content, save_as: str):
    """The item of ``content`` (the site's pages, articles, static files) written or linked at
    ``save_as``, if any: it wins over the plugin's page."""
    from .collisions import output_key

    key = output_key(save_as)
    for other in content:
        if getattr(other, BEST_OF_PAGE, False):
            continue
        if key in (output_key(getattr(other, "save_as", None)), output_key(getattr(other, "url", None))):
            return other
    return None


def add_page(generators, articles: list, stars: dict[dt.date, int], settings: DailyPostSettings):
    """Add the hidden page to the pages generator (written with the other pages); None when
    DAILY_POST_BEST_OF_URL is "" or something of the site is written there (one warning)."""
    from pelican.contents import Page
    from pelican.generators import PagesGenerator

    save_as = settings.best_of_url
    if not save_as:
        return None
    page_generator = next(g for g in generators if isinstance(g, PagesGenerator))
    other = taken_by(site_content(generators), save_as)
    if other is not None:
        logger.warning("daily post: %s is already written to %s, so the site has no \"%s\" "
                       "page: set DAILY_POST_BEST_OF_URL to another path", other.source_path, save_as,
                       PAGE_TITLE)
        return None
    posts = machine_posts(articles)
    content = page_content(ranked(posts, stars, settings), len(posts), save_as)
    metadata = {"title": PAGE_TITLE, "slug": "best-of-the-machine", "status": "hidden",
                "save_as": save_as, "url": save_as, "template": "page"}
    page = Page(content, metadata=metadata, settings=page_generator.settings,
                source_path=str(settings.content_path / save_as), context=page_generator.context)
    setattr(page, BEST_OF_PAGE, True)
    page_generator.hidden_pages.append(page)
    return page
