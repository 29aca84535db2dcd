"""CRF tests against brute-force enumeration of every tag sequence (pytorch-crf style)."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from torch import Tensor

from tagger import decoding
from tagger.crf import CRF

CASES = [(k, t, seed) for k in (2, 3, 4) for t in (1, 2, 3, 4) for seed in (0, 1)]


def make_case(num_tags: int, steps: int, seed: int) -> tuple[CRF, Tensor, Tensor]:
    """A CRF with random scores, emissions [B, T, K] and a left-aligned mask of mixed lengths."""
    torch.manual_seed(seed)
    crf = CRF(num_tags)
    with torch.no_grad():
        crf.transitions.normal_()
        crf.start.normal_()
        crf.end.normal_()
    batch = 2 + seed % 2
    emissions = torch.randn(batch, steps, num_tags)
    lengths = [steps] + [int(n) for n in torch.randint(1, steps + 1, (batch - 1,))]
    mask = torch.tensor([[t < n for t in range(steps)] for n in lengths])
    return crf, emissions, mask


def all_paths(crf: CRF, emissions: Tensor) -> dict[tuple[int, ...], float]:
    """Every path of one sequence's valid steps [L, K] with its score, from the raw parameters."""
    length, k = emissions.shape
    emit, trans = emissions.tolist(), crf.transitions.tolist()
    start, end = crf.start.tolist(), crf.end.tolist()
    scores = {}
    for path in itertools.product(range(k), repeat=length):
        score = start[path[0]] + end[path[-1]] + sum(emit[t][tag] for t, tag in enumerate(path))
        scores[path] = score + sum(trans[a][b] for a, b in itertools.pairwise(path))
    return scores


def log_sum_exp(values: list[float]) -> float:
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


def sequences(emissions: Tensor, mask: Tensor) -> list[Tensor]:
    """The valid prefix [L, K] of each sequence in the batch."""
    return [emissions[i, : int(mask[i].sum())] for i in range(emissions.size(0))]


@pytest.mark.parametrize(("num_tags", "steps", "seed"), CASES)
def test_log_partition_matches_brute_force(num_tags: int, steps: int, seed: int) -> None:
    crf, emissions, mask = make_case(num_tags, steps, seed)
    log_z = crf.log_partition(emissions, mask)
    assert log_z.shape == (emissions.size(0),)
    for i, seq in enumerate(sequences(emissions, mask)):
        expected = log_sum_exp(list(all_paths(crf, seq).values()))
        assert log_z[i].item() == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize(("num_tags", "steps", "seed"), CASES)
def test_log_likelihood_matches_brute_force(num_tags: int, steps: int, seed: int) -> None:
    crf, emissions, mask = make_case(num_tags, steps, seed)
    tags = torch.randint(0, num_tags, mask.shape)
    llh = crf.log_likelihood(emissions, tags, mask)
    assert llh.shape == (emissions.size(0),)
    for i, seq in enumerate(sequences(emissions, mask)):
        scores = all_paths(crf, seq)
        gold = tuple(tags[i, : seq.size(0)].tolist())
        expected = scores[gold] - log_sum_exp(list(scores.values()))
        assert llh[i].item() == pytest.approx(expected, abs=1e-4)
        assert llh[i].item() <= 1e-5


@pytest.mark.parametrize(("num_tags", "steps", "seed"), CASES)
def test_partial_likelihood_sums_every_path_through_the_allowed_tags(
    num_tags: int, steps: int, seed: int
) -> None:
    crf, emissions, mask = make_case(num_tags, steps, seed)
    generator = torch.Generator().manual_seed(seed + 7)
    allowed = torch.rand(emissions.shape, generator=generator) < 0.5  # [B, T, K]
    allowed[:, :, 0] |= ~allowed.any(2)  # some tag at every step
    llh = crf.partial_log_likelihood(emissions, allowed, mask)
    for i, seq in enumerate(sequences(emissions, mask)):
        scores = all_paths(crf, seq)
        kept = [
            score
            for path, score in scores.items()
            if all(bool(allowed[i, t, tag]) for t, tag in enumerate(path))
        ]
        expected = log_sum_exp(kept) - log_sum_exp(list(scores.values()))
        assert llh[i].item() == pytest.approx(expected, abs=1e-4)


def test_one_hot_allowed_tags_give_the_log_likelihood() -> None:
    crf, emissions, mask = make_case(4, 3, 1)
    tags = torch.randint(0, 4, mask.shape)
    one_hot = torch.nn.functional.one_hot(tags, 4).bool()
    assert torch.allclose(
        crf.partial_log_likelihood(emissions, one_hot, mask),
        crf.log_likelihood(emissions, tags, mask),
        atol=1e-4,
    )


def test_allowing_every_tag_gives_likelihood_one_and_no_gradient() -> None:
    crf, emissions, mask = make_case(3, 4, 1)
    emissions.requires_grad_(True)
    llh = crf.partial_log_likelihood(emissions, torch.ones(emissions.shape, dtype=torch.bool), mask)
    assert torch.allclose(llh, torch.zeros_like(llh), atol=1e-4)
    llh.sum().backward()
    assert emissions.grad is not None and emissions.grad.abs().max() < 1e-4


def test_allowed_tags_are_checked() -> None:
    crf, emissions, mask = make_case(3, 2, 0)
    with pytest.raises(ValueError, match="allowed must be bool"):
        crf.partial_log_likelihood(emissions, torch.ones(2, 2, 3), mask)
    none_at_a_step = torch.ones(emissions.shape, dtype=torch.bool)
    none_at_a_step[0, 0] = False
    with pytest.raises(ValueError, match="some tag at every valid step"):
        crf.partial_log_likelihood(emissions, none_at_a_step, mask)


def test_log_likelihood_ignores_tags_at_padding() -> None:
    crf, emissions, _ = make_case(3, 4, 0)
    mask = torch.tensor([[True, True, False, False], [True, True, True, True]])
    tags = torch.tensor([[2, 1, 0, 0], [0, 1, 2, 0]])
    other = tags.clone()
    other[0, 2:] = torch.tensor([2, 1])
    assert torch.allclose(
        crf.log_likelihood(emissions, tags, mask), crf.log_likelihood(emissions, other, mask)
    )


def test_probabilities_of_all_paths_sum_to_one() -> None:
    crf, emissions, mask = make_case(3, 3, 1)
    total = torch.zeros(emissions.size(0))
    for path in itertools.product(range(3), repeat=3):
        tags = torch.tensor([path] * emissions.size(0))
        # Paths that differ only at padding are the same path: count each distinct one once.
        for i in range(emissions.size(0)):
            if all(p == 0 for p in path[int(mask[i].sum()) :]):
                total[i] += crf.log_likelihood(emissions, tags, mask)[i].exp()
    assert torch.allclose(total, torch.ones_like(total), atol=1e-5)


@pytest.mark.parametrize(("num_tags", "steps", "seed"), CASES)
def test_viterbi_matches_brute_force_argmax(num_tags: int, steps: int, seed: int) -> None:
    crf, emissions, mask = make_case(num_tags, steps, seed)
    best, best_score = crf.viterbi(emissions, mask)
    assert best.shape == mask.shape and best_score.shape == (emissions.size(0),)
    for i, seq in enumerate(sequences(emissions, mask)):
        scores = all_paths(crf, seq)
        expected = max(scores, key=scores.__getitem__)
        assert tuple(best[i, : seq.size(0)].tolist()) == expected
        assert best_score[i].item() == pytest.approx(scores[expected], abs=1e-4)


@pytest.mark.parametrize(("num_tags", "steps", "seed"), CASES)
def test_marginals_match_brute_force(num_tags: int, steps: int, seed: int) -> None:
    crf, emissions, mask = make_case(num_tags, steps, seed)
    marginals = crf.marginals(emissions, mask)
    assert marginals.shape == emissions.shape
    for i, seq in enumerate(sequences(emissions, mask)):
        scores = all_paths(crf, seq)
        log_z = log_sum_exp(list(scores.values()))
        expected = torch.zeros(steps, num_tags, dtype=torch.float64)
        for path, score in scores.items():
            for t, tag in enumerate(path):
                expected[t, tag] += math.exp(score - log_z)
        assert torch.allclose(marginals[i].double(), expected, atol=1e-5)


@pytest.mark.parametrize("seed", range(4))
def test_marginals_sum_to_one_on_valid_steps_and_zero_on_padding(seed: int) -> None:
    crf, emissions, _ = make_case(4, 5, seed)
    mask = torch.zeros(emissions.shape[:2], dtype=torch.bool)
    for i in range(mask.size(0)):
        mask[i, : max(1, 5 - 2 * i)] = True
    marginals = crf.marginals(emissions, mask)
    totals = marginals.sum(2)
    assert torch.allclose(totals[mask], torch.ones(int(mask.sum())), atol=1e-5)
    assert torch.equal(marginals[~mask], torch.zeros(int((~mask).sum()), 4))
    assert bool((marginals >= 0).all()) and bool((marginals <= 1 + 1e-6).all())


@pytest.mark.parametrize("scale", [1.0, 10.0, 60.0])
@pytest.mark.parametrize("constrained", [False, True])
def test_marginals_are_the_gradient_of_log_partition(scale: float, constrained: bool) -> None:
    """An oracle for long sequences: d log Z / d emission[b, t, k] = p(tag_t = k) (in float64,
    as float32 gradients are off by 1e-3 at the larger scales)."""
    torch.manual_seed(int(scale))
    crf = (constrained_crf(3)[0] if constrained else CRF(4)).double()
    with torch.no_grad():
        crf.transitions.mul_(scale)
    emissions = (torch.randn(3, 40, 4, dtype=torch.float64) * scale).requires_grad_(True)
    mask = torch.zeros(3, 40, dtype=torch.bool)
    for i, length in enumerate([40, 23, 1]):
        mask[i, :length] = True
    (gradient,) = torch.autograd.grad(crf.log_partition(emissions, mask).sum(), emissions)
    marginals = crf.marginals(emissions.detach(), mask)
    assert bool(torch.isfinite(marginals).all())
    assert marginals.dtype == torch.float64
    assert torch.allclose(marginals, gradient, atol=1e-6)


@pytest.mark.parametrize("gap", [30.0, 700.0, 740.0, 744.0, 745.0, 1000.0])
def test_marginals_when_only_unlikely_tags_are_allowed(gap: float) -> None:
    """At step 1 the emissions favour tag 2, which no path may reach: the allowed tags 0 and 1
    are ``gap`` below it (the scale where probabilities underflow in float64). The second
    sequence is one step shorter, with random emissions on its padding."""
    crf = CRF(3, torch.eye(3, dtype=torch.bool), torch.tensor([True, True, False]))
    with torch.no_grad():
        crf.transitions.zero_(), crf.start.zero_(), crf.end.zero_()
    torch.manual_seed(0)
    emissions = torch.zeros(2, 4, 3)
    emissions[:, 1, :2] = torch.tensor([-gap, -gap - 0.6])
    emissions[1, 3] = torch.randn(3) * 3
    mask = torch.tensor([[True] * 4, [True, True, True, False]])
    share = 1 / (1 + math.exp(-0.6))  # p(tag 0) = e^-gap / (e^-gap + e^(-gap-0.6))
    expected = torch.tensor([[share, 1 - share, 0.0]] * 4).expand(2, 4, 3).clone()
    expected[1, 3] = 0.0
    assert torch.allclose(crf.marginals(emissions, mask), expected, atol=1e-4)
    assert crf.viterbi(emissions, mask)[0][:, :3].tolist() == [[0, 0, 0]] * 2


def test_ordinary_scores_use_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rescaled forward-backward handles ordinary scores; log space is only a fallback."""
    crf, emissions, mask = make_case(4, 4, 1)
    expected = crf.marginals(emissions, mask)

    def fail(*args: object) -> None:
        raise AssertionError("fell back to log space")

    monkeypatch.setattr(decoding, "_log_space_marginals", fail)
    assert torch.allclose(
        crf.marginals(emissions * 20, mask).sum(2)[mask], torch.ones(int(mask.sum()))
    )
    assert torch.equal(crf.marginals(emissions, mask), expected)


def constrained_crf(seed: int) -> tuple[CRF, Tensor, Tensor, Tensor]:
    """4 tags: 0 may not follow 1, 2 may only follow itself or 3, nothing may start with 3."""
    allowed = torch.ones(4, 4, dtype=torch.bool)
    allowed[1, 0] = False
    allowed[:, 2] = False
    allowed[2, 2] = allowed[3, 2] = True
    start = torch.tensor([True, True, True, False])
    end = torch.tensor([True, False, True, True])
    torch.manual_seed(seed)
    crf = CRF(4, allowed, start, end)
    with torch.no_grad():
        crf.transitions.normal_()
    return crf, allowed, start, end


@pytest.mark.parametrize("seed", range(5))
def test_viterbi_never_outputs_a_forbidden_transition(seed: int) -> None:
    crf, allowed, start, end = constrained_crf(seed)
    # Emissions that strongly prefer forbidden moves: 3 first, then alternate 1 -> 0 and 2.
    emissions = torch.randn(3, 6, 4)
    emissions[:, 0, 3] += 5.0
    emissions[:, 1::2, 1] += 5.0
    emissions[:, 2::2, 0] += 5.0
    emissions[:, 3, 2] += 5.0
    mask = torch.tensor([[True] * 6, [True] * 4 + [False] * 2, [True] * 2 + [False] * 4])
    best, _ = crf.viterbi(emissions, mask)
    for i in range(3):
        path = best[i, : int(mask[i].sum())].tolist()
        assert start[path[0]] and end[path[-1]]
        assert all(allowed[a, b] for a, b in itertools.pairwise(path)), path


def test_unconstrained_viterbi_takes_the_path_the_constraints_forbid() -> None:
    """Guards the test above: without constraints, those emissions do pick forbidden moves."""
    emissions = torch.zeros(1, 3, 4)
    emissions[0, 0, 3] = emissions[0, 1, 1] = emissions[0, 2, 0] = 5.0
    mask = torch.ones(1, 3, dtype=torch.bool)
    crf = CRF(4)
    assert crf.viterbi(emissions, mask)[0].tolist() == [[3, 1, 0]]
    constrained, *_ = constrained_crf(0)
    assert constrained.viterbi(emissions, mask)[0].tolist() != [[3, 1, 0]]


def test_constrained_marginals_put_no_mass_on_forbidden_paths() -> None:
    crf, allowed, start, _ = constrained_crf(0)
    emissions = torch.randn(2, 3, 4)
    mask = torch.ones(2, 3, dtype=torch.bool)
    marginals = crf.marginals(emissions, mask)
    assert torch.allclose(marginals[:, 0, 3], torch.zeros(2), atol=1e-6)  # cannot start on 3
    assert torch.allclose(marginals.sum(2), torch.ones(2, 3), atol=1e-5)


def test_gradient_of_log_likelihood_flows_and_is_finite() -> None:
    crf, emissions, mask = make_case(3, 4, 0)
    emissions.requires_grad_(True)
    tags = torch.randint(0, 3, mask.shape)
    crf.log_likelihood(emissions, tags, mask).sum().backward()
    for grad in (emissions.grad, crf.transitions.grad, crf.start.grad, crf.end.grad):
        assert grad is not None and bool(torch.isfinite(grad).all())
        assert grad.abs().sum() > 0
    # Padded steps do not influence the likelihood.
    assert emissions.grad is not None
    assert torch.equal(emissions.grad[~mask], torch.zeros(int((~mask).sum()), 3))


def test_gradient_is_finite_with_constraints() -> None:
    crf, *_ = constrained_crf(1)
    emissions = torch.randn(2, 4, 4, requires_grad=True)
    mask = torch.tensor([[True] * 4, [True, True, False, False]])
    tags = torch.tensor([[0, 1, 1, 0], [0, 0, 0, 0]])
    crf.log_likelihood(emissions, tags, mask).sum().backward()
    assert emissions.grad is not None and bool(torch.isfinite(emissions.grad).all())
    assert crf.transitions.grad is not None and bool(torch.isfinite(crf.transitions.grad).all())


def test_single_tag_crf() -> None:
    crf = CRF(1)
    emissions = torch.randn(2, 3, 1)
    mask = torch.tensor([[True, True, True], [True, False, False]])
    assert torch.allclose(
        crf.log_likelihood(emissions, torch.zeros(2, 3).long(), mask), torch.zeros(2), atol=1e-6
    )
    assert crf.viterbi(emissions, mask)[0].tolist() == [[0, 0, 0], [0, 0, 0]]


# --- input validation --------------------------------------------------------------------------


def test_num_tags_must_be_positive() -> None:
    with pytest.raises(ValueError, match="num_tags"):
        CRF(0)
    with pytest.raises(ValueError, match="num_tags"):
        CRF(-3)


def test_constraint_shapes_are_checked() -> None:
    with pytest.raises(ValueError, match="allowed must have shape"):
        CRF(3, allowed=torch.ones(3, 2, dtype=torch.bool))
    with pytest.raises(ValueError, match="allowed_end"):
        CRF(3, allowed_end=torch.ones(4, dtype=torch.bool))


@pytest.mark.parametrize("method", ["log_partition", "viterbi", "marginals"])
@pytest.mark.parametrize(
    ("emission_shape", "message"),
    [((2, 3, 4), r"emissions must be \[B, T, 3\]"), ((2, 3), "emissions"), ((6, 3), "emissions")],
)
def test_wrong_emission_shape_is_rejected(
    method: str, emission_shape: tuple[int, ...], message: str
) -> None:
    crf = CRF(3)
    with pytest.raises(ValueError, match=message):
        getattr(crf, method)(torch.randn(*emission_shape), torch.ones(2, 3, dtype=torch.bool))


@pytest.mark.parametrize("method", ["log_partition", "viterbi", "marginals"])
def test_non_bool_mask_is_rejected(method: str) -> None:
    crf = CRF(3)
    with pytest.raises(ValueError, match="mask must be bool"):
        getattr(crf, method)(torch.randn(2, 3, 3), torch.ones(2, 3, dtype=torch.uint8))


def test_mask_of_wrong_shape_is_rejected() -> None:
    with pytest.raises(ValueError, match="mask"):
        CRF(3).log_partition(torch.randn(2, 3, 3), torch.ones(2, 4, dtype=torch.bool))


@pytest.mark.parametrize("method", ["log_partition", "viterbi", "marginals"])
def test_mask_whose_first_step_is_off_is_rejected(method: str) -> None:
    mask = torch.tensor([[True, True, True], [False, True, True]])
    with pytest.raises(ValueError, match="start on"):
        getattr(CRF(3), method)(torch.randn(2, 3, 3), mask)


def test_zero_steps_are_rejected() -> None:
    with pytest.raises(ValueError, match="at least one step"):
        CRF(3).viterbi(torch.randn(2, 0, 3), torch.ones(2, 0, dtype=torch.bool))


def test_tags_shape_mismatch_is_rejected() -> None:
    crf, emissions, mask = make_case(3, 4, 0)
    with pytest.raises(ValueError, match="tags must be"):
        crf.log_likelihood(emissions, torch.zeros(mask.size(0), 3, dtype=torch.long), mask)
