"""`trainer export-web RUN`: the run's model, ready for a reader's browser.

    models/<run>/web/
      model.onnx     the model with its key/value cache, int8 weights (``onnx_model``)
      vocab.json     token id -> bytes, for the page's decoder (``vocab``)
      runtime/       onnxruntime-web's WebAssembly build, pinned (``runtime``)
      web.json       what the page and the plugin read: the files, the cache's shape, the model's
                     identity, the check's figures and the download's size (the other files)

The folder is built beside its destination and moved into place in one step, and only after the
export passed its check (``check``): a page never loads a half-written or unchecked model.
"""
from __future__ import annotations

import json
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from common.errors import TrainerError
from common.fileio import atomic_replace_dir, current_umask

log = logging.getLogger(__name__)

WEB_FOLDER = "web"
MANIFEST = "web.json"
MODEL_FILE = "model.onnx"
VOCAB_FILE = "vocab.json"
RUNTIME_FOLDER = "runtime"
FORMAT = 1


@dataclass
class WebExport:
    folder: Path
    size_bytes: int
    manifest: dict

    @property
    def size_mb(self) -> float:
        return self.size_bytes / 1e6


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def held_out_ids(run_dir: Path, tokenizer, corpus: str | None, limit: int) -> list[int]:
    """``limit`` tokens of the posts ``trainer fit`` held out (from ``corpus`` when given); when they
    are fewer, the training posts follow (the check compares two models on the same text: what
    matters is that there is enough of it)."""
    from trainer.evaluation.comparison import held_out_posts
    from trainer.runs import read_summary
    from trainer.training import data
    from trainer.web.check import check_tokens

    summary = read_summary(run_dir, missing_ok=True)
    if not corpus and not summary.get("corpus_path"):
        raise TrainerError(f"{run_dir} has no train.json naming its corpus: pass --corpus PATH "
                           "(held-out text to check the export on)")
    try:
        posts = held_out_posts(summary, corpus)
        documents = posts.documents + posts.training
    except TrainerError as err:  # a corpus too small to hold a post out: check on what there is
        documents = data.read_corpus(corpus or summary["corpus_path"]).documents
        log.warning("%s: checking the export on the training posts instead", err)
    return check_tokens(documents, tokenizer, limit)


def export_web(run_dir: str | Path, out: str | Path | None = None, *, corpus: str | None = None,
               check_tokens: int | None = None) -> WebExport:
    """Export the model of ``run_dir`` into ``out`` (default ``run_dir/web``); see the module."""
    from trainer.model_loading import EVAL_HINT, load_model
    from trainer.web.check import CHECK_TOKENS, check_export
    from trainer.web.onnx_model import CacheShape, export_fp32, quantize_int8
    from trainer.web.runtime import copy_runtime
    from trainer.web.vocab import browser_vocab, decode

    _check_installed()
    run_dir = Path(run_dir)
    out = Path(out) if out else run_dir / WEB_FOLDER
    model, tokenizer = load_model(str(run_dir), hint=EVAL_HINT)
    model.eval()
    shape = CacheShape.of(model)
    ids = held_out_ids(run_dir, tokenizer, corpus, check_tokens or CHECK_TOKENS)
    vocab = browser_vocab(tokenizer, shape.vocab)
    special = set(vocab["special"])
    text_ids = [i for i in ids if i not in special]
    if decode(vocab, text_ids) != tokenizer.decode(text_ids, skip_special_tokens=True):
        raise TrainerError("the page's decoder does not give the tokenizer's text on the held-out posts: "
                           "this tokenizer is not supported by `trainer export-web`")
    out.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    building.chmod(0o777 & ~current_umask())  # mkdtemp's 0700 would hide it from a web server
    try:
        with tempfile.TemporaryDirectory(dir=building) as work:
            log.info("exporting %s to ONNX (%d layers, vocabulary %d)", run_dir, shape.layers, shape.vocab)
            fp32 = export_fp32(model, shape, Path(work) / "fp32.onnx")
            log.info("quantizing the weights to int8")
            quantize_int8(fp32, building / MODEL_FILE)
            log.info("checking the export on %d tokens of held-out text", len(ids))
            check = check_export(model, shape, fp32, building / MODEL_FILE, ids)
        (building / VOCAB_FILE).write_text(json.dumps(vocab, ensure_ascii=True, separators=(",", ":")),
                                           encoding="utf-8")
        runtime = copy_runtime(building / RUNTIME_FOLDER)
        manifest = _manifest(run_dir, shape, vocab, check, [p.name for p in runtime])
        manifest["size_bytes"] = folder_size(building)  # what a reader downloads (web.json aside)
        (building / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        atomic_replace_dir(building, out)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return WebExport(out, manifest["size_bytes"], manifest)


def _check_installed() -> None:
    import importlib.util

    missing = [name for name in ("onnx", "onnxscript", "onnxruntime") if importlib.util.find_spec(name) is None]
    if missing:
        raise TrainerError(f"`trainer export-web` needs {', '.join(missing)}: pip install -e '.[web]' "
                           "(`make install` installs them)")


def _manifest(run_dir: Path, shape, vocab: dict, check, runtime_files: list[str]) -> dict:
    from trainer.generation.sampler import _weights_file, weights_sha256
    from trainer.web.onnx_model import OPSET
    from trainer.web.runtime import PACKAGE, VERSION

    weights, _ = _weights_file(run_dir)
    return {
        "format": FORMAT,
        "model": {"name": run_dir.resolve().name, "weights_sha256": weights_sha256(weights)},
        "files": {"model": MODEL_FILE, "vocab": VOCAB_FILE},
        "runtime": {"folder": RUNTIME_FOLDER, "files": runtime_files, "package": PACKAGE, "version": VERSION},
        "opset": OPSET,
        "cache": {"layers": shape.layers, "kv_heads": shape.kv_heads, "head_dim": shape.head_dim},
        "vocab_size": shape.vocab,
        "max_positions": shape.max_positions,
        "eos_id": vocab["eos_id"],
        "check": check.to_dict(),
    }

