"""Held-out perplexity of the fine-tuned and the base model, checked against an independent evaluation."""
from __future__ import annotations

import math

import pytest

from trainer.evaluation.comparison import (compare_perplexity, default_base, held_out_posts,
                                           perplexity_verdict)


def test_held_out_posts_are_the_ones_fit_held_out(fit_summary, report_posts):
    from trainer.training.data import held_out_split

    held = held_out_posts(fit_summary)
    _train, val = held_out_split(report_posts, fit_summary["val_fraction"])
    assert held.documents == [report_posts[i] for i in val]
    assert len(held.documents) == fit_summary["val_documents"] >= 1
    assert held.note == ""


def test_held_out_perplexities_match_an_independent_evaluation(fit_summary, fit_run, tiny_model_dir, built_report):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from trainer.evaluation.perplexity import perplexity

    documents = held_out_posts(fit_summary).documents
    figures = {}
    for name, folder in (("tuned", fit_run), ("base", tiny_model_dir)):
        model = AutoModelForCausalLM.from_pretrained(folder)
        tokenizer = AutoTokenizer.from_pretrained(folder)
        figures[name] = perplexity(model, tokenizer, documents, fit_summary["block_size"]).perplexity
    p = built_report.perplexity
    assert p.base_model == fit_summary["base_model"]
    assert p.fine_tuned == pytest.approx(figures["tuned"], rel=1e-4)
    assert p.base == pytest.approx(figures["base"], rel=1e-4)
    # 12 steps at a high learning rate take the untrained model far below its base.
    assert p.fine_tuned < p.base
    change = (figures["base"] - figures["tuned"]) / figures["base"] * 100
    assert p.change_pct == pytest.approx(change, rel=1e-3)
    assert f"better than the base model by {change:.1f} %" in p.verdict


def test_verdict_in_words():
    change, text = perplexity_verdict(30.0, 40.0)
    assert change == pytest.approx(25.0)
    assert text.startswith("better than the base model by 25.0 %")
    change, text = perplexity_verdict(41.0, 40.0)
    assert change == pytest.approx(-2.5)
    assert "no better than the base model" in text and "train longer" in text
    change, text = perplexity_verdict(41.0, None, "trained from scratch: no base")
    assert change is None and "trained from scratch" in text


def test_from_scratch_runs_have_no_base():
    base, note = default_base({"from_scratch": True, "base_model": "scratch:tiny"})
    assert base is None and "from scratch" in note
    assert default_base({"from_scratch": False, "base_model": "/m/gpt2"}) == ("/m/gpt2", "")


def test_a_base_model_that_cannot_load_is_reported_not_fatal(fit_summary, fit_run, tmp_path):
    from trainer.model_loading import load_model

    model, tokenizer = load_model(str(fit_run))
    held = held_out_posts(fit_summary)
    result = compare_perplexity(model, tokenizer, held, 32, base_ref=str(tmp_path / "missing"))
    assert result.base is None and result.change_pct is None
    assert "could not be loaded" in result.base_note and "could not be loaded" in result.verdict
    assert math.isfinite(result.fine_tuned)
