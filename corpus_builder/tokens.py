"""Token counts for the manifest (``--tokenizer NAME_OR_PATH``).

``transformers`` is imported here, lazily, only when a tokenizer is asked for: a plain build
never loads it (nor torch).
"""
from __future__ import annotations

import logging
import os

from .settings import CorpusError

log = logging.getLogger(__name__)


def load_tokenizer(name_or_path: str):
    """A Hugging Face tokenizer from a local folder or a hub name; one clear line on failure."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        from transformers import AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
    except ImportError:
        raise CorpusError("--tokenizer needs the 'transformers' package (pip install transformers)") from None
    local = os.path.isdir(name_or_path)
    try:
        return AutoTokenizer.from_pretrained(name_or_path, local_files_only=local)
    except Exception as exc:  # hub errors, missing files, a folder that is no tokenizer
        reason = " ".join(str(exc).split())[:160] or type(exc).__name__
        where = "folder" if local else "name (no network or no such model on the hub?)"
        raise CorpusError(
            f"cannot load tokenizer {name_or_path!r} from that {where}: {reason}; "
            "give a local folder holding tokenizer.json or vocab files"
        ) from None


def count_tokens(documents: list[str], name_or_path: str) -> int:
    """Tokens in the corpus: each document's tokens plus ONE token (EOS) per delimiter line."""
    tokenizer = load_tokenizer(name_or_path)
    total = 0
    batch = 256
    for start in range(0, len(documents), batch):
        encoded = tokenizer(documents[start:start + batch], add_special_tokens=False)["input_ids"]
        total += sum(len(ids) for ids in encoded)
    return total + max(len(documents) - 1, 0)
