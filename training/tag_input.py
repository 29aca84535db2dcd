"""The input side of `tagger tag`: documents read lazily from plain-text or JSONL files, with
the line number and byte offset of each, and the errors that name ``FILE:LINE``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tagger.errors import TaggerError


class TagFileError(TaggerError):
    """A user-facing problem (input, output or model), reported as ``error: WHERE: MESSAGE``."""

    def __init__(self, where: str | None, message: str) -> None:
        super().__init__(f"{where}: {message}" if where else message)


@dataclass(frozen=True, slots=True)
class Record:
    """One input document: its line number, id, text and the input bytes consumed so far."""

    line: int
    doc_id: str | int
    text: str
    offset: int


OnError = Callable[[TagFileError], None]  # reports a bad line that is then skipped


def iter_lines(path: Path, on_error: OnError | None = None) -> Iterator[tuple[int, str, int]]:
    """Yield (line number, text without line break, byte offset after the line), lazily; a line
    that is not UTF-8 raises, or with ``on_error`` is reported there and skipped."""
    offset = 0
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            offset += len(raw)
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                error = TagFileError(f"{path}:{number}", f"not valid UTF-8 (byte {e.start + 1})")
                if on_error is None:
                    raise error from None
                on_error(error)
                continue
            if number == 1:
                line = line.removeprefix("\ufeff")
            yield number, line.rstrip("\r\n"), offset


def is_jsonl(path: Path) -> bool:
    """True for a ``.jsonl`` file or one whose first non-empty line starts with ``{``."""
    if path.suffix.lower() == ".jsonl":
        return True
    for _, line, _ in iter_lines(path):
        if line.strip():
            return line.lstrip().startswith("{")
    return False


_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}


def _json_type(value: Any) -> str:
    """The JSON name of a decoded value's type, for error messages (a Parquet cell's type that
    JSON lacks, such as bytes, by its Python name)."""
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return _JSON_TYPES.get(type(value), type(value).__name__)


def field_problem(text: object, doc_id: object, text_field: str, id_field: str) -> str | None:
    """What is wrong with a document's fields, if anything: its text must be a string and its
    id a string or an integer (the rules of JSONL lines and Parquet rows alike)."""
    if not isinstance(text, str):
        return f"{text_field} must be a string (got {_json_type(text)})"
    if isinstance(doc_id, bool) or not isinstance(doc_id, str | int):
        return f"{id_field} must be a string or an integer (got {_json_type(doc_id)})"
    return None


def parse_json_record(path: Path, number: int, line: str, offset: int) -> Record:
    """One JSONL line -> Record; the object needs a string "text" and may have an "id"."""
    where = f"{path}:{number}"
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        raise TagFileError(where, f"invalid JSON: {e.msg} (column {e.colno})") from None
    if not isinstance(obj, dict):
        raise TagFileError(
            where, f'expected a JSON object with a "text" field, got {_json_type(obj)}'
        )
    if "text" not in obj:
        raise TagFileError(where, '"text" must be a string (no such field)')
    text, doc_id = obj["text"], obj.get("id", number)
    problem = field_problem(text, doc_id, '"text"', '"id"')
    if problem is not None:
        raise TagFileError(where, problem)
    return Record(number, doc_id, text, offset)


def iter_records(path: Path, jsonl: bool, on_error: OnError | None = None) -> Iterator[Record]:
    """Yield the documents of a plain-text or JSONL file lazily; blank lines are skipped, and
    with ``on_error`` so are bad lines, once reported there."""
    for number, line, offset in iter_lines(path, on_error):
        if not line.strip():
            continue
        if not jsonl:
            yield Record(number, number, line, offset)
            continue
        try:
            record = parse_json_record(path, number, line, offset)
        except TagFileError as error:
            if on_error is None:
                raise
            on_error(error)
            continue
        yield record


def check_input(input_file: Path) -> None:
    """Fail early, with a clear message, on a missing or non-regular input file."""
    if not input_file.exists():
        raise TagFileError(str(input_file), "no such file")
    if not input_file.is_file():
        raise TagFileError(str(input_file), "not a regular file")
