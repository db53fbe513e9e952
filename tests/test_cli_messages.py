"""What a user reads when a trainer command finds no model: it names options that command has."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from trainer.cli import main


@pytest.fixture
def blog_folder(tmp_path, monkeypatch, tiny_texts):
    """A blog folder after `make corpus` and before any `trainer fit`: data/corpus.txt, no models/blog."""
    from common.corpus_format import join_documents

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "corpus.txt").write_text(
        join_documents([f"Post {i}\n\n{text}" for i, text in enumerate(tiny_texts)]), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # models/blog may read as a hub id: fail fast
    return tmp_path


@pytest.mark.parametrize("models_folder", [True, False], ids=["models-folder", "no-models-folder"])
def test_eval_without_a_model_says_to_pass_one_not_to_train_from_scratch(blog_folder, models_folder):
    if models_folder:
        (blog_folder / "models").mkdir()
    result = CliRunner().invoke(main, ["eval"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and "models/blog" in result.stderr
    assert "--model PATH" in result.stderr and "trainer fit" in result.stderr
    assert "--from-scratch" not in result.stderr  # a trainer fit option: eval has none
    assert "Traceback" not in result.output and result.stderr.count("\n") == 1
