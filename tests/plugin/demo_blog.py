"""The project's own site (pelicanconf.py, theme/, content/ without its generated posts) in a
temporary folder, with a stand-in model folder the machine page can describe (no weights: the tests
that build it stub the sampler). The fixture comes to the tests through conftest.py."""
from __future__ import annotations

import json
import shutil

import pytest
from plugin_site import REPO
from test_untrusted_run_folder import png


@pytest.fixture
def demo_site(tmp_path):
    for name in ("content", "theme"):
        shutil.copytree(REPO / name, tmp_path / name, ignore=shutil.ignore_patterns("generated"))
    shutil.copy2(REPO / "pelicanconf.py", tmp_path / "pelicanconf.py")
    model = tmp_path / "models" / "demo"
    model.mkdir(parents=True)
    (model / "config.json").write_text("{}")
    (model / "train.json").write_text(json.dumps({"base_model": "scratch:tiny", "steps": 600, "documents": 24,
                                                  "val_loss": 3.21, "device": "cpu"}))
    (model / "loss.png").write_bytes(png())
    return tmp_path


def demo_settings(root, **overrides):
    from pelican.settings import read_settings

    values = {"OUTPUT_PATH": str(root / "output"), "CACHE_CONTENT": False, "LOAD_CONTENT_CACHE": False,
              "DAILY_POST_BROWSER": False}  # no `trainer export-web` folder here
    values.update(overrides)
    return read_settings(str(root / "pelicanconf.py"), override=values)
