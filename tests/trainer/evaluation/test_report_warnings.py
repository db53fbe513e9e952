"""The report's warnings in plain words: overfitting, memorising, small corpus, few steps."""
from __future__ import annotations

import pytest

from trainer.evaluation.comparison import PerplexityComparison
from trainer.evaluation.memorisation_figures import Memorisation
from trainer.evaluation.run_warnings import report_warnings


HEALTHY = {"train_loss": 2.9, "val_loss": 3.1, "best_val_loss": 3.1, "best_step": 1000,
           "steps": 1000, "documents": 300, "tokens_seen": 8_000_000}


def test_a_healthy_run_has_no_warnings():
    assert report_warnings(HEALTHY, None, None, 400_000, 30) == []


@pytest.mark.parametrize("changes, corpus_tokens, held, expected", [
    ({"train_loss": 0.8, "val_loss": 3.4}, 400_000, 30, "Overfitting: the validation loss (3.40) is 2.60 above"),
    ({"best_step": 400, "best_val_loss": 2.9}, 400_000, 30, "lowest at step 400"),
    ({"documents": 12}, 20_000, 2, "Corpus too small: 20,000 tokens in 12 posts"),
    ({"documents": 12}, 400_000, 30, "only 12 posts"),
    ({}, 400_000, 2, "Only 2 held-out post"),
    ({"steps": 50}, 400_000, 30, "Too few steps: 50"),
    ({"tokens_seen": 100_000}, 400_000, 30, "less than one pass over the 400,000-token corpus"),
])
def test_warnings_in_plain_words(changes, corpus_tokens, held, expected):
    warnings = report_warnings({**HEALTHY, **changes}, None, None, corpus_tokens, held)
    assert any(expected in w for w in warnings), warnings


def test_warnings_for_memorising_and_no_better_than_base():
    memo = Memorisation(samples=64, threshold=50, copied=5, share=5 / 64, longest=None,
                            window=8, gate_passed=50)
    comparison = PerplexityComparison(documents=30, tokens=9000, fine_tuned=41.0, base=40.0,
                                          base_model="gpt2", base_note="", change_pct=-2.5,
                                          verdict="")
    warnings = report_warnings(HEALTHY, comparison, memo, 400_000, 30,
                                   recorded=["step 900: training loss 0.90 is below 1.0"])
    assert any("5 of 64 samples copy a run of 50" in w for w in warnings)
    assert any("No better than the base model" in w for w in warnings)
    assert "During training: step 900: training loss 0.90 is below 1.0" in warnings


def test_the_tiny_run_warns_about_its_tiny_corpus_and_few_steps(built_report):
    text = " ".join(built_report.warnings)
    assert "Corpus too small" in text
    assert "Too few steps: 12" in text
