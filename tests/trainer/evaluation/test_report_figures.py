"""Each figure of `trainer report`, checked against an independent computation on a real tiny run."""
from __future__ import annotations

import json
import math

import pytest

from trainer.evaluation import report as rep


def summary_of(run_dir):
    return json.loads((run_dir / "train.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- 1. training
def test_training_figures_come_from_train_json(fit_run, built_report):
    summary = summary_of(fit_run)
    training = built_report.training
    assert training["steps"] == summary["steps"] == 12
    assert training["tokens_seen"] == summary["tokens_seen"] > 0
    assert training["device"] == summary["device"]
    assert training["tokens_per_s"] == pytest.approx(summary["tokens_seen"] / summary["time_s"])
    rates = sorted(r["tok_s"] for r in rep.read_metrics(fit_run) if "tok_s" in r)
    assert len(rates) == 12
    assert training["step_tokens_per_s"] == pytest.approx((rates[5] + rates[6]) / 2)


def test_loss_plot_is_a_png_drawn_from_the_metrics(fit_run, built_report):
    png = built_report.loss_png
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # Without metrics.jsonl the report falls back to the run's loss.png.
    assert rep.loss_plot_png(fit_run, records=[]) == (fit_run / "loss.png").read_bytes()


# --------------------------------------------------------------------------- 2. perplexity
def test_held_out_posts_are_the_ones_fit_held_out(fit_run, report_posts):
    from trainer.training.data import held_out_split

    summary = summary_of(fit_run)
    held = rep.held_out_posts(summary)
    _train, val = held_out_split(report_posts, summary["val_fraction"])
    assert held.documents == [report_posts[i] for i in val]
    assert len(held.documents) == summary["val_documents"] >= 1
    assert held.note == ""


def test_held_out_perplexities_match_an_independent_evaluation(fit_run, tiny_model_dir, built_report):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from trainer.evaluation.perplexity import perplexity

    summary = summary_of(fit_run)
    documents = rep.held_out_posts(summary).documents
    figures = {}
    for name, folder in (("tuned", fit_run), ("base", tiny_model_dir)):
        model = AutoModelForCausalLM.from_pretrained(folder)
        tokenizer = AutoTokenizer.from_pretrained(folder)
        figures[name] = perplexity(model, tokenizer, documents, summary["block_size"]).perplexity
    p = built_report.perplexity
    assert p.base_model == summary["base_model"]
    assert p.fine_tuned == pytest.approx(figures["tuned"], rel=1e-4)
    assert p.base == pytest.approx(figures["base"], rel=1e-4)
    # 12 steps at a high learning rate take the untrained model far below its base.
    assert p.fine_tuned < p.base
    change = (figures["base"] - figures["tuned"]) / figures["base"] * 100
    assert p.change_pct == pytest.approx(change, rel=1e-3)
    assert f"better than the base model by {change:.1f} %" in p.verdict


def test_verdict_in_words():
    change, text = rep.perplexity_verdict(30.0, 40.0)
    assert change == pytest.approx(25.0)
    assert text.startswith("better than the base model by 25.0 %")
    change, text = rep.perplexity_verdict(41.0, 40.0)
    assert change == pytest.approx(-2.5)
    assert "no better than the base model" in text and "train longer" in text
    change, text = rep.perplexity_verdict(41.0, None, "trained from scratch: no base")
    assert change is None and "trained from scratch" in text


def test_from_scratch_runs_have_no_base():
    base, note = rep.default_base({"from_scratch": True, "base_model": "scratch:tiny"})
    assert base is None and "from scratch" in note
    assert rep.default_base({"from_scratch": False, "base_model": "/m/gpt2"}) == ("/m/gpt2", "")


def test_a_base_model_that_cannot_load_is_reported_not_fatal(fit_run, tmp_path):
    from trainer.model_loading import load_model

    model, tokenizer = load_model(str(fit_run))
    held = rep.held_out_posts(summary_of(fit_run))
    result = rep.compare_perplexity(model, tokenizer, held, 32, base_ref=str(tmp_path / "missing"))
    assert result.base is None and result.change_pct is None
    assert "could not be loaded" in result.base_note and "could not be loaded" in result.verdict
    assert math.isfinite(result.fine_tuned)


# --------------------------------------------------------------------------- 3. samples
def test_gallery_holds_the_first_samples_with_their_gate_verdicts(fit_run, built_report,
                                                                   report_options):
    from trainer.generation.sampler import Sampler, SamplingSettings

    gallery = built_report.gallery
    assert len(gallery) == report_options["samples"]
    assert built_report.memorisation.samples == report_options["batch"]
    rules = ["length", "repetition", "diversity", "memorised", "html"]
    for sample in gallery:
        assert [line.split(":")[0] for line in sample.verdicts] == rules
        assert sample.passed == (not sample.rejected_by)
    # The gallery is reproducible: the same seed (and batch) gives the same texts.
    sampler = Sampler.load(fit_run, precision=built_report.options["precision"])
    settings = SamplingSettings(max_new_tokens=report_options["length"])
    again = sampler.generate(report_options["seed"], settings, report_options["batch"])
    assert [c.text for c in again[:len(gallery)]] == [s.text for s in gallery]


def test_span_finder_finds_the_longest_copied_run_and_its_post(tiny_model_and_tokenizer, report_posts):
    _model, tokenizer = tiny_model_and_tokenizer
    finder = rep.SpanFinder(report_posts, tokenizer, window=8)
    source = report_posts[3]
    ids = tokenizer.encode(source, add_special_tokens=False)
    copied = tokenizer.decode(ids[20:80])
    span = finder.longest("Zzq qzz vvx. " + copied + " Qqq zzx vvv.", sample=2)
    assert span is not None and span.sample == 2
    assert span.tokens >= 58  # the copied 60 tokens, give or take a re-tokenised edge
    assert span.text.strip() in source
    assert report_posts[span.source].find(span.text.strip()) >= 0
    assert span.source_title == report_posts[span.source].split("\n")[0]
    assert finder.longest("Zzq qzz vvx qqz zzv xqz vvz.") is None
    assert finder.corpus_tokens == sum(len(tokenizer.encode(p, add_special_tokens=False))
                                       for p in report_posts)


def fake_sample(index, text, rejected_by=()):
    return rep.Sample(index=index, seed=index, title="t", body=text, text=text, tokens=0,
                      stop="eos", passed=not rejected_by, rejected_by=list(rejected_by),
                      verdicts=[], figures={})


def test_memorisation_share_and_rejections(tiny_model_and_tokenizer, report_posts):
    _model, tokenizer = tiny_model_and_tokenizer
    finder = rep.SpanFinder(report_posts, tokenizer, window=8)
    samples = [fake_sample(0, report_posts[1]),  # a whole post: copied
               fake_sample(1, "Zzq qzz vvx qqz zzv xqz vvz.", ["length"]),
               fake_sample(2, report_posts[2][:60], ["length"]),  # a short copy: below 50 tokens
               fake_sample(3, "Qqz vvx zzq xxv.", ["length", "diversity"])]
    m = rep.memorisation_figures(samples, finder, threshold=50)
    assert m.copied == 1 and m.share == pytest.approx(0.25)
    assert m.longest.sample == 0 and m.longest.tokens == len(
        tokenizer.encode(report_posts[1], add_special_tokens=False))
    assert m.gate_passed == 1
    assert m.rejections == {"length": 3, "diversity": 1}


def test_diversity_figures():
    d = rep.diversity(["a b a b a b", "one two three four"], rep_n=2)
    # "a b a b a b": 2 distinct of 6 words, 2 distinct of 5 bigrams, 3 of 5 bigrams repeat.
    assert d.distinct1 == pytest.approx((2 / 6 + 1) / 2)
    assert d.distinct2 == pytest.approx((2 / 5 + 1) / 2)
    assert d.rep == pytest.approx((3 / 5 + 0) / 2)
    assert d.words == pytest.approx(5)
    cut = rep.diversity(["one two three four a a a a"], rep_n=2, max_words=4)
    assert cut.words == 4 and cut.distinct1 == 1.0


def test_report_diversity_compares_samples_with_the_real_posts(built_report, report_posts):
    cut = built_report.options["words_compared"]
    expected = rep.diversity(report_posts, 4, max_words=cut)
    assert built_report.diversity_posts == expected
    texts = [s.text for s in built_report.gallery]
    assert built_report.diversity_samples.texts >= len([t for t in texts if t.strip()])


# --------------------------------------------------------------------------- 4. warnings
HEALTHY = {"train_loss": 2.9, "val_loss": 3.1, "best_val_loss": 3.1, "best_step": 1000,
           "steps": 1000, "documents": 300, "tokens_seen": 8_000_000}


def test_a_healthy_run_has_no_warnings():
    assert rep.report_warnings(HEALTHY, None, None, 400_000, 30) == []


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
    warnings = rep.report_warnings({**HEALTHY, **changes}, None, None, corpus_tokens, held)
    assert any(expected in w for w in warnings), warnings


def test_warnings_for_memorising_and_no_better_than_base():
    memo = rep.Memorisation(samples=64, threshold=50, copied=5, share=5 / 64, longest=None,
                            window=8, gate_passed=50)
    comparison = rep.PerplexityComparison(documents=30, tokens=9000, fine_tuned=41.0, base=40.0,
                                          base_model="gpt2", base_note="", change_pct=-2.5,
                                          verdict="")
    warnings = rep.report_warnings(HEALTHY, comparison, memo, 400_000, 30,
                                   recorded=["step 900: training loss 0.90 is below 1.0"])
    assert any("5 of 64 samples copy a run of 50" in w for w in warnings)
    assert any("No better than the base model" in w for w in warnings)
    assert "During training: step 900: training loss 0.90 is below 1.0" in warnings


def test_the_tiny_run_warns_about_its_tiny_corpus_and_few_steps(built_report):
    text = " ".join(built_report.warnings)
    assert "Corpus too small" in text
    assert "Too few steps: 12" in text
