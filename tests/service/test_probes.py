"""Health probes, /v1/models, /metrics, the OpenAPI docs and the demo page's assets."""

from __future__ import annotations

import os
import re

from fastapi.testclient import TestClient

from service.main import create_app
from service.settings import Settings
from tagger import Tagger
from tests.service.helpers import ClientFactory


def test_live_is_always_200(conll_tagger: Tagger) -> None:
    app = create_app(Settings(), taggers=[conll_tagger])
    live = TestClient(app).get("/health/live").json()
    assert live == {"status": "alive", "models": [], "pid": os.getpid()}


def test_ready_is_503_until_models_are_loaded(conll_tagger: Tagger) -> None:
    app = create_app(Settings(), taggers=[conll_tagger])
    plain = TestClient(app)  # no lifespan: nothing loaded
    r = plain.get("/health/ready")
    assert r.status_code == 503
    assert "loading" in r.json()["detail"]
    assert plain.post("/v1/tag", json={"text": "a"}).status_code == 503
    with TestClient(app) as client:  # lifespan ran
        r = client.get("/health/ready")
        assert r.status_code == 200
        assert r.json() == {"status": "ready", "models": ["conll-random"], "pid": os.getpid()}
    assert plain.get("/health/ready").status_code == 503  # after shutdown


def test_ready_reports_a_model_that_failed_to_load(tmp_path) -> None:  # noqa: ANN001
    app = create_app(Settings(models=[tmp_path / "no-such-model"]))
    with TestClient(app) as client:
        for _ in range(200):
            r = client.get("/health/ready")
            if "failed" in r.json().get("detail", ""):
                break
        assert r.status_code == 503
        assert "failed to load" in r.json()["detail"]
        assert client.post("/v1/tag", json={"text": "a"}).status_code == 503


def test_models_lists_every_loaded_model(client2: TestClient) -> None:
    models = client2.get("/v1/models").json()["models"]
    assert [m["name"] for m in models] == ["conll-random", "ud-random"]
    conll, ud = models
    assert conll["tasks"] == ["ner", "pos", "chunk"]
    assert conll["default"] and not ud["default"]
    assert "B-PER" in conll["labels"]["ner"]
    assert conll["span_tasks"] == ["chunk", "ner"]
    assert conll["context_tokens"] == ud["context_tokens"] == 0
    assert ud["tasks"] == ["upos", "xpos"]
    assert ud["metrics"] == {}
    assert conll["version"] == "0"


def _sample(text: str, name: str, **labels: str) -> float:
    """One sample's value from Prometheus exposition text (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
            if all(found.get(k) == v for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_requests_batches_and_tokens(client: TestClient) -> None:
    client.post("/v1/tag", json={"text": "The Apple is a great company!"})  # 7 tokens
    client.post("/v1/tag", json={"text": "a", "tasks": ["nope"]})
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    ok = {"method": "POST", "path": "/v1/tag", "status": "200"}
    assert _sample(text, "tagger_http_requests_total", **ok) == 1
    assert _sample(text, "tagger_http_requests_total", status="422", path="/v1/tag") == 1
    assert _sample(text, "tagger_http_request_duration_seconds_count", path="/v1/tag") == 2
    assert _sample(text, "tagger_batch_size_sentences_count", model="conll-random") == 1
    assert _sample(text, "tagger_batch_size_sentences_sum", model="conll-random") == 1
    assert _sample(text, "tagger_tokens_tagged_total", model="conll-random") == 7
    assert _sample(text, "tagger_inference_duration_seconds_count", model="conll-random") == 1
    client.get("/no/such/path")
    assert _sample(client.get("/metrics").text, "tagger_http_requests_total", path="<unmatched>")


def test_openapi_documents_the_api(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    tag = spec["paths"]["/v1/tag"]["post"]
    assert {"200", "404", "413", "422"} <= set(tag["responses"])
    assert "displacy" in tag["description"]
    assert {"TagRequest", "TagResponse", "DisplacyDoc", "ModelsResponse"} <= set(
        spec["components"]["schemas"]
    )
    assert "/v1/models" in spec["paths"] and "/health/ready" in spec["paths"]
    assert client.get("/docs").status_code == 200


def test_demo_page_and_assets(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "/static/app.js" in page.text and "/static/style.css" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # no CDN
    for asset in ("/static/app.js", "/static/style.css"):
        r = client.get(asset)
        assert r.status_code == 200
        assert "https://" not in r.text


def test_cors_when_configured(make_client: ClientFactory) -> None:
    with make_client(cors_origins=["https://example.org"]) as client:
        r = client.options(
            "/v1/tag",
            headers={
                "Origin": "https://example.org",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,x-api-key",
            },
        )
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == "https://example.org"


def test_docs_page_needs_no_cdn(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn.jsdelivr.net" not in page.text
    bundle = page.text.split('src="')[1].split('"')[0]  # the Swagger UI script, served locally
    assert bundle.startswith("/") and client.get(bundle).status_code == 200
