"""Issue 7, item 1: ``trainer fit`` killed with SIGKILL, resumed, ends where an unkilled run ends.

A tiny fit (2-layer, 64-dim GPT-2 from the shared fixture, a checkpoint after every step) runs as a
child process and is killed with SIGKILL at chosen moments: while a checkpoint folder is being
written (``checkpoints/.tmp-step-N-*`` exists), while the final model is being published
(``.final.tmp-*``), and at random moments during training. After every kill:

- every ``checkpoints/step-N/`` folder on disk loads completely (model, tokenizer, optimizer
  state): no checkpoint is ever half-readable;
- running ``trainer fit`` again resumes from the newest complete checkpoint (its log says so) with
  ``--steps`` = what is left, and exits 0.

At the end the weights equal, bit for bit, those of one uninterrupted run with the same seed (CPU,
fp32). Fast variant: 4 kills; ``RELIABILITY_FULL=1``: 20 kills (figures in docs/reliability.md).
"""
from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from reliability_harness import FULL, PYTHON, child_env

KILLS = 20 if FULL else 4
STEPS = 60 if FULL else 12  # room for every kill to land before the run ends
RUN_TIMEOUT = 600


def kill_mode(k: int) -> str | None:
    """The k-th kill: during a checkpoint write or at a random moment; the last one while the final
    model is published (after it no steps are left to kill)."""
    if k >= KILLS:
        return None
    if k == KILLS - 1:
        return "final"
    return "checkpoint" if k % 2 == 0 else "random"


def fit_args(corpus: Path, model: Path, run: Path, steps: int) -> list[str]:
    return [PYTHON, "-m", "trainer.cli", "fit", "--corpus", str(corpus), "--model", str(model), "-r", str(run),
            "--steps", str(steps), "--block-size", "32", "--batch-size", "2", "--lr", "1e-3", "--warmup", "0",
            "--schedule", "constant", "--eval-every", "1000", "--sample-every", "0", "--save-every", "1",
            "--keep", "2", "--seed", "5", "--precision", "fp32", "--compile", "off", "--device", "cpu",
            "--no-progress"]


@pytest.fixture(scope="module")
def fit_inputs(tmp_path_factory, tiny_model_dir, tiny_texts):
    from common.corpus_format import join_documents

    folder = tmp_path_factory.mktemp("fit")
    corpus = folder / "data" / "corpus.txt"
    corpus.parent.mkdir()
    corpus.write_text(join_documents([f"Post {i}\n\n{text}" for i, text in enumerate(tiny_texts * 3)]),
                      encoding="utf-8")
    return folder, corpus, Path(tiny_model_dir)


def _writing(run: Path, ignore: frozenset = frozenset()) -> str | None:
    """What is being written right now: 'checkpoint', 'final' or None. Leftovers of an earlier
    killed run (``ignore``) do not count."""
    try:
        for entry in os.scandir(run / "checkpoints"):
            if entry.name.startswith(".tmp-step-") and entry.name not in ignore:
                return "checkpoint"
    except FileNotFoundError:
        pass
    try:
        for entry in os.scandir(run):
            if entry.name.startswith((".final.tmp-", ".best.tmp-")) and entry.name not in ignore:
                return "final" if entry.name.startswith(".final") else "checkpoint"
    except FileNotFoundError:
        pass
    return None


def _leftovers(run: Path) -> frozenset:
    names = set()
    for folder in (run, run / "checkpoints"):
        if folder.is_dir():
            names |= {entry.name for entry in os.scandir(folder) if entry.name.startswith(".")}
    return frozenset(names)


def run_and_maybe_kill(args, run: Path, mode: str | None, delay: float, rng: random.Random,
                       after: int = 0, resumed: int = 0) -> dict:
    """Start ``args``; kill it per ``mode`` (None: let it finish; 'random': ``delay`` seconds after
    checkpoint ``after`` exists, or after the loop starts when ``after`` is the step it resumed
    from). Returns what happened, with the seconds spent in the loop."""
    log_file = run.parent / f"log-{time.monotonic_ns()}.txt"
    ignore = _leftovers(run)
    with open(log_file, "wb") as log:
        child = subprocess.Popen(args, cwd=run.parent, env=child_env(), stdout=log, stderr=subprocess.STDOUT)
        start = time.monotonic()
        training_since = anchor = None
        hit = None
        try:
            if mode is not None:
                wanted = {"checkpoint": "checkpoint", "final": "final"}.get(mode)
                skip = rng.randint(0, 2) if wanted == "checkpoint" else 0  # not always the first write
                seen_idle = True
                while child.poll() is None and time.monotonic() - start < RUN_TIMEOUT:
                    now = _writing(run, ignore)
                    if training_since is None and b"training " in log_file.read_bytes():
                        training_since = time.monotonic()
                    if wanted is None and anchor is None and training_since:
                        if after == resumed or (run / "checkpoints" / f"step-{after}").is_dir():
                            anchor = time.monotonic()
                    if wanted is None and anchor is not None and time.monotonic() - anchor >= delay:
                        hit = now or "training"
                        break
                    if wanted is not None and now == wanted:
                        if seen_idle and skip == 0:
                            hit = now
                            break
                        if seen_idle:
                            skip -= 1
                        seen_idle = False
                    elif now is None:
                        seen_idle = True
                    time.sleep(0.001)
                if child.poll() is None and hit is not None:
                    child.send_signal(signal.SIGKILL)
            else:
                while child.poll() is None and time.monotonic() - start < RUN_TIMEOUT:
                    if training_since is None and b"training " in log_file.read_bytes():
                        training_since = time.monotonic()
                    time.sleep(0.01)
            child.wait(timeout=RUN_TIMEOUT)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
    output = log_file.read_text(encoding="utf-8", errors="replace")
    end = time.monotonic()
    return {"returncode": child.returncode, "killed": child.returncode == -signal.SIGKILL, "hit": hit,
            "output": output, "seconds": end - start, "loop_seconds": end - (training_since or start)}


def complete_checkpoints(run: Path) -> list[int]:
    """Load every checkpoint folder completely; fail the test if one is half-readable."""
    from trainer.training.checkpoint import list_checkpoints, load_checkpoint

    steps = []
    for step, path in list_checkpoints(run):
        try:
            checkpoint = load_checkpoint(path, load_model=True)
        except ValueError as exc:
            pytest.fail(f"half-readable checkpoint {path}: {exc}")
        assert checkpoint.step == step
        assert set(checkpoint.training_state) >= {"optimizer", "rng_torch", "sampler"}
        steps.append(step)
    for model_dir in (run, run / "best"):  # published models: old or new, never half-written
        if (model_dir / "model.safetensors").exists():
            weights(model_dir / "model.safetensors")
    return steps


def weights(path: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(path))


def assert_same_weights(a: dict, b: dict) -> None:
    import torch

    assert a.keys() == b.keys()
    different = [name for name in a if not torch.equal(a[name], b[name])]
    assert not different, f"{len(different)} tensors differ from the uninterrupted run, e.g. {different[:3]}"


def test_sigkill_at_random_moments_then_resume_gives_the_same_weights(fit_inputs):
    folder, corpus, model = fit_inputs
    rng = random.Random(20261121)

    reference_run = folder / "reference"
    started = time.monotonic()
    reference = run_and_maybe_kill(fit_args(corpus, model, reference_run, STEPS), reference_run, None, 0, rng)
    reference_seconds = time.monotonic() - started
    assert reference["returncode"] == 0, reference["output"][-3000:]
    step_seconds = reference["loop_seconds"] / STEPS
    expected = weights(reference_run / "model.safetensors")

    run = folder / "killed"
    history = []
    kills = 0
    for attempt in range(KILLS + 10):
        done = complete_checkpoints(run)
        newest = max(done, default=0)
        if newest >= STEPS:
            break
        mode = kill_mode(kills)
        # random: within the step after a random checkpoint, never past the last one
        after = rng.randint(newest, max(newest, min(newest + 3, STEPS - 2)))
        delay = rng.uniform(0.0, 0.8) * step_seconds
        outcome = run_and_maybe_kill(fit_args(corpus, model, run, STEPS - newest), run, mode, delay, rng,
                                     after, newest)
        history.append({"from": newest, "mode": mode, "hit": outcome["hit"], "killed": outcome["killed"],
                        "seconds": round(outcome["seconds"], 1)})
        if outcome["killed"]:
            kills += 1
        else:
            assert outcome["returncode"] == 0, outcome["output"][-3000:]
        if newest and (outcome["returncode"] == 0 or "training " in outcome["output"]):
            assert re.search(rf"resuming from step {newest}\b", outcome["output"]), outcome["output"][-2000:]
        if outcome["returncode"] == 0:
            break
    # The final publish of a tiny model lasts milliseconds: a poll may miss it (the run then just
    # completes), so one kill may not land.
    assert kills >= KILLS - 1, f"only {kills} kills landed: {history}"

    final = run / "model.safetensors"
    summary = run / "train.json"
    if summary.exists() and json.loads(summary.read_text(encoding="utf-8")).get("steps") == STEPS:
        assert_same_weights(weights(final), expected)
    else:  # killed while publishing the very last model: the step-STEPS checkpoint is the result
        assert_same_weights(weights(run / "checkpoints" / f"step-{STEPS}" / "model.safetensors"), expected)
    hits = [h["hit"] for h in history if h["killed"]]
    print(json.dumps({"kills": kills, "during_checkpoint_write": hits.count("checkpoint"),
                      "during_final_publish": hits.count("final"), "during_training": hits.count("training"),
                      "runs": len(history), "reference_s": round(reference_seconds, 1), "history": history}))


def test_sigterm_then_the_same_until_step_command_ends_at_that_step(fit_inputs):
    """`make demo-model` runs `trainer fit ... --until-step $(DEMO_STEPS)`: stopped (SIGTERM, as by
    a CI timeout) and run again, the build ends at DEMO_STEPS in all, not DEMO_STEPS more; once
    more, it has nothing to train."""
    folder, corpus, model = fit_inputs
    run, until = folder / "until", 80
    args = fit_args(corpus, model, run, 1)
    at = args.index("--steps")
    args[at:at + 2] = ["--until-step", str(until)]
    child = subprocess.Popen(args, cwd=folder, env=child_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + RUN_TIMEOUT
    while child.poll() is None and not (run / "checkpoints" / "step-2").is_dir():
        assert time.monotonic() < deadline, "no checkpoint step-2"
        time.sleep(0.005)
    child.send_signal(signal.SIGTERM)
    out, err = child.communicate(timeout=RUN_TIMEOUT)
    assert child.returncode == 0 and "stopped at step " in out, out + err[-3000:]
    stopped = int(out.split("stopped at step ")[1].split(":")[0])
    assert 2 <= stopped < until and f"(it ends at step {until})" in out

    again = subprocess.run(args, cwd=folder, env=child_env(), capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"resuming from step {stopped}" in again.stderr and f"({stopped} -> {until})" in again.stderr
    assert again.stdout.startswith(f"done: step {until},"), again.stdout
    assert json.loads((run / "train.json").read_text(encoding="utf-8"))["steps"] == until

    done = subprocess.run(args, cwd=folder, env=child_env(), capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("nothing to train:") and "training" not in done.stderr
    assert json.loads((run / "train.json").read_text(encoding="utf-8"))["steps"] == until
