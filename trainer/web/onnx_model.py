"""The model as ONNX for the browser: one graph with a key/value cache, then int8 weights.

The graph takes ``input_ids`` [1, seq] and, per layer, ``past.N.key`` / ``past.N.value``
[1, kv_heads, past, head_dim] (``past`` may be 0: the first call passes empty tensors), and returns
``logits`` [1, seq, vocab] and ``present.N.key`` / ``present.N.value`` (the cache grown by ``seq``).
Positions continue from the cache's length, so a page feeds one token at a time, like
``trainer.generation.decoding``. Exported with ``torch.onnx.export`` (the dynamo exporter), then
quantized: onnxruntime's ``quantize_dynamic`` gives every MatMul int8 weights (per output
channel), and ``half_embeddings`` stores each embedding table as fp16: int8 tables cost SmolLM2
+3 % (one scale per table, onnxruntime's) to +4 % (one per row) of held-out perplexity, fp16 nothing.
A model that ties its output layer to the table (SmolLM2) has it transposed at every call:
``fold_transposes`` stores the transposed copy instead, so the output layer is quantized too, and
the file holds two int8 copies of the table.
"""
from __future__ import annotations

import contextlib
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

OPSET = 18


@dataclass
class CacheShape:
    layers: int
    kv_heads: int
    head_dim: int
    vocab: int
    max_positions: int

    @classmethod
    def of(cls, model) -> "CacheShape":
        config = model.config
        heads = config.num_attention_heads
        kv_heads = getattr(config, "num_key_value_heads", None) or heads
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
        from trainer.model_loading import model_context

        positions = model_context(config) or 1024
        return cls(config.num_hidden_layers, kv_heads, head_dim, config.vocab_size, positions)

    def input_names(self) -> list[str]:
        return ["input_ids"] + [f"past.{i}.{kv}" for i in range(self.layers) for kv in ("key", "value")]

    def output_names(self) -> list[str]:
        return ["logits"] + [f"present.{i}.{kv}" for i in range(self.layers) for kv in ("key", "value")]

    def empty_past(self, length: int = 0) -> list[torch.Tensor]:
        return [torch.zeros(1, self.kv_heads, length, self.head_dim) for _ in range(2 * self.layers)]


class WithCache(torch.nn.Module):
    """``model`` with its cache as flat tensors in and out (what an ONNX graph can carry)."""

    def __init__(self, model, shape: CacheShape):
        super().__init__()
        self.model = model
        self.shape = shape

    def forward(self, input_ids, *past):
        from transformers import DynamicCache

        cache = DynamicCache()
        for i in range(self.shape.layers):
            cache.update(past[2 * i], past[2 * i + 1], i)
        start = past[0].shape[2]
        positions = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0) + start
        out = self.model(input_ids=input_ids, position_ids=positions, past_key_values=cache, use_cache=True)
        presents = []
        for layer in out.past_key_values.layers[: self.shape.layers]:
            presents += [layer.keys, layer.values]
        return (out.logits, *presents)


def export_fp32(model, shape: CacheShape, path: Path) -> Path:
    """Write the fp32 graph with its cache inputs and outputs to ``path`` (one file), its
    transposed weights folded into constants (``fold_transposes``)."""
    from torch.export import Dim

    wrapper = WithCache(model, shape).eval()
    example = (torch.tensor([[0, 1, 2]]), *shape.empty_past(4))
    seq = Dim("seq", min=1, max=shape.max_positions)
    past = Dim("past", min=0, max=shape.max_positions)
    dynamic = {"input_ids": {1: seq}, "past": tuple({2: past} for _ in range(2 * shape.layers))}
    with torch.no_grad(), _quiet("torch.onnx", "torch.export"):
        torch.onnx.export(wrapper, example, str(path), input_names=shape.input_names(),
                          output_names=shape.output_names(), dynamic_shapes=dynamic, dynamo=True,
                          opset_version=OPSET, external_data=False, verbose=False)
    fold_transposes(path)
    return path


def quantize_int8(fp32: Path, int8: Path) -> Path:
    """``fp32`` with int8 weights (per output channel) for every MatMul, written to ``int8``."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _quiet(""):  # the quantizer's advice to pre-process, logged on the root logger
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul"])
    half_embeddings(int8)
    return int8


@contextlib.contextmanager
def _quiet(*loggers: str):
    """The exporters' own warnings (deprecations, torchvision not installed, advice) are about their
    internals, not the user's model: silenced while they run; errors still show."""
    saved = [(logging.getLogger(name), logging.getLogger(name).level) for name in loggers]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for logger, _ in saved:
            logger.setLevel(logging.ERROR)
        try:
            yield
        finally:
            for logger, level in saved:
                logger.setLevel(level)


def fold_transposes(path: Path) -> int:
    """Replace each Transpose of a 2-D weight by a transposed copy of the weight (so a tied output
    layer is a plain MatMul by a constant, which quantizes); returns how many were folded."""
    import onnx
    from onnx import numpy_helper

    graph_model = onnx.load(str(path))
    graph = graph_model.graph
    weights = {init.name: init for init in graph.initializer if len(init.dims) == 2}
    kept, folded = [], 0
    for node in graph.node:
        if node.op_type == "Transpose" and node.input[0] in weights:
            array = numpy_helper.to_array(weights[node.input[0]]).T.copy()
            graph.initializer.append(numpy_helper.from_array(array, node.output[0]))
            folded += 1
            continue
        kept.append(node)
    if folded:
        del graph.node[:]
        graph.node.extend(kept)
        onnx.save(graph_model, str(path))
    return folded


def half_embeddings(path: Path) -> int:
    """Rewrite ``path`` so that each Gather from a 2-D fp32 table (an embedding) reads an fp16 copy
    and casts the rows it took to fp32; returns how many tables changed."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    graph_model = onnx.load(str(path))
    graph = graph_model.graph
    tables = {init.name: init for init in graph.initializer if len(init.dims) == 2
              and init.data_type == onnx.TensorProto.FLOAT}
    users: dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            users[name] = users.get(name, 0) + 1
    nodes, changed = [], 0
    for node in graph.node:
        table = node.input[0] if node.op_type == "Gather" and node.input else None
        if table not in tables or users.get(table) != 1:
            nodes.append(node)
            continue
        half = numpy_helper.to_array(tables.pop(table)).astype(np.float16)
        graph.initializer.remove(next(i for i in graph.initializer if i.name == table))
        graph.initializer.append(numpy_helper.from_array(half, f"{table}_fp16"))
        rows = f"{node.output[0]}_fp16"
        nodes += [helper.make_node("Gather", [f"{table}_fp16", node.input[1]], [rows], axis=_axis(node)),
                  helper.make_node("Cast", [rows], [node.output[0]], to=onnx.TensorProto.FLOAT)]
        changed += 1
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.save(graph_model, str(path))
    return changed


def _axis(node) -> int:
    return next((a.i for a in node.attribute if a.name == "axis"), 0)
