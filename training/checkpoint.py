"""Checkpoints: one safetensors file (weights, optimiser tensors, RNG) with JSON state inside.

Written to a temporary file and renamed, so a run killed at any moment leaves either the old or
the new checkpoint, never half of one. Nothing is unpickled when reading it back.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

STATE_KEY = "state_json"


def save_checkpoint(
    path: Path,
    modules: dict[str, torch.nn.Module],
    optimizer: torch.optim.Optimizer,
    state: dict[str, Any],
) -> None:
    """Atomically write modules' and optimiser tensors, RNG states and the JSON ``state``."""
    tensors = {
        f"{prefix}/{k}": v.detach().contiguous()
        for prefix, module in modules.items()
        for k, v in module.state_dict().items()
    }
    optim = optimizer.state_dict()
    for index, slots in optim["state"].items():
        for key, value in slots.items():
            tensors[f"optim/{index}/{key}"] = torch.as_tensor(value).contiguous()
    tensors["rng/torch"] = torch.get_rng_state()
    meta = {**state, "param_groups": optim["param_groups"], "python_rng": random.getstate()}
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    save_file(tensors, temporary, metadata={STATE_KEY: json.dumps(meta)})
    os.replace(temporary, path)


def load_checkpoint(
    path: Path, modules: dict[str, torch.nn.Module], optimizer: torch.optim.Optimizer
) -> dict[str, Any]:
    """Restore modules, optimiser and RNG states in place; return the JSON state."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        meta = json.loads(handle.metadata()[STATE_KEY])
    tensors = load_file(path)
    for prefix, module in modules.items():
        start = len(prefix) + 1
        module.load_state_dict(
            {k[start:]: v for k, v in tensors.items() if k[:start] == f"{prefix}/"}
        )
    slots: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith("optim/"):
            _, index, name = key.split("/", 2)
            slots.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({"state": slots, "param_groups": meta.pop("param_groups")})
    torch.set_rng_state(tensors["rng/torch"])
    version, internal, gauss = meta.pop("python_rng")
    random.setstate((version, tuple(internal), gauss))
    return meta
