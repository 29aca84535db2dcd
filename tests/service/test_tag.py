"""POST /v1/tag: input kinds, task and model selection, answer shape, displaCy format, Unicode."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tagger import Tagger
from tagger.testing import random_tagger
from tests.service.helpers import CHUNK, NER, POS, ClientFactory, all_tokens, assert_offsets


def test_text_gives_one_document_with_every_task(client: TestClient) -> None:
    r = client.post("/v1/tag", json={"text": "The Apple is a great company! I like eating apple."})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["model"] == {"name": "conll-random", "version": "0"}
    assert "models" not in body  # one model used
    [doc] = body["documents"]
    assert doc["text"] == "The Apple is a great company! I like eating apple."
    assert len(doc["sentences"]) == 2
    assert [t["text"] for t in doc["sentences"][0]["tokens"]] == [
        "The", "Apple", "is", "a", "great", "company", "!",
    ]  # fmt: skip
    for token in all_tokens(body):
        assert token["ner"] in NER
        assert {"pos", "chunk"} <= token.keys()
        assert set(token["confidence"]) == {"ner", "pos", "chunk"}
        assert all(0.0 <= p <= 1.0 for p in token["confidence"].values())
    assert_offsets(doc)


def test_entities_match_ner_tags(client: TestClient) -> None:
    body = client.post(
        "/v1/tag", json={"text": "Angela Merkel met Emmanuel Macron in Paris."}
    ).json()
    [doc] = body["documents"]
    begins = sum(t["ner"].startswith("B-") for t in all_tokens(body))
    assert begins > 0, "guard: the random model must predict an entity here"
    assert len(doc["entities"]) == begins
    for entity in doc["entities"]:
        assert entity["label"] in {"PER", "ORG", "LOC", "MISC"}
    assert_offsets(doc)


def test_texts_are_kept_apart_in_order(client: TestClient) -> None:
    texts = ["I like eating apple!", "", "The Apple is a great company!", "  \n\t "]
    body = client.post("/v1/tag", json={"texts": texts}).json()
    assert [d["text"] for d in body["documents"]] == texts
    assert [len(d["sentences"]) for d in body["documents"]] == [1, 0, 1, 0]
    for doc in body["documents"]:
        assert_offsets(doc)


def test_pretokenised_sentences_join_with_single_spaces(client: TestClient) -> None:
    tokens = [["Apple", "is", "a", "company", "."], ["New York", "!"]]
    body = client.post("/v1/tag", json={"tokens": tokens}).json()
    [doc] = body["documents"]
    assert doc["text"] == "Apple is a company . New York !"
    assert [[t["text"] for t in s["tokens"]] for s in doc["sentences"]] == tokens
    assert_offsets(doc)


def test_pretokenised_empty_sentence_is_kept(client: TestClient) -> None:
    body = client.post("/v1/tag", json={"tokens": [["a", "b"], [], ["c"]]}).json()
    [doc] = body["documents"]
    assert doc["text"] == "a b c"
    assert [len(s["tokens"]) for s in doc["sentences"]] == [2, 0, 1]
    assert doc["sentences"][1]["start"] == doc["sentences"][1]["end"] == 3
    assert_offsets(doc)


@pytest.mark.parametrize("text", ["", " ", "\n\n\t  \u00a0 \u3000"])
def test_empty_or_whitespace_text_is_not_an_error(client: TestClient, text: str) -> None:
    r = client.post("/v1/tag", json={"text": text})
    assert r.status_code == 200
    assert r.json()["documents"] == [{"text": text, "sentences": [], "entities": []}]


def test_tasks_select_fields(client: TestClient) -> None:
    body = client.post("/v1/tag", json={"text": "Apple is big.", "tasks": ["pos"]}).json()
    for token in all_tokens(body):
        assert set(token) == {"text", "start", "end", "pos", "confidence"}
        assert set(token["confidence"]) == {"pos"}
    assert body["documents"][0]["entities"] == []  # no ner, no entities


def test_task_order_follows_the_request(client2: TestClient) -> None:
    body = client2.post("/v1/tag", json={"text": "Apple is big.", "tasks": ["upos", "ner"]}).json()
    token = all_tokens(body)[0]
    assert list(token) == ["text", "start", "end", "upos", "ner", "confidence"]


def test_default_is_the_default_models_tasks(client2: TestClient) -> None:
    body = client2.post("/v1/tag", json={"text": "The Apple is a great company!"}).json()
    assert body["model"]["name"] == "conll-random"
    assert "models" not in body
    assert set(all_tokens(body)[0]["confidence"]) == {"ner", "pos", "chunk"}


def test_configured_default_tasks_span_models(
    make_client: ClientFactory, conll_tagger: Tagger, ud_tagger: Tagger
) -> None:
    taggers = [conll_tagger, ud_tagger]
    with make_client(taggers=taggers, default_tasks=["ner", "upos"]) as client:
        body = client.post("/v1/tag", json={"text": "Apple is big."}).json()
        assert [m["name"] for m in body["models"]] == ["conll-random", "ud-random"]
        assert set(all_tokens(body)[0]["confidence"]) == {"ner", "upos"}
        named = client.post("/v1/tag", json={"text": "Apple is big.", "model": "ud-random"})
        assert set(all_tokens(named.json())[0]["confidence"]) == {"upos", "xpos"}


def test_default_tasks_gather_tasks_of_several_models(
    make_client: ClientFactory, ud_tagger: Tagger
) -> None:
    ner = random_tagger({"ner": NER}, seed=2, name="ner-random")
    pos_chunk = random_tagger({"pos": POS, "chunk": CHUNK}, seed=3, name="pos-chunk-random")
    taggers = [ner, pos_chunk, ud_tagger]
    with make_client(taggers=taggers) as client:  # unset: the default model's tasks
        body = client.post("/v1/tag", json={"text": "Apple is big."}).json()
        assert set(all_tokens(body)[0]["confidence"]) == {"ner"}
    with make_client(taggers=taggers, default_tasks=["ner", "pos", "chunk"]) as client:
        body = client.post("/v1/tag", json={"text": "Apple is big."}).json()
        assert body["model"]["name"] == "ner-random"  # the default model leads
        assert [m["name"] for m in body["models"]] == ["ner-random", "pos-chunk-random"]
        assert set(all_tokens(body)[0]["confidence"]) == {"ner", "pos", "chunk"}


def test_default_tasks_must_be_offered_by_a_loaded_model(
    make_client: ClientFactory, conll_tagger: Tagger
) -> None:
    clients = make_client(taggers=[conll_tagger], default_tasks=["ner", "upos"])
    with pytest.raises(ValueError, match="default_tasks"), clients:
        pass


def test_tasks_across_two_models_are_merged(client2: TestClient) -> None:
    tasks = ["ner", "pos", "chunk", "upos", "xpos"]
    r = client2.post("/v1/tag", json={"text": "The Apple is a great company!", "tasks": tasks})
    body = r.json()
    assert body["model"]["name"] == "conll-random"
    assert [m["name"] for m in body["models"]] == ["conll-random", "ud-random"]
    for token in all_tokens(body):
        assert {"ner", "pos", "chunk", "upos", "xpos"} <= token.keys()
        assert set(token["confidence"]) == {"ner", "pos", "chunk", "upos", "xpos"}


def test_tasks_of_one_other_model(client2: TestClient) -> None:
    body = client2.post("/v1/tag", json={"text": "Hello there.", "tasks": ["upos"]}).json()
    assert body["model"]["name"] == "ud-random"
    assert "models" not in body


def test_model_selects_its_tasks(client2: TestClient) -> None:
    body = client2.post("/v1/tag", json={"text": "Hello there.", "model": "ud-random"}).json()
    assert body["model"]["name"] == "ud-random"
    assert set(all_tokens(body)[0]["confidence"]) == {"upos", "xpos"}


def test_unknown_task_is_422(client2: TestClient) -> None:
    r = client2.post("/v1/tag", json={"text": "Hello.", "tasks": ["ner", "srl"]})
    assert r.status_code == 422
    assert "'srl'" in r.json()["detail"]
    assert "upos" in r.json()["detail"]  # lists what is available


def test_task_of_another_model_is_422(client2: TestClient) -> None:
    r = client2.post("/v1/tag", json={"text": "Hello.", "tasks": ["ner"], "model": "ud-random"})
    assert r.status_code == 422
    assert "'ner'" in r.json()["detail"]


def test_unknown_model_is_404(client: TestClient) -> None:
    r = client.post("/v1/tag", json={"text": "Hello.", "model": "gpt-5"})
    assert r.status_code == 404
    assert "gpt-5" in r.json()["detail"]


def test_displacy_format(client: TestClient) -> None:
    texts = ["Angela Merkel met Emmanuel Macron in Paris.", ""]
    r = client.post("/v1/tag?format=displacy", json={"texts": texts})
    assert r.status_code == 200
    docs = r.json()
    assert [d["text"] for d in docs] == texts
    full = client.post("/v1/tag", json={"texts": texts}).json()
    assert full["documents"][0]["entities"], "guard: the random model must predict an entity"
    for doc, ref in zip(docs, full["documents"], strict=True):
        assert doc["title"] is None
        assert doc["ents"] == [
            {"start": e["start"], "end": e["end"], "label": e["label"]} for e in ref["entities"]
        ]


def test_unknown_format_is_422(client: TestClient) -> None:
    assert client.post("/v1/tag?format=xml", json={"text": "a"}).status_code == 422


@pytest.mark.parametrize(
    "text",
    [
        "I ❤️ New York 🗽🇺🇸 and 👩‍👩‍👧‍👦!",
        "Cafe\u0301 re\u0301sume\u0301 na\u0308ive.",
        "שלום עולם. مرحبا بالعالم!",
        "tab\there\x00nul\x01ctl\x7f del\u200b zero-width\ufeff bom.",
        "日本語のテキストです。中文句子。",
        "\U0010ffff\U000e0001 plane-16 and tags",
        "a" * 5000,
    ],
)
def test_any_unicode_is_tagged_with_exact_offsets(client: TestClient, text: str) -> None:
    r = client.post("/v1/tag", json={"text": text})
    assert r.status_code == 200, r.text
    [doc] = r.json()["documents"]
    assert doc["text"] == text
    assert all_tokens(r.json())
    assert_offsets(doc)


def test_very_long_sentence_is_tagged(client: TestClient) -> None:
    words = [f"word{i}" for i in range(1500)]  # longer than the library's 256-token windows
    body = client.post("/v1/tag", json={"text": " ".join(words)}).json()
    tokens = all_tokens(body)
    assert [t["text"] for t in tokens] == words
    assert all("ner" in t for t in tokens)
    assert_offsets(body["documents"][0])


def test_many_documents_many_sentences(client: TestClient) -> None:
    texts = [f"Document {i}. It has two sentences." for i in range(64)]
    body = client.post("/v1/tag", json={"texts": texts}).json()
    assert len(body["documents"]) == 64
    assert all(len(d["sentences"]) == 2 for d in body["documents"])


@pytest.mark.parametrize(
    "features",
    [{}, {"mark_sentence_starts": True}, {"word_memory": True}],
    ids=["plain", "starts-marked", "word-memory"],
)
def test_a_document_context_model_answers_as_the_library_does(
    make_client: ClientFactory, features: dict[str, bool]
) -> None:
    tagger = random_tagger(
        {"ner": NER},
        seed=3,
        name="context-random",
        context_tokens=12,
        **features,
    )
    texts = ["Angela Merkel met Macron. They spoke in Paris. Then lunch.", "Apple is big."]
    with make_client(taggers=[tagger]) as client:
        body = client.post("/v1/tag", json={"texts": texts}).json()
        tokens = [["Angela", "Merkel", "met"], ["in", "Paris", "."]]
        pretokenised = client.post("/v1/tag", json={"tokens": tokens}).json()
        [info] = client.get("/v1/models").json()["models"]
    assert info["context_tokens"] == 12
    for doc, want in zip(body["documents"], tagger.tag_many(texts), strict=True):
        got = [[t["ner"] for t in s["tokens"]] for s in doc["sentences"]]
        assert got == [s.tags["ner"].labels for s in want.sentences]
        confidence = [t["confidence"]["ner"] for s in doc["sentences"] for t in s["tokens"]]
        want_scores = [p for s in want.sentences for p in s.tags["ner"].scores]
        assert confidence == pytest.approx(want_scores, abs=1e-5)
    want_tokens = tagger.tag_tokens(tokens)
    got_tokens = [
        [t["ner"] for t in s["tokens"]] for s in pretokenised["documents"][0]["sentences"]
    ]
    assert got_tokens == [s.tags["ner"].labels for s in want_tokens.sentences]
