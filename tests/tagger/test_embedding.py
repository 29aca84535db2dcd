"""The character CNN: the same function as ``Conv1d`` + max-pooling, with cached tables."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tagger.embedding import CharCNN


def reference(cnn: CharCNN, chars: torch.Tensor) -> torch.Tensor:
    """Conv1d over each word's zero-padded character embeddings, max over its characters."""
    rows = []
    for word in chars:
        ids = word[word != 0]  # [L]
        x = cnn.embed(ids).t().unsqueeze(0)  # [1, D, L]
        y = nn.functional.conv1d(x, cnn.conv.weight, cnn.conv.bias, padding=cnn.conv.padding)
        rows.append(y[0, :, : len(ids)].amax(dim=1))  # [F]
    return torch.stack(rows)  # [N, F]


@pytest.mark.parametrize("kernel", [1, 3, 5])
def test_char_cnn_is_a_convolution_with_max_pooling(kernel: int) -> None:
    torch.manual_seed(kernel)
    cnn = CharCNN(num_chars=12, dim=4, filters=6, kernel=kernel)
    lengths = [1, 2, 5, 7]
    chars = torch.zeros(len(lengths), 7, dtype=torch.long)  # [N, W], 0 = padding
    for row, n in enumerate(lengths):
        chars[row, :n] = torch.randint(1, 12, (n,))
    assert torch.allclose(cnn(chars), reference(cnn, chars), atol=1e-5)


def test_inference_tables_are_recomputed_when_weights_change() -> None:
    torch.manual_seed(0)
    cnn = CharCNN(num_chars=12, dim=4, filters=6, kernel=3)
    chars = torch.randint(1, 12, (3, 5))
    with torch.inference_mode():
        before = cnn(chars)
        assert torch.equal(cnn(chars), before)  # cached tables, same answer
    with torch.no_grad():
        cnn.conv.weight.mul_(2.0)  # an optimiser step or load_state_dict does this in place
    with torch.inference_mode():
        after = cnn(chars)
    assert not torch.allclose(after, before)
    assert torch.allclose(after, reference(cnn, chars), atol=1e-5)
    assert torch.allclose(cnn(chars), after, atol=1e-6)  # with gradients: computed afresh
