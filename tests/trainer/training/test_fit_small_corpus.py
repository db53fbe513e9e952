"""trainer fit names a corpus too small to learn from before it trains."""
from __future__ import annotations

import logging

from trainer.training.fit import fit


def test_trainer_fit_warns_on_a_small_corpus(fit_config, caplog):
    with caplog.at_level(logging.WARNING, logger="trainer"):
        fit(fit_config(steps=1))
    [warning] = [r.getMessage() for r in caplog.records if "too small to learn from" in r.getMessage()]
    assert "(5 posts," in warning
