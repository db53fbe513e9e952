"""`trainer fit` end to end on the tiny model: the run folder, exact resume, settings checks, errors."""
from __future__ import annotations

import json
import logging

import pytest
import torch
from safetensors.torch import load_file

from trainer.training import model_prep
from trainer.training.checkpoint import list_checkpoints
from common.errors import OutOfMemory, RunFolderError, TrainerError
from trainer.training.fit import StopSignal, fit
from trainer.evaluation.metrics import SUMMARY_KEYS


def _losses(run_dir):
    return [r["loss"] for r in map(json.loads, (run_dir / "metrics.jsonl").read_text().splitlines()) if "loss" in r]


def test_fresh_run_writes_a_loadable_run_folder(fit_config):
    cfg = fit_config(steps=4, sample_every=2, sample_num=2, sample_length=8)
    result = fit(cfg)
    run = result.run_dir
    assert not result.stopped and result.step == 4

    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(run)
    tokenizer = AutoTokenizer.from_pretrained(run)
    assert tokenizer.eos_token == "<|endoftext|>" and model.config.eos_token_id == tokenizer.eos_token_id

    summary = json.loads((run / "train.json").read_text())
    assert set(SUMMARY_KEYS) <= set(summary)
    assert summary["steps"] == 4 and summary["tokens_seen"] == 4 * 2 * 32
    assert summary["documents"] == 5 and summary["val_documents"] == 1 and summary["train_documents"] == 4
    assert summary["corpus_path"] == cfg.corpus and len(summary["corpus_sha256"]) == 64
    assert summary["val_perplexity"] == pytest.approx(2.718281828 ** summary["val_loss"])
    assert summary["trained_at"].endswith("Z") and summary["device"] == "cpu"

    assert len(_losses(run)) == 4
    assert (run / "loss.png").read_bytes()[:4] == b"\x89PNG"
    samples = (run / "samples" / "step-2.txt").read_text()
    assert "==== sample 2 ====" in samples
    assert [step for step, _ in list_checkpoints(run)] == [2, 4]  # save-every 2
    assert (run / "best" / "model.safetensors").exists()
    # the final model is the last step's weights
    final = load_file(run / "model.safetensors")
    last = load_file(run / "checkpoints" / "step-4" / "model.safetensors")
    assert all(torch.equal(final[k], last[k]) for k in final)


def test_resume_is_exact(fit_config, tmp_path):
    """10 steps, stop, resume 10 more == 20 steps straight: same losses and weights."""
    common = dict(eval_every=5, save_every=100, schedule="cosine", warmup=3)
    straight = fit(fit_config(run=str(tmp_path / "straight"), steps=20, **common))

    stop = StopSignal()

    def stop_at_10(step, _record):
        if step == 10:
            stop.request()

    first = fit(fit_config(run=str(tmp_path / "split"), steps=20, **common), stop=stop, on_step=stop_at_10)
    assert first.stopped and first.step == 10
    assert [s for s, _ in list_checkpoints(first.run_dir)] == [10]
    assert not (first.run_dir / "model.safetensors").exists()  # no final model from a stopped run

    second = fit(fit_config(run=str(tmp_path / "split"), steps=10, **common))
    assert second.resumed_from == 10 and second.step == 20 and not second.stopped

    assert _losses(second.run_dir) == _losses(straight.run_dir)
    a = load_file(straight.run_dir / "model.safetensors")
    b = load_file(second.run_dir / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert json.loads((second.run_dir / "train.json").read_text())["tokens_seen"] == 20 * 2 * 32


def test_steps_means_more_steps_and_says_where_it_resumes(fit_config, caplog):
    fit(fit_config(steps=2))
    with caplog.at_level(logging.INFO, logger="trainer"):
        result = fit(fit_config(steps=3))
    assert result.step == 5 and result.resumed_from == 2
    assert "resuming from step 2" in caplog.text


def test_corrupt_latest_checkpoint_is_skipped(fit_config, caplog):
    first = fit(fit_config(steps=4, save_every=2, keep=3))
    (first.run_dir / "checkpoints" / "step-4" / "model.safetensors").write_bytes(b"half a file")
    with caplog.at_level(logging.WARNING, logger="trainer"):
        result = fit(fit_config(steps=1))
    assert result.resumed_from == 2 and result.step == 3
    assert "skipping unreadable checkpoint" in caplog.text


def test_run_made_with_other_settings_is_refused_then_fresh_starts_over(fit_config, corpus_file):
    first = fit(fit_config(steps=2))
    model_before = (first.run_dir / "model.safetensors").read_bytes()
    original = corpus_file.read_text()
    corpus_file.write_text(original + "<|endoftext|>\nA new post\n\nabout rain.\n")
    with pytest.raises(RunFolderError, match=r"other settings \(corpus") as error:
        fit(fit_config(steps=2))
    assert "--fresh" in str(error.value) and "--run" in str(error.value)
    assert (first.run_dir / "model.safetensors").read_bytes() == model_before  # nothing lost
    corpus_file.write_text(original)
    with pytest.raises(RunFolderError, match="--block-size 32 -> 16"):
        fit(fit_config(steps=2, block_size=16))

    # --fresh: interrupted early, the previous final model is still there
    stop = StopSignal()
    stopped = fit(fit_config(steps=5, fresh=True), stop=stop, on_step=lambda step, _r: stop.request())
    assert stopped.stopped and stopped.resumed_from is None
    assert (first.run_dir / "model.safetensors").read_bytes() == model_before
    assert [s for s, _ in list_checkpoints(first.run_dir)] == [1]
    assert not list(first.run_dir.glob(".previous-*"))  # old checkpoints went once a new one existed


def test_trained_model_without_checkpoints_is_not_overwritten(fit_config):
    first = fit(fit_config(steps=2))
    import shutil

    shutil.rmtree(first.run_dir / "checkpoints")
    with pytest.raises(RunFolderError, match="no checkpoint to resume from"):
        fit(fit_config(steps=2))


def test_unwritable_run_folder(fit_config, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(RunFolderError, match="cannot write to the run folder"):
        fit(fit_config(run=str(blocker / "blog")))


def test_block_size_longer_than_the_context(fit_config):
    with pytest.raises(TrainerError, match="longer than the model's context \\(128\\)"):
        fit(fit_config(block_size=4096))


def test_out_of_memory_is_one_message_with_what_to_try(fit_config, monkeypatch):
    def oom(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(model_prep.CausalLMObjective, "forward", oom)  # the training step's forward
    with pytest.raises(OutOfMemory) as error:
        fit(fit_config(batch_size=8, grad_accum=1))
    message = str(error.value)
    assert "batch of 8 x 32 tokens" in message
    assert "--batch-size 4 --grad-accum 2" in message and "--grad-checkpointing" in message and "--block-size" in message


def test_from_scratch_trains_and_loads(fit_config, tmp_path):
    from trainer.training import scratch

    small = dict(scratch.SIZES["test"])
    scratch.SIZES["unit"] = small  # the smallest size, registered for this test only
    try:
        result = fit(fit_config(model="unused", from_scratch=True, size="unit", steps=3, run=str(tmp_path / "s")))
    finally:
        del scratch.SIZES["unit"]
    summary = json.loads((result.run_dir / "train.json").read_text())
    assert summary["from_scratch"] is True and summary["size"] == "unit" and summary["base_model"] == "scratch:unit"
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(result.run_dir)
    model = AutoModelForCausalLM.from_pretrained(result.run_dir)
    assert model.get_input_embeddings().weight.shape[0] == len(tokenizer)


def test_grad_checkpointing_trains_and_the_saved_model_keeps_its_cache(fit_config):
    result = fit(fit_config(steps=2, grad_checkpointing=True))
    config = json.loads((result.run_dir / "config.json").read_text())
    assert config.get("use_cache", True) is True
    assert len(_losses(result.run_dir)) == 2


def test_small_models_train_on_one_cpu_thread_and_the_thread_count_is_restored(fit_config, monkeypatch):
    """The tiny demo model trains ~2.5x faster on one thread than on two (the `make html` demo
    build); bigger models and an explicit OMP_NUM_THREADS keep PyTorch's choice."""
    from transformers import GPT2Config

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    tiny, gpt2 = GPT2Config(n_embd=128), GPT2Config(n_embd=768)
    assert model_prep.cpu_threads_for(type("M", (), {"config": tiny})(), "cpu") == 1
    assert model_prep.cpu_threads_for(type("M", (), {"config": gpt2})(), "cpu") is None
    assert model_prep.cpu_threads_for(type("M", (), {"config": tiny})(), "cuda") is None
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert model_prep.cpu_threads_for(type("M", (), {"config": tiny})(), "cpu") is None
    monkeypatch.delenv("OMP_NUM_THREADS")

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    during = []
    try:
        fit(fit_config(steps=2, eval_every=100), on_step=lambda step, record: during.append(torch.get_num_threads()))
        assert during == [1, 1]  # the tiny model trained on one thread
        assert torch.get_num_threads() == 2  # fit leaves the process as it found it
    finally:
        torch.set_num_threads(before)
