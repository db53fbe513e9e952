"""Checkpoints: atomic folders, newest readable wins, pruning, and the final model in the run folder."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from trainer.training import checkpoint as ckpt
from common.errors import RunFolderError


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


def test_a_prune_killed_mid_deletion_leaves_no_half_deleted_checkpoint(tmp_path, tiny_model_and_tokenizer,
                                                                       monkeypatch):
    """Deleting a folder takes many steps; a checkpoint leaves the list before its files go, and
    the next prune removes what a killed one left."""
    model, tokenizer = tiny_model_and_tokenizer
    for step in (1, 2):
        _save(tmp_path, step, model, tokenizer)
    real_rmtree = ckpt.shutil.rmtree

    def killed_after_one_file(path, ignore_errors=False):
        next(Path(path).iterdir()).unlink()
        raise KeyboardInterrupt  # stands in for SIGKILL

    monkeypatch.setattr(ckpt.shutil, "rmtree", killed_after_one_file)
    with pytest.raises(KeyboardInterrupt):
        ckpt.prune_checkpoints(tmp_path, keep=1)
    assert [s for s, _ in ckpt.list_checkpoints(tmp_path)] == [2]
    monkeypatch.setattr(ckpt.shutil, "rmtree", real_rmtree)
    ckpt.prune_checkpoints(tmp_path, keep=1)
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["step-2"]


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


def _tree(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _disk_full_in_torch_save(monkeypatch):
    import errno

    def full(obj, path, *args, **kwargs):
        with open(path, "wb") as handle:
            handle.write(b"PK\x03\x04 half")  # a half-written file, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(ckpt.torch, "save", full)


def _disk_full_in_safetensors(monkeypatch, model):
    from safetensors import SafetensorError

    def full(folder, *args, **kwargs):
        (folder / "model.safetensors").write_bytes(b"half")
        raise SafetensorError("Error while serializing: IoError(Os { code: 28, kind: StorageFull, "
                              "message: \"No space left on device\" })")

    monkeypatch.setattr(model, "save_pretrained", full)


@pytest.mark.parametrize("where", ["torch.save", "safetensors"])
def test_disk_full_while_saving_keeps_the_previous_checkpoints(tmp_path, tiny_model_and_tokenizer, monkeypatch, where):
    model, tokenizer = tiny_model_and_tokenizer
    _save(tmp_path, 1, model, tokenizer)
    _save(tmp_path, 2, model, tokenizer)
    before = _tree(tmp_path)
    if where == "torch.save":
        _disk_full_in_torch_save(monkeypatch)
    else:
        _disk_full_in_safetensors(monkeypatch, model)
    with pytest.raises(RunFolderError) as error:
        _save(tmp_path, 3, model, tokenizer)
    message = str(error.value)
    assert "\n" not in message
    assert "cannot write checkpoint step-3" in message and "No space left on device" in message
    assert "step-2 is intact" in message and "run the same command again" in message
    assert _tree(tmp_path) == before  # no half-written step-3, no temp folder left behind
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["step-1", "step-2"]
    assert ckpt.load_latest(tmp_path).step == 2


def test_disk_full_while_publishing_keeps_the_previous_model(tmp_path, tiny_model_and_tokenizer, monkeypatch):
    model, tokenizer = tiny_model_and_tokenizer
    ckpt.publish_model(tmp_path, model, tokenizer)
    ckpt.save_model_dir(tmp_path / "best", model, tokenizer, extra={"step": 1})
    before = _tree(tmp_path)
    _disk_full_in_safetensors(monkeypatch, model)
    with pytest.raises(RunFolderError, match="cannot write the final model in .*No space left on device"):
        ckpt.publish_model(tmp_path, model, tokenizer)
    with pytest.raises(RunFolderError, match="cannot write .*best.*the previous best/ is intact"):
        ckpt.save_model_dir(tmp_path / "best", model, tokenizer, extra={"step": 2})
    assert _tree(tmp_path) == before


def test_fit_command_on_a_full_disk_prints_one_line(fit_config, monkeypatch):
    """Through the CLI: exit status 1, one 'error:' line, no traceback; the checkpoints stay."""
    from click.testing import CliRunner

    from trainer.cli import main

    cfg = fit_config(steps=2, save_every=1, eval_every=100)
    args = ["fit", "--corpus", cfg.corpus, "--model", cfg.model, "--run", cfg.run, "--steps", "2",
            "--block-size", "32", "--batch-size", "2", "--eval-every", "100", "--sample-every", "0",
            "--save-every", "1", "--keep", "2", "--precision", "fp32", "--compile", "off",
            "--device", "cpu", "--no-progress"]
    assert CliRunner().invoke(main, args).exit_code == 0
    run_dir = Path(cfg.run)
    before = _tree(run_dir / "checkpoints")
    _disk_full_in_torch_save(monkeypatch)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert [line for line in lines if line.startswith("error:")] == [lines[-1]]
    assert "cannot write checkpoint step-3" in lines[-1] and "Traceback" not in result.output
    assert _tree(run_dir / "checkpoints") == before
