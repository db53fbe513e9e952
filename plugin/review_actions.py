"""What the owner can do in a review, as functions (the review page's server only calls these).

``items`` lists what the review screen shows: every day with a queued post or a decision, and the
machine-written posts already published (they can still get stars). ``decide`` applies one action and
writes ``decisions.json`` at once (atomically), so closing the page at any moment loses nothing:

- ``approve``: the day's queued post will be published on its day (``DAILY_POST_REVIEW = True``).
- ``queue``: back to undecided.
- ``reject``: the text's seed and hash go into the day's ``rejected`` list and its queue file is
  removed; the next ``make queue`` draws the day again with another seed (never a rejected one).
- ``stars`` (1-5, or None to clear) and ``title`` (a new title, or "" for the model's): stars for any
  day but a rejected one, a title only before the post is published (a published post never changes).

Every refusal is a ``ReviewError`` with one line; nothing is written then.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from common import post_file
from common.errors import UserError

from . import review_decisions, review_files, tombstones
from .review_files import QueuedPost

ACTIONS = ("approve", "queue", "reject", "stars", "title")
MAX_TITLE = 200


class ReviewError(UserError, ValueError):
    """An action the review cannot take (one line)."""


@dataclass(frozen=True)
class Item:
    day: dt.date
    state: str  # queued | approved | rejected | published
    stars: int | None
    title: str  # what will be (or was) published
    edited: bool  # the owner's title
    seed: int | None
    body: str  # plain text
    problem: str | None = None  # the queue file cannot be used (one line)

    def as_json(self) -> dict:
        return {"day": self.day.isoformat(), "state": self.state, "stars": self.stars, "title": self.title,
                "edited": self.edited, "seed": self.seed, "problem": self.problem}


@dataclass
class Review:
    """The review folder and the site's published machine posts, read once per action."""

    paths: review_files.ReviewPaths
    decisions: dict
    queued: dict[dt.date, QueuedPost]
    problems: dict[dt.date, str]
    published: dict[dt.date, Path]

    @classmethod
    def read(cls, settings) -> Review:
        paths = review_files.paths(settings)
        decisions = review_decisions.load(paths.decisions)  # DecisionsError: nothing else happens
        queued, problems = review_files.scan(paths.queue)
        published = {post.day: post.path for post in tombstones.scan(settings.generated_folder)
                     if post.status not in tombstones.TAKEN_DOWN}
        return cls(paths, decisions, queued, problems, published)

    def item(self, day: dt.date) -> Item:
        entry = self.decisions["days"].get(day.isoformat())
        if day in self.published:
            return _published_item(day, self.published[day], entry)
        post = self.queued.get(day)
        state = (entry or {}).get("state", "queued")
        edited = (entry or {}).get("title")
        if post is None:
            problem = self.problems.get(day) or ("rejected: `make queue` draws a new post for this day"
                                                 if state == "rejected" else "no queued post: run `make queue`")
            return Item(day, state if state == "rejected" else "missing", None, edited or "", bool(edited),
                        (entry or {}).get("seed"), "", problem)
        return Item(day, state, (entry or {}).get("stars"), edited or post.title, bool(edited), post.seed,
                    post.plain_body())

    def days(self) -> list[dt.date]:
        known = {dt.date.fromisoformat(day) for day in self.decisions["days"]}
        return sorted(known | set(self.queued) | set(self.problems) | set(self.published))


def _published_item(day: dt.date, path: Path, entry: dict | None) -> Item:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
        post = review_files.parse(text, path)
        title, body, seed = post.title, post.plain_body(), post.seed
    except (OSError, review_files.QueueFileError):
        title, body, seed = path.name, "", None
    return Item(day, "published", (entry or {}).get("stars"), title, False, seed, body)


def items(settings) -> list[Item]:
    review = Review.read(settings)
    return [review.item(day) for day in review.days()]


def has_queue(settings) -> bool:
    queue = review_files.paths(settings).queue
    return queue.is_dir() and any(queue.glob("*.md"))


def decide(settings, day: str, action: str, value=None) -> Item:
    """Apply ``action`` to ``day`` (YYYY-MM-DD); returns the day's item as it is now."""
    try:
        when = dt.date.fromisoformat(day)
    except (TypeError, ValueError):
        raise ReviewError(f"{day!r} is not a day (YYYY-MM-DD)") from None
    if action not in ACTIONS:
        raise ReviewError(f"unknown action {action!r} (one of {', '.join(ACTIONS)})")
    review = Review.read(settings)
    days = review.decisions["days"]
    entry = days.get(day)
    post = review.queued.get(when)
    if when in review.published:
        if action != "stars":
            raise ReviewError(f"{day} is already published: a published post never changes (only its stars can)")
        seed = review.item(when).seed
        entry = days.setdefault(day, review_decisions.new_entry(seed or 0, state="approved"))
    elif post is None:
        raise ReviewError(review.problems.get(when) or f"{day} has no queued post: run `make queue`")
    else:
        if entry is None or entry.get("seed") != post.seed:  # first decision, or a hand-replaced file
            entry = days[day] = {**review_decisions.new_entry(post.seed),
                                 "rejected": list((entry or {}).get("rejected", []))}
    _apply(entry, action, value, post)
    review_decisions.save(review.paths.decisions, review.decisions)
    if action == "reject":
        post.path.unlink(missing_ok=True)
        review.queued.pop(when, None)
    return review.item(when)


def _apply(entry: dict, action: str, value, post: QueuedPost | None) -> None:
    if action == "approve":
        entry["state"] = "approved"
    elif action == "queue":
        entry["state"] = "queued"
    elif action == "reject":
        if post.seed not in review_decisions.rejected_seeds(entry):
            entry.setdefault("rejected", []).append({"seed": post.seed, "sha256": post.sha256})
        entry.update(state="rejected", stars=None, title=None)
    elif action == "stars":
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value not in review_decisions.STARS):
            raise ReviewError(f"stars must be 1 to 5 (or none), got {value!r}")
        entry["stars"] = value
    elif action == "title":
        if not isinstance(value, str):
            raise ReviewError(f"a title must be a text, got {value!r}")
        title = post_file.single_line(value)
        if len(title) > MAX_TITLE:
            raise ReviewError(f"a title of at most {MAX_TITLE} characters, please (this one has {len(title)})")
        entry["title"] = title if title and title != post.title else None
