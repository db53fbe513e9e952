"""The memorisation guard: an index of the corpus's token windows, cached, and a model that recites."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from trainer.generation import memorisation
from trainer.generation.gate import GateSettings
from trainer.generation.memorisation import MemorisationIndex, Skipped, index_for_run, window_hashes
from trainer.generation.sampler import Sampler, SamplingSettings


def make_index(corpus_ids, window):
    hashes = np.unique(window_hashes(np.asarray(corpus_ids), window))
    return MemorisationIndex(hashes=hashes, window=window, corpus_path="-", corpus_sha256="-")


def test_longest_shared_run_is_measured_exactly():
    corpus = list(range(100, 200))
    index = make_index(corpus, window=10)
    candidate = [1, 2, 3] + corpus[20:45] + [7, 8] + corpus[60:72]
    assert index.longest_shared_run(candidate) == 25
    assert index.longest_shared_run(corpus[:9]) == 0  # shorter than the window
    assert index.longest_shared_run([5] * 50) == 0


def test_a_run_one_token_short_of_the_window_is_not_a_match():
    corpus = list(range(1000, 1100))
    index = make_index(corpus, window=50)
    assert index.longest_shared_run(corpus[10:59]) == 0
    assert index.longest_shared_run(corpus[10:60]) == 50


def test_index_is_cached_beside_the_run_and_reused(overfit_run, tmp_path, monkeypatch,
                                                     tiny_model_and_tokenizer):
    run = tmp_path / "run"
    shutil.copytree(overfit_run, run)
    for stale in run.glob("memorisation-*.npy"):
        stale.unlink()
    _, tokenizer = tiny_model_and_tokenizer
    gate = GateSettings(memorised_tokens=20)
    first = index_for_run(run, tokenizer, gate)
    cached = list(run.glob("memorisation-*-w20.npy"))
    assert isinstance(first, MemorisationIndex) and len(cached) == 1
    monkeypatch.setattr(memorisation, "build_index", lambda *a: pytest.fail("index rebuilt"))
    second = index_for_run(run, tokenizer, gate)
    assert np.array_equal(first.hashes, second.hashes)
    assert first.note == ""


def test_missing_corpus_or_train_json_is_a_skip_with_the_reason(overfit_run, tmp_path,
                                                                  tiny_model_and_tokenizer):
    _, tokenizer = tiny_model_and_tokenizer
    run = tmp_path / "run"
    run.mkdir()
    skipped = index_for_run(run, tokenizer, GateSettings())
    assert isinstance(skipped, Skipped) and "no train.json" in skipped.reason
    (run / "train.json").write_text(json.dumps({"corpus_path": str(tmp_path / "gone.txt")}))
    skipped = index_for_run(run, tokenizer, GateSettings())
    assert skipped.reason.startswith("skipped: corpus not found") and "gone.txt" in skipped.reason


def test_a_changed_corpus_is_still_checked_with_a_note(overfit_run, tmp_path,
                                                        tiny_model_and_tokenizer, recited_text):
    _, tokenizer = tiny_model_and_tokenizer
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(recited_text + "\n<|endoftext|>\nA new post.\n")
    run = tmp_path / "run"
    run.mkdir()
    (run / "train.json").write_text(json.dumps({"corpus_path": str(corpus),
                                                "corpus_sha256": "0" * 64}))
    index = index_for_run(run, tokenizer, GateSettings())
    assert isinstance(index, MemorisationIndex)
    assert "changed since training" in index.note


def test_a_model_that_recites_its_corpus_is_rejected(overfit_run, recited_text):
    """The guard end to end: a tiny model overfit on one text recites it, and the gate says no."""
    sampler = Sampler.load(overfit_run, precision="fp32", threads=1)
    # new_title=False: a recital carries its corpus title too; this test isolates the memorised rule
    gate = GateSettings(min_words=5, memorised_tokens=50, new_title=False)
    result = sampler.best_post(1, SamplingSettings(max_new_tokens=120, temperature=0.7),
                               gate, candidates=3, rounds=1)
    recitals = [post for post, _ in result.candidates if post.text == recited_text]
    assert recitals, "the overfit model should recite its training text"
    for post, assessment in result.candidates:
        if post.text == recited_text:
            assert assessment.rejected_by == ["memorised"]
            assert post.gate["memorised"] >= 50
    assert result.post is None or result.post.text != recited_text
    assert any("memorised: REJECT (longest shared run" in line for line in result.report)


def test_a_window_longer_than_the_recital_lets_it_through(overfit_run, recited_text):
    sampler = Sampler.load(overfit_run, precision="fp32", threads=1)
    gate = GateSettings(min_words=5, memorised_tokens=500, new_title=False)  # the recital's title is its corpus's
    greedy = SamplingSettings(max_new_tokens=120, temperature=0, repetition_penalty=1.0)
    result = sampler.best_post(1, greedy, gate, candidates=1, rounds=1)
    assert result.post is not None and result.post.text == recited_text
    assert result.post.gate["memorised"] == 0
