"""Accuracy of every shipped model on its test file as written and re-cased.

Writes re-cased copies of the CoNLL-2003 and UD English EWT test files into a temporary
directory (every token lowercased, every token uppercased, Title case, lowercased but the
first word capitalised as phones write, and each sentence kept, lowercased or uppercased at
random, seeded; tags unchanged), evaluates each model on them as `tagger evaluate` would, and
prints one table per model. The copies are deleted afterwards.

    python benchmarks/casing_robustness.py [--models models/conll03-en ...] [--seed 0]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from tagger import Tagger
from tagger.data import read_corpus
from training.augment import VARIANTS, recase_file
from training.evaluate import columns_for, evaluate_tagger
from training.metrics import headline

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared/data"
TEST_FILES = {
    "conll": DATA / "conll2003/test.txt",
    "ud": DATA / "ud_english_ewt/en_ewt-ud-test.conllu",
}
LABELS = {
    "as_written": "as written",
    "lower": "every token lowercased",
    "upper": "every token uppercased",
    "title": "Title Case",
    "first": "lowercased, first word capitalised",
    "mixed": "each sentence kept, lowercased or uppercased at random",
}


def test_file_of(tagger: Tagger) -> Path:
    """The test file a model is measured on: UD EWT for a UPOS model, CoNLL-2003 otherwise."""
    return TEST_FILES["ud" if "upos" in tagger.tasks else "conll"]


def score(tagger: Tagger, path: Path) -> dict[str, float]:
    """The headline figure of each task on one file."""
    conllu_tasks = [t for t in tagger.tasks if t in {"upos", "xpos"}]
    sentences = read_corpus(path, columns_for(tagger, path), conllu_tasks)
    return {task: headline(m) for task, m in evaluate_tagger(tagger, sentences, str(path)).items()}


def table(name: str, rows: dict[str, dict[str, float]]) -> str:
    """A markdown table: one row per variant, one column per task."""
    tasks = list(next(iter(rows.values())))
    lines = [
        f"{name} | " + " | ".join(tasks),
        "--- | " + " | ".join("---" for _ in tasks),
    ]
    lines += [
        f"{LABELS[variant]} | " + " | ".join(f"{scores[t]:.2f}" for t in tasks)
        for variant, scores in rows.items()
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="*", type=Path, default=None)
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--seed", type=int, default=0, help="seed of the 'mixed' variant")
    args = parser.parse_args()
    models = args.models or sorted(p for p in (ROOT / "models").iterdir() if p.is_dir())
    with tempfile.TemporaryDirectory(prefix="casing-") as tmp:
        for model_dir in models:
            tagger = Tagger.load(model_dir)
            source = test_file_of(tagger)
            started = time.perf_counter()
            rows = {}
            for variant in args.variants:
                target = Path(tmp) / f"{variant}{source.suffix}"
                if not target.exists():
                    recase_file(source, target, variant, args.seed)
                rows[variant] = score(tagger, target)
            seconds = time.perf_counter() - started
            print(f"\n## {model_dir.name} ({source.name}; {seconds:.0f} s)\n")
            print(table(model_dir.name, rows))


if __name__ == "__main__":
    main()
