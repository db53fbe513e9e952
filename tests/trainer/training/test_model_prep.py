"""trainer.training.model_prep: the choices that make training fast must not change what is learnt.

Every test builds its own tiny GPT-2 (the ``tiny_gpt2`` fixture: 2 layers, 64 dims):
``prepare_model`` changes a model in place, so the session-wide fixture model is never handed to
it. No timings here (bench/train.py).
"""
from __future__ import annotations

import copy
import shutil

import pytest
import torch
import torch.nn.functional as F

from trainer.training import model_prep
from trainer.training.optimizer import make_optimizer, optimizer_step
from trainer.devices import autocast
from common.errors import TrainerError


def checkpointing(model) -> bool:
    flag = getattr(type(model), "is_activation_checkpointing", None)  # transformers >= 5.x
    return model.is_activation_checkpointing if flag is not None else model.is_gradient_checkpointing


def batch(seed: int = 1, rows: int = 2, length: int = 32):
    window = torch.randint(0, 256, (rows, length + 1), generator=torch.Generator().manual_seed(seed))
    return window[:, :-1], window[:, 1:]


def lm_loss(model, x, y):
    logits = model(input_ids=x, use_cache=False).logits
    return F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), y.reshape(-1))


# ----------------------------------------------------------------------------- model preparation
def test_prepare_model_sdpa_gelu_and_cpu_attention_dropout(tiny_gpt2):
    from transformers.activations import GELUTanh

    model = model_prep.prepare_model(tiny_gpt2(), torch.device("cpu"))
    assert model.config._attn_implementation == model_prep.CAUSAL_SDPA  # SDPA, without mask building
    blocks = model.transformer.h
    assert all(type(block.mlp.act) is GELUTanh for block in blocks)
    assert all(block.attn.attn_dropout.p == 0.0 for block in blocks)  # the fused SDPA kernel
    assert all(block.attn.resid_dropout.p == 0.1 for block in blocks)  # other dropout untouched
    assert model.config.attn_pdrop == 0.1  # the saved config is not rewritten
    assert getattr(model, "_compiled_call_impl", None) is None  # the model is never compiled
    objective = model_prep.training_objective(model, torch.device("cpu"), "auto")
    assert getattr(objective, "_compiled_call_impl", None) is None  # compile auto: not on the CPU
    assert not checkpointing(model)


def test_prepare_model_can_keep_attention_dropout(tiny_gpt2):
    model = model_prep.prepare_model(tiny_gpt2(), torch.device("cpu"), attention_dropout="keep")
    assert all(block.attn.attn_dropout.p == 0.1 for block in model.transformer.h)


def test_prepare_model_grad_checkpointing(tiny_gpt2):
    model = model_prep.prepare_model(tiny_gpt2(), torch.device("cpu"), grad_checkpointing=True)
    assert checkpointing(model)
    assert model.config.use_cache is False
    x, y = batch()
    model.train()
    lm_loss(model, x, y).backward()  # recomputation runs
    assert model.transformer.wte.weight.grad is not None


def test_compile_setting():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert model_prep.compile_wanted(cuda, "auto") and not model_prep.compile_wanted(cpu, "auto")
    assert model_prep.compile_wanted(cpu, "on") and not model_prep.compile_wanted(cuda, "off")
    with pytest.raises(TrainerError, match="unknown --compile 'yes'"):
        model_prep.compile_wanted(cpu, "yes")


def test_prepared_model_saves_and_reloads_the_same_function(tmp_path, tiny_gpt2):
    from transformers import AutoModelForCausalLM

    model = model_prep.prepare_model(tiny_gpt2(dropout=0.0), torch.device("cpu")).eval()
    model.save_pretrained(tmp_path, safe_serialization=True)
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path).eval()
    assert loaded.config.activation_function == "gelu_new"
    x, _ = batch()
    with torch.no_grad():
        torch.testing.assert_close(model(x).logits, loaded(x).logits, atol=1e-5, rtol=1e-5)


# ----------------------------------------------------------------------------- same learning
def test_fast_path_matches_fp32_eager_loss_and_gradients(tiny_gpt2):
    """bf16 autocast + SDPA + fused GELU gives the fp32 eager loss and gradients within bf16 error."""
    reference = tiny_gpt2(dropout=0.0).train()
    fast = copy.deepcopy(reference)
    cpu = torch.device("cpu")
    model_prep.prepare_model(fast, cpu)
    x, y = batch()
    ref_loss = lm_loss(reference, x, y)
    ref_loss.backward()
    with autocast(cpu, "bf16"):
        fast_loss = lm_loss(fast, x, y)
    fast_loss.backward()
    assert fast_loss.item() == pytest.approx(ref_loss.item(), rel=1e-2)
    for (name, p_ref), p_fast in zip(reference.named_parameters(), fast.parameters()):
        cosine = F.cosine_similarity(p_ref.grad.flatten(), p_fast.grad.flatten(), dim=0)
        assert cosine > 0.99, name


def test_a_training_step_on_the_fast_path_learns(tiny_gpt2):
    cpu = torch.device("cpu")
    model = model_prep.prepare_model(tiny_gpt2(), cpu).train()
    optimizer = make_optimizer(model, lr=3e-3, weight_decay=0.1, device=cpu)
    precision = "bf16"
    x, y = batch()
    losses = []
    for _ in range(8):
        with autocast(cpu, precision):
            loss = lm_loss(model, x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
    assert all(p.dtype == torch.float32 for p in model.parameters())  # master weights stay fp32
    assert losses[-1] < losses[0] - 0.5


# torch.compile is the default on CUDA (``--compile auto``); here it runs on the CPU's inductor
# backend, which traces the same graph, so a model or checkpointing change that breaks tracing,
# or a compiled step that learns differently, fails here before it reaches a GPU.
@pytest.fixture(scope="module")
def cpu_can_compile():
    """Skip where this machine cannot run torch.compile at all (no C++ compiler for inductor):
    a one-line function must compile first, so a failure of the model's graph is a real one."""
    if not any(shutil.which(c) for c in ("g++", "c++", "clang++")):
        pytest.skip("torch.compile on the CPU needs a C++ compiler")
    try:
        torch.compile(lambda t: t * 2 + 1)(torch.ones(3))
    except Exception as exc:  # noqa: BLE001 - any backend failure means: cannot compile here
        pytest.skip(f"torch.compile does not work on this machine: {type(exc).__name__}: {exc}"[:200])


@pytest.mark.parametrize("grad_checkpointing", [False, True], ids=["plain", "grad-checkpointing"])
def test_compiled_training_matches_eager(grad_checkpointing, cpu_can_compile, tiny_gpt2):
    cpu = torch.device("cpu")

    def train(compile: str, checkpointing: bool):
        model = model_prep.prepare_model(tiny_gpt2(dropout=0.0), cpu, grad_checkpointing=checkpointing).train()
        objective = model_prep.training_objective(model, cpu, compile)
        optimizer = make_optimizer(model, lr=1e-2, weight_decay=0.1, device=cpu)
        losses = []
        x, y = batch()
        for _ in range(4):
            loss = objective(x, y)
            loss.backward()
            optimizer_step(model, optimizer)
            losses.append(loss.item())
        return model, objective, losses

    eager, _, eager_losses = train("off", False)
    compiled, objective, compiled_losses = train("on", grad_checkpointing)
    assert objective._compiled_call_impl is not None  # the compiled graph ran the steps...
    assert getattr(compiled, "_compiled_call_impl", None) is None  # ...and the model stays eager
    assert compiled_losses == pytest.approx(eager_losses, rel=1e-4)
    assert eager_losses[-1] < eager_losses[0]
    assert list(compiled.state_dict()) == list(eager.state_dict())  # save_pretrained sees the same keys
    for (name, a), b in zip(eager.state_dict().items(), compiled.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-4, msg=name)


@pytest.mark.parametrize("compile", ["off", "on"])
def test_training_attention_gets_no_mask_so_flash_can_run(compile, monkeypatch, request, tiny_gpt2):
    """SDPA's flash kernel (CUDA) runs only with ``attn_mask=None, is_causal=True``. transformers
    builds a (B, 1, T, T) mask for "sdpa" in a compiled training step; the trainer's attention
    must not, compiled or not, with or without gradient checkpointing."""
    if compile == "on":
        request.getfixturevalue("cpu_can_compile")
    seen = []
    real = F.scaled_dot_product_attention

    def probe(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, **kwargs):
        seen.append((attn_mask is None, is_causal))
        return real(q, k, v, attn_mask=attn_mask, dropout_p=dropout_p, is_causal=is_causal, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention", probe)
    cpu = torch.device("cpu")
    model = model_prep.prepare_model(tiny_gpt2(), cpu, grad_checkpointing=True).train()
    objective = model_prep.training_objective(model, cpu, compile)
    x, y = batch()
    with autocast(cpu, "bf16"):
        objective(x, y).backward()
    assert seen and set(seen) == {(True, True)}


def test_training_attention_is_the_same_function_and_is_not_saved(tmp_path, tiny_gpt2):
    from transformers import AutoModelForCausalLM

    reference = tiny_gpt2(dropout=0.0).eval()
    reference.set_attn_implementation("sdpa")
    model = model_prep.prepare_model(tiny_gpt2(dropout=0.0), torch.device("cpu")).eval()
    assert model.config._attn_implementation == model_prep.CAUSAL_SDPA
    x, _ = batch()
    with torch.no_grad():
        torch.testing.assert_close(model(input_ids=x).logits, reference(input_ids=x).logits)
        greedy = model.generate(x[:1, :4], max_new_tokens=6, do_sample=False, pad_token_id=0)
        assert torch.equal(greedy, reference.generate(x[:1, :4], max_new_tokens=6, do_sample=False, pad_token_id=0))
    model.save_pretrained(tmp_path)
    assert model_prep.CAUSAL_SDPA not in (tmp_path / "config.json").read_text()
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path)
    assert loaded.config._attn_implementation != model_prep.CAUSAL_SDPA  # padded batches work as usual
