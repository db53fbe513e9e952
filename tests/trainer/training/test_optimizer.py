"""trainer.training.optimizer: nanoGPT's decay groups, the learning-rate schedule and restoring a
checkpoint's AdamW state on another device."""
from __future__ import annotations

import pytest
import torch

from trainer.training import optimizer as opt


def test_optimizer_decays_matrices_and_embeddings_not_biases_or_layernorm(tiny_gpt2):
    model = tiny_gpt2()
    optimizer = opt.make_optimizer(model, lr=1e-3, weight_decay=0.1, device=torch.device("cpu"))
    decay, no_decay = optimizer.param_groups
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    names = {id(p): n for n, p in model.named_parameters()}
    decayed = {names[id(p)] for p in decay["params"]}
    kept = {names[id(p)] for p in no_decay["params"]}
    assert "transformer.wte.weight" in decayed and "transformer.wpe.weight" in decayed
    assert "transformer.h.0.attn.c_attn.weight" in decayed and "transformer.h.1.mlp.c_fc.weight" in decayed
    assert "transformer.h.0.attn.c_attn.bias" in kept and "transformer.h.0.ln_1.weight" in kept
    assert "transformer.ln_f.bias" in kept
    assert decayed.isdisjoint(kept)
    assert len(decayed) + len(kept) == len(list(model.parameters()))  # tied lm_head counted once
    assert decay["betas"] == (0.9, 0.95) and decay["foreach"] is True


def test_learning_rate_schedule():
    kwargs = dict(lr=1.0, warmup=10, horizon=110)
    assert opt.learning_rate(0, schedule="cosine", **kwargs) == pytest.approx(0.1)
    assert opt.learning_rate(9, schedule="cosine", **kwargs) == pytest.approx(1.0)
    assert opt.learning_rate(60, schedule="cosine", **kwargs) == pytest.approx(0.55)
    assert opt.learning_rate(110, schedule="cosine", **kwargs) == pytest.approx(0.1)
    assert opt.learning_rate(500, schedule="constant", **kwargs) == 1.0


def test_resume_puts_fused_adamw_step_counters_on_the_parameters_device():
    """A run begun on the CPU (foreach AdamW) and resumed on a GPU (fused AdamW): the step
    counters must move to the GPU. Here the "GPU" is the meta device and capturable AdamW, which
    keeps its counters on the parameters' device under the same rule as fused."""
    cpu_model = torch.nn.Linear(4, 4)
    cpu_optimizer = opt.make_optimizer(cpu_model, lr=1e-3, weight_decay=0.1, device=torch.device("cpu"))
    cpu_model(torch.ones(2, 4)).sum().backward()
    cpu_optimizer.step()
    saved = cpu_optimizer.state_dict()
    assert all(state["step"].device.type == "cpu" for state in saved["state"].values())

    gpu_model = torch.nn.Linear(4, 4, device="meta")
    gpu_optimizer = torch.optim.AdamW(opt.optimizer_groups(gpu_model, 0.1), lr=5e-4, capturable=True)
    opt.restore_optimizer(gpu_optimizer, saved)
    for param in gpu_model.parameters():
        state = gpu_optimizer.state[param]
        assert state["step"].device.type == "meta" and state["step"].dtype == torch.float32
        assert state["exp_avg"].device.type == "meta"
    assert all(group["lr"] == 5e-4 and group["capturable"] for group in gpu_optimizer.param_groups)
