"""Fixtures for the theme tests: the small blog of theme_build.py, built into temporary folders."""
from __future__ import annotations

from pathlib import Path

import pytest
from chromium import screenshots_folder
from theme_build import (
    GENERATED_POST,
    HIDDEN_POST,
    HUMAN_POSTS,
    MACHINE_PAGE,
    build_site,
    human_post,
    model_folder,
)


@pytest.fixture(scope="session")
def demo_content(tmp_path_factory) -> Path:
    """content/ of a small blog: 10 human posts, 1 hidden, 1 generated, the machine page."""
    root = tmp_path_factory.mktemp("content")
    (root / "posts").mkdir()
    for n in range(1, HUMAN_POSTS + 1):
        (root / "posts" / f"note-{n}.md").write_text(human_post(n), encoding="utf-8")
    (root / "posts" / "hidden-note.md").write_text(HIDDEN_POST, encoding="utf-8")
    (root / "generated").mkdir()
    (root / "generated" / "2025-06-01-barometer-dreams.md").write_text(GENERATED_POST, encoding="utf-8")
    (root / "pages").mkdir()
    (root / "pages" / "machine.md").write_text(MACHINE_PAGE, encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def site(demo_content, tmp_path_factory) -> Path:
    """The demo blog built after a training run (models/blog), default disclosure (None: the default)."""
    root = tmp_path_factory.mktemp("site")
    return build_site(demo_content, root / "output", DAILY_POST_MODEL=str(model_folder(root / "models" / "blog")),
                      DAILY_POST_DISCLOSURE=None, DAILY_POST_ROBOTS_NOINDEX=None,
                      SITE_INTRO="Notes from the test roof.")


@pytest.fixture(scope="session")
def untrained_site(demo_content, tmp_path_factory) -> Path:
    """The demo blog before any model exists (DAILY_POST_MODEL names no folder)."""
    return build_site(demo_content, tmp_path_factory.mktemp("untrained") / "output")


@pytest.fixture
def shots(tmp_path) -> Path:
    """Where a browser test saves screenshots ($THEME_SCREENSHOTS keeps them)."""
    return screenshots_folder(tmp_path)
