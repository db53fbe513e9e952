"""Temporary files left by builds killed while writing a post (issue 7, reliability): Pelican never
reads them, and the next build that writes a post (under the folder lock) removes the stale ones,
only ours (named like atomic_create_text's temporaries) and only when untouched for minutes."""
from __future__ import annotations

import os
import tempfile
import time

from plugin_site import STUB_TITLE, build, site_settings

from plugin import store

LEFTOVER = ("Title: Half written by a killed build\nDate: 2026-03-14 06:00\nSlug: half-written\n"
            "Category: Machine\nGenerated: true\n\nThis text must never be published.\n")


def _leftover(folder, name: str, age_s: float) -> str:
    """A temporary file named by mkstemp the way atomic_create_text names it, ``age_s`` old."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(LEFTOVER)
    then = time.time() - age_s
    os.utime(tmp, (then, then))
    return os.path.basename(tmp)


def test_only_our_stale_temporaries_are_removed(tmp_path):
    old = _leftover(tmp_path, "2026-03-14-wind.md", age_s=3600)
    young = _leftover(tmp_path, "2026-03-15-rain.md", age_s=5)  # a writer may still be at it
    others = [".notes.txt.tmp", ".2026-03-14-x.md.short.tmp", ".corpus.txt.abcd1234.tmp",
              "2026-03-13-kept.md", store.LOCK_NAME]
    for name in others:
        (tmp_path / name).write_text("not ours to remove\n", encoding="utf-8")
        os.utime(tmp_path / name, (0, 0))
    assert store.remove_stale_temps(tmp_path) == [tmp_path / old]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(others + [young])
    assert store.remove_stale_temps(tmp_path / "missing") == []


def test_next_build_removes_stale_temporaries_and_never_publishes_them(site, stub_sampler, fixed_day):
    folder = site / "content" / "generated"
    stale = _leftover(folder, f"{fixed_day}-half-written.md", age_s=3600)
    young = _leftover(folder, f"{fixed_day}-half-written.md", age_s=0)
    assert store.posts_by_day(folder) == {}  # a temporary file is not the day's post

    build(site_settings(site))

    assert not (folder / stale).exists() and (folder / young).exists()
    [post] = sorted(folder.glob("*.md"))
    assert post.name == f"{fixed_day}-wind-over-the-harbour.md"
    assert STUB_TITLE in post.read_text(encoding="utf-8")
    built = [p for p in (site / "output").rglob("*") if p.is_file()]
    assert not [p for p in built if "half-written" in p.name or p.name.endswith(".tmp")]
    assert not [p for p in built if b"never be published" in p.read_bytes()
                or b"Half written" in p.read_bytes()]

