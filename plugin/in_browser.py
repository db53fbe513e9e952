""""Write me a new post" (DAILY_POST_BROWSER): on "About the machine", a reader presses a button and
the blog's own model writes a post in their browser, with nothing sent anywhere.

- ``prepare`` (``all_generators_finalized``): reads the ``trainer export-web`` folder's
  ``web.json`` (JSON only: no torch), refuses an export over DAILY_POST_BROWSER_MAX_MB or missing
  files with one warning (the page then goes without the button), and warns when readers would
  download more than ``PHONE_MB``. What it found is kept in Pelican's settings (``KEY``).
- ``with_box`` (``content_written``): the machine page gets the box, right after its content. It
  says what the button does and how much it downloads; without scripts or WebAssembly that text
  stays, with a link to the machine's published posts. The page's script is a module
  (``static/write/write.js``); the daily post's sampling settings and the text rules of its gate
  travel in ``data-settings``.
- ``copy_files`` (``finalized``): the export and the scripts into ``WRITE_FOLDER`` of the output.
  The model is copied only when it changed (size and time), each file atomically.

Every path in the box is relative to the page, so the site works under any SITEURL; the page
fetches only files of the site (the runtime is vendored by ``trainer export-web``: no CDN).
"""
from __future__ import annotations

import html
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from common.fileio import atomic_write_bytes, current_umask

from .another import root_from
from .settings import WRITE_FOLDER, DailyPostSettings, SettingsError

logger = logging.getLogger(__name__)

KEY = "DAILY_POST_IN_BROWSER"
BOX_CLASS = "tpdne-write"
SCRIPTS = ("write.js", "post.js")
PHONE_MB = 50  # above this, the build warns about what readers download (a 124M model: ~200 MB)
MAX_MANIFEST_BYTES = 1 << 20


@dataclass
class Export:
    folder: Path
    files: list[str]  # paths inside the folder, for copying
    size_mb: float
    settings: dict  # the daily post's sampling settings, for the page


def prepare(settings: DailyPostSettings, has_machine_page: bool) -> Export | None:
    """The export to publish (also kept in ``settings.pelican[KEY]``), or None with one warning."""
    settings.pelican[KEY] = None
    if not settings.browser:
        return None
    if not has_machine_page:
        logger.warning("daily post: DAILY_POST_BROWSER is on, but no page has \"Template: machine\": the "
                       "\"Write me a new post\" box goes on that page (add one, e.g. content/pages/machine.md)")
        return None
    try:
        found = read_export(settings)
    except (SettingsError, OSError, ValueError) as err:
        logger.warning("daily post: no \"Write me a new post\" button: %s", err)
        return None
    if found.size_mb > PHONE_MB:
        logger.warning("daily post: readers who press \"Write me a new post\" download %.0f MB (%s): fine "
                       "on Wi-Fi, heavy on a phone's data plan", found.size_mb, found.folder)
    settings.pelican[KEY] = found
    return found


def read_export(settings: DailyPostSettings) -> Export:
    folder = settings.browser_model_path
    manifest_path = folder / "web.json"
    hint = f"run `trainer export-web {settings.model}` (or set DAILY_POST_BROWSER = False)"
    if not manifest_path.is_file() or manifest_path.stat().st_size > MAX_MANIFEST_BYTES:
        raise SettingsError(f"{manifest_path} is missing: {hint}")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("format") != 1:
            raise ValueError("format")
        runtime = manifest["runtime"]
        files = [str(manifest["files"]["model"]), str(manifest["files"]["vocab"])]
        files += [f"{runtime['folder']}/{name}" for name in runtime["files"]]
    except (AttributeError, KeyError, TypeError, ValueError):
        raise SettingsError(f"{manifest_path} is not an export this plugin reads: {hint}") from None
    for name in files:
        path = folder / name
        if not _inside(path, folder) or not path.is_file() or path.is_symlink():
            raise SettingsError(f"{path} is missing or not a plain file in the export: {hint}")
    size_mb = sum((folder / name).stat().st_size for name in files) / 1e6
    if size_mb > settings.browser_max_mb:
        raise SettingsError(f"the export {folder} is {size_mb:.0f} MB, over DAILY_POST_BROWSER_MAX_MB = "
                            f"{settings.browser_max_mb:g}: readers would wait too long; raise the limit or "
                            "export a smaller model")
    return Export(folder, files + ["web.json"], size_mb, page_settings(settings))


def _inside(path: Path, folder: Path) -> bool:
    """Whether ``path``, links resolved, is inside ``folder`` (an export publishes nothing else)."""
    return path.resolve().is_relative_to(folder.resolve())


def page_settings(settings: DailyPostSettings) -> dict:
    """The daily post's sampling settings (DAILY_POST_SAMPLING over the sampler's defaults), as the
    page reads them; a prefix travels as token ids (the page has no tokenizer for encoding)."""
    from trainer.generation.sampler import SamplingSettings

    from .generate import _build

    values = _build(SamplingSettings, dict(settings.sampling), "DAILY_POST_SAMPLING")
    try:
        values.validate()
    except Exception as err:  # the sampler's one-line message
        raise SettingsError(f"DAILY_POST_SAMPLING: {err}") from None
    data = values.to_dict()
    if values.prefix:
        data["prefix_ids"] = _prefix_ids(settings.model_path, values.prefix)
    data["gate"] = page_gate(settings)
    return data


def page_gate(settings: DailyPostSettings) -> dict:
    """The daily gate's text rules that the page applies too (DAILY_POST_GATE over the defaults, the
    run's calibration for the length and HTML rules): length, repetition, diversity, HTML. The
    model-based rules (fluency, topic, memorisation) need what only Python has."""
    from trainer.generation.calibration import read_calibration
    from trainer.generation.gate import GateSettings

    from .generate import _build

    gate = _build(GateSettings, dict(settings.gate), "DAILY_POST_GATE")
    try:
        gate.validate()
        calibration = read_calibration(settings.model_path)
    except Exception as err:  # the gate's or the calibration's one-line message
        raise SettingsError(f"DAILY_POST_GATE: {err}") from None
    min_words = calibration.min_words(gate.min_words) if calibration is not None else gate.min_words
    html_ok = gate.html == "escape" or (calibration is not None and calibration.html_is_the_blogs_style)
    return {"min_words": min_words, "rep_n": gate.rep_n, "max_repeated": gate.max_repeated,
            "min_distinct": gate.min_distinct, "html": "escape" if html_ok else "reject"}


def _prefix_ids(model_path: Path, prefix: str) -> list[int]:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
    return tokenizer.encode(prefix, add_special_tokens=False).ids


def _found(settings: DailyPostSettings | None) -> Export | None:
    found = settings.pelican.get(KEY) if settings is not None else None
    return found if isinstance(found, Export) else None


def box(page_save_as: str, found: Export, fallback: str) -> str:
    """The box for the page written at ``page_save_as``; ``fallback``: the page of the machine's
    posts that the text without scripts links to ("" for none)."""
    root = root_from(page_save_as)

    def rel(target: str) -> str:
        return html.escape(root + target, quote=True)

    link = (f' Meanwhile, <a href="{rel(fallback)}">read a post the machine has already written</a>.'
            if fallback else "")
    settings = html.escape(json.dumps(found.settings, separators=(",", ":")), quote=True)
    return (
        f'<section class="{BOX_CLASS}" aria-label="Write me a new post" data-settings="{settings}">'
        f'<h2>Write me a new post</h2>'
        f'<p class="{BOX_CLASS}-fallback">Here the blog\'s own model can write a new post in your browser: '
        f'press the button and watch it appear, word by word. Nothing is sent anywhere; the model is a '
        f'{found.size_mb:.0f} MB download. <span class="{BOX_CLASS}-why">It needs JavaScript and WebAssembly, '
        f'which are off or missing in this browser.</span>{link}</p>'
        f'<div class="{BOX_CLASS}-controls" hidden>'
        f'<p>The model is a {found.size_mb:.0f} MB download; it runs in your browser, and nothing is sent anywhere.</p>'
        f'<label>Seed <input class="{BOX_CLASS}-seed" type="text" inputmode="numeric" pattern="[0-9]*" '
        f'size="10" placeholder="random"></label> '
        f'<button type="button" class="{BOX_CLASS}-go">Write me a new post</button> '
        f'<button type="button" class="{BOX_CLASS}-stop" disabled>Stop</button> '
        f'<span class="{BOX_CLASS}-status" role="status" aria-live="polite"></span></div>'
        f'<article class="{BOX_CLASS}-post" hidden><h3 class="{BOX_CLASS}-title"></h3>'
        f'<p class="tpdne-disclosure" role="note">This post does not exist: the blog\'s model writes it in '
        f'your browser, on the spot.</p><div class="{BOX_CLASS}-body"></div></article></section>'
        f'<script type="module" src="{rel(WRITE_FOLDER)}/write.js"></script>')


def with_box(page: str, shown, settings: DailyPostSettings | None, fallback: str) -> str:
    """``page`` (the written "About the machine") with the box right after its content."""
    from .another import add_box

    found = _found(settings)
    if found is None or f'class="{BOX_CLASS}"' in page:
        return page
    return add_box(page, shown.content, box(shown.save_as, found, fallback), marker=BOX_CLASS)


def copy_files(settings: DailyPostSettings, output_path: str | Path) -> list[Path]:
    """The export and the page's scripts into ``WRITE_FOLDER`` of the output; the paths written."""
    found = _found(settings)
    if found is None:
        return []
    target = Path(output_path) / WRITE_FOLDER
    written = []
    for name in found.files:
        written.append(_copy_if_changed(found.folder / name, target / name))
    scripts = resources.files(__package__).joinpath("static", "write")
    for name in SCRIPTS:
        path = target / name
        data = scripts.joinpath(name).read_bytes()
        if not path.is_file() or path.read_bytes() != data:
            atomic_write_bytes(path, data, durable=False)
        written.append(path)
    return written


def _copy_if_changed(source: Path, target: Path) -> Path:
    stat = source.stat()
    if target.is_file():
        old = target.stat()
        if (old.st_size, old.st_mtime_ns) == (stat.st_size, stat.st_mtime_ns):
            return target
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    try:
        shutil.copy2(source, temp)
        os.chmod(temp, 0o666 & ~current_umask())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return target
