"""Issue 7, item 6: a full disk or a read-only folder while writing the corpus, a checkpoint or a post.

Real file systems where the machine allows: a small tmpfs is mounted (root only), filled up or
remounted read-only, and the real CLIs run against it. Where ``mount`` is refused those tests skip
with the reason, and the simulated variants still run: the temporary file that every atomic write
goes through is opened on ``/dev/full`` (a real ENOSPC from the kernel) or the folder is made
read-only for the process.

The promise each time: the command fails with one clear line (no traceback), and the previous
files are intact: byte for byte, loadable, and no half-written file is left under a real name.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import subprocess
import uuid
from pathlib import Path

import pytest

import stub_build
from reliability_harness import run_cli


# --------------------------------------------------------------------------- helpers
def digest_tree(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.startswith(".")}


@contextlib.contextmanager
def small_tmpfs(folder: Path, size: str):
    """Mount a tmpfs of ``size`` on ``folder``; skip the test when the machine refuses."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a size-limited tmpfs needs root; the simulated variants cover this")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"mount refused ({done.stderr.strip() or done.returncode}); the simulated variants cover this")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def fill(folder: Path, leave: int = 0) -> None:
    """Fill the file system of ``folder`` up to ``leave`` free bytes."""
    stats = os.statvfs(folder)
    free = stats.f_bavail * stats.f_frsize
    with open(folder / f"filler-{uuid.uuid4().hex}", "wb") as handle:
        try:
            handle.write(b"\0" * max(0, free - leave))
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


def remount_read_only(folder: Path) -> None:
    done = subprocess.run(["mount", "-o", "remount,ro", str(folder)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"remount read-only refused: {done.stderr.strip()}")


def assert_one_clear_line(outcome) -> None:
    assert outcome.returncode not in (0, None), "the command claimed success"
    assert not outcome.timed_out
    output = outcome.stdout + outcome.stderr  # Pelican logs to stdout, the CLIs to stderr
    assert "Traceback" not in output, output[-3000:]
    errors = [line for line in output.splitlines() if "rror" in line or "CRITICAL" in line]
    assert errors, f"no error line in: {output[-1500:]}"


def write_posts(content: Path, count: int, words: int = 400) -> None:
    content.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        body = " ".join(f"word{(n * 7 + i) % 997}" for i in range(words))
        (content / f"post-{n:03d}.md").write_text(f"Title: Post {n}\nDate: 2024-01-{n % 28 + 1:02d}\n\n{body}\n",
                                                 encoding="utf-8")


def corpus_builder(site: Path, output: Path):
    return run_cli(["-m", "corpus_builder.cli", "content", "-o", str(output), "-j", "1", "-q"], site, timeout=300)


@contextlib.contextmanager
def temp_files_on_dev_full(monkeypatch):
    """Every atomic write's temporary file is opened on /dev/full: writing it fails with ENOSPC."""
    import common.fileio as fileio

    real = fileio.tempfile.mkstemp

    def full_mkstemp(*args, **kwargs):
        fd, name = real(*args, **kwargs)
        os.close(fd)
        os.unlink(name)
        return os.open("/dev/full", os.O_WRONLY), name

    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    monkeypatch.setattr(fileio.tempfile, "mkstemp", full_mkstemp)
    yield


# --------------------------------------------------------------------------- corpus
@pytest.fixture
def corpus_site(tmp_path):
    site = tmp_path / "site"
    write_posts(site / "content", 40)
    return site


def _previous_corpus(site: Path, data: Path) -> dict:
    outcome = corpus_builder(site, data / "corpus.txt")
    assert outcome.returncode == 0, outcome.stderr[-2000:]
    write_posts(site / "content", 120)  # the next corpus is bigger than the space left
    return digest_tree(data)


def test_corpus_on_a_full_disk(corpus_site, tmp_path):
    data = tmp_path / "mnt"
    with small_tmpfs(data, "1m"):
        before = _previous_corpus(corpus_site, data)
        fill(data, leave=64 * 1024)
        before = {k: v for k, v in digest_tree(data).items() if not k.startswith("filler")} | before
        outcome = corpus_builder(corpus_site, data / "corpus.txt")
        assert_one_clear_line(outcome)
        after = {k: v for k, v in digest_tree(data).items() if not k.startswith("filler")}
        assert after == before, "the previous corpus or manifest changed"
        assert not [p.name for p in data.iterdir() if p.name.endswith(".tmp")], "temporary files left"


def test_corpus_on_a_read_only_disk(corpus_site, tmp_path):
    data = tmp_path / "mnt"
    with small_tmpfs(data, "4m"):
        before = _previous_corpus(corpus_site, data)
        remount_read_only(data)
        outcome = corpus_builder(corpus_site, data / "corpus.txt")
        assert_one_clear_line(outcome)
        assert digest_tree(data) == before


def test_corpus_write_fails_with_enospc_simulated(corpus_site, tmp_path, monkeypatch):
    """Without mount: the temporary files are on /dev/full. In-process, through build_corpus."""
    from corpus_builder.build import BuildOptions, build_corpus
    from common.errors import CorpusError

    data = tmp_path / "data"
    monkeypatch.chdir(corpus_site)
    build_corpus(BuildOptions(content_dirs=["content"], output=data / "corpus.txt", workers=1))
    before = digest_tree(data)
    with temp_files_on_dev_full(monkeypatch):
        with pytest.raises(CorpusError) as info:  # the one-line error the CLI prints
            build_corpus(BuildOptions(content_dirs=["content"], output=data / "corpus.txt", workers=1))
    assert "\n" not in str(info.value)
    assert digest_tree(data) == before
    assert not [p.name for p in data.iterdir() if p.name.endswith(".tmp")]


# --------------------------------------------------------------------------- checkpoints
def test_checkpoint_on_a_full_disk(tmp_path, tiny_model_dir, tiny_texts):
    from common.corpus_format import join_documents
    from trainer.training.checkpoint import list_checkpoints, load_latest

    mount = tmp_path / "mnt"
    corpus = tmp_path / "data" / "corpus.txt"
    corpus.parent.mkdir()
    corpus.write_text(join_documents([f"Post {i}\n\n{t}" for i, t in enumerate(tiny_texts * 3)]), encoding="utf-8")

    def fit(steps: int):
        return run_cli(["-m", "trainer.cli", "fit", "--corpus", str(corpus), "--model", str(tiny_model_dir),
                        "-r", str(mount / "run"), "--steps", str(steps), "--block-size", "32", "--batch-size", "2",
                        "--eval-every", "1000", "--sample-every", "0", "--save-every", "1", "--keep", "2",
                        "--precision", "fp32", "--compile", "off", "--device", "cpu", "--no-progress"],
                       tmp_path, timeout=600)

    with small_tmpfs(mount, "32m"):
        first = fit(2)
        assert first.returncode == 0, first.stderr[-2000:]
        before = digest_tree(mount / "run" / "checkpoints")
        fill(mount, leave=256 * 1024)  # less than one checkpoint
        outcome = fit(2)
        assert outcome.returncode != 0
        assert digest_tree(mount / "run" / "checkpoints") == before
        assert [step for step, _ in list_checkpoints(mount / "run")] == [1, 2]
        assert load_latest(mount / "run", load_model=True).step == 2
        assert_one_clear_line(outcome)


# --------------------------------------------------------------------------- posts
@pytest.mark.parametrize("strict", [False, True])
def test_post_on_a_full_disk(tmp_path, strict):
    """Default: the build goes on without today's post and says why in one warning. Strict: the
    build fails with one CRITICAL line that names the cause. Never a traceback."""
    site = tmp_path / "site"
    stub_build.write_site(site, f"DAILY_POST_STRICT = {strict}\n")
    generated = site / "content" / "generated"
    with small_tmpfs(generated, "256k"):
        old = generated / "2026-03-13-yesterday.md"
        old.write_text("Title: Yesterday\nDate: 2026-03-13 06:00\nGenerated: true\n\nYesterday's post.\n",
                       encoding="utf-8")
        before = digest_tree(generated)
        fill(generated, leave=8 * 1024)
        outcome = run_cli([str(Path(stub_build.__file__)), str(site), "--day", "2026-03-14", "--body-kb", "64"],
                          site, timeout=300)
        output = " ".join((outcome.stdout + outcome.stderr).split())
        assert "No space left on device" in output, output[-2000:]
        assert "Traceback" not in output, output[-3000:]
        if strict:
            assert outcome.returncode != 0
            assert "CRITICAL" in output, output[-2000:]
        else:
            assert outcome.returncode == 0, output[-2000:]
        after = {k: v for k, v in digest_tree(generated).items() if not k.startswith("filler")}
        assert after == before
        assert not list(generated.glob("2026-03-14-*"))
        assert not [p.name for p in generated.iterdir() if p.name.endswith(".tmp")], "temporary files left"


def test_post_write_fails_with_enospc_simulated(tmp_path, monkeypatch):
    """Without mount: the post's temporary file is on /dev/full; publish fails, nothing is left."""
    import datetime as dt

    from plugin import store

    folder = tmp_path / "generated"
    folder.mkdir()
    old = folder / "2026-03-13-yesterday.md"
    old.write_text("Title: Yesterday\nGenerated: true\n\nbody\n", encoding="utf-8")
    with temp_files_on_dev_full(monkeypatch):
        with pytest.raises(OSError) as info:
            store.write_post(folder, dt.date(2026, 3, 14), "today", "Title: Today\n\nbody\n")
    assert info.value.errno == errno.ENOSPC
    assert sorted(p.name for p in folder.iterdir()) == ["2026-03-13-yesterday.md"]
    assert old.read_text(encoding="utf-8").endswith("body\n")
