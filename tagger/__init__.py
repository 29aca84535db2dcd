"""A bidirectional RNN-CRF sequence tagger: named entities, part-of-speech and chunk tags."""

from tagger.predict import Tagger
from tagger.types import Document, Entity, TaggedSentence, TaskTags, Token

__all__ = ["Document", "Entity", "TaggedSentence", "Tagger", "TaskTags", "Token"]
__version__ = "0.1.0"
