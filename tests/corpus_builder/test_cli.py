"""The `corpus-builder` command: on the real demo blog in content/, exit codes, messages."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from corpus_helpers import md_post

from common.corpus_format import DELIMITER
from common.fileio import sha256_file
from corpus_builder.cli import main

REPO = Path(__file__).resolve().parents[2]
CONTENT = REPO / "content"
METADATA_LINE = re.compile(r"^(Title|Date|Modified|Tags|Category|Slug|Authors?|Summary|Status|Lang|Generated|Model|Seed)\s*:",
                           re.I | re.M)
MARKUP_RESIDUE = re.compile(r"\]\(|\{%|%\}|\{static\}|\{filename\}|^#{1,6} |^```|^\s*[-*+] |</?(p|a|img|div|em|strong)\b",
                            re.M)


def _status(path: Path) -> str | None:
    head = path.read_text(encoding="utf-8").split("\n\n", 1)[0]
    match = re.search(r"^status:\s*(\w+)", head, re.I | re.M)
    return match.group(1).lower() if match else None


def test_cli_on_the_demo_blog(tmp_path, monkeypatch):
    posts = sorted((CONTENT / "posts").glob("*.*"))
    assert len(posts) >= 24, "the demo blog in content/posts/ is the default corpus"
    snapshot = {p: sha256_file(p) for p in CONTENT.rglob("*") if p.is_file()}
    monkeypatch.chdir(REPO)  # the site's pelicanconf.py applies, as with `make corpus`
    out = tmp_path / "corpus.txt"
    result = CliRunner().invoke(main, ["-o", str(out), "-j", "1"])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output

    manifest = json.loads(out.with_suffix(".json").read_text())
    text = out.read_text(encoding="utf-8")
    assert manifest["corpus_sha256"] == sha256_file(out)
    excluded = {Path(e["path"]).name: e["reason"] for e in manifest["excluded"]}
    for post in posts:
        status = _status(post)
        if status in ("draft", "hidden"):
            assert excluded.get(post.name) == status, post.name
    sources = {Path(s["path"]).name for s in manifest["sources"]}
    assert not sources & {name for name, reason in excluded.items()}
    assert not any("/pages/" in s["path"] for s in manifest["sources"])  # pages are not posts

    # Delimiter format: documents separated by a line that is exactly the delimiter.
    documents = text.split("\n" + DELIMITER + "\n")
    assert len(documents) == manifest["documents"]
    for doc in documents:
        title, blank, body = doc.partition("\n\n")
        assert title and "\n" not in title and body.strip()
    assert not METADATA_LINE.search(text)
    assert not MARKUP_RESIDUE.search(text), MARKUP_RESIDUE.search(text)
    assert {p: sha256_file(p) for p in CONTENT.rglob("*") if p.is_file()} == snapshot


def test_missing_folder_is_one_line_and_exit_code_1(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["nowhere", "-o", "out/corpus.txt"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: content folder not found: nowhere (give the folder that holds your posts)"
    ]


def test_bad_file_is_reported_and_the_run_succeeds(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "good.md").write_text(md_post("Good", "Good words here."))
    (tmp_path / "content" / "bad.md").write_bytes(b"Title: Bad\n\n\xff\xfe")
    result = CliRunner().invoke(main, ["content", "-o", "out/corpus.txt"])
    assert result.exit_code == 0
    assert "content/bad.md: not-utf8" in result.output
    assert "excluded (not-utf8 1)" in result.output
    strict = CliRunner().invoke(main, ["content", "-o", "out/strict.txt", "--strict"])
    assert strict.exit_code == 1 and "content/bad.md: not-utf8" in strict.output
    assert not (tmp_path / "out" / "strict.txt").exists()


def test_a_settings_file_whose_theme_folder_is_missing_stops_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "a.md").write_text(md_post("A", "Some text."))
    (tmp_path / "site.py").write_text('PATH = "content"\nTHEME = "themes/not-here"\n')
    result = CliRunner().invoke(main, ["-s", "site.py", "-o", "out/corpus.txt"])
    assert result.exit_code == 0, result.output
    assert "error" not in result.output
    assert (tmp_path / "out" / "corpus.txt").read_text() == "A\n\nSome text.\n"


def test_nothing_usable_exits_non_zero(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "draft.md").write_text(md_post("Draft", "Unpublished.", Status="draft"))
    result = CliRunner().invoke(main, ["content", "-o", "out/corpus.txt"])
    assert result.exit_code == 1 and "nothing usable remains" in result.output
    # what was left out, by reason, in the error line itself (nothing else is printed without -v)
    assert result.output.count("\n") == 1 and "1 texts read, 1 excluded (draft 1; -v lists each file)" in result.output


def test_an_empty_content_folder_says_no_posts_were_found(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "content").mkdir()
    result = CliRunner().invoke(main, ["content", "-o", "out/corpus.txt"])
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert "nothing usable remains: no texts found in content (posts are files ending in " in result.output
    assert ".md" in result.output and ".rst" in result.output and "lines above" not in result.output


def test_the_builder_never_imports_torch_or_transformers(tmp_path):
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "a.md").write_text(md_post("A", "Some text."))
    code = (
        "import sys, runpy\n"
        "sys.argv = ['corpus-builder', 'content', '-o', 'out/corpus.txt']\n"
        "try:\n    runpy.run_module('corpus_builder.cli', run_name='__main__')\n"
        "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "heavy = sorted(m for m in ('torch', 'transformers') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "corpus.txt").read_text() == "A\n\nSome text.\n"


def test_help_lists_the_options():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for option in ("--output", "--no-titles", "--keep-code", "--keep-markdown", "--include-drafts", "--csv",
                   "--jsonl", "--drop-regex", "--dedupe", "--min-words", "--shuffled-copies", "--tokenizer",
                   "--strict"):
        assert option in result.output
