"""Sentence casing: how a whole sentence is written (as usual, lower, UPPER, Title), and
re-casing sentences to another style, for training-time augmentation and robustness tests.

Users send chat, queries, speech and OCR output and headlines, where capital letters are
missing or everywhere. A tagger that sees the style of each sentence can learn when its casing
carries information about names and when it does not; one trained on re-cased copies of its
sentences learns to decide by context instead.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from enum import IntEnum


class SentenceCase(IntEnum):
    """The casing style of a sentence (0 is padding, as in every id table the network reads)."""

    PAD = 0
    NO_LETTERS = 1  # digits and punctuation only: nothing to learn from
    CASED = 2  # ordinary text: capitals carry information
    LOWER = 3  # no capital letter anywhere
    UPPER = 4  # no lowercase letter anywhere
    TITLE = 5  # every word of four letters or more is capitalised (headlines)
    FIRST_ONLY = 6  # a capital on the first word only (and the pronoun I): phones, dictation

    @property
    def is_caseless(self) -> bool:
        """True when capital letters say nothing about which words are names."""
        return self >= SentenceCase.LOWER


def style_count(first_word_style: bool) -> int:
    """How many style ids (padding included) a model reads: models trained before
    ``FIRST_ONLY`` existed (``first_word_style`` off) never see it and have one id fewer."""
    return len(SentenceCase) - (0 if first_word_style else 1)


RECASINGS = ("lower", "upper", "title", "first")
# Short function words that headline ("title") style keeps lowercase inside a sentence.
MINOR_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "as",
        "at",
        "but",
        "by",
        "for",
        "from",
        "in",
        "into",
        "nor",
        "of",
        "on",
        "or",
        "over",
        "per",
        "the",
        "to",
        "via",
        "vs",
        "with",
    ]
)
_TITLE_MIN_LETTERS = 4  # words shorter than this may stay lowercase in a headline


# What a token contributes to its sentence's style, as bits of one int (``token_flags``): plain
# ints, because the featurizer combines them for every sentence it reads.
HAS_UPPER = 1
HAS_LOWER = 2
LONG_CAPITALISED = 4  # a word of four letters or more starting with a capital
LONG_UNCAPITALISED = 8  # a word of four letters or more starting with a lowercase letter
PRONOUN_I = 16  # "I", capitalised wherever it stands: no sign that the sentence is cased


def token_flags(token: str) -> int:
    """The casing facts of one token that ``sentence_case`` needs, as bits."""
    long_word = len(token) >= _TITLE_MIN_LETTERS and token[0].isalpha()
    flags = HAS_UPPER if any(c.isupper() for c in token) else 0
    flags |= HAS_LOWER if any(c.islower() for c in token) else 0
    if long_word:
        flags |= LONG_CAPITALISED if token[0].isupper() else 0
        flags |= LONG_UNCAPITALISED if token[0].islower() else 0
    return flags | (PRONOUN_I if token == "I" else 0)


def sentence_case(flags: Sequence[int], first_word_style: bool = False) -> SentenceCase:
    """The style of a sentence from its tokens' ``token_flags``. With ``first_word_style``
    the pronoun I counts for nothing, and a sentence whose only capitals are on its first
    word is ``FIRST_ONLY`` (else ``CASED``, as for models trained without that style).

    One pass over the flags: the featurizer calls this for every sentence it reads."""
    ignored = PRONOUN_I if first_word_style else 0
    first = rest = 0  # the first token with letters; every later one together
    for bits in flags:
        if bits & ignored:
            continue
        if first:
            rest |= bits
        else:
            first = bits  # tokens without letters have no flags at all
    seen = first | rest
    if not seen & (HAS_UPPER | HAS_LOWER):
        return SentenceCase.NO_LETTERS
    if not seen & HAS_UPPER:
        return SentenceCase.LOWER
    if not seen & HAS_LOWER:
        return SentenceCase.UPPER
    if first_word_style and first & HAS_UPPER and not rest & HAS_UPPER and rest & HAS_LOWER:
        return SentenceCase.FIRST_ONLY
    if not seen & LONG_UNCAPITALISED and _long_capitalised(flags) >= 2:
        return SentenceCase.TITLE
    return SentenceCase.CASED


def _long_capitalised(flags: Sequence[int]) -> int:
    """How many tokens are capitalised words of four letters or more."""
    return sum(1 for bits in flags if bits & LONG_CAPITALISED)


def case_of(tokens: Sequence[str], first_word_style: bool = False) -> SentenceCase:
    """The style of one sentence given as tokens."""
    return sentence_case([token_flags(t) for t in tokens], first_word_style)


def capitalised(token: str) -> str:
    """The token with its first letter a capital and the rest as it was (``iPhone``: ``IPhone``)."""
    return token[:1].upper() + token[1:]


def recase(tokens: Sequence[str], style: str) -> list[str]:
    """The tokens written in another style: ``lower``, ``upper``, ``title`` (headline case:
    every word capitalised but short function words inside the sentence; acronyms kept) or
    ``first`` (lowercase but the first word capitalised and the pronoun I, as phones and
    speech recognisers write)."""
    if style == "lower":
        return [t.lower() for t in tokens]
    if style == "first":
        return _first_word_capitalised([t.lower() for t in tokens])
    if style == "upper":
        return [t.upper() for t in tokens]
    if style == "title":
        return [
            t if i > 0 and t.lower() in MINOR_WORDS else capitalised(t)
            for i, t in enumerate(tokens)
        ]
    raise ValueError(f"unknown casing style {style!r}; expected one of {RECASINGS}")


def _first_word_capitalised(tokens: list[str]) -> list[str]:
    """Lowercase tokens with the first that has a letter capitalised, and every "i" as "I"."""
    first = next((i for i, t in enumerate(tokens) if any(c.isalpha() for c in t)), None)
    return [capitalised(t) if i == first else "I" if t == "i" else t for i, t in enumerate(tokens)]


def recase_mixed(
    sentences: Sequence[Sequence[str]], rng: random.Random, styles: Sequence[str]
) -> list[list[str]]:
    """Each sentence kept as written or re-cased, one of ``styles`` (``as_written`` keeps it)
    drawn per sentence: the "each sentence at random" variant of a test set."""
    out = []
    for tokens in sentences:
        style = rng.choice(styles)
        out.append(list(tokens) if style == "as_written" else recase(tokens, style))
    return out


class CasePrior(IntEnum):
    """How a word is usually written in ordinary text (0 is padding): what a lowercase or
    UPPERCASE sentence no longer shows, learnt from the training data like a unigram truecaser."""

    PAD = 0
    UNSEEN = 1  # never seen inside an ordinary sentence
    LOWER = 2  # always lowercase
    MOSTLY_LOWER = 3
    MOSTLY_CAPITALISED = 4
    CAPITALISED_RARE = 5  # always capitalised, but seen fewer than RARE times
    CAPITALISED = 6  # always capitalised
    ACRONYM = 7  # mostly all capitals (two letters or more)


RARE = 3


def case_priors(sentences: Iterable[Sequence[str]]) -> dict[str, int]:
    """``CasePrior`` of every case-folded word seen inside ordinary (``CASED``) sentences.

    A sentence's first word is not counted (it is capitalised because of where it is), nor are
    words of lowercase, UPPERCASE or Title sentences (their casing is the sentence's style).
    """
    counts: dict[str, list[int]] = {}  # key -> [lower, capitalised, all capitals]
    for tokens in sentences:
        if case_of(tokens) is not SentenceCase.CASED:
            continue
        for token in tokens[1:]:
            if not any(c.isalpha() for c in token):
                continue
            row = counts.setdefault(token.lower(), [0, 0, 0])
            if token.isupper() and sum(c.isalpha() for c in token) >= 2:
                row[2] += 1
            elif token[0].isupper():
                row[1] += 1
            elif not any(c.isupper() for c in token):
                row[0] += 1
    return {key: int(_prior(*row)) for key, row in counts.items() if sum(row)}


def _prior(lower: int, capitalised: int, capitals: int) -> CasePrior:
    total = lower + capitalised + capitals
    if capitals * 2 > total:
        return CasePrior.ACRONYM
    if lower == total:
        return CasePrior.LOWER
    if lower * 2 >= total:
        return CasePrior.MOSTLY_LOWER
    if lower:
        return CasePrior.MOSTLY_CAPITALISED
    return CasePrior.CAPITALISED if total >= RARE else CasePrior.CAPITALISED_RARE
