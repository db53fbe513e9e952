"""Checkpoints: atomic folders, newest readable wins, pruning, and the final model in the run folder."""
from __future__ import annotations

import pytest
import torch

from trainer import checkpoint as ckpt
from trainer.errors import RunFolderError


def _save(run_dir, step, model, tokenizer):
    return ckpt.save_checkpoint(
        run_dir, step, model=model, tokenizer=tokenizer,
        training_state={"rng_torch": torch.get_rng_state(), "sampler": {"step": step}},
        trainer_state={"settings": {"block_size": 32}},
    )


def test_save_load_prune(tmp_path, tiny_model_and_tokenizer):
    model, tokenizer = tiny_model_and_tokenizer
    for step in (1, 2, 3):
        _save(tmp_path, step, model, tokenizer)
    (tmp_path / "checkpoints" / ".tmp-step-4-99999").mkdir()  # an interrupted write: never listed
    assert [s for s, _ in ckpt.list_checkpoints(tmp_path)] == [1, 2, 3]

    latest = ckpt.load_latest(tmp_path)
    assert latest.step == 3 and latest.training_state["sampler"] == {"step": 3}
    assert latest.trainer_state["settings"] == {"block_size": 32}
    weights = dict(latest.model.named_parameters())
    assert all(torch.equal(p, weights[name]) for name, p in model.named_parameters())

    ckpt.prune_checkpoints(tmp_path, keep=2)
    assert [s for s, _ in ckpt.list_checkpoints(tmp_path)] == [2, 3]
    assert not (tmp_path / "checkpoints" / ".tmp-step-4-99999").exists()


def test_training_state_loads_without_pickled_code(tmp_path, tiny_model_and_tokenizer):
    model, tokenizer = tiny_model_and_tokenizer
    path = _save(tmp_path, 5, model, tokenizer)
    torch.load(path / ckpt.TRAINING_STATE, weights_only=True)  # would raise on arbitrary objects


def test_unreadable_checkpoints(tmp_path, tiny_model_and_tokenizer, caplog):
    model, tokenizer = tiny_model_and_tokenizer
    _save(tmp_path, 1, model, tokenizer)
    newest = _save(tmp_path, 2, model, tokenizer)
    (newest / ckpt.TRAINER_STATE).write_text("{ half")
    latest = ckpt.load_latest(tmp_path)
    assert latest.step == 1 and "step-2" in latest.skipped[0]
    assert "skipping unreadable checkpoint" in caplog.text

    (tmp_path / "checkpoints" / "step-1" / ckpt.TRAINING_STATE).write_bytes(b"garbage")
    with pytest.raises(RunFolderError, match="no readable checkpoint.*--fresh"):
        ckpt.load_latest(tmp_path)


def test_no_checkpoint_is_none(tmp_path):
    assert ckpt.load_latest(tmp_path) is None


def test_publish_model_replaces_the_model_files(tmp_path, tiny_model_and_tokenizer):
    model, tokenizer = tiny_model_and_tokenizer
    (tmp_path / "vocab.json").write_text("{}")  # a stale file of an older tokenizer
    (tmp_path / "notes.txt").write_text("the user's own file")
    ckpt.publish_model(tmp_path, model, tokenizer)
    assert not (tmp_path / "vocab.json").exists()
    assert (tmp_path / "notes.txt").read_text() == "the user's own file"
    from transformers import AutoModelForCausalLM

    assert AutoModelForCausalLM.from_pretrained(tmp_path).config.n_layer == model.config.n_layer
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".final")]
