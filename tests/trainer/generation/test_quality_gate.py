"""The gate's calibrated rules: fluency (reference-model perplexity) and topic (TF-IDF similarity).

Fast tests use a stand-in reference model; the slow one measures with the real SmolLM2 GGUF.
"""
from __future__ import annotations

import logging
import random
import re
import statistics
from pathlib import Path

import pytest

from trainer.generation.calibration import FILE_NAME, read_calibration
from trainer.generation.gate import GateSettings, assess
from trainer.generation.memorisation import Skipped
from trainer.generation.post import parse_post
from trainer.generation.quality import QualityChecks
from trainer.generation.topic import TopicModel

ROOT = Path(__file__).resolve().parents[3]
OFF_TOPIC = sorted((ROOT / "tests" / "data" / "gate" / "off_topic").glob("*.md"))


def blog_posts() -> list[str]:
    """The demo blog's posts as the corpus holds them: title line, blank line, body (no metadata)."""
    posts = []
    for path in sorted((ROOT / "content" / "posts").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        header, _, body = text.partition("\n\n")
        title = re.search(r"^Title:\s*(.+)$", header, re.MULTILINE)
        if title and "Status: draft" not in header:
            posts.append(f"{title.group(1).strip()}\n\n{body.strip()}")
    return posts


def shuffled(post: str, seed: int = 0) -> str:
    title, _, body = post.partition("\n\n")
    words = body.split()
    random.Random(seed).shuffle(words)
    return f"{title}\n\n{' '.join(words).rstrip('.')}."


class StandInReference:
    """Perplexity grows with the share of word pairs never seen in the blog (a crude fluency)."""

    ref = "stand-in"
    max_tokens = 300

    def __init__(self, posts):
        self.pairs = {p for post in posts for p in zip(post.split(), post.split()[1:])}
        self.calls = 0

    def perplexities(self, texts):
        self.calls += 1
        out = []
        for text in texts:
            pairs = list(zip(text.split(), text.split()[1:])) or [("", "")]
            out.append(20.0 + 500.0 * sum(p not in self.pairs for p in pairs) / len(pairs))
        return out

    def perplexity(self, text):
        return self.perplexities([text])[0]


class Cand:
    mean_logprob = -2.0


def verdict(text, checks, gate=None):
    post = parse_post(text)
    result = assess(post, Cand(), gate or checks.gate, Skipped("skipped: test"), None, checks)
    return {v.rule: v for v in result.verdicts}, result


def calibrated(tmp_path, posts=None):
    from trainer.evaluation.gate_calibration import calibrate

    posts = posts or blog_posts()
    held_out, training = posts[:4], posts[4:]
    reference = StandInReference(posts)  # it knows the language of every post, as SmolLM2 does
    calibration = calibrate(held_out, training, reference, reference_source="test")
    calibration.write(tmp_path)
    return calibration, reference, held_out


def test_topic_model_ranks_the_blog_above_other_subjects():
    posts = blog_posts()
    model = TopicModel.fit(posts[3:])
    on_topic = [model.similarity(p) for p in posts[:3]]
    off_topic = [model.similarity(p.read_text()) for p in OFF_TOPIC]
    # the blog's posts share most of their weighted vocabulary with it, other subjects far less;
    # a marathon post (wind, mornings, kilometres) comes closest
    assert statistics.median(on_topic) > 1.3 * statistics.median(off_topic)
    assert sum(o < min(on_topic) for o in off_topic) >= len(off_topic) - 1
    again = TopicModel.from_dict(model.to_dict())  # what gate_calibration.json keeps
    assert again.similarity(posts[0]) == pytest.approx(model.similarity(posts[0]), abs=1e-4)


def test_calibration_is_written_and_read_back(tmp_path):
    calibration, _ref, held_out = calibrated(tmp_path)
    again = read_calibration(tmp_path)
    assert (tmp_path / FILE_NAME).exists()
    assert again.perplexities == calibration.perplexities and again.held_out_posts == 4
    assert again.max_perplexity == pytest.approx(calibration.max_perplexity)
    assert again.max_perplexity >= 2.5 * again.median_perplexity
    assert 0 < again.min_similarity <= 0.8 * again.median_similarity
    assert len(again.similarities) == len(blog_posts())  # held-out + leave-one-out training posts
    assert set(again.summary()) >= {"median_perplexity", "max_perplexity", "min_similarity"}


def test_calibrated_gate_rejects_salad_and_off_topic_and_passes_a_held_out_post(tmp_path):
    calibration, reference, held_out = calibrated(tmp_path)
    checks = QualityChecks(tmp_path, GateSettings(), calibration=calibration, reference=reference)
    rules, _ = verdict(held_out[0], checks)
    assert rules["fluency"].passed and rules["topic"].passed, (rules["fluency"].line(), rules["topic"].line())
    rules, result = verdict(shuffled(held_out[0]), checks)
    assert not rules["fluency"].passed and "fluency" in result.rejected_by
    assert "x your posts'" in rules["fluency"].value
    rules, _ = verdict(OFF_TOPIC[0].read_text(), checks)
    assert not rules["topic"].passed and rules["topic"].line().startswith("topic: REJECT (similarity")


NOTE = ("Short Note on the Gauge\n\nThe rain gauge read four millimetres at dawn and nothing after. "
        "The funnel was clean and the bucket tipped twice when I poured a cup of water through it. "
        "So the reading stands: a dry week, apart from that one early shower over the roof.")


def short_posts(n=20):
    """A blog of short notes (35-45 words each), all about the station."""
    words = NOTE.partition("\n\n")[2].split()
    return [f"Station Note {i}\n\n" + " ".join(words[: 35 + i % 11]).rstrip(".,") + "."
            for i in range(n)]


def test_a_blog_of_short_posts_lowers_the_length_limit_never_below_the_floor(tmp_path):
    from trainer.generation.calibration import MIN_WORDS_FLOOR

    calibration, reference, _ = calibrated(tmp_path, short_posts())
    assert min(calibration.word_counts) == 35 and calibration.min_words(80) == 35
    assert calibration.min_words(20) == 20  # an owner's lower limit stands
    checks = QualityChecks(tmp_path, GateSettings(), calibration=calibration, reference=reference)
    rules, _ = verdict(NOTE, checks)
    assert rules["length"].passed and rules["length"].limit == ">= 35 words"
    long_blog, _, _ = calibrated(tmp_path, blog_posts())
    assert long_blog.min_words(80) == 80  # the demo blog's posts are all longer
    calibration.word_counts = [3] * 20
    assert calibration.min_words(80) == MIN_WORDS_FLOOR
    rules, _ = verdict(NOTE, QualityChecks(tmp_path, GateSettings()))  # uncalibrated: fixed 80
    assert not rules["length"].passed


def test_html_passes_escaped_only_on_a_blog_whose_posts_show_html(tmp_path):
    html_note = NOTE + "\n\nThe page shows it in a <div class=\"reading\"> box, nothing more."
    plain, reference, _ = calibrated(tmp_path / "plain")
    assert plain.html_share == 0 and not plain.html_is_the_blogs_style
    checks = QualityChecks(tmp_path / "plain", GateSettings(), calibration=plain, reference=reference)
    rules, _ = verdict(html_note, checks)
    assert not rules["html"].passed
    web_posts = blog_posts()
    web_posts[5:8] = [p + "\n\nThe widget: <span class=\"w\">12 km/h</span>." for p in web_posts[5:8]]
    web, reference, _ = calibrated(tmp_path / "web", web_posts)
    assert web.html_share >= 0.1 and web.html_is_the_blogs_style
    checks = QualityChecks(tmp_path / "web", GateSettings(), calibration=web, reference=reference)
    rules, _ = verdict(html_note, checks)
    assert rules["html"].passed and "your own posts show HTML too" in rules["html"].note


def test_missing_calibration_is_one_warning_and_the_old_gate(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    checks = QualityChecks(tmp_path, GateSettings())
    rules1, _ = verdict(blog_posts()[0], checks)
    rules2, _ = verdict(shuffled(blog_posts()[0]), checks)
    assert "fluency" not in rules1 and "topic" not in rules1 and "fluency" not in rules2
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "gate_calibration.json" in warnings[0].getMessage()


def test_unreadable_calibration_is_one_warning_too(tmp_path, caplog):
    (tmp_path / FILE_NAME).write_text("{not json")
    caplog.set_level(logging.WARNING)
    checks = QualityChecks(tmp_path, GateSettings())
    assert not checks.active
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1


def test_reference_model_missing_fails_closed_unless_fluency_is_off(tmp_path, caplog, monkeypatch):
    import trainer.model_loading as model_loading

    calibration, _ref, held_out = calibrated(tmp_path)
    calibration.reference = str(tmp_path / "gone.gguf")
    calibration.write(tmp_path)
    (tmp_path / "train.json").write_text('{"from_scratch": true}')
    monkeypatch.setattr(model_loading, "embedded_default_model", lambda: None)
    caplog.set_level(logging.WARNING)
    checks = QualityChecks(tmp_path, GateSettings())
    for text in held_out[:2]:
        rules, result = verdict(text, checks)
        assert not result.passed and not rules["fluency"].passed
        assert "reference model could not be loaded" in rules["fluency"].line()
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
    off = QualityChecks(tmp_path, GateSettings(fluency=False))
    rules, _ = verdict(held_out[0], off)
    assert "fluency" not in rules and rules["topic"].passed


def test_sampler_best_post_reads_the_calibration_once(tmp_path, tiny_model_dir, caplog):
    """A run without calibration: best_post still works with the old gate and one warning."""
    import shutil

    from trainer.generation.sampler import Sampler, SamplingSettings

    run = tmp_path / "run"
    shutil.copytree(tiny_model_dir, run)
    caplog.set_level(logging.WARNING)
    sampler = Sampler.load(run, precision="fp32", threads=1)
    gate = GateSettings(min_words=0, max_repeated=1.0, min_distinct=0.0)
    for seed in (1, 2):
        result = sampler.best_post(seed, SamplingSettings(max_new_tokens=8), gate, candidates=2, rounds=1)
        assert not any(line.split(": ", 2)[-1].startswith(("fluency", "topic")) for line in result.report)
    assert len([r for r in caplog.records if "gate_calibration.json" in r.getMessage()]) == 1


@pytest.mark.slow
def test_real_reference_model_rejects_salad_and_off_topic(tmp_path, smollm2_gguf):
    from trainer.evaluation.gate_calibration import calibrate
    from trainer.generation.fluency import ReferenceModel

    posts = blog_posts()
    held_out, training = posts[:3], posts[3:]
    reference = ReferenceModel.load(str(smollm2_gguf))
    calibration = calibrate(held_out, training, reference)
    calibration.write(tmp_path)
    checks = QualityChecks(tmp_path, GateSettings(), reference=reference)
    assert checks.calibration.reference == str(smollm2_gguf)
    for text in held_out:
        rules, _ = verdict(text, checks)
        assert rules["fluency"].passed and rules["topic"].passed, (rules["fluency"].line(), rules["topic"].line())
    for i, text in enumerate(held_out):
        rules, _ = verdict(shuffled(text, seed=i), checks)
        assert not rules["fluency"].passed, rules["fluency"].line()
    passed = []  # the target: at least 90 % of fluent off-topic posts rejected
    for path in OFF_TOPIC:
        rules, _ = verdict(path.read_text(), checks)
        if rules["topic"].passed:
            passed.append((path.name, rules["topic"].line()))
    assert len(passed) <= len(OFF_TOPIC) // 10, passed
