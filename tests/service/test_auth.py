"""API keys: /v1/* needs one when configured; probes, metrics, demo page and docs stay open."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.service.helpers import ClientFactory


@pytest.fixture()
def keyed(make_client: ClientFactory) -> Iterator[TestClient]:
    with make_client(api_keys=["k1", "s3cret"]) as client:
        yield client


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}, {"X-API-Key": ""}])
def test_v1_without_the_right_key_is_401(keyed: TestClient, headers: dict[str, str]) -> None:
    for r in (
        keyed.post("/v1/tag", json={"text": "Hello."}, headers=headers),
        keyed.get("/v1/models", headers=headers),
    ):
        assert r.status_code == 401
        assert "API key" in r.json()["detail"]
        assert r.headers["www-authenticate"] == "ApiKey"


def test_rejections_are_counted_under_their_route(keyed: TestClient) -> None:
    keyed.post("/v1/tag", json={"text": "Hello."})
    metrics = keyed.get("/metrics").text
    assert 'tagger_http_requests_total{method="POST",path="/v1/tag",status="401"} 1.0' in metrics


def test_v1_with_a_right_key(keyed: TestClient) -> None:
    for key in ("k1", "s3cret"):
        r = keyed.post("/v1/tag", json={"text": "Hello."}, headers={"X-API-Key": key})
        assert r.status_code == 200
    assert keyed.get("/v1/models", headers={"x-api-key": "k1"}).status_code == 200


def test_auth_runs_before_body_validation(keyed: TestClient) -> None:
    r = keyed.post("/v1/tag", content=b"{", headers={"content-type": "application/json"})
    assert r.status_code == 401


@pytest.mark.parametrize("path", ["/health/live", "/health/ready", "/metrics", "/", "/docs"])
def test_open_paths(keyed: TestClient, path: str) -> None:
    assert keyed.get(path).status_code == 200


def test_custom_header_name(make_client: ClientFactory) -> None:
    with make_client(api_keys=["k"], api_key_header="Authorization-Key") as client:
        assert client.get("/v1/models", headers={"X-API-Key": "k"}).status_code == 401
        assert client.get("/v1/models", headers={"Authorization-Key": "k"}).status_code == 200
        schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
        assert any(s.get("name") == "Authorization-Key" for s in schemes.values())


def test_no_keys_means_no_auth(client: TestClient) -> None:
    assert client.get("/v1/models").status_code == 200
    assert "securitySchemes" not in client.get("/openapi.json").json().get("components", {})
