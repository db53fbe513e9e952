"""The README's "Add it to your own Pelican blog": at most five commands from `pip install` to a site,
the first taking the CPU build of PyTorch, none of them a `make` target a blogger's own Makefile
lacks. (The whole path, run on a pelican-quickstart blog of five posts in a fresh environment, is
not a test yet: see docs/quality.md, "A blog of five posts".)
"""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def readme_commands() -> list[str]:
    """The shell block of the README's section "Add it to your own Pelican blog"."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Add it to your own Pelican blog", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_the_readme_section_is_five_commands_from_pip_install_to_a_site():
    commands = readme_commands()
    assert len(commands) <= 5
    assert commands[0].startswith("pip install ") and "download.pytorch.org/whl/cpu" in commands[0]
    assert commands[-1].startswith("pelican ")
    assert not any(c.startswith("make ") for c in commands)
