"""Treebank sentences as partly labelled training data for name tasks (NER): ordinary words are
tagged ``O``, proper nouns are inside some name of a kind left open (``NAME_TAG``), and the
words that may or may not belong to a name are left open (``OPEN_TAG``).

CoNLL-2003 is news: its sentences mostly begin with a name or a function word, so a model
trained on it alone reads a capitalised common word at a sentence start ("Hope is what keeps us
going.") as a name, and has seen little of the chat, questions and reviews users send. A
treebank of web text has both, and its part-of-speech tags tell ordinary words from names
without saying which kind of name. Proper nouns (UPOS ``PROPN``) are inside a name of any
kind, unless the labelled data writes the word with a capital but outside every name (days,
months, "Mr", "President"); those are open, as are words capitalised inside a sentence (an
adjective such as "American", which CoNLL-2003 tags MISC), the words between two open ones
("Bank of America") and a number after one ("Windows 7"). A capitalised first word is open
only if the same file usually capitalises it inside a sentence ("English"). The CRF learns
from every path through the known tags (``tagger.partial``), so these sentences teach what is
a name in web text, and what is not, without teaching their kinds.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from tagger.casing import SentenceCase, case_of
from tagger.data import DataFormatError, Sentence, read_corpus

OPEN_TAG = "?"  # a gold tag left open: any label may stand there
NAME_TAG = "?name"  # inside a name of some kind: any label but O
PROPER_NOUN = "PROPN"
NUMBER = "NUM"
_GAP = 2  # at most this many words between two open ones are part of the same name


def load_open_names(
    path: Path,
    tasks: Sequence[str],
    not_names: set[str],
    max_sentences: int | None,
    seed: int,
) -> list[Sentence]:
    """The sentences of a CoNLL-U file that have an ordinary word, each a document of its own,
    tagged ``O``, ``NAME_TAG`` or ``OPEN_TAG`` in every task; ``not_names``: lowercase words
    that the labelled data capitalises outside names (``outside_capitalised``). A seeded sample
    of at most ``max_sentences`` (in file order)."""
    if path.suffix != ".conllu":
        raise DataFormatError(path, None, "open-name sentences come from a .conllu file (UPOS)")
    treebank = read_corpus(path, None, ["upos"])
    capitalised = capitalised_words(treebank)
    labelled = [(s, open_words(s, capitalised)) for s in treebank]
    kept = [(s, flags) for s, flags in labelled if _has_ordinary_word(s, flags)]
    if not kept:
        raise DataFormatError(path, None, "no sentence with an ordinary word in this file")
    if max_sentences is not None and len(kept) > max_sentences:
        chosen = sorted(random.Random(f"open-names-{seed}").sample(range(len(kept)), max_sentences))
        kept = [kept[i] for i in chosen]
    out = []
    for sentence, flags in kept:
        tags = _tags(sentence, flags, not_names)
        out.append(
            Sentence(list(sentence.tokens), {t: list(tags) for t in tasks}, sentence.lines, True)
        )
    return out


def _tags(sentence: Sentence, flags: Sequence[bool], not_names: set[str]) -> list[str]:
    """O for ordinary words, ``NAME_TAG`` for proper nouns, ``OPEN_TAG`` for the rest."""
    out = []
    for token, tag, flag in zip(sentence.tokens, sentence.tags["upos"], flags, strict=True):
        if tag == PROPER_NOUN and token.lower() not in not_names:
            out.append(NAME_TAG)
        else:
            out.append(OPEN_TAG if flag else "O")
    return out


def outside_capitalised(sentences: Sequence[Sentence], tasks: Sequence[str]) -> set[str]:
    """Lowercase forms of the words that labelled sentences write with a capital, past their
    first token, outside every name of ``tasks`` more often than inside one ("Monday", "Mr")."""
    outside: Counter[str] = Counter()
    inside: Counter[str] = Counter()
    for sentence in sentences:
        if case_of(sentence.tokens) is not SentenceCase.CASED:
            continue  # a headline's capitals are its style's
        for index in range(1, len(sentence.tokens)):
            token = sentence.tokens[index]
            if token[:1].isupper():
                named = any(sentence.tags[task][index] != "O" for task in tasks)
                (inside if named else outside)[token.lower()] += 1
    return {word for word, count in outside.items() if count > inside[word]}


def name_free(sentences: Sequence[Sentence]) -> list[Sentence]:
    """The sentences (with ``upos`` tags) in which no word may belong to a name."""
    capitalised = capitalised_words(sentences)
    flags = [open_words(s, capitalised) for s in sentences]
    return [
        s for s, f in zip(sentences, flags, strict=True) if _has_ordinary_word(s, f) and not any(f)
    ]


def _has_ordinary_word(sentence: Sentence, flags: Sequence[bool]) -> bool:
    """Whether a word of letters is outside every name."""
    pairs = zip(sentence.tokens, flags, strict=True)
    return any(not flag and any(c.isalpha() for c in token) for token, flag in pairs)


def open_words(sentence: Sentence, capitalised: set[str]) -> list[bool]:
    """Per token of a sentence with ``upos`` tags: whether it may belong to a name."""
    tokens, upos = sentence.tokens, sentence.tags["upos"]
    first = next((i for i, t in enumerate(tokens) if any(c.isalpha() for c in t)), -1)
    flags = []
    for index, (token, tag) in enumerate(zip(tokens, upos, strict=True)):
        capital = token != "I" and any(c.isupper() for c in token)
        if index == first:  # a capital at the start says nothing of the word itself
            capital = capital and token.lower() in capitalised
        flags.append(tag == PROPER_NOUN or capital)
    return _inside_names(flags, upos)


def _inside_names(flags: list[bool], upos: Sequence[str]) -> list[bool]:
    """Open also the few words between two open ones, and a number right after one."""
    out = list(flags)
    opened = [i for i, flag in enumerate(flags) if flag]
    for left, right in zip(opened, opened[1:], strict=False):
        if 1 < right - left <= _GAP + 1:
            out[left + 1 : right] = [True] * (right - left - 1)
    for index in opened:
        if index + 1 < len(out) and upos[index + 1] == NUMBER:
            out[index + 1] = True
    return out


def capitalised_words(sentences: Sequence[Sentence]) -> set[str]:
    """Lowercase forms of the words written with a capital more often than without, past the
    first token of their sentences (where a capital says nothing)."""
    upper: Counter[str] = Counter()
    lower: Counter[str] = Counter()
    for sentence in sentences:
        for token in sentence.tokens[1:]:
            if token[:1].isupper():
                upper[token.lower()] += 1
            elif token[:1].islower():
                lower[token.lower()] += 1
    return {word for word, count in upper.items() if count > lower[word]}
