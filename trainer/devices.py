"""Where the model runs and in which precision: one answer for training, evaluation and sampling.

- ``pick_device``: ``auto`` picks cuda, then mps, then cpu; asking for one that is missing fails
  with one clear line.
- ``resolve_precision``: ``auto`` means bf16 on GPUs that have it (fp16 otherwise), bf16 on CPUs
  with native bf16 dot products (AVX512-BF16 / AMX), fp32 elsewhere; for sampling on a CPU, int8
  weights when this torch has the int8 kernels.
- ``autocast`` / ``make_grad_scaler``: mixed precision around forward + loss.
- ``default_threads``: the CPU threads a command uses unless told otherwise.
"""
from __future__ import annotations

import contextlib
import os
from functools import lru_cache

import torch

from common.errors import TrainerError

DEVICES = ("auto", "cuda", "mps", "cpu")
PRECISIONS = ("auto", "bf16", "fp16", "fp32")  # training and evaluation
SAMPLING_PRECISIONS = ("auto", "int8", "bf16", "fp32")  # sampling (the CLI's choices)
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}


def default_threads() -> int:
    """Threads for this machine: ``OMP_NUM_THREADS`` when set, else every CPU this process may
    run on (fixed, for repeatability)."""
    omp = os.environ.get("OMP_NUM_THREADS", "").strip()
    if omp.isdigit() and int(omp) > 0:
        return int(omp)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def pick_device(requested: str = "auto") -> torch.device:
    """The device to train on: ``auto`` (cuda > mps > cpu), ``cuda``, ``cuda:N``, ``mps`` or ``cpu``."""
    requested = (requested or "auto").lower()
    kind = requested.split(":")[0]
    if kind not in DEVICES:
        raise TrainerError(f"unknown device {requested!r}: choose one of {', '.join(DEVICES)}")
    if kind == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if kind == "cuda" and not torch.cuda.is_available():
        raise TrainerError(
            "--device cuda: no CUDA GPU is visible to PyTorch "
            f"(torch {torch.__version__}, built with CUDA {torch.version.cuda or 'none'}); "
            "install a CUDA build of torch, or use --device auto/cpu"
        )
    if kind == "cuda" and ":" in requested:
        index = int(requested.split(":", 1)[1])
        if index >= torch.cuda.device_count():
            raise TrainerError(
                f"--device {requested}: only {torch.cuda.device_count()} CUDA device(s) visible; "
                "pick another index or use --device cuda"
            )
    if kind == "mps" and not _mps_available():
        raise TrainerError("--device mps: Apple's MPS backend is not available here; use --device auto/cpu")
    return torch.device(requested)


# --------------------------------------------------------------------------- precision
@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none: macOS, Windows)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


@lru_cache(maxsize=1)
def cpu_has_native_bf16() -> bool:
    """True when the CPU has bf16 dot-product instructions (AVX512-BF16 or AMX), which makes bf16
    autocast faster than fp32 (measured ~1.5x for GPT-2 124M training on a 2-core AVX512-BF16 EPYC).
    CPUs that merely emulate bf16 get slower with it, so they stay in fp32."""
    flags = cpu_flags()
    if flags:
        return bool(flags & {"avx512_bf16", "amx_bf16"})
    # No /proc/cpuinfo (macOS, Windows): ask oneDNN, which also reports emulated support, so be
    # conservative and require AVX512 capability on top.
    try:
        capability = torch.backends.cpu.get_cpu_capability()
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported()) and "AVX512" in capability
    except Exception:  # pragma: no cover - exotic builds
        return False


def int8_available() -> bool:
    """True when this PyTorch build can run dynamically quantized linear layers on the CPU."""
    try:
        engines = torch.backends.quantized.supported_engines
        return any(e in engines for e in ("x86", "fbgemm", "onednn", "qnnpack")) and hasattr(
            torch, "ao") and hasattr(torch.ao.quantization, "quantize_dynamic")
    except Exception:  # an exotic build without quantization
        return False


def resolve_precision(device: torch.device | str, requested: str = "auto", *, sampling: bool = False) -> str:
    """``requested`` -> the precision actually used on ``device``: ``bf16|fp16|fp32`` for training
    and evaluation (choices ``PRECISIONS``); with ``sampling``, also ``int8`` (CPU only; choices
    ``SAMPLING_PRECISIONS`` plus fp16 on GPUs), which ``auto`` picks on a CPU whose torch has it."""
    requested = (requested or "auto").lower()
    choices = SAMPLING_PRECISIONS + ("fp16",) if sampling else PRECISIONS
    if requested not in choices:
        shown = SAMPLING_PRECISIONS if sampling else PRECISIONS
        raise TrainerError(f"unknown precision {requested!r}: choose one of {', '.join(shown)}")
    device = torch.device(device)
    if requested == "int8" and device.type != "cpu":
        raise TrainerError("precision int8 runs on the CPU only: use bf16 or fp32 on CUDA")
    if device.type == "cuda":
        bf16_ok = torch.cuda.is_bf16_supported(including_emulation=False)
        if requested == "auto":
            return "bf16" if bf16_ok else "fp16"
        if requested == "bf16" and not bf16_ok:
            raise TrainerError(
                f"--precision bf16: {torch.cuda.get_device_name(device)} has no native bf16; "
                "use --precision fp16 (with loss scaling) or auto"
            )
        return requested
    if device.type == "mps":
        if requested == "auto":
            return "fp32"  # MPS autocast is young: keep the safe choice unless asked
        return requested
    # cpu
    if requested == "auto":
        if sampling:
            if int8_available():
                return "int8"
        return "bf16" if cpu_has_native_bf16() else "fp32"
    if requested == "fp16":
        raise TrainerError("--precision fp16 is for GPUs; on the CPU use bf16, fp32 or auto")
    return requested


def autocast(device: torch.device, precision: str):
    """Context manager for forward + loss: autocast to ``precision``, or nothing for fp32."""
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=torch.device(device).type, dtype=DTYPES[precision])


def make_grad_scaler(device: torch.device, precision: str):
    """A ``GradScaler`` for fp16 on CUDA (the only case that needs loss scaling), else ``None``."""
    if precision == "fp16" and torch.device(device).type == "cuda":
        return torch.amp.GradScaler("cuda")
    return None
