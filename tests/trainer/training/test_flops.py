"""trainer.training.flops: nanoGPT's parameter and FLOP counts, and MFU against a GPU's peak."""
from __future__ import annotations

import pytest
import torch

from trainer.training import flops


def test_flops_per_token_for_gpt2_124m():
    from transformers import GPT2Config

    config = GPT2Config()
    assert flops.count_params(config) == 123_653_376  # nanoGPT: "number of parameters: 123.65M"
    expected = 6 * 123_653_376 + 12 * 12 * 12 * 64 * 1024
    assert flops.flops_per_token(config, 1024) == pytest.approx(expected)


def test_count_params_matches_a_built_model(tiny_gpt2):
    model = tiny_gpt2()
    built = sum(p.numel() for p in model.parameters()) - model.transformer.wpe.weight.numel()
    assert flops.count_params(model.config) == built


def test_mfu_against_the_gpu_peak(monkeypatch):
    assert flops.mfu(1e5, 8.5e8, torch.device("cpu")) is None
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "NVIDIA H100 80GB HBM3")
    assert flops.mfu(450_000, 855_166_464.0, torch.device("cuda")) == pytest.approx(450_000 * 855_166_464 / 989e12)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "NVIDIA H100 PCIe")
    assert flops.peak_flops(torch.device("cuda")) == 756e12
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Some Future GPU")
    assert flops.mfu(1e5, 8.5e8, torch.device("cuda")) is None
