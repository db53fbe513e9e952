"""The plugin's settings: every ``DAILY_POST_*`` name, its default, and where paths resolve.

Relative ``DAILY_POST_MODEL`` paths resolve against the site root: ``DAILY_POST_ROOT`` when set,
else the folder that holds the content folder (``PATH``), which in a pelican-quickstart layout is
the folder of ``pelicanconf.py``. A relative ``DAILY_POST_FOLDER`` resolves against ``PATH``.

``python -m plugin.settings model-path -s pelicanconf.py`` prints the resolved model folder;
``demo-needed`` exits 0 when the configured model is the demo model and it is missing (the Makefile
uses it to build the demo model only when it has to). Neither imports torch.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from common.errors import UserError

DEMO_MODEL = "models/demo"

DEFAULTS: dict[str, Any] = {
    "DAILY_POST_ENABLED": True,
    "DAILY_POST_MODEL": DEMO_MODEL,
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
}


class SettingsError(UserError, ValueError):
    """A DAILY_POST_* setting has a value the plugin cannot use (one-line message)."""


def apply_defaults(settings: dict) -> dict:
    """Fill in every missing DAILY_POST_* setting in place (templates read them from context)."""
    for key, value in DEFAULTS.items():
        if key not in settings:
            settings[key] = list(value) if isinstance(value, list) else (
                dict(value) if isinstance(value, dict) else value)
    return settings


def get(settings: dict, key: str) -> Any:
    return settings.get(key, DEFAULTS[key])


def site_root(settings: dict) -> Path:
    root = get(settings, "DAILY_POST_ROOT")
    if root:
        return Path(root).expanduser().resolve()
    return Path(settings.get("PATH") or os.curdir).resolve().parent


def model_path(settings: dict) -> Path:
    path = Path(str(get(settings, "DAILY_POST_MODEL"))).expanduser()
    return path if path.is_absolute() else site_root(settings) / path


def generated_folder(settings: dict) -> Path:
    folder = Path(str(get(settings, "DAILY_POST_FOLDER"))).expanduser()
    if folder.is_absolute():
        return folder
    return Path(settings.get("PATH") or os.curdir).resolve() / folder


def is_demo_model(settings: dict) -> bool:
    return model_path(settings) == site_root(settings) / DEMO_MODEL


def folder_is_read(settings: dict) -> bool:
    """True when Pelican's ARTICLE_PATHS cover the generated folder (else posts stay unread)."""
    content = Path(settings.get("PATH") or os.curdir).resolve()
    try:
        rel = generated_folder(settings).resolve().relative_to(content)
    except ValueError:
        return False
    rel_parts = rel.parts
    for article_path in settings.get("ARTICLE_PATHS") or [""]:
        parts = Path(article_path).parts if article_path not in ("", ".") else ()
        if rel_parts[: len(parts)] == parts:
            return True
    return False


def _read(conf: str) -> dict:
    """Read a Pelican settings file for a CLI (Pelican's own warnings about feeds and SITEURL are
    about building, not about what the CLIs do: they are left out)."""
    import logging

    from pelican.settings import read_settings

    logging.getLogger("pelican.settings").setLevel(logging.ERROR)
    if not os.path.isfile(conf):
        raise SettingsError(f"settings file not found: {conf} (pass -s path/to/pelicanconf.py)")
    return apply_defaults(read_settings(conf))


def main(argv: list[str] | None = None) -> int:
    """``python -m plugin.settings {model-path|demo-needed} [-s pelicanconf.py]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m plugin.settings", description=main.__doc__)
    parser.add_argument("query", choices=["model-path", "demo-needed"])
    parser.add_argument("-s", "--settings", default="pelicanconf.py")
    args = parser.parse_args(argv)
    try:
        settings = _read(args.settings)
    except SettingsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    path = model_path(settings)
    if args.query == "model-path":
        print(path)
        return 0
    needed = is_demo_model(settings) and not (path / "config.json").is_file()
    print("yes" if needed else "no")
    return 0 if needed else 1


if __name__ == "__main__":
    sys.exit(main())
