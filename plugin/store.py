"""Generated posts on disk: finding them, picking slugs, writing them once, and the lock.

A post "exists for a day" when a Markdown file in the generated folder carries the generated flag
and that day's date (its ``Date`` header, else its ``YYYY-MM-DD-`` file name prefix). Files are
created with ``atomic_create_text``: written whole, never overwritten. An operating-system lock on
``<folder>/.daily-post.lock`` (``filelock.FileLock``: ``flock`` on POSIX, ``LockFileEx`` on Windows)
makes concurrent builds write one post, not two: the others wait for it, then find the post. The
kernel releases it when its holder dies, so a killed build never leaves a lock that blocks the next
one; the file itself stays (an empty ``.daily-post.lock``). A build that hangs holding it (stopped,
stuck on a network file system) is alive, so the kernel keeps its lock: the others wait at most
``DAILY_POST_LOCK_TIMEOUT`` seconds, saying so when they start waiting, then give up with a
``LockTimeout`` (one line: the site builds without a new post, with one warning). A build killed
while it wrote a post leaves its temporary file (``.YYYY-MM-DD-<slug>.md.XXXXXXXX.tmp``: hidden and
not ``.md``, so Pelican never reads it); the next build that takes the lock removes the stale ones.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import time
from pathlib import Path
from typing import Iterator

import filelock

from common import post_file
from common.corpus_format import is_generated
from common.errors import UserError
from common.fileio import atomic_create_text

from .settings import DEFAULTS, DailyPostSettings

logger = logging.getLogger(__name__)

LOCK_NAME = ".daily-post.lock"
# The lock folder_lock takes: the platform's OS-level lock, released by the kernel when its holder
# dies. Never a filelock.SoftFileLock (a marker file a crashed build can leave behind): on a file
# system without flock the build fails with that OSError instead of falling back to one, and the
# lock file stays after release on every platform (Windows would otherwise delete it). The tests swap
# both to run the lock with other implementations (tests/plugin/test_lock.py).
LOCK_CLASS: type[filelock.BaseFileLock] = filelock.FileLock
LOCK_OPTIONS: dict = {"fallback_to_soft": False, "preserve_lock_file": True}
DEFAULT_LOCK_TIMEOUT = float(DEFAULTS["DAILY_POST_LOCK_TIMEOUT"])  # seconds folder_lock waits at most
_META_LINE = re.compile(r"^([A-Za-z0-9_-]+):\s*(.*)$")
_DATE_PREFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})")
# The temporary file atomic_create_text makes for a post: "." + post file name + "." + the 8
# characters tempfile.mkstemp picks + ".tmp". Nothing else in the folder is ever removed.
_POST_TEMP = re.compile(r"^\.\d{4}-\d{2}-\d{2}-[^/]*\.md\.[a-z0-9_]{8}\.tmp$")
STALE_TEMP_S = 300  # a writer that holds the lock finishes in seconds; others get 5 minutes


def read_header(path: Path) -> dict[str, str]:
    """The ``Key: value`` lines at the top of a Markdown file (keys lower-cased)."""
    meta: dict[str, str] = {}
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            match = _META_LINE.match(line.rstrip("\n"))
            if not match:
                break
            meta[match.group(1).lower()] = match.group(2).strip()
    return meta


def day_of(path: Path, meta: dict[str, str]) -> dt.date | None:
    """A post's day: its ``Date`` header's, else its file name's date prefix; None without one."""
    for candidate in (meta.get("date", ""), path.name):
        match = _DATE_PREFIX.match(candidate)
        if match:
            try:
                return dt.date.fromisoformat(match.group(1))
            except ValueError:
                continue
    return None


def posts_by_day(folder: Path) -> dict[dt.date, Path]:
    """Every generated post in ``folder``, keyed by its day (reads only the headers)."""
    found: dict[dt.date, Path] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.md")):
        try:
            meta = read_header(path)
        except OSError as err:
            logger.warning("daily post: cannot read %s (%s); ignoring it", path, err)
            continue
        if not is_generated(meta):
            continue
        day = day_of(path, meta)
        if day is not None:
            found.setdefault(day, path)
    return found


class LockTimeout(UserError, TimeoutError):
    """Another build held the lock for longer than the build would wait (one-line message)."""


@contextlib.contextmanager
def folder_lock(folder: Path, timeout: float = DEFAULT_LOCK_TIMEOUT) -> Iterator[None]:
    """Hold an exclusive lock on the generated folder. While another build holds it: a warning
    naming the lock file when the wait starts, then at most ``timeout`` seconds of waiting, then
    ``LockTimeout``.

    A lock file that cannot be opened for writing (a read-only folder without it, or a lock file of
    another user) raises ``PermissionError`` at once, like every other write to the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    lock = LOCK_CLASS(path, **LOCK_OPTIONS)
    try:
        lock.acquire(timeout=0)  # one try: free, or held by another build
    except filelock.Timeout:
        logger.warning("daily post: another build holds the lock %s (it is writing a post, or it hangs); "
                       "waiting up to %g s for it (DAILY_POST_LOCK_TIMEOUT)", path, timeout)
        try:
            lock.acquire(timeout=timeout)
        except filelock.Timeout:
            raise LockTimeout(
                f"another build has held the lock {path} for more than {timeout:g} s "
                "(DAILY_POST_LOCK_TIMEOUT); if no build is running any more, one hangs: stop it"
            ) from None
    try:
        yield
    finally:
        lock.release()


def remove_stale_temps(folder: Path, older_than_s: float = STALE_TEMP_S) -> list[Path]:
    """Remove the post temporary files that killed builds left in ``folder`` (call it holding
    :func:`folder_lock`). Only files named like ours and untouched for ``older_than_s`` seconds go:
    a writer that does not take the lock may still be writing a younger one."""
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    cutoff = time.time() - older_than_s
    for path in sorted(folder.glob(".*.tmp")):
        if not _POST_TEMP.match(path.name):
            continue
        try:
            if not path.is_file() or path.is_symlink() or path.stat().st_mtime > cutoff:
                continue
            path.unlink()
        except OSError as err:
            logger.warning("daily post: cannot remove the stale temporary file %s: %s", path, err)
            continue
        removed.append(path)
    if removed:
        logger.info("daily post: removed %d temporary file(s) left by killed builds in %s",
                    len(removed), folder)
    return removed


def existing_slugs(settings: DailyPostSettings) -> set[str]:
    """Slugs of every article and page of the site, read the way Pelican reads them."""
    from pelican.contents import Article
    from pelican.readers import Readers

    readers = Readers(settings.pelican)
    content = settings.content_path
    slugs: set[str] = set()
    for rel in settings.article_paths + settings.page_paths:
        base = content / rel
        paths = [base] if base.is_file() else sorted(base.rglob("*")) if base.is_dir() else []
        for path in paths:
            if not path.is_file() or path.suffix.lstrip(".") not in readers.extensions:
                continue
            try:
                item = readers.read_file(str(content), str(path.relative_to(content)), content_class=Article)
            except Exception as err:  # a post Pelican itself will complain about
                logger.debug("daily post: could not read %s for its slug: %s", path, err)
                continue
            if getattr(item, "slug", None):
                slugs.add(item.slug)
    return slugs


SLUG_WORDS = 6  # a slug is the title's first words: short enough to read in an address
SLUG_CHARS = 60
_SLUG_DANGLING = frozenset("a an the and or but of to in on at for with by from".split())


def slugify_title(title: str, settings: DailyPostSettings) -> str:
    """The title's slug (Pelican's ``slugify`` with the site's settings), cut at a word boundary to
    at most ``SLUG_WORDS`` words and ``SLUG_CHARS`` characters, without a dangling "the"/"of"."""
    from pelican.utils import slugify

    slug = slugify(
        title,
        regex_subs=settings.slug_substitutions,
        preserve_case=settings.slug_preserve_case,
        use_unicode=settings.slug_unicode,
    )
    words = [word for word in slug.split("-") if word]
    cut = len(words) > SLUG_WORDS
    words = words[:SLUG_WORDS]
    while len("-".join(words)) > SLUG_CHARS and len(words) > 1:
        words, cut = words[:-1], True
    while cut and len(words) > 1 and words[-1].lower() in _SLUG_DANGLING:
        words.pop()
    return "-".join(words)[:SLUG_CHARS].strip("-")


def unique_slug(title: str, day: dt.date, settings: DailyPostSettings, taken: set[str]) -> str:
    """The title's slug; if taken, with the date appended, then -2, -3, ..."""
    base = slugify_title(title, settings) or "machine-post"
    candidates = [base, f"{base}-{day.isoformat()}"]
    candidates += [f"{base}-{day.isoformat()}-{n}" for n in range(2, 1000)]
    for slug in candidates:
        if slug not in taken:
            return slug
    raise RuntimeError(f"no free slug for {title!r}")  # pragma: no cover


def _compact(figures: dict | None) -> str:
    parts = []
    for key in sorted(figures or {}):
        value = figures[key]
        if value is None or value == "":
            continue
        if isinstance(value, float):
            value = f"{value:.4g}"
        elif isinstance(value, (dict, list, tuple)):
            continue
        parts.append(f"{key}={value}")
    return " ".join(parts)


def render_post(post, day: dt.date, slug: str, settings: DailyPostSettings) -> str:
    """The Markdown file for ``post`` (a trainer.generation.post.Post): metadata header, blank line, body."""
    title = post_file.single_line(post.title) or f"A machine-written post, {day.isoformat()}"
    when = dt.datetime.combine(day, settings.post_time)
    model = post.model or {}
    tags = [post_file.single_line(tag).replace(",", " ") for tag in settings.tags]
    return post_file.render_post({
        "Title": title,
        "Date": when.strftime("%Y-%m-%d %H:%M"),
        "Slug": slug,
        "Category": settings.category,
        "Tags": ", ".join(tag for tag in tags if tag),
        "Author": settings.author,
        "Generated": "true",
        "Model": model.get("name", ""),
        "Model_Sha256": model.get("weights_sha256", ""),
        "Seed": int(post.seed),
        "Sampling": _compact(getattr(post, "settings", None)),
        "Gate": _compact(getattr(post, "gate", None)),
        "Summary": post_file.first_sentence(post.body),
    }, post.body)


def write_post(folder: Path, day: dt.date, slug: str, content: str) -> Path | None:
    """Create ``<folder>/YYYY-MM-DD-<slug>.md``; None when that file already existed."""
    path = folder / f"{day.isoformat()}-{slug}.md"
    # created with the permissions of any file the user creates (umask), so a build running as
    # another user (cron, CI, a web server) can read it
    if not atomic_create_text(path, content):
        return None
    return path
