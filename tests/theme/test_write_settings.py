"""Issue 16, items 3 and 4, without a browser: DAILY_POST_BROWSER is off unless the site turns it on;
on, "About the machine" gets the box with the daily post's sampling settings and the site gets the
export; an export over DAILY_POST_BROWSER_MAX_MB is refused with one line, a missing one names the
command that makes it, and one a phone would struggle with is published with a warning.

The exports here are fakes of the right shape (web.json and files of the right sizes): the plugin
reads only those; tests/theme/test_write_browser.py runs a real one."""
from __future__ import annotations

import html
import json
import logging
import re

import pytest
from theme_build import build_site, model_folder

from plugin.settings import DailyPostSettings, SettingsError


def fake_export(folder, model_mb: float = 1.0):
    folder.mkdir(parents=True)
    with open(folder / "model.onnx", "wb") as handle:
        handle.truncate(int(model_mb * 1e6))  # sparse: the size is what the plugin reads
    (folder / "vocab.json").write_text('{"tokens": []}', encoding="utf-8")
    (folder / "runtime").mkdir()
    for name in ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"):
        (folder / "runtime" / name).write_bytes(b"runtime")
    manifest = {"format": 1, "files": {"model": "model.onnx", "vocab": "vocab.json"},
                "runtime": {"folder": "runtime", "files": ["ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs",
                                                             "ort-wasm-simd-threaded.wasm"]},
                "cache": {"layers": 2, "kv_heads": 2, "head_dim": 32}, "eos_id": 0, "max_positions": 128}
    (folder / "web.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def build(demo_content, tmp_path, **settings):
    model = model_folder(tmp_path / "models" / "blog")
    return build_site(demo_content, tmp_path / "output", DAILY_POST_MODEL=str(model), **settings)


def box_of(output) -> str | None:
    page = (output / "pages" / "machine.html").read_text(encoding="utf-8")
    found = re.search(r'<section class="tpdne-write".*?</section><script[^>]*></script>', page, re.DOTALL)
    return found.group(0) if found else None


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and "daily post" in r.getMessage()]


def test_it_is_off_by_default(demo_content, tmp_path):
    settings = DailyPostSettings.from_pelican({"PATH": str(tmp_path)})
    assert settings.browser is False
    fake_export(tmp_path / "models" / "blog" / "web")
    output = build(demo_content, tmp_path, DAILY_POST_BROWSER=None)  # None: the default
    assert box_of(output) is None and not (output / "machine" / "write").exists()


def test_on_the_machine_page_gets_the_box_and_the_site_the_export(demo_content, tmp_path, caplog):
    fake_export(tmp_path / "models" / "blog" / "web")
    output = build(demo_content, tmp_path, DAILY_POST_BROWSER=True,
                   DAILY_POST_SAMPLING={"temperature": 0.7, "max_new_tokens": 250})
    box = box_of(output)
    assert box is not None
    settings = json.loads(html.unescape(re.search(r'data-settings="([^"]*)"', box).group(1)))
    assert settings == {"max_new_tokens": 250, "temperature": 0.7, "top_k": 40, "top_p": 0.95,
                        "repetition_penalty": 1.1, "prefix": "",  # the daily post's, defaults filled in
                        "gate": {"min_words": 80, "rep_n": 4, "max_repeated": 0.2, "min_distinct": 0.5,
                                 "html": "reject"}}  # its gate's text rules
    assert '<script type="module" src="../machine/write/write.js"></script>' in box
    assert "a 1 MB download" in box
    written = output / "machine" / "write"
    for name in ("web.json", "model.onnx", "vocab.json", "write.js", "post.js", "runtime/ort.wasm.min.mjs"):
        assert (written / name).is_file(), name
    assert (written / "model.onnx").stat().st_size == 1_000_000
    assert warnings_of(caplog) == []


def test_an_export_over_the_limit_is_refused_with_one_line(demo_content, tmp_path, caplog):
    fake_export(tmp_path / "models" / "blog" / "web", model_mb=12)
    output = build(demo_content, tmp_path, DAILY_POST_BROWSER=True, DAILY_POST_BROWSER_MAX_MB=10)
    assert box_of(output) is None and not (output / "machine" / "write").exists()
    [warning] = warnings_of(caplog)
    assert "12 MB, over DAILY_POST_BROWSER_MAX_MB = 10" in warning


def test_a_missing_export_names_the_command_that_makes_it(demo_content, tmp_path, caplog):
    output = build(demo_content, tmp_path, DAILY_POST_BROWSER=True)
    assert box_of(output) is None
    [warning] = warnings_of(caplog)
    assert "web.json is missing" in warning and "trainer export-web" in warning


def test_a_download_too_big_for_a_phone_is_published_with_a_warning(demo_content, tmp_path, caplog):
    fake_export(tmp_path / "elsewhere" / "web", model_mb=60)
    output = build(demo_content, tmp_path, DAILY_POST_BROWSER=True,
                   DAILY_POST_BROWSER_MODEL=str(tmp_path / "elsewhere" / "web"))
    assert box_of(output) is not None and "a 60 MB download" in box_of(output)
    [warning] = warnings_of(caplog)
    assert "download 60 MB" in warning and "phone" in warning


@pytest.mark.parametrize("name, value, message", [
    ("DAILY_POST_BROWSER", "maybe", "DAILY_POST_BROWSER must be a boolean"),
    ("DAILY_POST_BROWSER_MAX_MB", "big", "DAILY_POST_BROWSER_MAX_MB must be a number of megabytes above 0"),
    ("DAILY_POST_BROWSER_MAX_MB", 0, "DAILY_POST_BROWSER_MAX_MB must be a number of megabytes above 0"),
    ("DAILY_POST_BROWSER_MODEL", 3, "DAILY_POST_BROWSER_MODEL must be a folder"),
])
def test_bad_values_are_refused_by_name(tmp_path, name, value, message):
    with pytest.raises(SettingsError, match=message):
        DailyPostSettings.from_pelican({"PATH": str(tmp_path), name: value})


def test_a_site_without_the_machine_page_hears_where_the_box_goes(demo_content, tmp_path, caplog):
    import shutil

    content = tmp_path / "content"
    shutil.copytree(demo_content, content)
    (content / "pages" / "machine.md").unlink()
    fake_export(tmp_path / "models" / "blog" / "web")
    output = build(content, tmp_path, DAILY_POST_BROWSER=True)
    assert not (output / "machine" / "write").exists()
    [warning] = warnings_of(caplog)
    assert "DAILY_POST_BROWSER is on, but no page has \"Template: machine\"" in warning


@pytest.mark.parametrize("damage", ["not json", "a list", "no runtime", "outside", "linked out"])
def test_a_damaged_export_is_one_warning_and_publishes_nothing(demo_content, tmp_path, caplog, damage):
    folder = fake_export(tmp_path / "models" / "blog" / "web")
    manifest = json.loads((folder / "web.json").read_text(encoding="utf-8"))
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the site", encoding="utf-8")
    if damage == "not json":
        (folder / "web.json").write_text("{", encoding="utf-8")
    elif damage == "a list":
        (folder / "web.json").write_text("[]", encoding="utf-8")
    elif damage == "no runtime":
        del manifest["runtime"]
    elif damage == "outside":
        manifest["files"]["vocab"] = "../../../secret.txt"
    else:
        (folder / "vocab.json").unlink()
        (folder / "vocab.json").symlink_to(secret)
    if damage in ("no runtime", "outside"):
        (folder / "web.json").write_text(json.dumps(manifest), encoding="utf-8")
    output = build(demo_content, tmp_path, DAILY_POST_BROWSER=True)
    assert box_of(output) is None and not (output / "machine" / "write").exists()
    [warning] = warnings_of(caplog)
    assert warning.startswith("daily post: no \"Write me a new post\" button: ") and str(folder) in warning
