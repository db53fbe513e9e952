"""Every published post ends where a writer would end it, under its own title.

A candidate that stopped at the end-of-post token is whole; one that hit the length limit is cut
back to its last complete paragraph or sentence (``Sampler.to_post``), rejected by the gate's
``ending`` verdict when too little remains, and loses to a candidate that finished on its own.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from trainer.generation.gate import GateSettings, assess, pick_best
from trainer.generation.memorisation import Skipped
from trainer.generation.post import ends_a_sentence
from trainer.generation.sampler import Candidate, Sampler, SamplingSettings

SENTENCES = [
    "The north wind returned after a week of calm and rattled the anemometer cups.",
    "I spent the morning checking cables and wiping salt from the radiation shield.",
    "By noon the logger had caught up on the missing readings.",
    "The chart of pressure looked like a slow staircase going down all afternoon.",
]
FIRST = " ".join(SENTENCES[:2])
SECOND = " ".join(SENTENCES[2:])
NO_INDEX = Skipped("skipped: corpus not found (test)")


@pytest.fixture
def sampler():
    """A Sampler without a model: ``to_post`` needs only its identity and precision."""
    return Sampler(None, None, {"name": "test"}, "fp32", "cpu", 1, Path("."))


def post_of(sampler, text, stop, logprob=-2.0, index=0):
    candidate = Candidate(text=text, token_ids=[1] * 50, seed=1, index=index,
                          mean_logprob=logprob, stop=stop)
    return sampler.to_post(candidate, 7, SamplingSettings()), candidate


def judged(sampler, text, stop, min_words=10, logprob=-2.0, index=0):
    post, candidate = post_of(sampler, text, stop, logprob, index)
    assessment = assess(post, candidate, GateSettings(min_words=min_words), NO_INDEX, None)
    post.gate.update(assessment.figures)
    return post, assessment, {v.rule: v for v in assessment.verdicts}


def test_a_candidate_that_ended_with_eos_is_kept_whole(sampler):
    text = f"North Wind\n\n{FIRST}\n\n{SECOND}"
    post, assessment, rules = judged(sampler, text, "eos")
    assert post.body == f"{FIRST}\n\n{SECOND}"
    assert post.gate["ending"] == "eos" and "trimmed_words" not in post.gate
    assert assessment.passed, assessment.lines()
    assert rules["ending"].passed and rules["title"].passed


@pytest.mark.parametrize("stop", ["length", "context"])
def test_a_length_stopped_candidate_is_cut_back_to_its_last_complete_paragraph(sampler, stop):
    text = f"North Wind\n\n{FIRST}\n\n{SECOND} Tomorrow should bring rain from the"
    post, assessment, rules = judged(sampler, text, stop)
    assert post.body == FIRST
    assert post.gate["ending"] == "trimmed"
    assert post.gate["trimmed_words"] == len(f"{SECOND} Tomorrow should bring rain from the".split())
    assert assessment.passed, assessment.lines()
    assert "trimmed to" in rules["ending"].line()
    assert "Tomorrow" in post.text  # the raw sample is kept as sampled


def test_a_single_paragraph_is_cut_back_to_its_last_complete_sentence(sampler):
    text = f"North Wind\n\n{FIRST} {SECOND} Tomorrow should bring rain from the"
    post, assessment, _ = judged(sampler, text, "length")
    assert post.body == f"{FIRST} {SECOND}"
    assert assessment.passed, assessment.lines()


@pytest.mark.parametrize("headings", [
    "How much rain did the storm deliver?",  # a question heading, its section cut
    "What I found in the bucket",  # a heading that is no sentence
    "What I found in the bucket\n\nHow much rain did the storm deliver?",  # two in a row
])
def test_a_section_heading_left_at_the_end_goes_with_its_cut_section(sampler, headings):
    text = f"North Wind\n\n{FIRST}\n\n{SECOND}\n\n{headings}\n\nThe gauge held 14 mm by the"
    post, assessment, _ = judged(sampler, text, "length")
    assert post.body == f"{FIRST}\n\n{SECOND}"
    assert assessment.passed, assessment.lines()


def test_a_closing_sentence_or_a_whole_post_of_questions_stays(sampler):
    text = f"North Wind\n\n{FIRST}\n\nThat is all for today.\n\nThe gauge held 14 mm by the"
    post, _, _ = judged(sampler, text, "length")
    assert post.body == f"{FIRST}\n\nThat is all for today."  # a short sentence, not a heading
    text = "Questions\n\nWhy does it rain?\n\nWhere does the wind go?\n\nAnd then the"
    post, _, _ = judged(sampler, text, "length")
    assert post.body == "Why does it rain?"  # nothing would be left: the first question stays
    post, _, _ = judged(sampler, f"North Wind\n\n{FIRST}\n\nHow much rain fell?", "eos")
    assert post.body.endswith("How much rain fell?")  # a post that ended on its own is whole


def test_too_little_left_after_trimming_is_rejected_by_the_ending_rule(sampler):
    text = f"North Wind\n\n{SENTENCES[2]} Then the wind turned and the rain came back for the"
    post, assessment, rules = judged(sampler, text, "length", min_words=20)
    assert post.body == SENTENCES[2]
    assert not rules["ending"].passed
    assert "trimmed to 11 words" in rules["ending"].line() and ">= 20 words" in rules["ending"].line()
    assert "ending" in assessment.rejected_by


def test_a_length_stopped_candidate_without_any_sentence_is_rejected(sampler):
    post, assessment, rules = judged(sampler, "North Wind\n\nThe wind came round to the north and",
                                     "length", min_words=1)
    assert post.body == ""
    assert not rules["ending"].passed
    assert not assessment.passed


@pytest.mark.parametrize("stop", ["eos", "length"])
def test_no_body_that_ends_mid_sentence_passes(sampler, stop):
    """EOS right after a comma, or a trimmed body ending in a heading: never published."""
    text = f"North Wind\n\n{FIRST}\n\n{SECOND} and then,"
    if stop == "length":
        text = f"North Wind\n\n{FIRST} Part two\n\nthe wind"  # no sentence after the first two
    post, assessment, rules = judged(sampler, text, stop, min_words=1)
    if stop == "length":
        assert post.body == FIRST and rules["ending"].passed  # cut back to a sentence
    else:
        assert not ends_a_sentence(post.body)
        assert not rules["ending"].passed and "mid-sentence" in rules["ending"].line()
        assert not assessment.passed


def test_a_candidate_without_a_usable_title_is_rejected_with_the_reason(sampler):
    _, assessment, rules = judged(sampler, f"the north wind returned,\n\n{FIRST}", "eos")
    assert assessment.rejected_by == ["title"]
    assert "starts lower-case" in rules["title"].line()
    _, assessment, rules = judged(sampler, f"North Wind\n{FIRST}", "eos")
    assert assessment.rejected_by == ["title"]
    assert "no blank line after it" in rules["title"].line()


def test_pick_best_prefers_a_candidate_that_finished_on_its_own(sampler):
    trimmed = judged(sampler, f"Trimmed\n\n{FIRST}\n\n{SECOND} And then", "length", logprob=-1.0,
                     index=0)
    whole = judged(sampler, f"Whole\n\n{FIRST}\n\n{SECOND}", "eos", logprob=-3.0, index=1)
    better_whole = judged(sampler, f"Better\n\n{FIRST}\n\n{SECOND}", "eos", logprob=-2.0, index=2)
    assessed = [(post, assessment) for post, assessment, _ in (trimmed, whole, better_whole)]
    assert all(assessment.passed for _, assessment in assessed)
    assert pick_best(assessed).title == "Better"
    assert pick_best(assessed[:2]).title == "Whole"
    assert pick_best(assessed[:1]).title == "Trimmed"  # trimmed still wins when nothing finished
