"""Fixtures of the review tests: the plugin tests' site helpers (tests/plugin/plugin_site.py, put on
sys.path as tests/plugin/conftest.py finds it) and a stub sampler whose text depends on the seed."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugin"))

from plugin_site import fixed_day, site, stub_sampler  # noqa: E402,F401  (pytest fixtures)
from review_site import seeded_sampler  # noqa: E402,F401
