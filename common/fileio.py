"""Small file helpers shared by every stage: atomic writes and content hashes.

Nothing here imports torch or Pelican, so the corpus builder, the trainer and the plugin can all
use it. "Atomic" means: write a temporary file (or folder) in the target's own directory, flush it
to disk, then rename it over the target. A crash at any moment leaves either the old file or the
new one, never a half-written one. New files get the permissions a plain ``open()`` would give them
(0666 less the umask), not the 0600 of ``tempfile.mkstemp``.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

# Lone surrogates: how Python holds the bytes of a file name that is not valid UTF-8
# (os.fsdecode's "surrogateescape"). They cannot be encoded as UTF-8.
_SURROGATE = re.compile("[\ud800-\udfff]")


def current_umask() -> int:
    """The process umask. Read from /proc/self/status (Linux) without changing it; elsewhere set
    and restored with ``os.umask`` (two calls: another thread creating a file in between would get
    umask 0o022 for it)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _mkstemp_like_open(target: Path) -> tuple[int, str]:
    """A temporary file next to ``target`` with the mode ``open()`` would give a new file (where
    the file system keeps modes at all: elsewhere it stays as mkstemp made it)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o666 & ~current_umask())
    except OSError:
        pass  # e.g. a FAT or SMB mount that refuses chmod: a plain open() would work there too
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    return fd, tmp


def atomic_write_bytes(path: str | os.PathLike, data: bytes, durable: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically; create parent folders as needed (``durable``: see
    ``atomic_write_files``)."""
    return atomic_write_files([(path, data)], durable)[0]


def atomic_write_files(files: list[tuple[str | os.PathLike, bytes]], durable: bool = True) -> list[Path]:
    """Write several files that belong together, each atomically, replacing them in the given order.

    Every temporary file is written and flushed to disk before the first target is replaced, so a
    failure while writing (disk full, permissions, an exception) leaves all the targets as they
    were. Only a crash in the instant between two renames can leave the earlier ones new and the
    later ones old: list first the file whose being newer is harmless.

    ``durable=False`` skips the fsyncs, for files rebuilt from others on every run (a site's output
    pages): a reader still sees the old file or the new one, never half of one, but a power cut may
    lose the new one (the next build writes it again). An fsync costs about 0.5 ms a file, which
    is seconds on a site of thousands of pages.
    """
    targets = [Path(path) for path, _ in files]
    temps: list[str] = []
    try:
        for target, (_, data) in zip(targets, files):
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = _mkstemp_like_open(target)
            temps.append(tmp)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                if durable:
                    handle.flush()
                    os.fsync(handle.fileno())
        for target, tmp in zip(targets, temps):
            os.replace(tmp, target)
    except BaseException:
        for tmp in temps:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
        raise
    if durable:
        for folder in dict.fromkeys(target.parent for target in targets):
            _fsync_dir(folder)
    return targets


def atomic_write_text(path: str | os.PathLike, text: str, durable: bool = True) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically (newlines are written as given)."""
    return atomic_write_bytes(path, text.encode("utf-8"), durable)


def json_bytes(obj: Any) -> bytes:
    """``obj`` as indented, key-sorted JSON (deterministic bytes), encoded as UTF-8.

    Non-ASCII text stays readable. File names that are not valid UTF-8 (lone surrogates in a
    Python string) are written as ``\\udcXX`` escapes: the file stays valid UTF-8 and
    ``json.loads`` gives back the same string, from which ``os.fsencode`` gives the original bytes.
    """
    text = json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    text = _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text.encode("utf-8")


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as :func:`json_bytes` atomically."""
    return atomic_write_bytes(path, json_bytes(obj))


def atomic_create_text(path: str | os.PathLike, text: str) -> bool:
    """Create ``path`` with ``text`` only if it does not exist yet; never overwrite.

    The content is written to a temporary file first and then hard-linked into place, so the
    final name either does not exist or holds the whole text. Returns False when ``path``
    already existed (its content is left untouched).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _mkstemp_like_open(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        _fsync_dir(path.parent)
        return True
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


def atomic_replace_dir(tmp_dir: str | os.PathLike, final_dir: str | os.PathLike) -> Path:
    """Move a fully written ``tmp_dir`` into place as ``final_dir`` (same parent folder).

    An existing ``final_dir`` is moved aside first and removed only after the new one is in
    place, so a crash leaves at least one complete copy.
    """
    tmp_dir, final_dir = Path(tmp_dir), Path(final_dir)
    old = None
    if final_dir.exists():
        old = final_dir.with_name(f".{final_dir.name}.old-{os.getpid()}")
        if old.exists():
            shutil.rmtree(old)
        os.replace(final_dir, old)
    os.replace(tmp_dir, final_dir)
    _fsync_dir(final_dir.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return final_dir


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
