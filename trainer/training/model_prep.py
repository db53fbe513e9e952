"""Getting a model ready to train fast, without changing what it learns.

``trainer fit`` (``trainer.training.fit``) and ``bench/train.py`` both go through these functions,
so the speed the benchmark measures is the speed users get:

- ``prepare_model``: SDPA attention without mask building (``CAUSAL_SDPA``), a fused GELU, TF32
  matmuls, optional gradient checkpointing; on the CPU, no attention dropout (it blocks the fused
  kernel).
- ``training_objective``: the model and its loss as one module (``CausalLMObjective``),
  ``torch.compile``d when ``compile_wanted`` says so.
- ``cpu_threads_for``: one CPU thread for small models, where more threads only cost.
- ``inference_config``: the KV cache back on while a model is saved for use.
"""
from __future__ import annotations

import contextlib
import logging
import os

import torch

from common.errors import TrainerError
from trainer.evaluation.perplexity import lm_loss

log = logging.getLogger(__name__)

COMPILE_MODES = ("auto", "on", "off")
SMALL_MODEL_WIDTH = 256  # hidden size up to which CPU training uses one thread (cpu_threads_for)


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


def cpu_threads_for(model, device) -> int | None:
    """The CPU thread count for training ``model``, or None to keep PyTorch's.

    A small model (hidden size <= SMALL_MODEL_WIDTH, e.g. ``--size tiny``) multiplies matrices so
    small that splitting every operation across threads costs more than it gains: on 2 CPU cores,
    one thread trains the tiny model ~2.5x faster in wall time and uses ~2.5x less CPU time than two
    (0.32 vs 0.83 s per 2,048-token step). An explicit OMP_NUM_THREADS is always respected."""
    if torch.device(device).type != "cpu" or os.environ.get("OMP_NUM_THREADS"):
        return None
    width = next((getattr(model.config, name) for name in ("n_embd", "hidden_size", "d_model")
                  if isinstance(getattr(model.config, name, None), int)), None)
    return 1 if width is not None and width <= SMALL_MODEL_WIDTH else None


@contextlib.contextmanager
def inference_config(model):
    """Models saved for use (final, best/) keep the KV cache on, even when gradient checkpointing
    switched it off for training."""
    saved = getattr(model.config, "use_cache", None)
    model.config.use_cache = True
    try:
        yield
    finally:
        model.config.use_cache = saved
