"""The site's Pelican settings, as the corpus builder needs them.

When a ``pelicanconf.py`` is given (or found in the current folder) it is read with Pelican's
own ``read_settings``, so ``PATH``, ``ARTICLE_PATHS``, ``PAGE_PATHS``, ``STATIC_PATHS``,
``READERS``, ``MARKDOWN``, ``DOCUTILS_SETTINGS`` and ``TIMEZONE`` mean what they mean to Pelican.
Without one, Pelican's defaults apply.
"""
from __future__ import annotations

import copy
import fnmatch
import logging
import os
import sys
from pathlib import Path

from common.errors import CorpusError

from .files import outside_target

DEFAULT_SETTINGS_FILE = "pelicanconf.py"
_CODEHILITE = "markdown.extensions.codehilite"

log = logging.getLogger(__name__)


def find_settings_file(settings_file: str | os.PathLike | None) -> Path | None:
    """The settings file to use: the one given, else ``./pelicanconf.py`` when it exists."""
    if settings_file is not None:
        path = Path(settings_file)
        if not path.is_file():
            raise CorpusError(f"settings file not found: {path} (give a pelicanconf.py or leave -s out)")
        return path
    default = Path(DEFAULT_SETTINGS_FILE)
    return default if default.is_file() else None


def load_settings(settings_file: str | os.PathLike | None) -> dict:
    """Pelican settings from ``settings_file`` (or Pelican's defaults when None).

    Pelican's own warnings about feeds and SITEURL are irrelevant here and silenced. The site's
    ``THEME`` is never read (nothing is rendered): Pelican's default theme stands in for it, so a
    theme folder that is missing here stops nothing.
    """
    from pelican.settings import DEFAULT_THEME, read_settings

    pelican_log = logging.getLogger("pelican.settings")
    level = pelican_log.level
    pelican_log.setLevel(logging.ERROR)
    dont_write_bytecode = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # no __pycache__ beside the user's settings file
    try:
        settings = read_settings(str(settings_file) if settings_file else None, {"THEME": DEFAULT_THEME})
    except Exception as exc:  # a user's settings file can raise anything
        raise CorpusError(f"cannot read settings file {settings_file}: {' '.join(str(exc).split())}") from None
    finally:
        pelican_log.setLevel(level)
        sys.dont_write_bytecode = dont_write_bytecode
    return corpus_settings(settings)


def corpus_settings(settings: dict) -> dict:
    """A copy of ``settings`` adjusted for reading posts into a corpus.

    - typogrify is off (it would add typographic entities to the text);
    - formatted metadata fields (``Summary``) are not rendered as Markdown: they are not text;
    - docutils never halts on a markup problem (an unknown directive such as ``.. youtube::``
      from a site plugin must not lose the whole post) and writes no error messages into the
      HTML: the text around it is kept;
    - docutils inserts no other file and no raw markup: ``.. include::``, ``.. raw::`` and
      ``.. csv-table::`` with ``:file:`` or ``:url:`` would put any local file (a private key)
      into the corpus; such a directive produces nothing and the rest of the post is read;
    - Markdown code blocks are not syntax-highlighted (``codehilite`` only wraps code in
      ``<span>``s and costs most of the reading time; the text is the same).
    """
    settings = copy.deepcopy(settings)
    settings["TYPOGRIFY"] = False
    settings["FORMATTED_FIELDS"] = []  # Summary etc. are metadata: never rendered, never in the text
    markdown = settings.get("MARKDOWN") or {}
    for key in ("extension_configs", "extensions"):
        value = markdown.get(key)
        if isinstance(value, dict):
            value.pop(_CODEHILITE, None)
        elif isinstance(value, list):
            markdown[key] = [e for e in value if e not in (_CODEHILITE, "codehilite")]
    docutils_settings = dict(settings.get("DOCUTILS_SETTINGS") or {})
    docutils_settings.update({"halt_level": 5, "report_level": 5, "syntax_highlight": "none",
                              "file_insertion_enabled": False, "raw_enabled": False})
    settings["DOCUTILS_SETTINGS"] = docutils_settings
    return settings


def _same_dir(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def list_post_files(root: Path, settings: dict, extensions,
                    follow_symlinks: bool = False) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Article files under ``root`` the way Pelican's ArticlesGenerator finds them, and the linked
    folders left out: ``(files, [(folder, where it leads), ...])``.

    When ``root`` is the site's ``PATH``, only ``ARTICLE_PATHS`` are searched; any other folder
    is searched whole. In both cases ``ARTICLE_EXCLUDES`` (which include ``PAGE_PATHS``),
    ``STATIC_PATHS`` and ``IGNORE_FILES`` are skipped. Symbolic links to folders are followed
    inside ``root``; one that leads out of it is left out unless ``follow_symlinks`` (the files'
    own links are checked when they are read). The files are sorted.
    """
    site_path = Path(settings.get("PATH") or ".")
    paths = list(settings.get("ARTICLE_PATHS") or [""]) if _same_dir(root, site_path) else [""]
    exclude = list(settings.get("ARTICLE_EXCLUDES") or []) + list(settings.get("PAGE_PATHS") or [])
    exclude += list(settings.get("STATIC_PATHS") or [])
    excluded_dirs = {os.path.normpath(os.path.join(root, e)) for e in exclude if e}
    ignores = list(settings.get("IGNORE_FILES") or [])
    extensions = set(extensions)

    files: set[Path] = set()
    outside: list[tuple[Path, str]] = []

    def leaves(folder: str) -> bool:
        target = None if follow_symlinks else outside_target(Path(folder), root)
        if target is not None:
            outside.append((Path(folder), target))
        return target is not None

    for sub in paths:
        start = root / sub if sub else root
        if not start.is_dir() or leaves(str(start)):
            continue
        seen: set[str] = set()
        for dirpath, dirs, names in os.walk(start, followlinks=True):
            real = os.path.realpath(dirpath)
            if real in seen:  # a symlink loop, or the same folder linked twice
                dirs[:] = []
                continue
            seen.add(real)
            dirs[:] = [
                d
                for d in dirs
                if os.path.normpath(os.path.join(dirpath, d)) not in excluded_dirs
                and not d.startswith(".")
                and not any(fnmatch.fnmatch(d, pattern) for pattern in ignores)
                and not leaves(os.path.join(dirpath, d))
            ]
            for name in names:
                if name.startswith(".") or any(fnmatch.fnmatch(name, p) for p in ignores):
                    continue
                if os.path.splitext(name)[1][1:] in extensions:
                    files.add(Path(dirpath) / name)
    return sorted(files), sorted(outside)
