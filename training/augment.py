"""Casing augmentation and re-cased copies of a corpus (tags unchanged).

Every epoch, a fraction of the training documents is re-cased as a whole (a lowercase chat, an
UPPERCASE telex) and a fraction of the remaining sentences one by one (a headline inside an
article), so the model learns names from context as well as from capital letters.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from pathlib import Path

from tagger.casing import RECASINGS, recase, recase_mixed
from tagger.data import DOCSTART, Sentence
from training.config import CasingAugmentConfig

# Test-set variants: the text as written, each re-casing, and each sentence at random kept,
# lowercased or uppercased ("mixed").
VARIANTS = ("as_written", *RECASINGS, "mixed")
MIXED_STYLES = ("as_written", "lower", "upper")


def augment_casing(
    sentences: Sequence[Sequence[str]],
    doc_ids: Sequence[int],
    config: CasingAugmentConfig,
    seed: int,
) -> list[list[str]]:
    """The tokens of every sentence for one epoch: kept, or re-cased with its document or alone.

    Deterministic for a seed; the sentences, their lengths and their tags are unchanged.
    """
    if len(sentences) != len(doc_ids):
        raise ValueError(f"{len(sentences)} sentences but {len(doc_ids)} document ids")
    rng = random.Random(f"casing-{seed}")
    styles, weights = list(config.styles), list(config.styles.values())
    document_style: dict[int, str | None] = {}
    out = []
    for tokens, doc in zip(sentences, doc_ids, strict=True):
        if doc not in document_style:
            whole = rng.random() < config.documents
            document_style[doc] = rng.choices(styles, weights)[0] if whole else None
        style = document_style[doc]
        if style is None and rng.random() < config.sentences:
            style = rng.choices(styles, weights)[0]
        out.append(recase(tokens, style) if style else list(tokens))
    return out


def recased_corpus(sentences: Sequence[Sentence], variant: str, seed: int = 0) -> list[Sentence]:
    """A copy of the corpus with its tokens in one of ``VARIANTS`` (``mixed`` seeded)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown casing variant {variant!r}; expected one of {VARIANTS}")
    tokens = [s.tokens for s in sentences]
    if variant == "as_written":
        recased = [list(t) for t in tokens]
    elif variant == "mixed":
        recased = recase_mixed(tokens, random.Random(f"mixed-{seed}"), MIXED_STYLES)
    else:
        recased = [recase(t, variant) for t in tokens]
    return [
        Sentence(new, dict(s.tags), list(s.lines), s.doc_start)
        for s, new in zip(sentences, recased, strict=True)
    ]


def recase_file(source: Path, target: Path, variant: str, seed: int = 0) -> None:
    """Write a copy of a column or CoNLL-U file with its token column re-cased (tags, comments,
    ``-DOCSTART-`` lines and blank lines kept); ``mixed`` draws a style per sentence, seeded."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown casing variant {variant!r}; expected one of {VARIANTS}")
    rng = random.Random(f"mixed-{seed}")
    pattern = _CONLLU_TOKEN if source.suffix == ".conllu" else _COLUMN_TOKEN
    out: list[str] = []
    block: list[str] = []  # the lines of the sentence being read

    def flush() -> None:
        style = rng.choice(MIXED_STYLES) if variant == "mixed" else variant
        matches = [pattern.match(line) for line in block]
        tokens = [m.group(2) for m in matches if m]
        recased = iter(tokens if style == "as_written" else recase(tokens, style))
        out.extend(
            f"{m.group(1)}{next(recased)}{m.group(3)}" if m else line
            for m, line in zip(matches, block, strict=True)
        )
        block.clear()

    for line in source.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith(DOCSTART):
            if block:
                flush()
            out.append(line)
        else:
            block.append(line)
    if block:
        flush()
    target.write_text("\n".join(out) + "\n", encoding="utf-8")


# The token of a line, as (before, token, after); CoNLL-U comment lines do not match.
_COLUMN_TOKEN = re.compile(r"^(\s*)(\S+)(.*)$")
_CONLLU_TOKEN = re.compile(r"^([^#\t][^\t]*\t)([^\t]*)(\t.*)$")
