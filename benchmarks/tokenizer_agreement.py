"""Agreement of ``tagger.tokenize`` with gold tokenisations and sentences, and its speed.

1. UD English EWT (test): the ``# text =`` line of each sentence is tokenized and compared with
   the gold syntactic words. Gold words are aligned to character offsets by sequential search in
   the raw text. Multi-word tokens (``3-4 don't`` -> ``do`` ``n't``): when the parts concatenate
   to the surface form they are split at the part lengths; otherwise the whole multi-word token
   counts as one gold span (its surface form). Empty nodes (``8.1``) are ignored.
2. CoNLL-2003 (test): each sentence is detokenised with simple rules (no space before , . ; : ! ?
   ) ] % ' 's n't ..., no space after ( [ $, alternating double quotes) and re-tokenized.
3. Sentence splitting (extra): the sentences of each EWT test paragraph are joined with single
   spaces and split with ``tokenize``; precision / recall / F1 of the sentence starts.

Figures: share of sentences whose token spans match the gold spans exactly, and micro
precision / recall / F1 over token character spans. Speed: words/s of ``tokenize_words`` and
``tokenize`` on the detokenised CoNLL test text, one thread, CPU time, best of a few runs.

Usage: ``python benchmarks/tokenizer_agreement.py [--json] [--ewt PATH] [--conll PATH]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tagger.tokenize import tokenize, tokenize_words  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
DEFAULT_EWT = DATA / "ud_english_ewt" / "en_ewt-ud-test.conllu"
DEFAULT_CONLL = DATA / "conll2003" / "test.txt"

Span = tuple[int, int]

_NO_SPACE_BEFORE = {",", ".", ";", ":", "!", "?", ")", "]", "}", "%", "...", "''", "'"}
_NO_SPACE_AFTER = {"(", "[", "{", "$", "``"}
_CLITICS = {"'s", "'m", "'d", "'ll", "'re", "'ve", "n't"}


def read_ewt(path: Path) -> Iterator[tuple[str, list[Span]]]:
    """Yield (raw text, gold word spans) for each sentence of a CoNLL-U file."""
    text: str | None = None
    units: list[tuple[str, list[str]]] = []  # (surface form, syntactic words)
    pending_mwt: tuple[int, str, list[str]] | None = None  # (last id, form, parts)
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            line = line.rstrip("\n")
            if line.startswith("# text = "):
                text = line[len("# text = ") :]
            elif not line:
                if text is not None:
                    yield text, _align(text, units)
                text, units, pending_mwt = None, [], None
            elif not line.startswith("#"):
                cols = line.split("\t")
                ident, form = cols[0], cols[1]
                if "." in ident:
                    continue
                if "-" in ident:
                    first, last = ident.split("-")
                    pending_mwt = (int(last), form, [])
                    continue
                if pending_mwt is not None and int(ident) <= pending_mwt[0]:
                    pending_mwt[2].append(form)
                    if int(ident) == pending_mwt[0]:
                        units.append((pending_mwt[1], pending_mwt[2]))
                        pending_mwt = None
                else:
                    units.append((form, [form]))
    if text is not None and units:
        yield text, _align(text, units)


def _align(text: str, units: list[tuple[str, list[str]]]) -> list[Span]:
    """Align gold units to character spans of ``text`` by sequential search."""
    spans: list[Span] = []
    cursor = 0
    for surface, parts in units:
        index = text.find(surface, cursor)
        if index < 0:  # should not happen in EWT; keep the unit as an unmatchable span
            spans.append((-1, -1))
            continue
        if len(parts) > 1 and "".join(parts) == surface:
            for part in parts:
                spans.append((index, index + len(part)))
                index += len(part)
        else:
            spans.append((index, index + len(surface)))
            index += len(surface)
        cursor = index
    return spans


def read_ewt_paragraphs(path: Path) -> Iterator[list[str]]:
    """Yield the sentence texts of each paragraph (``# newpar`` / ``# newdoc``) in CoNLL-U."""
    paragraph: list[str] = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.startswith(("# newpar", "# newdoc")) and paragraph:
                yield paragraph
                paragraph = []
            elif line.startswith("# text = "):
                paragraph.append(line[len("# text = ") :].rstrip("\n"))
    if paragraph:
        yield paragraph


def sentence_boundaries(paragraphs: Iterator[list[str]]) -> dict[str, float | int]:
    """Boundary precision / recall / F1 of ``tokenize`` on paragraphs joined with spaces."""
    gold_count = predicted_count = correct = 0
    for sentences in paragraphs:
        text = " ".join(sentences)
        gold, offset = set(), 0
        for sentence in sentences[:-1]:
            offset += len(sentence) + 1
            gold.add(offset)
        predicted = {sentence[0].start for sentence in tokenize(text)[1:]}
        gold_count += len(gold)
        predicted_count += len(predicted)
        correct += len(gold & predicted)
    precision = correct / max(predicted_count, 1)
    recall = correct / max(gold_count, 1)
    return {
        "gold_boundaries": gold_count,
        "predicted_boundaries": predicted_count,
        "precision_pct": round(100 * precision, 2),
        "recall_pct": round(100 * recall, 2),
        "f1_pct": round(100 * 2 * precision * recall / max(precision + recall, 1e-12), 2),
    }


def read_conll(path: Path) -> Iterator[list[str]]:
    """Yield the token column of each sentence of a CoNLL-2003 file (documents markers skipped)."""
    words: list[str] = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            cols = line.split()
            if not cols:
                if words:
                    yield words
                words = []
            elif cols[0] != "-DOCSTART-":
                words.append(cols[0])
    if words:
        yield words


def detokenize(words: list[str]) -> tuple[str, list[Span]]:
    """Join CoNLL tokens into plausible raw text; return it with the tokens' spans."""
    pieces: list[str] = []
    spans: list[Span] = []
    length = 0
    no_space_next = True
    open_quote = False
    previous = ""
    for word in words:
        space = not no_space_next
        no_space_next = word in _NO_SPACE_AFTER
        if word == "'" and previous == "'":
            pass
        elif word in _NO_SPACE_BEFORE or word.lower() in _CLITICS:
            space = False
        elif word == '"':
            if open_quote:
                space = False
            else:
                no_space_next = True
            open_quote = not open_quote
        if space:
            pieces.append(" ")
            length += 1
        pieces.append(word)
        spans.append((length, length + len(word)))
        length += len(word)
        previous = word
    return "".join(pieces), spans


class Agreement:
    """Exact-sentence-match and span precision / recall / F1 counters."""

    def __init__(self) -> None:
        self.sentences = self.exact = self.gold = self.predicted = self.correct = 0

    def add(self, text: str, gold: list[Span]) -> None:
        """Tokenize ``text`` and compare with the gold spans."""
        predicted = [(t.start, t.end) for t in tokenize_words(text)]
        self.sentences += 1
        self.exact += predicted == gold
        self.gold += len(gold)
        self.predicted += len(predicted)
        self.correct += len(set(predicted) & set(gold))

    def figures(self) -> dict[str, float | int]:
        """Return the figures as a dict (rates in percent)."""
        precision = self.correct / max(self.predicted, 1)
        recall = self.correct / max(self.gold, 1)
        f1 = 2 * precision * recall / max(precision + recall, 1e-12)
        return {
            "sentences": self.sentences,
            "gold_tokens": self.gold,
            "predicted_tokens": self.predicted,
            "exact_match_pct": round(100 * self.exact / max(self.sentences, 1), 2),
            "precision_pct": round(100 * precision, 2),
            "recall_pct": round(100 * recall, 2),
            "f1_pct": round(100 * f1, 2),
        }


def measure_speed(text: str, repeats: int = 5) -> dict[str, float | int]:
    """Words per second of ``tokenize_words`` and ``tokenize`` on ``text`` (best of runs)."""
    words = len(tokenize_words(text))
    result: dict[str, float | int] = {"words": words}
    for name, function in (("tokenize_words", tokenize_words), ("tokenize", tokenize)):
        best = float("inf")
        for _ in range(repeats):
            started = time.process_time()  # CPU time: robust on a shared machine
            function(text)
            best = min(best, time.process_time() - started)
        result[f"{name}_words_per_s"] = round(words / best)
    return result


def main(argv: list[str] | None = None) -> dict[str, dict[str, float | int]]:
    """Compute and print the agreement and speed figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--ewt", type=Path, default=DEFAULT_EWT)
    parser.add_argument("--conll", type=Path, default=DEFAULT_CONLL)
    args = parser.parse_args(argv)

    ewt = Agreement()
    for text, gold in read_ewt(args.ewt):
        ewt.add(text, gold)
    conll = Agreement()
    texts = []
    for words in read_conll(args.conll):
        text, gold = detokenize(words)
        texts.append(text)
        conll.add(text, gold)
    results = {
        "ud_ewt_test": ewt.figures(),
        "ud_ewt_test_sentence_split": sentence_boundaries(read_ewt_paragraphs(args.ewt)),
        "conll2003_test": conll.figures(),
        "speed_conll2003_test": measure_speed("\n".join(texts)),
    }
    if args.json:
        print(json.dumps(results, indent=2))
        return results
    header = f"{'corpus':<16}{'sents':>7}{'exact %':>9}{'P %':>8}{'R %':>8}{'F1 %':>8}"
    print(header)
    print("-" * len(header))
    for name, key in (("UD EWT test", "ud_ewt_test"), ("CoNLL-03 test", "conll2003_test")):
        f = results[key]
        print(
            f"{name:<16}{f['sentences']:>7}{f['exact_match_pct']:>9.2f}{f['precision_pct']:>8.2f}"
            f"{f['recall_pct']:>8.2f}{f['f1_pct']:>8.2f}"
        )
    split = results["ud_ewt_test_sentence_split"]
    print(
        f"\nsentence splitting, UD EWT test paragraphs ({split['gold_boundaries']} boundaries): "
        f"P {split['precision_pct']:.2f}  R {split['recall_pct']:.2f}  F1 {split['f1_pct']:.2f}"
    )
    speed = results["speed_conll2003_test"]
    print(
        f"speed on CoNLL-03 test ({speed['words']} words, one thread, CPU time): "
        f"tokenize_words {speed['tokenize_words_words_per_s']:,} words/s, "
        f"tokenize {speed['tokenize_words_per_s']:,} words/s"
    )
    return results


if __name__ == "__main__":
    main()
