"""Loading the base model: local folders, offline hub ids, mismatched tokenizers, the EOS convention."""
from __future__ import annotations

import time

import pytest

from common.errors import ModelError
from trainer.model_loading import apply_eos_convention, load_model, model_context


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def test_local_folder_loads_in_fp32_with_eos(tiny_model_dir):
    import torch

    model, tokenizer = load_model(str(tiny_model_dir))
    assert next(model.parameters()).dtype == torch.float32
    assert tokenizer.eos_token == "<|endoftext|>"
    assert model.config.eos_token_id == model.generation_config.eos_token_id == tokenizer.eos_token_id
    assert model.generation_config.pad_token_id == tokenizer.eos_token_id
    assert model_context(model.config) == 128


def test_offline_hub_id_fails_fast_with_one_clear_message(offline):
    started = time.monotonic()
    with pytest.raises(ModelError) as error:
        load_model("gpt2")
    message = str(error.value)
    assert "cannot download model 'gpt2'" in message
    assert "--model PATH" in message and "--from-scratch" in message and "\n" not in message
    assert time.monotonic() - started < 30  # no retry loop against an unreachable hub


def test_missing_local_path(offline, tmp_path):
    with pytest.raises(ModelError, match="no model folder or file at ./nowhere"):
        load_model("./nowhere")
    with pytest.raises(ModelError, match="does not exist"):
        load_model(str(tmp_path / "model.gguf"))


def test_folder_without_config(tmp_path):
    with pytest.raises(ModelError, match="not a model folder"):
        load_model(str(tmp_path))


def test_tokenizer_that_does_not_match_the_model(tmp_path, tiny_model_and_tokenizer, tiny_texts):
    from trainer.training.scratch import train_tokenizer

    model, _ = tiny_model_and_tokenizer
    model.save_pretrained(tmp_path, safe_serialization=True)
    train_tokenizer(tiny_texts * 20, 2000).save_pretrained(tmp_path)  # bigger than the 512 embeddings
    with pytest.raises(ModelError, match="do not belong together"):
        load_model(str(tmp_path))


def test_eos_added_when_the_tokenizer_has_none(tiny_model_and_tokenizer, tiny_texts):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    raw = Tokenizer(models.BPE(unk_token="[UNK]"))
    raw.pre_tokenizer = pre_tokenizers.Whitespace()
    raw.train_from_iterator(tiny_texts, trainers.BpeTrainer(vocab_size=200, special_tokens=["[UNK]"], show_progress=False))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=raw, unk_token="[UNK]")
    model = GPT2LMHeadModel(GPT2Config(n_layer=1, n_head=2, n_embd=16, n_positions=32, vocab_size=len(tokenizer)))
    apply_eos_convention(model, tokenizer)
    assert tokenizer.eos_token == "<|endoftext|>"
    assert model.get_input_embeddings().weight.shape[0] == len(tokenizer)
    assert model.config.eos_token_id == tokenizer.eos_token_id


def test_missing_run_folder_is_not_looked_up_on_the_hub(offline, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    with pytest.raises(ModelError, match="no model folder or file at models/blog"):
        load_model("models/blog")
    (tmp_path / "models" / "blog" / "checkpoints").mkdir(parents=True)
    with pytest.raises(ModelError, match="no final model yet .*checkpoints/step-N"):
        load_model("models/blog")


class _Boom:
    """A pickle that would create a folder if anyone unpickled it."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        import os

        return (os.mkdir, (self.marker,))


def test_folder_with_pickled_weights_only_is_refused_in_one_line(tmp_path, tiny_model_dir):
    """Safetensors only: a folder holding pytorch_model.bin is never unpickled, and the refusal is
    one ModelError line (not an UnpicklingError traceback)."""
    import pickle
    import shutil

    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    for weights in folder.glob("*.safetensors"):
        weights.unlink()
    marker = tmp_path / "pwned"
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps(_Boom(marker)))
    with pytest.raises(ModelError) as error:
        load_model(str(folder))
    message = str(error.value)
    assert "no model.safetensors" in message and "pytorch_model.bin" in message and "\n" not in message
    assert not marker.exists()


def test_broken_safetensors_is_one_model_error(tmp_path, tiny_model_dir):
    import shutil

    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    (folder / "model.safetensors").write_bytes(b"\x00garbage")
    with pytest.raises(ModelError, match="cannot load the model in") as error:
        load_model(str(folder))
    assert "\n" not in str(error.value)
