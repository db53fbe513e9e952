"""Fixtures for the trainer's tests: a small corpus file and fit settings that run in seconds, and a
tiny GPT-2 overfit on one short text until it recites it (for sampling, the gate and the CLI)."""
from __future__ import annotations

import logging

import pytest

from common.corpus_format import join_documents
from recital import recital, train_recital_run

TITLES = ["Wind from the north-west", "Calibration", "Snow all afternoon", "Oystercatchers", "A year of readings"]


@pytest.fixture
def corpus_file(tmp_path, tiny_texts):
    """A five-post corpus in the corpus format (title, blank line, body; delimiter lines)."""
    documents = [f"{title}\n\n{text}\n\n{text}" for title, text in zip(TITLES, tiny_texts)]
    path = tmp_path / "data" / "corpus.txt"
    path.parent.mkdir()
    path.write_text(join_documents(documents), encoding="utf-8")
    return path


@pytest.fixture
def fit_config(tmp_path, corpus_file, tiny_model_dir):
    """A factory for FitConfig with test-sized defaults: the tiny model, block 32, batch 2, CPU fp32."""
    from trainer.training.fit import FitConfig

    def make(**overrides):
        settings = dict(
            corpus=str(corpus_file), model=str(tiny_model_dir), run=str(tmp_path / "models" / "blog"),
            steps=4, block_size=32, batch_size=2, lr=1e-3, warmup=1, val_fraction=0.2,
            eval_every=2, sample_every=0, save_every=2, keep=2, seed=7, precision="fp32",
            compile="off", device="cpu", progress=False,
        )
        settings.update(overrides)
        return FitConfig(**settings)

    return make


@pytest.fixture(autouse=True)
def _trainer_logs_propagate():
    """The CLI routes trainer logs through tqdm; tests read them with caplog instead."""
    logger = logging.getLogger("trainer")
    saved = (logger.handlers[:], logger.propagate, logger.level)
    logger.handlers[:] = []
    logger.propagate = True
    logger.setLevel(logging.INFO)
    yield
    logger.handlers[:], logger.propagate, logger.level = saved


@pytest.fixture(scope="session")
def recited_text(tiny_texts) -> str:
    """A post in the corpus format (title, blank line, body), about a hundred tokens."""
    return recital(tiny_texts)


@pytest.fixture(scope="session")
def overfit_run(tmp_path_factory, tiny_model_and_tokenizer, recited_text):
    """A run folder (model, tokenizer, train.json, corpus) whose model recites ``recited_text``
    (``tests/recital.py``: a few seconds on a CPU)."""
    base, tokenizer = tiny_model_and_tokenizer
    return train_recital_run(tmp_path_factory.mktemp("overfit-run"), base, tokenizer, recited_text)
