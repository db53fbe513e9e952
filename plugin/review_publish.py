"""What a build publishes with ``DAILY_POST_REVIEW = True``: only the posts the owner approved.

``daily.publish`` asks ``approved`` for each day that has no published post: the day's queued post
(``review/queue/``) when ``decisions.json`` says "approved" for its seed, which the build copies
into the generated folder through ``plugin.store`` (create-only, atomic, under the folder's lock,
recorded in ``daily-posts.json``) with the owner's title, if any, and a slug checked against the
site. Any other day stays empty: ``Unreviewed`` says why, and the build warns once, naming
``make review``. The build never samples then, so it never loads the model, and it never writes the
review folder.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from common.errors import one_line

from . import review_decisions, review_files


@dataclass(frozen=True)
class Unreviewed:
    day: dt.date
    why: str  # "not queued", "not approved", "rejected", or a file's problem (one line)


class Approvals:
    """The review folder, read once for a build (no lock: a build only reads it)."""

    def __init__(self, settings):
        self.paths = review_files.paths(settings)
        self.error: str | None = None
        self.decisions: dict = review_decisions.empty()
        try:
            self.decisions = review_decisions.load(self.paths.decisions)
        except review_decisions.DecisionsError as err:
            self.error = one_line(err)
        self.queued, self.problems = review_files.scan(self.paths.queue)

    def approved(self, day: dt.date, buried_seeds: set) -> review_files.QueuedPost | Unreviewed:
        """The day's approved queued post, or why there is none."""
        if self.error:
            return Unreviewed(day, self.error)
        if day in self.problems:
            return Unreviewed(day, self.problems[day])
        post = self.queued.get(day)
        entry = self.decisions["days"].get(day.isoformat())
        if post is None:
            return Unreviewed(day, "rejected, not queued again" if (entry or {}).get("state") == "rejected"
                              else "not queued")
        if post.seed in buried_seeds:
            return Unreviewed(day, "its approved post was taken down: `make queue` draws another")
        if not entry or entry.get("state") != "approved" or entry.get("seed") != post.seed:
            return Unreviewed(day, "not approved")
        return post

    def title(self, day: dt.date) -> str | None:
        return (self.decisions["days"].get(day.isoformat()) or {}).get("title")


def warning(unreviewed: list[Unreviewed], module: str) -> str:
    """The build's one line about the days it left empty."""
    parts = "; ".join(f"{u.day}: {u.why}" for u in unreviewed)
    return (f"daily post: no post for {parts} (DAILY_POST_REVIEW = True publishes approved posts only): "
            f"review them with `make review` (or `python -m {module}.review`), queue them first with "
            f"`make queue` (or `python -m {module}.review_queue`)")
