"""Evaluate a tagger on gold data: ``tagger evaluate DATA_FILE [--model DIR] [--json]``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tagger import Tagger
from tagger.context import document_ids
from tagger.data import DataFormatError, Sentence, read_corpus
from training.corpus import check_known_labels
from training.metrics import score_task


def evaluate_tagger(
    tagger: Tagger,
    sentences: Sequence[Sentence],
    source: str = "data",
    tasks: Sequence[str] | None = None,
    batch_size: int = 256,
) -> dict[str, dict[str, Any]]:
    """Metrics per task (every task of the model that the data has gold tags for)."""
    if not sentences:
        raise DataFormatError(source, None, "no sentences to evaluate")
    available = set(sentences[0].tags)
    tasks = [t for t in (tasks or tagger.tasks) if t in available]
    if not tasks:
        raise DataFormatError(
            source, None, f"has none of the model's tasks {tagger.tasks} (has {sorted(available)})"
        )
    for task in tasks:
        check_known_labels(sentences, tagger.task_specs[task], source)
    doc_ids = document_ids([s.doc_start for s in sentences])
    predicted = tagger.predict(
        [s.tokens for s in sentences], tasks, batch_size, with_scores=False, doc_ids=doc_ids
    )
    return {
        task: score_task(
            tagger.task_specs[task],
            [s.tags[task] for s in sentences],
            [p[task].labels for p in predicted],
        )
        for task in tasks
    }


def columns_for(tagger: Tagger, path: Path) -> list[str] | None:
    """Column layout recorded with the model's training data, used for column files."""
    columns = tagger.meta.get("columns")
    return list(columns) if columns and path.suffix != ".conllu" else None


def evaluate_file(data_file: Path, model_dir: Path | None) -> dict[str, dict[str, Any]]:
    """Load a model and score it on a gold file (its recorded column layout for column files)."""
    tagger = Tagger.load(model_dir)
    conllu_tasks = [t for t in tagger.tasks if t in {"upos", "xpos"}]
    sentences = read_corpus(data_file, columns_for(tagger, data_file), conllu_tasks)
    return evaluate_tagger(tagger, sentences, str(data_file))


def format_results(results: dict[str, dict[str, Any]]) -> str:
    """A plain-text table: per task its headline figures and, for spans, each type."""
    lines = []
    for task, metrics in results.items():
        if "f1" in metrics:
            lines.append(
                f"{task}: P {metrics['precision']:.2f}  R {metrics['recall']:.2f}  "
                f"F1 {metrics['f1']:.2f}"
            )
            for label, row in sorted(metrics["per_type"].items()):
                lines.append(
                    f"  {label:<8} P {row['precision']:6.2f}  R {row['recall']:6.2f}  "
                    f"F1 {row['f1']:6.2f}  n={row['support']}"
                )
        else:
            lines.append(f"{task}: accuracy {metrics['accuracy']:.2f} ({metrics['tokens']} tokens)")
    return "\n".join(lines)
