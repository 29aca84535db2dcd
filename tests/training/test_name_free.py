"""Sentences without names as extra training data: which qualify, and training with them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tagger import Tagger
from tagger.data import DataFormatError, Sentence
from tests.training.conftest import tiny_config
from training.config import ConfigError, TrainConfig
from training.name_free import capitalised_words, load_name_free, name_free
from training.train import train

# (tokens, UPOS) of a small treebank; the comment says whether the sentence qualifies.
TREEBANK = [
    ("Hope is what keeps us going .", "NOUN AUX PRON VERB PRON VERB PUNCT"),  # yes
    ("I think I like it .", "PRON VERB PRON VERB PRON PUNCT"),  # yes: the pronoun I is no name
    ("We ate there twice", "PRON VERB ADV ADV"),  # yes
    ("we ate there twice", "PRON VERB ADV ADV"),  # no: no capital at its start
    ("Joe called me .", "PROPN VERB PRON PUNCT"),  # no: a proper noun
    ("The American food was fine .", "DET ADJ NOUN AUX ADJ PUNCT"),  # no: a capital inside
    ("American food is fine .", "ADJ NOUN AUX ADJ PUNCT"),  # no: "American" usually capitalised
    ("Mostly American food .", "ADV ADJ NOUN PUNCT"),  # no: a capital inside
    ("She met the CEO .", "PRON VERB DET NOUN PUNCT"),  # no: capitals inside, even tagged NOUN
    ("... !", "PUNCT PUNCT"),  # no: no word at all
]


def sentences() -> list[Sentence]:
    return [Sentence(t.split(), {"upos": u.split()}) for t, u in TREEBANK]


def write_conllu(path: Path, rows: list[tuple[str, str]]) -> Path:
    lines = []
    for number, (text, upos) in enumerate(rows, start=1):
        lines.append(f"# sent_id = {number}")
        for index, (token, tag) in enumerate(zip(text.split(), upos.split(), strict=True), 1):
            lines.append(f"{index}\t{token}\t_\t{tag}\t_\t_\t0\t_\t_\t_")
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_only_sentences_without_proper_nouns_or_inner_capitals_qualify() -> None:
    kept = [" ".join(s.tokens) for s in name_free(sentences())]
    assert kept == [TREEBANK[0][0], TREEBANK[1][0], TREEBANK[2][0]]


def test_usually_capitalised_words_are_counted_past_the_first_token() -> None:
    words = capitalised_words(sentences())
    assert "american" in words and "ceo" in words
    assert "hope" not in words and "i" in words  # "Hope" is only ever a first word


def test_loaded_sentences_are_documents_tagged_o_and_sampled_by_seed(tmp_path) -> None:
    path = write_conllu(tmp_path / "web.conllu", TREEBANK * 4)
    every = load_name_free(path, ["ner", "chunk"], None, seed=1)
    assert len(every) == 12
    assert all(
        s.doc_start and s.tags == {t: ["O"] * len(s.tokens) for t in ("ner", "chunk")}
        for s in every
    )
    assert every[0].lines == [2, 3, 4, 5, 6, 7, 8]  # the file's lines, for error messages
    sample = load_name_free(path, ["ner"], 5, seed=1)
    assert len(sample) == 5
    assert [s.lines for s in sample] == [s.lines for s in load_name_free(path, ["ner"], 5, 1)]
    assert [s.lines for s in sample] != [s.lines for s in load_name_free(path, ["ner"], 5, 2)]


def test_a_file_without_such_sentences_or_not_conllu_is_an_error(tmp_path) -> None:
    named = write_conllu(tmp_path / "named.conllu", [TREEBANK[3]])
    with pytest.raises(DataFormatError, match="no sentence without a name"):
        load_name_free(named, ["ner"], None, 1)
    with pytest.raises(DataFormatError, match=r"\.conllu"):
        load_name_free(tmp_path / "web.txt", ["ner"], None, 1)


def test_training_reads_them_but_keeps_the_labelled_vocabulary(corpus, tmp_path) -> None:
    web = write_conllu(tmp_path / "web.conllu", TREEBANK * 3)
    overrides = {
        "data": {
            "train": str(corpus["train"]),
            "valid": str(corpus["valid"]),
            "columns": ["token", "-", "-", "ner"],
            "name_free": {"path": str(web)},
        },
    }
    config = TrainConfig.model_validate(tiny_config(corpus, tmp_path / "run", **overrides))
    train(config)
    tagger = Tagger.load(tmp_path / "run" / "model")
    assert "keeps" not in tagger.words.stoi  # a word of the name-free sentences only
    recorded = [entry["path"] for entry in tagger.meta["training_data"]]
    assert recorded[-1] == str(web)


def test_a_model_with_a_plain_task_cannot_take_them(corpus, tmp_path) -> None:
    web = write_conllu(tmp_path / "web.conllu", TREEBANK)
    data = {"train": str(corpus["train"]), "name_free": {"path": str(web)}}
    config = TrainConfig.model_validate(tiny_config(corpus, tmp_path / "run", data=data))
    with pytest.raises(ConfigError, match=r"span tasks only.*\['pos'\]"):
        train(config)
