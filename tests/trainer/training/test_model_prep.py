"""trainer.training.speed: the choices that make training fast must not change what is learnt.

Every test builds its own tiny GPT-2 (2 layers, 64 dims): ``prepare_model`` changes a model in
place, so the session-wide fixture model is never handed to it. No timings here (bench/train.py).
"""
from __future__ import annotations

import copy
import shutil

import pytest
import torch
import torch.nn.functional as F

from trainer.training import speed
from trainer.devices import autocast
from common.errors import TrainerError


def tiny_gpt2(*, dropout: float = 0.1, seed: int = 0):
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(n_layer=2, n_embd=64, n_head=2, n_positions=128, vocab_size=256,
                        bos_token_id=0, eos_token_id=0,
                        resid_pdrop=dropout, embd_pdrop=dropout, attn_pdrop=dropout)
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(config)
    model.set_attn_implementation("eager")
    return model


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
def test_prepare_model_sdpa_gelu_and_cpu_attention_dropout():
    from transformers.activations import GELUTanh

    model = speed.prepare_model(tiny_gpt2(), torch.device("cpu"))
    assert model.config._attn_implementation == speed.CAUSAL_SDPA  # SDPA, without mask building
    blocks = model.transformer.h
    assert all(type(block.mlp.act) is GELUTanh for block in blocks)
    assert all(block.attn.attn_dropout.p == 0.0 for block in blocks)  # the fused SDPA kernel
    assert all(block.attn.resid_dropout.p == 0.1 for block in blocks)  # other dropout untouched
    assert model.config.attn_pdrop == 0.1  # the saved config is not rewritten
    assert getattr(model, "_compiled_call_impl", None) is None  # the model is never compiled
    objective = speed.training_objective(model, torch.device("cpu"), "auto")
    assert getattr(objective, "_compiled_call_impl", None) is None  # compile auto: not on the CPU
    assert not checkpointing(model)


def test_prepare_model_can_keep_attention_dropout():
    model = speed.prepare_model(tiny_gpt2(), torch.device("cpu"), attention_dropout="keep")
    assert all(block.attn.attn_dropout.p == 0.1 for block in model.transformer.h)


def test_prepare_model_grad_checkpointing():
    model = speed.prepare_model(tiny_gpt2(), torch.device("cpu"), grad_checkpointing=True)
    assert checkpointing(model)
    assert model.config.use_cache is False
    x, y = batch()
    model.train()
    lm_loss(model, x, y).backward()  # recomputation runs
    assert model.transformer.wte.weight.grad is not None


def test_compile_setting():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert speed.compile_wanted(cuda, "auto") and not speed.compile_wanted(cpu, "auto")
    assert speed.compile_wanted(cpu, "on") and not speed.compile_wanted(cuda, "off")
    with pytest.raises(TrainerError, match="unknown --compile 'yes'"):
        speed.compile_wanted(cpu, "yes")


def test_prepared_model_saves_and_reloads_the_same_function(tmp_path):
    from transformers import AutoModelForCausalLM

    model = speed.prepare_model(tiny_gpt2(dropout=0.0), torch.device("cpu")).eval()
    model.save_pretrained(tmp_path, safe_serialization=True)
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path).eval()
    assert loaded.config.activation_function == "gelu_new"
    x, _ = batch()
    with torch.no_grad():
        torch.testing.assert_close(model(x).logits, loaded(x).logits, atol=1e-5, rtol=1e-5)


# ----------------------------------------------------------------------------- optimizer
def test_optimizer_decays_matrices_and_embeddings_not_biases_or_layernorm():
    model = tiny_gpt2()
    optimizer = speed.make_optimizer(model, lr=1e-3, weight_decay=0.1, device=torch.device("cpu"))
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


# ----------------------------------------------------------------------------- FLOPs and MFU
def test_flops_per_token_for_gpt2_124m():
    from transformers import GPT2Config

    config = GPT2Config()
    assert speed.count_params(config) == 123_653_376  # nanoGPT: "number of parameters: 123.65M"
    expected = 6 * 123_653_376 + 12 * 12 * 12 * 64 * 1024
    assert speed.flops_per_token(config, 1024) == pytest.approx(expected)


def test_count_params_matches_a_built_model():
    model = tiny_gpt2()
    built = sum(p.numel() for p in model.parameters()) - model.transformer.wpe.weight.numel()
    assert speed.count_params(model.config) == built


def test_mfu_against_the_gpu_peak(monkeypatch):
    assert speed.mfu(1e5, 8.5e8, torch.device("cpu")) is None
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "NVIDIA H100 80GB HBM3")
    assert speed.mfu(450_000, 855_166_464.0, torch.device("cuda")) == pytest.approx(450_000 * 855_166_464 / 989e12)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "NVIDIA H100 PCIe")
    assert speed.peak_flops(torch.device("cuda")) == 756e12
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Some Future GPU")
    assert speed.mfu(1e5, 8.5e8, torch.device("cuda")) is None


# ----------------------------------------------------------------------------- same learning
def test_fast_path_matches_fp32_eager_loss_and_gradients():
    """bf16 autocast + SDPA + fused GELU gives the fp32 eager loss and gradients within bf16 error."""
    reference = tiny_gpt2(dropout=0.0).train()
    fast = copy.deepcopy(reference)
    cpu = torch.device("cpu")
    speed.prepare_model(fast, cpu)
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


def test_a_training_step_on_the_fast_path_learns():
    cpu = torch.device("cpu")
    model = speed.prepare_model(tiny_gpt2(), cpu).train()
    optimizer = speed.make_optimizer(model, lr=3e-3, weight_decay=0.1, device=cpu)
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
def test_compiled_training_matches_eager(grad_checkpointing, cpu_can_compile):
    cpu = torch.device("cpu")

    def train(compile: str, checkpointing: bool):
        model = speed.prepare_model(tiny_gpt2(dropout=0.0), cpu, grad_checkpointing=checkpointing).train()
        objective = speed.training_objective(model, cpu, compile)
        optimizer = speed.make_optimizer(model, lr=1e-2, weight_decay=0.1, device=cpu)
        losses = []
        x, y = batch()
        for _ in range(4):
            loss = objective(x, y)
            loss.backward()
            speed.optimizer_step(model, optimizer)
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
def test_training_attention_gets_no_mask_so_flash_can_run(compile, monkeypatch, request):
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
    model = speed.prepare_model(tiny_gpt2(), cpu, grad_checkpointing=True).train()
    objective = speed.training_objective(model, cpu, compile)
    x, y = batch()
    with autocast(cpu, "bf16"):
        objective(x, y).backward()
    assert seen and set(seen) == {(True, True)}


def test_training_attention_is_the_same_function_and_is_not_saved(tmp_path):
    from transformers import AutoModelForCausalLM

    reference = tiny_gpt2(dropout=0.0).eval()
    reference.set_attn_implementation("sdpa")
    model = speed.prepare_model(tiny_gpt2(dropout=0.0), torch.device("cpu")).eval()
    assert model.config._attn_implementation == speed.CAUSAL_SDPA
    x, _ = batch()
    with torch.no_grad():
        torch.testing.assert_close(model(input_ids=x).logits, reference(input_ids=x).logits)
        greedy = model.generate(x[:1, :4], max_new_tokens=6, do_sample=False, pad_token_id=0)
        assert torch.equal(greedy, reference.generate(x[:1, :4], max_new_tokens=6, do_sample=False, pad_token_id=0))
    model.save_pretrained(tmp_path)
    assert speed.CAUSAL_SDPA not in (tmp_path / "config.json").read_text()
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path)
    assert loaded.config._attn_implementation != speed.CAUSAL_SDPA  # padded batches work as usual


def test_resume_puts_fused_adamw_step_counters_on_the_parameters_device():
    """A run begun on the CPU (foreach AdamW) and resumed on a GPU (fused AdamW): the step
    counters must move to the GPU. Here the "GPU" is the meta device and capturable AdamW, which
    keeps its counters on the parameters' device under the same rule as fused."""
    cpu_model = torch.nn.Linear(4, 4)
    cpu_optimizer = speed.make_optimizer(cpu_model, lr=1e-3, weight_decay=0.1, device=torch.device("cpu"))
    cpu_model(torch.ones(2, 4)).sum().backward()
    cpu_optimizer.step()
    saved = cpu_optimizer.state_dict()
    assert all(state["step"].device.type == "cpu" for state in saved["state"].values())

    gpu_model = torch.nn.Linear(4, 4, device="meta")
    gpu_optimizer = torch.optim.AdamW(speed.optimizer_groups(gpu_model, 0.1), lr=5e-4, capturable=True)
    speed.restore_optimizer(gpu_optimizer, saved)
    for param in gpu_model.parameters():
        state = gpu_optimizer.state[param]
        assert state["step"].device.type == "meta" and state["step"].dtype == torch.float32
        assert state["exp_avg"].device.type == "meta"
    assert all(group["lr"] == 5e-4 and group["capturable"] for group in gpu_optimizer.param_groups)
