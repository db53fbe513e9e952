"""The verbatim-span finder and the memorisation figures of the report."""
from __future__ import annotations

import pytest

from trainer.evaluation.memorisation_figures import SpanFinder, memorisation_figures
from trainer.evaluation.samples import Sample


def test_span_finder_finds_the_longest_copied_run_and_its_post(tiny_model_and_tokenizer, report_posts):
    _model, tokenizer = tiny_model_and_tokenizer
    finder = SpanFinder(report_posts, tokenizer, window=8)
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
    return Sample(index=index, seed=index, title="t", body=text, text=text, tokens=0,
                      stop="eos", passed=not rejected_by, rejected_by=list(rejected_by),
                      verdicts=[], figures={})


def test_memorisation_share_and_rejections(tiny_model_and_tokenizer, report_posts):
    _model, tokenizer = tiny_model_and_tokenizer
    finder = SpanFinder(report_posts, tokenizer, window=8)
    samples = [fake_sample(0, report_posts[1]),  # a whole post: copied
               fake_sample(1, "Zzq qzz vvx qqz zzv xqz vvz.", ["length"]),
               fake_sample(2, report_posts[2][:60], ["length"]),  # a short copy: below 50 tokens
               fake_sample(3, "Qqz vvx zzq xxv.", ["length", "diversity"])]
    m = memorisation_figures(samples, finder, threshold=50)
    assert m.copied == 1 and m.share == pytest.approx(0.25)
    assert m.longest.sample == 0 and m.longest.tokens == len(
        tokenizer.encode(report_posts[1], add_special_tokens=False))
    assert m.gate_passed == 1
    assert m.rejections == {"length": 3, "diversity": 1}
