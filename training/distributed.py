"""Data-parallel training through ``torchrun``: torch DDP on the gloo backend (CPU)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel


def setup() -> tuple[int, int]:
    """Join the process group when launched by torchrun; return (rank, world size)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("gloo")
    return (dist.get_rank(), world) if world > 1 else (0, 1)


def wrap(network: torch.nn.Module, world: int) -> torch.nn.Module:
    """The module to call in training: DDP (gradients averaged across processes) or as is."""
    return DistributedDataParallel(network) if world > 1 else network


def barrier(world: int) -> None:
    """Wait for every process (no-op on one)."""
    if world > 1:
        dist.barrier()


def teardown(world: int) -> None:
    """Leave the process group."""
    if world > 1 and dist.is_initialized():
        dist.destroy_process_group()


def parameter_digest(network: torch.nn.Module) -> str:
    """SHA-256 over all parameters, to check that processes hold one and the same model."""
    digest = hashlib.sha256()
    for name, tensor in sorted(network.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def record_parameters(run_dir: Path, network: torch.nn.Module, rank: int) -> None:
    """Write this process' parameter digest to ``run_dir/params-rank{rank}.sha256``."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / f"params-rank{rank}.sha256").write_text(parameter_digest(network) + "\n")
