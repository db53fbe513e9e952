"""corpus-builder names a corpus too small to learn from (stderr), unless --quiet."""
from __future__ import annotations

from click.testing import CliRunner


def test_corpus_builder_warns_on_five_posts(tmp_path):
    from corpus_builder.cli import main

    content = tmp_path / "content"
    content.mkdir()
    for i in range(5):
        (content / f"post-{i}.md").write_text(f"Title: Post {i}\nDate: 2024-01-0{i + 1}\n\n"
                                              "The gauge read four millimetres at dawn.\n")
    result = CliRunner().invoke(main, [str(content), "-o", str(tmp_path / "corpus.txt")])
    assert result.exit_code == 0, result.output
    assert "warning: the corpus is too small to learn from (5 posts, 45 words" in result.output
    quiet = CliRunner().invoke(main, [str(content), "-o", str(tmp_path / "corpus.txt"), "-q"])
    assert "too small" not in quiet.output
