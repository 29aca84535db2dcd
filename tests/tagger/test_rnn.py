"""tagger.rnn: the unpacked direction-by-direction run equals torch's packed run."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from tagger.rnn import can_run_padded, reversal_index, run_padded

CELLS = {
    "lstm": lambda **kw: nn.LSTM(**kw),
    "gru": lambda **kw: nn.GRU(**kw),
    "rnn_tanh": lambda **kw: nn.RNN(**kw),
    "rnn_relu": lambda **kw: nn.RNN(nonlinearity="relu", **kw),
}


def packed(rnn: nn.RNNBase, x: Tensor, mask: Tensor) -> Tensor:
    """The reference: torch's own packed run, padded back with zeros."""
    lengths = mask.sum(1)
    run = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    return pad_packed_sequence(rnn(run)[0], batch_first=True, total_length=x.size(1))[0]


def batch(lengths: list[int], features: int = 5) -> tuple[Tensor, Tensor]:
    """Random inputs whose padding holds large values, so that any leak would show."""
    steps = max(lengths)
    mask = torch.arange(steps).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)
    x = torch.randn(len(lengths), steps, features)
    return x.masked_fill(~mask.unsqueeze(2), 50.0), mask


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [True, False])
def test_outputs_and_gradients_match_the_packed_run(
    cell: str, layers: int, bidirectional: bool
) -> None:
    torch.manual_seed(layers + 2 * bidirectional)
    rnn = CELLS[cell](
        input_size=5,
        hidden_size=4,
        num_layers=layers,
        bidirectional=bidirectional,
        batch_first=True,
    )
    x, mask = batch([7, 3, 1, 7, 5])
    x.requires_grad_(True)
    expected = packed(rnn, x, mask)
    got = run_padded(rnn, x, mask)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)
    weights = torch.randn_like(expected)  # a random loss over the outputs
    inputs = [x, *rnn.parameters()]
    mine = torch.autograd.grad((got * weights).sum(), inputs)
    theirs = torch.autograd.grad((expected * weights).sum(), inputs)
    for ours, reference in zip(mine, theirs, strict=True):
        torch.testing.assert_close(ours, reference, rtol=1e-4, atol=1e-5)


def test_padding_comes_out_as_zeros_and_reads_nothing_of_the_padding() -> None:
    torch.manual_seed(0)
    rnn = nn.LSTM(5, 3, bidirectional=True, batch_first=True)
    x, mask = batch([4, 2])
    out = run_padded(rnn, x, mask)  # [2, 4, 6]
    assert out[1, 2:].abs().sum() == 0
    alone = rnn(x[1:, :2])[0]  # the short row by itself, no padding at all
    torch.testing.assert_close(out[1:, :2], alone, rtol=1e-5, atol=1e-6)


def test_layers_are_separated_by_dropout_only_in_training() -> None:
    torch.manual_seed(0)
    rnn = nn.GRU(5, 4, num_layers=2, dropout=0.5, batch_first=True)
    x, mask = batch([6, 4])
    rnn.eval()
    torch.testing.assert_close(run_padded(rnn, x, mask), packed(rnn, x, mask))
    rnn.train()
    torch.manual_seed(1)
    first = run_padded(rnn, x, mask)
    torch.manual_seed(2)
    assert not torch.allclose(first, run_padded(rnn, x, mask))


def test_reversal_index_reverses_each_row_within_its_length() -> None:
    index = reversal_index(torch.tensor([3, 1, 0]), 4)
    assert index.tolist() == [[2, 1, 0, 3], [0, 1, 2, 3], [0, 1, 2, 3]]
    twice = index.gather(1, index)
    assert twice.tolist() == [list(range(4))] * 3


def test_modules_it_cannot_run_are_refused() -> None:
    time_major = nn.LSTM(5, 4)
    projected = nn.LSTM(5, 4, proj_size=2, batch_first=True)
    assert not can_run_padded(time_major) and not can_run_padded(projected)
    assert can_run_padded(nn.GRU(5, 4, batch_first=True))
    with pytest.raises(ValueError, match="batch-first"):
        run_padded(time_major, *batch([2, 1]))
    with pytest.raises(ValueError, match=r"\[B, T, E\]"):
        run_padded(nn.GRU(5, 4, batch_first=True), torch.zeros(2, 5), torch.ones(2, 1).bool())
