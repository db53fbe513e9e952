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

Types are read as meant or refused, never guessed: a boolean setting takes True/False or one of
the words in ``TRUE_WORDS``/``FALSE_WORDS`` (any case; 1 and 0 too), a list setting a list, a tuple
or a comma-separated text; ``None`` is the default. Anything else is a ``SettingsError`` naming the
setting and the type it expects (the plugin then sits the build out, with one warning).

``python -m plugin.settings model-path -s pelicanconf.py`` prints the resolved model folder;
``demo-needed`` exits 0 when the configured model is the demo model and it is missing (the Makefile
uses it to build the demo model only when it has to); ``demo-web-needed`` when DAILY_POST_BROWSER is
on and the demo model has no ``trainer export-web`` folder newer than its weights. None imports torch.
"""
from __future__ import annotations

import datetime as dt
import functools
import math
import os
import re
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
    "DAILY_POST_BEST_OF_URL": "machine/best.html",  # the "Best of the machine" page ("" for none)
    "DAILY_POST_POSTS_INDEX": "machine/posts.json",  # "show me another"'s index ("" turns it off)
    "DAILY_POST_INDEX": "all",  # machine posts on the home page: all | newest | none
    "DAILY_POST_LOCK_TIMEOUT": 600,  # seconds a build waits for another build's lock
    "DAILY_POST_DELETED": "redraw",  # a deleted generated post: redraw | skip
    "DAILY_POST_REVIEW": False,  # True: a build publishes a day's post only once the owner approved it
    "DAILY_POST_REVIEW_FOLDER": "review",  # the queue and decisions.json, relative to the site root
    "DAILY_POST_BROWSER": False,  # True: "About the machine" lets readers write a post in their browser
    "DAILY_POST_BROWSER_MODEL": None,  # the `trainer export-web` folder (None: DAILY_POST_MODEL/web)
    "DAILY_POST_BROWSER_MAX_MB": 300,  # a bigger export is not published (one warning)
}
INDEX_MODES = ("all", "newest", "none")
DELETED_MODES = ("redraw", "skip")
TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")

# Where the ``initialized`` receiver keeps the object in Pelican's settings (None: bad settings).
SETTINGS_KEY = "DAILY_POST_SETTINGS"
SCRIPT_NAME = "another.js"  # the "show me another" script, written beside DAILY_POST_POSTS_INDEX
WRITE_FOLDER = "machine/write"  # DAILY_POST_BROWSER: the model, runtime and scripts, in the output


class SettingsError(UserError, ValueError):
    """A DAILY_POST_* setting has a value the plugin cannot use (one-line message)."""


def apply_defaults(settings: dict) -> dict:
    """Fill in every missing DAILY_POST_* setting in place (templates read them from context), and
    write a boolean given as a word ("false", "off"...) as the boolean it means: a template would
    take any non-empty text for true. A value that is no boolean stays, for ``from_pelican`` to refuse."""
    for key, value in DEFAULTS.items():
        if key not in settings:
            settings[key] = list(value) if isinstance(value, list) else (
                dict(value) if isinstance(value, dict) else value)
        elif isinstance(value, bool) and settings[key] is not None:
            try:
                settings[key] = _boolean(settings[key], key)
            except SettingsError:
                pass
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
    deleted_posts: str  # DAILY_POST_DELETED: what a build does about a deleted post (DELETED_MODES)
    # how a post is sampled
    precision: str
    sampling: Mapping[str, Any]
    gate: Mapping[str, Any]
    candidates: int
    rounds: int
    seed_salt: str  # DAILY_POST_SEED_SALT, else SITENAME
    backfill_days: int
    lock_timeout: float  # DAILY_POST_LOCK_TIMEOUT: seconds to wait for another build's lock
    # the owner's review (plugin/review_*.py)
    review: bool  # DAILY_POST_REVIEW: publish only approved posts, copied from the review queue
    review_folder: Path  # DAILY_POST_REVIEW_FOLDER, resolved against site_root
    review_folder_is_read: bool  # the review folder is inside PATH (Pelican would read it: warned)
    # where the machine page's files go in the output ("" for nowhere)
    machine_plot: str
    machine_report: str
    best_of_url: str  # DAILY_POST_BEST_OF_URL: the "Best of the machine" page
    posts_index: str  # DAILY_POST_POSTS_INDEX: "show me another"'s index; its script goes beside it
    # "Write me a new post" in the reader's browser (plugin/in_browser.py)
    browser: bool  # DAILY_POST_BROWSER
    browser_model_path: Path  # DAILY_POST_BROWSER_MODEL resolved (default: model_path / "web")
    browser_max_mb: float  # DAILY_POST_BROWSER_MAX_MB
    # Pelican's own settings
    zone: ZoneInfo  # TIMEZONE
    article_paths: tuple[str, ...]
    page_paths: tuple[str, ...]
    slug_substitutions: tuple
    slug_preserve_case: bool
    slug_unicode: bool
    # the whole dict, handed only to Pelican's own API (its Readers find the site's slugs)
    pelican: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def posts_script(self) -> str:
        """Where the "show me another" script goes in the output: beside the posts index."""
        folder = self.posts_index.rpartition("/")[0]
        return f"{folder}/{SCRIPT_NAME}" if folder else SCRIPT_NAME

    def own_outputs(self) -> list[tuple[str, str]]:
        """(path in the output, what it is) for the files the plugin itself adds to the site."""
        found = []
        if self.best_of_url:
            found.append((self.best_of_url, 'the plugin\'s "Best of the machine" page (DAILY_POST_BEST_OF_URL)'))
        if self.posts_index:
            found.append((self.posts_index, "the plugin's posts index (DAILY_POST_POSTS_INDEX)"))
            found.append((self.posts_script, "the plugin's \"show me another\" script (beside DAILY_POST_POSTS_INDEX)"))
        if self.browser:
            found.append((f"{WRITE_FOLDER}/write.js", "the plugin's \"Write me a new post\" files (DAILY_POST_BROWSER)"))
        return found

    @classmethod
    def from_pelican(cls, settings: Mapping[str, Any]) -> DailyPostSettings:
        """Read and check the settings once: SettingsError (one line naming the setting)."""
        get = functools.partial(_get, settings)
        salt = get("DAILY_POST_SEED_SALT")
        if salt is None:
            salt = settings.get("SITENAME") or ""
        boolean = functools.partial(_boolean_setting, settings)
        text = functools.partial(_text_setting, settings)
        return cls(
            enabled=boolean("DAILY_POST_ENABLED"),
            strict=boolean("DAILY_POST_STRICT"),
            **_paths(settings),
            category=text("DAILY_POST_CATEGORY"),
            tags=_text_list(_or_default(settings, "DAILY_POST_TAGS"), "DAILY_POST_TAGS", "tags"),
            author=text("DAILY_POST_AUTHOR"),
            post_time=_time_of_day(get("DAILY_POST_TIME")),
            disclosure=_disclosure(_or_default(settings, "DAILY_POST_DISCLOSURE")),
            robots_noindex=boolean("DAILY_POST_ROBOTS_NOINDEX"),
            index=_index_mode(get("DAILY_POST_INDEX")),
            deleted_posts=_choice(_or_default(settings, "DAILY_POST_DELETED"), DELETED_MODES,
                                  "DAILY_POST_DELETED"),
            precision=text("DAILY_POST_PRECISION"),
            sampling=_options(get("DAILY_POST_SAMPLING"), "DAILY_POST_SAMPLING"),
            gate=_options(get("DAILY_POST_GATE"), "DAILY_POST_GATE"),
            candidates=_whole(get("DAILY_POST_CANDIDATES"), "DAILY_POST_CANDIDATES", minimum=1),
            rounds=_whole(get("DAILY_POST_ROUNDS"), "DAILY_POST_ROUNDS", minimum=1),
            seed_salt=str(salt),
            backfill_days=_whole(get("DAILY_POST_BACKFILL_DAYS") or 0, "DAILY_POST_BACKFILL_DAYS"),
            lock_timeout=_seconds(_or_default(settings, "DAILY_POST_LOCK_TIMEOUT"),
                                  "DAILY_POST_LOCK_TIMEOUT"),
            **_review_settings(settings),
            machine_plot=_output_file(get("DAILY_POST_MACHINE_PLOT"), "DAILY_POST_MACHINE_PLOT"),
            machine_report=_output_file(get("DAILY_POST_MACHINE_REPORT"), "DAILY_POST_MACHINE_REPORT"),
            best_of_url=_output_file(get("DAILY_POST_BEST_OF_URL"), "DAILY_POST_BEST_OF_URL"),
            posts_index=_output_file(get("DAILY_POST_POSTS_INDEX"), "DAILY_POST_POSTS_INDEX"),
            **_browser_settings(settings),
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


def strict_requested(settings: Mapping[str, Any]) -> bool:
    """DAILY_POST_STRICT read as ``from_pelican`` reads it, for reporting a bad setting before there
    is a settings object: False when DAILY_POST_STRICT is itself unusable (it is reported then)."""
    try:
        return _boolean_setting(settings, "DAILY_POST_STRICT")
    except SettingsError:
        return False


def _boolean_setting(settings: Mapping[str, Any], key: str) -> bool:
    return _boolean(_or_default(settings, key), key)


def _boolean(value: Any, setting: str) -> bool:
    """True/False, 1/0, or a word of TRUE_WORDS/FALSE_WORDS in any case; anything else is refused
    (``bool("false")`` is True: a text is never judged by being non-empty)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise SettingsError(f"{setting} must be a boolean: True or False (or one of "
                        f"{'/'.join(TRUE_WORDS + FALSE_WORDS)}), got {value!r}")


def _text_list(value: Any, setting: str, what: str) -> tuple[str, ...]:
    """A list or tuple of texts, or one comma-separated text ("a, b"); blanks and repeats dropped."""
    if isinstance(value, str):
        items: Any = value.split(",")
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        raise SettingsError(f"{setting} must be a list of {what} or a comma-separated text, got {value!r}")
    texts: list[str] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise SettingsError(f"{setting} must be a list of {what} (texts), got {value!r}")
        text = str(item).strip()
        if text and text not in texts:
            texts.append(text)
    return tuple(texts)


def _text_setting(settings: Mapping[str, Any], key: str) -> str:
    """A text (a number reads as its digits; None is the default); a list, a dict... is refused."""
    value = _or_default(settings, key)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise SettingsError(f"{key} must be a text, got {value!r}")
    return str(value)


def _output_file(value: Any, setting: str) -> str:
    """A file's path inside the output folder ("machine/best.html"; a leading "/" is dropped, as
    in a URL from the site's root), or nothing (None, False or "")."""
    if value is None or value is False or value == "":
        return ""
    if not isinstance(value, (str, os.PathLike)):
        raise SettingsError(f"{setting} must be a path in the output folder (a text) or None, got {value!r}")
    path = os.fspath(value).lstrip("/")
    if not path or path.endswith("/") or "\0" in path or any(p in ("", ".", "..") for p in path.split("/")):
        raise SettingsError(f"{setting} must be the path of a file inside the output folder, such as "
                            f"\"machine/file.html\" (no \"..\", not a folder), or \"\" for none, got {value!r}")
    return path


def _choice(value: Any, choices: tuple[str, ...], setting: str) -> str:
    if not isinstance(value, str) or value not in choices:
        raise SettingsError(f"{setting} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def _seconds(value: Any, setting: str) -> float:
    """A number of seconds, 0 or more (a number, or a text of one)."""
    seconds = math.nan
    if not isinstance(value, bool) and isinstance(value, (int, float, str)):
        try:
            seconds = float(value)
        except ValueError:
            pass
    if not (math.isfinite(seconds) and seconds >= 0):
        raise SettingsError(f"{setting} must be a number of seconds (0 or more), got {value!r}")
    return seconds


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


def _path_setting(settings: Mapping[str, Any], key: str) -> str:
    """A folder setting: a text or a path (None is the default)."""
    value = _or_default(settings, key)
    if not isinstance(value, (str, os.PathLike)):
        raise SettingsError(f"{key} must be a folder (a text or a Path), got {value!r}")
    return os.fspath(value)


def _paths(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The folders the plugin uses, resolved (see the module docstring)."""
    content = Path(settings.get("PATH") or os.curdir).resolve()
    root = _get(settings, "DAILY_POST_ROOT")
    if root is not None and not isinstance(root, (str, os.PathLike)):
        raise SettingsError(f"DAILY_POST_ROOT must be a folder (a text or a Path) or None, got {root!r}")
    site_root = Path(root).expanduser().resolve() if root else _site_root(content)
    model_setting = _path_setting(settings, "DAILY_POST_MODEL")
    model = Path(model_setting).expanduser()
    model_path = model if model.is_absolute() else site_root / model
    folder = Path(_path_setting(settings, "DAILY_POST_FOLDER")).expanduser()
    generated = folder if folder.is_absolute() else content / folder
    article_paths = tuple(settings.get("ARTICLE_PATHS") or [""])
    return {
        "model": model_setting, "site_root": site_root, "model_path": model_path,
        "is_demo_model": model_path == site_root / DEMO_MODEL, "content_path": content,
        "generated_folder": generated, "folder_is_read": _covered(generated, content, article_paths),
        "article_paths": article_paths, "page_paths": tuple(settings.get("PAGE_PATHS") or []),
    }


def _review_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """DAILY_POST_REVIEW and its folder: relative to the site root (the folder of pelicanconf.py),
    outside PATH, so Pelican never reads the queue (``review_folder_is_read`` says when it would)."""
    site_root = _paths(settings)["site_root"]
    content = Path(settings.get("PATH") or os.curdir).resolve()
    folder = Path(_path_setting(settings, "DAILY_POST_REVIEW_FOLDER")).expanduser()
    folder = (folder if folder.is_absolute() else site_root / folder).resolve()
    inside = folder == content or content in folder.parents
    return {"review": _boolean_setting(settings, "DAILY_POST_REVIEW"), "review_folder": folder,
            "review_folder_is_read": inside}


def _browser_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """DAILY_POST_BROWSER and its export folder (relative to the site root, like DAILY_POST_MODEL)."""
    paths = _paths(settings)
    value = _get(settings, "DAILY_POST_BROWSER_MODEL")
    if value is None or value == "":
        folder = paths["model_path"] / "web"
    elif isinstance(value, (str, os.PathLike)):
        folder = Path(value).expanduser()
        folder = folder if folder.is_absolute() else paths["site_root"] / folder
    else:
        raise SettingsError(f"DAILY_POST_BROWSER_MODEL must be a folder from `trainer export-web` (a text) "
                            f"or None, got {value!r}")
    limit = _or_default(settings, "DAILY_POST_BROWSER_MAX_MB")
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not limit > 0:
        raise SettingsError(f"DAILY_POST_BROWSER_MAX_MB must be a number of megabytes above 0, got {limit!r}")
    return {"browser": _boolean_setting(settings, "DAILY_POST_BROWSER"), "browser_model_path": folder,
            "browser_max_mb": float(limit)}


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


_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?")


def _time_of_day(value: Any) -> dt.time:
    """DAILY_POST_TIME: "HH:MM" (or "H:MM", "HH:MM:SS"), or a datetime.time without a time zone (the
    post's time is in the site's TIMEZONE). Checked here, when the build starts: never after sampling."""
    if isinstance(value, dt.time) and value.tzinfo is None:
        return value
    match = _TIME.fullmatch(value.strip()) if isinstance(value, str) else None
    try:
        if match:
            return dt.time(*(int(part) for part in match.groups() if part is not None))
    except ValueError:
        pass
    raise SettingsError(f"DAILY_POST_TIME={str(value)!r} is not a time of day: use HH:MM")


def _options(values: Any, setting: str) -> Mapping[str, Any]:
    """A dict of sampler options (the sampler checks their names when it is loaded)."""
    if not isinstance(values, dict):
        raise SettingsError(f"{setting} must be a dict of options, got {values!r}")
    return dict(values)


def _whole(value: Any, setting: str, minimum: int = 0) -> int:
    """A whole number, at least ``minimum`` (an int, a whole float, or a text of one; not a bool)."""
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?[0-9]+\s*", value):
        number = int(value)
    if number is None:
        raise SettingsError(f"{setting} must be a whole number, got {value!r}")
    if number < minimum:
        raise SettingsError(f"{setting} must be {minimum} or more, got {value!r}")
    return number


def main(argv: list[str] | None = None) -> int:
    """``python -m plugin.settings {model-path|demo-needed|demo-web-needed} [-s pelicanconf.py]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m plugin.settings", description=main.__doc__)
    parser.add_argument("query", choices=["model-path", "demo-needed", "demo-web-needed"])
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
    if args.query == "demo-web-needed":  # DAILY_POST_BROWSER on, the demo model there, not exported
        weights = settings.model_path / "model.safetensors"
        manifest = settings.browser_model_path / "web.json"
        needed = settings.browser and settings.is_demo_model and weights.is_file() and (
            not manifest.is_file() or manifest.stat().st_mtime < weights.stat().st_mtime)
    print("yes" if needed else "no")
    return 0 if needed else 1


if __name__ == "__main__":
    sys.exit(main())
