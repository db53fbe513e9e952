"""Issue 7, item 7: loading a model or a checkpoint never unpickles.

Two kinds of proof:

- a scan of the project's source (AST) for every way Python can run pickled code or arbitrary
  code while loading: ``torch.load`` without ``weights_only=True``, ``pickle``/``dill``/``joblib``
  loads, ``numpy.load(allow_pickle=True)``, ``yaml.load`` with an unsafe loader,
  ``from_pretrained(..., trust_remote_code=True / use_safetensors=False / weights_only=False)``;
- malicious files planted where the code loads from: a pickle whose unpickling creates a marker
  folder, as ``training_state.pt``, as ``pytorch_model.bin``, renamed ``model.safetensors``, and a
  ``config.json`` that asks for remote code. Each is refused with a clear error and the marker is
  never created.
"""
from __future__ import annotations

import ast
import json
import os
import pickle
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ["corpus_builder", "trainer", "plugin", "bench"]


# --------------------------------------------------------------------------- the source scan
def _kwarg(call: ast.Call, name: str):
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def _is_const(node, value) -> bool:
    return isinstance(node, ast.Constant) and node.value is value


def _dotted(node) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def unsafe_loads(source: str, filename: str) -> list[str]:
    """Lines of ``source`` that may unpickle or run foreign code while loading."""
    found = []
    tree = ast.parse(source, filename)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                if name and name.split(".")[0] in {"pickle", "cPickle", "dill", "cloudpickle", "joblib", "shelve",
                                                   "marshal"}:
                    found.append(f"{filename}:{node.lineno}: imports {name}")
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        last = name.rsplit(".", 1)[-1]
        where = f"{filename}:{node.lineno}: {name}"
        if last == "load" and name.split(".")[0] in {"torch", "serialization"}:
            if not _is_const(_kwarg(node, "weights_only"), True):
                found.append(f"{where} without weights_only=True")
        if name in {"pickle.load", "pickle.loads", "joblib.load", "dill.load", "dill.loads"} or last == "Unpickler":
            found.append(where)
        if last == "load" and name.split(".")[0] in {"np", "numpy"} and _is_const(_kwarg(node, "allow_pickle"), True):
            found.append(f"{where} with allow_pickle=True")
        if name in {"yaml.load", "yaml.load_all", "yaml.unsafe_load", "yaml.full_load"}:
            loader = _kwarg(node, "Loader") or (node.args[1] if len(node.args) > 1 else None)
            if name.endswith(("unsafe_load", "full_load")) or "Safe" not in _dotted(loader or ast.Name("x")):
                found.append(f"{where} with an unsafe loader")
        if last in {"from_pretrained", "from_single_file"}:
            if _is_const(_kwarg(node, "trust_remote_code"), True):
                found.append(f"{where} with trust_remote_code=True")
            if _is_const(_kwarg(node, "use_safetensors"), False):
                found.append(f"{where} with use_safetensors=False")
            if _is_const(_kwarg(node, "weights_only"), False):
                found.append(f"{where} with weights_only=False")
    return found


def test_the_scan_finds_what_it_looks_for():
    """The scanner itself: every unsafe form is caught, the safe forms are not."""
    unsafe = (
        "import pickle\nimport torch, numpy as np, yaml\n"
        "torch.load(p)\ntorch.load(p, weights_only=False)\nnp.load(p, allow_pickle=True)\n"
        "yaml.load(s)\nyaml.load(s, Loader=yaml.Loader)\nyaml.unsafe_load(s)\n"
        "M.from_pretrained(p, trust_remote_code=True)\nM.from_pretrained(p, use_safetensors=False)\n"
    )
    assert len(unsafe_loads(unsafe, "x.py")) == 9
    safe = ("import torch, numpy as np, yaml\ntorch.load(p, map_location='cpu', weights_only=True)\n"
            "np.load(p, allow_pickle=False)\nyaml.safe_load(s)\nyaml.load(s, Loader=yaml.SafeLoader)\n"
            "M.from_pretrained(p, use_safetensors=True)\n")
    assert unsafe_loads(safe, "y.py") == []


def test_project_source_never_loads_pickles():
    found = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            found += unsafe_loads(path.read_text(encoding="utf-8"), str(path.relative_to(REPO)))
    assert not found, "unsafe loading in the project:\n" + "\n".join(found)


# --------------------------------------------------------------------------- planted files
class Payload:
    """Unpickling this creates ``marker`` (a folder): proof that pickled code ran."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def evil_torch_file(path: Path, marker: Path) -> None:
    """A real ``torch.save`` zip whose data.pkl calls os.mkdir(marker) when unpickled."""
    import torch

    torch.save({"optimizer": Payload(marker)}, path)


def evil_raw_pickle(path: Path, marker: Path) -> None:
    path.write_bytes(pickle.dumps(Payload(marker), protocol=2))


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "PWNED"
    yield path
    assert not path.exists(), "a planted pickle was executed"


def copy_model(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


@pytest.mark.parametrize("maker", [evil_torch_file, evil_raw_pickle])
def test_malicious_training_state_is_refused(tmp_path, tiny_model_dir, marker, maker):
    """A pickle planted as the newest checkpoint's training_state.pt: skipped, the older one used."""
    from trainer.training.checkpoint import TRAINER_STATE, TRAINING_STATE, load_latest

    run = tmp_path / "run"
    for step in (2, 4):
        folder = copy_model(tiny_model_dir, run / "checkpoints" / f"step-{step}")
        (folder / TRAINER_STATE).write_text(json.dumps({"step": step}), encoding="utf-8")
        import torch

        torch.save({"step": torch.tensor(step)}, folder / TRAINING_STATE)
    maker(run / "checkpoints" / "step-4" / TRAINING_STATE, marker)

    checkpoint = load_latest(run, load_model=True)
    assert checkpoint.step == 2
    assert any("step-4" in line for line in checkpoint.skipped)


def test_only_checkpoint_malicious_gives_a_clear_error(tmp_path, tiny_model_dir, marker):
    from trainer.training.checkpoint import TRAINER_STATE, TRAINING_STATE, load_latest
    from common.errors import RunFolderError

    run = tmp_path / "run"
    folder = copy_model(tiny_model_dir, run / "checkpoints" / "step-3")
    (folder / TRAINER_STATE).write_text(json.dumps({"step": 3}), encoding="utf-8")
    evil_torch_file(folder / TRAINING_STATE, marker)
    with pytest.raises(RunFolderError) as info:
        load_latest(run)
    assert "\n" not in str(info.value) and "--fresh" in str(info.value)


def _weights_only_pickle_folder(tiny_model_dir: Path, folder: Path, marker: Path) -> Path:
    copy_model(tiny_model_dir, folder)
    (folder / "model.safetensors").unlink()
    evil_torch_file(folder / "pytorch_model.bin", marker)
    return folder


def test_sampler_refuses_a_pickled_model(tmp_path, tiny_model_dir, marker):
    """What the plugin loads: a folder whose only weights are a pickle -> ModelError, nothing runs."""
    from common.errors import ModelError
    from trainer.generation.sampler import Sampler

    folder = _weights_only_pickle_folder(tiny_model_dir, tmp_path / "model", marker)
    with pytest.raises(ModelError) as info:
        Sampler.load(folder, precision="fp32")
    assert "\n" not in str(info.value)


def test_sampler_ignores_a_pickle_beside_safetensors(tmp_path, tiny_model_dir, marker):
    from trainer.generation.sampler import Sampler

    folder = copy_model(tiny_model_dir, tmp_path / "model")
    evil_torch_file(folder / "pytorch_model.bin", marker)
    sampler = Sampler.load(folder, precision="fp32")
    assert sampler.identity["weights_sha256"]


@pytest.mark.parametrize("maker", [evil_torch_file, evil_raw_pickle])
def test_pickle_renamed_to_safetensors_is_refused(tmp_path, tiny_model_dir, marker, maker):
    from common.errors import ModelError
    from trainer.generation.sampler import Sampler

    folder = copy_model(tiny_model_dir, tmp_path / "model")
    maker(folder / "model.safetensors", marker)
    with pytest.raises(ModelError):
        Sampler.load(folder, precision="fp32")


def test_training_from_a_pickled_model_folder_is_refused(tmp_path, tiny_model_dir, marker):
    """``trainer fit --model FOLDER`` loads through trainer.model_loading: a pickle there never runs."""
    from common.errors import ModelError
    from trainer.model_loading import load_model

    folder = _weights_only_pickle_folder(tiny_model_dir, tmp_path / "model", marker)
    with pytest.raises(ModelError):
        load_model(str(folder))


def test_remote_code_in_config_is_not_run(tmp_path, tiny_model_dir, marker):
    """A config.json that points at Python in the folder (auto_map) must not import it."""
    from common.errors import ModelError
    from trainer.generation.sampler import Sampler

    folder = copy_model(tiny_model_dir, tmp_path / "model")
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    config["auto_map"] = {"AutoModelForCausalLM": "evil.EvilModel", "AutoConfig": "evil.EvilConfig"}
    config["model_type"] = "evil-remote"
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    (folder / "evil.py").write_text(f"import os\nos.mkdir({str(marker)!r})\n", encoding="utf-8")
    with pytest.raises(ModelError):
        Sampler.load(folder, precision="fp32")
