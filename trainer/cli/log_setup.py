"""Logging set-up shared by the trainer's commands."""
from __future__ import annotations

import logging
import sys


def setup_logging(verbose: bool = False) -> None:
    """Send the trainer's log lines to stderr through tqdm (so they never break a progress bar),
    as plain messages (`-v`: with their level, and debug lines too). Every command calls it, so
    what a command prints does not depend on what ran before it in the same process."""
    from tqdm.auto import tqdm

    class TqdmHandler(logging.Handler):
        def emit(self, record):
            try:
                tqdm.write(self.format(record), file=sys.stderr)
            except Exception:  # pragma: no cover - logging must never break training
                self.handleError(record)

    handler = TqdmHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s" if verbose else "%(message)s"))
    root = logging.getLogger("trainer")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except Exception:  # pragma: no cover
        pass
