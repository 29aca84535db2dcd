"""A linear-chain CRF: the log-likelihood (training, torch); Viterbi and forward-backward
marginals are computed by ``tagger.decoding`` in numpy, the same code for every backend.

Shapes: B batch, T time steps, K tags. Masks are boolean [B, T], left-aligned (every sequence
starts at t=0 and its valid steps are contiguous); the first step must be valid for all.
Disallowed transitions (from a tag scheme) get a large negative score instead of -inf, so
gradients and log-sum-exps stay finite.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from tagger import decoding
from tagger.decoding import CRFScores

FORBIDDEN = -10000.0


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

    def partial_log_likelihood(self, emissions: Tensor, allowed: Tensor, mask: Tensor) -> Tensor:
        """log p(the path keeps to ``allowed`` | emissions) per sequence, [B]: the probability of
        every path whose tag at each step is one of that step's allowed tags [B, T, K] (partial
        labels; a one-hot ``allowed`` gives ``log_likelihood``)."""
        self._check(emissions, mask)
        if allowed.shape != emissions.shape or allowed.dtype != torch.bool:
            raise ValueError(f"allowed must be bool {list(emissions.shape)}, got {allowed.dtype} "
                             f"{list(allowed.shape)}")  # fmt: skip
        if not bool((allowed.any(2) | ~mask).all()):
            raise ValueError("allowed must allow some tag at every valid step")
        kept = emissions.masked_fill(~allowed, FORBIDDEN)  # [B, T, K]
        return self.log_partition(kept, mask) - self.log_partition(emissions, mask)  # [B]

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

    def numpy_scores(self) -> CRFScores:
        """The constrained scores as numpy arrays, for decoding (``tagger.decoding``)."""
        return CRFScores(*(x.detach().double().numpy() for x in self.scores()))

    def marginals(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """p(tag_t = k | emissions) by forward-backward, [B, T, K] (zeros where masked)."""
        self._check(emissions, mask)
        probs = decoding.marginals(emissions.detach().numpy(), mask.numpy(), self.numpy_scores())
        return torch.from_numpy(probs).to(emissions.dtype)

    def viterbi(self, emissions: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """Best tag sequence [B, T] (padding repeats the last tag) and its score [B]."""
        self._check(emissions, mask)
        best, score = decoding.viterbi(
            emissions.detach().numpy(), mask.numpy(), self.numpy_scores()
        )
        return torch.from_numpy(best), torch.from_numpy(score).to(emissions.dtype)
