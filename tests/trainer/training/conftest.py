"""Fixtures of the training tests: a fresh tiny GPT-2 per call."""
from __future__ import annotations

import pytest
import torch


@pytest.fixture
def tiny_gpt2():
    """Build a fresh tiny GPT-2 (2 layers, 64 dims, eager attention): ``tiny_gpt2(dropout=, seed=)``."""

    def build(*, dropout: float = 0.1, seed: int = 0):
        from transformers import GPT2Config, GPT2LMHeadModel

        config = GPT2Config(n_layer=2, n_embd=64, n_head=2, n_positions=128, vocab_size=256,
                            bos_token_id=0, eos_token_id=0,
                            resid_pdrop=dropout, embd_pdrop=dropout, attn_pdrop=dropout)
        torch.manual_seed(seed)
        model = GPT2LMHeadModel(config)
        model.set_attn_implementation("eager")
        return model

    return build
