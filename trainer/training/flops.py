"""FLOP accounting, as nanoGPT's ``estimate_mfu``: parameters of a config (``count_params``),
training FLOPs per token (``flops_per_token``), a GPU's bf16 peak (``peak_flops``) and the model
FLOPs utilisation against it (``mfu``). Nothing here builds a model.
"""
from __future__ import annotations

import torch


def _field(config, *names, default=None):
    for name in names:
        value = getattr(config, name, None)
        if value is not None:
            return value
    return default


def count_params(config, *, non_embedding: bool = True) -> int:
    """Parameters of a GPT-2 (or Llama-style) config without building the model. Like nanoGPT's
    ``get_num_params``, ``non_embedding`` leaves out the learned position embeddings."""
    n_layer = _field(config, "n_layer", "num_hidden_layers")
    d = _field(config, "n_embd", "hidden_size")
    vocab = config.vocab_size
    if getattr(config, "model_type", "gpt2") == "gpt2":
        inner = _field(config, "n_inner", default=4 * d)
        per_layer = (
            2 * d  # ln_1
            + d * 3 * d + 3 * d  # c_attn
            + d * d + d  # attn c_proj
            + 2 * d  # ln_2
            + d * inner + inner  # c_fc
            + inner * d + d  # mlp c_proj
        )
        total = vocab * d + n_layer * per_layer + 2 * d  # wte (tied lm_head) + blocks + ln_f
        if not non_embedding:
            total += config.n_positions * d
        return total
    # Llama-style (SmolLM2 etc.): q,o full; k,v by kv-heads; gated MLP; RMSNorms; maybe untied head.
    heads = _field(config, "num_attention_heads")
    kv_heads = _field(config, "num_key_value_heads", default=heads)
    head_dim = _field(config, "head_dim", default=d // heads)
    inner = _field(config, "intermediate_size", default=4 * d)
    attn = d * heads * head_dim * 2 + d * kv_heads * head_dim * 2
    per_layer = attn + 3 * d * inner + 2 * d
    total = vocab * d + n_layer * per_layer + d
    if not getattr(config, "tie_word_embeddings", True):
        total += vocab * d
    return total


def flops_per_token(config, block_size: int, *, num_params: int | None = None) -> float:
    """Training FLOPs per token, as nanoGPT's ``estimate_mfu``: ``6N + 12·L·H·Q·T``
    (N non-embedding parameters, L layers, H heads, Q head size, T the block size)."""
    n = num_params if num_params is not None else count_params(config)
    n_layer = _field(config, "n_layer", "num_hidden_layers")
    n_head = _field(config, "n_head", "num_attention_heads")
    head_dim = _field(config, "head_dim", default=_field(config, "n_embd", "hidden_size") // n_head)
    return float(6 * n + 12 * n_layer * n_head * head_dim * block_size)


# Dense bf16 tensor-core peaks (FLOP/s), by a substring of torch.cuda.get_device_name().
# First match wins, so the more specific names come first.
PEAK_BF16 = [
    ("H200", 989e12),
    ("H100 NVL", 835e12),
    ("H100 PCIe", 756e12),
    ("H100", 989e12),  # SXM / HBM3
    ("GH200", 989e12),
    ("B200", 2250e12),
    ("A100", 312e12),
    ("A10G", 70e12),  # AWS A10G runs below the A10's clocks
    ("A10", 125e12),
    ("L40S", 362e12),
    ("L40", 181e12),
    ("L4", 121e12),
    ("4090", 165e12),
    ("3090", 71e12),
    ("V100", 125e12),  # fp16 (no bf16): the peak its tensor cores offer
    ("T4", 65e12),  # fp16, likewise
]


def peak_flops(device: torch.device) -> float | None:
    """The GPU's dense bf16 peak in FLOP/s, or None (CPU, MPS or a GPU not in the table)."""
    device = torch.device(device)
    if device.type != "cuda" or not torch.cuda.is_available():
        return None
    name = torch.cuda.get_device_name(device)
    for key, peak in PEAK_BF16:
        if key in name:
            return peak
    return None


def mfu(tokens_per_s: float, flops_per_token: float, device: torch.device) -> float | None:
    """Model FLOPs utilisation (0..1) against the GPU's bf16 peak; None off-GPU or when unknown."""
    peak = peak_flops(device)
    if peak is None:
        return None
    return tokens_per_s * flops_per_token / peak
