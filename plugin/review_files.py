"""The review folder on disk: queued post files, and the lock one review (or queue run) holds.

``<site root>/review/`` (``DAILY_POST_REVIEW_FOLDER``) holds:

- ``queue/YYYY-MM-DD-<slug>.md``: a post drawn for a coming day, written by ``plugin.review_queue``
  with ``plugin.store.render_post``: the very header a published post gets (``Date``, ``Seed``,
  ``Model``, ``Model_Sha256``, ``Gate``, ...), so publishing it is a copy (with the owner's title
  and a slug checked against the site at that moment). The day is the file name's date prefix.
- ``decisions.json``: the owner's decisions (``plugin.review_decisions``).
- ``.review.lock`` and ``.review-session`` (hidden, never committed: the folder's ``.gitignore``, created
  once, lists them): one review session or queue run at a time; the session file holds the open review
  page's URL, for the second one's message.

A queue file edited by hand is welcome as long as it stays a post (a header with ``Title``, ``Date``
of its day, ``Generated: true``, a whole ``Seed``; a blank line; a body): anything else is a
``QueueFileError`` naming the file and what to do, and it is left as it is.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import filelock

from common import post_file
from common.corpus_format import is_generated
from common.errors import UserError
from common.fileio import atomic_create_text

from . import review_decisions

QUEUE_DIR = "queue"
LOCK_NAME = ".review.lock"
SESSION_NAME = ".review-session"
_HEADER = re.compile(r"^([A-Za-z0-9_-]+):[ \t]*(.*)$")
_DAY_PREFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})-")
_MARKDOWN_ESCAPE = re.compile(r"\\(.)")
MAX_QUEUE_FILE = 1 << 20  # a post is a few kB: a bigger file is not one


class QueueFileError(UserError, ValueError):
    """A queue file is not a queued post (one line: which file, what to do)."""


class ReviewBusy(UserError, RuntimeError):
    """Another review session (or queue run) holds the review folder."""


@dataclass(frozen=True)
class ReviewPaths:
    folder: Path

    @property
    def queue(self) -> Path:
        return self.folder / QUEUE_DIR

    @property
    def decisions(self) -> Path:
        return self.folder / review_decisions.NAME

    @property
    def lock(self) -> Path:
        return self.folder / LOCK_NAME

    @property
    def session(self) -> Path:
        return self.folder / SESSION_NAME


def paths(settings) -> ReviewPaths:
    return ReviewPaths(Path(settings.review_folder))


@dataclass(frozen=True)
class QueuedPost:
    """A queued post as its file holds it: header lines in order, and the body's Markdown."""

    path: Path
    day: dt.date
    seed: int
    header: tuple[tuple[str, str], ...]
    body: str  # escaped Markdown, as written (copied as it is when published)

    @property
    def title(self) -> str:
        """The title as plain text (the header holds it escaped)."""
        return html.unescape(dict(self.header)["Title"])

    @property
    def sha256(self) -> str:
        """The hash of the text the owner reads (title and body): what a rejection remembers."""
        return text_sha256(dict(self.header)["Title"], self.body)

    def plain_body(self) -> str:
        """The body as the reader sees it (Markdown escapes and entities undone), for the review page."""
        return html.unescape(_MARKDOWN_ESCAPE.sub(r"\1", self.body))

    def published_text(self, slug: str, title: str | None) -> str:
        """The post file to publish: this header with ``slug`` (and the owner's title), this body."""
        lines = []
        for key, value in self.header:
            if key == "Title" and title:
                value = post_file.meta_value(title)
            elif key == "Slug":
                value = slug
            lines.append(f"{key}: {value}")
        if "Slug" not in dict(self.header):
            lines.append(f"Slug: {slug}")
        return "\n".join(lines) + "\n\n" + self.body


def text_sha256(title: str, body: str) -> str:
    return hashlib.sha256(f"{title}\n\n{body}".encode("utf-8")).hexdigest()


def day_of_name(path: Path) -> dt.date | None:
    match = _DAY_PREFIX.match(path.name)
    try:
        return dt.date.fromisoformat(match.group(1)) if match else None
    except ValueError:
        return None


def parse(text: str, path: Path) -> QueuedPost:
    """``text`` (the file at ``path``) as a queued post, or QueueFileError."""
    def bad(why: str) -> QueueFileError:
        return QueueFileError(f"{path} is not a queued post ({why}): fix it, or delete it and run `make queue` "
                              "to draw that day again")

    day = day_of_name(path)
    if day is None:
        raise bad("its name must start with YYYY-MM-DD-")
    head, sep, body = text.replace("\r\n", "\n").partition("\n\n")
    header = []
    for line in head.split("\n"):
        match = _HEADER.match(line)
        if not match:
            raise bad(f"header line {line[:40]!r} is not 'Key: value'")
        header.append((match.group(1), match.group(2).strip()))
    meta = {key.lower(): value for key, value in header}
    if not sep or not body.strip():
        raise bad("no body after the header's blank line")
    if not meta.get("title"):
        raise bad("no Title")
    if not meta.get("date", "").startswith(day.isoformat()):
        raise bad(f"its Date is not {day.isoformat()}, the day in its name")
    if not is_generated(meta):
        raise bad("no 'Generated: true'")
    if not re.fullmatch(r"[0-9]+", meta.get("seed", "")):
        raise bad("its Seed is not a whole number")
    # keys as the plugin writes them (Title, Slug...), whatever case the hand edit used
    header = [(key[:1].upper() + key[1:], value) for key, value in header]
    return QueuedPost(path=path, day=day, seed=int(meta["seed"]), header=tuple(header), body=body)


def read(path: Path) -> QueuedPost:
    try:
        if path.stat().st_size > MAX_QUEUE_FILE:
            raise QueueFileError(f"{path} is not a queued post (larger than {MAX_QUEUE_FILE} bytes): delete it "
                                 "and run `make queue` to draw that day again")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise QueueFileError(f"{path} is not a queued post (not UTF-8 text): fix it, or delete it and run "
                             "`make queue` to draw that day again") from None
    return parse(text, path)


def scan(queue: Path) -> tuple[dict[dt.date, QueuedPost], dict[dt.date, str]]:
    """The queued posts by day, and one line per day whose file(s) cannot be used."""
    posts: dict[dt.date, QueuedPost] = {}
    problems: dict[dt.date, str] = {}
    if not queue.is_dir():
        return posts, problems
    for path in sorted(queue.glob("*.md")):
        day = day_of_name(path)
        if day is None:
            continue  # not a queue file (a README the owner keeps there...)
        if day in posts or day in problems:
            problems[day] = (f"{queue} holds two posts for {day}: keep one (delete the other), then run the "
                             "command again")
            posts.pop(day, None)
            continue
        try:
            posts[day] = read(path)
        except (QueueFileError, OSError) as err:
            problems[day] = str(err)
    return posts, problems


@contextlib.contextmanager
def review_lock(review: ReviewPaths, what: str = "a review session") -> Iterator[None]:
    """Hold the review folder: one review session or queue run at a time; the second gets ReviewBusy
    at once (with the open session's URL when there is one). The kernel frees it if its holder dies."""
    review.folder.mkdir(parents=True, exist_ok=True)
    atomic_create_text(review.folder / ".gitignore", f"# the review session's own files, never committed\n"
                       f"{LOCK_NAME}\n{SESSION_NAME}\n")  # create-only: an owner's own file stays
    lock = filelock.FileLock(review.lock, fallback_to_soft=False, preserve_lock_file=True)
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        try:
            url = review.session.read_text(encoding="utf-8").strip()
        except OSError:
            url = ""
        where = f" at {url}" if url.startswith("http://127.0.0.1:") else ""
        raise ReviewBusy(f"another review session is open{where} (or `make queue` is running) on {review.folder}: "
                         f"finish it first (its Done button, or Ctrl-C where it runs), then start {what} "
                         "again") from None
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            review.session.unlink()
        lock.release()
