"""Training speed primitives: attention, optimizer and FLOP accounting (device and precision are
``trainer.device``).

The fit loop (``trainer.training.fit``) and ``bench/train.py`` both go through these functions, so the
speed the benchmark measures is the speed users get. What each one does, in one line:

- ``prepare_model``: SDPA (flash) attention, a fused GELU, TF32 matmuls, optional gradient
  checkpointing; on the CPU, no attention dropout (it blocks the fused kernel).
- ``training_objective``: the model and its loss as one module, ``torch.compile``d when wanted.
- ``make_optimizer``: AdamW with nanoGPT's decay groups, fused kernels on CUDA.
- ``flops_per_token`` / ``mfu``: nanoGPT's ``estimate_mfu`` accounting.
"""
from __future__ import annotations

import logging

import torch

from common.errors import TrainerError
from trainer.evaluation.perplexity import lm_loss

log = logging.getLogger(__name__)

COMPILE_MODES = ("auto", "on", "off")


# --------------------------------------------------------------------------- model
# SDPA under a name of its own, for training. transformers builds no attention mask for an
# attention function it has no mask function for, so SDPA gets ``attn_mask=None, is_causal=True``
# and may use its flash kernel. Under the name "sdpa", a model compiled in training mode gets a
# materialised (B, 1, T, T) mask instead (seen with transformers 5.23), which rules flash out on
# CUDA, and an eager one pays a GPU sync per forward for the check that skips it. Training and
# validation windows never hold padding, so the mask would only ever say "causal".
CAUSAL_SDPA = "sdpa_causal"


def _causal_sdpa_name() -> str:
    """Register :data:`CAUSAL_SDPA` with transformers; plain ``"sdpa"`` where that cannot be done."""
    try:
        from transformers import AttentionInterface
        from transformers.integrations.sdpa_attention import sdpa_attention_forward
    except ImportError:  # pragma: no cover - transformers without AttentionInterface
        return "sdpa"
    if CAUSAL_SDPA not in AttentionInterface._global_mapping:
        AttentionInterface.register(CAUSAL_SDPA, sdpa_attention_forward)
    return CAUSAL_SDPA


def _set_sdpa(model) -> None:
    """SDPA attention without mask building (see :data:`CAUSAL_SDPA`). Only the running model
    changes: ``save_pretrained`` writes no attention implementation, so a saved model loads as
    usual and handles padded batches again."""
    config = getattr(model, "config", None)
    if config is None:
        return
    for attempt in dict.fromkeys((_causal_sdpa_name(), "sdpa")):  # the causal name first, once
        if getattr(config, "_attn_implementation", None) == attempt:
            return
        try:
            model.set_attn_implementation(attempt)
            return
        except Exception as exc:  # the model has no SDPA path: keep what it has
            reason = exc
    log.warning("keeping %s attention (SDPA unavailable: %s)", config._attn_implementation, reason)


def compile_wanted(device: torch.device, compile: str) -> bool:
    """Whether ``compile`` (``auto|on|off``) means torch.compile on ``device``."""
    compile = (compile or "auto").lower()
    if compile not in COMPILE_MODES:
        raise TrainerError(f"unknown --compile {compile!r}: choose one of {', '.join(COMPILE_MODES)}")
    if compile == "on":
        return True
    if compile == "off":
        return False
    return torch.device(device).type == "cuda"


def fuse_gelu(model) -> int:
    """Swap HF's ``NewGELUActivation`` (GPT-2's tanh GELU written as ~8 separate tensor ops) for
    ``GELUTanh`` (the same formula as one ``F.gelu(approximate="tanh")`` kernel). Same function,
    fewer passes over the 4x-wide MLP activations; the config and weights are untouched.
    Returns how many were swapped."""
    try:
        from transformers.activations import GELUTanh, NewGELUActivation
    except ImportError:  # pragma: no cover - other transformers versions
        return 0
    swapped = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is NewGELUActivation:
                setattr(parent, name, GELUTanh())
                swapped += 1
    return swapped


def drop_attention_dropout(model) -> float:
    """Set attention-probability dropout to 0 (residual and embedding dropout stay).

    On the CPU, PyTorch's SDPA has a fused (flash) kernel only without dropout; with GPT-2's
    ``attn_pdrop=0.1`` every layer falls back to the unfused "math" path that builds the T x T
    attention matrix, which costs ~1.6x per training step at block 1024 (measured). Only the
    modules change; the saved config keeps its value. Returns the dropout that was there."""
    before = 0.0
    for module in model.modules():
        dropout = getattr(module, "attn_dropout", None)
        if isinstance(dropout, torch.nn.Dropout) and dropout.p > 0:
            before = max(before, dropout.p)
            dropout.p = 0.0
        value = getattr(module, "attention_dropout", None)
        if isinstance(value, float) and value > 0:
            before = max(before, value)
            module.attention_dropout = 0.0
    return before


def prepare_model(model, device: torch.device, *, grad_checkpointing: bool = False, attention_dropout: str = "auto"):
    """Make ``model`` ready to train fast on ``device`` (in place; returns it).

    SDPA attention without mask building, the fused tanh-GELU kernel, TF32 matmuls on CUDA, and
    gradient checkpointing when asked. ``attention_dropout``: ``auto`` turns attention-probability
    dropout off on the CPU only (where it blocks SDPA's fused kernel, see
    ``drop_attention_dropout``); ``keep`` never touches it; ``off`` turns it off everywhere.
    The model itself is never compiled: :func:`training_objective` compiles the training step.
    """
    device = torch.device(device)
    if attention_dropout not in ("auto", "keep", "off"):
        raise TrainerError(f"unknown attention_dropout {attention_dropout!r}: choose auto, keep or off")
    if device.type == "cuda":
        torch.set_float32_matmul_precision("high")  # TF32 for the fp32 matmuls autocast leaves
    _set_sdpa(model)
    fuse_gelu(model)
    if attention_dropout == "off" or (attention_dropout == "auto" and device.type == "cpu"):
        before = drop_attention_dropout(model)
        if before:
            log.info("attention dropout %.2g -> 0 so SDPA can use its fused kernel on %s "
                     "(residual and embedding dropout unchanged)", before, device.type)
    model.to(device)
    if grad_checkpointing:
        enable = getattr(model, "activation_checkpointing_enable", None) or model.gradient_checkpointing_enable
        enable()
        model.config.use_cache = False
    return model


class CausalLMObjective(torch.nn.Module):
    """A training step's forward as one module: ``objective(x, y)`` is the model's mean
    next-token cross-entropy (``trainer.evaluation.perplexity.lm_loss``). It holds the model, adds no
    parameters, and is what ``torch.compile`` compiles: the logits' fp32 upcast and the loss then
    fuse with the last matmul instead of making several passes over batch x block x vocab floats
    (3 GiB at batch 8 x 1024 for GPT-2, the step's largest memory item, see docs/benchmarks.md)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return lm_loss(self.model, x, y)


def training_objective(model, device: torch.device, compile: str = "auto") -> CausalLMObjective:
    """The loss module the training loop calls; compiled (``Module.compile``) when ``compile``
    (``auto|on|off``) asks for it on ``device``. Evaluation and sampling call ``model`` itself,
    which stays eager, so their other shapes never trigger a recompile."""
    objective = CausalLMObjective(model)
    if compile_wanted(device, compile):
        objective.compile()
    return objective


# --------------------------------------------------------------------------- optimizer
def optimizer_groups(model, weight_decay: float) -> list[dict]:
    """nanoGPT's split: every parameter with 2+ dims (matmul weights, embeddings) decays; biases
    and LayerNorm gains/shifts (1-D) do not. Tied weights appear once."""
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def make_optimizer(model, *, lr: float, weight_decay: float, betas=(0.9, 0.95), device=None):
    """AdamW over nanoGPT's decay groups; fused kernels on CUDA, multi-tensor (foreach) elsewhere."""
    device = torch.device(device) if device is not None else next(model.parameters()).device
    kwargs = {"fused": True} if device.type == "cuda" else {"foreach": True}
    return torch.optim.AdamW(optimizer_groups(model, weight_decay), lr=lr, betas=tuple(betas), **kwargs)


def restore_optimizer(optimizer, state: dict) -> None:
    """Load a checkpoint's AdamW moments into ``optimizer`` but keep this run's hyperparameters
    (lr, weight decay, betas, fused/foreach). The step counters go where this optimizer wants
    them: fused (CUDA) and capturable AdamW keep them on the parameters' device, and
    ``load_state_dict`` decides that from the *saved* flags, so a run begun on the CPU and resumed
    on a GPU would otherwise fail in its first fused step ("Expected all tensors to be on the same
    device ... state_steps")."""
    current = [{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups]
    optimizer.load_state_dict(state)
    for group, hyper in zip(optimizer.param_groups, current):
        group.update(hyper)
        if group.get("fused") or group.get("capturable"):
            for param in group["params"]:
                param_state = optimizer.state.get(param, {})
                if torch.is_tensor(param_state.get("step")):
                    param_state["step"] = param_state["step"].to(param.device, torch.float32)


# --------------------------------------------------------------------------- FLOPs and MFU
def optimizer_step(model, optimizer, scaler=None, *, clip: float = 1.0) -> None:
    """One optimizer step after the backward pass(es): unscale (fp16), clip the gradient norm,
    step, update the scaler, zero the gradients. `trainer fit` and bench/train.py both call it."""
    if scaler is not None:
        scaler.unscale_(optimizer)
    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    if scaler is not None:
        scaler.step(optimizer)
        scaler.update()
    else:
        optimizer.step()
    optimizer.zero_grad(set_to_none=True)


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
