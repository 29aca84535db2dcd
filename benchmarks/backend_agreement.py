"""Backends side by side on a gold file: every backend's scores (torch fp32 and int8, ONNX fp32
and int8), and how many tokens' labels each agrees on with torch fp32.

    python benchmarks/backend_agreement.py [--model DIR] [--data ../shared/data/conll2003/test.txt]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from benchmarks.tagging_speed import BACKENDS, backend_dirs  # noqa: E402
from tagger import Tagger  # noqa: E402
from tagger.context import document_ids  # noqa: E402
from tagger.data import read_corpus  # noqa: E402
from tagger.locations import default_model_dir  # noqa: E402
from training.evaluate import columns_for  # noqa: E402
from training.metrics import headline, score_task  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/conll2003/test.txt")
    args = parser.parse_args()
    model = args.model or default_model_dir()
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        dirs = backend_dirs(
            model, ["torch-fp32", *[b for b in BACKENDS if b != "torch-fp32"]], Path(tmp)
        )
        reference = None
        for name, path in dirs.items():
            tagger = Tagger.load(path, threads=1)
            conllu = [t for t in tagger.tasks if t in {"upos", "xpos"}]
            sentences = read_corpus(args.data, columns_for(tagger, args.data), conllu)
            doc_ids = document_ids([s.doc_start for s in sentences])
            tasks = [t for t in tagger.tasks if t in sentences[0].tags]
            predicted = tagger.predict(
                [s.tokens for s in sentences], tasks, 256, with_scores=False, doc_ids=doc_ids
            )
            labels = {t: [p[t].labels for p in predicted] for t in tasks}
            scores = {
                t: round(
                    headline(
                        score_task(tagger.task_specs[t], [s.tags[t] for s in sentences], labels[t])
                    ),
                    2,
                )
                for t in tasks
            }
            reference = reference or labels
            agree = {t: round(100 * _agreement(labels[t], reference[t]), 4) for t in tasks}
            rows[name] = {"scores": scores, "tokens_agreeing_with_torch_fp32_pct": agree}
            print(json.dumps({name: rows[name]}), flush=True)
    tasks = list(next(iter(rows.values()))["scores"])
    print("\nbackend | " + " | ".join(tasks) + " | labels = torch fp32 (% tokens)")
    print("--- | " + " | ".join("---" for _ in tasks) + " | ---")
    for name, row in rows.items():
        agree = ", ".join(f"{v:.4f}" for v in row["tokens_agreeing_with_torch_fp32_pct"].values())
        print(f"{name} | " + " | ".join(f"{row['scores'][t]:.2f}" for t in tasks) + f" | {agree}")


def _agreement(ours: list[list[str]], theirs: list[list[str]]) -> float:
    pairs = [(a, b) for x, y in zip(ours, theirs, strict=True) for a, b in zip(x, y, strict=True)]
    return sum(a == b for a, b in pairs) / max(len(pairs), 1)


if __name__ == "__main__":
    main()
