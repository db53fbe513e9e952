"""``make html`` of a small site (``pelican.main``), the plugin's model replaced by a stub sampler.

``python stub_build.py SITE --day YYYY-MM-DD [--delay S] [--body-kb N] [--hostile]`` is what the killed-build
and concurrent-build tests start (and kill): a ``make html`` of a site whose model takes ``delay``
seconds to "sample" a post of about ``body_kb`` KB. The post's last line is ``END-OF-POST``, so a
test can tell a whole post file from a partial one. When sampling starts the stub touches
``SITE/.sampling-PID``. Prints ``built`` at the end. The test makes
the site once with ``write_site``.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[2]
END = "END-OF-POST"


def write_site(site: Path, extra_settings: str = "") -> None:
    """A site folder: pelicanconf.py (the project's theme and plugin, plus ``extra_settings``
    lines) and one human post."""
    posts = site / "content" / "posts"
    posts.mkdir(parents=True, exist_ok=True)
    (posts / "first.md").write_text("Title: A human post\nDate: 2025-05-01 08:00\nCategory: Weather\n\n"
                                    "The rain gauge filled up twice before breakfast.\n", encoding="utf-8")
    (site / "pelicanconf.py").write_text(
        f"SITENAME = 'Stub'\nSITEURL = ''\nAUTHOR = 'Tester'\nPATH = 'content'\nTIMEZONE = 'Europe/Stockholm'\n"
        f"THEME = {str(REPO / 'theme')!r}\nARTICLE_PATHS = ['posts', 'generated']\n"
        f"PLUGINS = ['plugin']\nPLUGIN_PATHS = [{str(REPO)!r}]\nFEED_ALL_ATOM = None\n"
        "CATEGORY_FEED_ATOM = None\nTRANSLATION_FEED_ATOM = None\nAUTHOR_FEED_ATOM = None\n"
        "AUTHOR_FEED_RSS = None\nDEFAULT_PAGINATION = False\nDAILY_POST_STRICT = True\n"
        "DAILY_POST_MODEL = 'models/stub'\n" + extra_settings, encoding="utf-8")


class SlowStubSampler:
    identity = {"path": "/stub", "name": "stub", "weights_sha256": "e" * 64}

    def __init__(self, delay: float, body_kb: int):
        self.delay, self.body_kb = delay, body_kb

    def best_post(self, seed, settings=None, gate=None, candidates=4, rounds=3):
        Path(f".sampling-{os.getpid()}").touch()  # in the site folder: tells a test sampling began
        time.sleep(self.delay)
        paragraph = "The wind turned at noon and the harbour went quiet while gulls stood on the mast. "
        count = max(1, self.body_kb * 1024 // len(paragraph))
        body = "\n\n".join([paragraph * 4] * (count // 4 + 1)) + f"\n\n{END}"
        post = SimpleNamespace(title="Wind over the harbour", body=body, seed=seed, model=dict(self.identity),
                               settings={"temperature": 0.9}, gate={"mean_logprob": -1.5})
        return SimpleNamespace(post=post, report=["stub: accepted"])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("site")
    parser.add_argument("--day", required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--body-kb", type=int, default=4)
    parser.add_argument("--hostile", action="store_true", help="publish hostile_texts.HostileSampler's posts")
    args = parser.parse_args()
    os.environ["DAILY_POST_DATE"] = args.day
    os.environ.pop("SOURCE_DATE_EPOCH", None)
    site = Path(args.site)

    import plugin.generate as generate

    if args.hostile:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from hostile_texts import HostileSampler

        sampler = HostileSampler()
    else:
        sampler = SlowStubSampler(args.delay, args.body_kb)
    generate.load_sampler = lambda *args, **kwargs: sampler
    # no torch: the settings classes of trainer.generation.sampler / trainer.generation.gate are not needed by the stub
    generate._build = lambda cls, values, setting: values
    sys.modules["trainer.generation.gate"] = SimpleNamespace(GateSettings=dict)
    sys.modules["trainer.generation.sampler"] = SimpleNamespace(SamplingSettings=dict)
    import pelican

    os.chdir(site)
    pelican.main(["content", "-o", "output", "-s", "pelicanconf.py"])  # what `make html` runs
    print("built", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
