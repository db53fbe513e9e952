"""The project as a package: the wheel holds the plugin as ``pelican.plugins.this_post_does_not_exist``
(a Pelican namespace plugin), never a top-level ``plugin``, and everything the packages need at run
time (the report's templates)."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = "pelican/plugins/this_post_does_not_exist"


def configured_packages() -> list[str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]


def test_every_package_folder_is_in_the_wheel_list():
    """pyproject.toml lists the packages one by one (the plugin is mapped to another name): a new
    sub-package that is not listed would be left out of every install."""
    listed = set(configured_packages())
    for top in ("common", "corpus_builder", "trainer"):
        for init in (ROOT / top).rglob("__init__.py"):
            name = ".".join(init.parent.relative_to(ROOT).parts)
            assert name in listed, f"{name} is missing from [tool.setuptools] packages"
    for folder in (ROOT / "trainer").rglob("templates"):
        assert ".".join(folder.relative_to(ROOT).parts) in listed


@pytest.fixture(scope="module")
def wheel(project_wheel) -> zipfile.ZipFile:
    return zipfile.ZipFile(project_wheel)


def test_the_wheel_holds_the_namespace_plugin_and_no_top_level_plugin(wheel):
    names = wheel.namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"common", "corpus_builder", "trainer", "pelican",
                    next(t for t in tops if t.endswith(".dist-info"))}
    assert f"{PLUGIN}/__init__.py" in names and f"{PLUGIN}/hooks.py" in names
    plugin_files = {p.name for p in (ROOT / "plugin").glob("*.py")}
    assert {Path(n).name for n in names if n.startswith(PLUGIN + "/")} >= plugin_files
    # pelican and pelican.plugins belong to Pelican: the wheel must not ship their __init__.py
    assert "pelican/__init__.py" not in names and "pelican/plugins/__init__.py" not in names
    assert {"trainer/evaluation/templates/report.html.j2", "trainer/evaluation/templates/report.md.j2"} <= set(names)
    assert f"{PLUGIN}/static/another.js" in names  # "show me another": an installed plugin copies it


def test_the_wheel_keeps_the_two_commands(wheel):
    [entry_points] = [n for n in wheel.namelist() if n.endswith("entry_points.txt")]
    text = wheel.read(entry_points).decode()
    assert "corpus-builder = corpus_builder.cli:main" in text and "trainer = trainer.cli:main" in text
