"""Regression tests for hostile inputs found by the reliability attacks (docs: issue 7).

Each case once killed or stalled a whole ``corpus-builder`` run: a date that overflows when
turned into UTC, a file name that is not UTF-8, a YAML alias bomb in front matter; and the corpus
and its manifest must only ever be replaced as a pair.
"""
from __future__ import annotations

import json
import logging
import os

import pytest
from corpus_helpers import md_post

from common import fileio
from common.errors import CorpusError
from common.fileio import atomic_write_files, sha256_file


def excluded(result) -> dict:
    return {e["path"]: (e["reason"], e["detail"]) for e in result.manifest["excluded"]}


# --------------------------------------------------------------------------- dates
@pytest.mark.parametrize("timezone, date", [("Asia/Tokyo", "0001-01-01 00:00"),
                                            ("America/New_York", "9999-12-31 23:59")])
def test_a_date_that_overflows_in_utc_is_broken_metadata_not_a_crash(site, timezone, date):
    (site.root / "pelicanconf.py").write_text(f"TIMEZONE = {timezone!r}\n")
    site.post("edge.md", md_post("Edge", "At the end of the calendar.", date=date))
    site.post("kept.md", md_post("Kept", "An ordinary post."))
    result = site.build(settings_file=str(site.root / "pelicanconf.py"))
    assert site.documents() == ["Kept\n\nAn ordinary post."]
    reason, detail = excluded(result)["content/edge.md"]
    assert reason == "broken-metadata" and "out of range" in detail


# --------------------------------------------------------------------------- YAML aliases
def yaml_bomb(levels: int, key: str) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, levels):
        lines.append(f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]")
    extra = "" if key == "title" else "title: Bomb\n"
    return "---\n" + "\n".join(lines) + f"\n{key}: *l{levels - 1}\n{extra}date: 2021-01-01\n---\n\nA body.\n"


@pytest.mark.parametrize("key", ["title", "tags", "summary"])
def test_yaml_aliases_in_front_matter_are_refused(site, key):
    # 5 levels (59,049 strings) keeps this test quick even without the fix; 9 levels took 100 s.
    site.post("bomb.md", yaml_bomb(5, key))
    site.post("kept.md", md_post("Kept", "An ordinary post."))
    result = site.build()
    assert site.documents() == ["Kept\n\nAn ordinary post."]
    reason, detail = excluded(result)["content/bomb.md"]
    assert reason == "broken-metadata" and "alias" in detail and "line 3" in detail  # the first "*l0"


def test_a_full_size_yaml_bomb_is_refused(site):
    site.post("bomb.md", yaml_bomb(9, "tags"))
    site.post("kept.md", md_post("Kept", "An ordinary post."))
    result = site.build()
    assert excluded(result)["content/bomb.md"][0] == "broken-metadata"


def test_front_matter_with_stars_and_unused_anchors_is_still_read(site):
    # A '*' inside a value is text, and an anchor nobody refers to is harmless.
    site.post("y.md", "---\ntitle: Stars *and* more\ntags: &t [a, b]\ndate: 2021-01-01\n---\nBody.\n")
    site.build()
    assert site.documents() == ["Stars *and* more\n\nBody."]


# --------------------------------------------------------------------------- file names
LATIN1_NAME = b"latin1-\xe9t\xe9.md"  # "été" written by an old Latin-1 system


def test_a_file_name_that_is_not_utf8_is_kept_and_named_losslessly(site, caplog):
    kept = site.post(os.fsdecode(LATIN1_NAME), md_post("Summer", "Written long ago."))
    site.post(os.fsdecode(b"draft-\xff.md"), md_post("Draft", "Not yet.", Status="draft"))
    site.post(os.fsdecode(b"bad-\xfe.md"), b"Title: Bad\n\n\xff\xfe not text\n")
    with caplog.at_level(logging.INFO, logger="corpus_builder"):
        result = site.build()
    assert site.documents() == ["Summer\n\nWritten long ago."]

    raw = site.output.with_suffix(".json").read_bytes()
    raw.decode("utf-8")  # the manifest is valid UTF-8
    manifest = json.loads(raw)
    assert manifest["corpus_sha256"] == sha256_file(site.output)
    [source] = manifest["sources"]
    assert os.fsencode(source["path"]) == b"content/" + LATIN1_NAME  # the exact bytes come back
    assert source["sha256"] == sha256_file(kept)
    assert {os.fsencode(e["path"]): e["reason"] for e in manifest["excluded"]} == {
        b"content/draft-\xff.md": "draft", b"content/bad-\xfe.md": "not-utf8"}
    assert manifest == json.loads(json.dumps(result.manifest))
    assert any("bad-" in r.getMessage() and "not-utf8" in r.getMessage() for r in caplog.records)


def test_a_title_taken_from_a_file_name_that_is_not_utf8_becomes_valid_text(site):
    (site.root / "pelicanconf.py").write_text("FILENAME_METADATA = r'(?P<title>[^.]+)'\n")
    site.post(os.fsdecode(LATIN1_NAME), "Date: 2021-01-01\n\nNo title line.\n")
    site.build(settings_file=str(site.root / "pelicanconf.py"))
    assert site.documents() == ["latin1-\ufffdt\ufffd\n\nNo title line."]


def test_the_cli_prints_a_name_that_is_not_utf8_without_a_traceback(site):
    import subprocess
    import sys
    from pathlib import Path

    site.post(os.fsdecode(b"bad-\xfe.md"), b"Title: Bad\n\n\xff not text\n")
    site.post("kept.md", md_post("Kept", "An ordinary post."))
    repo = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(repo))
    done = subprocess.run([sys.executable, "-m", "corpus_builder.cli", "content", "-o", "out/corpus.txt"],
                          cwd=site.root, env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert b"Traceback" not in done.stderr
    assert b"bad-" in done.stderr and b"not-utf8" in done.stderr
    assert site.documents() == ["Kept\n\nAn ordinary post."]


# --------------------------------------------------------------------------- the pair write
def old_pair(site) -> tuple[bytes, bytes]:
    site.post("a.md", md_post("Alpha", "The first build."))
    site.build()
    return site.output.read_bytes(), site.output.with_suffix(".json").read_bytes()


def test_a_failed_write_leaves_the_previous_corpus_and_manifest_as_they_were(site, monkeypatch):
    before = old_pair(site)
    site.post("b.md", md_post("Beta", "The second build."))
    real_mkstemp = fileio.tempfile.mkstemp
    calls = []

    def mkstemp_then_disk_full(*args, **kwargs):
        calls.append(kwargs.get("prefix"))
        if len(calls) == 2:  # the second temporary file: the manifest's is already written
            raise OSError(28, "No space left on device")
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(fileio.tempfile, "mkstemp", mkstemp_then_disk_full)
    with pytest.raises(CorpusError, match="No space left on device"):
        site.build()
    assert (site.output.read_bytes(), site.output.with_suffix(".json").read_bytes()) == before
    assert sorted(p.name for p in site.output.parent.iterdir()) == ["corpus.json", "corpus.txt"]  # no temps


def test_the_corpus_is_never_newer_than_its_manifest(site, monkeypatch):
    # Dying between the two renames may leave a new manifest beside the old corpus (its hash then
    # tells them apart), never a new corpus beside an old manifest.
    before = old_pair(site)
    site.post("b.md", md_post("Beta", "The second build."))
    real_replace = fileio.os.replace
    replaced = []

    def replace_then_die(src, dst):
        replaced.append(os.path.basename(dst))
        if len(replaced) == 2:
            raise KeyboardInterrupt  # the process is killed between the renames
        return real_replace(src, dst)

    monkeypatch.setattr(fileio.os, "replace", replace_then_die)
    with pytest.raises(KeyboardInterrupt):
        site.build()
    assert replaced == ["corpus.json", "corpus.txt"]
    assert site.output.read_bytes() == before[0]
    manifest = json.loads(site.output.with_suffix(".json").read_text(encoding="utf-8"))
    assert manifest["posts"] == 2 and manifest["corpus_sha256"] != sha256_file(site.output)


def test_atomic_write_files_writes_every_file_or_none(tmp_path, monkeypatch):
    a, b = tmp_path / "a.txt", tmp_path / "sub" / "b.txt"
    atomic_write_files([(a, b"old a"), (b, b"old b")])
    real_fsync = fileio.os.fsync
    calls = []

    def fsync_fails_the_second_time(fd):
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(5, "Input/output error")
        return real_fsync(fd)

    monkeypatch.setattr(fileio.os, "fsync", fsync_fails_the_second_time)
    with pytest.raises(OSError):
        atomic_write_files([(a, b"new a"), (b, b"new b")])
    assert (a.read_bytes(), b.read_bytes()) == (b"old a", b"old b")
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["a.txt", "b.txt"]


def test_an_output_that_is_a_folder_is_one_clear_error(site):
    site.post("a.md", md_post("Alpha", "Text."))
    site.output.mkdir(parents=True)
    with pytest.raises(CorpusError, match="is a folder"):
        site.build()


# --------------------------------------------------------------------------- control characters
def test_terminal_escapes_and_control_characters_never_reach_the_corpus(site):
    body = "Pasted from a terminal: \x1b[31mred\x1b[0m and a bell\x07.\n\nA start-of-heading\x01 and a form\x0cfeed.\tTab kept."
    site.post("c.md", f"Title: Ctrl \x1b[2Jtitle\x7f\nDate: 2021-01-01\n\n{body}\n")
    site.build()
    assert site.documents() == ["Ctrl title\n\nPasted from a terminal: red and a bell.\n\n"
                                "A start-of-heading and a form feed. Tab kept."]
