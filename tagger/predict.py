"""The public ``Tagger``: a trained network (on a torch or ONNX backend) with its vocabularies,
loaded from a model directory, tagging raw text or tokens through the staged pipeline
(``tagger.pipeline``). Importing it needs no torch; the torch backend imports it on use."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tagger import pipeline
from tagger.backend import Backend, load_backend
from tagger.config import ModelConfig, TaskSpec
from tagger.decoding import CRFScores, decode
from tagger.errors import UsageError
from tagger.features import Featurizer
from tagger.glove import GLOVE_NAME, glove_fingerprint, load_glove
from tagger.locations import default_model_dir
from tagger.modelfile import ModelFile, load_model_dir, save_model_dir
from tagger.pieces import batches, lay_out
from tagger.schemes import Scheme, convert
from tagger.types import Document, TaskTags
from tagger.vocab import Vocabulary


class Tagger:
    """A trained network plus its vocabularies and task descriptions, ready to predict."""

    def __init__(
        self,
        backend: Backend | Any,
        words: Vocabulary,
        chars: Vocabulary,
        meta: dict[str, Any] | None = None,
        metrics: dict[str, Any] | None = None,
        case_prior: dict[str, int] | None = None,
    ) -> None:
        if not hasattr(backend, "emissions") or not hasattr(backend, "crf_scores"):
            from tagger.torch_backend import TorchBackend

            backend = TorchBackend(backend)  # type: ignore[arg-type]  # a SequenceTagger
        self.backend: Backend = backend
        self.words, self.chars = words, chars
        self.meta = meta or {}
        self.metrics = metrics or {}
        self.case_prior = case_prior or {}  # word -> CasePrior, from the training data
        config = backend.config
        self.featurizer = Featurizer(
            words,
            chars,
            load_glove()[0] if config.use_glove else None,
            config.max_word_length,
            config.lowercase_words,
            config.mark_sentence_starts,
            config.word_memory,
            sentence_casing=config.sentence_casing_dim > 0,
            truecase=config.truecase_words,
            case_prior=self.case_prior if config.case_prior_dim else None,
            truecase_unknown_only=config.truecase_unknown_only,
            first_word_style=config.first_word_style,
        )
        self.task_specs: dict[str, TaskSpec] = {task.name: task for task in backend.tasks}
        self._output_labels = {name: spec.output_labels for name, spec in self.task_specs.items()}

    @property
    def network(self) -> Any:
        """The torch ``SequenceTagger`` (torch backend only)."""
        network = getattr(self.backend, "network", None)
        if network is None:
            raise AttributeError(
                f"a tagger on the {self.backend.name} backend has no torch network"
            )
        return network

    @property
    def int8(self) -> bool:
        """Whether the recurrent layer runs with int8 weights."""
        recorded = self.meta.get("inference", {})
        return self.backend.int8 or bool(isinstance(recorded, dict) and recorded.get("onnx_int8"))

    # --- construction -------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        config: ModelConfig,
        tasks: list[TaskSpec],
        words: Vocabulary,
        chars: Vocabulary,
        meta: dict[str, Any] | None = None,
        case_prior: dict[str, int] | None = None,
    ) -> Tagger:
        """A new, untrained tagger on the torch backend (GloVe from its package if asked)."""
        from tagger.torch_backend import TorchBackend

        backend = TorchBackend.create(config, tasks, len(words), len(chars))
        return cls(backend, words, chars, meta, case_prior=case_prior)

    @classmethod
    def load(
        cls,
        path: str | Path | None = None,
        int8: bool | None = None,
        backend: str | None = None,
        threads: int | None = None,
    ) -> Tagger:
        """Load a model directory (default: the shipped CoNLL-2003 model).

        ``backend``: ``torch`` (model.safetensors) or ``onnx`` (model.onnx, no torch needed);
        default: whichever the directory has, ONNX first. ``int8`` (torch) runs the recurrent
        layer with int8 weights (about 1.7x faster on CPU); None uses the model's recorded
        choice. ``threads``: intra-op threads of an ONNX session (default: onnxruntime's).
        """
        path = Path(path) if path is not None else default_model_dir()
        model = load_model_dir(path, weights=False)
        runner = load_backend(path, model, backend, int8, threads)
        words, chars = Vocabulary(model.words, specials=()), Vocabulary(model.chars, specials=())
        return cls(runner, words, chars, model.meta, model.metrics, model.case_prior)

    def save(self, path: str | Path, metrics: dict[str, Any] | None = None) -> None:
        """Write this tagger as a model directory (weights without the frozen GloVe table)."""
        if metrics is not None:
            self.metrics = metrics
        state = getattr(self.backend, "state_dict", None)
        if state is None:
            raise UsageError(f"a tagger on the {self.backend.name} backend cannot be saved")
        self.save_description(path, self.meta, state=state())

    def save_description(
        self,
        path: str | Path,
        meta: dict[str, Any],
        extra_files: dict[str, bytes] | None = None,
        state: dict[str, Any] | None = None,
    ) -> None:
        """Write the model directory's description (config, vocabularies, metrics), with the
        given weights and extra files (an exporter's graph)."""
        meta = dict(meta)
        if self.backend.config.use_glove:
            meta["glove"] = {"name": GLOVE_NAME, "sha256": glove_fingerprint()}
        model = ModelFile(
            self.backend.config,
            list(self.task_specs.values()),
            self.words.itos,
            self.chars.itos,
            state or {},
            meta,
            self.metrics,
            self.case_prior,
        )
        save_model_dir(path, model, extra_files)

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
        return self.backend.config.context_tokens

    @property
    def span_tasks(self) -> set[str]:
        return {name for name, spec in self.task_specs.items() if spec.is_span}

    def check_tasks(self, tasks: Sequence[str] | None) -> list[str]:
        """The requested tasks without repeats (default: all); ValueError on an unknown one."""
        if tasks is None:
            return self.tasks
        if isinstance(tasks, str):
            raise UsageError(f"tasks must be a list of task names, not the string {tasks!r}")
        unknown = [t for t in tasks if t not in self.task_specs]
        if unknown:
            raise UsageError(f"unknown task(s) {unknown}; this model has {self.tasks}")
        return list(dict.fromkeys(tasks))

    # --- the pipeline's model-dependent stages -------------------------------------------------

    def prepare(self, documents: Sequence[pipeline.TokenizedDocument]) -> pipeline.Prepared:
        """Cut tokenised documents into the pieces this model reads (its document context)."""
        return pipeline.prepare(documents, self.context_tokens)

    def run(
        self,
        pieces: Sequence[Sequence[str]],
        tasks: Sequence[str] | None = None,
        batch_size: int = 128,
        with_scores: bool = True,
    ) -> list[dict[str, TaskTags]]:
        """Tags of each piece (a token sequence read in one pass), per task: sorted by length
        and batched (``pieces.batches``)."""
        tasks = self.check_tasks(tasks)
        out: list[dict[str, TaskTags]] = [{} for _ in pieces]
        crfs = self.backend.crf_scores()
        for chunk in batches([len(p) for p in pieces], batch_size):
            tagged = self._run_batch([pieces[i] for i in chunk], tasks, with_scores, crfs)
            for index, tags in zip(chunk, tagged, strict=True):
                out[index] = tags
        return out

    def _run_batch(
        self,
        pieces: list[Sequence[str]],
        tasks: list[str],
        with_scores: bool,
        crfs: dict[str, CRFScores],
    ) -> list[dict[str, TaskTags]]:
        arrays = self.featurizer.arrays(pieces)
        emissions = self.backend.emissions(arrays, tasks)
        results: list[dict[str, TaskTags]] = [{} for _ in pieces]
        for name in tasks:
            best, scores = decode(emissions[name], arrays.mask, crfs.get(name), with_scores)
            names = self._output_labels[name]
            iob1 = self.task_specs[name].output_scheme is Scheme.IOB1
            best_rows = best.tolist()
            score_rows = scores.tolist() if scores is not None else None
            for i, piece in enumerate(pieces):
                n = len(piece)
                labels = [names[k] for k in best_rows[i][:n]]
                if iob1:
                    labels = convert(labels, Scheme.IOB2, Scheme.IOB1)
                row_scores = score_rows[i][:n] if score_rows is not None else [1.0] * n
                results[i][name] = TaskTags(labels, row_scores)
        return results

    # --- tagging ------------------------------------------------------------------------------

    def predict(
        self,
        sentences: Sequence[Sequence[str]],
        tasks: Sequence[str] | None = None,
        batch_size: int = 128,
        with_scores: bool = True,
        doc_ids: Sequence[int] | None = None,
    ) -> list[dict[str, TaskTags]]:
        """Tags of each pre-tokenised sentence, per task.

        ``doc_ids`` (the document of each sentence) lets a model trained with document context
        read neighbouring sentences of a document together; without it every sentence stands
        alone. Models trained without context ignore it.
        """
        pipeline.check_tokens(sentences)
        tasks = self.check_tasks(tasks)
        layout = lay_out(sentences, doc_ids, self.context_tokens if doc_ids is not None else 0)
        return layout.sentence_tags(self.run(layout.pieces, tasks, batch_size, with_scores), tasks)

    def tag_documents(
        self,
        documents: Sequence[pipeline.TokenizedDocument],
        tasks: Sequence[str] | None = None,
        batch_size: int = 128,
    ) -> list[Document]:
        """Tag tokenised documents: prepare, run, assemble."""
        tasks = self.check_tasks(tasks)
        prepared = self.prepare(documents)
        piece_tags = self.run(prepared.pieces, tasks, batch_size)
        return pipeline.assemble(documents, prepared.sentence_tags(piece_tags, tasks))

    def tag(self, text: str, tasks: Sequence[str] | None = None) -> Document:
        """Tokenise raw text (sentences, tokens with offsets) and tag it."""
        return self.tag_many([text], tasks)[0]

    def tag_many(
        self, texts: Sequence[str], tasks: Sequence[str] | None = None, batch_size: int = 128
    ) -> list[Document]:
        """Tag several raw texts in one batched pass over all their sentences."""
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise UsageError("texts must be a list of strings")
        documents = [pipeline.tokenize_text(text) for text in texts]
        return self.tag_documents(documents, tasks, batch_size)

    def tag_tokens(
        self, sentences: Sequence[Sequence[str]], tasks: Sequence[str] | None = None
    ) -> Document:
        """Tag pre-tokenised sentences as one document whose text joins tokens with spaces."""
        return self.tag_documents([pipeline.from_tokens(sentences)], tasks)[0]
