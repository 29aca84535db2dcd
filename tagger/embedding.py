"""Token vectors: frozen GloVe plus a trainable offset per word, a character CNN and casing
features, with the word and casing dropout that teaches the model to do without capitals."""

from __future__ import annotations

from typing import cast

import torch
from torch import Tensor, nn

from tagger.casing import CasePrior, SentenceCase, style_count
from tagger.config import ModelConfig
from tagger.features import Batch, sentence_case_classes
from tagger.vocab import CASINGS

LEGACY_STYLES = style_count(first_word_style=False)  # style ids of models without FIRST_ONLY


class CharCNN(nn.Module):
    """Character embeddings, one convolution and max-pooling over the word (Ma & Hovy 2016)."""

    def __init__(self, num_chars: int, dim: int, filters: int, kernel: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(num_chars, dim, padding_idx=0)
        self.conv = nn.Conv1d(dim, filters, kernel, padding=kernel // 2)
        self._tables: tuple[tuple[int, ...], Tensor] | None = None  # inference cache

    def tables(self) -> Tensor:
        """Per-offset (character x filter) tables [k, C, F]: embeddings through the kernel.

        Without gradients they are cached until a weight changes (an optimiser step or a
        load bumps its version), so inference does not redo this product for every batch.
        """
        weights = (self.embed.weight, self.conv.weight)
        if torch.is_grad_enabled():
            return torch.einsum("cd,fdk->kcf", *weights)  # [k, C, F]
        key = tuple(x for w in weights for x in (w.data_ptr(), w._version))
        if self._tables is None or self._tables[0] != key:
            self._tables = (key, torch.einsum("cd,fdk->kcf", *weights))  # [k, C, F]
        return self._tables[1]

    def forward(self, chars: Tensor) -> Tensor:
        """chars [N, W] -> word vectors [N, filters].

        The convolution is linear in the character embeddings, so it is computed as a sum of
        per-offset lookups in (embedding x filter) tables: the same function as ``Conv1d`` over
        the embeddings of the words padded with the padding character, without materialising
        windows or running a convolution. The lookups bypass ``padding_idx``, so the padding
        row is trained too (it marks a word's ends) and is not zero in a trained model.
        """
        width = max(int((chars != 0).sum(1).max()), 1)
        steps = chars[:, :width].t()  # [W, N]: time-major, so the max below is over rows
        kernel = self.conv.kernel_size[0]
        padded = nn.functional.pad(
            steps, (0, 0, kernel // 2, kernel - 1 - kernel // 2)
        )  # [W+k-1, N]
        tables = self.tables()  # [k, C, F]
        bias = cast(Tensor, self.conv.bias)  # [F] (the convolution is built with a bias)
        y = bias + (steps == 0).unsqueeze(2) * -1e4  # [W, N, 1 or F], padding never wins
        for offset in range(kernel):
            y = y + nn.functional.embedding(
                padded[offset : offset + width], tables[offset]
            )  # [W, N, F]
        return y.amax(dim=0)  # [N, F]


class Embedder(nn.Module):
    """Token vectors: frozen GloVe + trainable word offset, characters and casing."""

    glove: Tensor  # [rows, word_dim] buffer

    def __init__(
        self, config: ModelConfig, num_words: int, num_chars: int, glove: Tensor | None
    ) -> None:
        super().__init__()
        self.words = nn.Embedding(num_words, config.word_dim, padding_idx=0)
        nn.init.zeros_(self.words.weight)
        # GloVe is frozen and not saved with the model: it is reloaded from its package, as the
        # file mapping itself (loaded models) or a copy of it (training). The row after GloVe's
        # last stands for "not in GloVe" (zeros: ``glove_vectors``); without GloVe the table
        # is one zero row.
        table = glove if glove is not None else torch.zeros(1, config.word_dim)  # [rows, dim]
        self.register_buffer("glove", table, persistent=False)
        self.chars = (
            CharCNN(num_chars, config.char_dim, config.char_filters, config.char_kernel)
            if config.char_encoder == "cnn"
            else None
        )
        classes = len(CASINGS) * (2 if config.mark_sentence_starts else 1)
        self.casing = nn.Embedding(classes, config.casing_dim) if config.casing_dim else None
        self.styles = style_count(config.first_word_style)
        self.sentence_case = (
            nn.Embedding(
                sentence_case_classes(config.first_word_style),
                config.sentence_casing_dim,
                padding_idx=0,
            )
            if config.sentence_casing_dim
            else None
        )
        self.case_prior = (
            nn.Embedding(len(CasePrior), config.case_prior_dim, padding_idx=0)
            if config.case_prior_dim
            else None
        )
        self.output_size = (
            config.word_dim
            + (config.char_filters if self.chars else 0)
            + config.casing_dim
            + config.sentence_casing_dim
            + config.case_prior_dim
        )

    def glove_vectors(self, rows: Tensor) -> Tensor:
        """GloVe rows [B, T] -> vectors [B, T, word_dim]; a row past the table's end ("not in
        GloVe") gives zeros, so the table may be GloVe's file itself, with no zero row added."""
        last = self.glove.shape[0] - 1
        vectors = self.glove[rows.clamp(max=last)]  # [B, T, word_dim]
        return torch.where((rows <= last).unsqueeze(-1), vectors, 0.0)  # [B, T, word_dim]

    def forward(
        self,
        batch: Batch,
        word_dropout: float = 0.0,
        caseless_dropout: float = 0.0,
        start_dropout: float = 0.0,
    ) -> Tensor:
        """Batch -> token vectors [B, T, output_size]; in training, some word ids become <unk>
        (``word_dropout``; in caseless sentences ``caseless_dropout``; on a sentence's first
        token at least ``start_dropout``)."""
        words = batch.words
        if self.training and (word_dropout > 0 or caseless_dropout > 0 or start_dropout > 0):
            drop = torch.rand(words.shape) < self.dropout_rates(
                batch, word_dropout, caseless_dropout, start_dropout, self.styles
            )  # [B, T]
            words = words.masked_fill(drop & batch.mask, 1)  # [B, T] some ids -> <unk>
        parts = [self.words(words) + self.glove_vectors(batch.glove)]  # [B, T, word_dim]
        if self.chars is not None:
            distinct = self.chars(batch.chars)  # [U, filters], once per distinct token
            parts.append(distinct[batch.token_index])  # [B, T, filters]
        if self.casing is not None:
            parts.append(self.casing(batch.casing))  # [B, T, casing_dim]
        if self.sentence_case is not None:
            if batch.sentence_case is None:
                raise ValueError(
                    "this model needs sentence casing (Featurizer(sentence_casing=True))"
                )
            parts.append(self.sentence_case(batch.sentence_case))  # [B, T, sentence_casing_dim]
        if self.case_prior is not None:
            if batch.case_prior is None:
                raise ValueError("this model needs case priors (Featurizer(case_prior=...))")
            parts.append(self.case_prior(batch.case_prior))  # [B, T, case_prior_dim]
        return torch.cat(parts, dim=2)  # [B, T, output_size]

    @staticmethod
    def dropout_rates(
        batch: Batch, word: float, caseless: float, start: float, styles: int = LEGACY_STYLES
    ) -> Tensor:
        """[B, T] each token's chance of having its word id replaced by <unk> (``styles``: the
        model's ``style_count``, by which a sentence's first token has its style id shifted)."""
        rate = torch.full(batch.words.shape, word)  # [B, T]
        if caseless == 0 and start == 0:
            return rate
        if batch.sentence_case is None:
            raise ValueError("caseless and start word dropout need sentence_casing_dim > 0")
        if caseless > 0:
            style = batch.sentence_case % styles  # [B, T] SentenceCase ids
            rate = rate.masked_fill(style >= SentenceCase.LOWER, caseless)  # [B, T] caseless
        if start > 0:
            first = batch.sentence_case >= styles  # [B, T] a sentence's first token
            rate = torch.where(first, rate.clamp(min=start), rate)  # [B, T]
        return rate
