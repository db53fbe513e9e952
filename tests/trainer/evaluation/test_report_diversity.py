"""Distinct-n and rep-n of the samples and of the real posts."""
from __future__ import annotations

import pytest

from trainer.evaluation.diversity import diversity


def test_diversity_figures():
    d = diversity(["a b a b a b", "one two three four"], rep_n=2)
    # "a b a b a b": 2 distinct of 6 words, 2 distinct of 5 bigrams, 3 of 5 bigrams repeat.
    assert d.distinct1 == pytest.approx((2 / 6 + 1) / 2)
    assert d.distinct2 == pytest.approx((2 / 5 + 1) / 2)
    assert d.rep == pytest.approx((3 / 5 + 0) / 2)
    assert d.words == pytest.approx(5)
    cut = diversity(["one two three four a a a a"], rep_n=2, max_words=4)
    assert cut.words == 4 and cut.distinct1 == 1.0


def test_report_diversity_compares_samples_with_the_real_posts(built_report, report_posts):
    cut = built_report.options["words_compared"]
    expected = diversity(report_posts, 4, max_words=cut)
    assert built_report.diversity_posts == expected
    texts = [s.text for s in built_report.gallery]
    assert built_report.diversity_samples.texts >= len([t for t in texts if t.strip()])
