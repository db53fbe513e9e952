"""BestPost.rejection_summary: the one line that says why the gate published nothing."""
from __future__ import annotations

from trainer.generation.best_post import BestPost
from trainer.generation.gate import Assessment, Verdict


def test_gate_rejections_are_summarised_by_rule():
    def verdict(rule, passed, value, limit):
        return Verdict(rule=rule, passed=passed, value=value, limit=limit)

    candidates = [
        (None, Assessment(verdicts=[verdict("min_words", False, "31 words", ">= 80 words"),
                                    verdict("rep4", True, 0.01, "<= 0.2")])),
        (None, Assessment(verdicts=[verdict("min_words", False, "12 words", ">= 80 words"),
                                    verdict("rep4", False, 0.61, "<= 0.2")])),
    ]
    line = BestPost(post=None, candidates=candidates, report=[]).rejection_summary()
    assert line == ("min_words rejected 2 of 2 (e.g. 31 words, limit >= 80 words); "
                    "rep4 rejected 1 of 2 (e.g. 0.61, limit <= 0.2)")
    report = ["round 1 candidate 1: html: REJECT (<script>; limit none)", "round 1: every candidate was rejected"]
    assert BestPost(post=None, report=report).rejection_summary() == \
        "round 1 candidate 1: html: REJECT (<script>; limit none)"
