"""A linear-chain CRF: log-likelihood, batched Viterbi and forward-backward marginals.

Shapes: B batch, T time steps, K tags. Masks are boolean [B, T], left-aligned (every sequence
starts at t=0 and its valid steps are contiguous); the first step must be valid for all.
Disallowed transitions (from a tag scheme) get a large negative score instead of -inf, so
gradients and log-sum-exps stay finite.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

FORBIDDEN = -10000.0
_TINY = 1e-200  # float64 sums below this may have lost terms to underflow (below ~1e-308)


class CRF(nn.Module):
    """Transition, start and end scores over K tags, with optional hard constraints."""

    allowed: Tensor  # [K, K] bool buffers: which transitions, starts and ends may occur
    allowed_start: Tensor  # [K]
    allowed_end: Tensor  # [K]

    def __init__(
        self,
        num_tags: int,
        allowed: Tensor | None = None,
        allowed_start: Tensor | None = None,
        allowed_end: Tensor | None = None,
    ) -> None:
        super().__init__()
        if num_tags < 1:
            raise ValueError(f"num_tags must be positive, got {num_tags}")
        self.num_tags = num_tags
        self.transitions = nn.Parameter(torch.empty(num_tags, num_tags).uniform_(-0.1, 0.1))
        self.start = nn.Parameter(torch.empty(num_tags).uniform_(-0.1, 0.1))
        self.end = nn.Parameter(torch.empty(num_tags).uniform_(-0.1, 0.1))
        # Constraints come from the task's scheme, so they are rebuilt rather than saved.
        for name, given, shape in [
            ("allowed", allowed, (num_tags, num_tags)),
            ("allowed_start", allowed_start, (num_tags,)),
            ("allowed_end", allowed_end, (num_tags,)),
        ]:
            value = torch.ones(shape, dtype=torch.bool) if given is None else given.bool().clone()
            if value.shape != shape:
                raise ValueError(f"{name} must have shape {list(shape)}, got {list(value.shape)}")
            self.register_buffer(name, value, persistent=False)

    def scores(self) -> tuple[Tensor, Tensor, Tensor]:
        """Transition [K, K] (from, to), start [K] and end [K] scores with constraints applied."""
        transitions = self.transitions.masked_fill(~self.allowed, FORBIDDEN)  # [K, K]
        start = self.start.masked_fill(~self.allowed_start, FORBIDDEN)  # [K]
        end = self.end.masked_fill(~self.allowed_end, FORBIDDEN)  # [K]
        return transitions, start, end

    def _check(self, emissions: Tensor, mask: Tensor, tags: Tensor | None = None) -> None:
        if emissions.dim() != 3 or emissions.size(2) != self.num_tags:
            raise ValueError(
                f"emissions must be [B, T, {self.num_tags}], got {list(emissions.shape)}"
            )
        if mask.shape != emissions.shape[:2] or mask.dtype != torch.bool:
            expected = list(emissions.shape[:2])
            raise ValueError(f"mask must be bool {expected}, got {mask.dtype} {list(mask.shape)}")
        if tags is not None and tags.shape != mask.shape:
            raise ValueError(f"tags must be {list(mask.shape)}, got {list(tags.shape)}")
        if emissions.size(1) == 0 or not bool(mask[:, 0].all()):
            raise ValueError("every sequence needs at least one step and masks must start on")

    def log_likelihood(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """log p(tags | emissions) per sequence, [B]."""
        self._check(emissions, mask, tags)
        return self._path_score(emissions, tags, mask) - self.log_partition(emissions, mask)

    def _path_score(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        transitions, start, end = self.scores()
        maskf = mask.to(emissions.dtype)  # [B, T]
        emitted = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)  # [B, T]
        moved = transitions[tags[:, :-1], tags[:, 1:]]  # [B, T-1]
        score = start[tags[:, 0]] + (emitted * maskf).sum(1) + (moved * maskf[:, 1:]).sum(1)  # [B]
        last = tags.gather(1, (mask.sum(1) - 1).unsqueeze(1)).squeeze(1)  # [B]
        return score + end[last]  # [B]

    def log_partition(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """log Z per sequence, [B], by the forward algorithm in log space."""
        self._check(emissions, mask)
        return torch.logsumexp(self._forward_alphas(emissions, mask)[-1] + self.scores()[2], dim=1)

    def _forward_alphas(self, emissions: Tensor, mask: Tensor) -> list[Tensor]:
        """alpha_t [B, K] for every t (kept unchanged past a sequence's end)."""
        transitions, start, _ = self.scores()
        steps = emissions.transpose(0, 1)  # [T, B, K]
        valid = mask.transpose(0, 1).unsqueeze(2)  # [T, B, 1]
        alphas = [start + steps[0]]  # [B, K]
        for t in range(1, steps.size(0)):
            nxt = torch.logsumexp(alphas[-1].unsqueeze(2) + transitions, dim=1) + steps[t]  # [B, K]
            alphas.append(torch.where(valid[t], nxt, alphas[-1]))  # [B, K]
        return alphas

    def _backward_betas(self, emissions: Tensor, mask: Tensor) -> list[Tensor]:
        """beta_t [B, K]: log-sum of scores from t+1 to the end (end score at the last step)."""
        transitions, _, end = self.scores()
        steps = emissions.transpose(0, 1)  # [T, B, K]
        valid = mask.transpose(0, 1).unsqueeze(2)  # [T, B, 1]
        end_b = end.expand_as(steps[0])  # [B, K]
        betas = [end_b]
        for t in range(steps.size(0) - 2, -1, -1):
            ahead = (steps[t + 1] + betas[-1]).unsqueeze(1)  # [B, 1, K]
            nxt = torch.logsumexp(transitions + ahead, dim=2)  # [B, K]
            betas.append(torch.where(valid[t + 1], nxt, end_b))  # [B, K]
        return betas[::-1]

    def marginals(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """p(tag_t = k | emissions) by forward-backward, [B, T, K] (zeros where masked)."""
        self._check(emissions, mask)
        probs = self._scaled_marginals(emissions, mask)
        return probs if probs is not None else self._log_space_marginals(emissions, mask)

    def _log_space_marginals(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """Forward-backward in log space: exact for any scores, but slow (log-sum-exp per step)."""
        alphas = torch.stack(self._forward_alphas(emissions, mask), dim=1)  # [B, T, K]
        betas = torch.stack(self._backward_betas(emissions, mask), dim=1)  # [B, T, K]
        log_z = torch.logsumexp(alphas[:, -1] + self.scores()[2], dim=1)  # [B]
        probs = torch.exp(alphas + betas - log_z[:, None, None])  # [B, T, K]
        return probs * mask.unsqueeze(2)  # [B, T, K]

    def _scaled_marginals(self, emissions: Tensor, mask: Tensor) -> Tensor | None:
        """Forward-backward in probability space, rescaled every step (a matrix product per step).

        Constant factors per step cancel in the normalised marginals, so scores are shifted by
        their maxima before exp. Float64 keeps underflow out of reach for realistic scores;
        None (caller falls back to log space) if a step still under- or overflowed. Inference
        only (no gradient), so it runs in numpy: its per-operation cost on these small
        [B, K] arrays is a fraction of torch's, and the loop is all small operations.
        """
        transitions, start, end = (x.detach().double().numpy() for x in self.scores())
        moves = np.exp(transitions - transitions.max())  # [K, K]
        first = np.exp(start - start.max())  # [K]
        last = np.exp(end - end.max())  # [K]
        steps = emissions.detach().transpose(0, 1).double().numpy()  # [T, B, K]
        steps = np.exp(steps - steps.max(axis=2, keepdims=True))  # [T, B, K] in (0, 1]
        valid = mask.transpose(0, 1).unsqueeze(2).numpy()  # [T, B, 1]
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
        if not np.isfinite(probs).all():
            return None
        masked = torch.from_numpy(probs * mask.unsqueeze(2).numpy())  # [B, T, K]
        return masked.to(emissions.dtype)

    def viterbi(self, emissions: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """Best tag sequence [B, T] (padding repeats the last tag) and its score [B]."""
        self._check(emissions, mask)
        transitions, start, end = self.scores()
        steps = emissions.transpose(0, 1)  # [T, B, K]
        valid = mask.transpose(0, 1).unsqueeze(2)  # [T, B, 1]
        num_steps, batch, k = steps.shape
        identity = torch.arange(k).expand(batch, k)  # [B, K]
        score = start + steps[0]  # [B, K]
        pointers = []
        for t in range(1, num_steps):
            best, arg = (score.unsqueeze(2) + transitions).max(dim=1)  # [B, K], [B, K]
            score = torch.where(valid[t], best + steps[t], score)  # [B, K]
            pointers.append(torch.where(valid[t], arg, identity))  # [B, K]
        best_score, last = (score + end).max(dim=1)  # [B], [B]
        path = [last]
        for arg in reversed(pointers):
            path.append(arg.gather(1, path[-1].unsqueeze(1)).squeeze(1))  # [B]
        return torch.stack(path[::-1], dim=1), best_score  # [B, T], [B]


def _normalise(x: np.ndarray, axis: int = 1) -> np.ndarray:
    """``x`` divided by its sums along ``axis``; NaN where a sum is so small that some entries
    may have underflowed or lost precision as subnormals (the caller then uses log space)."""
    total = x.sum(axis=axis, keepdims=True)
    return x / np.where(total < _TINY, np.nan, total)
