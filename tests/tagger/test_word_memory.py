"""Word memory: each token also reads the mean encoding of its word's other places."""

from __future__ import annotations

import pytest
import torch

from tagger import context
from tagger.features import Batch, Featurizer
from tagger.model import word_memory
from tagger.predict import Tagger
from tagger.vocab import Vocabulary
from tests.tagger.test_predict import spiky


def test_featurizer_gives_case_folded_word_keys_only_when_asked() -> None:
    words, chars = Vocabulary(["the"]), Vocabulary("abcdefghijklmnopqrstuvwxyzJ")
    sentences = [["Japan", "won", "JAPAN"], ["japan"]]
    keyed = Featurizer(words, chars, None, 8, word_keys=True).batch(sentences)
    assert keyed.word_keys is not None
    assert keyed.word_keys.tolist() == [[0, 1, 0], [0, -1, -1]]
    assert Featurizer(words, chars, None, 8).batch(sentences).word_keys is None


def _batch(keys: list[list[int]]) -> Batch:
    word_keys = torch.tensor(keys)  # [B, T]
    empty = torch.zeros_like(word_keys)
    return Batch(empty, empty, empty, empty, empty, word_keys >= 0, word_keys)


def test_word_memory_averages_the_other_places_of_each_word() -> None:
    torch.manual_seed(0)
    keys = [[0, 1, 0, 2, 0, 1], [3, 3, 4, -1, -1, -1]]
    h = torch.randn(2, 6, 5)  # [B, T, H]
    got = word_memory(h, _batch(keys))
    for b, row in enumerate(keys):  # the oracle: a loop over every pair of places
        for t, key in enumerate(row):
            others = [u for u, k in enumerate(row) if k == key and u != t and k >= 0]
            want = h[b, others].mean(0) if others else torch.zeros(5)
            if key >= 0:
                assert torch.allclose(got[b, t], want, atol=1e-6)


def test_word_memory_needs_word_keys() -> None:
    batch = _batch([[0, 1]])._replace(word_keys=None)
    with pytest.raises(ValueError, match="word_keys"):
        word_memory(torch.zeros(1, 2, 3), batch)


@pytest.fixture(scope="module")
def memory_model() -> Tagger:
    return spiky(4, context_tokens=64, word_memory=True)


def test_a_repeated_word_reads_its_other_place(memory_model: Tagger) -> None:
    batch = memory_model.featurizer.batch([["Paris", "is", "big", "in", "Paris", "."]])
    assert batch.word_keys is not None
    unrelated = batch._replace(word_keys=torch.arange(6).unsqueeze(0))  # as if no word repeats
    with torch.inference_mode():
        repeated = memory_model.network.emissions(batch)["ner"][0]  # [T, K]
        alone = memory_model.network.emissions(unrelated)["ner"][0]  # [T, K]
    differs = (repeated - alone).abs().amax(1) > 1e-6  # [T]
    assert differs.tolist() == [True, False, False, False, True, False]


def test_memory_reaches_across_sentences_of_a_document(memory_model: Tagger) -> None:
    doc = [["Paris", "is", "big", "."], ["He", "likes", "PARIS"]]
    alone = memory_model.predict(doc)
    together = memory_model.predict(doc, doc_ids=[0, 0])
    joined = memory_model.predict(context.join(doc, [[0, 1]]))[0]["ner"]
    assert together[0]["ner"].labels + together[1]["ner"].labels == joined.labels
    assert alone[0]["ner"].scores != together[0]["ner"].scores


def test_inference_heads_take_the_memory_of_their_projections(memory_model: Tagger) -> None:
    """At inference the memory is averaged after the heads' projection: the same scores as
    the heads over the concatenated encoding and memory, which training computes."""
    network = memory_model.network.eval()
    batch = memory_model.featurizer.batch(
        [["Paris", "is", "big", "in", "Paris", "."], ["paris", "Paris", "PARIS"]]
    )
    with torch.inference_mode():
        h = network._encode(network.embedder(batch), batch.mask)  # [B, T, H]
        full = torch.cat([h, word_memory(h, batch)], dim=2)  # [B, T, 2H]
        got = network.emissions(batch)
        for name, head in network.heads.items():
            assert torch.allclose(got[name], head(full), atol=1e-5)
