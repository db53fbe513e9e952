"""The tokenizer as the page needs it: the bytes of every token, and which tokens are special.

The page never encodes text (an unconditional post starts from the end-of-post token alone), so it
only decodes: token ids to bytes, bytes to UTF-8 text (a character split across tokens waits for
its last byte). Byte-level BPE tokenizers (GPT-2's, SmolLM2's) map each byte to one printable
character; ``token_bytes`` undoes that map. Special tokens decode to nothing, as
``tokenizer.decode(ids, skip_special_tokens=True)`` does in Python.

``vocab.json``: ``{"format": 1, "eos_id": N, "special": [ids], "tokens": [str, ...]}`` where
``tokens[id]`` holds the token's bytes as the characters U+0000-U+00FF (one per byte).
"""
from __future__ import annotations

from common.errors import TrainerError


def byte_level_map() -> dict[str, int]:
    """GPT-2's printable stand-in character for each byte, inverted (character -> byte)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            chars.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(printable, chars)}


def browser_vocab(tokenizer, vocab_size: int) -> dict:
    """The ``vocab.json`` object for ``tokenizer`` (a byte-level BPE); ``vocab_size``: the model's
    output size (ids past the tokenizer's last token decode to nothing)."""
    decoder = byte_level_map()
    special = set(tokenizer.all_special_ids)
    tokens = [""] * vocab_size
    unusable = []
    added = tokenizer.get_added_vocab()
    for token, token_id in tokenizer.get_vocab().items():
        if token_id >= vocab_size:
            continue
        if token_id in special:
            continue
        if token in added:  # added tokens are written as plain text, not byte-level
            tokens[token_id] = token.encode("utf-8").decode("latin-1")
            continue
        if any(ch not in decoder for ch in token):
            unusable.append(token)
            continue
        tokens[token_id] = bytes(decoder[ch] for ch in token).decode("latin-1")
    if unusable and len(unusable) > len(tokens) // 100:
        raise TrainerError(
            f"the tokenizer is not a byte-level BPE (e.g. token {unusable[0]!r}): `trainer export-web` "
            "supports GPT-2 style tokenizers (GPT-2, SmolLM2)")
    special |= {tokenizer.convert_tokens_to_ids(t) for t in unusable}
    return {"format": 1, "eos_id": tokenizer.eos_token_id, "special": sorted(i for i in special if i < vocab_size),
            "tokens": tokens}


def decode(vocab: dict, ids: list[int]) -> str:
    """What the page shows for ``ids`` (the page's decoder, in Python: the export checks they agree)."""
    data = b"".join(vocab["tokens"][i].encode("latin-1") for i in ids if 0 <= i < len(vocab["tokens"]))
    return data.decode("utf-8", errors="replace")
