"""The network: word + character + casing embeddings, a (bi)RNN encoder, one head per task."""

from __future__ import annotations

from typing import cast

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from tagger.config import ModelConfig, TaskSpec
from tagger.crf import CRF
from tagger.embedding import Embedder
from tagger.features import Batch
from tagger.partial import IN_NAME, UNKNOWN, allowed_labels, has_partial
from tagger.rnn import can_run_padded, run_padded
from tagger.schemes import transition_allowed

RNN_CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class SequenceTagger(nn.Module):
    """Shared encoder and one CRF or softmax head per task; all tasks in one forward pass."""

    def __init__(
        self,
        config: ModelConfig,
        tasks: list[TaskSpec],
        num_words: int,
        num_chars: int,
        glove: Tensor | None = None,
    ) -> None:
        super().__init__()
        self.config, self.tasks = config, {task.name: task for task in tasks}
        self.embedder = Embedder(config, num_words, num_chars, glove)
        self.dropout = nn.Dropout(config.dropout)
        self.rnn = RNN_CELLS[config.cell](
            self.embedder.output_size,
            config.hidden_size,
            num_layers=config.num_layers,
            bidirectional=config.bidirectional,
            batch_first=True,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
        )
        encoded = config.hidden_size * (2 if config.bidirectional else 1)
        encoded *= 2 if config.word_memory else 1
        self.heads = nn.ModuleDict({t.name: nn.Linear(encoded, len(t.labels)) for t in tasks})
        self.crfs = nn.ModuleDict({t.name: make_crf(t) for t in tasks if t.decoder == "crf"})

    def emissions(self, batch: Batch, tasks: list[str] | None = None) -> dict[str, Tensor]:
        """Per-task label scores [B, T, K_task] for the requested tasks (default: all)."""
        x = self.embedder(
            batch,
            self.config.word_dropout,
            self.config.caseless_word_dropout,
            self.config.start_word_dropout,
        )
        x = self.dropout(x)  # [B, T, E]
        h = self._encode(x, batch.mask)  # [B, T, H]
        names = tasks or list(self.tasks)
        if self.config.word_memory and not self.training:
            return self._heads_over_memory(h, batch, names)
        if self.config.word_memory:
            h = torch.cat([h, word_memory(h, batch)], dim=2)  # [B, T, 2H]
        h = self.dropout(h)
        return {name: self.heads[name](h) for name in names}  # [B, T, K]

    def _heads_over_memory(self, h: Tensor, batch: Batch, names: list[str]) -> dict[str, Tensor]:
        """The heads over [h, word_memory(h)] without building the memory: a head is linear
        and the memory a mean of encodings, so the mean is taken of the head's projections
        (K scores a token instead of H features; the same function, to float rounding).
        Inference only: in training, dropout sits between the memory and the heads."""
        width = h.size(2)
        heads = [cast(nn.Linear, self.heads[name]) for name in names]
        weights = [head.weight for head in heads]  # each [K, 2H]
        own = torch.cat([w[:, :width] for w in weights])  # [sum K, H]
        other = torch.cat([w[:, width:] for w in weights])  # [sum K, H]
        projected = h @ torch.cat([own, other]).t()  # [B, T, 2 sum K]
        direct, remembered = projected.split(own.size(0), dim=2)  # [B, T, sum K] each
        scores = direct + word_memory(remembered, batch)  # [B, T, sum K]
        sizes = [w.size(0) for w in weights]
        parts = scores.split(sizes, dim=2)  # [B, T, K] each
        return {
            name: part + head.bias for name, head, part in zip(names, heads, parts, strict=True)
        }

    def _encode(self, x: Tensor, mask: Tensor) -> Tensor:
        """The RNN over [B, T, E] inputs -> [B, T, H]; padding never enters the recurrence.

        Without padding the module runs as is (single-sentence requests, the service's common
        case). With padding a plain torch RNN runs direction by direction on the padded batch
        (``tagger.rnn``: on CPU its training pass is 4-5x faster than packed); int8 is packed.
        """
        if bool(mask.all()):
            return self.rnn(x)[0]  # [B, T, H]
        if can_run_padded(self.rnn):
            return run_padded(cast(nn.RNNBase, self.rnn), x, mask)  # [B, T, H]
        lengths = mask.sum(1)  # [B]
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.rnn(packed)
        return pad_packed_sequence(out, batch_first=True, total_length=x.size(1))[0]  # [B, T, H]

    def crf(self, task: str) -> CRF:
        """The CRF of a task decoded by one."""
        return cast(CRF, self.crfs[task])

    def forward(
        self,
        batch: Batch,
        gold: dict[str, Tensor],
        weights: dict[str, float],
        sentences: int | None = None,
    ) -> Tensor:
        """The training loss (``forward`` so that DDP can wrap the model): the weighted sum over
        tasks of the negative log-likelihood per sentence.

        ``sentences`` counts the sentences in the batch when rows join several (document
        context), so the loss scale does not depend on how sentences were packed.
        """
        scores = self.emissions(batch, list(gold))
        count = sentences or batch.mask.size(0)
        total = torch.zeros(())
        for name, tags in gold.items():  # tags [B, T], partial labels allowed
            nll = self._nll(name, scores[name], tags, batch)
            total = total + weights.get(name, 1.0) * nll / count
        return total

    def _nll(self, task: str, scores: Tensor, tags: Tensor, batch: Batch) -> Tensor:
        """Summed negative log-likelihood of one task's gold tags; partial labels
        (``tagger.partial``) count every labelling they allow."""
        if task not in self.crfs:
            if bool((tags == IN_NAME).any()):
                raise ValueError(f"{task}: a softmax head takes no inside-a-name labels")
            logits = scores[batch.mask]  # [N, K]
            gold = tags[batch.mask]  # [N]
            return nn.functional.cross_entropy(logits, gold, ignore_index=UNKNOWN, reduction="sum")
        crf = self.crf(task)
        if not has_partial(tags):
            return -crf.log_likelihood(scores, tags, batch.mask).sum()
        labels = self.tasks[task].labels
        outside = labels.index("O") if "O" in labels else None
        allowed = allowed_labels(tags, len(labels), outside)  # [B, T, K]
        return -crf.partial_log_likelihood(scores, allowed, batch.mask).sum()

    def decode(
        self, batch: Batch, tasks: list[str] | None = None, with_scores: bool = True
    ) -> dict[str, tuple[Tensor, Tensor | None]]:
        """Best labels [B, T] per task and, if asked, each chosen label's marginal [B, T]."""
        results = {}
        for name, scores in self.emissions(batch, tasks).items():  # scores [B, T, K]
            if name in self.crfs:
                crf = self.crf(name)
                best, _ = crf.viterbi(scores, batch.mask)  # [B, T]
                probs = crf.marginals(scores, batch.mask) if with_scores else None  # [B, T, K]
            else:
                best = scores.argmax(dim=2)  # [B, T]
                probs = scores.softmax(dim=2) if with_scores else None  # [B, T, K]
            chosen = probs.gather(2, best.unsqueeze(2)).squeeze(2) if probs is not None else None
            results[name] = (best, chosen)
        return results


def word_memory(h: Tensor, batch: Batch) -> Tensor:
    """Per token, the mean encoding h [B, T, H] (or any vector per token) of the same
    case-folded word at its other places in the sequence [B, T, H] (zeros where it occurs
    once): what the rest of a document says of it.

    Sums per (row, word) group by scatter-add, so the cost grows with B*T, not B*T*T.
    """
    if batch.word_keys is None:
        raise ValueError("word memory needs a batch with word_keys (Featurizer(word_keys=True))")
    rows = torch.arange(h.size(0)).unsqueeze(1)  # [B, 1]
    width = int(batch.word_keys.max()) + 2  # key ids, and -1 on padding
    groups = rows * width + batch.word_keys + 1  # [B, T] one id per (row, word); padding its own
    _, inverse = torch.unique(groups, return_inverse=True)  # [B, T] dense group ids
    flat = inverse.flatten()  # [B*T]
    states = h.reshape(-1, h.size(2))  # [B*T, H]
    sums = torch.zeros(int(flat.max()) + 1, h.size(2)).index_add(0, flat, states)  # [G, H]
    others = torch.bincount(flat)[inverse] - 1  # [B, T] places of the word besides this one
    return (sums[inverse] - h) / others.clamp_min(1).unsqueeze(2)  # [B, T, H]


def make_crf(task: TaskSpec) -> CRF:
    """A CRF whose transitions forbid what the task's span scheme forbids."""
    k = len(task.labels)
    if task.scheme is None:
        return CRF(k)
    allowed = torch.tensor(
        [[transition_allowed(a, b, task.scheme) for b in task.labels] for a in task.labels]
    )
    start = torch.tensor([transition_allowed("O", b, task.scheme) for b in task.labels])
    end = torch.tensor([transition_allowed(a, "O", task.scheme) for a in task.labels])
    return CRF(k, allowed, start, end)
