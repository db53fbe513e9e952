"""The report's headline: ready to publish or not, with reasons that carry a figure."""
from __future__ import annotations

from trainer.evaluation.readiness import readiness
from trainer.evaluation.samples import Sample

CALIBRATION = {"median_similarity": 0.35, "median_perplexity": 40.0}


def sample(i, rejected=(), **figures):
    return Sample(index=i, seed=i, title="t", body="b", text="t\n\nb", tokens=10, stop="eos",
                  passed=not rejected, rejected_by=list(rejected), verdicts=[], figures=figures)


def test_not_ready_names_each_rule_with_its_figure():
    samples = [sample(i, ["fluency"], fluency_ratio=4.1) for i in range(6)]
    samples += [sample(6, ["topic"], topic=0.1), sample(7)]
    result = readiness(samples, CALIBRATION, "base model")
    assert not result.ready and result.headline.startswith("not ready: 1 of 8")
    assert result.reasons[0] == ("6 of 8 samples are not fluent: perplexity under the base model "
                                 "4.1x your posts'")
    assert result.reasons[1].startswith("1 of 8 samples are off-topic: similarity to your posts 0.10")


def test_ready_when_enough_samples_pass_and_the_gate_is_calibrated():
    samples = [sample(i) for i in range(3)] + [sample(3, ["length"])]
    assert readiness(samples, CALIBRATION).ready
    uncalibrated = readiness(samples, None)
    assert not uncalibrated.ready and "not calibrated" in uncalibrated.reasons[-1]


def test_default_threads_respects_omp_num_threads(monkeypatch):
    from trainer.devices import default_threads

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert default_threads() == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "")
    assert default_threads() >= 1
