"""Files written atomically get the permissions a plain open() gives a new file (0666 & ~umask),
not the 0600 of tempfile.mkstemp: a post, corpus or manifest written by cron must stay readable by
the web server or the CI user that reads it next."""
from __future__ import annotations

import os
import stat

import pytest

from common import fileio


@pytest.fixture(params=[0o022, 0o027, 0o002])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _open_mode(tmp_path) -> int:
    with open(tmp_path / "plain.txt", "w", encoding="utf-8") as handle:
        handle.write("x")
    return _mode(tmp_path / "plain.txt")


def test_current_umask_reads_without_changing_it(umask):
    assert fileio.current_umask() == umask
    assert fileio.current_umask() == umask


def test_atomic_writes_give_the_mode_open_gives(tmp_path, umask):
    expected = _open_mode(tmp_path)
    assert expected == 0o666 & ~umask
    fileio.atomic_write_bytes(tmp_path / "a.bin", b"data")
    fileio.atomic_write_text(tmp_path / "b.txt", "text")
    fileio.atomic_write_json(tmp_path / "c.json", {"k": 1})
    fileio.atomic_write_files([(tmp_path / "d1.txt", b"1"), (tmp_path / "d2.txt", b"2")])
    assert fileio.atomic_create_text(tmp_path / "e.md", "post")
    for name in ("a.bin", "b.txt", "c.json", "d1.txt", "d2.txt", "e.md"):
        assert _mode(tmp_path / name) == expected, name

