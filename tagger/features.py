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

from tagger.casing import CasePrior, SentenceCase, TokenFlags, sentence_case, token_flags
from tagger.context import SentenceStart
from tagger.vocab import CASINGS, Vocabulary, casing, word_key

STYLES = len(SentenceCase)  # a sentence's first token gets its style id shifted by this

SENTENCE_CASE_CLASSES = 2 * STYLES  # each style, for a sentence's first token or not


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
        self.token_ids = lru_cache(maxsize=cache_size)(self._token_ids)
        self.sentence_casing, self.truecase = sentence_casing, truecase
        self.truecase_unknown_only = truecase_unknown_only
        # Case-folded key -> the vocabulary's most frequent form of it (vocabularies list the
        # most frequent items first): the word a caseless sentence's token most likely is.
        self.truecase_ids: dict[str, int] = {}
        if truecase:
            for index in range(len(words) - 1, 1, -1):
                self.truecase_ids[words.itos[index].lower()] = index
        self.case_prior = case_prior
        self.token_case = lru_cache(maxsize=cache_size)(self._token_case)

    def _token_ids(self, token: str) -> tuple[int, int, int, tuple[int, ...]]:
        """(word id, GloVe row, casing id, char ids) of one token."""
        char_ids = tuple(self.chars.id(c) for c in token[: self.max_word_length])
        glove_row = self.glove_index.get(token.lower(), self.glove_missing)
        word = self.words.id(word_key(token, self.lowercase_words))
        return word, glove_row, casing(token), char_ids

    def _token_case(self, token: str) -> tuple[TokenFlags, int, int]:
        """(casing facts, word id when its sentence is caseless, case prior) of one token."""
        key = word_key(token, True)
        prior = (self.case_prior or {}).get(token.lower(), CasePrior.UNSEEN)
        return token_flags(token), self.truecase_ids.get(key, 1), prior

    def _sentence_cases(self, sequence: Sequence[str]) -> tuple[list[int], list[bool]]:
        """Per token: the style id of its sentence (``SentenceCase``, plus ``len(SentenceCase)``
        on a sentence's first token), and whether that style is caseless. A sequence's
        sentences begin at its first token and at every ``SentenceStart``."""
        starts = [
            i for i, token in enumerate(sequence) if i == 0 or isinstance(token, SentenceStart)
        ]
        styles: list[int] = []
        caseless: list[bool] = []
        for begin, end in zip(starts, [*starts[1:], len(sequence)], strict=True):
            case = sentence_case([self.token_case(t)[0] for t in sequence[begin:end]])
            styles += [int(case) + STYLES] + [int(case)] * (end - begin - 1)
            caseless += [case.is_caseless] * (end - begin)
        return styles, caseless

    def batch(self, sentences: Sequence[Sequence[str]]) -> Batch:
        """Pad a list of non-empty token lists into one ``Batch`` of torch tensors."""
        return to_tensors(self.arrays(sentences))

    def arrays(self, sentences: Sequence[Sequence[str]]) -> Arrays:
        """Pad a list of non-empty token lists into one batch of numpy arrays."""
        lengths = [len(s) for s in sentences]
        if not sentences or min(lengths) == 0:
            raise ValueError("a batch needs at least one sentence and no empty sentence")
        b, t = len(sentences), max(lengths)
        mask = np.arange(t) < np.array(lengths)[:, None]  # [B, T]
        rows: dict[str, int] = {}  # distinct token -> its row in ``chars`` (chars run once each)
        distinct_chars: list[tuple[int, ...]] = []
        flat: list[tuple[int, int, int, int]] = []  # per real token, in mask (row-major) order
        styles: list[int] = []  # per real token: SentenceCase id, shifted for a first token
        priors: list[int] = []  # per real token: CasePrior id
        track_case = self.sentence_casing or self.truecase
        caseless: list[bool] = []  # per token of the sentence: its sentence is caseless
        for sentence in sentences:
            if track_case:
                sentence_styles, caseless = self._sentence_cases(sentence)
                styles += sentence_styles
            for position, token in enumerate(sentence):
                word, glove, case, char_ids = self.token_ids(token)
                if self.case_prior is not None:
                    priors.append(self.token_case(token)[2])
                if (
                    self.truecase
                    and caseless[position]
                    and not (self.truecase_unknown_only and word != 1)  # keep a form it knows
                ):
                    word = self.token_case(token)[1]
                if self.start_offset and (position == 0 or isinstance(token, SentenceStart)):
                    case += self.start_offset
                row = rows.get(token)
                if row is None:
                    row = rows[token] = len(distinct_chars)
                    distinct_chars.append(char_ids)
                flat.append((word, glove, case, row))
        ids = np.zeros((4, b, t), dtype=np.int64)  # word, GloVe row, casing, distinct-token row
        ids[1] = self.glove_missing
        ids[:, mask] = np.array(flat, dtype=np.int64).T  # one scatter instead of one per token
        chars = np.zeros((len(distinct_chars), self.max_word_length), dtype=np.int64)
        for row, char_ids in enumerate(distinct_chars):
            chars[row, : len(char_ids)] = char_ids
        return Arrays(
            ids[0],
            ids[1],
            ids[2],
            chars,
            ids[3],
            mask,
            _word_keys(sentences, mask) if self.word_keys else None,
            _scatter(styles, mask) if self.sentence_casing else None,
            _scatter(priors, mask) if self.case_prior is not None else None,
        )


def _word_keys(sentences: Sequence[Sequence[str]], mask: np.ndarray) -> np.ndarray:
    """[B, T] one id per case-folded word form of the batch (-1 on padding)."""
    keys: dict[str, int] = {}
    flat = [keys.setdefault(token.lower(), len(keys)) for s in sentences for token in s]
    ids = np.full(mask.shape, -1, dtype=np.int64)
    ids[mask] = flat
    return ids


def _scatter(values: list[int], mask: np.ndarray) -> np.ndarray:
    """[B, T] the per-real-token ``values`` in mask order, 0 on padding."""
    ids = np.zeros(mask.shape, dtype=np.int64)
    ids[mask] = values
    return ids
