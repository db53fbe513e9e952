"""Publishing the missing posts of some days: check, lock, load the model once, sample, write.

``publish`` is what a build (today, plus DAILY_POST_BACKFILL_DAYS) and ``plugin.backfill`` call.
When every day already has its post it returns after reading a few file headers and the folder's
record (``plugin.tombstones``): no lock, no model, no torch. A new post's slug collides with no
other output of the site (``plugin.collisions``); a post the owner took down gets a tombstone, and
its day another seed or, with ``DAILY_POST_DELETED = "skip"``, no post.

With ``DAILY_POST_REVIEW = True`` nothing is sampled: a day's post is the one the owner approved in
the review queue, copied here the same way (``plugin.review_publish``); any other day stays empty
(``Outcome.unreviewed``: one warning naming ``make review``).
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path

from common.errors import UserError

from . import collisions, store, tombstones
from .dates import today
from .settings import DailyPostSettings

logger = logging.getLogger(__name__)


class DailyPostError(UserError, RuntimeError):
    """A post could not be published (one-line message); the build fails only in strict mode."""


@dataclass
class Outcome:
    written: list[Path] = field(default_factory=list)
    existing: dict[dt.date, Path] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)  # one line per day that got no post
    skipped: list[dt.date] = field(default_factory=list)  # left empty: their post was taken down ("skip")
    unreviewed: list = field(default_factory=list)  # review_publish.Unreviewed: not approved (DAILY_POST_REVIEW)


def publish(settings: DailyPostSettings, days: list[dt.date], sampler=None) -> Outcome:
    """Write a post for every day in ``days`` that has no published generated post. Errors loading
    the model raise; a day whose candidates the gate rejects is reported in ``Outcome.failures``.

    A post the owner took down (deleted, or ``Status: hidden``/``draft``) gets a tombstone in the
    folder's record (``plugin.tombstones``); its day is written again with another seed, or with
    ``DAILY_POST_DELETED = "skip"`` left empty (``Outcome.skipped``)."""
    from . import generate  # torch-free itself; it imports the trainer only when called

    folder = settings.generated_folder
    mode = getattr(settings, "deleted_posts", "redraw")
    noticed = _today(settings)
    found = tombstones.examine(folder, noticed)
    outcome = Outcome(existing=found.published)
    todo, outcome.skipped = found.todo(days, mode)
    approvals = None
    if getattr(settings, "review", False) and todo:
        from .review_publish import Approvals

        approvals = Approvals(settings)
        ready = [day for day in todo if not _unreviewed(approvals, found, day)]
        if not ready:  # nothing approved to publish: no lock, nothing written
            outcome.unreviewed = [_unreviewed(approvals, found, day) for day in todo]
            todo = []
    if not todo and not found.new_tombstones:
        if found.warning:
            logger.warning("%s", found.warning)
        return outcome
    if todo and sampler is None and approvals is None:
        # loaded before the lock: without a model nothing is created in content/
        sampler = generate.load_sampler(settings.model_path, settings.precision,
                                        demo=settings.is_demo_model)
    with store.folder_lock(folder, settings.lock_timeout):
        store.remove_stale_temps(folder)  # what builds killed while writing left behind
        found = tombstones.examine(folder, noticed)  # another build may have written or recorded them
        if found.warning:
            logger.warning("%s", found.warning)
        outcome.existing = found.published
        todo, outcome.skipped = found.todo(days, mode)
        if found.new_tombstones:
            _record(found, [], [f"{t['file']} ({t['reason']})" for t in found.new_tombstones])
        if not todo:
            return outcome
        site = collisions.read_site(settings)  # what the site writes: a new post collides with none of it
        outcome.unreviewed = []  # judged again, holding the lock
        for day in todo:
            if approvals is not None:
                made = _approved(approvals, found, day, outcome)
            else:
                made = _sampled(sampler, found, day, settings, outcome)
            if made is None:
                continue
            title, render = made
            slug, article = collisions.new_post_slug(
                settings, site, store.slugify_title(title, settings) or "machine-post", day, render)
            path = store.write_post(folder, day, slug, render(slug))
            if path is None:
                outcome.failures.append(f"{day}: {folder / slug} already exists; left untouched")
                continue
            site.articles.append(article)
            outcome.written.append(path)
            logger.info("daily post: wrote %s", path)
            written = tombstones.post_file(path)
            _record(found, [written] if written else [], [])
    return outcome


def _sampled(sampler, found, day: dt.date, settings: DailyPostSettings, outcome: Outcome):
    """(title, render(slug) -> file text) of the day's sampled post; None (a failure noted) without one."""
    from . import generate

    seed, redraw = found.seed_for(day, settings)
    again = f", redraw {redraw}: the earlier post was taken down" if redraw else ""
    logger.info("daily post: sampling the post for %s (seed %d%s)", day, seed, again)
    result = generate.sample(sampler, seed, settings)
    post = result.post
    if post is None:
        outcome.failures.append(f"{day}: the quality gate rejected every candidate ({result.rejection_summary()})")
        return None
    return post.title, lambda slug: store.render_post(post, day, slug, settings)


def _unreviewed(approvals, found, day: dt.date):
    """Why ``day`` has no approved post (a review_publish.Unreviewed), None when it has one."""
    from .review_publish import Unreviewed

    result = approvals.approved(day, {t.get("seed") for t in found.tombstones_for(day)})
    return result if isinstance(result, Unreviewed) else None


def _approved(approvals, found, day: dt.date, outcome: Outcome):
    """(title, render(slug) -> file text) of the day's approved queued post (the owner's title, if
    any); None (the day noted in ``outcome.unreviewed``) without one."""
    from .review_publish import Unreviewed

    post = approvals.approved(day, {t.get("seed") for t in found.tombstones_for(day)})
    if isinstance(post, Unreviewed):
        outcome.unreviewed.append(post)
        return None
    title = approvals.title(day)
    logger.info("daily post: publishing the approved post of %s (%s)", day, post.path)
    return title or post.title, lambda slug: post.published_text(slug, title)


def _today(settings: DailyPostSettings) -> dt.date | None:
    """Today, for the record's "noticed" dates (None: the clock's, when "today" is unusable)."""
    try:
        return today(settings)
    except Exception:  # reported where the build asks for today
        return None


def _record(found, written: list, taken_down: list[str]) -> None:
    """Save the record (holding the lock). A record that cannot be written costs nothing this build:
    the posts are written, and a deletion is noticed again by the next build."""
    try:
        path = tombstones.save(found, written)
    except OSError as err:
        logger.warning("daily post: cannot write %s: %s", found.folder / tombstones.RECORD_NAME, err)
        return
    for what in taken_down:
        logger.info("daily post: %s was taken down: recorded in %s, so its day gets another post or none",
                    what, path)
