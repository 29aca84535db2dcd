"""Turn token lists into the id arrays the network reads (words, GloVe rows, casing, chars).

``Featurizer.arrays`` gives numpy arrays (what every backend reads, no torch needed);
``Featurizer.batch`` the same as torch tensors.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from torch import Tensor

from tagger.casing import CasePrior, SentenceCase, sentence_case, style_count, token_flags
from tagger.context import SentenceStart
from tagger.vocab import CASINGS, Vocabulary, casing, word_key


def sentence_case_classes(first_word_style: bool) -> int:
    """Ids of the sentence-style table: each style, for a sentence's first token (shifted
    by ``style_count``) or not."""
    return 2 * style_count(first_word_style)


class Batch(NamedTuple):
    """Padded id tensors for B sentences of at most T tokens (W characters per token)."""

    words: Tensor  # [B, T] trainable-vocabulary ids
    glove: Tensor  # [B, T] GloVe rows (the last row means "not in GloVe")
    casing: Tensor  # [B, T] casing class ids
    chars: Tensor  # [U, W] character ids of the U distinct tokens of the batch
    token_index: Tensor  # [B, T] row of each token in ``chars`` (0 on padding)
    mask: Tensor  # [B, T] bool, True on real tokens
    word_keys: Tensor | None = None  # [B, T] case-folded word id within the batch (word memory)
    sentence_case: Tensor | None = None  # [B, T] style of each token's sentence (+ first token)
    case_prior: Tensor | None = None  # [B, T] how each word is usually written (CasePrior)


class Arrays(NamedTuple):
    """``Batch`` as numpy arrays: the same fields, shapes and meaning (int64, mask bool)."""

    words: np.ndarray
    glove: np.ndarray
    casing: np.ndarray
    chars: np.ndarray
    token_index: np.ndarray
    mask: np.ndarray
    word_keys: np.ndarray | None = None
    sentence_case: np.ndarray | None = None
    case_prior: np.ndarray | None = None


class TokenFeatures(NamedTuple):
    """Everything a batch needs of one token, computed once per distinct token (cached)."""

    word: int  # trainable-vocabulary id of the token as written
    glove: int  # GloVe row
    casing: int  # casing class id
    chars: tuple[int, ...]  # character ids, at most ``max_word_length``
    flags: int  # ``casing.token_flags``: what it says about its sentence's style
    caseless_word: int  # the vocabulary id used when its sentence is caseless (truecasing)
    prior: int  # ``CasePrior`` id
    key: str  # the token case-folded: word memory groups a batch's tokens by it


def to_tensors(arrays: Arrays) -> Batch:
    """The arrays as a torch ``Batch`` (sharing memory)."""
    import torch

    def tensor(value: Any) -> Any:
        return None if value is None else torch.from_numpy(value)

    return Batch(*(tensor(value) for value in arrays))


class Featurizer:
    """Maps tokens to ids with a per-token cache, so repeated words cost one dict lookup."""

    def __init__(
        self,
        words: Vocabulary,
        chars: Vocabulary,
        glove_index: dict[str, int] | None,
        max_word_length: int,
        lowercase_words: bool = False,
        mark_starts: bool = False,
        word_keys: bool = False,
        sentence_casing: bool = False,
        truecase: bool = False,
        case_prior: dict[str, int] | None = None,
        truecase_unknown_only: bool = False,
        first_word_style: bool = False,
        cache_size: int = 200_000,
    ) -> None:
        self.words, self.chars, self.max_word_length = words, chars, max_word_length
        self.lowercase_words = lowercase_words
        # Sentence-initial tokens get the casing classes after the plain ones: a sequence's
        # first token, and every ``SentenceStart`` in a piece of joined sentences.
        self.start_offset = len(CASINGS) if mark_starts else 0
        self.word_keys = word_keys
        self.glove_index = glove_index or {}
        self.glove_missing = len(self.glove_index)
        self.sentence_casing, self.truecase = sentence_casing, truecase
        self.truecase_unknown_only = truecase_unknown_only
        self.first_word_style = first_word_style
        self.styles = style_count(first_word_style)  # a first token's style id is shifted by it
        # Case-folded key -> the vocabulary's most frequent form of it (vocabularies list the
        # most frequent items first): the word a caseless sentence's token most likely is.
        self.truecase_ids: dict[str, int] = {}
        if truecase:
            for index in range(len(words) - 1, 1, -1):
                self.truecase_ids[words.itos[index].lower()] = index
        self.case_prior = case_prior
        self.token_features = lru_cache(maxsize=cache_size)(self._token_features)

    def token_ids(self, token: str) -> tuple[int, int, int, tuple[int, ...]]:
        """(word id, GloVe row, casing id, char ids) of one token."""
        return self.token_features(token)[:4]

    def _token_features(self, token: str) -> TokenFeatures:
        """All the ids of one token; a batch reads them from the cache for repeated words."""
        char_ids = tuple(self.chars.id(c) for c in token[: self.max_word_length])
        key = token.lower()
        glove_row = self.glove_index.get(key, self.glove_missing)
        word = self.words.id(word_key(token, self.lowercase_words))
        caseless_word = word
        if self.truecase and not (self.truecase_unknown_only and word != 1):  # keep known forms
            caseless_word = self.truecase_ids.get(word_key(token, True), 1)
        prior = (self.case_prior or {}).get(key, CasePrior.UNSEEN)
        return TokenFeatures(
            word, glove_row, casing(token), char_ids, token_flags(token), caseless_word, prior, key
        )

    def _segments(
        self, sequence: Sequence[str], features: Sequence[TokenFeatures]
    ) -> list[tuple[int, int, SentenceCase]]:
        """The sentences of a sequence as (begin, end, style): they begin at its first token and
        at every ``SentenceStart`` (a piece of joined sentences)."""
        starts = [i for i, token in enumerate(sequence) if token.__class__ is SentenceStart and i]
        bounds = [0, *starts, len(sequence)]
        return [
            (
                begin,
                end,
                sentence_case([f.flags for f in features[begin:end]], self.first_word_style),
            )
            for begin, end in zip(bounds, bounds[1:], strict=False)
        ]

    def batch(self, sentences: Sequence[Sequence[str]]) -> Batch:
        """Pad a list of non-empty token lists into one ``Batch`` of torch tensors."""
        return to_tensors(self.arrays(sentences))

    def arrays(self, sentences: Sequence[Sequence[str]]) -> Arrays:
        """Pad a list of non-empty token lists into one batch of numpy arrays.

        Per sentence, not per token, where it can: this runs for every batch the model reads."""
        lengths = [len(s) for s in sentences]
        if not sentences or min(lengths) == 0:
            raise ValueError("a batch needs at least one sentence and no empty sentence")
        b, t = len(sentences), max(lengths)
        mask = np.arange(t) < np.array(lengths)[:, None]  # [B, T]
        lookup, truecase = self.token_features, self.truecase
        features: list[TokenFeatures] = []  # per real token, in mask (row-major) order
        words: list[int] = []  # vocabulary ids, truecased in caseless sentences
        styles: list[int] = []  # SentenceCase id, shifted on a sentence's first token
        starts: list[int] = []  # where sentences begin, in ``features``
        for sentence in sentences:
            sentence_features = [lookup(token) for token in sentence]
            offset = len(features)
            features += sentence_features
            if not (self.sentence_casing or truecase or self.start_offset):
                continue
            for begin, end, case in self._segments(sentence, sentence_features):
                part = sentence_features[begin:end]
                starts.append(offset + begin)
                styles += [int(case) + self.styles] + [int(case)] * (end - begin - 1)
                if truecase:
                    caseless = case.is_caseless
                    words += [f.caseless_word if caseless else f.word for f in part]
        if not truecase:
            words = [f.word for f in features]
        cases = [f.casing for f in features]
        for start in starts if self.start_offset else ():
            cases[start] += self.start_offset
        tokens = [token for sentence in sentences for token in sentence]
        distinct = dict(zip(tokens, features, strict=True))  # chars run once per distinct token
        rows = {token: row for row, token in enumerate(distinct)}
        token_rows = [rows[token] for token in tokens]
        ids = np.zeros((4, b, t), dtype=np.int64)  # word, GloVe row, casing, distinct-token row
        ids[1] = self.glove_missing
        ids[:, mask] = np.array([words, [f.glove for f in features], cases, token_rows])
        chars = np.zeros((len(distinct), self.max_word_length), dtype=np.int64)
        for row, token_features in enumerate(distinct.values()):
            chars[row, : len(token_features.chars)] = token_features.chars
        return Arrays(
            ids[0],
            ids[1],
            ids[2],
            chars,
            ids[3],
            mask,
            _word_keys(features, mask) if self.word_keys else None,
            _scatter(styles, mask) if self.sentence_casing else None,
            _scatter([f.prior for f in features], mask) if self.case_prior is not None else None,
        )


def _word_keys(features: Sequence[TokenFeatures], mask: np.ndarray) -> np.ndarray:
    """[B, T] one id per case-folded word form of the batch (-1 on padding)."""
    keys: dict[str, int] = {}
    ids = np.full(mask.shape, -1, dtype=np.int64)
    ids[mask] = [keys.setdefault(f.key, len(keys)) for f in features]
    return ids


def _scatter(values: list[int], mask: np.ndarray) -> np.ndarray:
    """[B, T] the per-real-token ``values`` in mask order, 0 on padding."""
    ids = np.zeros(mask.shape, dtype=np.int64)
    ids[mask] = values
    return ids
