"""metrics.jsonl, train.json, loss.png and the overfitting warning."""
from __future__ import annotations

import pytest

from trainer.evaluation.metrics import MetricsLog, OverfitDetector, plot_losses, write_summary


def test_overfitting_warned_when_validation_rises_while_training_falls():
    detector = OverfitDetector(patience=3)
    curve = [(100, 3.0, 3.2), (200, 2.6, 3.0), (300, 2.2, 3.05), (400, 1.9, 3.1)]
    assert all(detector.update(*point) == [] for point in curve)
    [warning] = detector.update(500, 1.6, 3.2)
    assert "step 500" in warning and "memorising" in warning and "best/" in warning
    assert detector.update(600, 1.4, 3.4) == []  # said once


def test_no_warning_while_both_fall_or_validation_is_noisy():
    detector = OverfitDetector(patience=3)
    points = [(1, 3.0, 3.0), (2, 2.8, 3.1), (3, 2.6, 2.9), (4, 2.4, 3.0), (5, 2.2, 2.8)]
    assert [w for p in points for w in detector.update(*p)] == []


def test_training_loss_below_one_is_memorising_and_state_survives_resume():
    detector = OverfitDetector()
    [warning] = detector.update(900, 0.8, None)
    assert "below 1.0" in warning
    resumed = OverfitDetector()
    resumed.load_state_dict(detector.state_dict())
    assert resumed.update(1000, 0.7, None) == []


def test_metrics_log_truncates_steps_a_resume_redoes(tmp_path):
    log = MetricsLog(tmp_path)
    log.reset()
    for step in range(1, 6):
        log.append({"step": step, "loss": 5.0 - step})
    with open(log.path, "a") as handle:
        handle.write('{"step": 6, "lo')  # cut by a crash
    log.truncate_after(3)
    assert [r["step"] for r in log.read()] == [1, 2, 3]


def test_plot_and_summary(tmp_path):
    records = [{"step": s, "loss": 4.0 / s} for s in range(1, 20)] + [{"step": 10, "val_loss": 1.0}]
    assert plot_losses(records, tmp_path / "loss.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="missing"):
        write_summary(tmp_path, {"steps": 1})
