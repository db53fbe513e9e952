"""The owner's decisions about machine-written posts: one file, ``<review folder>/decisions.json``.

It is a plain file of the site's repository (diff-able, committed with the posts), written
atomically (``common.fileio``) with sorted keys and an indent of 2, so each decision is a small diff.
Its shape is a contract (the "Best of the machine" page reads the stars from it)::

    {"version": 1,
     "days": {"YYYY-MM-DD": {"state": "queued" | "approved" | "rejected",
                             "stars": null or 1-5,
                             "title": null or "edited title",
                             "seed": <int>,
                             "rejected": [{"seed": <int>, "sha256": "<hex of the rejected text>"}]}}}

``seed`` is the seed of the day's current post (queued, approved, or the one just rejected);
``rejected`` remembers every text the owner turned down, so no seed of it is offered again.

A file that is not of this shape is never overwritten: ``load`` raises ``DecisionsError`` (one line
naming the file and what to do), and every command that would write it stops before writing.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from common.errors import UserError
from common.fileio import atomic_write_json

NAME = "decisions.json"
VERSION = 1
STATES = ("queued", "approved", "rejected")
STARS = range(1, 6)


class DecisionsError(UserError, ValueError):
    """decisions.json cannot be read or is not of its shape (one line: which file, what to do)."""


def empty() -> dict:
    return {"version": VERSION, "days": {}}


def new_entry(seed: int, state: str = "queued") -> dict:
    return {"state": state, "stars": None, "title": None, "seed": int(seed), "rejected": []}


def load(path: Path) -> dict:
    """The decisions in ``path`` (an empty set when the file does not exist yet)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return empty()
    except (OSError, UnicodeDecodeError) as err:
        raise _broken(path, f"cannot be read: {err}") from err
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise _broken(path, f"is not valid JSON ({err})") from err
    problem = shape_problem(data)
    if problem:
        raise _broken(path, problem)
    return data


def _broken(path: Path, why: str) -> DecisionsError:
    return DecisionsError(f"{path} {why}; it holds your review decisions, so nothing was written to it: fix it "
                          f"by hand or restore it (git checkout -- {path.name}, in its folder), then run the "
                          "command again")


def shape_problem(data: Any) -> str | None:
    """What is wrong with ``data`` as decisions (None: nothing)."""
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("days"), dict):
        return f'is not a decisions file (expected {{"version": {VERSION}, "days": {{...}}}})'
    for day, entry in data["days"].items():
        problem = _entry_problem(day, entry)
        if problem:
            return f"has a bad entry for {day!r}: {problem}"
    return None


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _entry_problem(day: Any, entry: Any) -> str | None:
    try:
        dt.date.fromisoformat(day)
    except (TypeError, ValueError):
        return "the key is not a date (YYYY-MM-DD)"
    if not isinstance(entry, dict):
        return "not an object"
    if entry.get("state") not in STATES:
        return f"state must be one of {', '.join(STATES)}, got {entry.get('state')!r}"
    stars = entry.get("stars")
    if stars is not None and not (_whole(stars) and stars in STARS):
        return f"stars must be null or 1 to 5, got {stars!r}"
    if entry.get("title") is not None and not isinstance(entry.get("title"), str):
        return f"title must be null or a text, got {entry.get('title')!r}"
    if not _whole(entry.get("seed")):
        return f"seed must be a whole number, got {entry.get('seed')!r}"
    rejected = entry.get("rejected", [])
    if not isinstance(rejected, list) or not all(
            isinstance(r, dict) and _whole(r.get("seed")) and isinstance(r.get("sha256"), str) for r in rejected):
        return 'rejected must be a list of {"seed": <int>, "sha256": "<hex>"}'
    return None


def save(path: Path, data: dict) -> Path:
    """Write ``data`` atomically (sorted keys, indent 2); refuses data not of the shape."""
    problem = shape_problem(data)
    if problem:  # a bug, never the owner's file: theirs is checked by load before any change
        raise ValueError(f"refusing to write decisions that {problem}")
    for entry in data["days"].values():
        entry.setdefault("rejected", [])
    return atomic_write_json(path, data)


def rejected_seeds(entry: dict | None) -> set[int]:
    return {r["seed"] for r in (entry or {}).get("rejected", [])}


def rejected_texts(entry: dict | None) -> set[str]:
    return {r["sha256"] for r in (entry or {}).get("rejected", [])}
