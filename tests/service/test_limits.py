"""Limits and malformed input: always a JSON error with the right status, never a 500."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.service.helpers import ClientFactory

JSON = {"content-type": "application/json"}


def assert_json_error(r, status: int) -> None:  # noqa: ANN001 - httpx response
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert "detail" in r.json()


def test_text_longer_than_max_text_length_is_413(make_client: ClientFactory) -> None:
    with make_client(max_text_length=100) as client:
        assert client.post("/v1/tag", json={"text": "a" * 100}).status_code == 200
        r = client.post("/v1/tag", json={"text": "a" * 101})
        assert_json_error(r, 413)
        assert "max_text_length" in r.json()["detail"]
        assert_json_error(client.post("/v1/tag", json={"texts": ["ok", "b" * 101]}), 413)
        tokens = [["abcdefghij"] * 10]  # joined: 109 characters
        assert_json_error(client.post("/v1/tag", json={"tokens": tokens}), 413)


def test_default_max_text_length_is_100k(client: TestClient) -> None:
    assert_json_error(client.post("/v1/tag", json={"text": "x " * 50_001}), 413)


def test_too_many_documents_is_422(make_client: ClientFactory) -> None:
    with make_client(max_documents=3) as client:
        assert client.post("/v1/tag", json={"texts": ["a"] * 3}).status_code == 200
        r = client.post("/v1/tag", json={"texts": ["a"] * 4})
        assert_json_error(r, 422)
        assert "max_documents" in r.json()["detail"]


def test_body_too_large_by_content_length_is_413(make_client: ClientFactory) -> None:
    with make_client(max_body_bytes=1000) as client:
        r = client.post("/v1/tag", json={"text": "a" * 2000})
        assert_json_error(r, 413)
        assert "max_body_bytes" in r.json()["detail"]


def test_body_too_large_without_content_length_is_413(make_client: ClientFactory) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(20):
            yield b"a" * 100
        yield b'"}'

    with make_client(max_body_bytes=1000) as client:
        r = client.post("/v1/tag", content=chunks(), headers=JSON)
        assert "content-length" not in r.request.headers
        assert_json_error(r, 413)
        assert client.get("/health/ready").status_code == 200  # still serving


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"not json",
        b'{"text": "unterminated}',
        b"[]",
        b"null",
        b'"text"',
        b"{}",
        b'{"text": 42}',
        b'{"text": null}',
        b'{"texts": "not a list"}',
        b'{"texts": [1, 2]}',
        b'{"tokens": ["flat", "list"]}',
        b'{"tokens": [[1]]}',
        b'{"text": "a", "texts": ["b"]}',
        b'{"text": "a", "tasks": "ner"}',
        b'{"text": "a", "model": 3}',
        b'{"text": "a", "unknown_field": 1}',
        b'{"text": "\\ud800 lone surrogate"}',
        b'{"texts": ["ok", "\\udfff"]}',
        b'{"tokens": [["\\ud83d"]]}',
        b'{"tokens": [["ok", ""]]}',
        b'{"text": "a", "\\ud800": 1}',
        b"\xff\xfe\x00garbage",
        b'{"text": "\xff\xfe"}',
        b"[" * 5000 + b"]" * 5000,
    ],
)
def test_malformed_body_is_a_json_4xx(client: TestClient, body: bytes) -> None:
    r = client.post("/v1/tag", content=body, headers=JSON)
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json")
    assert "detail" in r.json()


def test_validation_errors_do_not_echo_input(client: TestClient) -> None:
    r = client.post("/v1/tag", json={"text": 42, "secret": "x" * 1000})
    assert_json_error(r, 422)
    assert "x" * 100 not in r.text
    for error in r.json()["detail"]:
        assert set(error) == {"loc", "msg", "type"}


def test_wrong_content_type_is_a_json_error(client: TestClient) -> None:
    r = client.post("/v1/tag", content=b"text=hello", headers={"content-type": "text/plain"})
    assert 400 <= r.status_code < 500
    assert "detail" in r.json()


def test_wrong_method_and_unknown_path_are_json(client: TestClient) -> None:
    assert_json_error(client.get("/v1/tag"), 405)
    assert_json_error(client.get("/v1/nothing"), 404)
