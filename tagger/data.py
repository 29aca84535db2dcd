"""Corpus readers: whitespace-column files (CoNLL-2003 and the like), CoNLL-U, Hugging Face."""

from __future__ import annotations

import codecs
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tagger.errors import TaggerError, UsageError

CONLL2003_COLUMNS = ("token", "pos", "chunk", "ner")
CONLLU_TASKS = {"upos": 3, "xpos": 4}
DOCSTART = "-DOCSTART-"


class DataFormatError(TaggerError, ValueError):
    """Bad input data, with the file and line where it was found."""

    def __init__(self, path: str | Path, line: int | None, message: str) -> None:
        self.path, self.line, self.message = str(path), line, message
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")


@dataclass(slots=True)
class Sentence:
    """Tokens of one sentence, gold tags per task, and the source line of each token."""

    tokens: list[str]
    tags: dict[str, list[str]] = field(default_factory=dict)
    lines: list[int] = field(default_factory=list)
    doc_start: bool = False


def parse_columns(columns: str | Sequence[str]) -> tuple[str, ...]:
    """Accept ``"token,pos,chunk,ner"`` or a sequence; ``-`` or ``_`` marks an ignored column."""
    names = tuple(c.strip() for c in (columns.split(",") if isinstance(columns, str) else columns))
    if "token" not in names:
        raise UsageError(f"columns {names} must include 'token'")
    task_names = [n for n in names if n not in {"token", "-", "_"}]
    if len(set(task_names)) != len(task_names):
        raise UsageError(f"columns {names} name a task twice")
    return names


def _open_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, line)`` of a UTF-8 text file, with clear errors."""
    if not path.is_file():
        raise DataFormatError(path, None, "no such file")
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1 and raw.startswith(codecs.BOM_UTF8):  # a byte-order mark: not text
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                yield number, raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as error:
                raise DataFormatError(path, number, f"not valid UTF-8 ({error.reason})") from None


def read_columns(
    path: str | Path, columns: str | Sequence[str] = CONLL2003_COLUMNS
) -> list[Sentence]:
    """Read a whitespace-column file: one token a line, blank lines between sentences."""
    path, names = Path(path), parse_columns(columns)
    tasks = [(i, n) for i, n in enumerate(names) if n not in {"token", "-", "_"}]
    token_index = names.index("token")
    sentences: list[Sentence] = []
    current = Sentence([], {name: [] for _, name in tasks})
    doc_start = False

    def flush() -> None:
        nonlocal current, doc_start
        if current.tokens:
            current.doc_start = doc_start
            sentences.append(current)
            doc_start = False
        current = Sentence([], {name: [] for _, name in tasks})

    for number, line in _open_lines(path):
        fields = line.split()
        if not fields:
            flush()
            continue
        if fields[0] == DOCSTART:
            flush()
            doc_start = True
            continue
        if len(fields) != len(names):
            raise DataFormatError(
                path,
                number,
                f"expected {len(names)} columns ({', '.join(names)}), got {len(fields)}",
            )
        current.tokens.append(fields[token_index])
        current.lines.append(number)
        for index, name in tasks:
            current.tags[name].append(fields[index])
    flush()
    return sentences


def read_conllu(path: str | Path, tasks: Sequence[str] = ("upos", "xpos")) -> list[Sentence]:
    """Read CoNLL-U: syntactic words only (multi-word-token ranges and empty nodes skipped)."""
    path = Path(path)
    unknown = [t for t in tasks if t not in CONLLU_TASKS]
    if unknown:
        raise UsageError(f"unknown CoNLL-U task(s) {unknown}; known: {sorted(CONLLU_TASKS)}")
    sentences: list[Sentence] = []
    current = Sentence([], {t: [] for t in tasks})
    for number, line in _open_lines(path):
        if not line.strip():
            if current.tokens:
                sentences.append(current)
            current = Sentence([], {t: [] for t in tasks})
            continue
        if line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 10:
            raise DataFormatError(
                path, number, f"expected 10 tab-separated fields, got {len(fields)}"
            )
        word_id = fields[0]
        if "-" in word_id or "." in word_id:
            continue  # multi-word token range or empty node: not a syntactic word to tag
        if not word_id.isdigit():
            raise DataFormatError(path, number, f"bad word id {word_id!r}")
        current.tokens.append(fields[1])
        current.lines.append(number)
        for task in tasks:
            current.tags[task].append(fields[CONLLU_TASKS[task]])
    if current.tokens:
        sentences.append(current)
    return sentences


def read_corpus(
    path: str | Path, columns: str | Sequence[str] | None = None, conllu_tasks: Sequence[str] = ()
) -> list[Sentence]:
    """Read a corpus file by path; CoNLL-U when the suffix is ``.conllu``, else column format."""
    path = Path(path)
    if path.suffix == ".conllu":
        return read_conllu(path, conllu_tasks or tuple(CONLLU_TASKS))
    return read_columns(path, columns or CONLL2003_COLUMNS)


def read_hf(
    name: str,
    split: str,
    token_column: str = "tokens",
    tag_columns: dict[str, str] | None = None,
    **load_kwargs: Any,
) -> list[Sentence]:
    """Load a split through Hugging Face ``datasets`` (a hub name, or ``json``/``csv`` + files).

    Integer tag columns are mapped to label names through the dataset's ``ClassLabel`` features.
    """
    import datasets  # optional dependency: imported only on this path

    dataset = datasets.load_dataset(name, split=split, **load_kwargs)
    tag_columns = tag_columns or {"ner": "ner_tags"}
    missing = [c for c in [token_column, *tag_columns.values()] if c not in dataset.column_names]
    if missing:
        raise DataFormatError(
            name, None, f"missing column(s) {missing}; has {dataset.column_names}"
        )
    names = {task: _label_names(dataset.features[column]) for task, column in tag_columns.items()}
    sentences = []
    for row in dataset:
        tags = {
            task: [_label(names[task], v) for v in row[column]]
            for task, column in tag_columns.items()
        }
        if row[token_column]:
            sentences.append(Sentence(list(row[token_column]), tags))
    return sentences


def _label_names(feature: Any) -> list[str] | None:
    """The label names of a ``Sequence(ClassLabel)`` feature, or None for string tags."""
    inner = getattr(feature, "feature", None)
    return list(inner.names) if inner is not None and hasattr(inner, "names") else None


def _label(names: list[str] | None, value: Any) -> str:
    """A tag value as a label name (integer ids through the ClassLabel names)."""
    return names[value] if names else str(value)
