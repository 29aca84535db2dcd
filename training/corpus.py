"""Load a run's splits, check their tags, and derive vocabularies and task descriptions."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from tagger.config import TaskSpec
from tagger.data import DataFormatError, Sentence, read_corpus, read_hf
from tagger.partial import IN_NAME, UNKNOWN
from tagger.schemes import (
    Scheme,
    TagSequenceError,
    convert,
    detect_scheme,
    is_span_tagging,
    validate,
)
from tagger.vocab import PAD, UNK, Vocabulary, word_key
from training.config import ConfigError, DataConfig
from training.open_names import NAME_TAG, OPEN_TAG

SPLITS = ("train", "valid", "test")


def load_splits(data: DataConfig) -> dict[str, list[Sentence]]:
    """The configured splits (missing ones left out), from files or Hugging Face."""
    if data.hf is not None:
        hf = data.hf
        extra = {"data_files": hf.data_files} if hf.data_files else {}
        return {
            split: read_hf(hf.name, hf_split, hf.token_column, hf.tag_columns, **extra)
            for split, hf_split in hf.splits.items()
            if split in SPLITS
        }
    splits = {}
    for split in SPLITS:
        path = getattr(data, split)
        if path is not None:
            splits[split] = read_corpus(path, data.columns, data.conllu_tasks)
            if not splits[split]:
                raise DataFormatError(path, None, f"no sentences (an empty {split} split)")
    if "train" not in splits:
        raise ConfigError("the config names no training data (data.train or data.hf)")
    return splits


def is_span_task(sentences: Sequence[Sentence], task: str) -> bool:
    """A task whose every tag is O or PREFIX-TYPE with a B/I/E/S prefix (NER, chunks)."""
    return is_span_tagging(tag for sentence in sentences for tag in sentence.tags[task])


_SPAN_TAG = re.compile(r"[BIES]-\S+")


def check_malformed_span_tags(sentences: Sequence[Sentence], task: str, source: str) -> None:
    """A column of span tags (O and B-/I-/E-/S-TYPE) with a tag that is neither: a typo such as
    ``X-LOC`` would otherwise make NER a plain tag task. Names the file and line."""
    tags = {tag for sentence in sentences for tag in sentence.tags[task]}
    if "O" not in tags or not any(_SPAN_TAG.fullmatch(tag) for tag in tags):
        return
    for sentence in sentences:
        for index, tag in enumerate(sentence.tags[task]):
            if tag != "O" and not _SPAN_TAG.fullmatch(tag):
                line = sentence.lines[index] if sentence.lines else None
                message = f"{task}: malformed span tag {tag!r} (expected O or B-/I-/E-/S-TYPE)"
                raise DataFormatError(source, line, message)


def check_span_tags(
    sentences: Sequence[Sentence], task: str, source: str, scheme: Scheme | None = None
) -> Scheme:
    """Validate every sentence in the given (or detected) scheme; errors name file and line."""
    scheme = scheme or detect_scheme([s.tags[task] for s in sentences])
    for sentence in sentences:
        try:
            validate(sentence.tags[task], scheme)
        except TagSequenceError as error:
            line = sentence.lines[error.index] if sentence.lines else None
            raise DataFormatError(source, line, f"{task}: {error}") from None
    return scheme


def build_tasks(splits: dict[str, list[Sentence]], data: DataConfig) -> list[TaskSpec]:
    """One TaskSpec per task: span tasks learn BIOES labels and answer in the file's scheme."""
    train = splits["train"]
    available = list(train[0].tags) if train else []
    tasks = data.tasks or available
    missing = [t for t in tasks if t not in available]
    if missing:
        raise ConfigError(f"task(s) {missing} not in the data; it has {available}")
    specs = []
    for task in tasks:
        tags = [tag for s in train for tag in s.tags[task]]
        check_malformed_span_tags(train, task, str(data.train))
        if is_span_task(train, task):
            scheme = check_span_tags(train, task, str(data.train), data.schemes.get(task))
            specs.append(TaskSpec.span(task, tags, scheme))
        else:
            specs.append(TaskSpec.plain(task, tags))
    return specs


def check_known_labels(sentences: Sequence[Sentence], spec: TaskSpec, source: str) -> None:
    """Raise a DataFormatError at the first gold tag the model cannot produce."""
    known = set(spec.labels)
    for sentence in sentences:
        tags = sentence.tags.get(spec.name)
        if tags is None:
            raise DataFormatError(source, None, f"no '{spec.name}' column in this data")
        internal = (
            convert(tags, spec.output_scheme or Scheme.BIOES, Scheme.BIOES)
            if spec.is_span
            else tags
        )
        for i, tag in enumerate(internal):
            if tag not in known:
                line = sentence.lines[i] if sentence.lines else None
                raise DataFormatError(source, line, f"unknown {spec.name} tag {tags[i]!r}")


def build_vocabularies(
    train: Sequence[Sentence], lowercase_words: bool = False
) -> tuple[Vocabulary, Vocabulary]:
    """Word vocabulary (digits folded) and character vocabulary of the train split."""
    words = Counter(word_key(token, lowercase_words) for s in train for token in s.tokens)
    chars = Counter(c for s in train for token in s.tokens for c in token)
    return Vocabulary.from_counts(words), Vocabulary(
        [c for c, _ in chars.most_common()], (PAD, UNK)
    )


def encode_tags(
    sentences: Sequence[Sentence], specs: Sequence[TaskSpec]
) -> list[dict[str, list[int]]]:
    """Gold label ids per sentence and task, in each task's internal label set."""
    indexes = {spec.name: {label: i for i, label in enumerate(spec.labels)} for spec in specs}
    encoded = []
    for sentence in sentences:
        row = {}
        for spec in specs:
            tags = sentence.tags[spec.name]
            if OPEN_TAG in tags or NAME_TAG in tags:  # partly labelled (training.open_names)
                row[spec.name] = _partial_ids(tags, indexes[spec.name])
                continue
            if spec.is_span:
                tags = convert(tags, spec.output_scheme or Scheme.BIOES, Scheme.BIOES)
            row[spec.name] = [indexes[spec.name][tag] for tag in tags]
        encoded.append(row)
    return encoded


def _partial_ids(tags: Sequence[str], index: dict[str, int]) -> list[int]:
    """Ids of a partly labelled sentence (``tagger.partial``); its other tags must be O, the one
    tag that reads the same in every span scheme."""
    partial = {OPEN_TAG: UNKNOWN, NAME_TAG: IN_NAME, "O": index["O"]}
    if any(tag not in partial for tag in tags):
        raise ValueError(f"a partly labelled sentence may hold only {sorted(partial)}")
    return [partial[tag] for tag in tags]


def data_fingerprints(data: DataConfig) -> list[dict[str, str]]:
    """Path and SHA-256 of each training-data file, recorded in the model."""
    from tagger.modelfile import file_sha256

    files = [getattr(data, split) for split in SPLITS if getattr(data, split) is not None]
    files += [data.open_names.path] if data.open_names is not None else []
    return [{"path": str(Path(f)), "sha256": file_sha256(f)} for f in files]
