"""The staged pipeline: tokenised documents, offsets of empty sentences, merging models' tags,
and the one path shared by tag, tag_tokens, tag_many and predict."""

from __future__ import annotations

import pytest

from tagger import pipeline
from tagger.pipeline import TokenizedSentence, from_tokens, tokenize_text
from tagger.testing import random_tagger
from tagger.types import TaskTags

NER = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG"]


@pytest.fixture(scope="module")
def context_model():
    return random_tagger({"ner": NER, "pos": ["NN", "VB", "."]}, seed=2, context_tokens=12)


def test_from_tokens_joins_with_spaces_and_places_empty_sentences() -> None:
    document = from_tokens([[], ["Apple", "is"], [], ["big"], []])
    assert document.text == "Apple is big"
    assert document.sentences == [
        TokenizedSentence([], 0, 0),
        TokenizedSentence(document.sentences[1].tokens, 0, 8),
        TokenizedSentence([], 8, 8),  # where the previous sentence ended
        TokenizedSentence(document.sentences[3].tokens, 9, 12),
        TokenizedSentence([], 12, 12),
    ]
    for sentence in document.sentences:
        assert all(document.text[t.start : t.end] == t.text for t in sentence.tokens)


def test_tokenize_text_gives_sentence_spans() -> None:
    document = tokenize_text("Apple is big. It sells phones.")
    assert [(s.start, s.end) for s in document.sentences] == [(0, 13), (14, 30)]
    assert tokenize_text("   ").sentences == []


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("Apple is", "expected a list of sentences, got str"),
        (["Apple", "is"], r"sentence 0 is a str, not a list of token strings \(pass \[tokens\]"),
        ([["Apple", 3]], "token 1 of sentence 0 is a int"),
        ([["Apple", ""]], "token 1 of sentence 0 is empty"),
        ([["a"], []], None),  # an empty sentence is fine
        (None, "expected a list of sentences, got NoneType"),
    ],
)
def test_malformed_tokens_are_refused(context_model, bad: object, message: str | None) -> None:
    if message is None:
        assert len(context_model.predict(bad)) == len(bad)  # type: ignore[arg-type]
        return
    with pytest.raises(ValueError, match=message):
        from_tokens(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        context_model.predict(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        context_model.tag_tokens(bad)  # type: ignore[arg-type]


def test_tag_many_and_tasks_refuse_strings(context_model) -> None:
    with pytest.raises(ValueError, match="texts must be a list of strings"):
        context_model.tag_many("Apple is big.")
    with pytest.raises(ValueError, match="not the string 'ner'"):
        context_model.predict([["Apple"]], tasks="ner")


def test_empty_sentences_have_their_offsets_in_the_librarys_answer(context_model) -> None:
    document = context_model.tag_tokens([["Apple"], [], ["is", "big"], []])
    assert [(s.start, s.end) for s in document.sentences] == [(0, 5), (5, 5), (6, 12), (12, 12)]
    assert document.sentences[1].tags == {"ner": TaskTags([], []), "pos": TaskTags([], [])}


def test_every_entry_point_gives_the_same_tags(context_model) -> None:
    sentences = [["Apple", "is", "a", "company", "."], ["I", "like", "Paris"], ["Bob", "."]]
    text = "Apple is a company. I like Paris. Bob."
    sentences[1] = [*sentences[1], "."]
    by_text = context_model.tag(text)
    assert [[t.text for t in s.tokens] for s in by_text.sentences] == sentences
    by_tokens = context_model.tag_tokens(sentences)
    by_predict = context_model.predict(sentences, doc_ids=[0, 0, 0])
    by_stages = context_model.prepare([pipeline.from_tokens(sentences)])
    staged = by_stages.sentence_tags(context_model.run(by_stages.pieces), context_model.tasks)
    for tags in (
        [s.tags for s in by_text.sentences],
        [s.tags for s in by_tokens.sentences],
        staged,
    ):
        assert [t["ner"].labels for t in tags] == [t["ner"].labels for t in by_predict]
        assert [t["pos"].labels for t in tags] == [t["pos"].labels for t in by_predict]
    assert len(by_stages.pieces) == 1  # 11 tokens fit one piece of 12
    assert by_stages.sentences == 3


def test_merge_puts_models_tags_side_by_side() -> None:
    a = [{"ner": TaskTags(["O"], [1.0])}, {"ner": TaskTags([], [])}]
    b = [{"pos": TaskTags(["NN"], [0.5])}, {"pos": TaskTags([], [])}]
    merged = pipeline.merge([a, b])
    assert [list(tags) for tags in merged] == [["ner", "pos"], ["ner", "pos"]]
    with pytest.raises(ValueError, match="same sentences"):
        pipeline.merge([a, b[:1]])


def test_assemble_checks_the_count_and_finds_entities() -> None:
    document = from_tokens([["Bob", "Smith", "sings"]])
    tags = {"ner": TaskTags(["B-PER", "I-PER", "O"], [0.9, 0.7, 1.0])}
    [tagged] = pipeline.assemble([document], [tags])
    assert [(e.text, e.label, e.start, e.end) for e in tagged.entities] == [
        ("Bob Smith", "PER", 0, 9)
    ]
    assert tagged.entities[0].score == pytest.approx(0.8)
    with pytest.raises(ValueError, match="2 tag results for 1 sentences"):
        pipeline.assemble([document], [tags, tags])
