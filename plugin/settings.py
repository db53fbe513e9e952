"""The plugin's settings: every ``DAILY_POST_*`` name and default, read once into a frozen object.

``DailyPostSettings.from_pelican(settings)`` reads and checks every ``DAILY_POST_*`` setting and
the Pelican settings the plugin uses, once (the ``initialized`` receiver does it; a bad value is a
``SettingsError`` with one line naming the setting). Every other module of the plugin gets that
object, never the raw settings dict; ``apply_defaults`` only fills the dict in for the templates.

Relative ``DAILY_POST_MODEL`` paths resolve against the site root: ``DAILY_POST_ROOT`` when set,
else the nearest folder, from the content folder (``PATH``) up, that holds a ``pelicanconf.py`` or
``publishconf.py`` (where `corpus-builder` and `trainer fit` were run, so ``PATH = "."`` and
``PATH = "src/content"`` work too), else the folder that holds ``PATH``. A relative
``DAILY_POST_FOLDER`` resolves against ``PATH``.

``python -m plugin.settings model-path -s pelicanconf.py`` prints the resolved model folder;
``demo-needed`` exits 0 when the configured model is the demo model and it is missing (the Makefile
uses it to build the demo model only when it has to). Neither imports torch.
"""
from __future__ import annotations

import datetime as dt
import functools
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from common.errors import UserError

DEMO_MODEL = "models/demo"
SETTINGS_FILES = ("pelicanconf.py", "publishconf.py")

DEFAULTS: dict[str, Any] = {
    "DAILY_POST_ENABLED": True,
    "DAILY_POST_MODEL": "models/blog",  # the run `trainer fit` writes by default
    "DAILY_POST_ROOT": None,
    "DAILY_POST_FOLDER": "generated",
    "DAILY_POST_CATEGORY": "Machine",
    "DAILY_POST_TAGS": ["generated"],
    "DAILY_POST_AUTHOR": "The Machine",
    "DAILY_POST_TIME": "06:00",
    "DAILY_POST_PRECISION": "auto",
    "DAILY_POST_SAMPLING": {},
    "DAILY_POST_CANDIDATES": 4,
    "DAILY_POST_ROUNDS": 3,
    "DAILY_POST_GATE": {},
    "DAILY_POST_STRICT": False,
    "DAILY_POST_BACKFILL_DAYS": 0,
    "DAILY_POST_SEED_SALT": None,
    "DAILY_POST_DISCLOSURE": "This post does not exist: a machine wrote it on {date}.",
    "DAILY_POST_ROBOTS_NOINDEX": True,
    "DAILY_POST_MACHINE_PLOT": "machine/loss.png",
    "DAILY_POST_MACHINE_REPORT": "machine/report.html",
    "DAILY_POST_INDEX": "all",  # machine posts on the home page: all | newest | none
}
INDEX_MODES = ("all", "newest", "none")

# Where the ``initialized`` receiver keeps the object in Pelican's settings (None: bad settings).
SETTINGS_KEY = "DAILY_POST_SETTINGS"


class SettingsError(UserError, ValueError):
    """A DAILY_POST_* setting has a value the plugin cannot use (one-line message)."""


def apply_defaults(settings: dict) -> dict:
    """Fill in every missing DAILY_POST_* setting in place (templates read them from context)."""
    for key, value in DEFAULTS.items():
        if key not in settings:
            settings[key] = list(value) if isinstance(value, list) else (
                dict(value) if isinstance(value, dict) else value)
    return settings


@dataclass(frozen=True)
class DailyPostSettings:
    """Every DAILY_POST_* setting, typed and checked, and the Pelican settings the plugin reads."""

    enabled: bool
    strict: bool
    # where things are
    model: str  # DAILY_POST_MODEL as written (the machine page shows it)
    site_root: Path
    model_path: Path
    is_demo_model: bool
    content_path: Path  # Pelican's PATH
    generated_folder: Path
    folder_is_read: bool  # Pelican's ARTICLE_PATHS cover generated_folder
    # what a post says
    category: str
    tags: tuple[str, ...]
    author: str
    post_time: dt.time
    disclosure: str  # the notice every generated post starts with ({date}: the post's date)
    robots_noindex: bool  # generated posts' pages get <meta name="robots" content="noindex">
    index: str  # DAILY_POST_INDEX: which machine posts the home page lists (INDEX_MODES)
    # how a post is sampled
    precision: str
    sampling: Mapping[str, Any]
    gate: Mapping[str, Any]
    candidates: int
    rounds: int
    seed_salt: str  # DAILY_POST_SEED_SALT, else SITENAME
    backfill_days: int
    # where the machine page's files go in the output ("" for nowhere)
    machine_plot: str
    machine_report: str
    # Pelican's own settings
    zone: ZoneInfo  # TIMEZONE
    article_paths: tuple[str, ...]
    page_paths: tuple[str, ...]
    slug_substitutions: tuple
    slug_preserve_case: bool
    slug_unicode: bool
    # the whole dict, handed only to Pelican's own API (its Readers find the site's slugs)
    pelican: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_pelican(cls, settings: Mapping[str, Any]) -> DailyPostSettings:
        """Read and check the settings once: SettingsError (one line naming the setting)."""
        get = functools.partial(_get, settings)
        salt = get("DAILY_POST_SEED_SALT")
        if salt is None:
            salt = settings.get("SITENAME") or ""
        return cls(
            enabled=bool(get("DAILY_POST_ENABLED")),
            strict=bool(get("DAILY_POST_STRICT")),
            **_paths(settings),
            category=str(get("DAILY_POST_CATEGORY")),
            tags=_tags(get("DAILY_POST_TAGS")),
            author=str(get("DAILY_POST_AUTHOR")),
            post_time=_time_of_day(get("DAILY_POST_TIME")),
            disclosure=_disclosure(_or_default(settings, "DAILY_POST_DISCLOSURE")),
            robots_noindex=bool(_or_default(settings, "DAILY_POST_ROBOTS_NOINDEX")),
            index=_index_mode(get("DAILY_POST_INDEX")),
            precision=str(get("DAILY_POST_PRECISION")),
            sampling=_options(get("DAILY_POST_SAMPLING"), "DAILY_POST_SAMPLING"),
            gate=_options(get("DAILY_POST_GATE"), "DAILY_POST_GATE"),
            candidates=_whole(get("DAILY_POST_CANDIDATES"), "DAILY_POST_CANDIDATES"),
            rounds=_whole(get("DAILY_POST_ROUNDS"), "DAILY_POST_ROUNDS"),
            seed_salt=str(salt),
            backfill_days=_whole(get("DAILY_POST_BACKFILL_DAYS") or 0, "DAILY_POST_BACKFILL_DAYS"),
            machine_plot=str(get("DAILY_POST_MACHINE_PLOT") or ""),
            machine_report=str(get("DAILY_POST_MACHINE_REPORT") or ""),
            zone=_zone(settings.get("TIMEZONE") or "UTC"),
            **_slug_settings(settings),
            pelican=settings,
        )

    @classmethod
    def from_file(cls, conf: str) -> DailyPostSettings:
        """Read a Pelican settings file, for a CLI (Pelican's own warnings about feeds and SITEURL
        are about building, not about what the CLIs do: they are left out)."""
        import logging

        from pelican.settings import read_settings

        logging.getLogger("pelican.settings").setLevel(logging.ERROR)
        if not os.path.isfile(conf):
            raise SettingsError(f"settings file not found: {conf} (pass -s path/to/pelicanconf.py)")
        return cls.from_pelican(read_settings(conf))


def _get(settings: Mapping[str, Any], key: str) -> Any:
    return settings.get(key, DEFAULTS[key])


def _or_default(settings: Mapping[str, Any], key: str) -> Any:
    """The setting, its default when it is unset or None."""
    value = settings.get(key)
    return DEFAULTS[key] if value is None else value


def _disclosure(value: Any) -> str:
    """DAILY_POST_DISCLOSURE: a text ("" gives the default: a generated post always says so)."""
    if value == "":
        return DEFAULTS["DAILY_POST_DISCLOSURE"]
    if not isinstance(value, str):
        raise SettingsError(f"DAILY_POST_DISCLOSURE must be a text, got {value!r}")
    return value


def _index_mode(value) -> str:
    if value not in INDEX_MODES:
        raise SettingsError(f"DAILY_POST_INDEX must be one of {', '.join(map(repr, INDEX_MODES))}, got {value!r}")
    return value


def _paths(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The folders the plugin uses, resolved (see the module docstring)."""
    content = Path(settings.get("PATH") or os.curdir).resolve()
    root = _get(settings, "DAILY_POST_ROOT")
    site_root = Path(root).expanduser().resolve() if root else _site_root(content)
    model = Path(str(_get(settings, "DAILY_POST_MODEL"))).expanduser()
    model_path = model if model.is_absolute() else site_root / model
    folder = Path(str(_get(settings, "DAILY_POST_FOLDER"))).expanduser()
    generated = folder if folder.is_absolute() else content / folder
    article_paths = tuple(settings.get("ARTICLE_PATHS") or [""])
    return {
        "model": str(_get(settings, "DAILY_POST_MODEL")), "site_root": site_root, "model_path": model_path,
        "is_demo_model": model_path == site_root / DEMO_MODEL, "content_path": content,
        "generated_folder": generated, "folder_is_read": _covered(generated, content, article_paths),
        "article_paths": article_paths, "page_paths": tuple(settings.get("PAGE_PATHS") or []),
    }


def _site_root(content: Path) -> Path:
    """The folder of the site's settings file, searched from ``content`` up; else its parent."""
    for folder in (content, *content.parents):
        if any((folder / name).is_file() for name in SETTINGS_FILES):
            return folder
    return content.parent


def _covered(folder: Path, content: Path, article_paths: tuple[str, ...]) -> bool:
    """True when the ARTICLE_PATHS cover ``folder`` (else Pelican never reads its posts)."""
    try:
        rel_parts = folder.resolve().relative_to(content).parts
    except ValueError:
        return False
    for article_path in article_paths:
        parts = Path(article_path).parts if article_path not in ("", ".") else ()
        if rel_parts[: len(parts)] == parts:
            return True
    return False


def _slug_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """What Pelican's slugify reads, with Pelican's own defaults."""
    from pelican.settings import DEFAULT_CONFIG

    values = {**DEFAULT_CONFIG, **settings}
    return {"slug_substitutions": tuple(values.get("SLUG_REGEX_SUBSTITUTIONS") or []),
            "slug_preserve_case": bool(values.get("SLUGIFY_PRESERVE_CASE")),
            "slug_unicode": bool(values.get("SLUGIFY_USE_UNICODE"))}


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise SettingsError(f"TIMEZONE {name!r} is not a known time zone (e.g. 'Europe/Stockholm')") from err


def _time_of_day(value: Any) -> dt.time:
    try:
        return dt.time.fromisoformat(str(value))
    except ValueError as err:
        raise SettingsError(f"DAILY_POST_TIME={str(value)!r} is not a time of day: use HH:MM") from err


def _options(values: Any, setting: str) -> Mapping[str, Any]:
    """A dict of sampler options (the sampler checks their names when it is loaded)."""
    if not isinstance(values, dict):
        raise SettingsError(f"{setting} must be a dict of options, got {values!r}")
    return dict(values)


def _whole(value: Any, setting: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as err:
        raise SettingsError(f"{setting} must be a whole number, got {value!r}") from err


def _tags(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise SettingsError(f"DAILY_POST_TAGS must be a list of tags, got {value!r}")
    return tuple(str(tag) for tag in value)


def main(argv: list[str] | None = None) -> int:
    """``python -m plugin.settings {model-path|demo-needed} [-s pelicanconf.py]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m plugin.settings", description=main.__doc__)
    parser.add_argument("query", choices=["model-path", "demo-needed"])
    parser.add_argument("-s", "--settings", default="pelicanconf.py")
    args = parser.parse_args(argv)
    try:
        settings = DailyPostSettings.from_file(args.settings)
    except SettingsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.query == "model-path":
        print(settings.model_path)
        return 0
    needed = settings.is_demo_model and not (settings.model_path / "config.json").is_file()
    print("yes" if needed else "no")
    return 0 if needed else 1


if __name__ == "__main__":
    sys.exit(main())
