"""The optimizer and its learning rate: AdamW with nanoGPT's decay groups, one optimizer step, the
warmup + cosine schedule, and restoring a checkpoint's optimizer state.

``trainer fit`` (``trainer.training.fit``) and ``bench/train.py`` both step through
``optimizer_step``, so the benchmark times the step users run.
"""
from __future__ import annotations

import math

import torch

GRAD_CLIP = 1.0  # the gradient-norm clip of every training step
MIN_LR_RATIO = 0.1  # cosine decays to 10 % of the peak learning rate


def learning_rate(step: int, *, lr: float, warmup: int, horizon: int, schedule: str) -> float:
    """Linear warmup for ``warmup`` steps, then constant or cosine down to 10 % at ``horizon``."""
    if step < warmup:
        return lr * (step + 1) / warmup
    if schedule == "constant":
        return lr
    progress = min(1.0, (step - warmup) / max(1, horizon - warmup))
    min_lr = lr * MIN_LR_RATIO
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (lr - min_lr)


def set_learning_rate(optimizer, lr: float) -> None:
    """Give every parameter group the learning rate ``lr``."""
    for group in optimizer.param_groups:
        group["lr"] = lr


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


def optimizer_step(model, optimizer, scaler=None, *, clip: float = GRAD_CLIP) -> None:
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
