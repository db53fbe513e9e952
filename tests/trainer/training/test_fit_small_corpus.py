"""trainer fit names a corpus too small to learn from before it trains."""
from __future__ import annotations

import logging

from trainer.training import fit as fit_module


class Lines(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def test_trainer_fit_warns_on_a_small_corpus(fit_config, monkeypatch):
    # Its own handler on the module's logger, without the logger's filters: once Pelican is imported
    # (the plugin and theme tests, earlier in the same process) new loggers are Pelican's
    # LimitLogger, which logs an identical warning once per process, and the other fit tests train
    # on the same five posts.
    monkeypatch.setattr(fit_module.log, "filters", [])
    handler = Lines()
    fit_module.log.addHandler(handler)
    try:
        fit_module.fit(fit_config(steps=1))
    finally:
        fit_module.log.removeHandler(handler)
    [warning] = [line for line in handler.lines if "too small to learn from" in line] or [
        f"no warning among {handler.lines!r}"]
    assert "(5 posts," in warning
