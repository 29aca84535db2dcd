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

from tagger.casing import MINOR_WORDS, RECASINGS, capitalised, recase, recase_mixed
from tagger.data import DOCSTART, Sentence
from training.config import CasingAugmentConfig, ConfigError

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
    alone = config.sentence_styles or config.styles
    alone_styles, alone_weights = list(alone), list(alone.values())
    document_style: dict[int, str | None] = {}
    out = []
    for tokens, doc in zip(sentences, doc_ids, strict=True):
        if doc not in document_style:
            whole = rng.random() < config.documents
            document_style[doc] = rng.choices(styles, weights)[0] if whole else None
        style = document_style[doc]
        if style is None and rng.random() < config.sentences:
            style = rng.choices(alone_styles, alone_weights)[0]
        out.append(recase(tokens, style) if style else list(tokens))
    return out


def start_candidates(
    sentence: Sentence, outside: Sequence[str], spans: Sequence[str] = ()
) -> list[int]:
    """Where a sentence may be split so that an ordinary word begins its second part: past the
    first token, a lowercase word of letters (not a short function word) outside every span of
    the ``outside`` tasks (names), and outside or at the beginning of one of the ``spans``
    tasks (chunks), so that both parts keep well-formed spans."""
    return [
        i
        for i in range(1, len(sentence.tokens))
        if _ordinary_word(sentence.tokens[i])
        and all(sentence.tags[task][i] == "O" for task in outside)
        and all(sentence.tags[task][i][:2] in _SPAN_STARTS for task in spans)
    ]


def start_rule(
    config: CasingAugmentConfig, span_tasks: Sequence[str]
) -> tuple[list[str], list[str]]:
    """The span tasks a sentence-start split must be outside of, and those it may begin a span
    of (``starts_outside``, checked against the model's span tasks)."""
    if config.starts_outside is None:
        return list(span_tasks), []
    if unknown := sorted(set(config.starts_outside) - set(span_tasks)):
        raise ConfigError(
            f"augment_casing.starts_outside: {unknown} are not span tasks of this model "
            f"(its span tasks: {list(span_tasks)})"
        )
    outside = list(config.starts_outside)
    return outside, [task for task in span_tasks if task not in outside]


def kept_candidates(
    tokens: Sequence[Sequence[str]], sentences: Sequence[Sentence], candidates: Sequence[list[int]]
) -> list[list[int]]:
    """Each sentence's split candidates where this epoch kept it as written, none elsewhere:
    a re-cased sentence has no sentence-start capital to learn from. (A sentence that its
    re-casing left unchanged, already all lowercase, counts as kept.)"""
    return [
        positions if list(t) == s.tokens else []
        for t, s, positions in zip(tokens, sentences, candidates, strict=True)
    ]


def split_starts(
    tokens: Sequence[Sequence[str]],
    gold: Sequence[dict[str, list[int]]],
    doc_ids: Sequence[int],
    candidates: Sequence[Sequence[int]],
    fraction: float,
    seed: int,
) -> tuple[list[list[str]], list[dict[str, list[int]]], list[int]]:
    """Split a ``fraction`` of the sentences at one of their ``candidates``, drawn at random,
    and capitalise the word that now begins a sentence: in ordinary text every sentence starts
    with a capital, so a capital there must not read as a name. Returns the sentences, their
    gold ids and document ids; deterministic for a seed, each token keeps its tags."""
    if not len(tokens) == len(gold) == len(doc_ids) == len(candidates):
        raise ValueError(
            f"{len(tokens)} sentences, {len(gold)} gold rows, {len(doc_ids)} document ids and "
            f"{len(candidates)} candidate lists: they must be the same length"
        )
    rng = random.Random(f"starts-{seed}")
    out_tokens: list[list[str]] = []
    out_gold: list[dict[str, list[int]]] = []
    out_docs: list[int] = []
    for sentence, row, doc, positions in zip(tokens, gold, doc_ids, candidates, strict=True):
        split = rng.random() < fraction and bool(positions)
        at = rng.choice(positions) if split else len(sentence)
        parts = [(0, at), (at, len(sentence))] if split else [(0, at)]
        for begin, end in parts:
            words = list(sentence[begin:end])
            if begin:
                words[0] = capitalised(words[0])
            out_tokens.append(words)
            out_gold.append({task: ids[begin:end] for task, ids in row.items()})
            out_docs.append(doc)
    return out_tokens, out_gold, out_docs


_SPAN_STARTS = ("O", "B-", "S-")  # a tag outside a span or beginning one (IOB2, BIOES)


def _ordinary_word(token: str) -> bool:
    return token.isalpha() and token.islower() and len(token) > 1 and token not in MINOR_WORDS


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
