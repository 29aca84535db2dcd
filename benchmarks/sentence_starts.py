"""Capital letters at a sentence start: do the models read them as names?

In ordinary text every sentence begins with a capital, so "Lights flashed on the road." must
not make `Lights` a name or a proper noun. This splits every test sentence that has one at an
ordinary lowercase word that is not a name (drawn at random, seeded; the rule of training's
`augment_casing.sentence_starts`, and here not a proper noun either), capitalises that word,
and reports for each model how often it reads the capitalised word as a name (NER: part of an
entity; POS: NNP/NNPS; UPOS: PROPN), for all such words, for those that are names somewhere in
the training data (`turkey`, `bill`, `rose`), and for the same words in place; and the task's
score on the split text. CoNLL-2003 test for CoNLL models, UD English EWT test for UPOS models.
NER models also tag UD EWT test sentences that hold no name (web text, mostly starting with a
capitalised common word) and hand-written sentences.

    python benchmarks/sentence_starts.py [--models models/conll03-en ...] [--seed 0]
"""

from __future__ import annotations

import argparse
import functools
import random
from collections.abc import Sequence
from pathlib import Path

from tagger import Tagger
from tagger.casing import capitalised
from tagger.context import document_ids
from tagger.data import Sentence, read_corpus
from training.augment import start_candidates
from training.metrics import headline, score_task
from training.open_names import name_free

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared/data"
CONLL, UD = DATA / "conll2003", DATA / "ud_english_ewt"
NAMES = {"ner": None, "pos": {"NNP", "NNPS"}, "upos": {"PROPN"}}  # None: any entity tag
Start = tuple[int, int, int]  # a split start: its sentence in the split text; where it was


# Hand-written sentences whose first word is a common word that is also a name, and (last) a
# few that do start with a name: NER models print the entities they find in each.
COMMON_STARTS = [
    "Hope is what keeps us going.",
    "Will you come to the party tomorrow?",
    "May I help you with your bags?",
    "Grace under pressure is rare.",
    "Summer is my favourite season.",
    "Violet flowers grew by the fence.",
    "Rich people should pay more tax.",
    "Bill the customer for the repairs.",
    "Jack up the car before you change the tyre.",
    "Lily pads covered the pond.",
    "Iris petals are purple.",
    "Faith can move mountains.",
    "Joy filled the room.",
    "Frank discussion helps everyone.",
    "Sterling silver is expensive.",
    "Cook the pasta for ten minutes.",
    "Brown rice is healthier.",
    "Amber lights flashed on the road.",
    "Apple pie is my favourite dessert.",
    "Turkey is delicious at thanksgiving.",
    "China plates broke in the kitchen.",
    "Orange juice is sweet.",
]
NAME_STARTS = [
    "Hope Hicks joined the campaign.",
    "Will Smith starred in the film.",
    "Frank Sinatra sang it.",
    "Turkey and Greece signed a deal.",
]


def hand_written(tagger: Tagger) -> dict[str, str]:
    """How many hand-written common-word starts get an entity at their first word, and how
    many name starts do."""

    def named_first(text: str) -> bool:
        return any(e.start == 0 for e in tagger.tag(text).entities)

    wrong = [t.split()[0] for t in COMMON_STARTS if named_first(t)]
    found = sum(named_first(t) for t in NAME_STARTS)
    return {
        "hand-written common-word starts read as names": (
            f"{len(wrong)} of {len(COMMON_STARTS)} ({', '.join(wrong) or 'none'})"
        ),
        "hand-written name starts found": f"{found} of {len(NAME_STARTS)}",
    }


def web_text_without_names(tagger: Tagger) -> dict[str, str]:
    """How often the model finds a name in UD EWT test sentences that hold none (no word that
    training's ``data.open_names`` would leave open; held out: training reads EWT's train split
    at most)."""
    sentences = ewt_test_without_names()
    labels = [p["ner"].labels for p in tagger.predict(sentences, ["ner"], 256, with_scores=False)]
    return {
        "UD EWT test sentences without names given one, %": percent(
            [any(label != "O" for label in row) for row in labels]
        ),
        "  their first word read as a name, %": percent([row[0] != "O" for row in labels]),
    }


@functools.cache
def ewt_test_without_names() -> list[list[str]]:
    """The UD EWT test sentences that hold no name, read once for every model."""
    treebank = read_corpus(UD / "en_ewt-ud-test.conllu", None, ["upos"])
    return [s.tokens for s in name_free(treebank)]


def is_name(task: str, label: str) -> bool:
    """Whether a label reads its token as a name (or part of one)."""
    names = NAMES[task]
    return label != "O" if names is None else label in names


def candidates(sentence: Sentence) -> list[int]:
    """Split points: ordinary lowercase words outside every entity, and not proper nouns."""
    spans = ["ner"] if "ner" in sentence.tags else []
    return [
        i
        for i in start_candidates(sentence, spans)
        if not any(is_name(t, sentence.tags[t][i]) for t in ("pos", "upos") if t in sentence.tags)
    ]


def split_test(sentences: Sequence[Sentence], seed: int) -> tuple[list[Sentence], list[Start]]:
    """The corpus with each sentence split at one random candidate (the new start capitalised),
    and for every new start: its sentence's index in the result, and the sentence index and
    token position it had in the text as written."""
    rng = random.Random(f"starts-benchmark-{seed}")
    out: list[Sentence] = []
    starts: list[Start] = []
    for index, sentence in enumerate(sentences):
        positions = candidates(sentence)
        if not positions:
            out.append(sentence)
            continue
        at = rng.choice(positions)
        out.append(_part(sentence, 0, at, sentence.doc_start))
        starts.append((len(out), index, at))
        second = _part(sentence, at, len(sentence.tokens), False)
        second.tokens[0] = capitalised(second.tokens[0])
        out.append(second)
    return out, starts


def _part(sentence: Sentence, begin: int, end: int, doc_start: bool) -> Sentence:
    tags = {task: labels[begin:end] for task, labels in sentence.tags.items()}
    return Sentence(sentence.tokens[begin:end], tags, sentence.lines[begin:end], doc_start)


def name_words(sentences: Sequence[Sentence], task: str) -> set[str]:
    """Lowercase forms of every token that ``task`` tags as a name somewhere."""
    return {
        token.lower()
        for s in sentences
        for token, tag in zip(s.tokens, s.tags[task], strict=True)
        if is_name(task, tag)
    }


def predict(tagger: Tagger, sentences: Sequence[Sentence], task: str) -> list[list[str]]:
    """The model's labels for one task, sentences read together within their documents."""
    doc_ids = document_ids([s.doc_start for s in sentences])
    predicted = tagger.predict(
        [s.tokens for s in sentences], [task], 256, with_scores=False, doc_ids=doc_ids
    )
    return [p[task].labels for p in predicted]


def percent(flags: Sequence[bool]) -> str:
    return f"{100 * sum(flags) / len(flags):.2f} (n={len(flags)})" if flags else "-"


def report(tagger: Tagger, task: str, test: list[Sentence], names: set[str], seed: int) -> dict:
    """The figures of one model's task, as printable strings."""
    split, starts = split_test(test, seed)
    spec = tagger.task_specs[task]
    as_written, split_labels = predict(tagger, test, task), predict(tagger, split, task)
    named = [is_name(task, split_labels[i][0]) for i, _, _ in starts]
    in_place = [is_name(task, as_written[i][at]) for _, i, at in starts]
    also_name = [split[i].tokens[0].lower() in names for i, _, _ in starts]
    score_written = headline(score_task(spec, [s.tags[task] for s in test], as_written))
    score_split = headline(score_task(spec, [s.tags[task] for s in split], split_labels))
    rows = {
        "capitalised starts read as a name, %": percent(named),
        "  of them words that are names in training, %": percent(
            [n for n, a in zip(named, also_name, strict=True) if a]
        ),
        "the same words in place (lowercase), %": percent(in_place),
        "score on the test as written": f"{score_written:.2f}",
        "score on the split text": f"{score_split:.2f}",
    }
    if not spec.is_span:
        right = [split_labels[i][0] == split[i].tags[task][0] for i, _, _ in starts]
        rows["capitalised starts tagged right, %"] = percent(right)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="*", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=0, help="seed of the split points")
    args = parser.parse_args()
    models = args.models or sorted(p for p in (ROOT / "models").iterdir() if p.is_dir())
    corpora: dict[str, tuple[list[Sentence], set[str]]] = {}
    for model in models:
        tagger = Tagger.load(model)
        task = next(t for t in ("ner", "upos", "pos") if t in tagger.tasks)
        if task not in corpora:
            corpora[task] = test_and_names(task)
        test, names = corpora[task]
        print(f"\n## {model} ({task})\n")
        rows = report(tagger, task, test, names, args.seed)
        rows |= hand_written(tagger) | web_text_without_names(tagger) if task == "ner" else {}
        for figure, value in rows.items():
            print(f"{figure} | {value}")


def test_and_names(task: str) -> tuple[list[Sentence], set[str]]:
    """The test split a task is measured on, and the words that are names in its training data."""
    if task == "upos":
        tasks = ["upos", "xpos"]
        train = read_corpus(UD / "en_ewt-ud-train.conllu", None, tasks)
        return read_corpus(UD / "en_ewt-ud-test.conllu", None, tasks), name_words(train, task)
    columns = ("token", "pos", "chunk", "ner")
    train = read_corpus(CONLL / "train.txt", columns, [])
    return read_corpus(CONLL / "test.txt", columns, []), name_words(train, task)


if __name__ == "__main__":
    main()
