"""The one inference path: prepare -> run -> assemble.

* prepare: raw text is tokenised (sentences, tokens with offsets) or pre-tokenised input is
  checked and given offsets (``tokenize_text``, ``from_tokens``: model-independent), then cut
  into the pieces one model reads (``prepare``: document context, windows).
* run: batches of pieces through the network (``Tagger.run``); a service may coalesce the
  pieces of many requests into one such call.
* assemble: pieces' tags back to sentences (``Prepared.sentence_tags``), tags of several models
  merged per sentence (``merge``), then documents with entities and offsets (``assemble``).

``Tagger.tag``/``tag_many``/``tag_tokens``/``predict``, ``tagger tag``, ``tagger evaluate`` and
the REST service all go through these functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tagger.errors import UsageError
from tagger.pieces import Layout, lay_out
from tagger.spans import ENTITY_TASK, entities
from tagger.tokenize import tokenize
from tagger.types import Document, Entity, TaggedSentence, TaskTags, Token


@dataclass(frozen=True, slots=True)
class TokenizedSentence:
    """A sentence's tokens and its character span (for an empty sentence, where it sits)."""

    tokens: list[Token]
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class TokenizedDocument:
    """A document between tokenisation and tagging: its text and sentences."""

    text: str
    sentences: list[TokenizedSentence]

    def words(self) -> list[list[str]]:
        return [[token.text for token in sentence.tokens] for sentence in self.sentences]


def tokenize_text(text: str) -> TokenizedDocument:
    """Split raw text into sentences and tokens with character offsets."""
    return TokenizedDocument(
        text, [TokenizedSentence(s, s[0].start, s[-1].end) for s in tokenize(text)]
    )


def from_tokens(sentences: Sequence[Sequence[str]]) -> TokenizedDocument:
    """A pre-tokenised document: the text is every token joined to the next by one space, and
    an empty sentence sits where the previous sentence ended."""
    check_tokens(sentences)
    words: list[str] = []
    out: list[TokenizedSentence] = []
    offset = 0
    for sentence in sentences:
        row = []
        for word in sentence:
            start = offset + (1 if words else 0)
            row.append(Token(word, start, start + len(word)))
            words.append(word)
            offset = start + len(word)
        out.append(TokenizedSentence(row, row[0].start if row else offset, offset))
    return TokenizedDocument(" ".join(words), out)


def check_tokens(sentences: object) -> None:
    """Raise a ``ValueError`` unless ``sentences`` is a list of sentences, each a list of
    non-empty token strings (a bare string is a common mistake for a list of tokens)."""
    if isinstance(sentences, str) or not isinstance(sentences, Sequence):
        raise UsageError(f"expected a list of sentences, got {type(sentences).__name__}")
    for i, sentence in enumerate(sentences):
        if isinstance(sentence, str) or not isinstance(sentence, Sequence):
            raise UsageError(
                f"sentence {i} is a {type(sentence).__name__}, not a list of token strings"
                + (" (pass [tokens], not tokens)" if isinstance(sentence, str) else "")
            )
        for j, token in enumerate(sentence):
            if not isinstance(token, str):
                raise UsageError(f"token {j} of sentence {i} is a {type(token).__name__}")
            if not token:
                raise UsageError(f"token {j} of sentence {i} is empty")


@dataclass(frozen=True, slots=True)
class Prepared:
    """Documents cut into the pieces one model reads."""

    documents: list[TokenizedDocument]
    layout: Layout

    @property
    def pieces(self) -> list[list[str]]:
        return self.layout.pieces

    @property
    def sentences(self) -> int:
        """Non-empty sentences (what a batch-size limit counts)."""
        return sum(1 for segments in self.layout.segments if segments)

    def sentence_tags(
        self, piece_tags: Sequence[dict[str, TaskTags]], tasks: Sequence[str]
    ) -> list[dict[str, TaskTags]]:
        """Tags of every sentence of every document, in order (see ``Layout.sentence_tags``)."""
        return self.layout.sentence_tags(piece_tags, tasks)


def prepare(documents: Sequence[TokenizedDocument], context_tokens: int = 0) -> Prepared:
    """The pieces of ``documents`` for a model reading ``context_tokens`` tokens of a document
    together (0: every sentence alone); sentences of different documents never share a piece."""
    words = [w for document in documents for w in document.words()]
    doc_ids = [i for i, document in enumerate(documents) for _ in document.sentences]
    return Prepared(list(documents), lay_out(words, doc_ids, context_tokens))


def merge(per_model: Sequence[Sequence[dict[str, TaskTags]]]) -> list[dict[str, TaskTags]]:
    """Per sentence, the tags of several models side by side (in the models' order)."""
    if len({len(tags) for tags in per_model}) > 1:
        raise ValueError("every model must tag the same sentences")
    return [
        {task: tags for model_tags in row for task, tags in model_tags.items()}
        for row in zip(*per_model, strict=True)
    ]


def assemble(
    documents: Sequence[TokenizedDocument], tags: Sequence[dict[str, TaskTags]]
) -> list[Document]:
    """Tagged documents from their sentences' tags (flat, in document order); entities come
    from the ``ner`` task when it is among the tags."""
    expected = sum(len(document.sentences) for document in documents)
    if len(tags) != expected:
        raise ValueError(f"{len(tags)} tag results for {expected} sentences")
    rows = iter(tags)
    out = []
    for document in documents:
        tagged = [
            TaggedSentence(sentence.tokens, next(rows), sentence.start, sentence.end)
            for sentence in document.sentences
        ]
        found = [
            entity
            for sentence in tagged
            if ENTITY_TASK in sentence.tags
            for entity in entities(document.text, sentence.tokens, sentence.tags[ENTITY_TASK])
        ]
        out.append(Document(document.text, tagged, found))
    return out


def text_segments(text: str, max_chars: int) -> list[tuple[int, str]]:
    """A long text cut into consecutive ``(offset, segment)`` of at most ``max_chars``
    characters, each ending at a line break if one is in its second half, else after a
    sentence end or a space, so that no token is cut (unless one is longer than that)."""
    if max_chars < 1:
        raise UsageError(f"max_chars must be at least 1, got {max_chars}")
    out, start = [], 0
    while len(text) - start > max_chars:
        window = text[start : start + max_chars]
        half = max_chars // 2
        cut = window.rfind("\n", half) + 1
        for boundary in (". ", "? ", "! ", " "):
            if cut:
                break
            found = window.rfind(boundary, half)
            cut = found + len(boundary) if found >= 0 else 0
        cut = cut or max_chars
        out.append((start, window[:cut]))
        start += cut
    out.append((start, text[start:]))
    return out


def shifted(document: Document, offset: int) -> tuple[list[TaggedSentence], list[Entity]]:
    """A segment's sentences and entities with offsets into the whole text (segment + offset)."""
    sentences = [
        TaggedSentence(
            [Token(t.text, t.start + offset, t.end + offset) for t in s.tokens],
            s.tags,
            s.start + offset,
            s.end + offset,
        )
        for s in document.sentences
    ]
    entities = [
        Entity(e.text, e.label, e.start + offset, e.end + offset, e.score)
        for e in document.entities
    ]
    return sentences, entities
