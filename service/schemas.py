"""Request and response schemas; responses are built as plain dicts and only documented by these."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator


class OutputFormat(StrEnum):
    """Answer shape of POST /v1/tag."""

    json = "json"
    displacy = "displacy"


class TagRequest(BaseModel):
    """Exactly one of ``text``, ``texts`` or ``tokens``, plus optional task and model selection."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"text": "The Apple is a great company!"},
                {"texts": ["I like eating apple!", "Merkel visited Paris."], "tasks": ["ner"]},
                {"tokens": [["Apple", "is", "a", "company", "."]], "tasks": ["ner", "pos"]},
            ]
        },
    )

    text: str | None = Field(
        default=None,
        description="One document of raw text; it is split into sentences and tokens. Empty or "
        "whitespace-only text gives a document without sentences.",
    )
    texts: list[str] | None = Field(
        default=None,
        description="Several documents, tagged together and answered separately, in order.",
    )
    tokens: list[list[str]] | None = Field(
        default=None,
        description="One pre-tokenised document: a list of sentences, each a list of tokens. "
        "Offsets then refer to the tokens joined by single spaces (sentences too), and the "
        "document's `text` is that joined string.",
    )
    tasks: list[str] | None = Field(
        default=None,
        description="Tasks to run (e.g. `ner`, `pos`, `chunk`, `upos`), from whichever loaded "
        "models have them; default: every task of the selected model, or of the default (first) "
        "model. Unknown tasks give 422.",
    )
    model: str | None = Field(
        default=None,
        description="Name of the model to use (see GET /v1/models); unknown names give 404. "
        "Default: tasks are routed to whichever loaded model has them.",
    )

    @model_validator(mode="after")
    def _exactly_one_input(self) -> TagRequest:
        """A request carries one kind of input."""
        given = [n for n in ("text", "texts", "tokens") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of 'text', 'texts' or 'tokens'"
                + (f" (got {', '.join(given)})" if given else "")
            )
        return self


class TokenOut(BaseModel):
    """A token: its text and character span, one label per requested task, and confidences."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "additionalProperties": {"type": "string"},
            "description": "Also one string field per requested task, e.g. `ner`, `pos`, "
            "`chunk`, `upos`, holding that task's label.",
        },
    )

    text: str
    start: int = Field(description="Character offset in the document text (inclusive).")
    end: int = Field(description="Character offset in the document text (exclusive).")
    confidence: dict[str, float] = Field(
        description="Per task, the marginal probability of the predicted label."
    )


class SentenceOut(BaseModel):
    """A sentence: its character span in the document and its tokens."""

    start: int
    end: int
    tokens: list[TokenOut]


class EntityOut(BaseModel):
    """A named entity span (from the `ner` task): text, label, offsets and mean confidence."""

    text: str
    label: str
    start: int
    end: int
    score: float


class DocumentOut(BaseModel):
    """One tagged document, as also written by `tagger tag`."""

    text: str
    sentences: list[SentenceOut]
    entities: list[EntityOut] = Field(description="Empty unless the `ner` task was run.")


class ModelRef(BaseModel):
    """A model's name and version."""

    name: str
    version: str


class TagResponse(BaseModel):
    """Answer of POST /v1/tag (default format)."""

    model: ModelRef = Field(description="The (first) model used.")
    models: list[ModelRef] | None = Field(
        default=None, description="Every model used, present only when tasks spanned several."
    )
    documents: list[DocumentOut]


class DisplacyEnt(BaseModel):
    """An entity in displaCy's manual format."""

    start: int
    end: int
    label: str


class DisplacyDoc(BaseModel):
    """One document for ``displacy.render(docs, style="ent", manual=True)``."""

    text: str
    ents: list[DisplacyEnt]
    title: str | None = None


class TagAnswer(RootModel[TagResponse | list[DisplacyDoc]]):
    """POST /v1/tag answers a TagResponse, or with ``format=displacy`` a list of DisplacyDoc."""


class ModelInfo(BaseModel):
    """A loaded model: what it can tag and how well it was measured to do it."""

    name: str
    version: str
    tasks: list[str]
    labels: dict[str, list[str]]
    span_tasks: list[str]
    context_tokens: int = Field(
        0,
        description="Tokens of a document (one text, or the tokens field) read together in one "
        "pass; 0 when every sentence is tagged alone.",
    )
    metrics: dict[str, Any]
    default: bool = Field(description="Whether this is the service's default (first) model.")
    loaded_at: float = Field(
        description="When this worker loaded the model (Unix time); changes on a reload."
    )


class ModelsResponse(BaseModel):
    """Answer of GET /v1/models."""

    models: list[ModelInfo]


class HealthResponse(BaseModel):
    """Answer of the health probes."""

    status: str
    models: list[str] = Field(default_factory=list)
    pid: int | None = Field(default=None, description="The worker process that answered.")


class ErrorResponse(BaseModel):
    """Every error: a message, or a list of validation problems for 422."""

    detail: str | list[dict[str, Any]]


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "Missing or wrong API key (when keys are set)."},
    404: {"model": ErrorResponse, "description": "Unknown model."},
    413: {
        "model": ErrorResponse,
        "description": "Body larger than `max_body_bytes`, or a text longer than "
        "`max_text_length` characters.",
    },
    422: {
        "model": ErrorResponse,
        "description": "Invalid JSON, wrong types, unknown task, too many documents, or "
        "text that is not valid Unicode (lone surrogates).",
    },
    503: {
        "model": ErrorResponse,
        "description": "Models still loading, shutting down, or overloaded (then with "
        "Retry-After).",
    },
    504: {"model": ErrorResponse, "description": "The request's deadline passed."},
}
