"""A .gguf is de-quantized once: the fp32 copy kept in the cache loads in about a second, holds the
same weights and tokenizer, and a damaged or unwritable cache never stops a load."""
from __future__ import annotations

import logging
import os

import pytest
import torch

from trainer import model_loading
from trainer.model_loading import dequantized_folder, load_model

TEXT = "Notes from the roof\n\nThe anemometer froze at −3 °C; <|endoftext|> façade, 12.5 hPa."


@pytest.fixture(scope="module")
def first_load(smollm2_gguf, tmp_path_factory):
    """The GGUF loaded once (de-quantized, ~25 s) with an empty cache of its own."""
    cache = tmp_path_factory.mktemp("cache")
    old = os.environ.get("TPDNE_CACHE")
    os.environ["TPDNE_CACHE"] = str(cache)
    try:
        model, tokenizer = load_model(str(smollm2_gguf))
        yield smollm2_gguf, cache, model, tokenizer
    finally:
        if old is None:
            os.environ.pop("TPDNE_CACHE", None)
        else:
            os.environ["TPDNE_CACHE"] = old


@pytest.mark.slow
def test_the_second_load_reads_the_same_model_from_the_copy(first_load, monkeypatch):
    gguf, cache, model, tokenizer = first_load
    monkeypatch.setenv("TPDNE_CACHE", str(cache))
    folder = dequantized_folder(gguf)
    assert folder.parent == cache / "dequantized"
    assert (folder / "model.safetensors").is_file() and (folder / "config.json").is_file()

    def no_dequantizing(*args, **kwargs):
        if kwargs.get("gguf_file"):
            raise AssertionError("the .gguf was de-quantized again")
        return real(*args, **kwargs)

    real = model_loading._from_pretrained
    monkeypatch.setattr(model_loading, "_from_pretrained", no_dequantizing)
    again, tokenizer_again = load_model(str(gguf))
    first, second = model.state_dict(), again.state_dict()
    assert first.keys() == second.keys()
    assert all(torch.equal(first[name], second[name]) for name in first)
    assert tokenizer_again.encode(TEXT) == tokenizer.encode(TEXT)
    assert tokenizer_again.eos_token == "<|endoftext|>" and again.config.eos_token_id == 0


@pytest.mark.slow
def test_a_damaged_copy_is_replaced_by_de_quantizing_again(first_load, monkeypatch, tmp_path, caplog):
    gguf, cache, model, tokenizer = first_load
    monkeypatch.setenv("TPDNE_CACHE", str(tmp_path))
    folder = dequantized_folder(gguf)
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")  # no weights: a copy cut short by hand
    calls = []

    def dequantize(source, **kwargs):  # stands in for the 25-second de-quantization
        calls.append(kwargs.get("gguf_file"))
        return model, tokenizer

    monkeypatch.setattr(model_loading, "_from_pretrained", dequantize)
    with caplog.at_level(logging.WARNING, logger="trainer.model_loading"):
        loaded, _ = load_model(str(gguf))
    assert calls == [gguf.name] and loaded is model
    assert "ignoring the de-quantized copy" in caplog.text
    assert (folder / "model.safetensors").is_file()  # replaced by a whole copy


@pytest.mark.slow
def test_an_unwritable_cache_costs_only_the_speed_up(first_load, monkeypatch, tmp_path, caplog):
    gguf, cache, model, tokenizer = first_load
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache folder should be")
    monkeypatch.setenv("TPDNE_CACHE", str(blocked))
    monkeypatch.setattr(model_loading, "_from_pretrained", lambda source, **kw: (model, tokenizer))
    with caplog.at_level(logging.WARNING, logger="trainer.model_loading"):
        loaded, _ = load_model(str(gguf))
    assert loaded is model
    assert "could not keep a de-quantized copy" in caplog.text
    assert blocked.is_file() and sorted(tmp_path.iterdir()) == [blocked]
