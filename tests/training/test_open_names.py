"""Treebank sentences as partly labelled training data: which words stay open, and training."""

from __future__ import annotations

from pathlib import Path

import pytest

from tagger import Tagger
from tagger.data import DataFormatError, Sentence
from tests.training.conftest import tiny_config
from training.config import ConfigError, TrainConfig
from training.corpus import encode_tags
from training.open_names import (
    NAME_TAG,
    OPEN_TAG,
    capitalised_words,
    load_open_names,
    name_free,
    open_words,
    outside_capitalised,
)
from training.train import train

# (tokens, UPOS, the words that must stay open) of a small treebank.
TREEBANK = [
    ("Hope is what keeps us going .", "NOUN AUX PRON VERB PRON VERB PUNCT", ""),
    ("I think I like it .", "PRON VERB PRON VERB PRON PUNCT", ""),
    ("we ate there twice", "PRON VERB ADV ADV", ""),
    ("Joe called me .", "PROPN VERB PRON PUNCT", "Joe"),
    ("The American food was fine .", "DET ADJ NOUN AUX ADJ PUNCT", "American"),
    ("American food is fine .", "ADJ NOUN AUX ADJ PUNCT", "American"),
    ("She met the CEO .", "PRON VERB DET NOUN PUNCT", "CEO"),
    ("i work at bank of america now", "PRON VERB ADP PROPN ADP PROPN ADV", "bank of america"),
    ("He loves the Lord of the Rings", "PRON VERB DET PROPN ADP DET PROPN", "Lord of the Rings"),
    ("Windows 7 crashed again", "PROPN NUM VERB ADV", "Windows 7"),
    ("Paris is far from my home in Lyon", "PROPN AUX ADV ADP PRON NOUN ADP PROPN", "Paris Lyon"),
    ("... !", "PUNCT PUNCT", ""),
]


def sentences() -> list[Sentence]:
    return [Sentence(t.split(), {"upos": u.split()}) for t, u, _ in TREEBANK]


def write_conllu(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    lines = []
    for number, (text, upos, _) in enumerate(rows, start=1):
        lines.append(f"# sent_id = {number}")
        for index, (token, tag) in enumerate(zip(text.split(), upos.split(), strict=True), 1):
            lines.append(f"{index}\t{token}\t_\t{tag}\t_\t_\t0\t_\t_\t_")
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_names_and_the_words_inside_them_stay_open_and_the_rest_is_outside() -> None:
    treebank = sentences()
    capitalised = capitalised_words(treebank)
    for sentence, (_, _, expected) in zip(treebank, TREEBANK, strict=True):
        flags = open_words(sentence, capitalised)
        assert " ".join(t for t, f in zip(sentence.tokens, flags, strict=True) if f) == expected


def test_usually_capitalised_words_are_counted_past_the_first_token() -> None:
    words = capitalised_words(sentences())
    assert {"american", "ceo", "i", "lyon"} <= words
    assert "hope" not in words and "paris" not in words  # only ever first words here


def test_name_free_sentences_have_no_open_word() -> None:
    kept = [" ".join(s.tokens) for s in name_free(sentences())]
    assert kept == [TREEBANK[0][0], TREEBANK[1][0], TREEBANK[2][0]]


def test_loaded_sentences_are_documents_sampled_by_seed(tmp_path) -> None:
    path = write_conllu(tmp_path / "web.conllu", TREEBANK * 2)
    every = load_open_names(path, ["ner", "other"], set(), None, seed=1)
    assert len(every) == 22  # all but "... !", which has no ordinary word
    assert all(s.doc_start and set(s.tags) == {"ner", "other"} for s in every)
    assert every[0].lines == [2, 3, 4, 5, 6, 7, 8]  # the file's lines, for error messages
    sample = load_open_names(path, ["ner"], set(), 5, seed=1)
    assert len(sample) == 5
    again = load_open_names(path, ["ner"], set(), 5, seed=1)
    assert [s.lines for s in sample] == [s.lines for s in again]
    other = load_open_names(path, ["ner"], set(), 5, seed=2)
    assert [s.lines for s in sample] != [s.lines for s in other]


def test_proper_nouns_are_names_unless_the_labelled_data_capitalises_them_outside_names(
    tmp_path,
) -> None:
    rows = [("Joe called me on Monday", "PROPN VERB PRON ADP PROPN", "Joe Monday")]
    path = write_conllu(tmp_path / "web.conllu", rows + [TREEBANK[7]])
    joe, bank = load_open_names(path, ["ner"], {"monday"}, None, seed=1)
    assert joe.tags["ner"] == [NAME_TAG, "O", "O", "O", OPEN_TAG]
    assert bank.tags["ner"] == ["O", "O", "O", NAME_TAG, OPEN_TAG, NAME_TAG, "O"]


def test_words_capitalised_outside_names_in_ordinary_labelled_sentences() -> None:
    def sentence(text: str, ner: str) -> Sentence:
        return Sentence(text.split(), {"ner": ner.split()})

    labelled = [
        sentence("He met Mr Smith on Monday", "O O O B-PER O O"),
        sentence("Smith left on Monday", "B-PER O O O"),
        sentence("Monday Mr Smith said", "O O B-PER O"),  # a first word is not counted
        sentence("MONDAY MARKETS CLOSED", "O O O"),  # a headline: its capitals are its style
        sentence("The Monday Club met", "O B-ORG I-ORG O"),
    ]
    # mr: 2 outside; monday: 2 outside, 1 inside; smith and club: inside only
    assert outside_capitalised(labelled, ["ner"]) == {"mr", "monday"}


def test_open_and_name_tags_encode_as_partial_ids_and_other_tags_must_be_o() -> None:
    from tagger.config import TaskSpec
    from tagger.partial import IN_NAME, UNKNOWN
    from tagger.schemes import Scheme

    spec = TaskSpec.span("ner", ["O", "B-PER", "I-PER"], Scheme.IOB2)
    partial = Sentence(["Joe", "called", "Al"], {"ner": [NAME_TAG, "O", OPEN_TAG]})
    outside = spec.labels.index("O")
    assert encode_tags([partial], [spec]) == [{"ner": [IN_NAME, outside, UNKNOWN]}]
    mixed = Sentence(["Joe", "called"], {"ner": [OPEN_TAG, "B-PER"]})
    with pytest.raises(ValueError, match="may hold only"):
        encode_tags([mixed], [spec])


def test_a_file_without_ordinary_words_or_not_conllu_is_an_error(tmp_path) -> None:
    names = write_conllu(tmp_path / "names.conllu", [("Joe Smith", "PROPN PROPN", "")])
    with pytest.raises(DataFormatError, match="no sentence with an ordinary word"):
        load_open_names(names, ["ner"], set(), None, 1)
    with pytest.raises(DataFormatError, match=r"\.conllu"):
        load_open_names(tmp_path / "web.txt", ["ner"], set(), None, 1)


def test_training_reads_them_but_keeps_the_labelled_vocabulary(corpus, tmp_path) -> None:
    web = write_conllu(tmp_path / "web.conllu", TREEBANK * 3)
    overrides = {
        "data": {
            "train": str(corpus["train"]),
            "valid": str(corpus["valid"]),
            "columns": ["token", "-", "-", "ner"],
            "open_names": {"path": str(web)},
        },
        "augment_casing": {"documents": 0.3, "sentences": 0.3, "sentence_starts": 0.5},
    }
    config = TrainConfig.model_validate(tiny_config(corpus, tmp_path / "run", **overrides))
    results = train(config)
    assert results["valid"]["ner"]["f1"] > 0
    tagger = Tagger.load(tmp_path / "run" / "model")
    assert "keeps" not in tagger.words.stoi  # a word of the treebank only
    recorded = [entry["path"] for entry in tagger.meta["training_data"]]
    assert recorded[-1] == str(web)


def test_a_model_with_a_plain_task_cannot_take_them(corpus, tmp_path) -> None:
    web = write_conllu(tmp_path / "web.conllu", TREEBANK)
    data = {"train": str(corpus["train"]), "open_names": {"path": str(web)}}
    config = TrainConfig.model_validate(tiny_config(corpus, tmp_path / "run", data=data))
    with pytest.raises(ConfigError, match=r"span tasks only.*\['pos'\]"):
        train(config)
