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



@pytest.mark.parametrize("durable", [True, False])
def test_output_pages_skip_the_fsync_but_stay_atomic(tmp_path, monkeypatch, durable):
    """durable=False (a site's output pages, rebuilt every build) writes through a temporary file
    and a rename like the durable path, without the two fsyncs that cost seconds on big sites."""
    synced, renamed = [], []
    real_replace = os.replace
    monkeypatch.setattr(fileio.os, "fsync", lambda fd: synced.append(fd))
    monkeypatch.setattr(fileio.os, "replace", lambda a, b: (renamed.append((a, b)), real_replace(a, b)))
    target = tmp_path / "page.html"
    target.write_text("old", encoding="utf-8")
    fileio.atomic_write_text(target, "new page", durable=durable)
    assert target.read_text(encoding="utf-8") == "new page"
    assert len(renamed) == 1 and renamed[0][1] == target and renamed[0][0] != str(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html"]
    assert bool(synced) is durable
