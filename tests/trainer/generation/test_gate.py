"""Each rule of the quality gate, the winner's choice, and the report when nothing survives."""
from __future__ import annotations

from types import SimpleNamespace

import markdown
import pytest

from common.errors import TrainerError
from trainer.cli.sample import post_markdown
from trainer.generation.gate import GateSettings, assess, distinct_n, pick_best, repeated_ngram_share
from trainer.generation.memorisation import Skipped
from trainer.generation.post import parse_post

GOOD_BODY = (
    "The north wind returned after a week of calm, and with it the familiar rattle of the "
    "anemometer cups against the mast. I spent the morning checking cables, replacing a cracked "
    "cable tie and wiping salt from the radiation shield. By noon the logger had caught up on "
    "the missing readings, and the chart of pressure looked like a slow staircase going down. "
    "Tomorrow should bring rain from the west, which will finally test the new gauge funnel."
)
NO_INDEX = Skipped("skipped: corpus not found (test)")


def candidate(logprob=-2.0):
    return SimpleNamespace(mean_logprob=logprob)


def verdicts(text, settings=None, index=NO_INDEX, logprob=-2.0, tokenizer=None):
    post = parse_post(text)
    assessment = assess(post, candidate(logprob), settings or GateSettings(min_words=20), index,
                        tokenizer)
    return post, assessment, {v.rule: v for v in assessment.verdicts}


def test_a_good_post_passes_every_rule_and_records_its_figures():
    post, assessment, rules = verdicts("North Wind\n\n" + GOOD_BODY)
    assert assessment.passed, assessment.lines()
    assert set(rules) == {"title", "ending", "length", "repetition", "diversity", "memorised", "html"}
    assert assessment.figures["words"] == len(GOOD_BODY.split())
    assert assessment.figures["rep4"] == 0.0
    assert assessment.figures["mean_logprob"] == -2.0


def test_too_short_is_rejected_with_the_word_count():
    _, assessment, rules = verdicts("Short\n\nOnly six words in this body.",
                                    GateSettings(min_words=20))
    assert not rules["length"].passed
    assert "6 words" in rules["length"].line() and ">= 20 words" in rules["length"].line()
    assert assessment.rejected_by == ["length"]


def test_a_loop_of_repeated_words_is_rejected_as_repetition_and_low_diversity():
    loop = "Loop\n\n" + "the sensor on the roof " * 30
    _, assessment, rules = verdicts(loop)
    assert not rules["repetition"].passed
    assert not rules["diversity"].passed
    assert assessment.figures["rep4"] > 0.9
    assert "rep-4" in rules["repetition"].line()


def test_repetition_threshold_is_configurable():
    text = "Some repeats\n\n" + GOOD_BODY + " " + GOOD_BODY[:200]
    _, _, strict = verdicts(text, GateSettings(min_words=20, max_repeated=0.05))
    _, _, loose = verdicts(text, GateSettings(min_words=20, max_repeated=0.5))
    assert not strict["repetition"].passed and loose["repetition"].passed


def test_measures():
    words = "a b c d a b c d".split()
    assert repeated_ngram_share(words, 4) == pytest.approx(1 - 4 / 5)
    assert distinct_n(words, 2) == pytest.approx(4 / 7)
    assert repeated_ngram_share([], 4) == 0.0


@pytest.mark.parametrize("html, kind", [
    ("<script>alert(1)</script>", "script"),
    ('<a href="x" onclick="steal()">x</a>', "event handler"),
    ("[read more](javascript:alert(1))", "script link"),
    ("<iframe src=x></iframe>", "html tag"),
])
def test_raw_html_is_rejected(html, kind):
    _, assessment, rules = verdicts("Title\n\n" + GOOD_BODY + " " + html + " That was all.")
    assert not rules["html"].passed
    assert kind in rules["html"].line()
    assert assessment.rejected_by == ["html"]


def test_prose_with_angle_brackets_or_data_colon_is_not_html():
    text = "Title\n\n" + GOOD_BODY + " When a < b and c > d, the data: it is fine."
    _, _, rules = verdicts(text)
    assert rules["html"].passed


def test_html_escape_mode_lets_the_post_through_escaped_once_where_it_is_written():
    text = "Title\n\n" + GOOD_BODY + " <script>x()</script> That was all."
    post, assessment, rules = verdicts(text, GateSettings(min_words=20, html="escape"))
    assert assessment.passed
    assert "escaped when written" in rules["html"].line()
    assert post.body == parse_post(text).body  # plain text, as every post: the writer escapes it
    written = post_markdown(post)  # trainer sample --out (the plugin: tests/plugin)
    assert "<script>" not in written and " &lt;script&gt;x()&lt;/script&gt;" in written
    html = markdown.markdown(written.split("\n\n", 1)[1], extensions=["markdown.extensions.extra"])
    assert "<script>" not in html and "&lt;script&gt;x()&lt;/script&gt;" in html


def test_missing_corpus_is_skipped_or_fails_when_required():
    _, relaxed, rules = verdicts("Title\n\n" + GOOD_BODY)
    assert relaxed.passed and "skipped: corpus not found" in rules["memorised"].line()
    _, strict, rules = verdicts("Title\n\n" + GOOD_BODY,
                                GateSettings(min_words=20, require_corpus=True))
    assert strict.rejected_by == ["memorised"]
    assert "corpus not found" in rules["memorised"].line()


def test_pick_best_takes_the_highest_mean_logprob_among_survivors():
    assessed = []
    for logprob, text in [(-1.0, "Loop\n\n" + "the sensor on the roof " * 30),
                          (-3.0, "Worse\n\n" + GOOD_BODY), (-2.0, "Better\n\n" + GOOD_BODY)]:
        post, assessment, _ = verdicts(text, logprob=logprob)
        post.gate.update(assessment.figures)
        assessed.append((post, assessment))
    assert pick_best(assessed).title == "Better"
    assert pick_best(assessed[:1]) is None


def test_invalid_gate_settings_are_reported():
    with pytest.raises(TrainerError, match="html"):
        GateSettings(html="maybe").validate()


def test_best_post_reports_every_decision_and_no_post_when_all_fail(tiny_model_dir):
    from trainer.generation.sampler import Sampler, SamplingSettings

    sampler = Sampler.load(tiny_model_dir, precision="fp32", threads=1)
    result = sampler.best_post(3, SamplingSettings(max_new_tokens=16),
                               GateSettings(min_words=10_000), candidates=2, rounds=2)
    assert result.post is None
    candidate_lines = [line for line in result.report if "length: REJECT" in line]
    assert len(candidate_lines) == 4  # two rounds of two candidates
    assert result.report[-1].startswith("no post: all 4 candidates in 2 rounds were rejected")


def test_best_post_returns_the_winner_with_its_figures(overfit_run):
    """An untrained model writes no title and no sentence: the model that recites a titled post
    (its corpus, so the memorisation window is set past the recital, and its title, the corpus's
    own, is allowed) gives a winner."""
    from trainer.generation.sampler import Sampler, SamplingSettings

    sampler = Sampler.load(overfit_run, precision="fp32", threads=1)
    gate = GateSettings(min_words=1, max_repeated=1.0, min_distinct=0.0, memorised_tokens=500,
                        new_title=False)
    settings = SamplingSettings(max_new_tokens=120)
    result = sampler.best_post(5, settings, gate, candidates=3, rounds=1)
    assert result.post is not None
    survivors = [p for p, a in result.candidates if a.passed]
    assert max((p.gate["ending"] == "eos", p.gate["mean_logprob"]) for p in survivors) == \
        (result.post.gate["ending"] == "eos", result.post.gate["mean_logprob"])
    assert result.post.gate["round"] == 0 and result.post.seed == 5
    assert "wins" in result.report[-1]
    again = sampler.best_post(5, settings, gate, candidates=3, rounds=1)
    assert (again.post.title, again.post.body) == (result.post.title, result.post.body)


def test_a_title_one_of_the_blogs_posts_already_has_is_rejected(tmp_path, tiny_model_and_tokenizer):
    """A machine post called like a human one ("Midsummer Eve in a Sea Fog" twice on one blog, seen
    in the adoption test) confuses readers: the title rule rejects a corpus post's title, whatever
    its case and punctuation, and only that."""
    import json

    from trainer.generation.memorisation import index_for_run

    _, tokenizer = tiny_model_and_tokenizer
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("Midsummer Eve in a Sea Fog\n\nThe fog came in at four.\n<|endoftext|>\n"
                      "North Wind, Again\n\nIt blew all week.\n")
    run = tmp_path / "run"
    run.mkdir()
    (run / "train.json").write_text(json.dumps({"corpus_path": str(corpus)}))
    index = index_for_run(run, tokenizer, GateSettings())
    for title in ("Midsummer Eve in a Sea Fog", "MIDSUMMER EVE IN A SEA-FOG!", "North wind again"):
        _, assessment, rules = verdicts(f"{title}\n\n{GOOD_BODY}", index=index, tokenizer=tokenizer)
        assert not rules["title"].passed and rules["title"].note == "the title of one of your posts"
    _, assessment, rules = verdicts(f"Midsummer Eve on the Roof\n\n{GOOD_BODY}", index=index, tokenizer=tokenizer)
    assert rules["title"].passed and assessment.passed, assessment.lines()
