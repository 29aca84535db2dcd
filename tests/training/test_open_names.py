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
    UNKNOWN_TAG,
    capitalised_words,
    load_open_names,
    name_free,
    open_words,
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
    every = load_open_names(path, ["ner", "other"], None, seed=1)
    assert len(every) == 22  # all but "... !", which has no ordinary word
    assert all(s.doc_start and set(s.tags) == {"ner", "other"} for s in every)
    assert every[3].tags["ner"] == [UNKNOWN_TAG, "O", "O", "O"]  # Joe called me .
    assert every[0].lines == [2, 3, 4, 5, 6, 7, 8]  # the file's lines, for error messages
    sample = load_open_names(path, ["ner"], 5, seed=1)
    assert len(sample) == 5
    assert [s.lines for s in sample] == [s.lines for s in load_open_names(path, ["ner"], 5, 1)]
    assert [s.lines for s in sample] != [s.lines for s in load_open_names(path, ["ner"], 5, 2)]


def test_open_tags_encode_as_unknown_and_other_tags_must_be_o(corpus) -> None:
    from tagger.config import TaskSpec
    from tagger.crf import UNKNOWN
    from tagger.schemes import Scheme

    spec = TaskSpec.span("ner", ["O", "B-PER", "I-PER"], Scheme.IOB2)
    partial = Sentence(["Joe", "called"], {"ner": [UNKNOWN_TAG, "O"]})
    assert encode_tags([partial], [spec]) == [{"ner": [UNKNOWN, spec.labels.index("O")]}]
    mixed = Sentence(["Joe", "called"], {"ner": [UNKNOWN_TAG, "B-PER"]})
    with pytest.raises(ValueError, match="only O"):
        encode_tags([mixed], [spec])


def test_a_file_without_ordinary_words_or_not_conllu_is_an_error(tmp_path) -> None:
    names = write_conllu(tmp_path / "names.conllu", [("Joe Smith", "PROPN PROPN", "")])
    with pytest.raises(DataFormatError, match="no sentence with an ordinary word"):
        load_open_names(names, ["ner"], None, 1)
    with pytest.raises(DataFormatError, match=r"\.conllu"):
        load_open_names(tmp_path / "web.txt", ["ner"], None, 1)


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
