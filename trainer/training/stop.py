"""Stopping a run cleanly: ``StopSignal`` turns Ctrl-C / SIGTERM into "save a checkpoint after
this step and return"."""
from __future__ import annotations

import contextlib
import logging
import signal
import threading

log = logging.getLogger(__name__)


class StopSignal:
    """Set by Ctrl-C or SIGTERM (or ``request()``): the loop saves a checkpoint and returns.
    A second Ctrl-C aborts at once."""

    def __init__(self) -> None:
        self.requested = False

    def request(self) -> None:
        self.requested = True

    def _handle(self, signum, _frame) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True
        log.warning("%s: stopping after this step and saving a checkpoint (Ctrl-C again to abort)",
                    signal.Signals(signum).name)

    @contextlib.contextmanager
    def installed(self):
        """Handle SIGINT and SIGTERM inside the block (main thread only); the old handlers after."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
