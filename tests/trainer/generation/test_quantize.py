"""int8 weights: GPT-2's Conv1D becomes an equivalent nn.Linear, then quantized linears stay close."""
from __future__ import annotations

import copy

import torch
from torch import nn

from trainer.generation.int8 import conv1d_to_linear, quantize_int8


def test_conv1d_to_linear_gives_the_same_logits(tiny_model_and_tokenizer):
    from transformers.pytorch_utils import Conv1D

    model, _ = tiny_model_and_tokenizer
    model = copy.deepcopy(model).eval()
    ids = torch.tensor([[0, 5, 9, 42, 7, 300]])
    with torch.inference_mode():
        before = model(input_ids=ids).logits
        swapped = conv1d_to_linear(model)
        after = swapped(input_ids=ids).logits
    assert not any(isinstance(m, Conv1D) for m in swapped.modules())
    assert sum(isinstance(m, nn.Linear) for m in swapped.modules()) >= 4 * model.config.n_layer
    torch.testing.assert_close(after, before, atol=1e-5, rtol=1e-5)


def test_quantized_model_keeps_its_predictions_and_its_input_embeddings(tiny_model_and_tokenizer):
    model, _ = tiny_model_and_tokenizer
    model = copy.deepcopy(model).eval()
    embeddings = model.transformer.wte.weight.detach().clone()
    ids = torch.tensor([[0, 5, 9, 42, 7, 300]])
    with torch.inference_mode():
        reference = model(input_ids=ids).logits
        quantized = quantize_int8(model)
        logits = quantized(input_ids=ids).logits
    assert not any(type(m) is nn.Linear for m in quantized.modules())  # every linear is int8
    torch.testing.assert_close(quantized.transformer.wte.weight, embeddings)  # untied, untouched
    assert (logits - reference).abs().max() < 0.05 * reference.abs().max()
    agree = (logits.argmax(-1) == reference.argmax(-1)).float().mean().item()
    assert agree >= 0.8
