"""Corpus readers: column files, CoNLL-U, dispatch by suffix and Hugging Face datasets offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tagger.data import (
    CONLL2003_COLUMNS,
    DataFormatError,
    Sentence,
    parse_columns,
    read_columns,
    read_conllu,
    read_corpus,
    read_hf,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MINI_CONLL = FIXTURES / "mini.conll"
MINI_CONLLU = FIXTURES / "mini.conllu"


# --- column files --------------------------------------------------------------------------------


def test_read_columns_conll2003() -> None:
    sentences = read_columns(MINI_CONLL)
    assert [s.tokens for s in sentences] == [
        ["EU", "rejects", "German", "call", "."],
        ["Peter", "Blackburn"],
        ["BRUSSELS", "1996-08-22"],
    ]
    assert sentences[0].tags == {
        "pos": ["NNP", "VBZ", "JJ", "NN", "."],
        "chunk": ["B-NP", "B-VP", "B-NP", "I-NP", "O"],
        "ner": ["B-ORG", "O", "B-MISC", "O", "O"],
    }
    assert sentences[1].tags["ner"] == ["B-PER", "I-PER"]
    assert sentences[2].tags["ner"] == ["B-LOC", "O"]  # last sentence has no blank line after it


def test_read_columns_line_numbers_and_document_starts() -> None:
    sentences = read_columns(MINI_CONLL)
    assert [s.lines for s in sentences] == [[3, 4, 5, 6, 7], [9, 10], [15, 16]]
    assert [s.doc_start for s in sentences] == [True, False, True]
    assert all(len(s.lines) == len(s.tokens) for s in sentences)


@pytest.mark.parametrize("columns", ["token,-,-,ner", ["token", "_", "-", "ner"]])
def test_read_columns_custom_columns_skip_dashes(columns: str | list[str]) -> None:
    sentences = read_columns(MINI_CONLL, columns)
    assert all(set(s.tags) == {"ner"} for s in sentences)
    assert sentences[0].tags["ner"] == ["B-ORG", "O", "B-MISC", "O", "O"]


def test_read_columns_token_need_not_come_first(tmp_path: Path) -> None:
    path = tmp_path / "swapped.tsv"
    path.write_text("NNP\tEU\nVBZ\trejects\n", encoding="utf-8")
    [sentence] = read_columns(path, "pos,token")
    assert sentence.tokens == ["EU", "rejects"]
    assert sentence.tags == {"pos": ["NNP", "VBZ"]}


def test_read_columns_handles_crlf_and_whitespace_only_lines(tmp_path: Path) -> None:
    path = tmp_path / "crlf.txt"
    path.write_bytes(b"a X\r\nb Y\r\n   \r\nc Z\r\n\r\n\r\n")
    sentences = read_columns(path, "token,tag")
    assert [s.tokens for s in sentences] == [["a", "b"], ["c"]]
    assert [s.tags["tag"] for s in sentences] == [["X", "Y"], ["Z"]]
    assert [s.lines for s in sentences] == [[1, 2], [4]]


def test_docstart_directly_followed_by_tokens(tmp_path: Path) -> None:
    path = tmp_path / "docs.txt"
    path.write_text("x O\n-DOCSTART- O\ny O\n\nz O\n", encoding="utf-8")
    sentences = read_columns(path, "token,ner")
    assert [s.tokens for s in sentences] == [["x"], ["y"], ["z"]]
    assert [s.doc_start for s in sentences] == [False, True, False]


def test_empty_file_gives_no_sentences(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("\n\n-DOCSTART- -X- -X- O\n\n", encoding="utf-8")
    assert read_columns(path) == []


def test_wrong_column_count_names_file_and_line() -> None:
    path = FIXTURES / "bad_columns.conll"
    with pytest.raises(DataFormatError) as caught:
        read_columns(path)
    error = caught.value
    assert (error.path, error.line) == (str(path), 5)
    assert str(error).startswith(f"{path}:5: ")
    assert "expected 4 columns" in str(error) and "got 3" in str(error)


def test_bad_utf8_names_file_and_line() -> None:
    path = FIXTURES / "latin1.tsv"
    with pytest.raises(DataFormatError, match="not valid UTF-8") as caught:
        read_columns(path, "token,pos,ner")
    assert caught.value.line == 4
    assert f"{path}:4:" in str(caught.value)


def test_bad_utf8_file_is_readable_up_to_the_bad_line(tmp_path: Path) -> None:
    """Guards the test above: the lines before the bad byte are fine UTF-8 ("Zürich")."""
    text = (FIXTURES / "latin1.tsv").read_bytes().split(b"\n")
    good = tmp_path / "good.tsv"
    good.write_bytes(b"\n".join(text[:3]))
    [sentence] = read_columns(good, "token,pos,ner")
    assert sentence.tokens == ["Zürich", "is"]


def test_missing_file_is_a_data_format_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.conll"
    with pytest.raises(DataFormatError, match="no such file") as caught:
        read_columns(path)
    assert caught.value.line is None
    assert str(path) in str(caught.value)
    with pytest.raises(DataFormatError, match="no such file"):
        read_columns(tmp_path)  # a directory is not a file either


def test_data_format_error_is_a_value_error() -> None:
    error = DataFormatError("x.conll", 3, "boom")
    assert isinstance(error, ValueError)
    assert str(error) == "x.conll:3: boom"
    assert str(DataFormatError("x.conll", None, "boom")) == "x.conll: boom"


def test_parse_columns() -> None:
    assert parse_columns("token, pos ,ner") == ("token", "pos", "ner")
    assert parse_columns(CONLL2003_COLUMNS) == CONLL2003_COLUMNS
    assert parse_columns("-,token,_,_") == ("-", "token", "_", "_")  # skips may repeat
    with pytest.raises(ValueError, match="must include 'token'"):
        parse_columns("word,ner")
    with pytest.raises(ValueError, match="twice"):
        parse_columns("token,ner,ner")


# --- CoNLL-U -------------------------------------------------------------------------------------


def test_read_conllu_keeps_syntactic_words_only() -> None:
    sentences = read_conllu(MINI_CONLLU)
    assert [s.tokens for s in sentences] == [["I", "do", "n't", "know", "."], ["Go", "home"]]
    first = sentences[0]
    assert first.tags["upos"] == ["PRON", "AUX", "PART", "VERB", "PUNCT"]
    assert first.tags["xpos"] == ["PRP", "VBP", "RB", "VB", "."]
    assert sentences[1].tags == {"upos": ["VERB", "ADV"], "xpos": ["VB", "RB"]}
    assert first.lines == [4, 6, 7, 8, 10]  # line 5 is the range 2-3, line 9 the empty node 4.1
    assert sentences[1].lines == [14, 15]


def test_read_conllu_one_task() -> None:
    sentences = read_conllu(MINI_CONLLU, ("upos",))
    assert all(set(s.tags) == {"upos"} for s in sentences)


def test_read_conllu_unknown_task() -> None:
    with pytest.raises(ValueError, match="unknown CoNLL-U task"):
        read_conllu(MINI_CONLLU, ("deprel",))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("1\tword\tword\tNOUN\tNN\t_\t0\troot\t_", "expected 10 tab-separated fields, got 9"),
        ("1 word word NOUN NN _ 0 root _ _", "expected 10 tab-separated fields, got 1"),
        ("x\tword\tword\tNOUN\tNN\t_\t0\troot\t_\t_", "bad word id 'x'"),
    ],
)
def test_read_conllu_errors_name_the_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "bad.conllu"
    good = "1\tok\tok\tADJ\tJJ\t_\t0\troot\t_\t_"
    path.write_text(f"# sent_id = 1\n{good}\n\n{line}\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=message) as caught:
        read_conllu(path)
    assert caught.value.line == 4
    assert str(path) in str(caught.value)


def test_read_conllu_keeps_spaces_inside_a_form(tmp_path: Path) -> None:
    path = tmp_path / "space.conllu"
    path.write_text("1\tNew York\tNew York\tPROPN\tNNP\t_\t0\troot\t_\t_\n", encoding="utf-8")
    [sentence] = read_conllu(path)
    assert sentence.tokens == ["New York"]


# --- read_corpus ---------------------------------------------------------------------------------


def test_read_corpus_dispatches_on_suffix() -> None:
    assert read_corpus(MINI_CONLLU) == read_conllu(MINI_CONLLU)
    assert read_corpus(MINI_CONLL) == read_columns(MINI_CONLL)
    assert read_corpus(MINI_CONLLU, conllu_tasks=("xpos",)) == read_conllu(MINI_CONLLU, ("xpos",))
    assert read_corpus(MINI_CONLL, columns="token,-,chunk,-") == read_columns(
        MINI_CONLL, "token,-,chunk,-"
    )


def test_read_corpus_reads_a_conllu_file_as_conllu() -> None:
    [first, _] = read_corpus(MINI_CONLLU)
    assert set(first.tags) == {"upos", "xpos"}
    assert "don't" not in first.tokens


# --- Hugging Face datasets (local files, offline) ------------------------------------------------


@pytest.fixture
def offline_datasets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    """Force ``datasets`` offline; return load kwargs that keep its cache under tmp_path."""
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import datasets

    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True)
    datasets.disable_progress_bars()
    return {"cache_dir": str(tmp_path / "hf-cache")}


def test_read_hf_json_with_string_tags(offline_datasets: dict[str, Any]) -> None:
    sentences = read_hf(
        "json",
        "train",
        token_column="tokens",
        tag_columns={"ner": "ner_tags", "pos": "pos"},
        data_files={"train": str(FIXTURES / "mini_ner.jsonl")},
        **offline_datasets,
    )
    assert sentences == [  # the row without tokens is skipped
        Sentence(
            ["EU", "rejects", "German", "call"],
            {"ner": ["B-ORG", "O", "B-MISC", "O"], "pos": ["NNP", "VBZ", "JJ", "NN"]},
        ),
        Sentence(["Peter", "Blackburn"], {"ner": ["B-PER", "I-PER"], "pos": ["NNP", "NNP"]}),
    ]


def test_read_hf_default_tag_column_is_ner_tags(offline_datasets: dict[str, Any]) -> None:
    files = {"train": str(FIXTURES / "mini_ner.jsonl")}
    sentences = read_hf("json", "train", data_files=files, **offline_datasets)
    assert [set(s.tags) for s in sentences] == [{"ner"}, {"ner"}]


NAMES = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG"]
ROWS = {"tokens": [["Peter", "Blackburn", "of", "EU"], ["ok"]], "ner_tags": [[1, 2, 0, 3], [0]]}
EXPECTED = [
    Sentence(["Peter", "Blackburn", "of", "EU"], {"ner": ["B-PER", "I-PER", "O", "B-ORG"]}),
    Sentence(["ok"], {"ner": ["O"]}),
]


def class_label_features() -> Any:
    from datasets import ClassLabel, Features, Sequence, Value

    return Features(
        {"tokens": Sequence(Value("string")), "ner_tags": Sequence(ClassLabel(names=NAMES))}
    )


def test_read_hf_maps_class_label_ids_to_names(
    offline_datasets: dict[str, Any], tmp_path: Path
) -> None:
    """Integer tags with ClassLabel features, the features kept in a parquet file's metadata."""
    from datasets import Dataset

    path = tmp_path / "ids.parquet"
    Dataset.from_dict(ROWS, features=class_label_features()).to_parquet(str(path))
    sentences = read_hf("parquet", "train", data_files={"train": str(path)}, **offline_datasets)
    assert sentences == EXPECTED


def test_read_hf_class_labels_given_as_features(
    offline_datasets: dict[str, Any], tmp_path: Path
) -> None:
    from datasets import Dataset

    path = tmp_path / "ids.jsonl"
    Dataset.from_dict(ROWS).to_json(str(path))  # plain integers in the file
    files = {"train": str(path)}
    plain = read_hf("json", "train", data_files=files, **offline_datasets)
    assert plain[0].tags["ner"] == ["1", "2", "0", "3"]  # no label names: ids as strings
    named = read_hf(
        "json", "train", data_files=files, features=class_label_features(), **offline_datasets
    )
    assert named == EXPECTED


def test_read_hf_missing_column(offline_datasets: dict[str, Any]) -> None:
    files = {"train": str(FIXTURES / "mini_ner.jsonl")}
    with pytest.raises(DataFormatError, match=r"missing column\(s\) \['chunk_tags'\]"):
        read_hf(
            "json",
            "train",
            tag_columns={"chunk": "chunk_tags"},
            data_files=files,
            **offline_datasets,
        )
    with pytest.raises(DataFormatError, match=r"missing column\(s\) \['words'\]"):
        read_hf("json", "train", token_column="words", data_files=files, **offline_datasets)
