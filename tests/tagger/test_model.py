"""The network's training loss: probe tasks train their own heads and nothing else."""

from __future__ import annotations

import torch

from tagger.predict import Tagger

TASKS = {"ner": ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"], "pos": ["DT", "NN", "VB", "."]}
SENTENCES = [["The", "Apple", "is", "a", "company", "."], ["I", "like", "Paris"]]


def gradients(probes: tuple[str, ...], tasks: tuple[str, ...]) -> dict[str, torch.Tensor]:
    """Parameter gradients of the loss over ``tasks`` with ``probes`` detached (no dropout)."""
    model = Tagger.random(TASKS, seed=3)
    network = model.network.eval()
    batch = model.featurizer.batch(SENTENCES)
    shape = batch.mask.shape  # [B, T]
    labels = {
        "ner": torch.zeros(shape, dtype=torch.long),  # all O: a valid BIOES sequence
        "pos": torch.randint(0, 4, shape, generator=torch.Generator().manual_seed(0)),
    }
    gold = {task: labels[task] for task in tasks}
    network.loss(batch, gold, {"ner": 1.0, "pos": 1.0}, probes).backward()
    return {n: p.grad.clone() for n, p in network.named_parameters() if p.grad is not None}


def test_probe_loss_trains_only_its_head() -> None:
    alone = gradients((), ("ner",))
    probed = gradients(("pos",), ("ner", "pos"))
    shared = gradients((), ("ner", "pos"))
    encoder = [name for name in alone if not name.startswith(("heads.", "crfs."))]
    assert encoder  # the embedder and the RNN get gradients
    for name in encoder:
        assert torch.equal(probed[name], alone[name]), name  # the probe adds nothing
    assert any(not torch.equal(shared[name], alone[name]) for name in encoder)  # unlike a task
    assert probed["heads.pos.weight"].abs().sum() > 0  # the probe's own head still learns
    assert torch.equal(probed["heads.pos.weight"], shared["heads.pos.weight"])
