"""Issue 16, item 1: `trainer export-web RUN` writes the run's model as ONNX with int8 weights, its
vocabulary and the browser runtime into one folder, checked against PyTorch before it is kept.

The run is the tiny GPT-2 that recites one post (``overfit_run``): the exported graph, fed one token
at a time through its cache as the page feeds it, must recite the same post, and the page's
decoder (``vocab.json``) must turn its tokens into the same text as the tokenizer. onnxruntime-web
comes from the npm registry once (cached): CI has npm."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from common.errors import TrainerError
from trainer.cli import main
from trainer.web import check as check_module
from trainer.web.export import MANIFEST, export_web
from trainer.web.runtime import FILES
from trainer.web.vocab import decode


def read_manifest(folder):
    return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def recital_run(overfit_run, recited_text, tmp_path_factory):
    """The reciting run, its corpus the one post ended by the delimiter line (the corpus format of
    a one-post blog): too small to hold a post out, so the export is checked on that post."""
    run = tmp_path_factory.mktemp("recital") / "run"
    shutil.copytree(overfit_run, run)
    corpus = run / "corpus.txt"
    corpus.write_text(recited_text + "\n<|endoftext|>\n", encoding="utf-8")
    summary = json.loads((run / "train.json").read_text(encoding="utf-8"))
    summary.update(corpus_path=str(corpus), corpus_sha256=None)
    (run / "train.json").write_text(json.dumps(summary), encoding="utf-8")
    return run


@pytest.fixture(scope="module")
def exported(recital_run, tmp_path_factory):
    return export_web(recital_run, tmp_path_factory.mktemp("export") / "web")


def greedy_through_cache(folder, manifest, limit=200):
    """Greedy decoding with onnxruntime from the end-of-post token: the page's loop, argmax."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(folder / manifest["files"]["model"]), providers=["CPUExecutionProvider"])
    cache = manifest["cache"]
    past = {f"past.{i}.{kv}": np.zeros((1, cache["kv_heads"], 0, cache["head_dim"]), np.float32)
            for i in range(cache["layers"]) for kv in ("key", "value")}
    token, ids = manifest["eos_id"], []
    for _ in range(limit):
        out = session.run(None, {"input_ids": np.array([[token]], np.int64), **past})
        names = [o.name for o in session.get_outputs()]
        token = int(out[0][0, -1].argmax())
        if token == manifest["eos_id"]:
            break
        ids.append(token)
        past = {name.replace("present.", "past."): value for name, value in zip(names[1:], out[1:])}
    return ids


def test_the_folder_holds_a_checked_int8_model_its_vocabulary_and_the_runtime(exported):
    folder = exported.folder
    manifest = read_manifest(folder)
    assert (folder / "model.onnx").is_file() and (folder / "vocab.json").is_file()
    assert sorted(manifest["runtime"]["files"]) == sorted([*FILES, "NOTICE.txt"])
    for name in FILES:
        assert (folder / "runtime" / name).stat().st_size > 0
    on_disk = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and p.name != "web.json")
    assert manifest["size_bytes"] == on_disk == exported.size_bytes
    check = manifest["check"]
    assert check["max_logit_difference"] <= check_module.LOGITS_TOLERANCE
    assert abs(check["perplexity_change"]) <= check_module.PERPLEXITY_TOLERANCE
    assert check["tokens"] > 60  # the recited post, end-of-post tokens around it

    import onnx

    graph = onnx.load(str(folder / "model.onnx"))
    ops = {node.op_type for node in graph.graph.node}
    assert "MatMulInteger" in ops  # int8 weights, not an fp32 graph
    assert not [n for n in graph.graph.node if n.op_type == "MatMul" and any(
        i.name == n.input[1] for i in graph.graph.initializer)]  # no fp32 weight matrix left


def test_the_exported_model_recites_the_post_through_its_cache(exported, recital_run, recited_text):
    manifest = read_manifest(exported.folder)
    ids = greedy_through_cache(exported.folder, manifest)
    vocab = json.loads((exported.folder / "vocab.json").read_text(encoding="utf-8"))
    assert decode(vocab, ids) == recited_text


def test_the_page_decoder_gives_the_tokenizers_text(exported, recital_run):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(recital_run)
    vocab = json.loads((exported.folder / "vocab.json").read_text(encoding="utf-8"))
    text = "Ünïcode gulls — 12 °C, “quoted” 🌧 rain\n\nand a second paragraph."
    ids = tokenizer.encode(text, add_special_tokens=False)
    assert decode(vocab, ids) == tokenizer.decode(ids) == text
    assert vocab["tokens"][tokenizer.eos_token_id] == ""  # special tokens print nothing


def test_the_cli_prints_the_check_and_the_size(recital_run, tmp_path):
    out = tmp_path / "web"
    result = CliRunner().invoke(main, ["export-web", str(recital_run), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "checked on" in result.output and "perplexity" in result.output
    size_mb = read_manifest(out)["size_bytes"] / 1e6
    assert f"wrote {out}: {size_mb:.1f} MB to download" in result.output


def test_a_failed_check_keeps_nothing(recital_run, tmp_path, monkeypatch):
    out = tmp_path / "web"
    monkeypatch.setattr(check_module, "PERPLEXITY_TOLERANCE", -1.0)  # no export can pass
    with pytest.raises(TrainerError, match="does not match the PyTorch model"):
        export_web(recital_run, out)
    assert list(tmp_path.iterdir()) == []  # no folder, no half-built one


def test_a_failed_check_leaves_the_previous_export(exported, recital_run, monkeypatch, tmp_path):
    out = tmp_path / "web"
    shutil.copytree(exported.folder, out)
    before = (out / "model.onnx").read_bytes()
    monkeypatch.setattr(check_module, "LOGITS_TOLERANCE", -1.0)
    result = CliRunner().invoke(main, ["export-web", str(recital_run), "--out", str(out)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith("error: the exported model does not match the PyTorch model")
    assert (out / "model.onnx").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["web"]


def test_without_npm_the_error_says_what_to_install(recital_run, tmp_path, monkeypatch):
    monkeypatch.setenv("TPDNE_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(shutil, "which", lambda name: None)
    result = CliRunner().invoke(main, ["export-web", str(recital_run), "--out", str(tmp_path / "web")])
    assert result.exit_code == 1
    assert "npm is not installed" in result.output and "onnxruntime-web" in result.output
    assert not (tmp_path / "web").exists()
