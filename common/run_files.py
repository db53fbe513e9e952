"""Reading a file of a run folder that the site publishes from (``train.json``, ``loss.png``,
``report.json``). A run folder is untrusted input: copied from another machine, unpacked from an
archive, shared by a colleague. A ``loss.png`` that was a symbolic link once published a secret
file's bytes with the site.

``read_run_file`` reads a file only when it is a regular file right in the folder: no symbolic
link (not even to a file of the same folder), no FIFO, device or folder, nothing larger than the
caller's limit. The file is opened without following a link (``O_NOFOLLOW``, and non-blocking, so
a FIFO swapped in cannot hang the build) and checked again on the open file, so a link put in
place between the check and the read is refused too. The folder itself may be a link
(``models/blog -> runs/2026-11-20``): its files are those of the folder it resolves to.
Torch-free, Pelican-free.
"""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from common.errors import RunFolderError


class UnsafeRunFile(RunFolderError):
    """A run folder's file that is not read (one line: which file, why, what to do)."""


def _check(info: os.stat_result, path: Path, max_bytes: int) -> None:
    if stat.S_ISLNK(info.st_mode):
        raise UnsafeRunFile(f"{path} is a symbolic link: the site publishes only regular files of the run "
                            "folder; put the file itself there")
    if not stat.S_ISREG(info.st_mode):
        raise UnsafeRunFile(f"{path} is not a regular file: remove it, or put the file `trainer` writes there")
    if info.st_size > max_bytes:
        raise UnsafeRunFile(f"{path} is larger than {max_bytes:,} bytes ({info.st_size:,}): "
                            "the site publishes nothing that large from a run folder; write it again")


def read_run_file(folder: str | os.PathLike, name: str, max_bytes: int) -> bytes | None:
    """The bytes of ``folder/name``, or None when there is no such file. ``UnsafeRunFile`` when it
    is a link, not a regular file, larger than ``max_bytes`` or unreadable."""
    if not name or name in (".", "..") or "/" in name or os.sep in name or (os.altsep and os.altsep in name):
        raise ValueError(f"not a file name: {name!r}")
    base = Path(folder).resolve()
    path = base / name
    try:
        _check(os.lstat(path), Path(folder) / name, max_bytes)
    except FileNotFoundError:
        return None
    except OSError as err:
        raise UnsafeRunFile(f"cannot read {Path(folder) / name} ({err.strerror}): check its permissions") from None
    if Path(os.path.realpath(path)).parent != base:  # e.g. a Windows junction: not in the folder
        raise UnsafeRunFile(f"{Path(folder) / name} resolves to a file outside the run folder: put the file "
                            "itself there")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as err:
        if err.errno == errno.ELOOP:  # became a link after the check
            _check(os.lstat(path), Path(folder) / name, max_bytes)
        raise UnsafeRunFile(f"cannot read {Path(folder) / name} ({err.strerror}): check its permissions") from None
    with os.fdopen(fd, "rb") as handle:
        _check(os.fstat(handle.fileno()), Path(folder) / name, max_bytes)
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:  # grew since fstat
        raise UnsafeRunFile(f"{Path(folder) / name} is larger than {max_bytes:,} bytes: the site publishes "
                            "nothing that large from a run folder; write it again")
    return data
