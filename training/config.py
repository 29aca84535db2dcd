"""The training job's configuration: one pydantic model, every option with a default."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tagger.config import ModelConfig
from tagger.data import CONLL2003_COLUMNS
from tagger.errors import TaggerError
from tagger.schemes import Scheme


class ConfigError(TaggerError, ValueError):
    """A config file that cannot be read or does not validate."""


class HFSource(BaseModel):
    """A corpus loaded through Hugging Face ``datasets`` (a hub name, or a local builder)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Dataset name, e.g. 'conll2003', or 'json' with data_files.")
    token_column: str = "tokens"
    tag_columns: dict[str, str] = Field(default_factory=lambda: {"ner": "ner_tags"})
    data_files: dict[str, str] | None = Field(
        None, description="Split -> file, for local builders."
    )
    splits: dict[str, str] = Field(
        default_factory=lambda: {"train": "train", "valid": "validation", "test": "test"}
    )


class OpenNamesConfig(BaseModel):
    """Extra, partly labelled training sentences for name tasks (``training.open_names``):
    a treebank's ordinary words tagged O, its names left open."""

    model_config = ConfigDict(extra="forbid")

    path: Path = Field(description="A .conllu file; its UPOS tags tell names from other words.")
    max_sentences: int | None = Field(
        None, ge=1, description="Take a seeded sample of at most this many (default: all)."
    )


class DataConfig(BaseModel):
    """Where the splits are and which column is which task."""

    model_config = ConfigDict(extra="forbid")

    train: Path | None = Field(None, description="Training file (column format or .conllu).")
    valid: Path | None = Field(None, description="Validation file: early stopping and selection.")
    test: Path | None = Field(None, description="Test file, evaluated once with the best model.")
    columns: list[str] = Field(
        default_factory=lambda: list(CONLL2003_COLUMNS),
        description="Column names of a column file; '-' skips a column.",
    )
    conllu_tasks: list[str] = Field(default_factory=lambda: ["upos"], description="upos / xpos.")
    tasks: list[str] | None = Field(None, description="Tasks to learn (default: every column).")
    schemes: dict[str, Scheme] = Field(
        default_factory=dict,
        description="Tag scheme per span task (iob1/iob2/bioes); default: detected from the data.",
    )
    hf: HFSource | None = Field(None, description="Load through `datasets` instead of files.")
    max_train_sentences: int | None = Field(None, description="Cut the training set (for tests).")
    open_names: OpenNamesConfig | None = Field(
        None,
        description=(
            "Treebank sentences added to the training data (not to its vocabulary), ordinary "
            "words tagged O and names left open: for models of span tasks only (NER)."
        ),
    )


class OptimConfig(BaseModel):
    """Optimiser, learning-rate schedule and gradient clipping."""

    model_config = ConfigDict(extra="forbid")

    optimizer: Literal["sgd", "adam", "adamw", "nadam"] = "sgd"
    lr: float = Field(0.015, gt=0)
    momentum: float = Field(0.9, ge=0, lt=1, description="SGD only.")
    weight_decay: float = Field(0.0, ge=0)
    schedule: Literal["inverse", "cosine", "constant"] = Field(
        "inverse", description="inverse: lr / (1 + decay * epoch) (Ma & Hovy); cosine: to 0."
    )
    decay: float = Field(0.05, ge=0, description="Decay rate of the inverse schedule.")
    clip: float = Field(5.0, gt=0, description="Gradient-norm clipping.")
    batch_size: int = Field(10, ge=1, description="Sentences per step (per process under DDP).")


CasingVariant = Literal["as_written", "lower", "upper", "title", "first", "mixed"]
CasingStyle = Literal["lower", "upper", "title", "first"]


def _default_styles() -> dict[CasingStyle, float]:
    return {"lower": 0.45, "upper": 0.45, "title": 0.1}


def _as_written() -> list[CasingVariant]:
    return ["as_written"]


class CasingAugmentConfig(BaseModel):
    """Training-time re-casing, drawn afresh every epoch (seeded); tags stay as they are."""

    model_config = ConfigDict(extra="forbid")

    documents: float = Field(
        0.0, ge=0, le=1, description="Fraction of documents re-cased as a whole, in one style."
    )
    sentences: float = Field(
        0.0, ge=0, le=1, description="Fraction of the other documents' sentences re-cased alone."
    )
    styles: dict[CasingStyle, float] = Field(
        default_factory=_default_styles,
        description="Relative weight of each style when a document or sentence is re-cased.",
    )
    sentence_styles: dict[CasingStyle, float] | None = Field(
        None,
        description=(
            "Weights for sentences re-cased alone, where they differ from a whole document's "
            "(default: styles). A corpus that writes its headlines in capitals by its own "
            "convention keeps that convention apart from UPPERCASE documents with lowercase "
            "here, for a model that reads the document (context_tokens)."
        ),
    )
    sentence_starts: float = Field(
        0.0,
        ge=0,
        le=1,
        description=(
            "Fraction of the sentences kept as written that are split (if they have one) "
            "before an ordinary lowercase word outside every name (see starts_outside), which "
            "then begins a sentence with a capital."
        ),
    )
    starts_outside: list[str] | None = Field(
        None,
        description=(
            "Span tasks whose spans a split word must be outside of (names); it may begin a "
            "span of the other span tasks (chunks). Default: every span task."
        ),
    )

    @field_validator("styles", "sentence_styles")
    @classmethod
    def _positive_weights(
        cls, weights: dict[CasingStyle, float] | None
    ) -> dict[CasingStyle, float] | None:
        """Weights a style can be drawn from: none negative, some positive."""
        if weights is not None and (
            min(weights.values(), default=0) < 0 or not any(weights.values())
        ):
            raise ValueError(f"styles need weights >= 0 and one > 0, got {weights}")
        return weights


class TrainConfig(BaseModel):
    """Everything a training run needs; CLI flags override the common fields."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field("tagger", description="Model name recorded in the model directory.")
    version: str = "1"
    seed: int = 1
    output_dir: Path = Path("runs/default")
    epochs: int = Field(50, ge=1)
    patience: int = Field(10, ge=1, description="Stop after this many epochs without improvement.")
    select_on: str | None = Field(
        None, description="Task whose validation score selects the model (default: first task)."
    )
    threads: int | None = Field(
        None, ge=1, description="torch intra-op threads (default: torch's)."
    )
    task_weights: dict[str, float] = Field(
        default_factory=dict, description="Loss weight per task."
    )
    decoders: dict[str, Literal["crf", "softmax"]] = Field(
        default_factory=dict, description="Output layer per task (default: crf for every task)."
    )
    ema_decay: float | None = Field(
        None,
        ge=0,
        lt=1,
        description="Evaluate and ship an exponential moving average of the weights (e.g. 0.999).",
    )
    int8_inference: bool = Field(
        False, description="Record that the model should run its RNN in int8 when loaded."
    )
    eval_batch_size: int = 256
    augment_casing: CasingAugmentConfig = Field(default_factory=CasingAugmentConfig)
    select_casings: list[CasingVariant] = Field(
        default_factory=_as_written,
        min_length=1,
        description="Validation variants whose mean score selects the model (e.g. as_written, "
        "lower, upper: a model good on text with and without capital letters).",
    )
    report_casings: list[CasingVariant] = Field(
        default_factory=list,
        description="Re-cased variants of validation and test also scored in the final report.",
    )
    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    optim: OptimConfig = Field(default_factory=OptimConfig)


def load_config(path: Path) -> TrainConfig:
    """Read a YAML or JSON config; relative data paths are taken relative to the current dir."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read config ({error.strerror})") from None
    try:
        raw = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise ConfigError(
            f"{path}: not valid {path.suffix.lstrip('.') or 'YAML'}: {error}"
        ) from None
    try:
        return TrainConfig.model_validate(raw or {})
    except ValidationError as error:
        raise ConfigError(f"{path}: invalid config:\n{error}") from None
