"""common.run_files: only a regular file right in the run folder is read, never past a size limit."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from common import run_files
from common.run_files import UnsafeRunFile, read_run_file


@pytest.fixture
def folder(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "train.json").write_bytes(b'{"steps": 1}')
    (tmp_path / "secret.txt").write_bytes(b"password=hunter2")
    return run


def refused(folder, name, limit=1000) -> str:
    with pytest.raises(UnsafeRunFile) as caught:
        read_run_file(folder, name, limit)
    message = str(caught.value)
    assert str(folder / name) in message and "\n" not in message
    return message


def test_a_regular_file_is_read_and_a_missing_one_is_none(folder):
    assert read_run_file(folder, "train.json", 1000) == b'{"steps": 1}'
    assert read_run_file(folder, "loss.png", 1000) is None


@pytest.mark.parametrize("target", ["../secret.txt", "train.json", "/etc/hostname", "nowhere"])
def test_a_symbolic_link_is_refused_wherever_it_points(folder, target):
    (folder / "link").symlink_to(target)
    assert "is a symbolic link" in refused(folder, "link")


def test_a_folder_fifo_or_device_is_refused_without_blocking(folder):
    (folder / "dir").mkdir()
    os.mkfifo(folder / "fifo")
    assert "not a regular file" in refused(folder, "dir")
    assert "not a regular file" in refused(folder, "fifo")
    if os.path.exists("/dev/zero"):
        assert "not a regular file" in refused(Path("/dev"), "zero")


def test_a_file_over_the_limit_is_refused(folder):
    (folder / "big").write_bytes(b"x" * 1001)
    assert "larger than 1,000 bytes (1,001)" in refused(folder, "big")
    assert read_run_file(folder, "big", 1001) == b"x" * 1001


def test_the_folder_itself_may_be_a_link(folder, tmp_path):
    (tmp_path / "current").symlink_to(folder, target_is_directory=True)
    assert read_run_file(tmp_path / "current", "train.json", 1000) == b'{"steps": 1}'


def test_a_link_swapped_in_after_the_check_is_not_followed(folder, monkeypatch):
    """The file is checked, then opened with O_NOFOLLOW: a link put there in between is refused."""
    (folder / "loss.png").symlink_to(folder.parent / "secret.txt")
    regular = os.lstat(folder / "train.json")
    real_lstat = os.lstat
    calls = []

    def lstat_once_regular(path, *args, **kwargs):
        calls.append(path)
        return regular if len(calls) == 1 else real_lstat(path, *args, **kwargs)

    monkeypatch.setattr(run_files.os, "lstat", lstat_once_regular)
    assert "is a symbolic link" in refused(folder, "loss.png")


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "../secret.txt"])
def test_only_a_plain_file_name_is_taken(folder, name):
    with pytest.raises(ValueError):
        read_run_file(folder, name, 1000)
