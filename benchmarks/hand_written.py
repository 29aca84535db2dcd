"""Hand-written NER checks of casing: each sentence with the entities it should get.

Four kinds, one text per request as a user sends them: ordinary words that are also names at
the start of a sentence (no entity), names at the start of a sentence, lowercase text with
names, and UPPERCASE headlines. They were written on 2026-12-04, before any model was run on
them, to check models on sentences that no training or selection decision had seen (the
hand-written sentences of `sentence_starts.py` had been looked at during development). Prints,
per model and kind, how many sentences get exactly their entities (text and label), and the
sentences that do not.

    python benchmarks/hand_written.py [--models models/conll03-en ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tagger import Tagger

ROOT = Path(__file__).resolve().parents[1]
Case = tuple[str, set[tuple[str, str]]]  # text, expected (entity text, label) pairs

COMMON_WORD_STARTS: list[Case] = [
    (text, set())
    for text in [
        "Bush fires spread quickly in dry summers.",
        "Ford the river at its shallowest point.",
        "Major changes are coming to the tax code.",
        "Chase the ball across the field.",
        "Sandy beaches stretch for miles.",
        "Pearl necklaces were on sale.",
        "Dawn broke over the hills.",
        "Miles of road were flooded after the storm.",
        "Gene therapy is still experimental.",
        "Rocky ground made the walk hard.",
        "Sue the company if they refuse to pay.",
        "Holly berries are poisonous to dogs.",
        "Ruby slippers sparkled in the window.",
        "Bay leaves add flavour to soup.",
        "Heather grows on the moors.",
        "Wade into the water slowly.",
        "Shell the peas before cooking them.",
        "Target practice starts at noon.",
        "Subway trains were delayed this morning.",
        "Delta regions are very fertile.",
    ]
]
NAME_STARTS: list[Case] = [
    ("Ford recalled thousands of trucks last year.", {("Ford", "ORG")}),
    ("Shell reported higher profits on Tuesday.", {("Shell", "ORG")}),
    ("Chase raised its interest rates.", {("Chase", "ORG")}),
    ("Jordan signed a peace treaty with Israel.", {("Jordan", "LOC"), ("Israel", "LOC")}),
    ("Heather Locklear starred in the series.", {("Heather Locklear", "PER")}),
    ("Delta cancelled flights out of Atlanta.", {("Delta", "ORG"), ("Atlanta", "LOC")}),
]
LOWERCASE: list[Case] = [
    ("we flew from chicago to seattle on monday.", {("chicago", "LOC"), ("seattle", "LOC")}),
    ("microsoft and google are bidding for the contract.",
     {("microsoft", "ORG"), ("google", "ORG")}),
    ("angela merkel met the french president in berlin.",
     {("angela merkel", "PER"), ("french", "MISC"), ("berlin", "LOC")}),
    ("i bought a new phone from samsung last week.", {("samsung", "ORG")}),
    ("manchester united lost to arsenal again.",
     {("manchester united", "ORG"), ("arsenal", "ORG")}),
    ("the talks between russia and ukraine stalled.", {("russia", "LOC"), ("ukraine", "LOC")}),
]  # fmt: skip
HEADLINES: list[Case] = [
    ("GERMANY BEAT BRAZIL IN SEMIFINAL", {("GERMANY", "LOC"), ("BRAZIL", "LOC")}),
    ("TOYOTA RECALLS CARS IN JAPAN", {("TOYOTA", "ORG"), ("JAPAN", "LOC")}),
    ("BANK OF ENGLAND RAISES RATES", {("BANK OF ENGLAND", "ORG")}),
    ("CLINTON TO VISIT MOSCOW NEXT WEEK", {("CLINTON", "PER"), ("MOSCOW", "LOC")}),
    ("OIL PRICES FALL AS DEMAND WEAKENS", set()),
    ("NEW RULES FOR BANKS AFTER CRISIS", set()),
]
KINDS = {
    "common word at a sentence start: no entity": COMMON_WORD_STARTS,
    "name at a sentence start": NAME_STARTS,
    "lowercase text with names": LOWERCASE,
    "UPPERCASE headlines": HEADLINES,
}


def entities(tagger: Tagger, text: str) -> set[tuple[str, str]]:
    return {(e.text, e.label) for e in tagger.tag(text).entities}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="*", type=Path, default=[ROOT / "models/conll03-en"])
    args = parser.parse_args()
    for model in args.models:
        tagger = Tagger.load(model)
        print(f"\n## {model}\n")
        total = 0
        for kind, cases in KINDS.items():
            wrong = [(text, got) for text, want in cases if (got := entities(tagger, text)) != want]
            total += len(cases) - len(wrong)
            print(f"{kind}: {len(cases) - len(wrong)} of {len(cases)} right")
            for text, got in wrong:
                print(f"    {text!r} -> {sorted(got)}")
        print(f"all: {total} of {sum(len(cases) for cases in KINDS.values())} right")


if __name__ == "__main__":
    main()
