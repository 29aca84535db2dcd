"""The public ``Tagger``: load a model directory and tag pre-tokenised sentences or raw text."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

from tagger import context
from tagger.config import ModelConfig, TaskSpec
from tagger.features import Featurizer
from tagger.glove import GLOVE_NAME, glove_fingerprint, glove_table, load_glove
from tagger.model import SequenceTagger
from tagger.modelfile import ModelFileError, default_model_dir, load_model_dir, save_model_dir
from tagger.schemes import Scheme, convert
from tagger.types import Document, TaskTags
from tagger.vocab import Vocabulary

MAX_SENTENCE_TOKENS = 256  # longer sentences are tagged in consecutive windows of this size
# Padded tokens per batch: bigger batches of long sequences (document pieces) spill out of the
# CPU caches; 16-32 pieces of 256 tokens were fastest (CoNLL-2003 test, one thread).
MAX_BATCH_TOKENS = 8192
_BIOES_TO_IOB2 = {"B": "B", "I": "I", "E": "I", "S": "B"}


class Tagger:
    """A trained network plus its vocabularies and task descriptions, ready to predict."""

    def __init__(
        self,
        network: SequenceTagger,
        words: Vocabulary,
        chars: Vocabulary,
        meta: dict[str, Any] | None = None,
        metrics: dict[str, Any] | None = None,
    ) -> None:
        self.network = network.eval()
        self.int8 = False  # True once the recurrent layer runs quantised (then it cannot be saved)
        self.words, self.chars = words, chars
        self.meta = meta or {}
        self.metrics = metrics or {}
        glove_index = load_glove()[0] if network.config.use_glove else None
        config = network.config
        self.featurizer = Featurizer(
            words,
            chars,
            glove_index,
            config.max_word_length,
            config.lowercase_words,
            config.mark_sentence_starts,
            config.word_memory,
            sentence_casing=config.sentence_casing_dim > 0,
            truecase=config.truecase_words,
        )
        self.task_specs: dict[str, TaskSpec] = dict(network.tasks)
        self._output_labels = {name: _output_labels(spec) for name, spec in self.task_specs.items()}

    # --- construction -------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        config: ModelConfig,
        tasks: list[TaskSpec],
        words: Vocabulary,
        chars: Vocabulary,
        meta: dict[str, Any] | None = None,
    ) -> Tagger:
        """A new, untrained tagger (GloVe loaded from its package when the config asks)."""
        glove = glove_table() if config.use_glove else None
        network = SequenceTagger(config, tasks, len(words), len(chars), glove)
        return cls(network, words, chars, meta)

    @classmethod
    def random(
        cls,
        tasks: dict[str, list[str]],
        seed: int = 0,
        use_glove: bool = False,
        name: str = "random",
        **config: Any,
    ) -> Tagger:
        """A small randomly initialised tagger for tests (span tasks: labels given in IOB2);
        keyword arguments set ``ModelConfig`` fields (e.g. ``context_tokens=12``)."""
        torch.manual_seed(seed)
        specs = []
        for task, labels in tasks.items():
            is_span = any(label[:2] in {"B-", "I-"} for label in labels)
            internal = convert_labels(labels) if is_span else list(labels)
            scheme = Scheme.BIOES if is_span else None
            specs.append(
                TaskSpec(
                    name=task,
                    labels=internal,
                    scheme=scheme,
                    output_scheme=Scheme.IOB2 if is_span else None,
                )
            )
        small = {"hidden_size": 16, "char_filters": 8, "char_dim": 8, "use_glove": use_glove}
        model_config = ModelConfig(**{**small, **config})
        words = Vocabulary(["the", "apple", "is", "a", "company", "i", "like"])
        chars = Vocabulary("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?")
        return cls.create(model_config, specs, words, chars, {"name": name, "version": "0"})

    @classmethod
    def load(cls, path: str | Path | None = None, int8: bool | None = None) -> Tagger:
        """Load a model directory (default: the shipped CoNLL-2003 model).

        ``int8`` runs the recurrent layer with dynamically quantised int8 weights (about 1.7x
        faster on CPU); None uses the model's own recorded choice (``inference.int8``).
        """
        path = Path(path) if path is not None else default_model_dir()
        parts = load_model_dir(path)
        config: ModelConfig = parts["model"]
        glove_meta = parts["meta"].get("glove") or {}
        if not isinstance(glove_meta, dict):
            raise ModelFileError(f"{path}: invalid model description ('glove' is not an object)")
        glove_sha = glove_meta.get("sha256")
        if config.use_glove and glove_sha and glove_sha != glove_fingerprint():
            raise ModelFileError(f"{path}: trained with different GloVe vectors than installed")
        glove = glove_table() if config.use_glove else None
        words, chars = (
            Vocabulary(parts["words"], specials=()),
            Vocabulary(parts["chars"], specials=()),
        )
        try:
            network = SequenceTagger(config, parts["tasks"], len(words), len(chars), glove)
        except ValueError as error:  # e.g. a task without labels, or labels not in its scheme
            raise ModelFileError(f"{path}: invalid model description ({error})") from None
        try:
            network.load_state_dict(parts["state"], strict=True)
        except RuntimeError as error:
            raise ModelFileError(f"{path}: weights do not match the config ({error})") from None
        tagger = cls(network, words, chars, parts["meta"], parts["metrics"])
        if int8 if int8 is not None else parts["meta"].get("inference", {}).get("int8", False):
            quantize_rnn(network)
            tagger.int8 = True
        return tagger

    def save(self, path: str | Path, metrics: dict[str, Any] | None = None) -> None:
        """Write this tagger as a model directory (weights without the frozen GloVe table)."""
        if self.int8:
            raise ValueError("an int8-quantised tagger cannot be saved: load it with int8=False")
        if metrics is not None:
            self.metrics = metrics
        meta = {k: v for k, v in self.meta.items() if k not in {"model", "tasks", "format_version"}}
        if self.network.config.use_glove:
            meta["glove"] = {"name": GLOVE_NAME, "sha256": glove_fingerprint()}
        config = {
            **meta,
            "model": self.network.config.model_dump(mode="json"),
            "tasks": [spec.model_dump(mode="json") for spec in self.task_specs.values()],
        }
        vocab = {"words": self.words.itos, "chars": self.chars.itos}
        save_model_dir(path, self.network.state_dict(), config, vocab, self.metrics)

    # --- description --------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return str(self.meta.get("name", "tagger"))

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "0"))

    @property
    def tasks(self) -> list[str]:
        return list(self.task_specs)

    @property
    def labels(self) -> dict[str, list[str]]:
        """Labels per task as predictions show them (the training file's scheme)."""
        return {name: sorted(set(labels)) for name, labels in self._output_labels.items()}

    @property
    def context_tokens(self) -> int:
        """Tokens of a document read together in one pass (0: every sentence alone)."""
        return self.network.config.context_tokens

    @property
    def span_tasks(self) -> set[str]:
        return {name for name, spec in self.task_specs.items() if spec.is_span}

    # --- prediction ---------------------------------------------------------------------------

    def predict(
        self,
        sentences: Sequence[Sequence[str]],
        tasks: Sequence[str] | None = None,
        batch_size: int = 128,
        with_scores: bool = True,
        doc_ids: Sequence[int] | None = None,
    ) -> list[dict[str, TaskTags]]:
        """Tags of each pre-tokenised sentence, per task; sorted by length and batched.

        ``doc_ids`` (the document of each sentence) lets a model trained with document context
        read neighbouring sentences of a document together; without it every sentence stands
        alone. Models trained without context ignore it.
        """
        tasks = self._check_tasks(tasks)
        budget = self.context_tokens
        if doc_ids is None or budget == 0:
            return self._predict_sentences(sentences, tasks, batch_size, with_scores)
        lengths = [len(s) for s in sentences]
        groups = context.pack(lengths, doc_ids, budget)
        joined = self._predict_sentences(
            context.join(sentences, groups), tasks, batch_size, with_scores
        )
        return context.split(joined, groups, lengths)

    def _predict_sentences(
        self,
        sentences: Sequence[Sequence[str]],
        tasks: list[str],
        batch_size: int,
        with_scores: bool,
    ) -> list[dict[str, TaskTags]]:
        """Tags of independent token sequences: windows of long ones, sorted by length, batched."""
        pieces, owners = _windows(sentences, MAX_SENTENCE_TOKENS)
        order = sorted(range(len(pieces)), key=lambda i: len(pieces[i]))
        piece_tags: list[dict[str, TaskTags]] = [{} for _ in pieces]
        with torch.inference_mode():
            for chunk in _batches(order, [len(p) for p in pieces], batch_size):
                batch_tags = self._predict_batch([pieces[i] for i in chunk], tasks, with_scores)
                for index, tags in zip(chunk, batch_tags, strict=True):
                    piece_tags[index] = tags
        return _join_windows(piece_tags, owners, len(sentences), tasks)

    def _check_tasks(self, tasks: Sequence[str] | None) -> list[str]:
        if tasks is None:
            return self.tasks
        unknown = [t for t in tasks if t not in self.task_specs]
        if unknown:
            raise ValueError(f"unknown task(s) {unknown}; this model has {self.tasks}")
        return list(dict.fromkeys(tasks))

    def _predict_batch(
        self, sentences: list[Sequence[str]], tasks: list[str], with_scores: bool
    ) -> list[dict[str, TaskTags]]:
        batch = self.featurizer.batch(sentences)
        decoded = self.network.decode(batch, tasks, with_scores)
        results: list[dict[str, TaskTags]] = [{} for _ in sentences]
        for name, (best, scores) in decoded.items():
            names = self._output_labels[name]
            best_rows = best.tolist()
            score_rows = scores.tolist() if scores is not None else None
            for i, sentence in enumerate(sentences):
                n = len(sentence)
                labels = [names[k] for k in best_rows[i][:n]]
                if self.task_specs[name].output_scheme is Scheme.IOB1:
                    labels = convert(labels, Scheme.IOB2, Scheme.IOB1)
                row_scores = score_rows[i][:n] if score_rows is not None else [1.0] * n
                results[i][name] = TaskTags(labels, row_scores)
        return results

    def tag(self, text: str, tasks: Sequence[str] | None = None) -> Document:
        """Tokenise raw text (sentences, tokens with offsets) and tag it."""
        return self.tag_many([text], tasks)[0]

    def tag_many(
        self, texts: Sequence[str], tasks: Sequence[str] | None = None, batch_size: int = 128
    ) -> list[Document]:
        """Tag several raw texts in one batched pass over all their sentences."""
        from tagger.spans import build_document
        from tagger.tokenize import tokenize

        tokenized = [tokenize(text) for text in texts]
        flat = [[t.text for t in sentence] for sentences in tokenized for sentence in sentences]
        doc_ids = [index for index, sentences in enumerate(tokenized) for _ in sentences]
        tags = iter(self.predict(flat, tasks, batch_size, doc_ids=doc_ids))
        return [
            build_document(text, [(sentence, next(tags)) for sentence in sentences])
            for text, sentences in zip(texts, tokenized, strict=True)
        ]

    def tag_tokens(
        self, sentences: Sequence[Sequence[str]], tasks: Sequence[str] | None = None
    ) -> Document:
        """Tag pre-tokenised sentences as one document whose text joins tokens with spaces."""
        from tagger.spans import build_document
        from tagger.tokenize import join_tokens

        text, token_rows = join_tokens(sentences)
        tags = self.predict(sentences, tasks, doc_ids=[0] * len(sentences))
        return build_document(text, list(zip(token_rows, tags, strict=True)))


def quantize_rnn(network: SequenceTagger) -> None:
    """Swap the LSTM/GRU for torch's dynamically quantised int8 version, in place (inference only).

    Weights get one scale per output row (per channel), not one per matrix: less rounding
    error for rows of small weights. On CoNLL-2003 test the two agree within seed noise (three
    NER seeds: 90.66 mean either way) and at the same speed. torch marks this API deprecated
    in favour of torchao, but it is what the pinned torch 2.13 offers on CPU without another
    dependency; warnings about that are silenced here.
    """
    if network.config.cell == "rnn":
        return  # torch has no dynamic int8 Elman RNN
    qconfig = per_channel_dynamic_qconfig
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quantize_dynamic(
            network,
            {torch.nn.LSTM: qconfig, torch.nn.GRU: qconfig},
            dtype=torch.qint8,
            inplace=True,
        )


def convert_labels(iob2_labels: Sequence[str]) -> list[str]:
    """The BIOES label set covering the span types of an IOB2 label set."""
    types = sorted({label[2:] for label in iob2_labels if label != "O"})
    return ["O"] + [f"{p}-{t}" for t in types for p in "BIES"]


def _output_labels(spec: TaskSpec) -> list[str]:
    """Label strings to emit per internal label id (BIOES mapped to IOB2 for span tasks)."""
    if spec.scheme is Scheme.BIOES and spec.output_scheme in {Scheme.IOB2, Scheme.IOB1}:
        return [
            label if label == "O" else f"{_BIOES_TO_IOB2[label[0]]}{label[1:]}"
            for label in spec.labels
        ]
    return list(spec.labels)


def _batches(order: list[int], lengths: list[int], size: int) -> list[list[int]]:
    """Consecutive runs of ``order`` (ascending lengths): at most ``size`` sequences and
    ``MAX_BATCH_TOKENS`` padded tokens each (one sequence at least)."""
    batches: list[list[int]] = []
    for index in order:
        last = batches[-1] if batches else None
        if last is None or len(last) >= size or (len(last) + 1) * lengths[index] > MAX_BATCH_TOKENS:
            batches.append([index])
        else:
            last.append(index)
    return batches


def _windows(
    sentences: Sequence[Sequence[str]], size: int
) -> tuple[list[Sequence[str]], list[int]]:
    """Cut sentences into windows of at most ``size`` tokens; remember each window's sentence."""
    pieces: list[Sequence[str]] = []
    owners: list[int] = []
    for index, sentence in enumerate(sentences):
        for start in range(0, len(sentence), size):
            pieces.append(sentence[start : start + size])
            owners.append(index)
    return pieces, owners


def _join_windows(
    piece_tags: list[dict[str, TaskTags]], owners: list[int], count: int, tasks: list[str]
) -> list[dict[str, TaskTags]]:
    """Concatenate the windows' tags back into one result per input sentence."""
    joined: list[dict[str, TaskTags] | None] = [None] * count
    for tags, owner in zip(piece_tags, owners, strict=True):
        previous = joined[owner]
        if previous is None:  # the common case: a sentence that fits in one window
            joined[owner] = tags
        else:
            joined[owner] = {
                task: TaskTags(
                    previous[task].labels + tags[task].labels,
                    previous[task].scores + tags[task].scores,
                )
                for task in tasks
            }
    return [
        tags if tags is not None else {task: TaskTags([], []) for task in tasks} for tags in joined
    ]
