"""A bidirectional RNN-CRF sequence tagger: named entities, part-of-speech and chunk tags."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tagger.types import Document, Entity, TaggedSentence, TaskTags, Token

if TYPE_CHECKING:
    from tagger.predict import Tagger

__all__ = ["Document", "Entity", "TaggedSentence", "Tagger", "TaskTags", "Token"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """``Tagger`` is imported on first use: it brings torch, which code that only needs the
    data types or model paths (the service's supervisor process, ``tagger --help``) can skip."""
    if name == "Tagger":
        from tagger.predict import Tagger

        return Tagger
    raise AttributeError(f"module 'tagger' has no attribute {name!r}")
