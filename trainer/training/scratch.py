"""Models from scratch: a byte-level BPE tokenizer trained on the corpus and a fresh GPT-2 config.

This is how the tests get a model in seconds, how `make html` builds the offline demo model on a
fresh clone, and how a blog in a language GPT-2 knows badly can start. Sizes:

- ``tiny``: a few hundred thousand parameters; trains on the demo blog in a couple of CPU minutes.
- ``small``: ~20 M parameters; a real attempt on a CPU, better on a GPU.
- ``gpt2``: the GPT-2 117M architecture, untrained.
"""
from __future__ import annotations

from typing import Iterable

from common.corpus_format import DELIMITER
from common.errors import ModelError

EOS = DELIMITER

SIZES: dict[str, dict[str, int]] = {
    "test": dict(n_layer=2, n_head=2, n_embd=64, n_positions=128, vocab_size=512),
    "tiny": dict(n_layer=4, n_head=4, n_embd=128, n_positions=256, vocab_size=4096),
    "small": dict(n_layer=6, n_head=6, n_embd=384, n_positions=512, vocab_size=8192),
    "gpt2": dict(n_layer=12, n_head=12, n_embd=768, n_positions=1024, vocab_size=50257),
}


def train_tokenizer(texts: Iterable[str], vocab_size: int):
    """Train a GPT-2 style byte-level BPE tokenizer whose only special token is the EOS.

    Returns a ``transformers.PreTrainedTokenizerFast`` with ``eos_token`` (= ``bos_token`` =
    ``unk_token``) set to ``<|endoftext|>``, like GPT-2's own tokenizer.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    bpe_trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(list(texts), trainer=bpe_trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        eos_token=EOS,
        bos_token=EOS,
        unk_token=EOS,
        model_max_length=SIZES["gpt2"]["n_positions"],
    )


def scratch_config(size: str, vocab_size: int, eos_token_id: int, **overrides):
    """A fresh ``GPT2Config`` of the named size (``overrides`` replace any field)."""
    from transformers import GPT2Config

    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}: choose one of {', '.join(SIZES)}")
    fields = {k: v for k, v in SIZES[size].items() if k != "vocab_size"}
    fields.update(overrides)
    return GPT2Config(
        vocab_size=vocab_size,
        bos_token_id=eos_token_id,
        eos_token_id=eos_token_id,
        **fields,
    )


def build_scratch_model(texts: Iterable[str], size: str = "tiny", seed: int = 0, **overrides):
    """Train a tokenizer on ``texts`` and build an untrained GPT-2 of ``size`` around it.

    Returns ``(model, tokenizer)``. Deterministic for the same texts, size and seed.
    """
    import torch
    from transformers import GPT2LMHeadModel

    texts = list(texts)
    vocab_size = overrides.pop("vocab_size", SIZES[size]["vocab_size"])
    tokenizer = train_tokenizer(texts, vocab_size)
    config = scratch_config(size, len(tokenizer), tokenizer.eos_token_id, **overrides)
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(config)
    tokenizer.model_max_length = config.n_positions
    return model, tokenizer


def build_from_scratch(texts: list[str], size: str, *, seed: int):
    """A fresh GPT-2 of ``size`` and a byte-level BPE tokenizer trained on ``texts``, with the EOS
    convention every loaded model gets (``trainer.model_loading.apply_eos_convention``)."""
    from trainer.model_loading import apply_eos_convention

    if size not in SIZES:
        raise ModelError(f"unknown --size {size!r}: choose one of {', '.join(SIZES)}")
    model, tokenizer = build_scratch_model(texts, size=size, seed=seed)
    apply_eos_convention(model, tokenizer)
    return model, tokenizer
