"""From the corpus file to training and validation windows.

- ``read_corpus``: the corpus file -> its documents (posts) and its sha256; bad input raises
  ``CorpusError`` with one clear line.
- ``held_out_split``: which whole posts are held out for validation (never a cut in a post).
- ``encode_documents``: tokenize each post once, cached next to the corpus
  (``data/.cache/tokens-<corpus>-<tokenizer>.safetensors``).
- ``token_stream``: posts joined by the tokenizer's single EOS token, with EOS before the first
  post too, so the model learns "EOS -> start of a post" (unconditional sampling starts there).
- ``TrainWindows``: random training windows from the stream; the windows of step ``s`` on rank
  ``r`` depend only on (seed, rank, s), which makes resume exact and DDP ranks disjoint.
- ``validation_windows``: a fixed set of windows over the held-out stream, so validation loss is
  comparable across steps and runs.
"""
from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from common.corpus_format import DELIMITER, split_documents
from common.errors import CorpusError
from common.fileio import atomic_write_bytes, sha256_bytes

log = logging.getLogger(__name__)

CACHE_DIR_NAME = ".cache"


# --------------------------------------------------------------------------- the corpus
@dataclass
class Corpus:
    path: Path  # absolute
    documents: list[str]
    sha256: str


def read_corpus(path: str | os.PathLike) -> Corpus:
    """Read and check a corpus file (see ``common.corpus_format``)."""
    path = Path(path).expanduser().absolute()
    hint = "build it with `make corpus` (or `corpus-builder content/ -o data/corpus.txt`)"
    if not path.exists():
        raise CorpusError(f"corpus {path} does not exist: {hint}, or pass --corpus PATH")
    if path.is_dir():
        raise CorpusError(f"corpus {path} is a folder, not a file: pass --corpus PATH/corpus.txt")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"cannot read corpus {path}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"corpus {path} is not UTF-8 text (byte {exc.start}): {hint}") from None
    documents = split_documents(text)
    if not documents:
        raise CorpusError(f"corpus {path} is empty: {hint}")
    has_delimiter_line = any(line.strip() == DELIMITER for line in text.splitlines())
    if not has_delimiter_line:
        raise CorpusError(
            f"corpus {path} has no line '{DELIMITER}' between posts, so it reads as one "
            f"{len(text):,}-character post: {hint}, or put that line between posts "
            "(a corpus of really one post: end it with that line)"
        )
    return Corpus(path=path, documents=documents, sha256=sha256_bytes(data))


def held_out_split(documents: list[str], val_fraction: float) -> tuple[list[int], list[int]]:
    """Indices of (training, held-out) documents.

    Whole posts are held out: ``round(n * val_fraction)`` of them, at least one when there are
    two or more posts and ``val_fraction > 0``, and never all of them. Which posts is decided by
    the hash of their text, not by the seed, so every run on the same corpus (and ``trainer
    eval``) holds out the same posts.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise CorpusError(f"--val-fraction {val_fraction}: use a number from 0 (none) to below 1")
    n = len(documents)
    n_val = 0
    if n >= 2 and val_fraction > 0:
        n_val = min(n - 1, max(1, round(n * val_fraction)))
    order = sorted(range(n), key=lambda i: hashlib.sha256(documents[i].encode("utf-8")).hexdigest())
    val = sorted(order[:n_val])
    val_set = set(val)
    train = [i for i in range(n) if i not in val_set]
    return train, val


# --------------------------------------------------------------------------- tokens
def tokenizer_sha256(tokenizer) -> str:
    """A hash that changes when the tokenizer would encode text differently."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        spec = backend.to_str()
    else:  # slow tokenizer: its vocabulary and class are the best we have
        spec = repr((type(tokenizer).__name__, sorted(tokenizer.get_vocab().items())))
    spec += f"\neos={tokenizer.eos_token_id}"
    return sha256_bytes(spec.encode("utf-8"))


def _encode(documents: list[str], tokenizer) -> list[np.ndarray]:
    if not documents:
        return []
    # Special-token text inside a post stays ordinary text: only the delimiter *lines* (already
    # removed by split_documents) become EOS, in token_stream.
    try:
        encoded = tokenizer(documents, add_special_tokens=False, split_special_tokens=True, verbose=False)
    except TypeError:  # tokenizers without split_special_tokens
        encoded = tokenizer(documents, add_special_tokens=False, verbose=False)
    return [np.asarray(ids, dtype=np.int64) for ids in encoded["input_ids"]]


def encode_documents(documents: list[str], tokenizer, *, cache_dir: str | os.PathLike | None = None,
                     corpus_sha256: str | None = None) -> list[np.ndarray]:
    """Token ids of each document (no EOS). Cached in ``cache_dir`` by corpus and tokenizer hash.

    The cache is an optimisation only: unreadable or unwritable caches are ignored.
    """
    cache_file = None
    if cache_dir is not None and corpus_sha256:
        key = f"tokens-{corpus_sha256[:16]}-{tokenizer_sha256(tokenizer)[:16]}.safetensors"
        cache_file = Path(cache_dir) / key
        cached = _load_cache(cache_file, len(documents))
        if cached is not None:
            log.info("tokens from cache %s", cache_file)
            return cached
    tokens = _encode(documents, tokenizer)
    if cache_file is not None:
        _save_cache(cache_file, tokens)
    return tokens


def _load_cache(path: Path, n_documents: int) -> list[np.ndarray] | None:
    if not path.exists():
        return None
    try:
        from safetensors.numpy import load

        arrays = load(path.read_bytes())
        flat, offsets = arrays["tokens"], arrays["offsets"]
        if len(offsets) != n_documents + 1:
            return None
        return [flat[offsets[i]:offsets[i + 1]].astype(np.int64) for i in range(n_documents)]
    except Exception as exc:  # a damaged cache is rebuilt
        log.warning("ignoring damaged token cache %s (%s)", path, exc)
        return None


def _save_cache(path: Path, tokens: list[np.ndarray]) -> None:
    try:
        from safetensors.numpy import save

        offsets = np.zeros(len(tokens) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(t) for t in tokens])
        flat = np.concatenate(tokens) if tokens else np.zeros(0, dtype=np.int64)
        dtype = np.uint32 if flat.size == 0 or flat.max() < 2**32 else np.int64
        atomic_write_bytes(path, save({"tokens": flat.astype(dtype), "offsets": offsets}))
    except OSError as exc:
        log.info("not caching tokens in %s (%s)", path.parent, exc)


def token_stream(token_lists: list[np.ndarray], eos_id: int) -> np.ndarray:
    """``EOS doc0 EOS doc1 ... EOS docN EOS``: one EOS token between, before and after posts."""
    eos = np.asarray([eos_id], dtype=np.int64)
    parts = [eos]
    for tokens in token_lists:
        parts.extend([tokens.astype(np.int64), eos])
    return np.concatenate(parts)


# --------------------------------------------------------------------------- windows
def window_length(stream_length: int, block_size: int) -> int:
    """Tokens per window: the block size, or less when the stream is shorter (short corpora)."""
    return max(1, min(block_size, stream_length - 1))


class TrainWindows:
    """Random ``(x, y)`` windows (``y`` is ``x`` shifted by one token) from a token stream.

    The windows of training step ``s`` on DDP rank ``r`` come from a generator seeded with
    ``(seed, rank, s)``: they do not depend on how many steps ran in this process, so a resumed
    run sees exactly the windows an uninterrupted one would, and ranks see different windows.

    ``post_start_share`` of each batch's rows (rounded) begin at the EOS that opens a post, so
    the model sees "EOS, title, blank line, body" often, not only where a random window happens
    to cross a post boundary: a short fine-tune then learns how a post starts. The other rows
    start anywhere (they teach the bodies and endings).
    """

    def __init__(self, stream: np.ndarray, block_size: int, batch_size: int, *, seed: int, rank: int = 0,
                 eos_id: int | None = None, post_start_share: float = 0.0):
        if len(stream) < 2:
            raise CorpusError("the training posts hold fewer than 2 tokens: add text to the corpus")
        self.stream = torch.from_numpy(np.ascontiguousarray(stream, dtype=np.int64))
        self.block = window_length(len(stream), block_size)
        self.batch_size = batch_size
        self.seed = seed
        self.rank = rank
        self.step = 0  # the next step whose windows will be drawn
        self.micro = 0  # micro-batch within that step (gradient accumulation)
        high = len(self.stream) - self.block
        post_starts = np.flatnonzero(stream[:high] == eos_id) if eos_id is not None else np.zeros(0)
        self.post_starts = torch.from_numpy(post_starts.astype(np.int64))
        self.post_rows = round(batch_size * post_start_share) if len(post_starts) else 0

    def batch(self, step: int, micro: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """The ``micro``-th batch of ``step``: two LongTensors of shape (batch_size, block)."""
        generator = torch.Generator().manual_seed(mix_seed(self.seed, self.rank, step, micro))
        high = len(self.stream) - self.block  # starts in [0, high)
        starts = torch.randint(0, high, (self.batch_size,), generator=generator)
        if self.post_rows:
            picks = torch.randint(0, len(self.post_starts), (self.post_rows,), generator=generator)
            starts[:self.post_rows] = self.post_starts[picks]
        rows = torch.stack([self.stream[s:s + self.block + 1] for s in starts.tolist()])
        return rows[:, :-1], rows[:, 1:]

    def next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The next micro-batch; call ``end_step()`` after the last micro-batch of a step."""
        batch = self.batch(self.step, self.micro)
        self.micro += 1
        return batch

    def end_step(self) -> None:
        self.step += 1
        self.micro = 0

    def state_dict(self) -> dict:
        return {"seed": self.seed, "rank": self.rank, "step": self.step, "block": self.block,
                "stream_length": len(self.stream)}

    def load_state_dict(self, state: dict) -> None:
        if state.get("stream_length") not in (None, len(self.stream)):
            log.warning("the training tokens changed since the checkpoint: windows differ from before")
        self.seed = int(state["seed"])
        self.step = int(state["step"])
        self.micro = 0


def mix_seed(*values: int) -> int:
    """A 63-bit seed that depends on every one of ``values`` (seed, rank, step, ...)."""
    digest = hashlib.sha256(",".join(str(v) for v in values).encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def validation_windows(stream: np.ndarray, block_size: int, *, max_windows: int | None = None) -> list[torch.Tensor]:
    """Fixed, non-overlapping windows covering the held-out stream; each holds ``block + 1``
    tokens (input and shifted target); the last one may be shorter. With ``max_windows``, an
    evenly spaced, fixed subset."""
    if len(stream) < 2:
        return []
    block = window_length(len(stream), block_size)
    tensor = torch.from_numpy(np.ascontiguousarray(stream, dtype=np.int64))
    windows = []
    for start in range(0, len(stream) - 1, block):
        window = tensor[start:start + block + 1]
        if len(window) >= 2:
            windows.append(window)
    if max_windows is not None and len(windows) > max_windows:
        picks = np.linspace(0, len(windows) - 1, max_windows).round().astype(int)
        windows = [windows[i] for i in sorted(set(picks.tolist()))]
    return windows


def cache_dir_for(corpus_path: str | os.PathLike) -> Path:
    """Where the token cache of a corpus lives: ``<corpus folder>/.cache/``."""
    return Path(corpus_path).parent / CACHE_DIR_NAME
