"""Tag schemes: span decoding and encoding, conversions, validation, detection, transitions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tagger.schemes import (
    Scheme,
    TagSequenceError,
    convert,
    detect_scheme,
    encode,
    spans,
    split_tag,
    transition_allowed,
    validate,
)

# The same spans written in each scheme: [PER 0-2] [PER 2-3] O [LOC 4-5] [ORG 5-8] O
SAME = {
    Scheme.IOB1: ["I-PER", "I-PER", "B-PER", "O", "I-LOC", "I-ORG", "I-ORG", "I-ORG", "O"],
    Scheme.IOB2: ["B-PER", "I-PER", "B-PER", "O", "B-LOC", "B-ORG", "I-ORG", "I-ORG", "O"],
    Scheme.BIOES: ["B-PER", "E-PER", "S-PER", "O", "S-LOC", "B-ORG", "I-ORG", "E-ORG", "O"],
}
SAME_SPANS = [("PER", 0, 2), ("PER", 2, 3), ("LOC", 4, 5), ("ORG", 5, 8)]
SCHEMES = list(Scheme)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_spans_of_hand_case(scheme: Scheme) -> None:
    assert spans(SAME[scheme], scheme) == SAME_SPANS


@pytest.mark.parametrize("scheme", SCHEMES)
def test_encode_hand_case(scheme: Scheme) -> None:
    assert encode(SAME_SPANS, 9, scheme) == SAME[scheme]


@pytest.mark.parametrize("source", SCHEMES)
@pytest.mark.parametrize("target", SCHEMES)
def test_convert_hand_case(source: Scheme, target: Scheme) -> None:
    assert convert(SAME[source], source, target) == SAME[target]


@pytest.mark.parametrize(
    ("tags", "scheme", "expected"),
    [
        ([], Scheme.IOB2, []),
        (["O", "O"], Scheme.BIOES, []),
        (["B-PER"], Scheme.IOB2, [("PER", 0, 1)]),
        (["I-PER"], Scheme.IOB1, [("PER", 0, 1)]),
        (["S-PER"], Scheme.BIOES, [("PER", 0, 1)]),
        (["B-PER", "I-LOC"], Scheme.IOB2, [("PER", 0, 1), ("LOC", 1, 2)]),  # lenient
        (["O", "I-PER", "I-PER"], Scheme.IOB2, [("PER", 1, 3)]),  # lenient: I- starts a span
        (["B-PER", "I-PER", "I-PER"], Scheme.BIOES, [("PER", 0, 3)]),  # lenient: no E-
        (["E-PER", "O"], Scheme.BIOES, [("PER", 0, 1)]),  # lenient: E- alone
        (["S-PER", "S-PER"], Scheme.BIOES, [("PER", 0, 1), ("PER", 1, 2)]),
        (["B-PER", "B-PER"], Scheme.IOB2, [("PER", 0, 1), ("PER", 1, 2)]),
        (["I-PER", "B-PER", "I-PER"], Scheme.IOB1, [("PER", 0, 1), ("PER", 1, 3)]),
    ],
)
def test_spans_edge_cases(
    tags: list[str], scheme: Scheme, expected: list[tuple[str, int, int]]
) -> None:
    assert spans(tags, scheme) == expected


def test_iob1_uses_b_only_between_adjacent_spans_of_one_type() -> None:
    assert encode([("PER", 0, 1), ("LOC", 1, 2)], 2, Scheme.IOB1) == ["I-PER", "I-LOC"]
    assert encode([("PER", 0, 1), ("PER", 1, 2)], 2, Scheme.IOB1) == ["I-PER", "B-PER"]
    assert encode([("PER", 0, 1), ("PER", 2, 3)], 3, Scheme.IOB1) == ["I-PER", "O", "I-PER"]


def test_convert_returns_a_copy_for_the_same_scheme() -> None:
    tags = ["B-PER", "O"]
    out = convert(tags, Scheme.IOB2, Scheme.IOB2)
    assert out == tags and out is not tags


def test_split_tag() -> None:
    assert split_tag("O") == ("O", None)
    assert split_tag("B-PER") == ("B", "PER")
    assert split_tag("I-B-X") == ("I", "B-X")
    for bad in ["", "PER", "B-", "X-PER", "b-PER", "B_PER", "-PER", "o"]:
        with pytest.raises(TagSequenceError):
            split_tag(bad)


# --- property: random span lists survive every encoding and conversion --------------------------


@st.composite
def span_lists(draw: st.DrawFn) -> tuple[list[tuple[str, int, int]], int]:
    """Sorted, non-overlapping spans over a sentence, adjacent spans of the same type allowed."""
    segments = draw(
        st.lists(
            st.tuples(st.sampled_from(["O", "PER", "LOC", "MISC"]), st.integers(1, 4)),
            max_size=8,
        )
    )
    result, position = [], 0
    for label, size in segments:
        if label != "O":
            result.append((label, position, position + size))
        position += size
    return result, position + draw(st.integers(0, 2))


@settings(max_examples=60, deadline=None)
@given(case=span_lists(), scheme=st.sampled_from(SCHEMES))
def test_encode_then_decode_gives_the_spans_back(
    case: tuple[list[tuple[str, int, int]], int], scheme: Scheme
) -> None:
    span_list, length = case
    tags = encode(span_list, length, scheme)
    assert len(tags) == length
    validate(tags, scheme)
    assert spans(tags, scheme) == span_list


@settings(max_examples=60, deadline=None)
@given(case=span_lists(), source=st.sampled_from(SCHEMES), target=st.sampled_from(SCHEMES))
def test_conversion_preserves_spans(
    case: tuple[list[tuple[str, int, int]], int], source: Scheme, target: Scheme
) -> None:
    span_list, length = case
    converted = convert(encode(span_list, length, source), source, target)
    assert converted == encode(span_list, length, target)
    assert spans(converted, target) == span_list
    assert convert(converted, target, source) == encode(span_list, length, source)


@settings(max_examples=40, deadline=None)
@given(case=span_lists())
def test_detect_scheme_of_encoded_spans(case: tuple[list[tuple[str, int, int]], int]) -> None:
    span_list, length = case
    assert detect_scheme([encode(span_list, length, Scheme.IOB2)]) is Scheme.IOB2
    if span_list:  # without spans there is nothing to tell the schemes apart
        assert detect_scheme([encode(span_list, length, Scheme.BIOES)]) is Scheme.BIOES
        assert detect_scheme([encode(span_list, length, Scheme.IOB1)]) is Scheme.IOB1


# --- validate ------------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES)
def test_validate_accepts_valid_sequences(scheme: Scheme) -> None:
    validate(SAME[scheme], scheme)
    validate([], scheme)
    validate(["O", "O"], scheme)


@pytest.mark.parametrize(
    ("tags", "scheme", "index", "message"),
    [
        (["O", "I-PER"], Scheme.IOB2, 1, "cannot follow 'O'"),
        (["I-PER"], Scheme.IOB2, 0, "cannot follow 'O'"),
        (["B-PER", "I-PER", "I-LOC"], Scheme.IOB2, 2, "cannot follow 'I-PER'"),
        (["O", "B-PER", "E-PER"], Scheme.IOB2, 2, "not allowed in iob2"),
        (["S-PER"], Scheme.IOB1, 0, "not allowed in iob1"),
        (["O", "O", "E-PER"], Scheme.BIOES, 2, "cannot follow 'O'"),
        (["S-PER", "E-PER"], Scheme.BIOES, 1, "cannot follow 'S-PER'"),
        (["B-PER", "E-LOC"], Scheme.BIOES, 1, "cannot follow 'B-PER'"),
        (["B-PER", "O"], Scheme.BIOES, 1, "cannot follow 'B-PER'"),
        (["B-PER", "S-PER"], Scheme.BIOES, 1, "cannot follow 'B-PER'"),
        (["O", "I-PER", "E-PER"], Scheme.BIOES, 1, "cannot follow 'O'"),
        (["O", "B-PER", "I-PER"], Scheme.BIOES, 2, "ends inside a span"),
        (["B-PER"], Scheme.BIOES, 0, "ends inside a span"),
    ],
)
def test_validate_rejects_with_the_offending_index(
    tags: list[str], scheme: Scheme, index: int, message: str
) -> None:
    with pytest.raises(TagSequenceError, match=message) as caught:
        validate(tags, scheme)
    assert caught.value.index == index
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("bad", ["PER", "X-PER", "B-", "B_PER", "o", ""])
def test_validate_rejects_bad_prefixes_at_their_position(scheme: Scheme, bad: str) -> None:
    with pytest.raises(TagSequenceError) as caught:
        validate(["O", "O", bad, "O"], scheme)
    assert caught.value.index == 2
    assert repr(bad) in str(caught.value)


def test_iob1_validation_allows_i_after_o() -> None:
    validate(["O", "I-PER", "I-LOC", "B-LOC"], Scheme.IOB1)


# --- detect_scheme --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentences", "expected"),
    [
        ([], Scheme.IOB2),
        ([["O", "O"]], Scheme.IOB2),
        ([["B-PER", "I-PER"], ["O", "B-LOC"]], Scheme.IOB2),
        # A B- tag that starts a span after O is IOB2 (IOB1 never does that): a stray I- after
        # O is then an error that validation reports, not a reason to read the file as IOB1.
        ([["B-PER", "I-PER"], ["O", "I-LOC"]], Scheme.IOB2),
        ([["I-PER", "O"]], Scheme.IOB1),
        ([["I-PER", "B-PER"], ["O", "I-LOC"]], Scheme.IOB1),
        ([["B-PER", "I-LOC"]], Scheme.IOB2),
        ([["B-PER", "I-PER"], ["S-LOC"]], Scheme.BIOES),
        ([["B-PER", "E-PER"]], Scheme.BIOES),
    ],
)
def test_detect_scheme(sentences: list[list[str]], expected: Scheme) -> None:
    assert detect_scheme(sentences) is expected


# --- transition_allowed ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("previous", "current", "scheme", "allowed"),
    [
        ("O", "I-PER", Scheme.IOB2, False),
        ("B-PER", "I-PER", Scheme.IOB2, True),
        ("I-PER", "I-PER", Scheme.IOB2, True),
        ("B-LOC", "I-PER", Scheme.IOB2, False),
        ("O", "B-PER", Scheme.IOB2, True),
        ("I-PER", "O", Scheme.IOB2, True),
        ("O", "I-PER", Scheme.IOB1, True),
        ("I-PER", "B-PER", Scheme.IOB1, True),
        ("O", "B-PER", Scheme.IOB1, False),
        ("I-LOC", "B-PER", Scheme.IOB1, False),
        ("O", "B-PER", Scheme.BIOES, True),
        ("O", "S-PER", Scheme.BIOES, True),
        ("O", "I-PER", Scheme.BIOES, False),
        ("O", "E-PER", Scheme.BIOES, False),
        ("B-PER", "I-PER", Scheme.BIOES, True),
        ("B-PER", "E-PER", Scheme.BIOES, True),
        ("I-PER", "E-PER", Scheme.BIOES, True),
        ("I-PER", "E-LOC", Scheme.BIOES, False),
        ("B-PER", "O", Scheme.BIOES, False),
        ("I-PER", "B-PER", Scheme.BIOES, False),
        ("E-PER", "O", Scheme.BIOES, True),
        ("E-PER", "B-LOC", Scheme.BIOES, True),
        ("S-PER", "S-PER", Scheme.BIOES, True),
        ("S-PER", "I-PER", Scheme.BIOES, False),
    ],
)
def test_transition_allowed(previous: str, current: str, scheme: Scheme, allowed: bool) -> None:
    assert transition_allowed(previous, current, scheme) is allowed


@settings(max_examples=40, deadline=None)
@given(case=span_lists(), scheme=st.sampled_from([Scheme.IOB2, Scheme.BIOES]))
def test_encoded_sequences_only_use_allowed_transitions(
    case: tuple[list[tuple[str, int, int]], int], scheme: Scheme
) -> None:
    tags = ["O", *encode(*case, scheme), "O"]
    assert all(transition_allowed(a, b, scheme) for a, b in zip(tags, tags[1:], strict=False))
