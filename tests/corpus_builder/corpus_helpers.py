"""Helpers for the corpus builder's tests (imported by conftest.py and the test modules)."""
from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

from common.corpus_format import read_documents
from corpus_builder.build import BuildOptions, build_corpus

TEST_DATA = Path(__file__).parent / "test_data"
# "Now" for the future-date rule, pinned so the tests do not depend on the clock.
NOW = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)


class Site:
    """A temporary site: ``content/`` for posts, ``out/`` for the corpus, cwd set to its root."""

    def __init__(self, root: Path):
        self.root = root
        self.content = root / "content"
        self.content.mkdir()
        self.output = root / "out" / "corpus.txt"

    def post(self, name: str, text: str | bytes) -> Path:
        path = self.content / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    def options(self, **overrides) -> BuildOptions:
        values = {"content_dirs": [str(self.content)], "output": str(self.output), "now": NOW, "workers": 1}
        values.update(overrides)
        return BuildOptions(**values)

    def build(self, **overrides):
        return build_corpus(self.options(**overrides))

    def corpus(self) -> str:
        return self.output.read_text(encoding="utf-8")

    def documents(self) -> list[str]:
        return read_documents(self.output)



def md_post(title: str, body: str, date: str = "2021-01-01 10:00", **meta) -> str:
    """A Markdown post with a Pelican header."""
    lines = [f"Title: {title}", f"Date: {date}"] + [f"{k.capitalize()}: {v}" for k, v in meta.items()]
    return "\n".join(lines) + "\n\n" + textwrap.dedent(body).strip() + "\n"
