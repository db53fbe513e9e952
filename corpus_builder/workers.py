"""Reading post files in worker processes, each file within a time limit (``--file-timeout``).

One post can take minutes to convert (Python-Markdown is quadratic on a long run of ``[``: 20,000
of them took 160 s), and the build must stop that file, not wait or give up. Only a process can be
stopped at any point on every platform: a thread cannot be killed, and ``signal.setitimer`` exists
only on POSIX, only in the main thread, and cannot interrupt a long call inside a C extension (a
regular expression, a parser). So files are read in worker processes, and a file that runs out of
time has its worker killed (``TerminateProcess`` on Windows) and excluded as ``too-slow``; a worker
that dies (a crash in a C extension, a memory limit) loses only its file, as ``unreadable``.

The normal path stays fast: each worker is started once and reused, file after file (one small
message each way per file), and a new one is started only after a kill. Workers start with
``fork`` where the platform has it (a few milliseconds, as the reading pool always did), else
``spawn`` (Windows: each worker first imports Pelican, about a second); a file's time starts when
its worker is ready, so start-up never counts against it. One loop in this (single-threaded)
process hands files to idle workers and waits on all of them with
``multiprocessing.connection.wait``, which works on every platform. With no time limit
(``--file-timeout 0``) and one worker, files are read in this process, as before.
"""
from __future__ import annotations

import gc
import logging
import multiprocessing
import signal
import time
from collections import deque
from multiprocessing.connection import wait
from pathlib import Path

from common.errors import CorpusError

from .readers import PostReader, ReadResult

START_METHOD = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


def _serve(conn, inherited: list, reader_args) -> None:
    """A worker: say it is ready, then read each ``(path, root, display)`` received and send back its
    ReadResult, until the parent goes (``inherited``: the parent's ends of the pipes, which a forked
    child must close, or it would never see the parent go)."""
    from .settings import load_settings

    for parent_end in inherited:
        parent_end.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it ends us
    logging.getLogger("pelican").setLevel(logging.ERROR)
    settings_file, kwargs = reader_args
    reader = PostReader(load_settings(settings_file), **kwargs)
    conn.send("ready")
    while True:
        try:
            path, root, display = conn.recv()
        except EOFError:  # the parent has gone
            return
        try:
            result = reader.read(Path(path), Path(root), display)
        except Exception as exc:  # e.g. MemoryError: this file is lost, not the worker
            result = ReadResult(path=display, fmt=Path(path).suffix[1:].lower(), reason="unreadable",
                                detail=f"{type(exc).__name__} while reading")
        try:
            conn.send(result)
        except OSError:  # the parent has gone
            return


class _Worker:
    """One worker process. ``ready`` once it has started (start-up counts against no file);
    ``queue``: the tasks sent to it and not yet answered, read in that order; ``deadline``: when the
    first of them runs out of time (its clock starts when the answer before it arrives)."""

    def __init__(self, context, reader_args, pool: list[_Worker]):
        self.conn, child_conn = context.Pipe()
        inherited = [w.conn for w in pool] + [self.conn] if START_METHOD == "fork" else []
        self.process = context.Process(target=_serve, args=(child_conn, inherited, reader_args), daemon=True)
        gc.freeze()  # a forked child then leaves the parent's objects alone: no copy of its whole heap
        try:
            self.process.start()
        except OSError as exc:
            raise CorpusError(f"cannot start a process to read posts ({exc.strerror or exc}); "
                              "--file-timeout 0 reads them in this process") from None
        finally:
            gc.unfreeze()
        child_conn.close()
        self.ready = False
        self.queue: deque[int] = deque()
        self.deadline = float("inf")

    def started(self) -> None:
        try:
            self.ready = self.conn.recv() == "ready"
        except (EOFError, OSError):
            self.process.join()
            code = self.process.exitcode
            raise CorpusError(f"a process to read posts died as it started (exit code {code}); "
                              "--file-timeout 0 reads them in this process") from None

    def give(self, index: int, task, timeout: float | None) -> None:
        try:
            self.conn.send(task)
        except OSError:  # it died while idle (killed from outside): the wait finds it dead
            pass
        self.queue.append(index)
        if len(self.queue) == 1:
            self.start_clock(timeout)

    def start_clock(self, timeout: float | None) -> None:
        self.deadline = time.monotonic() + timeout if timeout and self.queue else float("inf")

    def stop(self) -> None:
        """A worker has nothing to finish once its answers are in: it is killed, as one that ran out
        of time."""
        self.conn.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join()


def read_files(tasks: list, reader: PostReader, reader_args, workers: int, timeout: float | None,
               progress) -> list[ReadResult]:
    """Every task read, in the order of ``tasks``. ``reader_args``: ``(settings_file, PostReader
    keyword arguments)`` for the workers; ``progress``: a tqdm bar (``update(1)`` per file)."""
    if not timeout and workers == 1:
        results = []
        for path, root, display in tasks:
            results.append(reader.read(Path(path), Path(root), display))
            progress.update(1)
        return results
    context = multiprocessing.get_context(START_METHOD)
    results: list[ReadResult | None] = [None] * len(tasks)
    pending = list(reversed(range(len(tasks))))  # a stack: the next task is last
    pool: list[_Worker] = []
    try:
        for _ in range(min(workers, len(tasks))):
            pool.append(_Worker(context, reader_args, pool))
        while pending or any(w.queue for w in pool):
            for worker in pool:
                # Two files each: a worker never waits for this process to hand it the next one.
                while worker.ready and len(worker.queue) < 2 and pending:
                    index = pending.pop()
                    worker.give(index, tasks[index], timeout)
            waiting = [w for w in pool if not w.ready or w.queue]
            wait_s = min(w.deadline for w in waiting) - time.monotonic()
            ready = wait([w.conn for w in waiting], None if wait_s == float("inf") else max(0.0, wait_s))
            for number, worker in enumerate(pool):
                if not worker.ready:
                    if worker.conn in ready:
                        worker.started()
                    continue
                result, lost = _outcome(worker, tasks, ready, timeout) if worker.queue else (None, False)
                if result is None:
                    continue
                results[worker.queue.popleft()] = result
                worker.start_clock(timeout)
                progress.update(1)
                if lost:  # killed for time, or dead: its other file goes back, another worker comes
                    pending.extend(reversed(worker.queue))
                    worker.queue.clear()
                    worker.stop()
                    if pending:
                        pool[number] = _Worker(context, reader_args, pool)
    finally:
        for worker in pool:
            worker.stop()
    return results


def _outcome(worker: _Worker, tasks: list, ready: list, timeout) -> tuple[ReadResult | None, bool]:
    """``(result, whether the worker is lost)`` for the first file of its queue: its result when it
    has one, a too-slow or unreadable result when it ran out of time or died; ``(None, False)`` while
    it reads."""
    path, _, display = tasks[worker.queue[0]]
    fmt = Path(path).suffix[1:].lower()
    if worker.conn in ready:
        try:
            return worker.conn.recv(), False
        except (EOFError, OSError):
            worker.process.join()
            return ReadResult(path=display, fmt=fmt, reason="unreadable",
                              detail=f"the reading process died (exit code {worker.process.exitcode})"), True
    if time.monotonic() >= worker.deadline:
        return ReadResult(path=display, fmt=fmt, reason="too-slow",
                          detail=f"reading took more than {timeout:g} s and was stopped; "
                                 "--file-timeout SECONDS allows more"), True
    return None, False
