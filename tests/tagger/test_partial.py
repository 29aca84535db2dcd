"""Partial labels: which labels each gold id allows, and the model's loss on them."""

from __future__ import annotations

import pytest
import torch

from tagger.partial import IN_NAME, UNKNOWN, allowed_labels, has_partial
from tagger.testing import random_tagger

NER = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def test_each_gold_id_allows_itself_every_label_or_every_label_but_outside() -> None:
    tags = torch.tensor([[2, UNKNOWN, IN_NAME]])
    allowed = allowed_labels(tags, 4, outside=0)
    assert allowed.tolist() == [
        [[False, False, True, False], [True, True, True, True], [False, True, True, True]]
    ]
    assert has_partial(tags) and not has_partial(torch.tensor([[0, 3]]))


def test_out_of_range_ids_and_names_without_an_outside_label_are_rejected() -> None:
    with pytest.raises(ValueError, match="label ids"):
        allowed_labels(torch.tensor([[4]]), 4, outside=0)
    with pytest.raises(ValueError, match="label ids"):
        allowed_labels(torch.tensor([[-3]]), 4, outside=0)
    with pytest.raises(ValueError, match="outside label"):
        allowed_labels(torch.tensor([[IN_NAME]]), 4, outside=None)


def test_the_loss_counts_every_labelling_partial_labels_allow() -> None:
    tagger = random_tagger({"ner": NER}, seed=3)
    network = tagger.network.eval()
    batch = tagger.featurizer.batch([["Joe", "called", "me"]])
    labels = tagger.task_specs["ner"].labels
    outside, single = labels.index("O"), labels.index("S-PER")
    open_everywhere = torch.full((1, 3), UNKNOWN)
    assert network(batch, {"ner": open_everywhere}, {}).item() == pytest.approx(0, abs=1e-4)
    full = torch.tensor([[single, outside, outside]])
    named = torch.tensor([[IN_NAME, outside, outside]])
    loss_full, loss_named = (network(batch, {"ner": t}, {}).item() for t in (full, named))
    assert 0 < loss_named < loss_full  # S-PER is one of the labellings "a name" allows
