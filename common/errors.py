"""Errors a user can cause, and the one way every command reports them.

Each error carries one clear line: what happened, which file or value, and what to do. The CLIs
print it with ``fail`` (``error: MESSAGE`` on stderr, no traceback, exit 1); the plugin turns it
into one warning (or a build failure in strict mode) with ``one_line``.
"""
from __future__ import annotations

import sys
from typing import NoReturn


class UserError(Exception):
    """Base class: an expected failure with a one-line, user-facing message."""


class CorpusError(UserError):
    """The blog's posts or the corpus file are missing, empty, unreadable or malformed."""


class TrainerError(UserError):
    """A training, sampling or evaluation problem the user can fix."""


class ModelError(TrainerError):
    """A model or tokenizer cannot be found, downloaded, loaded or does not match."""


class RunFolderError(TrainerError):
    """The run folder cannot be written, or was made with incompatible settings."""


class OutOfMemory(TrainerError):
    """Training or sampling ran out of (GPU) memory."""


def first_line(err: BaseException, limit: int = 300) -> str:
    """The first line of an exception's message (its type name when it has none), at most ``limit``
    characters."""
    text = str(err).strip()
    return (text.splitlines()[0] if text else type(err).__name__)[:limit]


def one_line(err: BaseException) -> str:
    """One line for any exception: the message alone for expected errors (``UserError``, ``OSError``),
    else prefixed with the exception's type so an unexpected failure is recognisable."""
    message = str(err).strip().splitlines()[0] if str(err).strip() else ""
    if isinstance(err, (UserError, OSError)) and message:
        return message
    return f"{type(err).__name__}: {message or 'no message'}"


def fail(message: object) -> NoReturn:
    """End a command on a user error: one line ``error: MESSAGE`` on stderr, no traceback, exit 1.
    Every command reports its errors so (click's own ``Error:`` is for wrong options)."""
    print(f"error: {message}", file=sys.stderr, flush=True)
    sys.exit(1)
