"""WebGPU in headless Chromium: is there an adapter, and how fast does the site's model decode on it
next to WASM (the backend the page uses)?

    .venv/bin/python bench/browser_webgpu.py                    # about 3 minutes on 2 cores
    .venv/bin/python bench/browser_webgpu.py --tokens 50 --limit 300 --site output

Needs the built site (``make html``), the ``chromium`` package, the ``playwright`` Python package
and npm (onnxruntime-web 1.30.0's WebGPU build is fetched once with ``npm pack`` into the project's
cache, beside the WASM build `trainer export-web` uses; the site ships only the WASM build).
Prints one JSON object per measurement:

1. ``machine``: the CPU, its flags and the Chromium version (``bench/browser_generate.py``'s line);
2. ``webgpu``: whether ``navigator.gpu`` and an adapter exist with ``--enable-unsafe-webgpu`` and a
   few variants (Vulkan, SwiftShader), and the adapter's vendor, architecture and
   ``isFallbackAdapter`` (on a machine without a GPU: SwiftShader, a software rasteriser, so the
   figures say nothing about a real GPU);
3. ``harness``, per backend, in a fresh page of a small harness served by this script: an
   InferenceSession with executionProviders ["webgpu"] (the WebGPU build) or ["wasm"] (the site's
   build), one thread, then greedy decoding from the end-of-post token with the key/value cache as
   write.js does it: 5 warm-up tokens, then ``--tokens`` timed ones (stopped early after
   ``--limit`` seconds). ``placement`` (WebGPU): node counts per execution provider from a separate,
   untimed session at verbose log level (the int8 MatMulInteger and DynamicQuantizeLinear nodes have
   no WebGPU kernel and run on the CPU). The embedding table is fp16: an adapter without
   ``shader-f16`` (SwiftShader) cannot run its Gather, so the site's model fails there (status
   ``failed``) and the harness runs a bench-only copy with that table as fp32 (``variant``);
4. ``webgpu_vs_wasm``: figure = WebGPU tokens/s, baseline = WASM tokens/s in the same harness, ratio.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

from browser_generate import PAGE, ROOT, chromium_version, cpu_info, emit, serve

WEBGPU_PROBE = """async () => {
  const out = {secure: window.isSecureContext, has_gpu: 'gpu' in navigator, adapter: null,
               fallback_adapter: null, error: null};
  if (!out.has_gpu) { return out; }
  const describe = async (options) => {
    const adapter = await navigator.gpu.requestAdapter(options);
    if (!adapter) { return null; }
    const info = adapter.info || (adapter.requestAdapterInfo ? await adapter.requestAdapterInfo() : {});
    return {vendor: info.vendor || '', architecture: info.architecture || '', device: info.device || '',
            description: info.description || '', fallback: Boolean(adapter.isFallbackAdapter || info.isFallbackAdapter),
            features: Array.from(adapter.features || []).sort().slice(0, 20),
            max_buffer_mb: adapter.limits ? Math.round(adapter.limits.maxBufferSize / 1048576) : null};
  };
  try {
    out.adapter = await describe(undefined);
    out.fallback_adapter = await describe({forceFallbackAdapter: true});
  } catch (error) { out.error = String(error && error.message || error); }
  return out;
}"""


def webgpu_probe(site: Path) -> list[dict]:
    from chromium import CHROMIUM, FLAGS
    from playwright.sync_api import sync_playwright

    no_gpu_off = [f for f in FLAGS if f != "--disable-gpu"]
    variants = {
        "project flags + --enable-unsafe-webgpu": FLAGS + ["--enable-unsafe-webgpu"],
        "--enable-unsafe-webgpu, GPU on": no_gpu_off + ["--enable-unsafe-webgpu"],
        "--enable-unsafe-webgpu --enable-features=Vulkan": no_gpu_off + [
            "--enable-unsafe-webgpu", "--enable-features=Vulkan"],
        "--enable-unsafe-webgpu --enable-features=Vulkan --use-angle=swiftshader --use-webgpu-adapter=swiftshader": no_gpu_off + [
            "--enable-unsafe-webgpu", "--enable-features=Vulkan", "--use-angle=swiftshader",
            "--use-webgpu-adapter=swiftshader"],
    }
    found = []
    with serve(site) as base, sync_playwright() as pw:
        for name, args in variants.items():
            console: list[str] = []
            try:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
            except Exception as error:  # noqa: BLE001 (reported, not raised)
                found.append({"flags": name, "launch_error": str(error).splitlines()[0]})
                continue
            try:
                page = browser.new_page()
                page.on("console", lambda m, into=console: into.append(f"{m.type}: {m.text}"))
                page.goto(base + "/machine/posts.json")  # any same-origin page: a secure context
                result = page.evaluate(WEBGPU_PROBE)
                result["flags"] = name
                result["console"] = [c[:300] for c in console[-5:]]
                found.append(result)
            finally:
                browser.close()
    return found


WEBGPU_BUNDLE = "ort.webgpu.min.mjs"
RUNTIME_NAME = re.compile(r"ort-wasm-simd-threaded[\w.]*?\.(?:mjs|wasm)")


def webgpu_runtime_dir() -> Path:
    from trainer.web.runtime import PACKAGE, VERSION, runtime_dir

    return runtime_dir().parent / f"{PACKAGE}-{VERSION}-webgpu"


def webgpu_runtime() -> tuple[Path, dict[str, str]]:
    """onnxruntime-web's WebGPU build (the site's version), for the harness only: ``ort.webgpu.min.mjs``
    and the loader and .wasm it imports (found in its source), fetched with ``npm pack`` when missing.
    Returns the folder and {file: sha256}."""
    import tarfile

    from common.fileio import atomic_write_bytes, sha256_file
    from trainer.web.runtime import _npm_pack

    folder = webgpu_runtime_dir()
    listing = folder / "files.json"
    if listing.is_file():
        names = json.loads(listing.read_text(encoding="utf-8"))
        if names and all((folder / name).is_file() for name in names):
            return folder, {name: sha256_file(folder / name) for name in names}
    with tempfile.TemporaryDirectory() as tmp:
        tarball = _npm_pack(Path(tmp))
        with tarfile.open(tarball) as archive:
            present = {m.name.removeprefix("package/dist/") for m in archive.getmembers()
                       if m.name.startswith("package/dist/")}
            names, todo = [], [WEBGPU_BUNDLE]
            while todo:  # the bundle, then every runtime file a fetched .mjs names (and each .mjs's .wasm)
                name = todo.pop(0)
                if name in names:
                    continue
                member = archive.extractfile(f"package/dist/{name}")
                if member is None:
                    raise RuntimeError(f"{tarball.name} has no dist/{name}")
                data = member.read()
                atomic_write_bytes(folder / name, data, durable=False)
                names.append(name)
                if name.endswith(".mjs"):
                    wanted = set(RUNTIME_NAME.findall(data.decode("utf-8", errors="replace")))
                    if name.startswith("ort-wasm"):
                        wanted.add(name[:-len(".mjs")] + ".wasm")
                    todo += sorted(n for n in wanted if n in present and n not in names)
    atomic_write_bytes(listing, json.dumps(names).encode("utf-8"), durable=False)
    return folder, {name: sha256_file(folder / name) for name in names}


# The harness: one backend per page; greedy decoding with the KV cache as write.js's sample() does it.
HARNESS_JS = r"""
const PLACEMENT_START = 'bench: placement session';

export async function adapterInfo() {
  if (!('gpu' in navigator)) { return {error: 'navigator.gpu is missing'}; }
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) { return {error: 'navigator.gpu.requestAdapter() returned null'}; }
  const info = adapter.info || (adapter.requestAdapterInfo ? await adapter.requestAdapterInfo() : {});
  return {vendor: info.vendor || '', architecture: info.architecture || '', device: info.device || '',
          description: info.description || '',
          isFallbackAdapter: Boolean(adapter.isFallbackAdapter || info.isFallbackAdapter)};
}

export async function run(o) {
  const out = {backend: o.backend, error: null, stage: 'import'};
  const wall = performance.now();
  let ort = null;
  let model = null;
  try {
    ort = await import(o.module);
    out.stage = 'model download';
    ort.env.wasm.wasmPaths = new URL(o.runtime, location.href).href;
    ort.env.wasm.numThreads = 1;
    ort.env.logLevel = 'warning';
    const get = async (name) => {
      const response = await fetch(o.model + name);
      if (!response.ok) { throw new Error(`${o.model}${name}: HTTP ${response.status}`); }
      return response;
    };
    const manifest = await (await get('web.json')).json();
    model = new Uint8Array(await (await get(manifest.files.model)).arrayBuffer());
    out.stage = 'session creation';
    let started = performance.now();
    const session = await ort.InferenceSession.create(model, {executionProviders: [o.backend],
                                                              logSeverityLevel: 2});
    out.session_seconds = (performance.now() - started) / 1000;
    out.stage = 'decoding';
    const cache = manifest.cache;
    let past = {};
    for (let layer = 0; layer < cache.layers; layer++) {
      for (const kv of ['key', 'value']) {
        past[`past.${layer}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [1, cache.kv_heads, 0, cache.head_dim]);
      }
    }
    let feed = [manifest.eos_id];
    const ids = [];
    const steps = [];
    const deadline = performance.now() + o.limit_s * 1000;
    out.stop = 'tokens';
    for (let step = 0; step < o.warmup + o.tokens; step++) {
      if (step === o.warmup) { started = performance.now(); }
      const t = performance.now();
      const input = new ort.Tensor('int64', BigInt64Array.from(feed, (id) => BigInt(id)), [1, feed.length]);
      const result = await session.run({input_ids: input, ...past});
      const vocab = result.logits.dims[2];
      const logits = result.logits.data.subarray((feed.length - 1) * vocab, feed.length * vocab);
      let best = 0;
      for (let i = 1; i < vocab; i++) { if (logits[i] > logits[best]) { best = i; } }
      ids.push(best);
      past = {};
      for (const name of Object.keys(result)) {
        if (name.startsWith('present.')) { past[name.replace('present.', 'past.')] = result[name]; }
      }
      feed = [best];
      steps.push((performance.now() - t) / 1000);
      if (performance.now() > deadline) { out.stop = 'time limit'; break; }
    }
    const timed = steps.slice(o.warmup);
    out.warmup_seconds = steps.slice(0, o.warmup).reduce((a, b) => a + b, 0);
    out.first_step_seconds = steps[0];
    out.tokens = timed.length;
    out.seconds = timed.length ? (performance.now() - started) / 1000 : null;
    out.tokens_per_s = timed.length ? timed.length / out.seconds : null;
    const sorted = [...timed].sort((a, b) => a - b);
    out.step_seconds_median = sorted.length ? sorted[Math.floor(sorted.length / 2)] : null;
    out.ids = ids;
    out.stage = 'done';
    await session.release();
  } catch (error) {
    out.error = String(error && error.message || error);
  }
  out.wall_seconds = (performance.now() - wall) / 1000;
  if (o.placement && ort && model) { // after the timed session: an untimed one at verbose level, for its
    console.log(PLACEMENT_START);     // node-placement log (the timed figures stay those of a cold page)
    try {
      const verbose = await ort.InferenceSession.create(model, {executionProviders: [o.backend],
                                                                logSeverityLevel: 0, logVerbosityLevel: 0});
      await verbose.release();
    } catch (error) {
      out.placement_error = String(error && error.message || error);
    }
  }
  return out;
}
"""
ANSI = re.compile(r"\x1b\[[0-9;]*m")
PLACEMENT_START = "bench: placement session"
PLACED_ON = re.compile(r"Node\(s\) placed on \[(\w+)\]\. Number of nodes: (\d+)")
PLACED_NODE = re.compile(r"VerifyEachNodeIsAssignedToAnEp\]\s+(\w+) \(")
PLACEMENT = re.compile(r"not assigned|fall ?back|CPUExecutionProvider|placed on|preferred execution", re.I)


def harness_page(browser, base: str, backend: str, paths: dict, model: str, tokens: int, limit_s: float) -> dict:
    """One backend in a fresh harness page: the harness's result, with the page's console."""
    console: list[str] = []
    page = browser.new_page()
    page.on("console", lambda m, into=console: into.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e, into=console: into.append(f"pageerror: {e}"))
    try:
        page.goto(base + "/harness.html")
        options = {"backend": backend, **paths, "model": model, "tokens": tokens, "warmup": 5, "limit_s": limit_s,
                   "placement": backend == "webgpu"}
        got = page.evaluate("async (o) => (await import('./harness.mjs')).run(o)", options)
    except Exception as error:  # noqa: BLE001 (a crashed page is a result too)
        got = {"backend": backend, "error": f"page: {str(error).splitlines()[0]}"}
    finally:
        page.close()
    clean = [ANSI.sub("", c) for c in console]
    start = next((i for i, c in enumerate(clean) if c.endswith(PLACEMENT_START)), None)
    if start is not None:  # after it, the verbose session's log (node placements); before, the timed run's
        got["placement"] = placement(clean[start + 1:])
        clean = clean[:start]
    got["console"] = [c[:400] for c in clean[-12:]]
    got["console_lines"] = len(clean)
    got["placement_lines"] = [c[:400] for c in clean if PLACEMENT.search(c)][:8]
    return got


def placement(lines: list[str]) -> dict:
    """onnxruntime's verbose "Node placements" log as {provider: {"nodes": n, "ops": {op type: count}}}."""
    found: dict[str, dict] = {}
    provider = None
    for line in lines:
        head = PLACED_ON.search(line)
        if head:
            provider = head.group(1)
            found[provider] = {"nodes": int(head.group(2)), "ops": {}}
            continue
        node = PLACED_NODE.search(line)
        if provider and node:
            ops = found[provider]["ops"]
            ops[node.group(1)] = ops.get(node.group(1), 0) + 1
        elif provider and "VerifyEachNodeIsAssignedToAnEp" not in line:
            provider = None
    for entry in found.values():
        entry["ops"] = dict(sorted(entry["ops"].items(), key=lambda item: -item[1]))
    return found


def fp32_copy(write: Path, into: Path) -> str:
    """``into``: the model folder ``write`` with the fp16 initializers of model.onnx stored as fp32 (the
    Cast after them then casts fp32 to fp32); web.json and vocab.json linked. Returns what changed."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    into.mkdir()
    model = onnx.load(str(write / "model.onnx"))
    changed = []
    for index, tensor in enumerate(model.graph.initializer):
        if tensor.data_type == onnx.TensorProto.FLOAT16:
            array = numpy_helper.to_array(tensor).astype(np.float32)
            model.graph.initializer[index].CopyFrom(numpy_helper.from_array(array, tensor.name))
            changed.append(f"{tensor.name} {list(array.shape)}")
    for node in model.graph.node:  # Casts to fp16 would need shader-f16 too: report, do not touch
        if node.op_type == "Cast" and any(a.name == "to" and a.i == onnx.TensorProto.FLOAT16 for a in node.attribute):
            changed.append(f"(Cast to fp16 left as is: {node.name or node.output[0]})")
    onnx.save(model, str(into / "model.onnx"))
    for name in ("web.json", "vocab.json"):
        (into / name).symlink_to(write / name)
    size = (into / "model.onnx").stat().st_size
    return f"fp16 -> fp32: {', '.join(changed) or 'nothing'}; {size} bytes"


def webgpu_harness(site: Path, tokens: int, limit_s: float) -> list[dict]:
    """Greedy decoding of ``tokens`` tokens (after a 5-token warm-up) in a harness page of our own,
    once with onnxruntime-web's WebGPU build (executionProviders ["webgpu"]) and once with the site's
    WASM build (["wasm"]), on the model folder the site serves. One result per backend."""

    from chromium import CHROMIUM, FLAGS
    from playwright.sync_api import sync_playwright

    write = site / "machine" / "write"
    try:
        gpu_runtime, gpu_files = webgpu_runtime()
    except Exception as error:  # noqa: BLE001 (reported, not raised)
        return [{"backend": "webgpu", "error": f"cannot get the WebGPU build: {error}"}]
    no_gpu_off = [f for f in FLAGS if f != "--disable-gpu"]
    flag_sets = {
        "project flags + --enable-unsafe-webgpu": FLAGS + ["--enable-unsafe-webgpu"],
        "project flags without --disable-gpu + --enable-unsafe-webgpu --enable-features=Vulkan "
        "--use-angle=swiftshader --use-webgpu-adapter=swiftshader": no_gpu_off + [
            "--enable-unsafe-webgpu", "--enable-features=Vulkan", "--use-angle=swiftshader",
            "--use-webgpu-adapter=swiftshader"],
    }
    runtime_note = f"onnxruntime-web 1.30.0 {WEBGPU_BUNDLE} (bench cache {gpu_runtime})"
    backends = {"webgpu": {"module": "./webgpu/" + WEBGPU_BUNDLE, "runtime": "./webgpu/"},
                "wasm": {"module": "./wasm/ort.wasm.min.mjs", "runtime": "./wasm/"}}
    results = []
    with tempfile.TemporaryDirectory(prefix="webgpu-harness-") as tmp, sync_playwright() as pw:
        folder = Path(tmp)
        (folder / "harness.html").write_text('<!doctype html><meta charset="utf-8"><title>harness</title>\n',
                                             encoding="utf-8")
        (folder / "harness.mjs").write_text(HARNESS_JS, encoding="utf-8")
        (folder / "model").symlink_to(write, target_is_directory=True)
        (folder / "wasm").symlink_to(write / "runtime", target_is_directory=True)
        (folder / "webgpu").symlink_to(gpu_runtime, target_is_directory=True)
        with serve(folder) as base:
            browser = adapter = used = None
            for name, args in flag_sets.items():  # the first flag set that gives an adapter
                used = name
                try:
                    browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
                    page = browser.new_page()
                    page.goto(base + "/harness.html")
                    adapter = page.evaluate("async () => (await import('./harness.mjs')).adapterInfo()")
                    page.close()
                except Exception as error:  # noqa: BLE001 (reported, not raised)
                    adapter = {"error": f"launch or probe failed: {str(error).splitlines()[0]}"}
                    if browser is None:
                        continue
                if "error" not in adapter:
                    break
                browser.close()
                browser = None
            if browser is None:  # no adapter under any flag set: the WASM run still happens
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            try:
                for backend, paths in backends.items():
                    if backend == "webgpu" and "error" in adapter:
                        results.append({"backend": backend, "flags": used, "adapter": adapter,
                                        "error": f"no WebGPU adapter: {adapter['error']}"})
                        continue
                    got = harness_page(browser, base, backend, paths, "./model/", tokens, limit_s)
                    got["model"] = "as served by the site (output/machine/write)"
                    if backend == "webgpu":
                        got.update(flags=used, adapter=adapter, runtime=runtime_note, runtime_files=gpu_files)
                    else:
                        got.update(flags="project flags", runtime="the site's onnxruntime-web 1.30.0 "
                                   "ort.wasm.min.mjs (output/machine/write/runtime)")
                    results.append(got)
                    if backend == "webgpu" and "requires f16" in (got.get("error") or ""):
                        # The adapter has no shader-f16: run a copy whose fp16 initializers are fp32.
                        try:
                            patched = fp32_copy(write, folder / "model-fp32")
                        except Exception as error:  # noqa: BLE001 (reported, not raised)
                            results.append({"backend": "webgpu", "variant": "fp16 initializers as fp32",
                                            "error": f"cannot patch the model: {error}"})
                            continue
                        again = harness_page(browser, base, backend, paths, "./model-fp32/", tokens, limit_s)
                        again.update(variant="fp16 initializers as fp32",
                                     model=f"bench-only copy of the site's model.onnx: {patched} "
                                     "(the adapter lacks shader-f16; everything else unchanged)",
                                     flags=used, adapter=adapter, runtime=runtime_note, runtime_files=gpu_files)
                        results.append(again)
            finally:
                browser.close()
    return results


def webgpu_part(site: Path, tokens: int, limit_s: float, version: str | None) -> None:
    """The WebGPU probe, then the harness (WebGPU and WASM backends) and their comparison."""
    probes = webgpu_probe(site)
    for probe in probes:
        emit(what="webgpu", **probe)
    if not any(p.get("adapter") or p.get("fallback_adapter") for p in probes):
        why = ("navigator.gpu is missing" if not any(p.get("has_gpu") for p in probes)
               else "navigator.gpu exists but requestAdapter() returns null under every flag set")
        emit(what="webgpu_unavailable", chromium=version,
             why=f"{why}: no GPU on this machine, headless Chromium on Linux without a usable "
                 "Vulkan/Dawn adapter (see the console lines of each probe)")

    started = time.perf_counter()
    results = webgpu_harness(site, tokens, limit_s)
    ids_of = [r.pop("ids", None) for r in results]
    wasm_ids = next((ids for r, ids in zip(results, ids_of) if r["backend"] == "wasm"), None)
    for result, ids in zip(results, ids_of):
        if ids:
            result["first_ids"] = ids[:12]
        if ids and wasm_ids and result["backend"] != "wasm":  # greedy, same weights: leading tokens in common
            result["same_leading_ids_as_wasm"] = next(
                (i for i, (a, b) in enumerate(zip(ids, wasm_ids)) if a != b), min(len(ids), len(wasm_ids)))
        for key in ("session_seconds", "seconds", "tokens_per_s", "warmup_seconds", "first_step_seconds",
                    "step_seconds_median", "wall_seconds"):
            if isinstance(result.get(key), float):
                result[key] = round(result[key], 4)
        emit(what="harness", status="failed" if result.get("error") else "ok", tokens_requested=tokens,
             warmup_tokens=5, decoding="greedy", threads=1, **result)
    gpu = next((r for r in results if r["backend"] == "webgpu" and r.get("tokens_per_s")), {})
    cpu = next((r for r in results if r["backend"] == "wasm" and r.get("tokens_per_s")), {})
    failed = "; ".join(f"{r['backend']}{' (' + r['variant'] + ')' if r.get('variant') else ''}: {r['error']}"
                       for r in results if r.get("error"))
    if gpu and cpu:
        emit(what="webgpu_vs_wasm",
             figure="harness webgpu tokens/s (greedy, 1 wasm thread for CPU nodes)"
                    + (f", model variant: {gpu['variant']}" if gpu.get("variant") else ""),
             value=gpu["tokens_per_s"], baseline="harness wasm tokens/s (greedy, 1 thread, the site's model)",
             baseline_value=cpu["tokens_per_s"], ratio=round(gpu["tokens_per_s"] / cpu["tokens_per_s"], 3),
             adapter=gpu.get("adapter"), failed=failed or None,
             harness_seconds=round(time.perf_counter() - started, 1))
    else:
        emit(what="webgpu_vs_wasm", value=gpu.get("tokens_per_s"), baseline_value=cpu.get("tokens_per_s"),
             ratio=None, why=f"a backend did not run: {failed or 'no tokens timed'}",
             harness_seconds=round(time.perf_counter() - started, 1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=ROOT / "output", help="the built site (default output)")
    parser.add_argument("--tokens", type=int, default=100,
                        help="tokens timed per backend, after a 5-token warm-up (default 100)")
    parser.add_argument("--limit", type=float, default=900.0,
                        help="seconds of decoding per backend before stopping early (default 900)")
    args = parser.parse_args()
    site = args.site.resolve()
    if not (site / PAGE.lstrip("/")).exists():
        emit(error=f"{site / PAGE.lstrip('/')} not found: build the site first (make html)")
        return 1
    from chromium import CHROMIUM

    version = chromium_version(CHROMIUM)
    emit(what="machine", **cpu_info(), chromium=version)
    webgpu_part(site, args.tokens, args.limit, version)
    return 0


if __name__ == "__main__":
    sys.exit(main())
