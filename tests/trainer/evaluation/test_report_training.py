"""The report's training figures: train.json, throughput and the loss plot, on a real tiny run."""
from __future__ import annotations

import pytest

from trainer.evaluation.metrics import MetricsLog
from trainer.evaluation.training_figures import loss_plot_png


def test_training_figures_come_from_train_json(fit_summary, fit_run, built_report):
    training = built_report.training
    assert training["steps"] == fit_summary["steps"] == 12
    assert training["tokens_seen"] == fit_summary["tokens_seen"] > 0
    assert training["device"] == fit_summary["device"]
    assert training["tokens_per_s"] == pytest.approx(fit_summary["tokens_seen"] / fit_summary["time_s"])
    rates = sorted(r["tok_s"] for r in MetricsLog(fit_run).read() if "tok_s" in r)
    assert len(rates) == 12
    assert training["step_tokens_per_s"] == pytest.approx((rates[5] + rates[6]) / 2)


def test_loss_plot_is_a_png_drawn_from_the_metrics(fit_run, built_report):
    png = built_report.loss_png
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # Without metrics.jsonl the report falls back to the run's loss.png.
    assert loss_plot_png(fit_run, records=[]) == (fit_run / "loss.png").read_bytes()
