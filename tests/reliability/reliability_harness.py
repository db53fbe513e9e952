"""Running the project's CLIs the way a user does (a child process), under limits.

A child process is the only honest way to attack the pipeline: a crash, a hang, a memory blow-up
or a SIGKILL hits the child, and the test sees exit codes, stderr and the files left behind.
"""
from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
FULL = os.environ.get("RELIABILITY_FULL", "").strip() not in ("", "0", "false", "no")


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False


def child_env(**extra: str) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    env["PYTHONHASHSEED"] = "0"
    env.update(extra)
    return env


def _limits(memory_bytes: int | None):
    def apply():
        if memory_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    return apply


def run_cli(args: list[str], cwd: Path, *, timeout: float, memory_bytes: int | None = None,
            prefix: list[str] | None = None, env: dict | None = None) -> Outcome:
    """Run ``python -m ...`` style ``args`` in ``cwd``; a hang past ``timeout`` is killed and reported."""
    command = list(prefix or []) + [PYTHON] + args
    start = time.monotonic()
    try:
        done = subprocess.run(command, cwd=cwd, env=env or child_env(), capture_output=True, timeout=timeout,
                              preexec_fn=_limits(memory_bytes))
    except subprocess.TimeoutExpired as exc:
        return Outcome(-9, _text(exc.stdout), _text(exc.stderr), time.monotonic() - start, timed_out=True)
    return Outcome(done.returncode, _text(done.stdout), _text(done.stderr), time.monotonic() - start)


def _text(data) -> str:
    if data is None:
        return ""
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else data
