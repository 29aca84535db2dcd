"""The GloVe index read from the package's Parquet file or from a words file (no pyarrow)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tagger import glove


@pytest.fixture
def fresh_glove() -> Iterator[None]:
    """``load_glove`` re-read in the test, and again by whoever needs it after."""
    glove.load_glove.cache_clear()
    yield
    glove.load_glove.cache_clear()


def test_a_words_file_gives_the_same_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_glove: None
) -> None:
    index, vectors = glove.load_glove()
    words = tmp_path / "words.txt"
    glove.write_glove_words(words)
    assert words.read_text(encoding="utf-8").startswith("the\n,\n.\n")
    monkeypatch.setenv(glove.GLOVE_WORDS_ENV, str(words))
    glove.load_glove.cache_clear()
    again, same_vectors = glove.load_glove()
    assert again == index and again is not index
    assert np.array_equal(same_vectors[:5], vectors[:5])


def test_a_missing_words_file_says_which(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_glove: None
) -> None:
    monkeypatch.setenv(glove.GLOVE_WORDS_ENV, str(tmp_path / "absent.txt"))
    with pytest.raises(RuntimeError, match="TAGGER_GLOVE_WORDS=.*absent.txt"):
        glove.load_glove()


def test_a_words_file_of_the_wrong_length_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_glove: None
) -> None:
    words = tmp_path / "words.txt"
    words.write_text("the\nof\n", encoding="utf-8")
    monkeypatch.setenv(glove.GLOVE_WORDS_ENV, str(words))
    with pytest.raises(RuntimeError, match="2 distinct words for 400000 vectors"):
        glove.load_glove()
