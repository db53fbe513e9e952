"""Decoders: the model turned into the three operations the sampling loop needs.

``prefill`` runs the prompt once for ``n`` rows, ``step`` feeds one token per row, ``keep`` drops
the finished rows. ``make_decoder`` picks one for a precision:

- ``HFDecoder``: any Hugging Face causal LM through its own forward and cache (fp32 as loaded,
  bf16/fp16 cast, or int8 linears for models other than GPT-2);
- ``GPT2Decoder``: GPT-2 through our own forward over its weights, with int8 linear layers
  (``trainer.generation.int8``): the fast CPU path.

``cast_weights`` sets the dtype of a model's floating-point weights (also for GGUF-loaded models).
"""
from __future__ import annotations


class HFDecoder:
    """Any Hugging Face causal LM, through its own forward and a ``DynamicCache``.

    The cache goes in and comes out under the name the model's forward takes: ``cache`` since
    transformers 5 (which warns about ``past_key_values``), ``past_key_values`` before."""

    def __init__(self, model, device: str):
        import inspect

        self.model = model
        self.device = device
        self.cache = None
        parameters = inspect.signature(model.forward).parameters
        self._cache_name = "cache" if "cache" in parameters else "past_key_values"

    def prefill(self, prompt: list[int], n: int, capacity: int | None = None):
        import torch

        ids = torch.tensor([prompt], device=self.device)
        out = self.model(input_ids=ids, use_cache=True, logits_to_keep=1)
        self.cache = out[self._cache_name]
        if n > 1:
            self.cache.batch_repeat_interleave(n)
        return out.logits[:, -1].float().expand(n, -1)

    def step(self, tokens):
        out = self.model(input_ids=tokens[:, None], use_cache=True, **{self._cache_name: self.cache})
        self.cache = out[self._cache_name]
        return out.logits[:, -1].float()

    def keep(self, rows):
        self.cache.batch_select_indices(rows)


class GPT2Decoder:
    """GPT-2 without the framework: our own forward over the model's weights, a preallocated KV
    cache, and int8 linear layers (``trainer.generation.int8``). Used for ``int8`` on the CPU.

    Per token it runs exactly the maths of GPT-2 (layer norm, attention over the cache, tanh-GELU
    MLP, tied output projection) and nothing else: no masks, no cache objects, no hooks.
    """

    def __init__(self, model, int8: bool = True, quantize_lm_head: bool = True):
        import torch
        from torch import nn

        from trainer.generation.int8 import conv1d_to_linear, quantize_int8_linears

        config = model.config
        transformer = model.transformer
        conv1d_to_linear(model)
        self.n_head = config.n_head
        self.head_dim = config.n_embd // config.n_head
        self.eps = config.layer_norm_epsilon
        self.max_positions = config.n_positions
        self.wte = transformer.wte.weight.detach().float()
        self.wpe = transformer.wpe.weight.detach().float()
        self.ln_f = (transformer.ln_f.weight.detach().float(), transformer.ln_f.bias.detach().float())
        self.layers = []
        for block in transformer.h:
            linears = [block.attn.c_attn, block.attn.c_proj, block.mlp.c_fc, block.mlp.c_proj]
            self.layers.append({
                "ln_1": (block.ln_1.weight.detach().float(), block.ln_1.bias.detach().float()),
                "ln_2": (block.ln_2.weight.detach().float(), block.ln_2.bias.detach().float()),
                "linears": [_direct(lin) for lin in (
                    quantize_int8_linears([lin.float() for lin in linears]) if int8
                    else [lin.float() for lin in linears])],
            })
        head = nn.Linear(config.n_embd, self.wte.shape[0], bias=False)
        with torch.no_grad():
            head.weight.copy_(model.lm_head.weight.detach().float())
        self.lm_head = _direct(quantize_int8_linears([head])[0] if int8 and quantize_lm_head
                               else head)
        self.cache = None
        self.length = 0

    @staticmethod
    def supports(model) -> bool:
        """True for a standard HF GPT-2 (what this forward reproduces)."""
        config = getattr(model, "config", None)
        return (getattr(config, "model_type", None) == "gpt2"
                and hasattr(model, "transformer") and hasattr(model, "lm_head")
                and getattr(config, "scale_attn_weights", True)
                and not getattr(config, "scale_attn_by_inverse_layer_idx", False)
                and getattr(config, "activation_function", "gelu_new") in (
                    "gelu_new", "gelu_pytorch_tanh", "gelu_fast")
                and getattr(config, "add_cross_attention", False) is False)

    def _forward(self, ids, start: int, cache):
        """Logits of the last position for ``ids`` [rows, T] at positions start..start+T-1,
        reading and extending ``cache`` (per layer: keys, values [rows, heads, capacity, dim])."""
        import torch.nn.functional as F

        rows, steps = ids.shape
        end = start + steps
        x = F.embedding(ids, self.wte) + self.wpe[start:end]
        width = x.shape[-1]
        for layer, (keys, values) in zip(self.layers, cache):
            qkv_proj, attn_proj, fc, mlp_proj = layer["linears"]
            h = F.layer_norm(x, (width,), *layer["ln_1"], self.eps)
            q, k, v = qkv_proj(h).view(rows, steps, 3, self.n_head, self.head_dim).permute(
                2, 0, 3, 1, 4)
            keys[:, :, start:end] = k
            values[:, :, start:end] = v
            attn = F.scaled_dot_product_attention(q, keys[:, :, :end], values[:, :, :end],
                                                  is_causal=steps > 1)
            x = x + attn_proj(attn.transpose(1, 2).reshape(rows, steps, width))
            h = F.layer_norm(x, (width,), *layer["ln_2"], self.eps)
            x = x + mlp_proj(F.gelu(fc(h), approximate="tanh"))
        x = F.layer_norm(x[:, -1], (width,), *self.ln_f, self.eps)
        return self.lm_head(x)

    def prefill(self, prompt: list[int], n: int, capacity: int | None = None):
        """Run the prompt once and share its keys/values with all ``n`` rows."""
        import torch

        capacity = min(capacity or self.max_positions, self.max_positions)
        shape = (n, self.n_head, capacity, self.head_dim)
        self.cache = [(torch.empty(shape), torch.empty(shape)) for _ in self.layers]
        first_row = [(k[:1], v[:1]) for k, v in self.cache]
        logits = self._forward(torch.tensor([prompt]), 0, first_row)
        self.length = len(prompt)
        for keys, values in self.cache:
            keys[1:, :, :self.length] = keys[:1, :, :self.length]
            values[1:, :, :self.length] = values[:1, :, :self.length]
        return logits.expand(n, -1)

    def step(self, tokens):
        logits = self._forward(tokens[:, None], self.length, self.cache)
        self.length += 1
        return logits

    def keep(self, rows):
        """Keep only ``rows`` of the batch (copies just the filled part of the cache)."""
        import torch

        kept = []
        for pair in self.cache:
            new = []
            for buffer in pair:
                fresh = torch.empty((len(rows),) + tuple(buffer.shape[1:]))
                fresh[:, :, :self.length] = buffer[:, :, :self.length].index_select(0, rows)
                new.append(fresh)
            kept.append(tuple(new))
        self.cache = kept


def _direct(linear):
    """A plain function computing ``linear`` (skips ``nn.Module.__call__``; ~50 calls a token)."""
    import torch
    import torch.nn.functional as F

    packed = getattr(getattr(linear, "packed", None), "_packed_params", None)
    if packed is not None:  # trainer.generation.int8's Int8Linear
        op, reduce_range = torch.ops.quantized.linear_dynamic, linear.reduce_range
        return lambda x: op(x, packed, reduce_range)
    if isinstance(linear, torch.nn.Linear):
        weight, bias = linear.weight.detach(), linear.bias
        bias = bias.detach() if bias is not None else None
        return lambda x: F.linear(x, weight, bias)
    return linear


def make_decoder(model, precision: str, device: str):
    """The decoder for ``precision``: fp32 as loaded (HF forward, the exact path), bf16/fp16
    cast, int8 through ``GPT2Decoder`` for GPT-2 or quantized linears for any other model."""
    import torch

    if device != "cpu":
        model.to(device)
    if precision in ("bf16", "fp16"):
        cast_weights(model, torch.bfloat16 if precision == "bf16" else torch.float16)
    else:
        cast_weights(model, torch.float32)
    if precision == "int8":
        if GPT2Decoder.supports(model):
            return GPT2Decoder(model)
        from trainer.generation.int8 import quantize_int8

        # Llama-style models carry activation outliers into the MLP's down projection: int8
        # there (and in the output projection) cost SmolLM2-135M +2.8 % held-out perplexity;
        # kept in float, +0.1 %.
        model = quantize_int8(model, include_lm_head=False, keep_float=("down_proj",))
    return HFDecoder(model, device)


def cast_weights(model, dtype) -> None:
    """Floating-point weights of ``model`` to ``dtype``, also for models HF marks as quantized
    (a GGUF file is dequantized when loaded, but ``.to(dtype)`` is refused for it)."""
    import torch

    tensors = list(model.parameters()) + list(model.buffers())
    if all(t.dtype == dtype for t in tensors if torch.is_floating_point(t)):
        return
    try:
        model.to(dtype)
    except ValueError:
        for tensor in tensors:
            if torch.is_floating_point(tensor):
                tensor.data = tensor.data.to(dtype)
