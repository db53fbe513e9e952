"""A tiny GPT-2 overfit on one titled post until it recites it: a model whose samples have a real
title and end where the post ends, for the tests that need a post the gate publishes (the trainer's
``overfit_run`` fixture, the plugin's real-model test). An untrained model writes noise, which the
gate rejects: no title, no sentence."""
from __future__ import annotations

from pathlib import Path

RECITED_TITLE = "Wind from the north-west"
# Two of the shared tiny texts run together: with the title about a hundred tokens, under 128 positions.
RECITED_INDEXES = (0, 2)


def recital(tiny_texts: list[str]) -> str:
    """The recited post in the corpus format: title, blank line, body."""
    return RECITED_TITLE + "\n\n" + " ".join(tiny_texts[i] for i in RECITED_INDEXES)


def train_recital_run(run: Path, base, tokenizer, text: str) -> Path:
    """Write a run folder (model, tokenizer, train.json, corpus) whose model recites ``text``.

    A fresh copy of the tiny GPT-2 ``base`` is trained with a plain loop on the one text, framed by
    EOS tokens, until greedy decoding reproduces it: a few hundred steps, a few seconds on a CPU.
    """
    import torch
    from transformers import GPT2LMHeadModel

    from common.corpus_format import join_documents
    from common.fileio import atomic_write_json, atomic_write_text, sha256_file

    torch.manual_seed(0)
    model = GPT2LMHeadModel(base.config)
    model.config.resid_pdrop = model.config.embd_pdrop = model.config.attn_pdrop = 0.0
    ids = [tokenizer.eos_token_id] + tokenizer.encode(text) + [tokenizer.eos_token_id]
    assert 60 < len(ids) <= model.config.n_positions
    batch = torch.tensor([ids])
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(300):
        loss = model(input_ids=batch, labels=batch).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if loss.item() < 0.01:
            break
    model.eval()

    corpus = run / "corpus.txt"
    atomic_write_text(corpus, join_documents([text]))
    model.save_pretrained(run, safe_serialization=True)
    tokenizer.save_pretrained(run)
    atomic_write_json(run / "train.json", {
        "corpus_path": str(corpus), "corpus_sha256": sha256_file(corpus),
        "steps": 300, "train_loss": loss.item(),
    })
    return run
