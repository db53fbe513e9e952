"""Token counts for the manifest (``--tokenizer NAME_OR_PATH``).

``transformers`` is imported here, lazily, only when a tokenizer is asked for: a plain build
never loads it (nor torch).
"""
from __future__ import annotations

import logging
import os
import socket

from common.errors import CorpusError

log = logging.getLogger(__name__)


def load_tokenizer(name_or_path: str):
    """A Hugging Face tokenizer from a local folder (a Hugging Face one, or OpenAI's GPT-2 files
    ``encoder.json`` + ``vocab.bpe``), the local cache, or the hub.

    Fails with one clear line (:class:`CorpusError`); without a network it fails at once
    instead of waiting for the hub client's retries.
    """
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        from transformers import AutoTokenizer
        from transformers.utils import logging as hf_logging
    except ImportError:
        raise CorpusError("--tokenizer needs the 'transformers' package (pip install transformers)") from None
    hf_logging.set_verbosity_error()
    logging.getLogger("huggingface_hub").setLevel(logging.ERROR)

    if os.path.isdir(name_or_path):
        try:
            return _load_folder(name_or_path)
        except Exception as exc:  # a folder without tokenizer files, or broken ones
            raise CorpusError(f"cannot load tokenizer from folder {name_or_path}: {_reason(exc)}; "
                              "give a folder holding tokenizer.json (or vocab.json + merges.txt, "
                              "or OpenAI's encoder.json + vocab.bpe)") from None
    try:
        return AutoTokenizer.from_pretrained(name_or_path, local_files_only=True)  # the local HF cache
    except Exception:
        pass
    if not _hub_reachable():
        raise CorpusError(f"cannot load tokenizer {name_or_path!r}: it is no local folder, not in the Hugging Face "
                          "cache, and huggingface.co cannot be reached; give a local tokenizer folder instead")
    try:
        return AutoTokenizer.from_pretrained(name_or_path)
    except Exception as exc:
        raise CorpusError(f"cannot load tokenizer {name_or_path!r} from the Hugging Face hub: {_reason(exc)}; "
                          "check the name, or give a local tokenizer folder") from None


# OpenAI's own GPT-2 release names its vocabulary and merges so; gpt-2-simple and the early
# fine-tuning scripts keep them that way in models/124M/. Same content as vocab.json + merges.txt.
OPENAI_GPT2_FILES = ("encoder.json", "vocab.bpe")


def _load_folder(path: str):
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    encoder, merges = (os.path.join(path, name) for name in OPENAI_GPT2_FILES)
    hf_files = any(os.path.isfile(os.path.join(path, name)) for name in ("tokenizer.json", "vocab.json"))
    if hf_files or not (os.path.isfile(encoder) and os.path.isfile(merges)):
        return AutoTokenizer.from_pretrained(path, local_files_only=True)
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    bpe = Tokenizer(models.BPE.from_file(encoder, merges))  # GPT-2's byte-level BPE, as tokenizer.json has it
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|endoftext|>")


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    first = text.split(". ")[0]
    return first[:200]


def _hub_reachable(host: str = "huggingface.co") -> bool:
    """False when the hub's name does not resolve (no network); a proxy is trusted to work."""
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return False
    try:
        socket.getaddrinfo(host, 443)
    except OSError:
        return False
    return True


def count_tokens(documents: list[str], name_or_path: str) -> int:
    """Tokens in the corpus: each document's tokens plus ONE token (EOS) per delimiter line."""
    tokenizer = load_tokenizer(name_or_path)
    total = 0
    batch = 256
    for start in range(0, len(documents), batch):
        encoded = tokenizer(documents[start:start + batch], add_special_tokens=False)["input_ids"]
        total += sum(len(ids) for ids in encoded)
    return total + max(len(documents) - 1, 0)
