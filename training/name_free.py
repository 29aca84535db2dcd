"""Sentences that hold no name, as extra training data for span tasks (every tag ``O``).

CoNLL-2003 is news: its sentences mostly begin with a name or a function word, so a model
trained on it alone reads a capitalised common word at a sentence start ("Hope is what keeps
us going.") as a name. A treebank of web text (reviews, e-mail, questions) has the sentences it
lacks, and its part-of-speech tags tell which hold no name: no proper noun (PROPN), and no
capital letter past the first word (the pronoun I aside), so that an adjective such as
"American", which CoNLL-2003 tags MISC, cannot slip in. A first word that the same file
usually capitalises inside a sentence ("English", "Christmas") rules its sentence out too.
Only sentences that begin with a capital are taken: web text written all in lowercase would
teach that lowercase text holds fewer names, which is no help where names are lowercased
(casing augmentation re-cases a share of these sentences like any other).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from tagger.data import DataFormatError, Sentence, read_corpus

PROPER_NOUN = "PROPN"


def load_name_free(
    path: Path, span_tasks: Sequence[str], max_sentences: int | None, seed: int
) -> list[Sentence]:
    """The name-free sentences of a CoNLL-U file, each a document of its own and tagged ``O``
    in every span task; a seeded sample of at most ``max_sentences`` (in file order)."""
    if path.suffix != ".conllu":
        raise DataFormatError(path, None, "name-free sentences come from a .conllu file (UPOS)")
    treebank = read_corpus(path, None, ["upos"])
    kept = name_free(treebank)
    if not kept:
        raise DataFormatError(path, None, "no sentence without a name in this file")
    if max_sentences is not None and len(kept) > max_sentences:
        chosen = sorted(random.Random(f"name-free-{seed}").sample(range(len(kept)), max_sentences))
        kept = [kept[i] for i in chosen]
    outside = {task: "O" for task in span_tasks}
    return [
        Sentence(
            list(s.tokens), {t: [o] * len(s.tokens) for t, o in outside.items()}, s.lines, True
        )
        for s in kept
    ]


def name_free(sentences: Sequence[Sentence]) -> list[Sentence]:
    """The sentences (with ``upos`` tags) that hold no name, by the rules of the module."""
    usually_capitalised = capitalised_words(sentences)
    return [s for s in sentences if _is_name_free(s, usually_capitalised)]


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


def _is_name_free(sentence: Sentence, usually_capitalised: set[str]) -> bool:
    if PROPER_NOUN in sentence.tags["upos"]:
        return False
    words = [t for t in sentence.tokens if any(c.isalpha() for c in t)]
    if not words or not words[0][0].isupper():  # lowercase text: no sentence start to learn
        return False
    if words[0] != "I" and words[0].lower() in usually_capitalised:
        return False
    return not any(t != "I" and any(c.isupper() for c in t) for t in words[1:])
