"""Errors a user can cause. Each carries one clear line: what happened, which file or value, and
what to do. CLIs print the message (no traceback) and exit non-zero; the plugin turns it into one
warning (or a build failure in strict mode)."""
from __future__ import annotations


class TrainerError(Exception):
    """Base class: an expected failure with a one-line, user-facing message."""


class CorpusError(TrainerError):
    """The corpus is missing, empty, unreadable or malformed."""


class ModelError(TrainerError):
    """A model or tokenizer cannot be found, downloaded, loaded or does not match."""


class RunFolderError(TrainerError):
    """The run folder cannot be written, or was made with incompatible settings."""


class OutOfMemory(TrainerError):
    """Training or sampling ran out of (GPU) memory."""
