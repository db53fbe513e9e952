"""A post the owner takes down stays down: the record of the posts the plugin wrote, and tombstones.

Without a record, deleting a bad generated post made the next build for that day write the very
same post again (same date, same seed). ``<generated folder>/daily-posts.json`` (``RECORD_NAME``)
records each post the plugin wrote (date, file, slug, seed, model weights hash) and, as
"tombstones", the ones the owner took down:

- deleted: a recorded post whose file is gone (a post is found by its date and seed, so renaming
  its file is not deleting it);
- ``Status: hidden``, ``Status: draft`` (or ``skip``): a generated post marked so, recorded or not.

A day with a tombstone and no published generated post is written again with another seed
(``seed_for``: the day's seed salted with how many tombstones the day has, so every machine draws
the same new post), or, with ``DAILY_POST_DELETED = "skip"``, left empty. Backfill goes through the
same ``daily.publish``, so it respects them too.

The record is kept under version control with the posts (``make daily-commit`` commits it: it is not
a hidden file): it holds the owner's decisions, and a fresh clone or a CI runner must know them, or
it would publish a deleted post again. It is written atomically (``common.fileio``), holding the
folder lock, with sorted keys and entries, so its diffs are one entry a day. Nothing is read as a
deletion without it: a first build, a site upgraded from an older version, or a clone without the
record only starts one (adopting the generated posts on disk), and when the folder holds no
generated post at all while the record lists two or more posts not yet tombstoned, those are taken
for posts kept somewhere else (a clone without them, a moved folder), with a warning, not for
deletions.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.corpus_format import is_generated
from common.errors import UserError
from common.fileio import atomic_write_json

from .dates import seed_for as first_seed

logger = logging.getLogger(__name__)

RECORD_NAME = "daily-posts.json"
VERSION = 1
TAKEN_DOWN = ("hidden", "draft", "skip")  # a generated post with one of these statuses is taken down
MODES = ("redraw", "skip")
ABOUT = ("The machine-written posts this blog's plugin wrote, and the ones their owner took down "
         "(deleted, or Status: hidden/draft): a day with a tombstone gets a new post with another seed, "
         "or none (DAILY_POST_DELETED = \"skip\"). Keep this file with the posts, under version control.")
_MIN_POSTS_FOR_GUARD = 2


class RecordError(UserError, ValueError):
    """The record file cannot be read (one line: what to do)."""


@dataclass(frozen=True)
class PostFile:
    """A generated post in the folder, from its header."""

    path: Path
    day: dt.date
    status: str
    slug: str
    seed: int | None
    weights: str

    def key(self) -> tuple:
        return _key(self.day.isoformat(), self.seed, self.path.name)

    def entry(self) -> dict[str, Any]:
        return {"date": self.day.isoformat(), "file": self.path.name, "slug": self.slug, "seed": self.seed,
                "weights_sha256": self.weights}


def _key(date: str, seed: Any, name: str) -> tuple:
    """A post's identity: its date and seed (a renamed file is the same post), else its file name."""
    return (date, "seed", int(seed)) if isinstance(seed, int) else (date, "file", name)


def _entry_key(entry: dict) -> tuple:
    return _key(str(entry.get("date")), entry.get("seed"), str(entry.get("file")))


def _seed(value: str) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def scan(folder: Path) -> list[PostFile]:
    """Every generated post in ``folder`` (headers only), sorted by file name."""
    if not folder.is_dir():
        return []
    return [post for post in map(post_file, sorted(folder.glob("*.md"))) if post is not None]


def post_file(path: Path) -> PostFile | None:
    """The generated post at ``path`` (from its header); None for any other file."""
    from .store import day_of, read_header

    try:
        meta = read_header(path)
    except OSError as err:
        logger.warning("daily post: cannot read %s (%s); ignoring it", path, err)
        return None
    day = day_of(path, meta)
    if not is_generated(meta) or day is None:
        return None
    return PostFile(path=path, day=day, status=(meta.get("status") or "published").strip().lower(),
                    slug=meta.get("slug", ""), seed=_seed(meta.get("seed", "")),
                    weights=meta.get("model_sha256", ""))


def load(folder: Path) -> dict | None:
    """The record in ``folder``; None when there is none; RecordError when it is not one."""
    path = folder / RECORD_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        raise RecordError(f"cannot read {path} ({err}): fix or restore it (it records the posts you "
                          "deleted, so no post is written until it can be read)") from err
    try:
        record = json.loads(text)
    except json.JSONDecodeError as err:
        raise RecordError(f"{path} is not valid JSON ({err}): fix or restore it (it records the posts "
                          "you deleted, so no post is written until it can be read)") from err
    if (not isinstance(record, dict) or not isinstance(record.get("posts", []), list)
            or not isinstance(record.get("tombstones", []), list)
            or not all(isinstance(e, dict) for e in record.get("posts", []) + record.get("tombstones", []))):
        raise RecordError(f"{path} is not a record of posts (\"posts\" and \"tombstones\" must be lists of "
                          "objects): fix or restore it")
    return record


@dataclass
class Examination:
    """What the folder and its record say: the published posts, the tombstones, new ones to record."""

    folder: Path
    record: dict | None
    files: list[PostFile]
    new_tombstones: list[dict] = field(default_factory=list)
    published: dict[dt.date, Path] = field(default_factory=dict)  # the day's first published post
    warning: str | None = None

    @property
    def tombstones(self) -> list[dict]:
        return list((self.record or {}).get("tombstones", [])) + self.new_tombstones

    def tombstones_for(self, day: dt.date) -> list[dict]:
        return [t for t in self.tombstones if t.get("date") == day.isoformat()]

    def todo(self, days: list[dt.date], mode: str) -> tuple[list[dt.date], list[dt.date]]:
        """(days to write, days left empty because of their tombstones: DAILY_POST_DELETED = "skip")."""
        missing = [day for day in days if day not in self.published]
        if mode != "skip":
            return missing, []
        skipped = [day for day in missing if self.tombstones_for(day)]
        return [day for day in missing if day not in skipped], skipped

    def seed_for(self, day: dt.date, settings) -> tuple[int, int]:
        """(seed, redraw number) for ``day``: the day's own seed without tombstones; else a seed
        salted with the number of tombstones (never one a tombstone of that day holds)."""
        stones = self.tombstones_for(day)
        buried = {t.get("seed") for t in stones}
        number = len(stones)
        seed = first_seed(day, settings) if number == 0 else redraw_seed(day, settings, number)
        while seed in buried:
            number += 1
            seed = redraw_seed(day, settings, number)
        return seed, number


def redraw_seed(day: dt.date, settings, number: int) -> int:
    """The seed of the ``number``-th redraw of ``day`` (31 bits, from the same salt as the first)."""
    digest = hashlib.sha256(f"{settings.seed_salt}\n{day.isoformat()}\nredraw {number}".encode("utf-8"))
    return int(digest.hexdigest()[:8], 16) & 0x7FFFFFFF


def examine(folder: Path, noticed: dt.date | None = None) -> Examination:
    """Read the folder's generated posts and its record (no lock, nothing written)."""
    record = load(folder)
    files = scan(folder)
    found = Examination(folder=folder, record=record, files=files)
    buried = {_entry_key(t) for t in (record or {}).get("tombstones", [])}
    when = (noticed or dt.date.today()).isoformat()

    def bury(entry: dict, reason: str) -> None:
        key = _entry_key(entry)
        if key not in buried:
            buried.add(key)
            found.new_tombstones.append({**entry, "reason": reason, "noticed": when})

    for post in files:
        if post.status in TAKEN_DOWN:
            bury(post.entry(), post.status)
        elif post.day not in found.published:
            found.published[post.day] = post.path
    if record is not None:
        present = {post.key() for post in files}
        posts = [entry for entry in record.get("posts", []) if isinstance(entry, dict)]
        missing = [entry for entry in posts if _entry_key(entry) not in present and _entry_key(entry) not in buried]
        if not files and len(missing) >= _MIN_POSTS_FOR_GUARD:
            found.warning = (f"daily post: none of the {len(missing)} posts {folder / RECORD_NAME} records is in "
                             f"{folder}: taking them for posts kept elsewhere, not for deleted ones (to take "
                             "them all down, mark them Status: hidden instead, or delete the record too)")
        else:
            for entry in missing:
                bury({k: entry.get(k) for k in ("date", "file", "slug", "seed", "weights_sha256")}, "deleted")
    return found


def save(found: Examination, written: list[PostFile] = ()) -> Path:
    """Write the record (hold the folder lock): its tombstones with the new ones, every generated
    post in the folder (adopted: from now on a deleted one is noticed) and ``written``."""
    record = dict(found.record or {})
    posts = {_entry_key(e): e for e in record.get("posts", []) if isinstance(e, dict)}
    for post in [*found.files, *written]:
        posts.setdefault(post.key(), post.entry())
    stones = {_entry_key(t): t for t in record.get("tombstones", [])}
    for stone in found.new_tombstones:
        stones.setdefault(_entry_key(stone), stone)

    def order(entry: dict) -> tuple:
        return (str(entry.get("date")), str(entry.get("file")))

    record.update({"about": ABOUT, "version": VERSION, "posts": sorted(posts.values(), key=order),
                   "tombstones": sorted(stones.values(), key=order)})
    path = atomic_write_json(found.folder / RECORD_NAME, record)
    found.record, found.new_tombstones = record, []
    return path

