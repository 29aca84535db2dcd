"""CRF decoding in numpy: Viterbi and forward-backward marginals, shared by every backend.

Shapes: B batch, T time steps, K tags. ``mask`` is boolean [B, T], left-aligned (valid steps
start at t=0 and are contiguous; the first step is valid). Scores are the CRF's constrained
``transitions`` [K, K] (from, to), ``start`` [K] and ``end`` [K]. Inference only: the torch
CRF keeps the differentiable log-likelihood for training, and hands decoding to these.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

_TINY = 1e-200  # float64 sums below this may have lost terms to underflow (below ~1e-308)


class CRFScores(NamedTuple):
    """A CRF's constrained scores, as numpy arrays."""

    transitions: np.ndarray  # [K, K]
    start: np.ndarray  # [K]
    end: np.ndarray  # [K]


def viterbi(
    emissions: np.ndarray, mask: np.ndarray, crf: CRFScores
) -> tuple[np.ndarray, np.ndarray]:
    """Best tag sequence [B, T] (padding repeats the last tag) and its score [B]."""
    steps = emissions.transpose(1, 0, 2).astype(np.float32, copy=False)  # [T, B, K]
    valid = mask.T[:, :, None]  # [T, B, 1]
    num_steps, batch, k = steps.shape
    transitions = crf.transitions.astype(np.float32)  # [K, K]
    identity = np.broadcast_to(np.arange(k), (batch, k))  # [B, K]
    score = crf.start.astype(np.float32) + steps[0]  # [B, K]
    pointers = np.empty((max(num_steps - 1, 0), batch, k), dtype=np.int64)  # [T-1, B, K]
    for t in range(1, num_steps):
        candidates = score[:, :, None] + transitions  # [B, K, K] (from, to)
        arg = candidates.argmax(axis=1)  # [B, K]
        best = np.take_along_axis(candidates, arg[:, None, :], axis=1)[:, 0]  # [B, K]
        score = np.where(valid[t], best + steps[t], score)  # [B, K]
        pointers[t - 1] = np.where(valid[t], arg, identity)  # [B, K]
    final = score + crf.end.astype(np.float32)  # [B, K]
    last = final.argmax(axis=1)  # [B]
    path = np.empty((batch, num_steps), dtype=np.int64)  # [B, T]
    path[:, -1] = last
    rows = np.arange(batch)
    for t in range(num_steps - 2, -1, -1):
        path[:, t] = pointers[t][rows, path[:, t + 1]]  # [B]
    return path, final[rows, last]


def marginals(emissions: np.ndarray, mask: np.ndarray, crf: CRFScores) -> np.ndarray:
    """p(tag_t = k | emissions) by forward-backward, [B, T, K] float64 (zeros where masked)."""
    probs = _scaled_marginals(emissions, mask, crf)
    if probs is None:
        probs = _log_space_marginals(emissions, mask, crf)
    return probs * mask[:, :, None]


def _scaled_marginals(emissions: np.ndarray, mask: np.ndarray, crf: CRFScores) -> np.ndarray | None:
    """Forward-backward in probability space, rescaled every step (a matrix product per step).

    Constant factors per step cancel in the normalised marginals, so scores are shifted by
    their maxima before exp. Float64 keeps underflow out of reach for realistic scores; None
    (the caller falls back to log space) if a step still under- or overflowed.
    """
    transitions, start, end = (x.astype(np.float64) for x in crf)
    moves = np.exp(transitions - transitions.max())  # [K, K]
    first = np.exp(start - start.max())  # [K]
    last = np.exp(end - end.max())  # [K]
    steps = emissions.transpose(1, 0, 2).astype(np.float64)  # [T, B, K]
    steps = np.exp(steps - steps.max(axis=2, keepdims=True))  # [T, B, K] in (0, 1]
    valid = mask.T[:, :, None]  # [T, B, 1]
    alphas = np.empty_like(steps)  # [T, B, K]
    betas = np.empty_like(steps)  # [T, B, K]
    with np.errstate(invalid="ignore", divide="ignore"):  # NaN marks underflow, see below
        alphas[0] = _normalise(first * steps[0])
        for t in range(1, len(steps)):
            nxt = _normalise((alphas[t - 1] @ moves) * steps[t])  # [B, K]
            alphas[t] = np.where(valid[t], nxt, alphas[t - 1])
        betas[-1] = last
        for t in range(len(steps) - 2, -1, -1):
            nxt = _normalise((steps[t + 1] * betas[t + 1]) @ moves.T)  # [B, K]
            betas[t] = np.where(valid[t + 1], nxt, last)
        probs = _normalise(alphas * betas, axis=2).transpose(1, 0, 2)  # [B, T, K]
    return probs if np.isfinite(probs).all() else None


def _log_space_marginals(emissions: np.ndarray, mask: np.ndarray, crf: CRFScores) -> np.ndarray:
    """Forward-backward in log space: exact for any scores, slower (log-sum-exp per step)."""
    transitions, start, end = (x.astype(np.float64) for x in crf)
    steps = emissions.transpose(1, 0, 2).astype(np.float64)  # [T, B, K]
    valid = mask.T[:, :, None]  # [T, B, 1]
    alphas = np.empty_like(steps)  # [T, B, K]
    betas = np.empty_like(steps)  # [T, B, K]
    alphas[0] = start + steps[0]
    for t in range(1, len(steps)):
        nxt = _logsumexp(alphas[t - 1][:, :, None] + transitions, axis=1) + steps[t]  # [B, K]
        alphas[t] = np.where(valid[t], nxt, alphas[t - 1])
    ends = np.broadcast_to(end, steps[0].shape)  # [B, K]
    betas[-1] = ends
    for t in range(len(steps) - 2, -1, -1):
        nxt = _logsumexp(transitions + (steps[t + 1] + betas[t + 1])[:, None, :], axis=2)  # [B, K]
        betas[t] = np.where(valid[t + 1], nxt, ends)
    log_z = _logsumexp(alphas[-1] + end, axis=1)  # [B]
    return np.exp(alphas + betas - log_z[None, :, None]).transpose(1, 0, 2)  # [B, T, K]


def _logsumexp(x: np.ndarray, axis: int) -> np.ndarray:
    top = x.max(axis=axis, keepdims=True)
    return (top + np.log(np.exp(x - top).sum(axis=axis, keepdims=True))).squeeze(axis)


def _normalise(x: np.ndarray, axis: int = 1) -> np.ndarray:
    """``x`` divided by its sums along ``axis``; NaN where a sum is so small that some entries
    may have underflowed or lost precision as subnormals (the caller then uses log space)."""
    total = x.sum(axis=axis, keepdims=True)
    return x / np.where(total < _TINY, np.nan, total)


def decode(
    emissions: np.ndarray, mask: np.ndarray, crf: CRFScores | None, with_scores: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Best labels [B, T] of one task and, if asked, each chosen label's probability [B, T]:
    Viterbi and marginals with a CRF, argmax and softmax without."""
    if crf is not None:
        best, _ = viterbi(emissions, mask, crf)
        probs = marginals(emissions, mask, crf) if with_scores else None
    else:
        best = emissions.argmax(axis=2)
        probs = _softmax(emissions.astype(np.float64)) if with_scores else None
    chosen = (
        np.take_along_axis(probs, best[:, :, None], axis=2)[:, :, 0] if probs is not None else None
    )
    return best, chosen


def _softmax(x: np.ndarray) -> np.ndarray:
    exp = np.exp(x - x.max(axis=2, keepdims=True))
    return exp / exp.sum(axis=2, keepdims=True)
