"""Training on several GPUs under ``torchrun --nproc_per_node=N`` (DistributedDataParallel).

``setup_distributed`` joins the process group (a single process gets ``Dist()``, world size 1);
``wrap_for_ranks`` wraps the loss module in DDP; ``no_sync`` skips the gradient all-reduce of all
but the last micro-batch; ``any_rank`` asks whether any rank was told to stop; ``teardown`` leaves
the group. Every rank draws its own windows; rank 0 (``Dist.main``) alone evaluates, samples,
logs and writes files.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

import torch


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    flags: object = None  # a gloo process group for stop flags when training runs on NCCL

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup_distributed(device_request: str) -> Dist:
    """Join the process group when started by torchrun (RANK / WORLD_SIZE in the environment)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    import torch.distributed as dist

    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() and device_request.split(":")[0] in ("auto", "cuda")
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    if use_cuda:
        torch.cuda.set_device(local_rank)
    # The per-step "did any rank get Ctrl-C / SIGTERM?" question goes over gloo on the CPU: over
    # NCCL it would need a GPU tensor read back every step, which drains the GPU's queue.
    flags = dist.new_group(backend="gloo") if dist.get_backend() != "gloo" else None
    return Dist(rank=rank, world=world, local_rank=local_rank, flags=flags)


def rank_device(device: torch.device, dist_info: Dist) -> torch.device:
    """This rank's GPU under torchrun; ``device`` as it is otherwise."""
    if dist_info.enabled and device.type == "cuda":
        return torch.device("cuda", dist_info.local_rank)
    return device


def wrap_for_ranks(module: torch.nn.Module, device: torch.device, dist_info: Dist) -> torch.nn.Module:
    """``module`` in DistributedDataParallel under torchrun; ``module`` itself otherwise."""
    if not dist_info.enabled:
        return module
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(module, device_ids=[device.index] if device.type == "cuda" else None)


def no_sync(module: torch.nn.Module, dist_info: Dist, *, last: bool):
    """Where a micro-batch's backward runs: gradients are all-reduced after the ``last`` one only."""
    if last or not dist_info.enabled:
        return contextlib.nullcontext()
    return module.no_sync()


def any_rank(flag: bool, dist_info: Dist) -> bool:
    """``flag`` on any rank (a stop request, say); ``flag`` itself without torchrun."""
    if not dist_info.enabled:
        return flag
    import torch.distributed as dist

    tensor = torch.tensor([1 if flag else 0], dtype=torch.int32)  # CPU: no GPU sync
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX, group=dist_info.flags)
    return bool(tensor.item())


def teardown(dist_info: Dist) -> None:
    """Wait for every rank, then leave the process group (nothing to do without torchrun)."""
    if not dist_info.enabled:
        return
    import torch.distributed as dist

    dist.barrier()
    dist.destroy_process_group()
