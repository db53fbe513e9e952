"""Fixtures for `trainer report`: a made-up corpus, a real (tiny) fit run on it, and its report.

The run fine-tunes the shared untrained tiny GPT-2 (``tiny_model_dir``) for a few steps with
``trainer.training.fit.fit``, so the run folder is exactly what `trainer fit` writes and the tiny model
is its base model. Everything is session-scoped: the suite builds one run and one report.
"""
from __future__ import annotations

import json

import pytest

from common.corpus_format import join_documents

# Made-up posts (a weather-station blog): the sentences are shuffled into ten posts.
SENTENCES = [
    "The rain gauge tipped forty times before breakfast.",
    "I replaced the cracked funnel with one from the hardware shop.",
    "The anemometer cups spun loose in the gale and one landed in the pond.",
    "Pressure fell eleven hectopascals in six hours, which is steep for this coast.",
    "The logger wrote a row every minute, and the spreadsheet groaned.",
    "A robin sat on the radiation shield and ignored my complaints.",
    "Frost formed on the north side of the mast but not the south.",
    "Humidity stayed above ninety percent for three days of grey drizzle.",
    "The solar panel kept the battery topped up even in December.",
    "Snow depth peaked at twenty-one centimetres just after midnight.",
    "The new sensor reads half a degree warmer than the old one.",
    "Calibrating against the kitchen thermometer was a mistake I will not repeat.",
]


def make_posts(count: int = 10) -> list[str]:
    posts = []
    for i in range(count):
        order = SENTENCES[i % len(SENTENCES):] + SENTENCES[:i % len(SENTENCES)]
        body = " ".join(order[:8]) + "\n\n" + " ".join(order[8:])
        posts.append(f"Station notes number {i + 1}\n\n{body}")
    return posts


@pytest.fixture(scope="session")
def report_posts() -> list[str]:
    return make_posts()


@pytest.fixture(scope="session")
def report_corpus(tmp_path_factory, report_posts):
    path = tmp_path_factory.mktemp("report-corpus") / "corpus.txt"
    path.write_text(join_documents(report_posts), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def fit_run(tmp_path_factory, tiny_model_dir, report_corpus):
    """A finished run folder: the tiny model fine-tuned for 12 steps on the report corpus."""
    from trainer.training.fit import FitConfig, fit

    run_dir = tmp_path_factory.mktemp("report-runs") / "blog"
    config = FitConfig(corpus=str(report_corpus), model=str(tiny_model_dir), run=str(run_dir),
                       steps=12, block_size=32, batch_size=4, lr=3e-3, eval_every=4,
                       sample_every=1000, save_every=1000, device="cpu", precision="fp32",
                       compile="off", progress=False)
    result = fit(config)
    assert (run_dir / "train.json").is_file(), result
    return run_dir


REPORT_OPTIONS = dict(samples=3, batch=6, seed=5, length=48)


@pytest.fixture(scope="session")
def report_options() -> dict:
    return dict(REPORT_OPTIONS)


@pytest.fixture(scope="session")
def built_report(fit_run):
    from trainer.evaluation.report import build_report

    return build_report(fit_run, **REPORT_OPTIONS)


@pytest.fixture
def fit_summary(fit_run) -> dict:
    """The fit run's ``train.json``, read independently of ``trainer.runs``."""
    return json.loads((fit_run / "train.json").read_text(encoding="utf-8"))
