"""Vocabularies (string <-> id) and the per-token features the encoder reads."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

PAD, UNK = "<pad>", "<unk>"
_DIGITS = re.compile(r"\d")

# Casing classes (Chiu & Nichols 2016 style): GloVe is lowercased, so case must come from here.
CASINGS = ("<pad>", "lower", "upper", "title", "numeric", "mainly_numeric", "has_digit", "other")


class Vocabulary:
    """An ordered set of strings with ids; index 0 is padding and 1 is the unknown item."""

    def __init__(self, items: Iterable[str] = (), specials: Sequence[str] = (PAD, UNK)) -> None:
        self.itos: list[str] = list(specials)
        self.stoi: dict[str, int] = {s: i for i, s in enumerate(self.itos)}
        for item in items:
            self.add(item)

    def add(self, item: str) -> int:
        """Add ``item`` if new; return its id."""
        if item not in self.stoi:
            self.stoi[item] = len(self.itos)
            self.itos.append(item)
        return self.stoi[item]

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, item: str) -> bool:
        return item in self.stoi

    def id(self, item: str) -> int:
        """The id of ``item``, or the unknown id (1) when absent."""
        return self.stoi.get(item, 1)

    @classmethod
    def from_counts(cls, counts: Counter[str], min_count: int = 1) -> Vocabulary:
        """Items seen at least ``min_count`` times, most frequent first (ties alphabetical)."""
        kept = sorted((c for c in counts.items() if c[1] >= min_count), key=lambda c: (-c[1], c[0]))
        return cls(item for item, _ in kept)


class LabelSet:
    """The labels of one task (no padding or unknown entries): label <-> id."""

    def __init__(self, labels: Iterable[str]) -> None:
        self.itos: list[str] = list(dict.fromkeys(labels))
        self.stoi = {label: i for i, label in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)


def word_key(token: str, lowercase: bool = True) -> str:
    """Key of a token in the trainable word vocabulary: digits folded to 0, maybe lowercased."""
    return _DIGITS.sub("0", token.lower() if lowercase else token)


def casing(token: str) -> int:
    """The casing class id of a token (an index into ``CASINGS``)."""
    digits = sum(c.isdigit() for c in token)
    if token.isdigit():
        return 4
    if digits / max(len(token), 1) > 0.5:
        return 5
    if token.islower():
        return 1
    if token.isupper():
        return 2
    if token[:1].isupper():
        return 3
    if digits:
        return 6
    return 7
