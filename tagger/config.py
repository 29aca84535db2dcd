"""The model's architecture and task descriptions, validated by pydantic and stored as JSON."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tagger.schemes import Scheme, bioes_labels

_BIOES_TO_IOB = {"B": "B", "I": "I", "E": "I", "S": "B"}


class TaskSpec(BaseModel):
    """One output head: its labels (as the model predicts them) and how they are decoded."""

    model_config = ConfigDict(extra="forbid")

    name: str
    labels: list[str]
    decoder: Literal["crf", "softmax"] = "crf"
    scheme: Scheme | None = Field(
        default=None, description="Span scheme of `labels` (None for plain tags such as POS)."
    )
    output_scheme: Scheme | None = Field(
        default=None, description="Scheme predictions are converted to (the training file's)."
    )

    @property
    def is_span(self) -> bool:
        return self.scheme is not None

    @property
    def output_labels(self) -> list[str]:
        """Label string to answer per internal label id: BIOES written as IOB2 when the task
        answers in IOB1/IOB2 (IOB1 is then derived from the whole sequence)."""
        if self.scheme is Scheme.BIOES and self.output_scheme in {Scheme.IOB2, Scheme.IOB1}:
            return [
                label if label == "O" else f"{_BIOES_TO_IOB[label[0]]}{label[1:]}"
                for label in self.labels
            ]
        return list(self.labels)

    @classmethod
    def span(cls, name: str, tags: list[str], output_scheme: Scheme) -> TaskSpec:
        """A span task learnt in BIOES (constrained CRF) that answers in ``output_scheme``."""
        return cls(
            name=name, labels=bioes_labels(tags), scheme=Scheme.BIOES, output_scheme=output_scheme
        )

    @classmethod
    def plain(cls, name: str, tags: list[str]) -> TaskSpec:
        """A task of independent tags (POS): its distinct tags, sorted."""
        return cls(name=name, labels=sorted(set(tags)))


class ModelConfig(BaseModel):
    """Architecture hyper-parameters; every field has a default that works for CoNLL-2003."""

    model_config = ConfigDict(extra="forbid")

    cell: Literal["rnn", "lstm", "gru"] = Field("lstm", description="Recurrent cell type.")
    bidirectional: bool = True
    num_layers: int = Field(1, ge=1, le=8)
    hidden_size: int = Field(100, ge=1, description="Hidden units per direction.")
    use_glove: bool = Field(True, description="Add frozen GloVe 6B 50d vectors to word vectors.")
    word_dim: int = Field(50, ge=1, description="Word vector size (50 with GloVe 6B 50d).")
    lowercase_words: bool = Field(
        False, description="Share one trainable vector between 'Apple' and 'apple'."
    )
    char_encoder: Literal["cnn", "none"] = "cnn"
    char_dim: int = Field(30, ge=1)
    char_filters: int = Field(50, ge=1)
    char_kernel: int = Field(3, ge=1)
    max_word_length: int = Field(20, ge=1, description="Characters kept per word (longer: cut).")
    casing_dim: int = Field(8, ge=0, description="Casing-class embedding size (0: none).")
    dropout: float = Field(0.5, ge=0.0, lt=1.0, description="On embeddings and RNN outputs.")
    word_dropout: float = Field(
        0.05, ge=0.0, lt=1.0, description="Training-time rate of replacing a word id by <unk>."
    )
    caseless_word_dropout: float = Field(
        0.0,
        ge=0.0,
        lt=1.0,
        description="Training-time rate of replacing a word id by <unk> in lowercase, "
        "UPPERCASE and Title sentences (instead of word_dropout), so that the model leans on "
        "context where capital letters say nothing; needs sentence_casing_dim > 0.",
    )
    start_word_dropout: float = Field(
        0.0,
        ge=0.0,
        lt=1.0,
        description="Training-time rate (at least) of replacing the word id of a sentence's "
        "first token by <unk>, so that a capitalised first word is read from its spelling, "
        "GloVe and context rather than from the ids of names; needs sentence_casing_dim > 0.",
    )
    mark_sentence_starts: bool = Field(
        False,
        description="Give a sentence's first token casing classes of its own, so a model that "
        "reads joined sentences (context_tokens) still sees where each one begins.",
    )
    word_memory: bool = Field(
        False,
        description="Give each token also the mean encoding of the same word (case-folded) at "
        "its other places in the sequence, so repeated names in a document agree.",
    )
    sentence_casing_dim: int = Field(
        0,
        ge=0,
        description="Embedding size of each token's sentence style (as usual, lowercase, "
        "UPPERCASE, Title, no letters; first token or not), so the model can tell when a "
        "sentence's capital letters carry no information (0: none).",
    )
    first_word_style: bool = Field(
        False,
        description="Give sentences whose only capitals are on their first word (and the "
        "pronoun I), as phones and speech recognisers write, a caseless style of their own "
        "instead of ordinary text's (read by truecase_words and sentence_casing_dim).",
    )
    truecase_words: bool = Field(
        False,
        description="In a caseless sentence (lowercase, UPPERCASE, Title, first word only), "
        "look each word up as the training data's most frequent casing of it ('london' -> "
        "'London').",
    )
    truecase_unknown_only: bool = Field(
        False,
        description="With truecase_words: keep a word's own form when the vocabulary has it "
        "(an UPPERCASE headline word seen in training headlines) and truecase only the others.",
    )
    case_prior_dim: int = Field(
        0,
        ge=0,
        description="Embedding size of each word's usual casing in the training data's "
        "ordinary sentences (always lowercase, capitalised, an acronym...: a unigram "
        "truecaser), which a lowercase or UPPERCASE sentence no longer shows (0: none).",
    )
    context_tokens: int = Field(
        0,
        ge=0,
        le=256,
        description="Read consecutive sentences of a document together, up to this many tokens "
        "per pass (0: every sentence alone). Needs document breaks (-DOCSTART-) in the data.",
    )
