"""In-browser sampling speed: the "Write me a new post" box (onnxruntime-web, WASM, one thread)
against the CPU Python sampler on the same model, measured in the same run.

    .venv/bin/python bench/browser_generate.py                 # about 8 minutes on 2 cores
    .venv/bin/python bench/browser_generate.py --runs 5 --seed 7 --site output --model models/demo

Needs the built site (``make html``; this script never rebuilds it), the ``chromium`` package and
the ``playwright`` Python package (see tests/chromium.py). Prints one JSON object per measurement:

1. ``machine``: the CPU model, its SIMD flags (avx2, avx512f, avx512_bf16, avx512_vnni, amx_tile...),
   the core count and the Chromium version;
2. ``browser_wasm``: the site's folder is served on 127.0.0.1, /pages/machine.html opens in headless
   Chromium and the box writes a post: one warm-up click (it downloads and loads the model:
   ``load_seconds``, from the click to the moment the post appears), then ``--runs`` clicks with
   seeds ``--seed+1``, ``--seed+2``... Each run's tokens/s is the box's ``data-tokens`` /
   ``data-seconds`` (the last attempt of that click: generation only, the model already loaded);
   the figure is the median. The page's settings are used as they are (300 tokens, temperature
   0.9, top-k 40, top-p 0.95, repetition penalty 1.1); onnxruntime-web runs on one thread;
3. WebGPU: ``bench/browser_webgpu.py`` (a probe of the adapter and a harness timing WebGPU against
   WASM on the same model);
4. ``python_cpu``: the ``Sampler`` on ``--model`` at precision auto (int8 on the CPU) and fp32, with
   torch's default threads (every core) and with one thread (the browser's situation); tokens/s
   is ``len(token_ids) / seconds`` of ``generate(seed, SamplingSettings(max_new_tokens=300), n=1)``
   (loading excluded), median over the seeds of the browser runs;
5. ``browser_vs_python``: figure = browser WASM tokens/s, baseline = a Python configuration, ratio.

The site's write.js is the plugin's (plugin/static/write/write.js): when the built copy differs
(a site built before the box reported ``data-tokens``), the plugin's file is served in its place
(``write_js`` says so); ``--as-built`` serves the built site untouched.
Browser and Python run one after the other, never together: on a small machine they would share
the cores. Both count the tokens of the text, not the end-of-post token.
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import json
import os
import re
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

FLAGS_OF_INTEREST = ("sse4_2", "fma", "f16c", "avx", "avx2", "avx_vnni", "avx512f", "avx512bw",
                     "avx512vl", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile",
                     "amx_int8", "amx_bf16")
PAGE = "/pages/machine.html"
CLICK_TIMEOUT_MS = 900_000


def emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


def cpu_info() -> dict:
    text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    model = re.search(r"^model name\s*:\s*(.*)$", text, re.MULTILINE)
    flags = re.search(r"^flags\s*:\s*(.*)$", text, re.MULTILINE)
    present = set(flags.group(1).split()) if flags else set()
    return {"cpu": model.group(1).strip() if model else "unknown",
            "flags": [f for f in FLAGS_OF_INTEREST if f in present],
            "flags_missing": [f for f in FLAGS_OF_INTEREST if f not in present],
            "cores": len(os.sched_getaffinity(0))}


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@contextlib.contextmanager
def serve(folder: Path):
    """The folder over HTTP on 127.0.0.1 (a free port); yields the base URL."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# The moment the post appears (load finished) and the status changes, seen from inside the page.
WATCH = """() => {
  const box = document.querySelector('.tpdne-write');
  delete box.dataset.state; delete box.dataset.tokens; delete box.dataset.seconds;
  const post = box.querySelector('.tpdne-write-post');
  window.__bench = {clicked: performance.now(), shown: post.hidden ? null : performance.now()};
  if (post.hidden) {
    const seen = new MutationObserver(() => {
      if (!post.hidden && window.__bench.shown === null) { window.__bench.shown = performance.now(); seen.disconnect(); }
    });
    seen.observe(post, {attributes: true, attributeFilter: ['hidden']});
  }
  window.__bench.clicked = performance.now();
}"""
FINISHED = """() => { const s = document.querySelector('.tpdne-write').dataset.state;
  return s !== undefined && s !== 'writing'; }"""
RESULT = """() => { const box = document.querySelector('.tpdne-write');
  return {state: box.dataset.state || null, tokens: box.dataset.tokens || null,
          seconds: box.dataset.seconds || null, now: performance.now(), bench: window.__bench,
          status: box.querySelector('.tpdne-write-status').textContent,
          title: box.querySelector('.tpdne-write-title').textContent}; }"""


def click(page, seed: int) -> dict:
    page.evaluate(WATCH)
    page.fill(".tpdne-write-seed", str(seed))
    page.click(".tpdne-write-go")
    page.wait_for_function(FINISHED, timeout=CLICK_TIMEOUT_MS, polling=250)
    got = page.evaluate(RESULT)
    bench = got["bench"]
    out = {"seed": seed, "state": got["state"], "status": got["status"], "title": got["title"][:80],
           "wall_seconds": round((got["now"] - bench["clicked"]) / 1000, 3)}
    if bench.get("shown") is not None:
        out["load_seconds"] = round((bench["shown"] - bench["clicked"]) / 1000, 3)
    if got["tokens"] is not None and got["seconds"] is not None:
        out["tokens"] = int(got["tokens"])
        out["seconds"] = float(got["seconds"])
        out["tokens_per_s"] = round(out["tokens"] / out["seconds"], 3) if out["seconds"] > 0 else None
    return out


def browser_runs(site: Path, seed: int, runs: int, as_built: bool) -> tuple[dict, str]:
    from chromium import CHROMIUM, FLAGS
    from playwright.sync_api import sync_playwright

    source = ROOT / "plugin" / "static" / "write" / "write.js"
    built = site / "machine" / "write" / "write.js"
    replace = (not as_built and source.exists() and built.exists()
               and source.read_bytes() != built.read_bytes())
    write_js = "plugin source (the built copy is stale)" if replace else "as built"
    console: list[str] = []
    with serve(site) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            version = browser.version
            page = browser.new_page()
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
            if replace:
                body = source.read_text(encoding="utf-8")
                page.route("**/machine/write/write.js", lambda route: route.fulfill(
                    status=200, content_type="text/javascript", body=body))
            page.goto(base + PAGE)
            page.wait_for_selector(".tpdne-write-go", state="visible", timeout=30_000)
            results = [click(page, seed)]
            for i in range(1, runs + 1):
                if results[-1]["state"] == "failed":
                    break
                results.append(click(page, seed + i))
        finally:
            browser.close()
    return {"chromium": version, "write_js": write_js, "warmup": results[0], "runs": results[1:],
            "console": console[-20:]}, version


def python_runs(model: Path, seeds: list[int], precision: str, threads: int | None) -> dict:
    import torch

    from trainer.generation.sampler import Sampler, SamplingSettings

    started = time.perf_counter()
    sampler = Sampler.load(model, precision=precision, threads=threads)
    load = time.perf_counter() - started
    settings = SamplingSettings(max_new_tokens=300)
    rates, runs = [], []
    for seed in seeds:
        started = time.perf_counter()
        candidate = sampler.generate(seed, settings, n=1)[0]
        seconds = time.perf_counter() - started
        tokens = len(candidate.token_ids)
        rates.append(tokens / seconds)
        runs.append({"seed": seed, "tokens": tokens, "stop": candidate.stop, "seconds": round(seconds, 3)})
    result = {"precision_requested": precision, "precision": sampler.precision,
              "threads": torch.get_num_threads(), "load_seconds": round(load, 2),
              "tokens_per_s": round(statistics.median(rates), 3), "runs": runs}
    del sampler
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=ROOT / "output", help="the built site (default output)")
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "demo",
                        help="the model folder for the Python baseline (default models/demo)")
    parser.add_argument("--runs", type=int, default=3, help="timed browser clicks after the warm-up")
    parser.add_argument("--seed", type=int, default=1234, help="warm-up seed; runs use seed+1, seed+2...")
    parser.add_argument("--as-built", action="store_true",
                        help="serve the built write.js even when it differs from the plugin's")
    args = parser.parse_args()
    logging_quiet()

    site, model = args.site.resolve(), args.model.resolve()
    if not (site / PAGE.lstrip("/")).exists():
        emit(error=f"{site / PAGE.lstrip('/')} not found: build the site first (make html)")
        return 1
    from chromium import CHROMIUM

    emit(what="machine", **cpu_info(), chromium=chromium_version(CHROMIUM))
    browser, version = browser_runs(site, args.seed, args.runs, args.as_built)
    timed = [r for r in browser["runs"] if r.get("tokens_per_s")]
    warm = browser["warmup"]
    browser_rate = statistics.median(r["tokens_per_s"] for r in timed) if timed else None
    emit(what="browser_wasm", backend="onnxruntime-web wasm, 1 thread", chromium=version,
         write_js=browser["write_js"], tokens_per_s_median=browser_rate,
         runs=[{k: r.get(k) for k in ("seed", "state", "tokens", "seconds", "tokens_per_s", "wall_seconds")}
               for r in browser["runs"]],
         warmup={k: warm.get(k) for k in ("seed", "state", "load_seconds", "tokens", "seconds",
                                          "tokens_per_s", "wall_seconds")})
    if browser_rate is None:
        emit(what="browser_failed", warmup_status=warm.get("status"),
             statuses=[r.get("status") for r in browser["runs"]], console=browser["console"])
    elif browser["console"]:
        emit(what="browser_console", console=browser["console"])

    seeds = [args.seed + i for i in range(1, args.runs + 1)]
    python = {}
    for precision, threads in (("auto", None), ("fp32", None), ("auto", 1), ("fp32", 1)):
        result = python_runs(model, seeds, precision, threads)
        key = (precision, "all" if threads is None else "1")
        python[key] = result
        emit(what="python_cpu", threads_setting="torch default (every core)" if threads is None else "1",
             **result)

    if browser_rate:
        for (precision, threads), result in python.items():
            emit(what="browser_vs_python",
                 figure="browser wasm tokens/s (1 thread)",
                 value=round(browser_rate, 3),
                 baseline=f"python {result['precision']} tokens/s, {result['threads']} thread(s)",
                 baseline_value=result["tokens_per_s"],
                 ratio=round(browser_rate / result["tokens_per_s"], 3))
    return 0


def chromium_version(path: str | None) -> str | None:
    import subprocess

    if not path:
        return None
    try:
        return subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30, check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError) as error:
        return f"unknown ({error})"


def logging_quiet() -> None:
    import logging

    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


if __name__ == "__main__":
    sys.exit(main())
