"""The `trainer fit` / `trainer eval` commands: messages, SIGTERM, torchrun (DDP on gloo) and eval."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from trainer.cli.evaluate import eval_command
from trainer.cli.fit import fit_command

ROOT = Path(__file__).resolve().parents[3]
TINY = ["--block-size", "32", "--batch-size", "2", "--device", "cpu", "--precision", "fp32", "--compile", "off",
        "--sample-every", "0", "--no-progress", "--val-fraction", "0.2"]


def _env():
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    return env


def test_help_teaches_by_example():
    result = CliRunner().invoke(fit_command, ["--help"])
    assert result.exit_code == 0
    assert "trainer fit --steps 1000" in result.output and "--from-scratch" in result.output
    text = " ".join(result.output.split())
    assert "[default: data/corpus.txt]" in text and "[default: gpt2]" in text


def test_user_errors_are_one_line_without_traceback(tmp_path):
    result = CliRunner().invoke(fit_command, ["--corpus", str(tmp_path / "missing.txt"), "--run", str(tmp_path / "r")])
    assert result.exit_code == 1
    assert result.output.startswith("error: corpus ") and "does not exist" in result.output
    assert "Traceback" not in result.output and result.output.count("\n") == 1


def test_fit_then_eval_agree_on_validation_loss(tmp_path, corpus_file, tiny_model_dir):
    run = tmp_path / "models" / "blog"
    result = CliRunner().invoke(fit_command, ["--corpus", str(corpus_file), "--model", str(tiny_model_dir),
                                              "--run", str(run), "--steps", "3", *TINY])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("done: step 3") and str(run) in result.output
    summary = json.loads((run / "train.json").read_text())

    evaluated = CliRunner().invoke(eval_command, ["--model", str(tiny_model_dir), "--run", str(run),
                                                  "--corpus", str(corpus_file), "--block-size", "32", "--device", "cpu"])
    assert evaluated.exit_code == 0, evaluated.output
    base_line, tuned_line = evaluated.output.strip().splitlines()
    assert "on 1 held-out post" in tuned_line and base_line.startswith(str(tiny_model_dir))
    loss = float(tuned_line.split("(loss ")[1].split()[0])
    assert loss == pytest.approx(summary["val_loss"], abs=1e-3)  # same posts, same windows


def test_eval_function_is_public(tiny_model_and_tokenizer, tiny_texts):
    from trainer.evaluation.perplexity import perplexity

    model, tokenizer = tiny_model_and_tokenizer
    result = perplexity(model, tokenizer, tiny_texts[:2], 32)
    assert result.tokens > 0 and result.windows >= 2 and result.block_size == 32
    assert result.perplexity == pytest.approx(2.718281828 ** result.loss)


def test_sigterm_saves_a_checkpoint_and_exits_cleanly(tmp_path, corpus_file, tiny_model_dir):
    run = tmp_path / "run"
    command = [sys.executable, "-m", "trainer.cli", "fit", "--corpus", str(corpus_file), "--model", str(tiny_model_dir),
               "--run", str(run), "--steps", "100000", "--eval-every", "100000", "--save-every", "100000", *TINY]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=tmp_path)
    metrics = run / "metrics.jsonl"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        if metrics.exists() and metrics.read_text().strip():
            break
        time.sleep(0.5)
    assert process.poll() is None, process.communicate()
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=240)
    assert process.returncode == 0, err
    assert "stopped at step" in out and "Traceback" not in err
    step = int(out.split("stopped at step ")[1].split(":")[0])
    assert (run / "checkpoints" / f"step-{step}" / "model.safetensors").exists()
    assert json.loads((run / "checkpoints" / f"step-{step}" / "trainer_state.json").read_text())["step"] == step


def test_torchrun_two_cpu_processes(tmp_path, corpus_file, tiny_model_dir):
    run = tmp_path / "ddp"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               "-m", "trainer.cli", "fit", "--corpus", str(corpus_file), "--model", str(tiny_model_dir),
               "-r", str(run), "--steps", "3", "--save-every", "2", *TINY]
    done = subprocess.run(command, capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((run / "train.json").read_text())
    assert summary["world_size"] == 2 and summary["steps"] == 3
    assert summary["tokens_seen"] == 3 * 2 * 32 * 2  # both ranks' windows count
    assert (run / "model.safetensors").exists() and (run / "checkpoints" / "step-3").is_dir()
    assert done.stdout.count("done: step 3") == 1  # rank 0 alone reports


@pytest.mark.slow
def test_smollm2_gguf_fine_tunes(tmp_path, corpus_file, smollm2_gguf):
    """The real pretrained path: SmolLM2-135M from its GGUF (scripts/get-models.sh; the smollm2_gguf fixture)."""
    from trainer.training.fit import FitConfig, fit

    cfg = FitConfig(corpus=str(corpus_file), model=str(smollm2_gguf), run=str(tmp_path / "smol"), steps=2, block_size=64,
                    batch_size=2, eval_every=2, sample_every=2, sample_length=16, precision="fp32", compile="off",
                    device="cpu", progress=False, val_fraction=0.2)
    result = fit(cfg)
    summary = json.loads((result.run_dir / "train.json").read_text())
    assert summary["val_perplexity"] < 1000  # a pretrained model already knows English
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(result.run_dir)
    assert tokenizer.eos_token == "<|endoftext|>"
    assert AutoModelForCausalLM.from_pretrained(result.run_dir).config.eos_token_id == tokenizer.eos_token_id
