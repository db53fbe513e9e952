"""Build a test site in this fresh process: `python build_site.py ROOT SETTINGS_JSON [--stub]
[--delay S] [--modules] [--lock NAME]`. --stub replaces the model with the tests' StubSampler
(sleeping S seconds while "sampling", to widen races); --modules prints, as the last line, a JSON list
of the heavy modules (torch, transformers, trainer.generation.sampler) imported during the build;
--lock makes the plugin lock with ``filelock.NAME`` (plugin_site.use_lock)."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The checkout's plugin/ folder as `plugin`, the way this repository's own site loads it (PLUGIN_PATHS;
# --stub patches it before Pelican loads it). Installed, the project maps the same folder to
# pelican.plugins.this_post_does_not_exist and installs no top-level `plugin`.
sys.path.append(str(Path(__file__).resolve().parents[2]))

HEAVY = ("torch", "transformers", "trainer.generation.sampler", "trainer.generation.gate")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("root")
    parser.add_argument("settings")
    parser.add_argument("--stub", action="store_true")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--modules", action="store_true")
    parser.add_argument("--title", default=None, help="the stub's post title")
    parser.add_argument("--lock", default=None, help="a filelock class name (plugin_site.LOCK_CLASSES)")
    args = parser.parse_args()

    import plugin_site  # noqa: E402  (the tests' site helpers)

    if args.lock:
        plugin_site.use_lock(args.lock)

    if args.stub:
        import types

        import plugin.generate as generate

        sampler = plugin_site.StubSampler(**({"title": args.title} if args.title else {}))
        original = sampler.best_post

        def slow_best_post(*a, **kw):
            time.sleep(args.delay)
            return original(*a, **kw)

        sampler.best_post = slow_best_post
        generate.load_sampler = lambda path, precision="auto", demo=False: sampler
        generate._build = lambda cls, values, setting: values
        stub = types.SimpleNamespace(GateSettings=dict, SamplingSettings=dict)
        sys.modules["trainer.generation.gate"] = sys.modules["trainer.generation.sampler"] = stub

    settings = plugin_site.site_settings(Path(args.root), **json.loads(args.settings))
    plugin_site.build(settings)
    if args.modules:
        print(json.dumps(sorted(name for name in HEAVY if name in sys.modules)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
