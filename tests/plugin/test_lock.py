"""The build lock (plugin.store.folder_lock) with each lock implementation the plugin may run on.

The plugin locks with ``filelock.FileLock``: ``UnixFileLock`` (flock) on Linux and macOS,
``WindowsFileLock`` (msvcrt, LockFileEx) on Windows; both are OS-level locks that the kernel releases
when their holder dies. These tests run with ``plugin_site.LOCK_CLASSES``: the platform's own lock
and ``filelock.SoftFileLock``, the portable implementation filelock falls back to where no OS lock
exists (a marker file; a holder killed on the same host is recognised by its PID). Limitation:
``WindowsFileLock`` cannot run off Windows (msvcrt is missing), so on Linux, where these tests
usually run, they prove the Unix lock and the portable one, not the Windows lock itself; run on
Windows, they take WindowsFileLock in place of UnixFileLock. The concurrent-build test
(test_processes.py) runs with the same list.

Each holder and waiter is its own Python process, as concurrent builds are: one holds the lock, the
others wait for it; a killed holder leaves no lock that blocks the next build; a lock file that
cannot be created (a read-only folder) fails at once with PermissionError, as the flock did.
"""
from __future__ import annotations

import errno
import fnmatch
import os
import queue
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time

import filelock
import pytest
from plugin_site import HERE, LOCK_CLASSES, NATIVE_LOCK, REPO, use_lock

from plugin import store

TIMEOUT = 120  # seconds; a waiter that is not let in by then is stuck

# python -c CHILD LOCK_CLASS FOLDER hold|once: take folder_lock and say when; "hold" keeps it until a
# line comes on stdin (or the process is killed). Exit 3 with "error TYPE MESSAGE" on an OSError.
CHILD = f"""
import sys, time
from pathlib import Path
sys.path.insert(0, {str(HERE)!r})
import plugin_site
plugin_site.use_lock(sys.argv[1])
from plugin import store
folder, mode = Path(sys.argv[2]), sys.argv[3]
print("trying", time.time(), flush=True)
try:
    with store.folder_lock(folder):
        print("acquired", time.time(), flush=True)
        if mode == "hold":
            sys.stdin.readline()
        print("releasing", time.time(), flush=True)
except OSError as err:
    print("error", type(err).__name__, err, flush=True)
    sys.exit(3)
print("released", time.time(), flush=True)
"""


class Child:
    """A process running CHILD, its stdout lines read into a queue as they come."""

    def __init__(self, lock: str, folder, mode: str, run_as: tuple[list[str], dict] = ([], {})):
        prefix, options = run_as
        self.proc = subprocess.Popen(prefix + [sys.executable, "-c", CHILD, lock, str(folder), mode],
                                     cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, **options)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put("")  # end of output

    def expect(self, word: str, timeout: float = TIMEOUT) -> float:
        """Wait for the line starting with ``word``; the time it carries."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {word!r} within {timeout} s; output: {self.seen}") from None
            self.seen.append(line)
            if line.startswith(word + " "):
                return float(line.split()[1])
            if not line or line.startswith(("error ", "Traceback")):
                raise AssertionError(f"expected {word!r}; output: {self.seen} + {self.rest()}")

    def says_nothing_for(self, seconds: float) -> bool:
        """No line for ``seconds`` but folder_lock's notice that it waits (test_lock_timeout.py)."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return True
            self.seen.append(line)
            if not line.startswith("daily post: another build holds the lock"):
                return False

    def rest(self) -> list[str]:
        self.proc.wait(timeout=TIMEOUT)
        lines = []
        while True:
            try:
                line = self.lines.get(timeout=5)
            except queue.Empty:
                return lines
            if not line:
                return lines
            lines.append(line)

    def finish(self) -> int:
        if self.proc.poll() is None and self.proc.stdin:
            self.proc.stdin.close()
        return self.proc.wait(timeout=TIMEOUT)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=TIMEOUT)


@pytest.fixture
def children():
    started: list[Child] = []
    yield started
    for child in started:
        child.stop()


@pytest.mark.parametrize("lock", LOCK_CLASSES)
def test_one_build_holds_the_lock_and_the_others_wait(tmp_path, children, lock):
    folder = tmp_path / "generated"
    holder = Child(lock, folder, "hold")
    children.append(holder)
    holder.expect("acquired")
    waiters = [Child(lock, folder, "once") for _ in range(2)]
    children.extend(waiters)
    for waiter in waiters:
        waiter.expect("trying")
    assert all(waiter.says_nothing_for(1.0) for waiter in waiters), [w.seen for w in waiters]
    holder.proc.stdin.write("release\n")
    holder.proc.stdin.flush()
    released = holder.expect("releasing")
    assert holder.finish() == 0
    spans = []
    for waiter in waiters:  # each got in after the holder let go, and one at a time
        spans.append((waiter.expect("acquired"), waiter.expect("releasing")))
        assert waiter.finish() == 0
        assert spans[-1][0] >= released
    spans.sort()
    assert spans[0][1] <= spans[1][0], spans
    assert (folder / store.LOCK_NAME).exists() == (lock != "SoftFileLock")


@pytest.mark.parametrize("lock", LOCK_CLASSES)
def test_a_killed_holder_leaves_no_lock_that_blocks_the_next_build(tmp_path, children, lock):
    folder = tmp_path / "generated"
    holder = Child(lock, folder, "hold")
    children.append(holder)
    holder.expect("acquired")
    holder.proc.kill()  # SIGKILL on POSIX, TerminateProcess on Windows: no cleanup runs
    holder.proc.wait(timeout=TIMEOUT)
    assert (folder / store.LOCK_NAME).exists()  # what it leaves: the lock file, held by nobody
    nxt = Child(lock, folder, "once")
    children.append(nxt)
    nxt.expect("acquired", timeout=60)
    assert nxt.finish() == 0


@pytest.mark.parametrize("lock", LOCK_CLASSES)
def test_the_lock_leaves_only_its_file_which_gitignore_can_name(tmp_path, monkeypatch, lock):
    use_lock(lock, monkeypatch)
    with store.folder_lock(tmp_path / "generated"):
        assert [p.name for p in (tmp_path / "generated").iterdir()] == [store.LOCK_NAME]
    left = sorted(p.name for p in (tmp_path / "generated").iterdir())
    assert left == ([] if lock == "SoftFileLock" else [store.LOCK_NAME])
    assert fnmatch.fnmatch(store.LOCK_NAME, ".*.lock")  # the .gitignore rule content/generated/.*.lock
    if left:
        assert (tmp_path / "generated" / store.LOCK_NAME).stat().st_size == 0


@pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX")
def test_without_flock_the_build_fails_as_it_did_and_takes_no_soft_lock(tmp_path, monkeypatch):
    """A file system without flock (ENOSYS): the plugin's OSError, as with the bare flock before,
    not filelock's fallback to a marker file that a killed build could leave behind."""
    import fcntl

    def no_flock(fd, operation):
        raise OSError(errno.ENOSYS, "Function not implemented")

    monkeypatch.setattr(fcntl, "flock", no_flock)
    assert store.LOCK_CLASS is filelock.FileLock
    with pytest.raises(OSError) as caught:
        with store.folder_lock(tmp_path):
            pytest.fail("locked without flock")
    assert caught.value.errno == errno.ENOSYS
    assert (tmp_path / store.LOCK_NAME).read_bytes() == b""  # no soft-lock marker written


# --------------------------------------------------------------------------- read-only folders

NOBODY = 65534


def _as_nobody() -> tuple[list[str], dict] | None:
    """How to run a child as nobody from root: setpriv, else Popen's user/group (which cannot run an
    interpreter under a folder only root may enter, such as a pyenv in /root); None if neither can
    import the plugin."""
    ways = [([], {"user": NOBODY, "group": NOBODY, "extra_groups": []})]
    if shutil.which("setpriv"):
        ways.insert(0, (["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"], {}))
    script = (f"import os, sys; sys.path.insert(0, {str(HERE)!r}); "
              "import plugin.store, plugin_site; print(os.geteuid())")
    for prefix, options in ways:
        try:
            probe = subprocess.run(prefix + [sys.executable, "-c", script], cwd=REPO, capture_output=True,
                                   text=True, timeout=TIMEOUT, **options)
        except OSError:
            continue
        if probe.returncode == 0 and probe.stdout.split() == [str(NOBODY)]:
            return prefix, options
    return None


@pytest.fixture
def unprivileged():
    """(a folder any user can enter, how to run a child without root's right to ignore file
    modes). Skips where that cannot be had."""
    if sys.platform == "win32":
        pytest.skip("a read-only folder on Windows is a matter of ACLs, not of file modes")
    run_as: tuple[list[str], dict] | None = ([], {})
    if os.geteuid() == 0:  # root writes into any folder: run the child as nobody
        run_as = _as_nobody()
        if run_as is None:
            pytest.skip("running as root, and no way to run the plugin as an unprivileged user")
    base = tempfile.mkdtemp(prefix="daily-post-lock-")
    os.chmod(base, 0o755)
    try:
        yield base, run_as
    finally:
        for root, dirs, _ in os.walk(base):
            for name in dirs:
                os.chmod(os.path.join(root, name), 0o755)
        shutil.rmtree(base, ignore_errors=True)


def _read_only_folder(base: str, name: str, lock_mode: int | None):
    folder = os.path.join(base, name)
    os.mkdir(folder)
    if lock_mode is not None:
        path = os.path.join(folder, store.LOCK_NAME)
        open(path, "w").close()
        os.chmod(path, lock_mode)
    os.chmod(folder, stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    return folder


@pytest.mark.parametrize("lock", LOCK_CLASSES)
def test_a_lock_file_that_cannot_be_created_fails_at_once(unprivileged, children, lock):
    """A read-only folder without the lock file: PermissionError naming the lock file, at once, no
    wait; the build then goes on without today's post (or fails in strict mode), as before."""
    base, run_as = unprivileged
    folder = _read_only_folder(base, f"no-lock-{lock}", None)
    child = Child(lock, folder, "once", run_as)
    children.append(child)
    started = time.monotonic()
    assert child.proc.wait(timeout=TIMEOUT) == 3
    output = child.rest()
    assert time.monotonic() - started < 60
    errors = [line for line in output if line.startswith("error PermissionError")]
    assert errors and store.LOCK_NAME in errors[0], output
    assert os.listdir(folder) == []


@pytest.mark.parametrize(("lock_mode", "outcome"), [(0o644, "error"), (0o666, "acquired")],
                         ids=["lock-file-not-writable", "lock-file-writable"])
def test_an_existing_lock_file_in_a_read_only_folder_behaves_as_with_flock(unprivileged, children, lock_mode,
                                                                           outcome):
    """The OS lock only (a SoftFileLock reads any existing file as a held lock): a lock file the
    build may not write is a PermissionError; one it may write is locked, read-only folder or not."""
    base, run_as = unprivileged
    folder = _read_only_folder(base, f"lock-{lock_mode:o}", lock_mode)
    child = Child(NATIVE_LOCK, folder, "once", run_as)
    children.append(child)
    code = child.proc.wait(timeout=TIMEOUT)
    output = child.rest()
    assert (code, any(line.startswith(outcome + " ") for line in output)) == (3 if outcome == "error" else 0,
                                                                              True), output
    assert os.listdir(folder) == [store.LOCK_NAME]
