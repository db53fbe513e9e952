"""Which files the corpus builder reads, and reading them within limits.

A file found by walking a folder (the content folder, a ``--txt`` folder) is read only when it
belongs there: a regular file (never a FIFO, socket or device: opening one can block forever or
never end), no bigger than the size limit, and, unless ``--follow-symlinks``, not reached through a
symbolic link that leads out of the folder. A file named on the command line (``--csv``,
``--jsonl``) is the user's choice: only the size limit applies. Each refusal is a
:class:`Refused` with the manifest's reason and a detail that says what to do.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_FILE_MB = 20.0
_KINDS = [(stat.S_ISFIFO, "named pipe (FIFO)"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
          (stat.S_ISBLK, "block device"), (stat.S_ISDIR, "folder")]


@dataclass(frozen=True)
class FileLimits:
    max_bytes: int = int(DEFAULT_MAX_FILE_MB * 1_000_000)
    follow_symlinks: bool = False

    @classmethod
    def from_options(cls, max_file_mb: float, follow_symlinks: bool) -> FileLimits:
        return cls(max_bytes=int(max_file_mb * 1_000_000), follow_symlinks=follow_symlinks)


class Refused(Exception):
    """A file the corpus builder does not read: ``reason`` for the manifest, ``detail`` for people."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason} ({detail})")
        self.reason, self.detail = reason, detail


def size_text(size: int) -> str:
    """``"5,035 bytes"`` below a megabyte, else ``"25.17 MB"``."""
    return f"{size:,} bytes" if size < 1_000_000 else f"{size / 1_000_000:.4g} MB"


def outside_target(path: Path, root: Path) -> str | None:
    """Where ``path`` really is when symbolic links take it out of ``root``, else None."""
    real, base = os.path.realpath(path), os.path.realpath(root)
    try:
        if os.path.commonpath([real, base]) == base:
            return None
    except ValueError:  # another drive on Windows
        pass
    return real


def outside_detail(target: str, root: Path) -> str:
    return f"a symbolic link to {target}, outside {root}; --follow-symlinks reads it"


def _too_large(what: str) -> Refused:
    return Refused("too-large", f"{what}; --max-file-size MB reads bigger files")


def read_file(path: Path, limits: FileLimits, root: Path | None = None) -> bytes:
    """The bytes of ``path``, or :class:`Refused`. ``root``: the folder it was found in (None for a
    file the user named). The size comes from ``stat`` (nothing is opened before it is checked) and
    at most ``max_bytes + 1`` bytes are read, so a file growing meanwhile cannot exhaust memory."""
    limit = size_text(limits.max_bytes)
    try:
        info = os.stat(path)  # first: a link that leads nowhere is unreadable, wherever it points
        if root is not None and not limits.follow_symlinks:
            target = outside_target(path, root)
            if target is not None:
                raise Refused("outside-content", outside_detail(target, root))
        regular = stat.S_ISREG(info.st_mode)
        if root is not None and not regular:
            raise _not_a_file(info.st_mode)
        if regular and info.st_size > limits.max_bytes:
            raise _too_large(f"{size_text(info.st_size)}, over the {limit} limit")
        # O_NONBLOCK: should the file become a FIFO after the check, opening it cannot block.
        nonblock = getattr(os, "O_NONBLOCK", 0) if root is not None else 0
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0) | nonblock)
        with open(fd, "rb") as handle:
            mode = os.fstat(fd).st_mode
            if root is not None and not stat.S_ISREG(mode):
                raise _not_a_file(mode)
            data = handle.read(limits.max_bytes + 1)
    except OSError as exc:
        raise Refused("unreadable", exc.strerror or str(exc)) from None
    if len(data) > limits.max_bytes:
        raise _too_large(f"grew past the {limit} limit while being read" if regular else f"more than {limit}")
    return data


def _not_a_file(mode: int) -> Refused:
    kind = next((name for test, name in _KINDS if test(mode)), "special file")
    return Refused("not-a-file", f"a {kind}, not a regular file; only regular files are read")
