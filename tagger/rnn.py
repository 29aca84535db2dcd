"""A torch RNN (LSTM, GRU, Elman) over right-padded batches without packing.

``pack_padded_sequence`` keeps padding out of the recurrence, but on CPU a packed batch runs
torch's step-by-step kernel, and its backward pass is several times slower than the fused
(oneDNN) one for unpacked input: it was most of a training step's time. Here each direction
runs as its own unpacked call: the forward one on the padded batch (padding comes after every
real token, so it changes no real output), the backward one on each row reversed within its
own length (padding stays at the end again). The same function as the packed run, to float
rounding, on the module's own weights; padded positions come out as zeros, as
``pad_packed_sequence`` gives them.

Shapes: B batch, T time steps, E input features, H hidden units per direction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

_KERNELS: dict[str, Callable[..., Any]] = {
    "LSTM": torch._VF.lstm,  # the functions nn.LSTM / nn.GRU / nn.RNN call themselves
    "GRU": torch._VF.gru,
    "RNN_TANH": torch._VF.rnn_tanh,
    "RNN_RELU": torch._VF.rnn_relu,
}


def can_run_padded(rnn: nn.Module) -> bool:
    """Whether ``run_padded`` can run this module: a plain batch-first torch RNN (not the int8
    quantised one, whose weights are packed for its own kernel) without projections."""
    return (
        type(rnn) in (nn.LSTM, nn.GRU, nn.RNN)
        and getattr(rnn, "batch_first", False)
        and getattr(rnn, "proj_size", 0) == 0
    )


def reversal_index(lengths: Tensor, steps: int) -> Tensor:
    """Per row, the time index that reverses its first ``length`` steps and keeps the rest in
    place [B, T]; applying it twice gives the identity."""
    t = torch.arange(steps).unsqueeze(0)  # [1, T]
    flipped = lengths.unsqueeze(1) - 1 - t  # [B, T]
    return torch.where(flipped >= 0, flipped, t)  # [B, T]


def run_padded(rnn: nn.RNNBase, x: Tensor, mask: Tensor) -> Tensor:
    """``rnn`` over right-padded inputs x [B, T, E] with a left-aligned bool mask [B, T] ->
    outputs [B, T, H * directions], zeros where masked."""
    if not can_run_padded(rnn):
        raise ValueError(f"run_padded needs a batch-first nn.LSTM/GRU/RNN, got {type(rnn)}")
    if x.dim() != 3 or mask.shape != x.shape[:2]:
        raise ValueError(f"x must be [B, T, E] and mask [B, T], got {x.shape} and {mask.shape}")
    lengths = mask.sum(1)  # [B]
    reverse = reversal_index(lengths, x.size(1))  # [B, T]
    keep = mask.unsqueeze(2).to(x.dtype)  # [B, T, 1]
    directions = 2 if rnn.bidirectional else 1
    for layer in range(rnn.num_layers):
        if layer > 0:
            x = nn.functional.dropout(x, rnn.dropout, rnn.training)  # [B, T, D*H]
        outputs = [_direction(rnn, x, layer, "")]  # [B, T, H]
        if directions == 2:
            backward = _direction(rnn, _reorder(x, reverse), layer, "_reverse")  # [B, T, H]
            outputs.append(_reorder(backward, reverse))  # [B, T, H]
        x = torch.cat(outputs, dim=2)  # [B, T, D*H]; padding is read by no real step
    return x * keep  # [B, T, D*H]


def _reorder(x: Tensor, index: Tensor) -> Tensor:
    """x [B, T, F] with each row's time steps taken in the order of index [B, T]."""
    return x.gather(1, index.unsqueeze(2).expand_as(x))  # [B, T, F]


def _direction(rnn: nn.RNNBase, x: Tensor, layer: int, suffix: str) -> Tensor:
    """One direction of one layer, as a unidirectional single-layer call [B, T, H]."""
    names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if rnn.bias else [])
    weights = [getattr(rnn, f"{name}_l{layer}{suffix}") for name in names]
    zeros = x.new_zeros(1, x.size(0), rnn.hidden_size)  # [1, B, H]
    hidden = (zeros, zeros) if rnn.mode == "LSTM" else zeros
    kernel = _KERNELS[rnn.mode]
    # (input, hx, weights, has_biases, num_layers, dropout, train, bidirectional, batch_first)
    return kernel(x, hidden, weights, rnn.bias, 1, 0.0, rnn.training, False, True)[0]
