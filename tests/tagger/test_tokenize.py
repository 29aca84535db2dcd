"""Tests for the rule-based sentence splitter and word tokenizer."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tagger.tokenize import tokenize, tokenize_words
from tagger.types import Token


def words(text: str) -> list[str]:
    """Token texts of ``text`` without sentence splitting."""
    return [t.text for t in tokenize_words(text)]


def sentences(text: str) -> list[list[str]]:
    """Token texts of ``text``, per sentence."""
    return [[t.text for t in sentence] for sentence in tokenize(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I like eating apple!", "I like eating apple !"),
        ("The Apple is a great company!", "The Apple is a great company !"),
        ("Hello, world; fine: yes.", "Hello , world ; fine : yes ."),
        ("(see above)", "( see above )"),
        ('He said "hi" and \u201cbye\u201d.', 'He said " hi " and \u201c bye \u201d .'),
        ("Wait... what?!", "Wait ... what ?!"),
        ("Wait\u2026 what", "Wait \u2026 what"),
        ("It costs $5 or 10% more.", "It costs $ 5 or 10 % more ."),
        ("a -- b", "a -- b"),
    ],
)
def test_punctuation_is_split_off(text: str, expected: str) -> None:
    assert words(text) == expected.split()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("don't", "do n't"),
        ("John's", "John 's"),
        ("we've", "we 've"),
        ("I'm", "I 'm"),
        ("they're", "they 're"),
        ("she'll", "she 'll"),
        ("he'd", "he 'd"),
        ("can't", "ca n't"),
        ("won't", "wo n't"),
        ("DON'T", "DO N'T"),
        ("isn\u2019t", "is n\u2019t"),
        ("John\u2019s", "John \u2019s"),
        ("the players' union", "the players ' union"),
        ("O'Neill", "O'Neill"),
        ("O'Neill's", "O'Neill 's"),
        ("cannot", "can not"),
        ("gonna", "gon na"),
    ],
)
def test_ptb_clitics(text: str, expected: str) -> None:
    assert words(text) == expected.split()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the U.S. economy", "the U.S. economy"),
        ("Mr. Smith", "Mr. Smith"),
        ("Acme Corp. said", "Acme Corp. said"),
        ("J. Smith", "J. Smith"),
        ("fruit, e.g. apples", "fruit , e.g. apples"),
        ("apples, pears, etc. are", "apples , pears , etc. are"),
        ("at 9 a.m. today", "at 9 a.m. today"),
        ("No. 5 seed", "No. 5 seed"),
        ("He works at Acme Corp.", "He works at Acme Corp ."),
        ("He moved to the U.S.", "He moved to the U.S ."),
    ],
)
def test_abbreviations_and_initials(text: str, expected: str) -> None:
    assert words(text) == expected.split()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,000 people", "1,000 people"),
        ("3.5 percent", "3.5 percent"),
        ("on 1996-08-22 .", "on 1996-08-22 ."),
        ("won 6-3 at 12:30", "won 6-3 at 12:30"),
        ("rose 1.5%.", "rose 1.5 % ."),
        ("German-born", "German-born"),
        ("a well-known plan", "a well-known plan"),
        ("AT&T", "AT&T"),
        ("US$ 5", "US$ 5"),
    ],
)
def test_numbers_and_hyphens(text: str, expected: str) -> None:
    assert words(text) == expected.split()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("see https://example.com/a?b=c.", "see https://example.com/a?b=c ."),
        ("(www.example.org)", "( www.example.org )"),
        ("mail john.smith@example.com, now", "mail john.smith@example.com , now"),
    ],
)
def test_urls_and_emails(text: str, expected: str) -> None:
    assert words(text) == expected.split()


def test_offsets_point_into_the_text() -> None:
    text = "  Caf\u00e9 d\u00e9j\u00e0-vu \U0001f600 don't.\n"
    tokens = tokenize_words(text)
    assert [t.text for t in tokens] == [
        "Caf\u00e9",
        "d\u00e9j\u00e0-vu",
        "\U0001f600",
        "do",
        "n't",
        ".",
    ]
    assert tokens[0] == Token("Caf\u00e9", 2, 6)
    assert all(text[t.start : t.end] == t.text for t in tokens)


def test_combining_marks_and_emoji_sequences_stay_whole() -> None:
    assert words("cafe\u0301 ok") == ["cafe\u0301", "ok"]
    thumbs, family, flag = (
        "\U0001f44d\U0001f3fd",
        "\U0001f468\u200d\U0001f469",
        "\U0001f1fa\U0001f1f8",
    )
    assert words(f"{thumbs} {family}{flag}!") == [thumbs, family, flag, "!"]


@pytest.mark.parametrize("text", ["", " ", "\n\n\t ", "\u00a0\u2003\u3000"])
def test_empty_or_whitespace(text: str) -> None:
    assert tokenize(text) == []
    assert tokenize_words(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It rained. We stayed in.", [["It", "rained", "."], ["We", "stayed", "in", "."]]),
        ("Really? Yes! Fine.", [["Really", "?"], ["Yes", "!"], ["Fine", "."]]),
        (
            'He said "no." Then he left.',
            [["He", "said", '"', "no", ".", '"'], ["Then", "he", "left", "."]],
        ),
        ("(It works.) Good.", [["(", "It", "works", ".", ")"], ["Good", "."]]),
        ("It rose 5%. 3 firms fell.", [["It", "rose", "5", "%", "."], ["3", "firms", "fell", "."]]),
        ("Wait\u2026 Then go.", [["Wait", "\u2026"], ["Then", "go", "."]]),
        ("i said so. then i left", [["i", "said", "so", "."], ["then", "i", "left"]]),
    ],
)
def test_sentence_splitting(text: str, expected: list[list[str]]) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Mr. Smith met Dr. Jones at Acme Corp. Inc. yesterday.",
        "The U.S. Army and the U.N. Security Council agreed.",
        "Fruit, e.g. Apples, and vegetables, etc. Were sold.",
        "A letter from J. R. R. Tolkien arrived.",
        "Yahoo! is a company.",
        "It was... well, fine.",
        "He is 6 ft. tall and weighs 200 lbs. or so.",
        "Version 3.5 is out.",
        "He stopped.Then he went on.",
    ],
)
def test_no_split_inside_sentences(text: str) -> None:
    assert len(tokenize(text)) == 1


def test_blank_lines_split_sentences() -> None:
    text = "Title line\n\nFirst paragraph here\n \n\nSecond one\nstill second"
    assert sentences(text) == [
        ["Title", "line"],
        ["First", "paragraph", "here"],
        ["Second", "one", "still", "second"],
    ]


def test_tokenize_agrees_with_tokenize_words() -> None:
    text = "Mr. Smith (of Acme Corp.) didn't go.  He stayed!\n\nNew paragraph... ok?"
    assert [t for sentence in tokenize(text) for t in sentence] == tokenize_words(text)


def check_invariants(text: str, tokens: list[Token]) -> None:
    """Offsets match, tokens are non-empty, ordered, disjoint, whitespace-free and complete."""
    previous_end = 0
    for token in tokens:
        assert isinstance(token, Token)
        assert token.text
        assert text[token.start : token.end] == token.text
        assert token.start >= previous_end
        assert not any(char.isspace() for char in token.text)
        assert all(char.isspace() for char in text[previous_end : token.start])
        previous_end = token.end
    assert all(char.isspace() for char in text[previous_end:])
    assert "".join(t.text for t in tokens) == "".join(c for c in text if not c.isspace())


_ANY_TEXT = st.text(st.characters(exclude_categories=()))  # every category, surrogates too
_ENGLISH_LIKE = st.text(
    st.sampled_from(list("aAbBsStTnNmMiIeUS019 .,!?;:'\u2019\"()-$%&@/\n\t\u2026\u00a0\u0301")),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_ANY_TEXT, _ENGLISH_LIKE))
def test_tokenizer_invariants(text: str) -> None:
    flat = tokenize_words(text)
    check_invariants(text, flat)
    split = tokenize(text)
    assert all(split)
    assert [t for sentence in split for t in sentence] == flat
    if not text or text.isspace():
        assert split == []
