"""Casing augmentation: deterministic, tags untouched; re-cased test files; training with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tagger import Tagger
from tagger.casing import SentenceCase, case_of
from tagger.data import Sentence, read_columns, read_conllu
from tests.training.conftest import tiny_config
from training.augment import (
    augment_casing,
    kept_candidates,
    recase_file,
    recased_corpus,
    split_starts,
    start_candidates,
)
from training.config import CasingAugmentConfig, ConfigError, TrainConfig
from training.train import train

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SENTENCES = [["The", "Apple", "is", "a", "great", "company", "!"], ["Peter", "works", "here"]] * 20
DOCS = [i // 4 for i in range(len(SENTENCES))]


def test_augmentation_is_deterministic_for_a_seed_and_varies_between_seeds() -> None:
    config = CasingAugmentConfig(documents=0.3, sentences=0.3)
    first = augment_casing(SENTENCES, DOCS, config, seed=7)
    assert first == augment_casing(SENTENCES, DOCS, config, seed=7)
    assert first != augment_casing(SENTENCES, DOCS, config, seed=8)
    assert [len(s) for s in first] == [len(s) for s in SENTENCES]
    assert [[t.lower() for t in s] for s in first] == [[t.lower() for t in s] for s in SENTENCES]


def test_augmentation_rates_and_styles() -> None:
    off = augment_casing(SENTENCES, DOCS, CasingAugmentConfig(), seed=1)
    assert off == SENTENCES
    lower_docs = CasingAugmentConfig(documents=1.0, styles={"lower": 1.0})
    assert all(
        case_of(s) is SentenceCase.LOWER for s in augment_casing(SENTENCES, DOCS, lower_docs, 1)
    )
    half = CasingAugmentConfig(sentences=0.5, styles={"upper": 1.0})
    styles = [case_of(s) for s in augment_casing(SENTENCES * 10, DOCS * 10, half, seed=2)]
    upper = styles.count(SentenceCase.UPPER) / len(styles)
    assert 0.4 < upper < 0.6
    assert set(styles) == {SentenceCase.UPPER, SentenceCase.CASED}


def test_a_whole_document_is_recased_in_one_style() -> None:
    config = CasingAugmentConfig(documents=1.0, styles={"lower": 1, "upper": 1})
    recased = augment_casing(SENTENCES * 5, [d + 10 * k for k in range(5) for d in DOCS], config, 3)
    per_document: dict[int, set[SentenceCase]] = {}
    for index, tokens in enumerate(recased):
        per_document.setdefault(index // 4, set()).add(case_of(tokens))
    assert all(len(cases) == 1 for cases in per_document.values())
    assert set.union(*per_document.values()) == {SentenceCase.LOWER, SentenceCase.UPPER}


def test_sentences_recased_alone_can_draw_their_own_styles() -> None:
    config = CasingAugmentConfig(
        documents=0.5, sentences=0.5, styles={"upper": 1.0}, sentence_styles={"lower": 1.0}
    )
    sentences, docs = SENTENCES * 10, [d + 10 * k for k in range(10) for d in DOCS]
    recased = augment_casing(sentences, docs, config, seed=4)
    per_document: dict[int, set[SentenceCase]] = {}
    for doc, tokens in zip(docs, recased, strict=True):
        per_document.setdefault(doc, set()).add(case_of(tokens))
    whole_upper = [cases for cases in per_document.values() if SentenceCase.UPPER in cases]
    assert whole_upper and all(cases == {SentenceCase.UPPER} for cases in whole_upper)
    alone = set.union(*(c for c in per_document.values() if SentenceCase.UPPER not in c))
    assert alone == {SentenceCase.LOWER, SentenceCase.CASED}
    same = CasingAugmentConfig(documents=0.5, sentences=0.5, styles={"upper": 1.0})
    assert augment_casing(sentences, docs, same, 4) == augment_casing(
        sentences, docs, same.model_copy(update={"sentence_styles": {"upper": 1.0}}), 4
    )


def test_style_weights_must_be_positive() -> None:
    with pytest.raises(ValueError, match="styles"):
        CasingAugmentConfig(styles={"lower": 0.0})
    with pytest.raises(ValueError, match="styles"):
        CasingAugmentConfig(sentence_styles={"upper": -1.0, "lower": 2.0})


TAGGED = Sentence(
    ["Shares", "of", "Acme", "Corp", "rose", "on", "the", "news", "in", "new", "york", "."],
    {
        "ner": ["O", "O", "B-ORG", "I-ORG", "O", "O", "O", "O", "O", "B-LOC", "I-LOC", "O"],
        "pos": ["NNS", "IN", "NNP", "NNP", "VBD", "IN", "DT", "NN", "IN", "NNP", "NNP", "."],
        "chunk": [
            *["B-NP", "B-PP", "B-NP", "I-NP", "B-VP", "B-PP"],
            *["B-NP", "I-NP", "B-PP", "B-NP", "I-NP", "O"],
        ],
    },
)
# Gold ids for TAGGED, written by hand: NER as BIOES (O=0, B=1, I=2, E=3), and for "pos" each
# token's position, so that a part whose ids are cut apart from its words shows.
TAGGED_GOLD = {"ner": [0, 0, 1, 3, 0, 0, 0, 0, 0, 1, 3, 0], "pos": list(range(12))}


def test_split_candidates_are_ordinary_lowercase_words_outside_every_span() -> None:
    # Not the first token, not a name ("york"), not a function word ("on", "the", "in"),
    # not punctuation: "rose" and "news".
    assert start_candidates(TAGGED, ["ner"]) == [4, 7]
    # Without span tasks only the word rules apply ("new" and "york" are ordinary words).
    assert start_candidates(TAGGED, []) == [4, 7, 9, 10]
    # A split may begin a chunk but not cut one ("news" and "york" continue a noun phrase).
    assert start_candidates(TAGGED, ["ner"], ["chunk"]) == [4]
    assert start_candidates(TAGGED, [], ["chunk"]) == [4, 9]


def test_split_starts_capitalise_a_new_start_and_keep_every_tag() -> None:
    sentences = [TAGGED.tokens] * 40
    gold, docs = [TAGGED_GOLD] * 40, [k // 5 for k in range(40)]
    candidates = [start_candidates(TAGGED, ["ner"])] * 40
    tokens, new_gold, new_docs = split_starts(sentences, gold, docs, candidates, 0.5, seed=3)
    assert (tokens, new_gold, new_docs) == split_starts(sentences, gold, docs, candidates, 0.5, 3)
    assert tokens != split_starts(sentences, gold, docs, candidates, 0.5, seed=4)[0]
    assert 50 < len(tokens) < 70  # about half of the 40 sentences split in two
    assert [t for s in tokens for t in s if t in {"Rose", "News"}]
    assert [t.lower() for s in tokens for t in s] == [t.lower() for s in sentences for t in s]
    for task in ("ner", "pos"):
        assert [i for g in new_gold for i in g[task]] == TAGGED_GOLD[task] * 40
    for words, row in zip(tokens, new_gold, strict=True):  # each part's ids are its own tokens'
        positions = row["pos"]  # TAGGED_GOLD's pos ids are token positions
        assert words == [
            w if i != positions[0] or i == 0 else w.capitalize()
            for i, w in zip(positions, [TAGGED.tokens[i] for i in positions], strict=True)
        ]
        assert len(row["ner"]) == len(words)
    assert all(g["ner"][0] in (0, 1) for g in new_gold)  # every part starts outside or at B
    assert [d for d, s in zip(new_docs, tokens, strict=True) for _ in s] == [
        d for d in docs for _ in TAGGED.tokens
    ]
    assert split_starts(sentences, gold, docs, candidates, 0.0, 3) == (sentences, gold, docs)
    assert len(split_starts(sentences, gold, docs, candidates, 1.0, 3)[0]) == 80
    with pytest.raises(ValueError, match="same length"):
        split_starts(sentences, gold[:3], docs, candidates, 0.5, 3)


def test_only_sentences_kept_as_written_are_split() -> None:
    recased = [TAGGED.tokens, [t.lower() for t in TAGGED.tokens]]
    candidates = [start_candidates(TAGGED, ["ner"])] * 2
    assert kept_candidates(recased, [TAGGED, TAGGED], candidates) == [[4, 7], []]


def test_recased_corpus_keeps_tags_lines_and_documents() -> None:
    corpus = read_columns(FIXTURES / "mini.conll")
    for variant in ("as_written", "lower", "upper", "title", "mixed"):
        recased = recased_corpus(corpus, variant)
        assert [s.tags for s in recased] == [s.tags for s in corpus]
        assert [s.lines for s in recased] == [s.lines for s in corpus]
        assert [s.doc_start for s in recased] == [s.doc_start for s in corpus]
    assert all(case_of(s.tokens) is not SentenceCase.CASED for s in recased_corpus(corpus, "lower"))
    with pytest.raises(ValueError, match="unknown casing variant"):
        recased_corpus(corpus, "shouting")


@pytest.mark.parametrize("name", ["mini.conll", "mini.conllu"])
@pytest.mark.parametrize("variant", ["lower", "upper", "title", "mixed"])
def test_recased_file_reads_back_with_the_same_tags(
    tmp_path: Path, name: str, variant: str
) -> None:
    source, target = FIXTURES / name, tmp_path / name
    recase_file(source, target, variant, seed=4)
    read = read_conllu if name.endswith(".conllu") else read_columns
    original, recased = read(source), read(target)
    assert [s.tags for s in recased] == [s.tags for s in original]
    assert [s.doc_start for s in recased] == [s.doc_start for s in original]
    assert [[t.lower() for t in s.tokens] for s in recased] == [
        [t.lower() for t in s.tokens] for s in original
    ]
    if variant in ("lower", "upper"):
        expected = SentenceCase[variant.upper()]
        assert {case_of(s.tokens) for s in recased} <= {expected, SentenceCase.NO_LETTERS}
    again = tmp_path / f"again-{name}"
    recase_file(source, again, variant, seed=4)
    assert again.read_bytes() == target.read_bytes()


def test_sentence_starts_must_stay_outside_span_tasks_only(corpus, tmp_path) -> None:
    overrides = {"augment_casing": {"sentence_starts": 0.5, "starts_outside": ["pos"]}}
    config = TrainConfig.model_validate(tiny_config(corpus, tmp_path / "run", **overrides))
    with pytest.raises(ConfigError, match=r"\['pos'\] are not span tasks"):
        train(config)


def test_training_with_augmentation_selects_on_recased_validation(corpus, tmp_path) -> None:
    overrides = {
        "augment_casing": {"documents": 0.3, "sentences": 0.3, "sentence_starts": 0.5},
        "select_casings": ["as_written", "lower"],
        "report_casings": ["lower", "upper", "mixed"],
        "model": {
            "hidden_size": 16,
            "char_filters": 8,
            "char_dim": 8,
            "use_glove": False,
            "sentence_casing_dim": 4,
            "truecase_words": True,
        },
    }
    config = TrainConfig.model_validate(
        tiny_config(corpus, tmp_path / "run", epochs=3, **overrides)
    )
    results = train(config)
    assert set(results["test_casings"]) == {"lower", "upper", "mixed"}
    assert set(results["test_casings"]["lower"]) == {"pos", "chunk", "ner"}
    tagger = Tagger.load(tmp_path / "run" / "model")
    assert tagger.metrics["test_casings"] == results["test_casings"]
    assert tagger.network.config.truecase_words and tagger.featurizer.truecase
    assert tagger.featurizer.sentence_casing
